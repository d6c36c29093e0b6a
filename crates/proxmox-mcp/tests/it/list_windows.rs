//! Paging of the list tools beside the guest lists: `list_tasks`, `list_snapshots`,
//! `list_backups` and `list_storage_content` take `limit` and `offset` and answer `total`, plus
//! `next_offset` and a hint in the text when rows were left out; walked page by page over REST
//! and called over MCP (Streamable HTTP) on the demo cluster, each page the matching slice of
//! the whole list.

use proxmox_mcp::{McpHttpConfig, RestConfig};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::demo::{Demo, add_snapshot, assert_conforms, long_task_of, serve_doors};
use crate::support::session::{Mcp, text};

/// The list tools paged here: arguments that list something on the demo cluster, the key of
/// the rows in the answer, and the member naming a row.
const LISTS: &[(&str, &str, &str, &str)] = &[
    ("list_tasks", "{}", "tasks", "upid"),
    ("list_snapshots", r#"{"vmid": 101}"#, "snapshots", "name"),
    ("list_backups", "{}", "backups", "volid"),
    (
        "list_storage_content",
        r#"{"storage": "local"}"#,
        "volumes",
        "volid",
    ),
];

async fn rest_post(http: &reqwest::Client, rest: &str, tool: &str, args: &Value) -> (u16, Value) {
    let resp = http
        .post(format!("{rest}/{tool}"))
        .json(args)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// The names of `rows` (their `key` member).
fn names(rows: &Value, key: &str) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap().to_string())
        .collect()
}

/// `args` with `more` merged in.
fn with(args: &Value, more: Value) -> Value {
    let mut a = args.clone();
    for (k, v) in more.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

#[tokio::test]
async fn the_other_list_tools_page_over_rest_and_mcp() {
    let demo = Demo::start().await;
    for i in 0..5 {
        add_snapshot(&demo, 101, &format!("paged-{i}"));
    }
    // Enough tasks to page (list_tasks merges the lists of every online node).
    for vmid in [100, 101, 102, 103] {
        long_task_of(&demo, vmid);
    }
    let shutdown = CancellationToken::new();
    let (mcp_base, rest) = serve_doors(
        &demo.app,
        McpHttpConfig::default(),
        RestConfig::default(),
        &shutdown,
    )
    .await;
    let mcp = Mcp::open(&mcp_base).await;
    let http = reqwest::Client::new();

    for (tool, args, rows_key, key) in LISTS {
        let args: Value = serde_json::from_str(args).unwrap();
        // The whole list in one call.
        let (status, whole) =
            rest_post(&http, &rest, tool, &with(&args, json!({"limit": 500}))).await;
        assert_eq!(status, 200, "{tool}: {whole}");
        let want = names(&whole[rows_key], key);
        assert!(want.len() >= 4, "{tool} lists too little to page: {whole}");
        assert_eq!(whole["total"], want.len(), "{tool}");
        assert_eq!(whole["count"], want.len(), "{tool}");
        assert!(whole.get("next_offset").is_none() && whole.get("hint").is_none());

        // Page by page through REST, two rows at a time, following next_offset.
        let mut got = Vec::new();
        let mut offset = 0;
        loop {
            let (status, page) = rest_post(
                &http,
                &rest,
                tool,
                &with(&args, json!({"limit": 2, "offset": offset})),
            )
            .await;
            assert_eq!(status, 200, "{tool}: {page}");
            assert_conforms(&demo.app, tool, &page);
            assert_eq!(page["total"], want.len(), "{tool}");
            let rows = names(&page[rows_key], key);
            assert_eq!(page["count"], rows.len());
            got.extend(rows);
            match page["next_offset"].as_u64() {
                Some(next) => {
                    assert_eq!(next, offset + 2, "{tool}");
                    assert!(
                        page["hint"]
                            .as_str()
                            .unwrap()
                            .contains(&format!("offset {next}"))
                    );
                    offset = next;
                }
                None => break,
            }
        }
        assert_eq!(got, want, "{tool}: the pages make the whole list, in order");

        // Over MCP: one row from the second, the hint in the text content.
        let r = mcp
            .call(tool, with(&args, json!({"limit": 1, "offset": 1})))
            .await;
        assert_ne!(r["isError"], true, "{tool}: {r}");
        let out = &r["structuredContent"];
        assert_conforms(&demo.app, tool, out);
        assert_eq!(names(&out[rows_key], key), want[1..2], "{tool}");
        assert_eq!((&out["count"], &out["next_offset"]), (&json!(1), &json!(2)));
        let hint = out["hint"].as_str().unwrap();
        assert!(
            hint.contains(&format!("1 of {}", want.len())) && text(&r).contains(hint),
            "{tool}: {hint}"
        );

        // Past the end: no rows, the total, no next page.
        let (_, past) =
            rest_post(&http, &rest, tool, &with(&args, json!({"offset": 10_000}))).await;
        assert_eq!(
            (&past["count"], &past["total"]),
            (&json!(0), &json!(want.len()))
        );
        assert!(past.get("next_offset").is_none());

        // A bad window is refused, naming the parameter, at both doors.
        for bad in [
            json!({"limit": 0}),
            json!({"limit": 5000}),
            json!({"offset": "x"}),
        ] {
            let (status, e) = rest_post(&http, &rest, tool, &with(&args, bad.clone())).await;
            assert_eq!(status, 422, "{tool} {bad}: {e}");
            let param = bad.as_object().unwrap().keys().next().unwrap().clone();
            assert_eq!(e["detail"]["param"], json!(param), "{tool} {bad}: {e}");
            let r = mcp.call(tool, with(&args, bad.clone())).await;
            assert_eq!(r["isError"], true, "{tool} {bad}: {r}");
            assert!(text(&r).contains(&param), "{tool} {bad}: {r}");
        }
    }
    shutdown.cancel();
}
