//! UPID: PVE's task identifier, `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:`.
//! Parsed with PVE's own decode regex; keeps the original string for sending it back.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

static UPID_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$",
    )
    .ok()
});

/// A parsed task id. `Display` and serde give back the exact original string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Upid {
    raw: String,
    /// Node running the task (where its status and log live).
    pub node: String,
    /// Worker process id.
    pub pid: u32,
    /// Process start time (clock ticks since boot).
    pub pstart: u64,
    /// Task start, unix epoch seconds.
    pub starttime: i64,
    /// Task type: `qmstart`, `vzdump`, `qmclone`, ...
    pub task_type: String,
    /// Object id (usually the VMID), may be empty.
    pub id: String,
    /// Who started it: `root@pam` or a token `root@pam!ci`.
    pub user: String,
}

impl Upid {
    /// The original UPID string.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The VMID the task works on, when its id is one.
    pub fn vmid(&self) -> Option<u32> {
        self.id.parse().ok()
    }
}

impl FromStr for Upid {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::protocol(format!("not a PVE task id (UPID): {s:?}"));
        let re = UPID_RE.as_ref().ok_or_else(bad)?;
        let c = re.captures(s).ok_or_else(bad)?;
        let text = |i: usize| c.get(i).map_or("", |m| m.as_str());
        let hex_u64 = |i: usize| u64::from_str_radix(text(i), 16).map_err(|_| bad());
        Ok(Upid {
            raw: s.to_owned(),
            node: text(1).to_owned(),
            pid: u32::from_str_radix(text(3), 16).map_err(|_| bad())?,
            pstart: hex_u64(4)?,
            starttime: i64::try_from(hex_u64(5)?).map_err(|_| bad())?,
            task_type: text(6).to_owned(),
            id: text(7).to_owned(),
            user: text(8).to_owned(),
        })
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for Upid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Upid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn check(
        s: &str,
        node: &str,
        pid: u32,
        pstart: u64,
        start: i64,
        ty: &str,
        id: &str,
        user: &str,
    ) {
        let u: Upid = s.parse().unwrap();
        assert_eq!(
            (
                u.node.as_str(),
                u.pid,
                u.pstart,
                u.starttime,
                u.task_type.as_str(),
                u.id.as_str(),
                u.user.as_str()
            ),
            (node, pid, pstart, start, ty, id, user),
            "{s}"
        );
        assert_eq!(u.to_string(), s);
        assert_eq!(serde_json::to_string(&u).unwrap(), format!("\"{s}\""));
    }

    #[test]
    fn parses_real_upids() {
        check(
            "UPID:pve:00061CB3:010BA69C:64EFECB0:qmcreate:101:root@pam:",
            "pve",
            400563,
            17540764,
            1693445296,
            "qmcreate",
            "101",
            "root@pam",
        );
        check(
            "UPID:pve:00061CB3:010BA69C:64EFECB0:imgcopy::root@pam:",
            "pve",
            400563,
            17540764,
            1693445296,
            "imgcopy",
            "",
            "root@pam",
        );
        check(
            "UPID:pve-srv:0012D68C:8206F38C:65144CB7:qmcreate:501:root@pam:",
            "pve-srv",
            0x0012_D68C,
            0x8206_F38C,
            0x6514_4CB7,
            "qmcreate",
            "501",
            "root@pam",
        );
        check(
            "UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam!ci:",
            "node1",
            0x000F_F1FD,
            0x10F9_374C,
            1661825068,
            "vzdump",
            "110",
            "root@pam!ci",
        );
        // 9-digit pstart (long uptimes).
        check(
            "UPID:n:00000001:123456789:00000002:qmstart:100:root@pam:",
            "n",
            1,
            0x1_2345_6789,
            2,
            "qmstart",
            "100",
            "root@pam",
        );
        assert_eq!(
            "UPID:pve:00061CB3:010BA69C:64EFECB0:qmcreate:101:root@pam:"
                .parse::<Upid>()
                .unwrap()
                .vmid(),
            Some(101)
        );
    }

    #[test]
    fn rejects_non_upids() {
        for s in [
            "",
            "UPID:pve:00061CB3:010BA69C:64EFECB0:qmcreate:101:root@pam", // no trailing colon
            "UPID:pve:61CB3:010BA69C:64EFECB0:qmcreate:101:root@pam:",   // short pid
            "UPID:-pve:00061CB3:010BA69C:64EFECB0:qmcreate:101:root@pam:",
            "UPID:pve:00061CB3:010BA69C:64EFECB0::101:root@pam:", // empty type
            "UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:keep-running",
            "hello",
        ] {
            let e = s.parse::<Upid>().unwrap_err();
            assert!(e.to_string().contains("UPID"), "{s}: {e}");
        }
    }
}
