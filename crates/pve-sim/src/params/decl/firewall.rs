//! Declared parameters of the firewall routes (cluster, node and guest rules, options,
//! aliases, IP sets and security groups).

pub(super) const DECL: &str = r##"
[GET /cluster/firewall]

[GET /cluster/firewall/rules]

[GET /cluster/firewall/rules/{pos}]
pos? int 0..

[GET /cluster/firewall/options]

[GET /cluster/firewall/aliases]

[GET /cluster/firewall/aliases/{name}]
name str len=2..64 re=[A-Za-z][A-Za-z0-9\-\_]+

[GET /cluster/firewall/ipset]

[GET /cluster/firewall/ipset/{name}]
name str len=2..64 re=[A-Za-z][A-Za-z0-9\-\_]+

[GET /cluster/firewall/groups]

[GET /cluster/firewall/groups/{group}]
group str len=2..18 re=[A-Za-z][A-Za-z0-9\-\_]+

[GET /nodes/{node}/firewall]
node str fmt=pve-node

[GET /nodes/{node}/firewall/rules]
node str fmt=pve-node

[GET /nodes/{node}/firewall/rules/{pos}]
node str fmt=pve-node
pos? int 0..

[GET /nodes/{node}/firewall/options]
node str fmt=pve-node

[GET /nodes/{node}/qemu/{vmid}/firewall]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/firewall/rules]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/firewall/rules/{pos}]
@node-vmid
pos? int 0..

[GET /nodes/{node}/qemu/{vmid}/firewall/options]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/firewall/aliases]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/firewall/aliases/{name}]
@node-vmid
name str len=2..64 re=[A-Za-z][A-Za-z0-9\-\_]+

[GET /nodes/{node}/qemu/{vmid}/firewall/ipset]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/firewall/ipset/{name}]
@node-vmid
name str len=2..64 re=[A-Za-z][A-Za-z0-9\-\_]+

[GET /nodes/{node}/lxc/{vmid}/firewall]
@node-vmid

[GET /nodes/{node}/lxc/{vmid}/firewall/rules]
@node-vmid

[GET /nodes/{node}/lxc/{vmid}/firewall/rules/{pos}]
@node-vmid
pos? int 0..

[GET /nodes/{node}/lxc/{vmid}/firewall/options]
@node-vmid

[GET /nodes/{node}/lxc/{vmid}/firewall/aliases]
@node-vmid

[GET /nodes/{node}/lxc/{vmid}/firewall/aliases/{name}]
@node-vmid
name str len=2..64 re=[A-Za-z][A-Za-z0-9\-\_]+

[GET /nodes/{node}/lxc/{vmid}/firewall/ipset]
@node-vmid

[GET /nodes/{node}/lxc/{vmid}/firewall/ipset/{name}]
@node-vmid
name str len=2..64 re=[A-Za-z][A-Za-z0-9\-\_]+
"##;
