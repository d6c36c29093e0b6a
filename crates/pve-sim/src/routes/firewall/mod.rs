//! The firewall, read-only, at the three levels PVE has: the datacenter (`/cluster/firewall`:
//! rules, options, security groups, aliases, IP sets), each node (rules, options) and each
//! guest (rules, options, aliases, IP sets). Rules are numbered by position (`pos`); lists and
//! objects carry a `digest` of their section, as PVE's do.

mod data;

use serde_json::{Value, json};

use crate::Sim;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::{Guest, GuestKind};

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    use Method::Get;
    let r = Route::new;
    let root = Perm::Root(&["Sys.Audit"]);
    let node = Perm::Node(&["Sys.Audit"]);
    let vm = Perm::Vm(&["VM.Audit"]);
    let mut out = vec![
        r(Get, "/cluster/firewall", Perm::All, |_, _| {
            index(&[
                "aliases", "rules", "options", "groups", "ipset", "macros", "refs",
            ])
        }),
        r(Get, "/cluster/firewall/rules", root, |_, _| {
            Ok(numbered(data::cluster_rules()))
        }),
        r(Get, "/cluster/firewall/rules/{pos}", root, |_, c| {
            at(data::cluster_rules(), c)
        }),
        r(Get, "/cluster/firewall/options", root, |_, _| {
            Ok(data::cluster_options())
        }),
        r(Get, "/cluster/firewall/groups", Perm::All, |_, _| {
            Ok(Value::Array(
                data::groups()
                    .into_iter()
                    .map(|(g, comment, rules)| {
                        json!({"group": g, "comment": comment, "digest": digest(&rules)})
                    })
                    .collect(),
            ))
        }),
        r(Get, "/cluster/firewall/groups/{group}", root, |_, c| {
            let name = c.req_str("group")?;
            data::groups()
                .into_iter()
                .find(|(g, _, _)| *g == name)
                .map(|(_, _, rules)| numbered(rules))
                .ok_or_else(|| ApiError::internal(format!("no such security group '{name}'")))
        }),
        r(Get, "/cluster/firewall/aliases", root, |_, _| {
            Ok(aliases(data::ALIASES.iter().map(|(n, c, m)| {
                ((*n).to_string(), (*c).to_string(), (*m).to_string())
            })))
        }),
        r(Get, "/cluster/firewall/aliases/{name}", root, |_, c| {
            let all = aliases(
                data::ALIASES
                    .iter()
                    .map(|(n, c, m)| ((*n).to_string(), (*c).to_string(), (*m).to_string())),
            );
            alias(&all, c)
        }),
        r(Get, "/cluster/firewall/ipset", root, |_, _| {
            Ok(ipset_list(data::ipsets().into_iter().map(owned_set)))
        }),
        r(Get, "/cluster/firewall/ipset/{name}", root, |_, c| {
            ipset(data::ipsets().into_iter().map(owned_set), c)
        }),
        r(Get, "/nodes/{node}/firewall", Perm::All, |_, _| {
            index(&["rules", "options", "log"])
        }),
        r(Get, "/nodes/{node}/firewall/rules", node, |_, _| {
            Ok(numbered(data::node_rules()))
        }),
        r(Get, "/nodes/{node}/firewall/rules/{pos}", node, |_, c| {
            at(data::node_rules(), c)
        }),
        r(Get, "/nodes/{node}/firewall/options", node, |_, _| {
            Ok(data::node_options())
        }),
    ];
    for kind in ["qemu", "lxc"] {
        let path = |tail: &str| -> &'static str {
            Box::leak(format!("/nodes/{{node}}/{kind}/{{vmid}}/firewall{tail}").into_boxed_str())
        };
        out.extend([
            r(Get, path(""), Perm::All, guest_index),
            r(Get, path("/rules"), vm, |s, c| {
                Ok(numbered(data::guest_rules(guest(s, c)?)))
            }),
            r(Get, path("/rules/{pos}"), vm, |s, c| {
                at(data::guest_rules(guest(s, c)?), c)
            }),
            r(Get, path("/options"), vm, |s, c| {
                Ok(data::guest_options(guest(s, c)?))
            }),
            r(Get, path("/aliases"), vm, |s, c| {
                Ok(aliases(data::guest_aliases(guest(s, c)?)))
            }),
            r(Get, path("/aliases/{name}"), vm, |s, c| {
                alias(&aliases(data::guest_aliases(guest(s, c)?)), c)
            }),
            r(Get, path("/ipset"), vm, |s, c| {
                Ok(ipset_list(data::guest_ipsets(guest(s, c)?).into_iter()))
            }),
            r(Get, path("/ipset/{name}"), vm, |s, c| {
                ipset(data::guest_ipsets(guest(s, c)?).into_iter(), c)
            }),
        ]);
    }
    out
}

fn index(names: &[&str]) -> Result<Value, ApiError> {
    Ok(Value::Array(
        names.iter().map(|n| json!({ "name": n })).collect(),
    ))
}

fn guest_index(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    guest(sim, call)?;
    index(&["rules", "aliases", "ipset", "options", "log", "refs"])
}

/// The guest of a `/nodes/{node}/{qemu,lxc}/{vmid}/firewall...` call.
fn guest<'a>(sim: &'a Sim, call: &Call) -> Result<&'a Guest, ApiError> {
    let kind = if call.path.contains("/lxc/") {
        GuestKind::Lxc
    } else {
        GuestKind::Qemu
    };
    sim.guest_on(call.node()?, call.vmid()?, kind)
}

fn digest(v: &impl std::fmt::Debug) -> String {
    crate::routes::digest(&format!("{v:?}"))
}

/// Rules with their positions.
fn numbered(rules: Vec<Value>) -> Value {
    Value::Array(
        rules
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                r["pos"] = json!(i);
                r
            })
            .collect(),
    )
}

/// The rule at `pos` (PVE's error for a position past the end).
fn at(rules: Vec<Value>, call: &Call) -> Result<Value, ApiError> {
    let pos = call.int("pos").unwrap_or(0);
    let n = rules.len();
    numbered(rules)
        .as_array()
        .and_then(|a| usize::try_from(pos).ok().and_then(|p| a.get(p)).cloned())
        .ok_or_else(|| ApiError::internal(format!("no rule at position {pos} (only {n} rules)")))
}

fn aliases(list: impl IntoIterator<Item = (String, String, String)>) -> Value {
    let list: Vec<(String, String, String)> = list.into_iter().collect();
    let d = digest(&list);
    Value::Array(
        list.into_iter()
            .map(|(name, cidr, comment)| {
                json!({
                    "name": name,
                    "cidr": cidr,
                    "comment": comment,
                    "ipversion": if cidr.contains(':') { 6 } else { 4 },
                    "digest": d,
                })
            })
            .collect(),
    )
}

fn alias(all: &Value, call: &Call) -> Result<Value, ApiError> {
    let name = call.req_str("name")?;
    all.as_array()
        .and_then(|a| a.iter().find(|e| e["name"] == name))
        .cloned()
        .ok_or_else(|| ApiError::internal(format!("no such alias '{name}'")))
}

/// An IP set: name, comment, entries (CIDR, comment, nomatch).
type Set = (String, String, Vec<(String, String, bool)>);

fn owned_set(s: (&str, &str, Vec<(&str, &str, bool)>)) -> Set {
    (
        s.0.to_string(),
        s.1.to_string(),
        s.2.into_iter()
            .map(|(c, m, n)| (c.to_string(), m.to_string(), n))
            .collect(),
    )
}

fn ipset_list(sets: impl Iterator<Item = Set>) -> Value {
    Value::Array(
        sets.map(|(name, comment, entries)| {
            let mut e = json!({"name": name, "digest": digest(&entries)});
            if !comment.is_empty() {
                e["comment"] = json!(comment);
            }
            e
        })
        .collect(),
    )
}

fn ipset(mut sets: impl Iterator<Item = Set>, call: &Call) -> Result<Value, ApiError> {
    let name = call.req_str("name")?;
    let (_, _, entries) = sets
        .find(|(n, _, _)| n == name)
        .ok_or_else(|| ApiError::internal(format!("no such IPSet '{name}'")))?;
    let d = digest(&entries);
    Ok(Value::Array(
        entries
            .into_iter()
            .map(|(cidr, comment, nomatch)| {
                let mut e = json!({"cidr": cidr, "digest": d});
                if !comment.is_empty() {
                    e["comment"] = json!(comment);
                }
                if nomatch {
                    e["nomatch"] = json!(1);
                }
                e
            })
            .collect(),
    ))
}
