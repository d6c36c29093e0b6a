//! pve-client decoding PVE's answers: a 2xx body decoded, the way every typed call decodes it,
//! as each answer type the client reads (guest lists, guest and node status, task status, log
//! and list, exec status, storage, snapshots, cluster status, UPIDs); a non-2xx body read as an
//! error with its `errors` map. Properties: no panic; a decoded value encodes to JSON that
//! decodes to the same value (floats to within serde_json's parsing precision); every string
//! that parses as a UPID gives back its exact text; an error keeps PVE's `errors` map and names
//! each parameter.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use pve_client::api::agent::{AgentInfo, ExecStatus, NetworkInterface};
use pve_client::api::cluster::{ClusterResource, ClusterStatusEntry, Version};
use pve_client::api::guest::{GuestConfig, MigratePreflight};
use pve_client::api::lxc::{LxcStatus, LxcSummary};
use pve_client::api::nodes::{NodeStatus, NodeSummary};
use pve_client::api::qemu::{QemuStatus, QemuSummary};
use pve_client::api::snapshot::SnapshotEntry;
use pve_client::api::storage::{NodeStorage, StorageConfig, StorageContent, VolumeInfo};
use pve_client::api::tasks::{TaskLogLine, TaskStatus, TaskSummary};
use pve_client::fuzzing::decode_answer;
use pve_client::{Error, ErrorKind, Upid};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    proxmox_mcp_fuzz::json_mutator::mutate(data, size, max_size, seed)
});

fuzz_target!(|body: &[u8]| {
    round_trip::<Vec<ClusterResource>>(body);
    round_trip::<Vec<QemuSummary>>(body);
    round_trip::<Vec<LxcSummary>>(body);
    round_trip::<QemuStatus>(body);
    round_trip::<LxcStatus>(body);
    round_trip::<Vec<NodeSummary>>(body);
    round_trip::<NodeStatus>(body);
    round_trip::<Vec<ClusterStatusEntry>>(body);
    round_trip::<Version>(body);
    round_trip::<TaskStatus>(body);
    round_trip::<Vec<TaskSummary>>(body);
    round_trip::<Vec<TaskLogLine>>(body);
    round_trip::<ExecStatus>(body);
    round_trip::<Vec<NetworkInterface>>(body);
    round_trip::<AgentInfo>(body);
    round_trip::<GuestConfig>(body);
    round_trip::<MigratePreflight>(body);
    round_trip::<Vec<SnapshotEntry>>(body);
    round_trip::<Vec<NodeStorage>>(body);
    round_trip::<Vec<StorageContent>>(body);
    round_trip::<VolumeInfo>(body);
    round_trip::<Vec<StorageConfig>>(body);
    round_trip::<Upid>(body);
    derived_views(body);
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        every_string(&value, &mut check_upid);
    }
    for status in [400, 403, 500, 595] {
        check_error(status, body);
    }
});

/// Decodes `body` as `T` in PVE's envelope; a decoded value must survive encode and decode.
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(body: &[u8]) {
    let Ok((value, total)) = decode_answer::<T>(body) else {
        return;
    };
    let mut envelope = serde_json::json!({ "data": value });
    if let Some(total) = total {
        envelope["total"] = total.into();
    }
    let text = serde_json::to_vec(&envelope).expect("a decoded answer encodes");
    let (again, total_again) = match decode_answer::<T>(&text) {
        Ok(v) => v,
        Err(e) => panic!(
            "{}: re-encoded answer does not decode: {e}\n{}",
            std::any::type_name::<T>(),
            String::from_utf8_lossy(&text)
        ),
    };
    if value != again {
        // serde_json parses floats to within one unit in the last place (its default; exact
        // parsing is its `float_roundtrip` feature), so a float may come back that close.
        let (a, b) = (serde_json::to_value(&value), serde_json::to_value(&again));
        let (Ok(a), Ok(b)) = (a, b) else {
            panic!(
                "{}: a decoded answer does not encode",
                std::any::type_name::<T>()
            );
        };
        assert!(
            close(&a, &b),
            "{} changed on a round trip:\n{a}\n{b}",
            std::any::type_name::<T>()
        );
    }
    assert_eq!(total, total_again);
}

/// Equal, but for floats that differ by a few units in the last place.
fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x != y => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs()),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

/// What the client derives from decoded answers must not panic either.
fn derived_views(body: &[u8]) {
    if let Ok((list, _)) = decode_answer::<Vec<ClusterResource>>(body) {
        for r in &list {
            if let Some(loc) = r.location() {
                assert_eq!(Some(loc.vmid), r.vmid);
            }
        }
    }
    if let Ok((status, _)) = decode_answer::<TaskStatus>(body) {
        assert!(!(status.is_running() && status.is_ok()));
    }
    if let Ok((config, _)) = decode_answer::<GuestConfig>(body) {
        let _ = (
            config.digest(),
            config.numbered("net"),
            config.flag("template"),
        );
        let _ = config.get_int("memory");
    }
}

/// A string that parses as a UPID keeps its exact text, and parses the same way again.
fn check_upid(s: &str) {
    let Ok(upid) = s.parse::<Upid>() else {
        return;
    };
    assert_eq!(upid.as_str(), s);
    assert_eq!(upid.to_string(), s);
    let again: Upid = upid.as_str().parse().expect("a UPID's text parses again");
    assert_eq!(again, upid);
    let json = serde_json::to_string(&upid).expect("a UPID encodes");
    assert_eq!(
        serde_json::from_str::<Upid>(&json).expect("and decodes"),
        upid
    );
}

fn every_string(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|x| every_string(x, f)),
        Value::Object(map) => map.iter().for_each(|(k, x)| {
            f(k);
            every_string(x, f);
        }),
        _ => {}
    }
}

/// A non-2xx answer: the error keeps PVE's `errors` map (values trimmed) and its `Display`
/// names every parameter of a 400.
fn check_error(status: u16, body: &[u8]) {
    let e = Error::from_response(status, None, body);
    assert_eq!(e.status(), Some(status));
    let shown = e.to_string();
    assert!(!e.message().is_empty(), "an error always has a message");
    // What PVE sent under `errors`, read the way a body is read (other members skipped).
    #[derive(serde::Deserialize)]
    struct Sent {
        errors: Option<Value>,
    }
    let sent: BTreeMap<String, String> = match serde_json::from_slice::<Sent>(body) {
        Ok(Sent {
            errors: Some(Value::Object(map)),
        }) => map
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.trim().to_owned(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    for (param, why) in e.errors() {
        assert_eq!(sent.get(param), Some(why), "the errors map is PVE's");
    }
    if status == 400 {
        assert_eq!(e.kind(), ErrorKind::Params);
        for param in e.errors().keys() {
            assert!(
                shown.contains(param.as_str()),
                "{shown:?} does not name {param:?}"
            );
        }
    }
}
