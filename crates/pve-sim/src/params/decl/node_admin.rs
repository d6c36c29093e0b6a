//! Declared parameters of the node administration routes: package updates, services, the
//! appliance (container template) index.

pub(super) const DECL: &str = r##"
[GET /nodes/{node}/apt/update]
node str fmt=pve-node

[POST /nodes/{node}/apt/update]
node str fmt=pve-node
notify? bool
quiet? bool

[GET /nodes/{node}/apt/versions]
node str fmt=pve-node

[GET /nodes/{node}/services]
node str fmt=pve-node

[GET /nodes/{node}/services/{service}]
node str fmt=pve-node
service str enum=chrony|corosync|cron|ksmtuned|lxcfs|postfix|proxmox-firewall|pve-cluster|pve-firewall|pve-ha-crm|pve-ha-lrm|pve-lxc-syscalld|pvedaemon|pvefw-logger|pveproxy|pvescheduler|pvestatd|qmeventd|spiceproxy|sshd|syslog|systemd-journald|systemd-timesyncd

[GET /nodes/{node}/services/{service}/state]
node str fmt=pve-node
service str enum=chrony|corosync|cron|ksmtuned|lxcfs|postfix|proxmox-firewall|pve-cluster|pve-firewall|pve-ha-crm|pve-ha-lrm|pve-lxc-syscalld|pvedaemon|pvefw-logger|pveproxy|pvescheduler|pvestatd|qmeventd|spiceproxy|sshd|syslog|systemd-journald|systemd-timesyncd

[POST /nodes/{node}/services/{service}/start]
node str fmt=pve-node
service str enum=chrony|corosync|cron|ksmtuned|lxcfs|postfix|proxmox-firewall|pve-cluster|pve-firewall|pve-ha-crm|pve-ha-lrm|pve-lxc-syscalld|pvedaemon|pvefw-logger|pveproxy|pvescheduler|pvestatd|qmeventd|spiceproxy|sshd|syslog|systemd-journald|systemd-timesyncd

[POST /nodes/{node}/services/{service}/stop]
node str fmt=pve-node
service str enum=chrony|corosync|cron|ksmtuned|lxcfs|postfix|proxmox-firewall|pve-cluster|pve-firewall|pve-ha-crm|pve-ha-lrm|pve-lxc-syscalld|pvedaemon|pvefw-logger|pveproxy|pvescheduler|pvestatd|qmeventd|spiceproxy|sshd|syslog|systemd-journald|systemd-timesyncd

[POST /nodes/{node}/services/{service}/restart]
node str fmt=pve-node
service str enum=chrony|corosync|cron|ksmtuned|lxcfs|postfix|proxmox-firewall|pve-cluster|pve-firewall|pve-ha-crm|pve-ha-lrm|pve-lxc-syscalld|pvedaemon|pvefw-logger|pveproxy|pvescheduler|pvestatd|qmeventd|spiceproxy|sshd|syslog|systemd-journald|systemd-timesyncd

[POST /nodes/{node}/services/{service}/reload]
node str fmt=pve-node
service str enum=chrony|corosync|cron|ksmtuned|lxcfs|postfix|proxmox-firewall|pve-cluster|pve-firewall|pve-ha-crm|pve-ha-lrm|pve-lxc-syscalld|pvedaemon|pvefw-logger|pveproxy|pvescheduler|pvestatd|qmeventd|spiceproxy|sshd|syslog|systemd-journald|systemd-timesyncd

[GET /nodes/{node}/aplinfo]
node str fmt=pve-node

[POST /nodes/{node}/aplinfo]
node str fmt=pve-node
storage str fmt=pve-storage-id
template str len=..255
"##;
