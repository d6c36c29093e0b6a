//! Long commands and how they end early: a `sleep` runs in wall-clock time; under the hang-up
//! prologue the end of the channel's input hangs it up (`HUP`), as do closing the channel and
//! dropping the connection; a plain command outlives its input; a `signal` request ends it.

use russh::{ChannelMsg, Sig};

use crate::support::ssh::{collect, in_prologue, start_ssh};

/// Waits until the SSH log shows `line` started (its command is running).
async fn started(sim: &crate::support::ssh::SshSim, line: &str) {
    for _ in 0..200 {
        if sim.ssh.records().iter().any(|r| r.line == line) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{line:?} never started");
}

#[tokio::test]
async fn the_end_of_input_hangs_up_a_command_in_the_prologue() {
    let sim = start_ssh().await;
    let conn = sim.login("pve01").await;
    let line = in_prologue("pct exec 200 -- sleep infinity");
    let channel = conn.start(&line).await;
    started(&sim, &line).await;
    channel.eof().await.unwrap();
    let out = collect(channel).await;
    assert_eq!(
        (out.status, out.signal.as_deref()),
        (None, Some("HUP")),
        "{out:?}"
    );
    let rec = sim.ended(&line).await;
    assert_eq!(
        (rec.exit_status, rec.signal.as_deref()),
        (None, Some("HUP"))
    );
}

#[tokio::test]
async fn closing_the_channel_or_the_connection_hangs_up() {
    let sim = start_ssh().await;
    let conn = sim.login("pve02").await;
    let closed = in_prologue("pct exec 201 -- sh -c 'sleep 30; echo late'");
    let channel = conn.start(&closed).await;
    started(&sim, &closed).await;
    channel.close().await.unwrap();
    assert_eq!(sim.ended(&closed).await.signal.as_deref(), Some("HUP"));

    let dropped = in_prologue("pct exec 201 -- sleep 31");
    let _channel = conn.start(&dropped).await;
    started(&sim, &dropped).await;
    conn.handle
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await
        .unwrap();
    assert_eq!(sim.ended(&dropped).await.signal.as_deref(), Some("HUP"));
}

#[tokio::test]
async fn a_plain_command_outlives_its_input() {
    let sim = start_ssh().await;
    let conn = sim.login("pve01").await;
    // What `ssh node cmd </dev/null` does: the input ends at once; the command runs on.
    let line = "pct exec 200 -- sh -c 'sleep 0.3; echo done'";
    let channel = conn.start(line).await;
    channel.eof().await.unwrap();
    let out = collect(channel).await;
    assert_eq!(
        (out.status, out.signal, out.stdout.as_str()),
        (Some(0), None, "done\n")
    );
}

#[tokio::test]
async fn a_signal_request_ends_the_command() {
    let sim = start_ssh().await;
    let conn = sim.login("pve03").await;
    let line = in_prologue("pct exec 203 -- sleep 30");
    let mut channel = conn.start(&line).await;
    started(&sim, &line).await;
    channel.signal(Sig::TERM).await.unwrap();
    let mut signal = None;
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::ExitSignal { signal_name, .. } => signal = Some(signal_name),
            ChannelMsg::ExitStatus { .. } => panic!("exited by itself"),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    assert!(matches!(signal, Some(Sig::TERM)), "{signal:?}");
    assert_eq!(sim.ended(&line).await.signal.as_deref(), Some("TERM"));
}

#[tokio::test]
async fn a_short_sleep_ends_by_itself() {
    let sim = start_ssh().await;
    let conn = sim.login("pve01").await;
    let line = in_prologue("pct exec 200 -- sh -c 'sleep 0.2; echo awake; exit 4'");
    let started_at = std::time::Instant::now();
    let out = conn.run(&line).await;
    assert_eq!((out.status, out.stdout.as_str()), (Some(4), "awake\n"));
    // It did wait (a floor, not a speed check): the sleep is wall-clock time.
    assert!(started_at.elapsed() >= std::time::Duration::from_millis(200));
    assert_eq!(sim.ended(&line).await.exit_status, Some(4));
}
