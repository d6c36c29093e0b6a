//! Declared parameters of the resource pool routes.

pub(super) const DECL: &str = r##"
[GET /pools]
poolid? str fmt=pve-poolid
type? str enum=qemu|lxc|storage requires=poolid

[POST /pools]
comment? str
poolid str fmt=pve-poolid

[PUT /pools]
allow-move? bool
comment? str
delete? bool
poolid str fmt=pve-poolid
storage? str fmt=pve-storage-id-list
vms? str fmt=pve-vmid-list

[DELETE /pools]
poolid str fmt=pve-poolid

[GET /pools/{poolid}]
poolid str fmt=pve-poolid
type? str enum=qemu|lxc|storage

[PUT /pools/{poolid}]
allow-move? bool
comment? str
delete? bool
poolid str fmt=pve-poolid
storage? str fmt=pve-storage-id-list
vms? str fmt=pve-vmid-list

[DELETE /pools/{poolid}]
poolid str fmt=pve-poolid
"##;
