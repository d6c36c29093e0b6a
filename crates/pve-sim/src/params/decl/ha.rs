//! Declared parameters of the HA routes: status, resources and rules (PVE 9: rules replace
//! groups).

pub(super) const DECL: &str = r##"
[GET /cluster/ha]

[GET /cluster/ha/status]

[GET /cluster/ha/status/current]

[GET /cluster/ha/status/manager_status]

[GET /cluster/ha/resources]
type? str enum=ct|vm

[GET /cluster/ha/resources/{sid}]
sid str fmt=pve-ha-resource-or-vm-id

[GET /cluster/ha/rules]
resource? str
type? str enum=node-affinity|resource-affinity

[GET /cluster/ha/rules/{rule}]
rule str fmt=pve-configid
"##;
