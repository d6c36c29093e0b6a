//! Declared parameters of the node routes: the node list and status, tasks, network.

pub(super) const DECL: &str = r##"
[GET /nodes]

[GET /nodes/{node}]
node str fmt=pve-node

[GET /nodes/{node}/status]
node str fmt=pve-node

[GET /nodes/{node}/tasks]
errors? bool
limit? int 0..
node str fmt=pve-node
since? int
source? str enum=archive|active|all
start? int 0..
statusfilter? str fmt=pve-task-status-type-list
typefilter? str
until? int
userfilter? str
vmid? int 100..999999999 fmt=pve-vmid

[DELETE /nodes/{node}/tasks/{upid}]
node str fmt=pve-node
upid str

[GET /nodes/{node}/tasks/{upid}]
node str fmt=pve-node
upid str

[GET /nodes/{node}/tasks/{upid}/log]
download? bool
limit? int 0..
node str fmt=pve-node
start? int 0..
upid str

[GET /nodes/{node}/tasks/{upid}/status]
node str fmt=pve-node
upid str

[GET /nodes/{node}/network]
node str fmt=pve-node
type? str enum=bridge|bond|eth|alias|vlan|fabric|OVSBridge|OVSBond|OVSPort|OVSIntPort|vnet|any_bridge|any_local_bridge|include_sdn

[GET /nodes/{node}/network/{iface}]
iface str len=2..20 fmt=pve-iface
node str fmt=pve-node
[GET /nodes/{node}/replication]
guest? int 100..999999999 fmt=pve-vmid
node str fmt=pve-node

[GET /nodes/{node}/subscription]
node str fmt=pve-node
"##;
