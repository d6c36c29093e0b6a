//! Declared parameters of the storage routes: the cluster's storage configuration, node
//! storage status and content, and the bandwidth-limit property string.

pub(super) const DECL: &str = r##"
[GET /nodes/{node}/storage]
content? str fmt=pve-storage-content-list
enabled? bool
format? bool
node str fmt=pve-node
storage? str fmt=pve-storage-id
target? str fmt=pve-node

[GET /nodes/{node}/storage/{storage}]
node str fmt=pve-node
storage str fmt=pve-storage-id

[GET /nodes/{node}/storage/{storage}/content]
content? str fmt=pve-storage-content
node str fmt=pve-node
storage str fmt=pve-storage-id
vmid? int 100..999999999 fmt=pve-vmid

[POST /nodes/{node}/storage/{storage}/content]
@node-vmid
filename str
format? str enum=raw|qcow2|subvol|vmdk requires=size
size str re=\d+[MG]?
storage str fmt=pve-storage-id

[DELETE /nodes/{node}/storage/{storage}/content/{volume}]
delay? int 1..30
node str fmt=pve-node
storage? str fmt=pve-storage-id
volume str

[GET /nodes/{node}/storage/{storage}/content/{volume}]
node str fmt=pve-node
storage? str fmt=pve-storage-id
volume str

[POST /nodes/{node}/storage/{storage}/content/{volume}]
node str fmt=pve-node
storage? str fmt=pve-storage-id
target str
target_node? str fmt=pve-node
volume str

[PUT /nodes/{node}/storage/{storage}/content/{volume}]
node str fmt=pve-node
notes? str
protected? bool
storage? str fmt=pve-storage-id
volume str

[GET /nodes/{node}/storage/{storage}/status]
node str fmt=pve-node
storage str fmt=pve-storage-id

[GET /storage]
type? str enum=btrfs|cephfs|cifs|dir|esxi|iscsi|iscsidirect|lvm|lvmthin|nfs|pbs|rbd|zfs|zfspool

[POST /storage]
authsupported? str
base? str fmt=pve-volume-id
blocksize? str
bwlimit? str props=storage-bwlimit
comstar_hg? str
comstar_tg? str
content? str fmt=pve-storage-content-list
content-dirs? str fmt=pve-dir-override-list
create-base-path? bool
create-subdirs? bool
data-pool? str
datastore? str
disable? bool
domain? str len=..256
encryption-key? str
export? str fmt=pve-storage-path
fingerprint? str re=([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}
format? str enum=raw|qcow2|subvol|vmdk
fs-name? str fmt=pve-configid
fuse? bool
is_mountpoint? str
iscsiprovider? str
keyring? str
krbd? bool
lio_tpg? str
master-pubkey? str
max-protected-backups? int -1..
mkdir? bool
monhost? str fmt=pve-storage-portal-dns-list
mountpoint? str fmt=pve-storage-path
namespace? str
nocow? bool
nodes? str fmt=pve-node-list
nowritecache? bool
options? str fmt=pve-storage-options
password? str len=..256
path? str fmt=pve-storage-path
pool? str
port? int 1..65535
portal? str fmt=pve-storage-portal-dns
preallocation? str enum=off|metadata|falloc|full
prune-backups? str fmt=prune-backups
saferemove? bool
saferemove-stepsize? int enum=1|2|4|8|16|32
saferemove_throughput? str
server? str fmt=pve-storage-server
share? str
shared? bool
skip-cert-verification? bool
smbversion? str enum=default|2.0|2.1|3|3.0|3.11
snapshot-as-volume-chain? bool
sparse? bool
storage str fmt=pve-storage-id
subdir? str fmt=pve-storage-path
tagged_only? bool
target? str
thinpool? str fmt=pve-storage-vgname
type str enum=btrfs|cephfs|cifs|dir|esxi|iscsi|iscsidirect|lvm|lvmthin|nfs|pbs|rbd|zfs|zfspool
username? str
vgname? str fmt=pve-storage-vgname
zfs-base-path? str fmt=pve-storage-path

[DELETE /storage/{storage}]
storage str fmt=pve-storage-id

[GET /storage/{storage}]
storage str fmt=pve-storage-id

[PUT /storage/{storage}]
blocksize? str
bwlimit? str props=storage-bwlimit
comstar_hg? str
comstar_tg? str
content? str fmt=pve-storage-content-list
content-dirs? str fmt=pve-dir-override-list
create-base-path? bool
create-subdirs? bool
data-pool? str
delete? str len=..4096 fmt=pve-configid-list
digest? str len=..64
disable? bool
domain? str len=..256
encryption-key? str
fingerprint? str re=([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}
format? str enum=raw|qcow2|subvol|vmdk
fs-name? str fmt=pve-configid
fuse? bool
is_mountpoint? str
keyring? str
krbd? bool
lio_tpg? str
master-pubkey? str
max-protected-backups? int -1..
mkdir? bool
monhost? str fmt=pve-storage-portal-dns-list
mountpoint? str fmt=pve-storage-path
namespace? str
nocow? bool
nodes? str fmt=pve-node-list
nowritecache? bool
options? str fmt=pve-storage-options
password? str len=..256
pool? str
port? int 1..65535
preallocation? str enum=off|metadata|falloc|full
prune-backups? str fmt=prune-backups
saferemove? bool
saferemove-stepsize? int enum=1|2|4|8|16|32
saferemove_throughput? str
server? str fmt=pve-storage-server
shared? bool
skip-cert-verification? bool
smbversion? str enum=default|2.0|2.1|3|3.0|3.11
snapshot-as-volume-chain? bool
sparse? bool
storage str fmt=pve-storage-id
subdir? str fmt=pve-storage-path
tagged_only? bool
username? str
zfs-base-path? str fmt=pve-storage-path

[props storage-bwlimit]
clone? num 0..
default? num 0..
migration? num 0..
move? num 0..
restore? num 0..

[POST /nodes/{node}/storage/{storage}/download-url]
checksum? str requires=checksum-algorithm
checksum-algorithm? str enum=md5|sha1|sha224|sha256|sha384|sha512 requires=checksum
compression? str
content str enum=iso|vztmpl|import fmt=pve-storage-content
filename str len=..255
node str fmt=pve-node
storage str fmt=pve-storage-id
url str re=https?://.*
verify-certificates? bool
"##;
