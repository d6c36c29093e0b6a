//! Declared parameters of the container routes, and the containers' property strings
//! (`rootfs`, `mp[n]`, `net[n]`, `features`...).

pub(super) const DECL: &str = r##"
[GET /nodes/{node}/lxc]
node str fmt=pve-node

[POST /nodes/{node}/lxc]
@node-vmid
bwlimit? num 0..
force? bool
ha-managed? bool
ignore-unpack-errors? bool
ostemplate str len=..255
password? str len=5..
pool? str fmt=pve-poolid
restore? bool
ssh-public-keys? str
start? bool
storage? str fmt=pve-storage-id
unique? bool requires=restore
@lxc-options

[DELETE /nodes/{node}/lxc/{vmid}]
@node-vmid
destroy-unreferenced-disks? bool
force? bool
purge? bool

[GET /nodes/{node}/lxc/{vmid}]
@node-vmid

[GET /nodes/{node}/lxc/{vmid}/config]
@node-vmid
current? bool
snapshot? str len=..40 fmt=pve-configid

[PUT /nodes/{node}/lxc/{vmid}/config]
@node-vmid
delete? str fmt=pve-configid-list
digest? str len=..40
revert? str fmt=pve-configid-list
@lxc-options

[GET /nodes/{node}/lxc/{vmid}/migrate]
@node-vmid
target? str fmt=pve-node

[POST /nodes/{node}/lxc/{vmid}/migrate]
@node-vmid
bwlimit? num 0..
online? bool
restart? bool
target str fmt=pve-node
target-storage? str fmt=storage-pair-list
timeout? int

[PUT /nodes/{node}/lxc/{vmid}/resize]
@node-vmid
digest? str len=..40
disk str enum=rootfs|mp0|mp1|mp2|mp3|mp4|mp5|mp6|mp7|mp8|mp9|mp10|mp11|mp12|mp13|mp14|mp15|mp16|mp17|mp18|mp19|mp20|mp21|mp22|mp23|mp24|mp25|mp26|mp27|mp28|mp29|mp30|mp31|mp32|mp33|mp34|mp35|mp36|mp37|mp38|mp39|mp40|mp41|mp42|mp43|mp44|mp45|mp46|mp47|mp48|mp49|mp50|mp51|mp52|mp53|mp54|mp55|mp56|mp57|mp58|mp59|mp60|mp61|mp62|mp63|mp64|mp65|mp66|mp67|mp68|mp69|mp70|mp71|mp72|mp73|mp74|mp75|mp76|mp77|mp78|mp79|mp80|mp81|mp82|mp83|mp84|mp85|mp86|mp87|mp88|mp89|mp90|mp91|mp92|mp93|mp94|mp95|mp96|mp97|mp98|mp99|mp100|mp101|mp102|mp103|mp104|mp105|mp106|mp107|mp108|mp109|mp110|mp111|mp112|mp113|mp114|mp115|mp116|mp117|mp118|mp119|mp120|mp121|mp122|mp123|mp124|mp125|mp126|mp127|mp128|mp129|mp130|mp131|mp132|mp133|mp134|mp135|mp136|mp137|mp138|mp139|mp140|mp141|mp142|mp143|mp144|mp145|mp146|mp147|mp148|mp149|mp150|mp151|mp152|mp153|mp154|mp155|mp156|mp157|mp158|mp159|mp160|mp161|mp162|mp163|mp164|mp165|mp166|mp167|mp168|mp169|mp170|mp171|mp172|mp173|mp174|mp175|mp176|mp177|mp178|mp179|mp180|mp181|mp182|mp183|mp184|mp185|mp186|mp187|mp188|mp189|mp190|mp191|mp192|mp193|mp194|mp195|mp196|mp197|mp198|mp199|mp200|mp201|mp202|mp203|mp204|mp205|mp206|mp207|mp208|mp209|mp210|mp211|mp212|mp213|mp214|mp215|mp216|mp217|mp218|mp219|mp220|mp221|mp222|mp223|mp224|mp225|mp226|mp227|mp228|mp229|mp230|mp231|mp232|mp233|mp234|mp235|mp236|mp237|mp238|mp239|mp240|mp241|mp242|mp243|mp244|mp245|mp246|mp247|mp248|mp249|mp250|mp251|mp252|mp253|mp254|mp255
size str re=\+?\d+(\.\d+)?[KMGT]?

[GET /nodes/{node}/lxc/{vmid}/snapshot]
@node-vmid

[POST /nodes/{node}/lxc/{vmid}/snapshot]
@node-vmid
description? str
snapname str len=..40 fmt=pve-configid

[DELETE /nodes/{node}/lxc/{vmid}/snapshot/{snapname}]
@node-vmid
force? bool
snapname str len=..40 fmt=pve-configid

[GET /nodes/{node}/lxc/{vmid}/snapshot/{snapname}]
@node-vmid
snapname str len=..40 fmt=pve-configid

[GET /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config]
@node-vmid
snapname str len=..40 fmt=pve-configid

[PUT /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config]
@node-vmid
description? str
snapname str len=..40 fmt=pve-configid

[POST /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback]
@node-vmid
snapname str len=..40 fmt=pve-configid
start? bool

[GET /nodes/{node}/lxc/{vmid}/status]
@node-vmid

[GET /nodes/{node}/lxc/{vmid}/status/current]
@node-vmid

[POST /nodes/{node}/lxc/{vmid}/status/reboot]
@node-vmid
timeout? int 0..

[POST /nodes/{node}/lxc/{vmid}/status/shutdown]
@node-vmid
forceStop? bool
timeout? int 0..

[POST /nodes/{node}/lxc/{vmid}/status/start]
@node-vmid
debug? bool
skiplock? bool

[POST /nodes/{node}/lxc/{vmid}/status/stop]
@node-vmid
overrule-shutdown? bool
skiplock? bool

[GET /nodes/{node}/lxc/{vmid}/interfaces]
@node-vmid

[POST /nodes/{node}/lxc/{vmid}/template]
@node-vmid

[POST /nodes/{node}/lxc/{vmid}/clone]
@node-vmid
bwlimit? num 0..
description? str
full? bool
hostname? str fmt=dns-name
newid int 100..999999999 fmt=pve-vmid
pool? str fmt=pve-poolid
snapname? str len=..40 fmt=pve-configid
storage? str fmt=pve-storage-id
target? str fmt=pve-node

[POST /nodes/{node}/lxc/{vmid}/move_volume]
@node-vmid
bwlimit? num 0..
delete? bool
digest? str len=..40
storage? str fmt=pve-storage-id
target-digest? str len=..40
target-vmid? int 100..999999999 fmt=pve-vmid
target-volume? str enum=rootfs|mp0|mp1|mp2|mp3|mp4|mp5|mp6|mp7|mp8|mp9|mp10|mp11|mp12|mp13|mp14|mp15|mp16|mp17|mp18|mp19|mp20|mp21|mp22|mp23|mp24|mp25|mp26|mp27|mp28|mp29|mp30|mp31|mp32|mp33|mp34|mp35|mp36|mp37|mp38|mp39|mp40|mp41|mp42|mp43|mp44|mp45|mp46|mp47|mp48|mp49|mp50|mp51|mp52|mp53|mp54|mp55|mp56|mp57|mp58|mp59|mp60|mp61|mp62|mp63|mp64|mp65|mp66|mp67|mp68|mp69|mp70|mp71|mp72|mp73|mp74|mp75|mp76|mp77|mp78|mp79|mp80|mp81|mp82|mp83|mp84|mp85|mp86|mp87|mp88|mp89|mp90|mp91|mp92|mp93|mp94|mp95|mp96|mp97|mp98|mp99|mp100|mp101|mp102|mp103|mp104|mp105|mp106|mp107|mp108|mp109|mp110|mp111|mp112|mp113|mp114|mp115|mp116|mp117|mp118|mp119|mp120|mp121|mp122|mp123|mp124|mp125|mp126|mp127|mp128|mp129|mp130|mp131|mp132|mp133|mp134|mp135|mp136|mp137|mp138|mp139|mp140|mp141|mp142|mp143|mp144|mp145|mp146|mp147|mp148|mp149|mp150|mp151|mp152|mp153|mp154|mp155|mp156|mp157|mp158|mp159|mp160|mp161|mp162|mp163|mp164|mp165|mp166|mp167|mp168|mp169|mp170|mp171|mp172|mp173|mp174|mp175|mp176|mp177|mp178|mp179|mp180|mp181|mp182|mp183|mp184|mp185|mp186|mp187|mp188|mp189|mp190|mp191|mp192|mp193|mp194|mp195|mp196|mp197|mp198|mp199|mp200|mp201|mp202|mp203|mp204|mp205|mp206|mp207|mp208|mp209|mp210|mp211|mp212|mp213|mp214|mp215|mp216|mp217|mp218|mp219|mp220|mp221|mp222|mp223|mp224|mp225|mp226|mp227|mp228|mp229|mp230|mp231|mp232|mp233|mp234|mp235|mp236|mp237|mp238|mp239|mp240|mp241|mp242|mp243|mp244|mp245|mp246|mp247|mp248|mp249|mp250|mp251|mp252|mp253|mp254|mp255|unused0|unused1|unused2|unused3|unused4|unused5|unused6|unused7|unused8|unused9|unused10|unused11|unused12|unused13|unused14|unused15|unused16|unused17|unused18|unused19|unused20|unused21|unused22|unused23|unused24|unused25|unused26|unused27|unused28|unused29|unused30|unused31|unused32|unused33|unused34|unused35|unused36|unused37|unused38|unused39|unused40|unused41|unused42|unused43|unused44|unused45|unused46|unused47|unused48|unused49|unused50|unused51|unused52|unused53|unused54|unused55|unused56|unused57|unused58|unused59|unused60|unused61|unused62|unused63|unused64|unused65|unused66|unused67|unused68|unused69|unused70|unused71|unused72|unused73|unused74|unused75|unused76|unused77|unused78|unused79|unused80|unused81|unused82|unused83|unused84|unused85|unused86|unused87|unused88|unused89|unused90|unused91|unused92|unused93|unused94|unused95|unused96|unused97|unused98|unused99|unused100|unused101|unused102|unused103|unused104|unused105|unused106|unused107|unused108|unused109|unused110|unused111|unused112|unused113|unused114|unused115|unused116|unused117|unused118|unused119|unused120|unused121|unused122|unused123|unused124|unused125|unused126|unused127|unused128|unused129|unused130|unused131|unused132|unused133|unused134|unused135|unused136|unused137|unused138|unused139|unused140|unused141|unused142|unused143|unused144|unused145|unused146|unused147|unused148|unused149|unused150|unused151|unused152|unused153|unused154|unused155|unused156|unused157|unused158|unused159|unused160|unused161|unused162|unused163|unused164|unused165|unused166|unused167|unused168|unused169|unused170|unused171|unused172|unused173|unused174|unused175|unused176|unused177|unused178|unused179|unused180|unused181|unused182|unused183|unused184|unused185|unused186|unused187|unused188|unused189|unused190|unused191|unused192|unused193|unused194|unused195|unused196|unused197|unused198|unused199|unused200|unused201|unused202|unused203|unused204|unused205|unused206|unused207|unused208|unused209|unused210|unused211|unused212|unused213|unused214|unused215|unused216|unused217|unused218|unused219|unused220|unused221|unused222|unused223|unused224|unused225|unused226|unused227|unused228|unused229|unused230|unused231|unused232|unused233|unused234|unused235|unused236|unused237|unused238|unused239|unused240|unused241|unused242|unused243|unused244|unused245|unused246|unused247|unused248|unused249|unused250|unused251|unused252|unused253|unused254|unused255
volume str enum=rootfs|mp0|mp1|mp2|mp3|mp4|mp5|mp6|mp7|mp8|mp9|mp10|mp11|mp12|mp13|mp14|mp15|mp16|mp17|mp18|mp19|mp20|mp21|mp22|mp23|mp24|mp25|mp26|mp27|mp28|mp29|mp30|mp31|mp32|mp33|mp34|mp35|mp36|mp37|mp38|mp39|mp40|mp41|mp42|mp43|mp44|mp45|mp46|mp47|mp48|mp49|mp50|mp51|mp52|mp53|mp54|mp55|mp56|mp57|mp58|mp59|mp60|mp61|mp62|mp63|mp64|mp65|mp66|mp67|mp68|mp69|mp70|mp71|mp72|mp73|mp74|mp75|mp76|mp77|mp78|mp79|mp80|mp81|mp82|mp83|mp84|mp85|mp86|mp87|mp88|mp89|mp90|mp91|mp92|mp93|mp94|mp95|mp96|mp97|mp98|mp99|mp100|mp101|mp102|mp103|mp104|mp105|mp106|mp107|mp108|mp109|mp110|mp111|mp112|mp113|mp114|mp115|mp116|mp117|mp118|mp119|mp120|mp121|mp122|mp123|mp124|mp125|mp126|mp127|mp128|mp129|mp130|mp131|mp132|mp133|mp134|mp135|mp136|mp137|mp138|mp139|mp140|mp141|mp142|mp143|mp144|mp145|mp146|mp147|mp148|mp149|mp150|mp151|mp152|mp153|mp154|mp155|mp156|mp157|mp158|mp159|mp160|mp161|mp162|mp163|mp164|mp165|mp166|mp167|mp168|mp169|mp170|mp171|mp172|mp173|mp174|mp175|mp176|mp177|mp178|mp179|mp180|mp181|mp182|mp183|mp184|mp185|mp186|mp187|mp188|mp189|mp190|mp191|mp192|mp193|mp194|mp195|mp196|mp197|mp198|mp199|mp200|mp201|mp202|mp203|mp204|mp205|mp206|mp207|mp208|mp209|mp210|mp211|mp212|mp213|mp214|mp215|mp216|mp217|mp218|mp219|mp220|mp221|mp222|mp223|mp224|mp225|mp226|mp227|mp228|mp229|mp230|mp231|mp232|mp233|mp234|mp235|mp236|mp237|mp238|mp239|mp240|mp241|mp242|mp243|mp244|mp245|mp246|mp247|mp248|mp249|mp250|mp251|mp252|mp253|mp254|mp255|unused0|unused1|unused2|unused3|unused4|unused5|unused6|unused7|unused8|unused9|unused10|unused11|unused12|unused13|unused14|unused15|unused16|unused17|unused18|unused19|unused20|unused21|unused22|unused23|unused24|unused25|unused26|unused27|unused28|unused29|unused30|unused31|unused32|unused33|unused34|unused35|unused36|unused37|unused38|unused39|unused40|unused41|unused42|unused43|unused44|unused45|unused46|unused47|unused48|unused49|unused50|unused51|unused52|unused53|unused54|unused55|unused56|unused57|unused58|unused59|unused60|unused61|unused62|unused63|unused64|unused65|unused66|unused67|unused68|unused69|unused70|unused71|unused72|unused73|unused74|unused75|unused76|unused77|unused78|unused79|unused80|unused81|unused82|unused83|unused84|unused85|unused86|unused87|unused88|unused89|unused90|unused91|unused92|unused93|unused94|unused95|unused96|unused97|unused98|unused99|unused100|unused101|unused102|unused103|unused104|unused105|unused106|unused107|unused108|unused109|unused110|unused111|unused112|unused113|unused114|unused115|unused116|unused117|unused118|unused119|unused120|unused121|unused122|unused123|unused124|unused125|unused126|unused127|unused128|unused129|unused130|unused131|unused132|unused133|unused134|unused135|unused136|unused137|unused138|unused139|unused140|unused141|unused142|unused143|unused144|unused145|unused146|unused147|unused148|unused149|unused150|unused151|unused152|unused153|unused154|unused155|unused156|unused157|unused158|unused159|unused160|unused161|unused162|unused163|unused164|unused165|unused166|unused167|unused168|unused169|unused170|unused171|unused172|unused173|unused174|unused175|unused176|unused177|unused178|unused179|unused180|unused181|unused182|unused183|unused184|unused185|unused186|unused187|unused188|unused189|unused190|unused191|unused192|unused193|unused194|unused195|unused196|unused197|unused198|unused199|unused200|unused201|unused202|unused203|unused204|unused205|unused206|unused207|unused208|unused209|unused210|unused211|unused212|unused213|unused214|unused215|unused216|unused217|unused218|unused219|unused220|unused221|unused222|unused223|unused224|unused225|unused226|unused227|unused228|unused229|unused230|unused231|unused232|unused233|unused234|unused235|unused236|unused237|unused238|unused239|unused240|unused241|unused242|unused243|unused244|unused245|unused246|unused247|unused248|unused249|unused250|unused251|unused252|unused253|unused254|unused255

[group lxc-options]
arch? str enum=amd64|i386|arm64|armhf|riscv32|riscv64
cmode? str enum=shell|console|tty
console? bool
cores? int 1..8192
cpulimit? num 0..8192
cpuunits? int 0..500000
debug? bool
description? str len=..8192
dev[n]? str props=lxc-dev
entrypoint? str re=(?^:[^\x00-\x08\x10-\x1F\x7F]+)
env? str re=(?^:(?:\w+=[^\x00-\x08\x10-\x1F\x7F]*)(?:\0\w+=[^\x00-\x08\x10-\x1F\x7F]*)*)
features? str props=lxc-features
hookscript? str fmt=pve-volume-id
hostname? str len=..255 fmt=dns-name
lock? str enum=backup|create|destroyed|disk|fstrim|migrate|mounted|rollback|snapshot|snapshot-delete
memory? int 16..
mp[n]? str props=lxc-mp
nameserver? str fmt=lxc-ip-with-ll-iface-list
net[n]? str props=lxc-net
onboot? bool
ostype? str enum=debian|devuan|ubuntu|centos|fedora|opensuse|archlinux|alpine|gentoo|nixos|unmanaged
protection? bool
rootfs? str props=lxc-rootfs
searchdomain? str fmt=dns-name-list
startup? str fmt=pve-startup-order
swap? int 0..
tags? str fmt=pve-tag-list
template? bool
timezone? str fmt=pve-ct-timezone
tty? int 0..6
unprivileged? bool
unused[n]? str props=lxc-unused

[props lxc-dev]
deny-write? bool
gid? int 0..
mode? str re=0[0-7]{3}
path? str fmt=pve-lxc-dev-string key
uid? int 0..

[props lxc-features]
force_rw_sys? bool
fuse? bool
keyctl? bool
mknod? bool
mount? str re=(?^:[a-zA-Z0-9_; ]+)
nesting? bool

[props lxc-mp]
acl? bool
backup? bool
keepattrs? bool
mountoptions? str re=(?^:(?^:(discard|lazytime|noatime|nodev|noexec|nosuid))(;(?^:(discard|lazytime|noatime|nodev|noexec|nosuid)))*)
mp str fmt=pve-lxc-mp-string
quota? bool
replicate? bool
ro? bool
shared? bool
size? str fmt=disk-size
volume str fmt=pve-lxc-mp-string key

[props lxc-net]
bridge? str re=[-_.\w\d]+
firewall? bool
gw? str fmt=ipv4
gw6? str fmt=ipv6
host-managed? bool
hwaddr? str fmt=mac-addr
ip? str fmt=pve-ipv4-config
ip6? str fmt=pve-ipv6-config
link_down? bool
mtu? int 64..65535
name str re=[-_.\w\d]+
rate? num
tag? int 1..4094
trunks? str re=(?^:\d+(?:;\d+)*)
type? str enum=veth

[props lxc-rootfs]
acl? bool
mountoptions? str re=(?^:(?^:(discard|lazytime|noatime|nodev|noexec|nosuid))(;(?^:(discard|lazytime|noatime|nodev|noexec|nosuid)))*)
quota? bool
replicate? bool
ro? bool
shared? bool
size? str fmt=disk-size
volume str fmt=pve-lxc-mp-string key

[props lxc-unused]
volume str fmt=pve-volume-id key

[POST /nodes/{node}/lxc/{vmid}/status/suspend]
@node-vmid

[POST /nodes/{node}/lxc/{vmid}/status/resume]
@node-vmid
"##;
