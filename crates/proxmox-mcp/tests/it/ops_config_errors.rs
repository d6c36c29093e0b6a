//! Every configuration error message: each names the key or variable at fault (the JSON field
//! for an imported ProxmoxMCP file), and never holds a secret.

use proxmox_mcp::{Overrides, Settings};

use crate::support::process::{CLUSTER, env, temp_file};

#[test]
fn every_configuration_error_names_what_is_wrong() {
    let secret = "file-secret";
    // (flags, file name, file text, env, words the message must hold)
    type Case<'a> = (
        Overrides,
        &'a str,
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
    );
    let demo = || Overrides {
        demo: true,
        ..Overrides::default()
    };
    let none = Overrides::default;
    let cases: Vec<Case> = vec![
        // Unknown keys, in every section and at the top.
        (demo(), "c.toml", "colour = 1\n", &[], &["c.toml", "colour"]),
        (demo(), "c.toml", "[clutser]\n", &[], &["clutser"]),
        (
            none(),
            "c.toml",
            "[cluster]\nhots = \"x\"\n",
            &[],
            &["hots"],
        ),
        (
            demo(),
            "c.toml",
            "[server]\nmcp_lisen = \"x\"\n",
            &[],
            &["mcp_lisen"],
        ),
        (
            demo(),
            "c.toml",
            "[server]\nmetrics = true\n",
            &[],
            &["metrics"],
        ),
        (demo(), "c.toml", "[rest]\nport = 1\n", &[], &["port"]),
        (
            demo(),
            "c.toml",
            "[guard]\nprotect = [1]\n",
            &[],
            &["protect"],
        ),
        (
            demo(),
            "c.toml",
            "[guard.exec]\nallowed = []\n",
            &[],
            &["allowed"],
        ),
        (
            demo(),
            "c.toml",
            "[auth]\nheader = \"X\"\n",
            &[],
            &["header"],
        ),
        (
            demo(),
            "c.toml",
            "[tools]\nreadonly = true\n",
            &[],
            &["readonly"],
        ),
        (demo(), "c.toml", "[limits]\nrate = 1\n", &[], &["rate"]),
        (demo(), "c.toml", "[tls]\ncrt = \"c\"\n", &[], &["crt"]),
        (
            demo(),
            "c.toml",
            "[[keys]]\nname = \"a\"\nscope = \"read\"\nsha256 = \"00\"\nkey = \"x\"\n",
            &[],
            &["key"],
        ),
        // Values of the wrong type or out of range name their key.
        (
            demo(),
            "c.toml",
            "[server]\nmcp_listen = 8812\n",
            &[],
            &["mcp_listen"],
        ),
        (
            demo(),
            "c.toml",
            "[server]\nmetrics_auth = \"yes\"\n",
            &[],
            &["metrics_auth"],
        ),
        (
            demo(),
            "c.toml",
            "[server]\nlog_format = \"xml\"\n",
            &[],
            &["log_format", "xml"],
        ),
        (
            demo(),
            "c.toml",
            "[server]\nlog_level = \"loud\"\n",
            &[],
            &["log_level", "loud"],
        ),
        (
            none(),
            "c.toml",
            "[cluster]\nport = 70000\n",
            &[],
            &["port"],
        ),
        (
            demo(),
            "c.toml",
            "[limits]\nmax_sessions = 0\n",
            &[],
            &["max_sessions"],
        ),
        (
            demo(),
            "c.toml",
            "[limits]\nrate_limit_per_minute = 0\n",
            &[],
            &["rate_limit_per_minute"],
        ),
        (
            demo(),
            "c.toml",
            "[limits]\nsession_idle_timeout_secs = 0\n",
            &[],
            &["session_idle_timeout_secs"],
        ),
        (
            demo(),
            "c.toml",
            "[tls]\ncert = \"c.pem\"\n",
            &[],
            &["--tls-key"],
        ),
        (
            demo(),
            "c.toml",
            "[[keys]]\nname = \"a\"\nscope = \"root\"\nsha256 = \"00\"\n",
            &[],
            &["scope", "root"],
        ),
        (
            demo(),
            "c.toml",
            "[guard]\nprotected_vmids = [\"x\"]\n",
            &[],
            &["protected_vmids"],
        ),
        (
            demo(),
            "c.toml",
            "[guard.exec]\nmax_timeout_seconds = 0\n",
            &[],
            &["guard.exec.max_timeout_seconds"],
        ),
        (
            demo(),
            "c.toml",
            "[guard.exec]\ndefault_timeout_seconds = 0\n",
            &[],
            &["guard.exec.default_timeout_seconds"],
        ),
        (
            demo(),
            "c.toml",
            "[guard.exec]\nmax_output_bytes = 0\n",
            &[],
            &["guard.exec.max_output_bytes"],
        ),
        (
            demo(),
            "c.toml",
            "[auth]\napi_key_header = \"Authorization\"\n",
            &[],
            &["api_key_header"],
        ),
        (
            demo(),
            "c.toml",
            "[server]\nmetrics_auth = true\n",
            &[],
            &["metrics_auth", "[[keys]]"],
        ),
        (demo(), "c.toml", "not toml at all", &[], &["c.toml"]),
        // Addresses and variables.
        (
            Overrides {
                mcp_listen: Some("8812".into()),
                ..demo()
            },
            "",
            "",
            &[],
            &["\"8812\"", "ADDR:PORT"],
        ),
        (
            demo(),
            "",
            "",
            &[("PROXMOX_MCP_LISTEN", "localhost")],
            &["\"localhost\"", "ADDR:PORT"],
        ),
        (
            demo(),
            "",
            "",
            &[("PROXMOX_MCP_REST_LISTEN", "nowhere")],
            &["\"nowhere\""],
        ),
        (
            demo(),
            "",
            "",
            &[("PROXMOX_MCP_METRICS_AUTH", "maybe")],
            &["PROXMOX_MCP_METRICS_AUTH", "maybe"],
        ),
        (
            demo(),
            "",
            "",
            &[("PROXMOX_MCP_READ_ONLY", "maybe")],
            &["PROXMOX_MCP_READ_ONLY"],
        ),
        (
            demo(),
            "",
            "",
            &[("PROXMOX_MCP_RATE_LIMIT", "lots")],
            &["PROXMOX_MCP_RATE_LIMIT"],
        ),
        (
            demo(),
            "",
            "",
            &[("PROXMOX_MCP_MAX_SESSIONS", "-1")],
            &["PROXMOX_MCP_MAX_SESSIONS"],
        ),
        (
            demo(),
            "",
            "",
            &[
                ("PROXMOX_MCP_API_KEY", "a"),
                ("PROXMOX_MCP_API_KEY_FILE", "/k"),
            ],
            &["PROXMOX_MCP_API_KEY", "not both"],
        ),
        (
            demo(),
            "",
            "",
            &[("PROXMOX_MCP_API_KEY_FILE", "/nonexistent/k")],
            &["PROXMOX_MCP_API_KEY_FILE", "/nonexistent/k"],
        ),
        (
            Overrides {
                config: Some("/nonexistent/c.toml".into()),
                ..demo()
            },
            "",
            "",
            &[],
            &["/nonexistent/c.toml"],
        ),
        // The cluster: what is missing or malformed, by its name.
        (none(), "", "", &[], &["PROXMOX_HOST", "--demo"]),
        (
            none(),
            "c.toml",
            "[cluster]\nhost = \"h\"\n",
            &[],
            &["PROXMOX_USER", "[cluster]"],
        ),
        (
            none(),
            "c.toml",
            "[cluster]\nhost = \"h\"\nuser = \"root\"\npassword = \"p\"\n",
            &[],
            &["USER@REALM"],
        ),
        (
            none(),
            "c.toml",
            "[cluster]\nhost = \"h\"\nuser = \"root@pam\"\ntoken_name = \"t\"\n",
            &[],
            &["PROXMOX_TOKEN_VALUE"],
        ),
        (
            none(),
            "c.toml",
            CLUSTER,
            &[("PROXMOX_VERIFY_SSL", "perhaps")],
            &["PROXMOX_VERIFY_SSL"],
        ),
        (
            none(),
            "c.toml",
            CLUSTER,
            &[("PROXMOX_FINGERPRINT", "zz")],
            &["ingerprint"],
        ),
        (
            none(),
            "c.toml",
            CLUSTER,
            &[("PROXMOX_TIMEOUT", "soon")],
            &["PROXMOX_TIMEOUT"],
        ),
        (
            none(),
            "c.toml",
            CLUSTER,
            &[("PROXMOX_PORT", "http")],
            &["PROXMOX_PORT"],
        ),
        // ProxmoxMCP JSON files: bad values name the JSON field.
        (
            none(),
            "c.json",
            "{\"proxmox\": {\"port\": \"abc\"}}",
            &[],
            &["proxmox.port"],
        ),
        (
            none(),
            "c.json",
            "{\"proxmox\": {\"verify_ssl\": \"maybe\"}}",
            &[],
            &["proxmox.verify_ssl"],
        ),
        (
            none(),
            "c.json",
            "{\"proxmox\": {\"host\": 5}}",
            &[],
            &["proxmox.host"],
        ),
        (
            none(),
            "c.json",
            "{\"proxmox\": {\"service\": \"PBS\"}}",
            &[],
            &["proxmox.service", "PBS"],
        ),
        (
            none(),
            "c.json",
            "{\"auth\": {\"user\": \"\"}}",
            &[],
            &["auth.user"],
        ),
        (none(), "c.json", "{\"auth\": [1]}", &[], &["auth"]),
        (
            none(),
            "c.json",
            "{\"logging\": {\"level\": \"LOUD\"}}",
            &[],
            &["logging.level"],
        ),
        (none(), "c.json", "[1, 2]", &[], &["c.json", "JSON object"]),
        (
            none(),
            "c.json",
            "{\"proxmox\": ",
            &[],
            &["c.json", "not valid JSON"],
        ),
    ];
    for (flags, name, text, vars, words) in cases {
        let file = (!name.is_empty()).then(|| temp_file(name, text));
        let flags = Overrides {
            config: file
                .as_ref()
                .map(|f| f.path.clone())
                .or(flags.config.clone()),
            ..flags
        };
        let err = match Settings::resolve(&flags, &env(vars)) {
            Ok(_) => panic!("{text:?} {vars:?}: accepted"),
            Err(e) => e.to_string(),
        };
        for w in words {
            assert!(
                err.contains(w),
                "{text:?} {vars:?}: {w:?} missing from: {err}"
            );
        }
        assert!(!err.contains(secret), "{err}");
    }
}
