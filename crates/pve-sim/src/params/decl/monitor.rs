//! Declared parameters of the monitoring routes: RRD history of nodes, guests and storages,
//! node syslog and journal, the cluster log.

pub(super) const DECL: &str = r##"
[GET /nodes/{node}/rrddata]
cf? str enum=AVERAGE|MAX
node str fmt=pve-node
timeframe str enum=hour|day|week|month|year|decade

[GET /nodes/{node}/qemu/{vmid}/rrddata]
@node-vmid
cf? str enum=AVERAGE|MAX
timeframe str enum=hour|day|week|month|year

[GET /nodes/{node}/lxc/{vmid}/rrddata]
@node-vmid
cf? str enum=AVERAGE|MAX
timeframe str enum=hour|day|week|month|year

[GET /nodes/{node}/storage/{storage}/rrddata]
cf? str enum=AVERAGE|MAX
node str fmt=pve-node
storage str fmt=pve-storage-id
timeframe str enum=hour|day|week|month|year

[GET /nodes/{node}/syslog]
limit? int 0..
node str fmt=pve-node
service? str len=..128
since? str re=^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$
start? int 0..
until? str re=^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$

[GET /nodes/{node}/journal]
endcursor? str
lastentries? int 0..
node str fmt=pve-node
since? int 0..
startcursor? str
until? int 0..

[GET /cluster/log]
max? int 1..
"##;
