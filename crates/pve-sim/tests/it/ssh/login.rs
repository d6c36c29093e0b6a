//! Logging in to the simulated nodes: only the authorized keys of the configured user; host keys
//! stable across restarts for a seed, different per node and per seed, and the key served is the
//! one announced; an offline node closes connections; the command-line flags.

use clap::Parser;
use pve_sim::cli::SimArgs;
use pve_sim::ssh::{DEFAULT_HOST_KEY_SEED, SshConfig};

use crate::support::ssh::{Conn, client_key, public_line, start_ssh, stranger_key};
use crate::support::start;

#[tokio::test]
async fn only_the_authorized_key_of_the_user_logs_in() {
    let sim = start_ssh().await;
    let addr = sim.addr("pve01");
    let mut conn = Conn::connect(addr, None).await.unwrap();
    assert!(
        !conn.login("root", &stranger_key()).await,
        "a stranger's key"
    );
    assert!(!conn.login("admin", &client_key()).await, "another user");
    let refused = conn
        .handle
        .authenticate_password("root", "demo")
        .await
        .unwrap();
    assert!(!refused.success(), "a password");
    assert!(conn.login("root", &client_key()).await);
    assert_eq!(conn.run("hostname").await.stdout, "pve01\n");
    // An unauthenticated connection gets no channel.
    let other = Conn::connect(addr, None).await.unwrap();
    assert!(other.handle.channel_open_session().await.is_err());
    assert_eq!(sim.ssh.records().len(), 1);
}

#[tokio::test]
async fn authorized_keys_come_as_text_with_options_and_comments() {
    let api = start().await;
    let text = format!(
        "# the operators\n\n{} alice\ncommand=\"true\",no-pty {} bob\n",
        public_line(&stranger_key()),
        public_line(&client_key())
    );
    let mut config = SshConfig::new("127.0.0.1:0".parse().unwrap(), [text]);
    config.user = "ops".into();
    let ssh = pve_sim::ssh::spawn(&api.server, config).await.unwrap();
    for key in [client_key(), stranger_key()] {
        let mut conn = Conn::connect(ssh.addr("pve02").unwrap(), None)
            .await
            .unwrap();
        assert!(conn.login("ops", &key).await);
        assert!(
            !Conn::connect(ssh.addr("pve02").unwrap(), None)
                .await
                .unwrap()
                .login("root", &key)
                .await
        );
    }
    for bad in ["", "# only a comment", "ssh-ed25519 !!!", "not a key"] {
        let config = SshConfig::new("127.0.0.1:0".parse().unwrap(), [bad]);
        let e = pve_sim::ssh::spawn(&api.server, config).await.unwrap_err();
        assert!(e.to_string().starts_with("SSH: "), "{bad:?}: {e}");
    }
}

#[tokio::test]
async fn host_keys_are_stable_per_seed_and_differ_per_node() {
    let first = start_ssh().await;
    let again = start_ssh().await;
    let fingerprints = |s: &crate::support::ssh::SshSim| -> Vec<String> {
        s.ssh
            .nodes()
            .iter()
            .map(|n| n.fingerprint.clone())
            .collect()
    };
    let fps = fingerprints(&first);
    assert_eq!(fps.len(), 3);
    assert_eq!(
        fps,
        fingerprints(&again),
        "a restart keeps the fingerprints"
    );
    assert!(fps[0] != fps[1] && fps[1] != fps[2] && fps[0] != fps[2]);
    for n in first.ssh.nodes() {
        assert!(n.fingerprint.starts_with("SHA256:"), "{n:?}");
        assert!(n.public_key.starts_with("ssh-ed25519 AAAA"), "{n:?}");
        // The key served is the key announced.
        let conn = Conn::connect(n.addr, None).await.unwrap();
        assert_eq!(conn.seen.as_deref(), Some(n.fingerprint.as_str()));
    }
    assert!(first.ssh.known_hosts().lines().count() == 3);
    assert!(first.ssh.banner().contains(&fps[2]));
    let mut config = SshConfig::new("127.0.0.1:0".parse().unwrap(), [public_line(&client_key())]);
    config.host_key_seed = "another lab".into();
    let other = pve_sim::ssh::spawn(&first.api.server, config)
        .await
        .unwrap();
    assert!(other.nodes().iter().all(|n| !fps.contains(&n.fingerprint)));
    // A client pinned to pve02's key refuses pve01.
    let wrong = Conn::connect(first.addr("pve01"), Some(fps[1].clone())).await;
    assert!(wrong.is_err(), "pinned to another node's key");
    assert!(first.ssh.records().is_empty());
}

#[tokio::test]
async fn an_offline_node_closes_connections() {
    let sim = start_ssh().await;
    let set = |online: bool| {
        sim.api.server.with_sim(|s| {
            s.cluster.nodes.get_mut("pve03").unwrap().online = online;
        });
    };
    set(false);
    assert!(Conn::connect(sim.addr("pve03"), None).await.is_err());
    set(true);
    let conn = sim.login("pve03").await;
    assert_eq!(conn.run("hostname").await.stdout, "pve03\n");
}

#[tokio::test]
async fn shutdown_hangs_up_and_stops_listening() {
    let sim = start_ssh().await;
    let conn = sim.login("pve01").await;
    let channel = conn.start("pct exec 200 -- sleep 30").await;
    let addr = sim.addr("pve01");
    let crate::support::ssh::SshSim { api, ssh } = sim;
    ssh.shutdown().await;
    let out = crate::support::ssh::collect(channel).await;
    assert_eq!(out.status, None, "{out:?}");
    assert!(Conn::connect(addr, None).await.is_err());
    drop(api);
}

#[test]
fn command_line_flags() {
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimArgs,
    }
    let parse = |args: &[&str]| {
        let mut argv = vec!["pve-sim"];
        argv.extend(args);
        Cli::try_parse_from(argv).unwrap().args.ssh_config()
    };
    assert!(parse(&[]).unwrap().is_none());
    let e = parse(&["--ssh-listen", "127.0.0.1:0"]).unwrap_err();
    assert!(e.to_string().contains("--ssh-authorized-keys"), "{e}");
    let key = public_line(&client_key());
    let e = parse(&["--ssh-authorized-keys", &key]).unwrap_err();
    assert!(e.to_string().contains("needs --ssh-listen"), "{e}");
    let c = parse(&[
        "--ssh-listen",
        "127.0.0.1:2200",
        "--ssh-authorized-keys",
        &key,
    ])
    .unwrap()
    .unwrap();
    assert_eq!(c.listen, "127.0.0.1:2200".parse().unwrap());
    assert_eq!(
        (c.user.as_str(), c.host_key_seed.as_str()),
        ("root", DEFAULT_HOST_KEY_SEED)
    );
    assert_eq!(c.authorized_keys, [key.as_str()]);
    let dir = std::env::temp_dir().join(format!("pve-sim-ssh-flags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("authorized_keys");
    std::fs::write(&file, format!("{key} from-a-file\n")).unwrap();
    let c = parse(&[
        "--ssh-listen",
        "127.0.0.1:0",
        "--ssh-authorized-keys",
        file.to_str().unwrap(),
        "--ssh-user",
        "ops",
        "--ssh-host-key-seed",
        "lab",
    ])
    .unwrap()
    .unwrap();
    assert_eq!(c.authorized_keys, [format!("{key} from-a-file\n")]);
    assert_eq!((c.user.as_str(), c.host_key_seed.as_str()), ("ops", "lab"));
    let missing = dir.join("nope");
    let e = parse(&[
        "--ssh-listen",
        "127.0.0.1:0",
        "--ssh-authorized-keys",
        missing.to_str().unwrap(),
    ])
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot read the authorized keys file"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
