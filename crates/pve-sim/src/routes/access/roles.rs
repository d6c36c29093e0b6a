//! PVE's built-in roles and the privileges each grants (PVE 9 names).

/// A role: its id, whether PVE marks it special (built in, not editable), and its
/// privileges, or every privilege.
#[derive(Debug)]
pub(crate) struct RoleDef {
    pub(crate) id: &'static str,
    pub(crate) special: bool,
    privs: Privs,
}

#[derive(Debug)]
enum Privs {
    All,
    AllBut(&'static [&'static str]),
    Only(&'static [&'static str]),
}

/// Every privilege PVE 9 knows.
pub(crate) const PRIVILEGES: &[&str] = &[
    "Datastore.Allocate",
    "Datastore.AllocateSpace",
    "Datastore.AllocateTemplate",
    "Datastore.Audit",
    "Group.Allocate",
    "Mapping.Audit",
    "Mapping.Modify",
    "Mapping.Use",
    "Permissions.Modify",
    "Pool.Allocate",
    "Pool.Audit",
    "Realm.Allocate",
    "Realm.AllocateUser",
    "SDN.Allocate",
    "SDN.Audit",
    "SDN.Use",
    "Sys.AccessNetwork",
    "Sys.Audit",
    "Sys.Console",
    "Sys.Incoming",
    "Sys.Modify",
    "Sys.PowerMgmt",
    "Sys.Syslog",
    "User.Modify",
    "VM.Allocate",
    "VM.Audit",
    "VM.Backup",
    "VM.Clone",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Cloudinit",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Console",
    "VM.GuestAgent.Audit",
    "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileSystemMgmt",
    "VM.GuestAgent.FileWrite",
    "VM.GuestAgent.Unrestricted",
    "VM.Migrate",
    "VM.PowerMgmt",
    "VM.Replicate",
    "VM.Snapshot",
    "VM.Snapshot.Rollback",
];

const VM_ADMIN: &[&str] = &[
    "VM.Allocate",
    "VM.Audit",
    "VM.Backup",
    "VM.Clone",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Cloudinit",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Console",
    "VM.GuestAgent.Audit",
    "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileSystemMgmt",
    "VM.GuestAgent.FileWrite",
    "VM.GuestAgent.Unrestricted",
    "VM.Migrate",
    "VM.PowerMgmt",
    "VM.Snapshot",
    "VM.Snapshot.Rollback",
];

const fn role(id: &'static str, privs: &'static [&'static str]) -> RoleDef {
    RoleDef {
        id,
        special: true,
        privs: Privs::Only(privs),
    }
}

/// The built-in roles.
pub(crate) const ROLES: &[RoleDef] = &[
    RoleDef {
        id: "Administrator",
        special: true,
        privs: Privs::All,
    },
    role("NoAccess", &[]),
    RoleDef {
        id: "PVEAdmin",
        special: true,
        privs: Privs::AllBut(&[
            "Permissions.Modify",
            "Realm.Allocate",
            "Sys.Modify",
            "Sys.PowerMgmt",
        ]),
    },
    role(
        "PVEAuditor",
        &[
            "Datastore.Audit",
            "Mapping.Audit",
            "Pool.Audit",
            "SDN.Audit",
            "Sys.Audit",
            "VM.Audit",
            "VM.GuestAgent.Audit",
        ],
    ),
    role(
        "PVEDatastoreAdmin",
        &[
            "Datastore.Allocate",
            "Datastore.AllocateSpace",
            "Datastore.AllocateTemplate",
            "Datastore.Audit",
        ],
    ),
    role(
        "PVEDatastoreUser",
        &["Datastore.AllocateSpace", "Datastore.Audit"],
    ),
    role(
        "PVEMappingAdmin",
        &["Mapping.Audit", "Mapping.Modify", "Mapping.Use"],
    ),
    role("PVEMappingUser", &["Mapping.Audit", "Mapping.Use"]),
    role("PVEPoolAdmin", &["Pool.Allocate", "Pool.Audit"]),
    role("PVEPoolUser", &["Pool.Audit"]),
    role("PVESDNAdmin", &["SDN.Allocate", "SDN.Audit", "SDN.Use"]),
    role("PVESDNUser", &["SDN.Audit", "SDN.Use"]),
    role(
        "PVESysAdmin",
        &[
            "Permissions.Modify",
            "Sys.AccessNetwork",
            "Sys.Audit",
            "Sys.Console",
            "Sys.Incoming",
            "Sys.Modify",
            "Sys.PowerMgmt",
            "Sys.Syslog",
        ],
    ),
    role("PVETemplateUser", &["VM.Audit", "VM.Clone"]),
    role(
        "PVEUserAdmin",
        &["Group.Allocate", "Realm.AllocateUser", "User.Modify"],
    ),
    role("PVEVMAdmin", VM_ADMIN),
    role(
        "PVEVMUser",
        &[
            "VM.Audit",
            "VM.Backup",
            "VM.Clone",
            "VM.Config.CDROM",
            "VM.Config.Cloudinit",
            "VM.Console",
            "VM.GuestAgent.Audit",
            "VM.PowerMgmt",
        ],
    ),
];

/// The privileges a role grants, sorted.
pub(crate) fn privileges(r: &RoleDef) -> Vec<&'static str> {
    match r.privs {
        Privs::All => PRIVILEGES.to_vec(),
        Privs::AllBut(not) => PRIVILEGES
            .iter()
            .copied()
            .filter(|p| !not.contains(p))
            .collect(),
        Privs::Only(p) => p.to_vec(),
    }
}
