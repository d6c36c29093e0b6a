//! Declared parameters of the QEMU VM routes (create, config, power, agent, snapshots,
//! clone, migrate, disks).

pub(super) const DECL: &str = r##"
[GET /nodes/{node}/qemu]
full? bool
node str fmt=pve-node

[POST /nodes/{node}/qemu]
@node-vmid
archive? str len=..255
bwlimit? int 0..
force? bool requires=archive
ha-managed? bool
import-working-storage? str fmt=pve-storage-id
live-restore? bool
pool? str fmt=pve-poolid
start? bool
storage? str fmt=pve-storage-id
unique? bool requires=archive
@qemu-options

[DELETE /nodes/{node}/qemu/{vmid}]
@node-vmid
destroy-unreferenced-disks? bool
purge? bool
skiplock? bool

[GET /nodes/{node}/qemu/{vmid}]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/agent]
@node-vmid
command str enum=fsfreeze-freeze|fsfreeze-status|fsfreeze-thaw|fstrim|get-fsinfo|get-host-name|get-memory-block-info|get-memory-blocks|get-osinfo|get-time|get-timezone|get-users|get-vcpus|info|network-get-interfaces|ping|shutdown|suspend-disk|suspend-hybrid|suspend-ram

[POST /nodes/{node}/qemu/{vmid}/agent/exec]
@node-vmid
command array
input-data? str len=..65536

[GET /nodes/{node}/qemu/{vmid}/agent/exec-status]
@node-vmid
pid int

[GET /nodes/{node}/qemu/{vmid}/agent/file-read]
@node-vmid
count? int 1..16777216
decode? bool
file str
offset? int 0..

[POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-freeze]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-status]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-thaw]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/agent/fstrim]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent/get-fsinfo]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent/get-host-name]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent/get-memory-block-info]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent/get-memory-blocks]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent/get-time]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent/get-timezone]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent/get-users]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent/get-vcpus]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent/info]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/agent/ping]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/agent/shutdown]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/agent/suspend-disk]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/agent/suspend-hybrid]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/agent/suspend-ram]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/clone]
@node-vmid
bwlimit? int 0..
description? str
format? str enum=raw|qcow2|vmdk
full? bool
name? str fmt=dns-name
newid int 100..999999999 fmt=pve-vmid
pool? str fmt=pve-poolid
snapname? str len=..40 fmt=pve-configid
storage? str fmt=pve-storage-id
target? str fmt=pve-node

[GET /nodes/{node}/qemu/{vmid}/config]
@node-vmid
current? bool
snapshot? str len=..40 fmt=pve-configid

[POST /nodes/{node}/qemu/{vmid}/config]
@node-vmid
background_delay? int 1..30
delete? str fmt=pve-configid-list
digest? str len=..40
force? bool requires=delete
import-working-storage? str fmt=pve-storage-id
revert? str fmt=pve-configid-list
skiplock? bool
@qemu-options

[PUT /nodes/{node}/qemu/{vmid}/config]
@node-vmid
delete? str fmt=pve-configid-list
digest? str len=..40
force? bool requires=delete
revert? str fmt=pve-configid-list
skiplock? bool
@qemu-options

[GET /nodes/{node}/qemu/{vmid}/migrate]
@node-vmid
target? str fmt=pve-node

[POST /nodes/{node}/qemu/{vmid}/migrate]
@node-vmid
bwlimit? int 0..
force? bool
migration_network? str fmt=CIDR
migration_type? str enum=secure|insecure
online? bool
target str fmt=pve-node
targetstorage? str fmt=storage-pair-list
with-conntrack-state? bool
with-local-disks? bool

[PUT /nodes/{node}/qemu/{vmid}/resize]
@node-vmid
digest? str len=..40
disk str enum=ide0|ide1|ide2|ide3|scsi0|scsi1|scsi2|scsi3|scsi4|scsi5|scsi6|scsi7|scsi8|scsi9|scsi10|scsi11|scsi12|scsi13|scsi14|scsi15|scsi16|scsi17|scsi18|scsi19|scsi20|scsi21|scsi22|scsi23|scsi24|scsi25|scsi26|scsi27|scsi28|scsi29|scsi30|virtio0|virtio1|virtio2|virtio3|virtio4|virtio5|virtio6|virtio7|virtio8|virtio9|virtio10|virtio11|virtio12|virtio13|virtio14|virtio15|sata0|sata1|sata2|sata3|sata4|sata5|efidisk0|tpmstate0
size str re=\+?\d+(\.\d+)?[KMGT]?
skiplock? bool

[GET /nodes/{node}/qemu/{vmid}/snapshot]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/snapshot]
@node-vmid
description? str
snapname str len=..40 fmt=pve-configid
vmstate? bool

[DELETE /nodes/{node}/qemu/{vmid}/snapshot/{snapname}]
@node-vmid
force? bool
snapname str len=..40 fmt=pve-configid

[GET /nodes/{node}/qemu/{vmid}/snapshot/{snapname}]
@node-vmid
snapname str len=..40 fmt=pve-configid

[GET /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config]
@node-vmid
snapname str len=..40 fmt=pve-configid

[PUT /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config]
@node-vmid
description? str
snapname str len=..40 fmt=pve-configid

[POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback]
@node-vmid
snapname str len=..40 fmt=pve-configid
start? bool

[GET /nodes/{node}/qemu/{vmid}/status]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/status/current]
@node-vmid

[POST /nodes/{node}/qemu/{vmid}/status/reboot]
@node-vmid
timeout? int 0..

[POST /nodes/{node}/qemu/{vmid}/status/reset]
@node-vmid
skiplock? bool

[POST /nodes/{node}/qemu/{vmid}/status/resume]
@node-vmid
nocheck? bool
skiplock? bool

[POST /nodes/{node}/qemu/{vmid}/status/shutdown]
@node-vmid
forceStop? bool
keepActive? bool
skiplock? bool
timeout? int 0..

[POST /nodes/{node}/qemu/{vmid}/status/start]
@node-vmid
force-cpu? str
machine? str props=qemu-machine
migratedfrom? str fmt=pve-node
migration_network? str fmt=CIDR
migration_type? str enum=secure|insecure
nets-host-mtu? str re=net\d+=\d+(,net\d+=\d+)*
skiplock? bool
stateuri? str len=..128
targetstorage? str fmt=storage-pair-list
timeout? int 0..
with-conntrack-state? bool

[POST /nodes/{node}/qemu/{vmid}/status/stop]
@node-vmid
keepActive? bool
migratedfrom? str fmt=pve-node
overrule-shutdown? bool
skiplock? bool
timeout? int 0..

[POST /nodes/{node}/qemu/{vmid}/status/suspend]
@node-vmid
skiplock? bool
statestorage? str fmt=pve-storage-id requires=todisk
todisk? bool

[POST /nodes/{node}/qemu/{vmid}/template]
@node-vmid
disk? str enum=ide0|ide1|ide2|ide3|scsi0|scsi1|scsi2|scsi3|scsi4|scsi5|scsi6|scsi7|scsi8|scsi9|scsi10|scsi11|scsi12|scsi13|scsi14|scsi15|scsi16|scsi17|scsi18|scsi19|scsi20|scsi21|scsi22|scsi23|scsi24|scsi25|scsi26|scsi27|scsi28|scsi29|scsi30|virtio0|virtio1|virtio2|virtio3|virtio4|virtio5|virtio6|virtio7|virtio8|virtio9|virtio10|virtio11|virtio12|virtio13|virtio14|virtio15|sata0|sata1|sata2|sata3|sata4|sata5|efidisk0|tpmstate0

[PUT /nodes/{node}/qemu/{vmid}/unlink]
@node-vmid
force? bool
idlist str fmt=pve-configid-list

[POST /nodes/{node}/qemu/{vmid}/move_disk]
@node-vmid
bwlimit? int 0..
delete? bool
digest? str len=..40
disk str enum=ide0|ide1|ide2|ide3|scsi0|scsi1|scsi2|scsi3|scsi4|scsi5|scsi6|scsi7|scsi8|scsi9|scsi10|scsi11|scsi12|scsi13|scsi14|scsi15|scsi16|scsi17|scsi18|scsi19|scsi20|scsi21|scsi22|scsi23|scsi24|scsi25|scsi26|scsi27|scsi28|scsi29|scsi30|virtio0|virtio1|virtio2|virtio3|virtio4|virtio5|virtio6|virtio7|virtio8|virtio9|virtio10|virtio11|virtio12|virtio13|virtio14|virtio15|sata0|sata1|sata2|sata3|sata4|sata5|efidisk0|tpmstate0|unused0|unused1|unused2|unused3|unused4|unused5|unused6|unused7|unused8|unused9|unused10|unused11|unused12|unused13|unused14|unused15|unused16|unused17|unused18|unused19|unused20|unused21|unused22|unused23|unused24|unused25|unused26|unused27|unused28|unused29|unused30|unused31|unused32|unused33|unused34|unused35|unused36|unused37|unused38|unused39|unused40|unused41|unused42|unused43|unused44|unused45|unused46|unused47|unused48|unused49|unused50|unused51|unused52|unused53|unused54|unused55|unused56|unused57|unused58|unused59|unused60|unused61|unused62|unused63|unused64|unused65|unused66|unused67|unused68|unused69|unused70|unused71|unused72|unused73|unused74|unused75|unused76|unused77|unused78|unused79|unused80|unused81|unused82|unused83|unused84|unused85|unused86|unused87|unused88|unused89|unused90|unused91|unused92|unused93|unused94|unused95|unused96|unused97|unused98|unused99|unused100|unused101|unused102|unused103|unused104|unused105|unused106|unused107|unused108|unused109|unused110|unused111|unused112|unused113|unused114|unused115|unused116|unused117|unused118|unused119|unused120|unused121|unused122|unused123|unused124|unused125|unused126|unused127|unused128|unused129|unused130|unused131|unused132|unused133|unused134|unused135|unused136|unused137|unused138|unused139|unused140|unused141|unused142|unused143|unused144|unused145|unused146|unused147|unused148|unused149|unused150|unused151|unused152|unused153|unused154|unused155|unused156|unused157|unused158|unused159|unused160|unused161|unused162|unused163|unused164|unused165|unused166|unused167|unused168|unused169|unused170|unused171|unused172|unused173|unused174|unused175|unused176|unused177|unused178|unused179|unused180|unused181|unused182|unused183|unused184|unused185|unused186|unused187|unused188|unused189|unused190|unused191|unused192|unused193|unused194|unused195|unused196|unused197|unused198|unused199|unused200|unused201|unused202|unused203|unused204|unused205|unused206|unused207|unused208|unused209|unused210|unused211|unused212|unused213|unused214|unused215|unused216|unused217|unused218|unused219|unused220|unused221|unused222|unused223|unused224|unused225|unused226|unused227|unused228|unused229|unused230|unused231|unused232|unused233|unused234|unused235|unused236|unused237|unused238|unused239|unused240|unused241|unused242|unused243|unused244|unused245|unused246|unused247|unused248|unused249|unused250|unused251|unused252|unused253|unused254|unused255
format? str enum=raw|qcow2|vmdk
storage? str fmt=pve-storage-id
target-digest? str len=..40
target-disk? str enum=ide0|ide1|ide2|ide3|scsi0|scsi1|scsi2|scsi3|scsi4|scsi5|scsi6|scsi7|scsi8|scsi9|scsi10|scsi11|scsi12|scsi13|scsi14|scsi15|scsi16|scsi17|scsi18|scsi19|scsi20|scsi21|scsi22|scsi23|scsi24|scsi25|scsi26|scsi27|scsi28|scsi29|scsi30|virtio0|virtio1|virtio2|virtio3|virtio4|virtio5|virtio6|virtio7|virtio8|virtio9|virtio10|virtio11|virtio12|virtio13|virtio14|virtio15|sata0|sata1|sata2|sata3|sata4|sata5|efidisk0|tpmstate0|unused0|unused1|unused2|unused3|unused4|unused5|unused6|unused7|unused8|unused9|unused10|unused11|unused12|unused13|unused14|unused15|unused16|unused17|unused18|unused19|unused20|unused21|unused22|unused23|unused24|unused25|unused26|unused27|unused28|unused29|unused30|unused31|unused32|unused33|unused34|unused35|unused36|unused37|unused38|unused39|unused40|unused41|unused42|unused43|unused44|unused45|unused46|unused47|unused48|unused49|unused50|unused51|unused52|unused53|unused54|unused55|unused56|unused57|unused58|unused59|unused60|unused61|unused62|unused63|unused64|unused65|unused66|unused67|unused68|unused69|unused70|unused71|unused72|unused73|unused74|unused75|unused76|unused77|unused78|unused79|unused80|unused81|unused82|unused83|unused84|unused85|unused86|unused87|unused88|unused89|unused90|unused91|unused92|unused93|unused94|unused95|unused96|unused97|unused98|unused99|unused100|unused101|unused102|unused103|unused104|unused105|unused106|unused107|unused108|unused109|unused110|unused111|unused112|unused113|unused114|unused115|unused116|unused117|unused118|unused119|unused120|unused121|unused122|unused123|unused124|unused125|unused126|unused127|unused128|unused129|unused130|unused131|unused132|unused133|unused134|unused135|unused136|unused137|unused138|unused139|unused140|unused141|unused142|unused143|unused144|unused145|unused146|unused147|unused148|unused149|unused150|unused151|unused152|unused153|unused154|unused155|unused156|unused157|unused158|unused159|unused160|unused161|unused162|unused163|unused164|unused165|unused166|unused167|unused168|unused169|unused170|unused171|unused172|unused173|unused174|unused175|unused176|unused177|unused178|unused179|unused180|unused181|unused182|unused183|unused184|unused185|unused186|unused187|unused188|unused189|unused190|unused191|unused192|unused193|unused194|unused195|unused196|unused197|unused198|unused199|unused200|unused201|unused202|unused203|unused204|unused205|unused206|unused207|unused208|unused209|unused210|unused211|unused212|unused213|unused214|unused215|unused216|unused217|unused218|unused219|unused220|unused221|unused222|unused223|unused224|unused225|unused226|unused227|unused228|unused229|unused230|unused231|unused232|unused233|unused234|unused235|unused236|unused237|unused238|unused239|unused240|unused241|unused242|unused243|unused244|unused245|unused246|unused247|unused248|unused249|unused250|unused251|unused252|unused253|unused254|unused255
target-vmid? int 100..999999999 fmt=pve-vmid

[group qemu-options]
acpi? bool
affinity? str fmt=pve-cpuset
agent? str props=qemu-agent
allow-ksm? bool
amd-sev? str fmt=pve-qemu-sev-fmt
arch? str enum=x86_64|aarch64
args? str
audio0? str props=qemu-audio0
autostart? bool
balloon? int 0..
bios? str enum=seabios|ovmf
boot? str fmt=pve-qm-boot
bootdisk? str fmt=pve-qm-bootdisk re=(ide|sata|scsi|virtio)\d+
cdrom? str fmt=pve-qm-ide
cicustom? str fmt=pve-qm-cicustom
cipassword? str
citype? str enum=configdrive2|nocloud|opennebula
ciupgrade? bool
ciuser? str
cores? int 1..
cpu? str fmt=pve-vm-cpu-conf
cpulimit? num 0..128
cpuunits? int 1..262144
description? str len=..8192
efidisk0? str props=qemu-efidisk0
freeze? bool
hookscript? str fmt=pve-volume-id
hostpci[n]? str fmt=pve-qm-hostpci
hotplug? str fmt=pve-hotplug-features
hugepages? str enum=any|2|1024
ide[n]? str props=qemu-ide
intel-tdx? str fmt=pve-qemu-tdx-fmt
ipconfig[n]? str fmt=pve-qm-ipconfig
ivshmem? str props=qemu-ivshmem
keephugepages? bool
keyboard? str enum=de|de-ch|da|en-gb|en-us|es|fi|fr|fr-be|fr-ca|fr-ch|hu|is|it|ja|lt|mk|nl|no|pl|pt|pt-br|sv|sl|tr
kvm? bool
localtime? bool
lock? str enum=backup|clone|create|migrate|rollback|snapshot|snapshot-delete|suspending|suspended
machine? str props=qemu-machine
memory? str props=qemu-memory
migrate_downtime? num 0..
migrate_speed? int 0..
name? str fmt=dns-name
nameserver? str fmt=address-list
net[n]? str props=qemu-net
numa? bool
numa[n]? str props=qemu-numa
onboot? bool
ostype? str enum=other|wxp|w2k|w2k3|w2k8|wvista|win7|win8|win10|win11|l24|l26|solaris
parallel[n]? str re=/dev/parport\d+|/dev/usb/lp\d+
protection? bool
reboot? bool
rng0? str fmt=pve-qm-rng
sata[n]? str props=qemu-sata
scsi[n]? str props=qemu-scsi
scsihw? str enum=lsi|lsi53c810|virtio-scsi-pci|virtio-scsi-single|megasas|pvscsi
searchdomain? str
serial[n]? str re=(/dev/.+|socket)
shares? int 0..50000
smbios1? str len=..512 fmt=pve-qm-smbios1
smp? int 1..
sockets? int 1..
spice_enhancements? str props=qemu-spice_enhancements
sshkeys? str fmt=urlencoded
startdate? str re=(now|\d{4}-\d{1,2}-\d{1,2}(T\d{1,2}:\d{1,2}:\d{1,2})?)
startup? str fmt=pve-startup-order
tablet? bool
tags? str fmt=pve-tag-list
tdf? bool
template? bool
tpmstate0? str props=qemu-tpmstate0
unused[n]? str props=qemu-unused
usb[n]? str props=qemu-usb
vcpus? int 1..
vga? str props=qemu-vga
virtio[n]? str props=qemu-virtio
virtiofs[n]? str props=qemu-virtiofs
vmgenid? str re=(?:[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}|[01])
vmstatestorage? str fmt=pve-storage-id
watchdog? str fmt=pve-qm-watchdog

[GET /nodes/{node}/qemu/{vmid}/cloudinit]
@node-vmid

[PUT /nodes/{node}/qemu/{vmid}/cloudinit]
@node-vmid

[GET /nodes/{node}/qemu/{vmid}/cloudinit/dump]
@node-vmid
type str enum=user|network|meta
"##;
