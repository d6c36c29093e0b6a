//! MCP over stdio: the built binary (`proxmox-mcp stdio --demo`) driven by rmcp's child-process
//! client. stdout carries only the protocol; the demo banner and logs go to stderr.

use std::process::Stdio;

use proxmox_mcp::ToolFilter;
use rmcp::ServiceExt;
use rmcp::transport::TokioChildProcess;
use tokio::io::AsyncReadExt;

use crate::support::scenarios::real_tools_scenario;

#[tokio::test]
async fn stdio_demo_binary_serves_the_registry() {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_proxmox-mcp"));
    cmd.args(["stdio", "--demo"]).env("RUST_LOG", "info");
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = ().serve(transport).await.unwrap();

    let info = client.peer_info().unwrap();
    let server = info.server_info.as_ref().unwrap();
    assert_eq!(server.name, "proxmox-mcp");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));

    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    // The binary serves the default toolsets only.
    let want: Vec<String> = ToolFilter::default()
        .apply(&proxmox_mcp::builtin_tools().unwrap())
        .unwrap()
        .tools()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(names, want);
    real_tools_scenario(&client).await;

    client.cancel().await.unwrap();
    // The banner went to stderr (stdout is the protocol; any stray line there would have
    // broken the session above).
    let mut err = String::new();
    stderr.unwrap().read_to_string(&mut err).await.unwrap();
    assert!(err.contains("DEMO MODE"), "stderr: {err}");
}
