//! The MCP doors reading a POST body: the checks both doors run before any handler (one JSON-RPC
//! message, no batch, `jsonrpc: "2.0"`, a method or an answer), then the legacy SSE door's
//! reading of the body as a message. Properties: no panic; a refusal is HTTP 400 with a JSON-RPC
//! error (`-32700` for a body that is not JSON, `-32600` otherwise) and a null id; the check and
//! the door agree: a body the check lets through reads as a message, and a refused one does not.

#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use proxmox_mcp::fuzzing::mcp_post;
use serde_json::Value;

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    proxmox_mcp_fuzz::json_mutator::mutate(data, size, max_size, seed)
});

fuzz_target!(|body: &[u8]| {
    let post = mcp_post(body);
    match &post.refusal {
        Some((status, answer)) => {
            assert_eq!(*status, 400, "a refusal is a 400: {answer}");
            assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
            assert_eq!(answer["id"], Value::Null, "{answer}");
            let code = answer["error"]["code"].as_i64();
            let not_json = serde_json::from_slice::<Value>(body).is_err();
            let expected = if not_json { -32700 } else { -32600 };
            assert_eq!(code, Some(expected), "{answer}");
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{answer}"
            );
            assert!(
                post.parsed.is_err(),
                "refused by the check but read as a message by the door: {answer}"
            );
        }
        None => assert!(
            post.parsed.is_ok(),
            "let through by the check but not read by the door: {:?}",
            post.parsed
        ),
    }
});
