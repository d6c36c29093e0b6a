//! Declared parameters of the access routes: tickets, permissions, users, groups, realms,
//! roles and ACLs.

pub(super) const DECL: &str = r##"
[GET /access/permissions]
path? str
userid? str re=(?^:^(?^:[^\s:/]+)\@(?^:[A-Za-z][A-Za-z0-9\.\-_]+)(?:!(?^:[A-Za-z][A-Za-z0-9\.\-_]+))?$)

[GET /access/ticket]

[POST /access/ticket]
new-format? bool
otp? str
password str
path? str len=..64 requires=privs
privs? str len=..64 fmt=pve-priv-list requires=path
realm? str len=..32 fmt=pve-realm
tfa-challenge? str
username str len=..64

[GET /access/users]
enabled? bool
full? bool

[GET /access/users/{userid}]
userid str len=..64 fmt=pve-userid

[GET /access/users/{userid}/token]
userid str len=..64 fmt=pve-userid

[GET /access/groups]

[GET /access/groups/{groupid}]
groupid str fmt=pve-groupid

[GET /access/domains]

[GET /access/domains/{realm}]
realm str len=..32 fmt=pve-realm

[GET /access/roles]

[GET /access/roles/{roleid}]
roleid str fmt=pve-roleid

[GET /access/acl]
"##;
