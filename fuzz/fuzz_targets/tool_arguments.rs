//! Tool arguments through the registry, as every door calls a tool: each built-in tool called
//! with fuzzed arguments (numbers and booleans as strings, unknown fields, huge and nested
//! values, `cluster`, `confirm`, `dry_run` and `wait_seconds` of every type) by `Registry::call`,
//! over a client whose cluster (127.0.0.1, port 9, nothing listening) refuses every connection.
//! Literal inputs are a JSON value given to every tool; generated ones pick a tool and build its
//! arguments. Properties: no panic inside a tool (the registry turns one into an error that says
//! so: that error is a finding); every call ends, with a result or an error whose message is
//! not empty.

#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use proxmox_mcp::{App, Caller, NoProgress, builtin_tools};
use proxmox_mcp_fuzz::{Input, input};
use pve_client::config::Credentials;
use pve_client::{ClientConfig, PveClient, Secret};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    proxmox_mcp_fuzz::json_mutator::mutate(data, size, max_size, seed)
});

struct World {
    runtime: tokio::runtime::Runtime,
    app: App,
    names: Vec<&'static str>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let mut cfg = ClientConfig::new(
            "127.0.0.1",
            "fuzz@pve",
            Credentials::Token {
                name: "fuzz".to_string(),
                value: Secret::new("00000000-0000-0000-0000-000000000000".to_string()),
            },
        )
        .with_port(9);
        cfg.request_timeout = Duration::from_millis(200);
        cfg.max_retries = 0;
        let client = runtime
            .block_on(async { PveClient::new(cfg) })
            .expect("a client");
        let registry = builtin_tools().expect("the built-in tools");
        let names = registry.tools().map(|t| t.name).collect();
        let app = App::new(registry, client);
        World {
            runtime,
            app,
            names,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let world = world();
    match input(data) {
        Input::Literal(bytes) => {
            let Ok(args) = serde_json::from_slice::<Value>(bytes) else {
                return;
            };
            for name in &world.names {
                call(world, name, args.clone());
            }
        }
        Input::Generated(mut u) => {
            if let Ok((name, args)) = generated(&mut u, &world.names) {
                call(world, name, args);
            }
        }
    }
});

/// The parameter names the tools share, and a few every tool refuses.
const KEYS: &[&str] = &[
    "node",
    "vmid",
    "cluster",
    "confirm",
    "dry_run",
    "wait_seconds",
    "name",
    "command",
    "force",
    "timeout",
    "memory",
    "cores",
    "storage",
    "snapname",
    "target",
    "upid",
    "limit",
    "status",
    "type",
    "newid",
    "full",
    "tags",
    "ssh_keys",
    "password",
    "unknown",
    "",
    "vmid ",
];

fn generated<'a>(
    u: &mut Unstructured<'_>,
    names: &'a [&'static str],
) -> arbitrary::Result<(&'a str, Value)> {
    let name = *u.choose(names)?;
    let mut args = Map::new();
    for _ in 0..u.int_in_range(0..=6)? {
        let key = if u.ratio(1, 8)? {
            String::arbitrary(u)?
        } else {
            (*u.choose(KEYS)?).to_string()
        };
        args.insert(key, value(u, 0)?);
    }
    Ok((name, Value::Object(args)))
}

fn value(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<Value> {
    Ok(match u.int_in_range(0..=11)? {
        0 => Value::Null,
        1 => Value::Bool(bool::arbitrary(u)?),
        2 => json!(i64::arbitrary(u)?),
        3 => json!(u64::arbitrary(u)?),
        4 => json!(f64::arbitrary(u)?),
        5 => json!(u.choose(&[
            "100",
            "0",
            "-1",
            "1e3",
            "4294967296",
            "true",
            "1",
            "yes",
            ""
        ])?),
        6 => json!(u.choose(&["pve1", "pve2", "pve", "local", "local-lvm", "../x", "a b"])?),
        7 => json!(String::arbitrary(u)?),
        8 => json!("x".repeat(u.int_in_range(0..=70_000)?)),
        9 if depth < 4 => {
            let n = u.int_in_range(0..=3)?;
            Value::Array(
                (0..n)
                    .map(|_| value(u, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        10 if depth < 4 => {
            let mut m = Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                m.insert((*u.choose(KEYS)?).to_string(), value(u, depth + 1)?);
            }
            Value::Object(m)
        }
        _ => json!(u32::arbitrary(u)?),
    })
}

fn call(world: &World, name: &str, args: Value) {
    let ctx = world.app.ctx(
        Caller::new("fuzz"),
        Arc::new(NoProgress),
        CancellationToken::new(),
    );
    let outcome = world.runtime.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(5),
            world.app.registry().call(name, Some(args), ctx),
        )
        .await
    });
    let Ok(result) = outcome else {
        panic!("{name}: the call did not end within 5 s");
    };
    if let Err(e) = result {
        let text = e.to_string();
        assert!(!text.is_empty(), "{name}: an empty error");
        assert!(!text.contains("the tool panicked"), "{name}: {text}");
    }
}
