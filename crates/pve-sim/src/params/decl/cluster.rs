//! Declared parameters of the cluster-wide routes: version, status, resources, next free VMID.

pub(super) const DECL: &str = r##"
[GET /cluster/nextid]
vmid? int 100..999999999 fmt=pve-vmid

[GET /cluster/resources]
type? str enum=vm|storage|node|sdn

[GET /cluster/status]

[GET /cluster/tasks]

[GET /version]
[GET /cluster/config/qdevice]
"##;
