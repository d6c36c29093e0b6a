//! A structure-aware mutator for targets whose input is JSON (PVE answers, JSON bodies): it
//! changes a value's *shape* the way PVE's JSON varies (a number sent as a string, a boolean as
//! `0`/`1`, a float where an int is expected, a member missing or null, a huge value), which
//! byte-level mutation almost never produces from valid JSON. Inputs that do not parse, and one
//! call in three, go to libFuzzer's own byte mutator.

use serde_json::{Map, Value, json};

use crate::Rng;

/// Member names PVE answers use, offered when a mutation adds a member.
pub const PVE_KEYS: &[&str] = &[
    "data",
    "total",
    "errors",
    "message",
    "id",
    "type",
    "node",
    "vmid",
    "name",
    "status",
    "template",
    "lock",
    "tags",
    "pool",
    "hastate",
    "cpu",
    "cpus",
    "maxcpu",
    "mem",
    "maxmem",
    "disk",
    "maxdisk",
    "uptime",
    "netin",
    "netout",
    "diskread",
    "diskwrite",
    "storage",
    "plugintype",
    "content",
    "shared",
    "level",
    "upid",
    "exitstatus",
    "starttime",
    "endtime",
    "pid",
    "pstart",
    "user",
    "n",
    "t",
    "exited",
    "exitcode",
    "signal",
    "out-data",
    "err-data",
    "out-truncated",
    "err-truncated",
    "result",
    "qmpstatus",
    "ha",
    "loadavg",
    "used",
    "free",
    "avail",
    "active",
    "enabled",
    "volid",
    "size",
    "format",
    "snaptime",
    "parent",
    "vmstate",
    "ip",
    "online",
    "local",
    "nodeid",
    "quorate",
    "version",
    "release",
    "repoid",
    "digest",
];

/// Scalars in the shapes PVE (and broken proxies) send.
fn odd_scalar(rng: &mut Rng) -> Value {
    match rng.below(24) {
        0 => json!(0),
        1 => json!(1),
        2 => json!(-1),
        3 => json!("1"),
        4 => json!("0"),
        5 => json!(""),
        6 => Value::Null,
        7 => json!(true),
        8 => json!(false),
        9 => json!("2048"),
        10 => json!(2048.5),
        11 => json!("1.5e3"),
        12 => json!(" 7 "),
        13 => json!(u64::MAX),
        14 => json!(i64::MIN),
        15 => json!(1e300),
        16 => json!("1e400"),
        17 => json!("nan"),
        18 => json!("-inf"),
        19 => json!("-0"),
        20 => json!("0x10"),
        21 => json!("UPID:pve1:0000ABCD:0001E240:65F0A1B2:qmstart:100:root@pam:"),
        22 => json!("yes"),
        _ => json!("18446744073709551616"),
    }
}

/// libFuzzer's custom mutator: mutates `data[..size]` and returns the new size.
pub fn mutate(data: &mut [u8], size: usize, max_size: usize, seed: u32) -> usize {
    let mut rng = Rng::new(seed);
    if rng.below(3) != 0
        && let Some(text) = data.get(..size)
        && let Ok(mut value) = serde_json::from_slice::<Value>(text)
    {
        for _ in 0..=rng.below(3) {
            mutate_value(&mut value, &mut rng);
        }
        if let Ok(out) = serde_json::to_vec(&value)
            && out.len() <= max_size
            && let Some(dst) = data.get_mut(..out.len())
        {
            dst.copy_from_slice(&out);
            return out.len();
        }
    }
    libfuzzer_sys::fuzzer_mutate(data, size, max_size)
}

/// One structural change somewhere in `root`.
pub fn mutate_value(root: &mut Value, rng: &mut Rng) {
    let count = count_nodes(root);
    let donor = {
        let mut k = rng.below(count);
        nth_mut(root, &mut k).map(|v| v.clone())
    };
    let mut k = rng.below(count);
    let Some(node) = nth_mut(root, &mut k) else {
        return;
    };
    match rng.below(6) {
        0 => reshape_scalar(node, rng),
        1 => *node = odd_scalar(rng),
        2 => {
            if let Some(d) = donor {
                *node = d;
            }
        }
        3 => match node {
            Value::Object(map) => mutate_object(map, rng),
            Value::Array(items) => mutate_array(items, rng),
            other => reshape_scalar(other, rng),
        },
        4 => match node {
            Value::String(s) if s.starts_with("UPID:") => mutate_upid(s, rng),
            other => reshape_scalar(other, rng),
        },
        _ => {
            if let Value::Object(map) = node {
                if let Some(key) = rng.pick(PVE_KEYS) {
                    map.insert((*key).to_string(), odd_scalar(rng));
                }
            } else {
                reshape_scalar(node, rng);
            }
        }
    }
}

/// The same value in another of PVE's shapes: `2048` ↔ `"2048"`, `1` ↔ `true`, int ↔ float.
fn reshape_scalar(v: &mut Value, rng: &mut Rng) {
    *v = match std::mem::take(v) {
        Value::Number(n) => match rng.below(5) {
            0 => Value::String(n.to_string()),
            1 => Value::String(format!(" {n} ")),
            2 => json!(n.as_f64().unwrap_or(0.0) + 0.5),
            3 => json!(n.as_f64().unwrap_or(0.0) * -1e10),
            _ => Value::Bool(n.as_f64().is_some_and(|f| f != 0.0)),
        },
        Value::String(s) => match (s.trim().parse::<i64>(), s.trim().parse::<f64>()) {
            (Ok(i), _) if rng.below(2) == 0 => json!(i),
            (_, Ok(f)) if f.is_finite() => json!(f),
            _ => match rng.below(4) {
                0 => Value::String(format!("{s}{s}")),
                1 => Value::String(s.chars().rev().collect()),
                2 => Value::String(s.to_uppercase()),
                _ => Value::Null,
            },
        },
        Value::Bool(b) => match rng.below(3) {
            0 => json!(u8::from(b)),
            1 => json!(if b { "1" } else { "0" }),
            _ => Value::Bool(!b),
        },
        Value::Null => odd_scalar(rng),
        Value::Array(mut items) => {
            mutate_array(&mut items, rng);
            Value::Array(items)
        }
        Value::Object(mut map) => {
            mutate_object(&mut map, rng);
            Value::Object(map)
        }
    };
}

fn mutate_object(map: &mut Map<String, Value>, rng: &mut Rng) {
    let keys: Vec<String> = map.keys().cloned().collect();
    match (rng.below(3), rng.pick(&keys)) {
        (0, Some(k)) => {
            map.remove(k);
        }
        (1, Some(k)) => {
            if let Some(v) = map.remove(k)
                && let Some(new) = rng.pick(PVE_KEYS)
            {
                map.insert((*new).to_string(), v);
            }
        }
        _ => {
            if let Some(k) = rng.pick(PVE_KEYS) {
                map.insert((*k).to_string(), odd_scalar(rng));
            }
        }
    }
}

fn mutate_array(items: &mut Vec<Value>, rng: &mut Rng) {
    let n = items.len();
    match rng.below(4) {
        0 if n > 0 => {
            items.remove(rng.below(n));
        }
        1 if n > 0 => {
            let copy = items[rng.below(n)].clone();
            items.insert(rng.below(n + 1), copy);
        }
        2 => items.clear(),
        _ => items.push(odd_scalar(rng)),
    }
}

/// A UPID with one of its fields changed (wrong hex width, empty, a colon too many).
fn mutate_upid(s: &mut String, rng: &mut Rng) {
    let mut parts: Vec<String> = s.split(':').map(str::to_owned).collect();
    let i = rng.below(parts.len());
    let replacement = match rng.below(6) {
        0 => String::new(),
        1 => "FFFFFFFFF".to_owned(),
        2 => "0000000g".to_owned(),
        3 => "a:b".to_owned(),
        4 => "-node-".to_owned(),
        _ => "root@pam!tok en".to_owned(),
    };
    if let Some(p) = parts.get_mut(i) {
        *p = replacement;
    }
    *s = parts.join(":");
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The `k`-th node of `v` in pre-order.
fn nth_mut<'a>(v: &'a mut Value, k: &mut usize) -> Option<&'a mut Value> {
    if *k == 0 {
        return Some(v);
    }
    *k -= 1;
    match v {
        Value::Array(items) => items.iter_mut().find_map(|x| nth_mut(x, k)),
        Value::Object(map) => map.values_mut().find_map(|x| nth_mut(x, k)),
        _ => None,
    }
}
