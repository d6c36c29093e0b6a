//! The property strings of QEMU VM options: the ones the schema gives inline (drives, NICs,
//! `agent`, `memory`...) and the ones PVE registers by name (`pve-qm-ide`,
//! `pve-vm-cpu-conf`...), whose keys follow the type text the API viewer shows.

pub(super) const DECL: &str = r##"
[props qemu-agent]
enabled bool key
freeze-fs? bool
freeze-fs-on-backup alias=freeze-fs
fstrim_cloned_disks? bool
guest-fsfreeze alias=freeze-fs
type? str enum=virtio|isa

[props qemu-audio0]
device str enum=ich9-intel-hda|intel-hda|AC97
driver? str enum=spice|none

[props qemu-efidisk0]
efitype? str enum=2m|4m
file str fmt=pve-volume-id-or-qm-path key
format? str enum=raw|qcow|qed|qcow2|vmdk|cloop
import-from? str fmt=pve-volume-id-or-absolute-path
ms-cert? str enum=2011|2023|2023w|2023k
pre-enrolled-keys? bool
size? str fmt=disk-size
volume alias=file

# The keys every disk bus (ide, sata, scsi, virtio) accepts.
[group qemu-drive]
aio? str enum=native|threads|io_uring
backup? bool
bps? int
bps_max_length? int 1..
bps_rd? int
bps_rd_length alias=bps_rd_max_length
bps_rd_max_length? int 1..
bps_wr? int
bps_wr_length alias=bps_wr_max_length
bps_wr_max_length? int 1..
cache? str enum=none|writethrough|writeback|unsafe|directsync
detect_zeroes? bool
discard? str enum=ignore|on
file str fmt=pve-volume-id-or-qm-path key
format? str enum=raw|qcow|qed|qcow2|vmdk|cloop
import-from? str fmt=pve-volume-id-or-absolute-path
iops? int
iops_max? int
iops_max_length? int 1..
iops_rd? int
iops_rd_length alias=iops_rd_max_length
iops_rd_max? int
iops_rd_max_length? int 1..
iops_wr? int
iops_wr_length alias=iops_wr_max_length
iops_wr_max? int
iops_wr_max_length? int 1..
mbps? num
mbps_max? num
mbps_rd? num
mbps_rd_max? num
mbps_wr? num
mbps_wr_max? num
media? str enum=cdrom|disk
replicate? bool
rerror? str enum=ignore|report|stop
serial? str len=..60 fmt=urlencoded
shared? bool
size? str fmt=disk-size
snapshot? bool
volume alias=file
werror? str enum=enospc|ignore|report|stop

[props qemu-ide]
@qemu-drive
model? str len=..120 fmt=urlencoded
ssd? bool
wwn? str re=(?^:^(0x)[0-9a-fA-F]{16})

[props qemu-ivshmem]
name? str re=[a-zA-Z0-9\-]+
size int 1..

[props qemu-machine]
aw-bits? num 32..64
enable-s3? bool
enable-s4? bool
type? str len=..40 key re=(pc|pc(-i440fx)?-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?|q35|pc-q35-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?|virt(?:-\d+(\.\d+)+)?(\+pve\d+)?)
viommu? str enum=intel|virtio

[props qemu-memory]
current int 16.. key

[props qemu-net]
bridge? str fmt=pve-bridge-id
e1000 alias=macaddr keyalias=model
e1000-82540em alias=macaddr keyalias=model
e1000-82544gc alias=macaddr keyalias=model
e1000-82545em alias=macaddr keyalias=model
e1000e alias=macaddr keyalias=model
firewall? bool
i82551 alias=macaddr keyalias=model
i82557b alias=macaddr keyalias=model
i82559er alias=macaddr keyalias=model
link_down? bool
macaddr? str fmt=mac-addr
model str enum=e1000|e1000-82540em|e1000-82544gc|e1000-82545em|e1000e|i82551|i82557b|i82559er|ne2k_isa|ne2k_pci|pcnet|rtl8139|virtio|vmxnet3 key
mtu? int 1..65520
ne2k_isa alias=macaddr keyalias=model
ne2k_pci alias=macaddr keyalias=model
pcnet alias=macaddr keyalias=model
queues? int 0..64
rate? num 0..
rtl8139 alias=macaddr keyalias=model
tag? int 1..4094
trunks? str re=(?^:\d+(?:-\d+)?(?:;\d+(?:-\d+)?)*)
virtio alias=macaddr keyalias=model
vmxnet3 alias=macaddr keyalias=model

[props qemu-numa]
cpus str re=(?^:\d+(?:-\d+)?(?:;\d+(?:-\d+)?)*)
hostnodes? str re=(?^:\d+(?:-\d+)?(?:;\d+(?:-\d+)?)*)
memory? num
policy? str enum=preferred|bind|interleave

[props qemu-sata]
@qemu-drive
ssd? bool
wwn? str re=(?^:^(0x)[0-9a-fA-F]{16})

[props qemu-scsi]
@qemu-drive
iothread? bool
product? str re=[A-Za-z0-9\-_\s]{,16}
queues? int 2..
ro? bool
scsiblock? bool
ssd? bool
vendor? str re=[A-Za-z0-9\-_\s]{,8}
wwn? str re=(?^:^(0x)[0-9a-fA-F]{16})

[props qemu-spice_enhancements]
foldersharing? bool
videostreaming? str enum=off|all|filter

[props qemu-tpmstate0]
file str fmt=pve-volume-id-or-qm-path key
format? str enum=raw|qcow2|vmdk
import-from? str fmt=pve-volume-id-or-absolute-path
size? str fmt=disk-size
version? str enum=v1.2|v2.0
volume alias=file

[props qemu-unused]
file str fmt=pve-volume-id key
volume alias=file

[props qemu-usb]
host? str key re=(?^:(?:(?:(?^:(0x)?([0-9A-Fa-f]{4}):(0x)?([0-9A-Fa-f]{4})))|(?:(?^:(\d+)\-(\d+(\.\d+)*)))|[Ss][Pp][Ii][Cc][Ee]))
mapping? str fmt=pve-configid
usb3? bool

[props qemu-vga]
clipboard? str enum=vnc
memory? int 4..512
type? str enum=cirrus|qxl|qxl2|qxl3|qxl4|none|serial0|serial1|serial2|serial3|std|virtio|virtio-gl|vmware key

[props qemu-virtio]
@qemu-drive
iothread? bool
ro? bool

[props qemu-virtiofs]
cache? str enum=auto|always|metadata|never
direct-io? bool
dirid str fmt=pve-configid key
expose-acl? bool
expose-xattr? bool

[props pve-qm-ide = qemu-ide]

[props pve-vm-cpu-conf]
cputype? str key
flags? str
guest-phys-bits? int 32..64
hidden? bool
hv-vendor-id? str re=[a-zA-Z0-9]{1,12}
phys-bits? str re=(?:[1-9]\d*|host)
reported-model? str

[props pve-qm-boot]
legacy? str key re=[acdn]{1,4}
order? str

[props pve-qm-hostpci]
host? str key
device-id? str
driver? str enum=vfio|keep
legacy-igd? bool
mapping? str
mdev? str
pcie? bool
rombar? bool
romfile? str
sub-device-id? str
sub-vendor-id? str
vendor-id? str
x-vga? bool

[props pve-qm-ipconfig]
gw? str fmt=ipv4
gw6? str fmt=ipv6
ip? str fmt=pve-ipv4-config
ip6? str fmt=pve-ipv6-config

[props pve-qm-rng]
source str enum=/dev/urandom|/dev/random|/dev/hwrng key
max_bytes? int
period? int

[props pve-qm-smbios1]
base64? bool
family? str
manufacturer? str
product? str
serial? str
sku? str
uuid? str re=[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}
version? str

[props pve-qm-watchdog]
model? str enum=i6300esb|ib700 key
action? str enum=reset|shutdown|poweroff|pause|debug|none

[props pve-qm-cicustom]
meta? str fmt=pve-volume-id
network? str fmt=pve-volume-id
user? str fmt=pve-volume-id
vendor? str fmt=pve-volume-id

[props pve-qemu-sev-fmt]
type str enum=std|es|snp key
allow-smt? bool
kernel-hashes? bool
no-debug? bool
no-key-sharing? bool

[props pve-qemu-tdx-fmt]
type str enum=tdx key
attestation bool
vsock-cid? int
vsock-port? int
"##;
