//! Waiting for tasks: success with progress reports, failure with the exit status and the log
//! tail, a wait that times out or is cancelled and still carries the UPID, and stopping a task
//! (`stop_task_and_wait`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use pve_client::api::guest::{ActionOptions, PowerAction};
use pve_client::task::{TaskOutcome, WaitOptions};
use pve_client::{ErrorKind, Upid};
use tokio_util::sync::CancellationToken;

use crate::support::{Env, env, env_with, realtime};

/// Starts `action` on VM `vmid` of pve01; its task id.
async fn started(env: &Env, vmid: u32, action: PowerAction) -> Upid {
    env.client
        .qemu_action("pve01", vmid, action, &ActionOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn wait_succeeds_and_reports_progress() {
    let env = env().await;
    let upid = started(&env, 103, PowerAction::Start).await;
    assert_eq!(upid.user, "root@pam!test");
    let polls = Arc::new(AtomicU32::new(0));
    let seen = polls.clone();
    let opts = WaitOptions::default().on_progress(move |p| {
        assert_eq!(p.upid.task_type, "qmstart");
        seen.store(p.polls, Ordering::SeqCst);
    });
    let outcome = env.client.wait_task(&upid, &opts).await.unwrap();
    assert!(outcome.is_success(), "{outcome:?}");
    let status = outcome.into_result().unwrap();
    assert_eq!(
        (status.status.as_str(), status.exitstatus.as_deref()),
        ("stopped", Some("OK"))
    );
    assert!(polls.load(Ordering::SeqCst) >= 1);
    env.finish();
}

#[tokio::test]
async fn failed_task_brings_exit_status_and_log_tail() {
    let env = env().await;
    // Starting a template fails inside the task, not at the POST.
    let upid = started(&env, 9000, PowerAction::Start).await;
    let outcome = env
        .client
        .wait_task(&upid, &WaitOptions::default())
        .await
        .unwrap();
    let TaskOutcome::Failed {
        exitstatus,
        log_tail,
        ..
    } = &outcome
    else {
        panic!("expected a failure: {outcome:?}");
    };
    assert_eq!(exitstatus, "you can't start a vm if it's a template");
    assert_eq!(
        log_tail.last().map(String::as_str),
        Some("TASK ERROR: you can't start a vm if it's a template")
    );
    let e = outcome.into_result().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TaskFailed);
    assert_eq!(
        e.to_string(),
        "task qmstart 9000 on pve01 failed: you can't start a vm if it's a template"
    );
    env.finish();
}

#[tokio::test]
async fn wait_times_out_with_the_upid_then_resumes() {
    let env = env_with(realtime()).await;
    let upid = started(&env, 103, PowerAction::Start).await;
    let short = WaitOptions {
        timeout: Duration::from_millis(300),
        ..WaitOptions::default()
    };
    let outcome = env.client.wait_task(&upid, &short).await.unwrap();
    let TaskOutcome::TimedOut {
        upid: kept, last, ..
    } = &outcome
    else {
        panic!("expected a timeout: {outcome:?}");
    };
    assert_eq!(kept, &upid);
    assert!(last.as_ref().is_some_and(|s| s.is_running()), "{last:?}");
    let e = outcome.clone().into_result().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(e.to_string().contains(upid.as_str()), "{e}");
    // Time passes on the cluster; polling the same UPID again finds it done.
    env.sim.advance(120.0);
    let outcome = env
        .client
        .wait_task(&upid, &WaitOptions::default())
        .await
        .unwrap();
    assert!(outcome.is_success(), "{outcome:?}");
    env.finish();
}

#[tokio::test]
async fn stopping_a_task() {
    let env = env_with(realtime()).await;
    let upid = started(&env, 100, PowerAction::Reboot).await;
    assert!(env.client.task_status(&upid).await.unwrap().is_running());
    env.client.task_stop(&upid).await.unwrap();
    let outcome = env
        .client
        .wait_task(&upid, &WaitOptions::default())
        .await
        .unwrap();
    let TaskOutcome::Failed { exitstatus, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(exitstatus, "interrupted by signal");
    env.finish();
}

#[tokio::test]
async fn a_cancelled_wait_keeps_the_upid() {
    let env = env_with(realtime()).await;
    let upid = started(&env, 103, PowerAction::Start).await;
    let token = CancellationToken::new();
    let trigger = token.clone();
    let opts = WaitOptions::with_timeout(Duration::from_secs(600))
        .cancel_on(token)
        .on_progress(move |p| {
            if p.polls == 2 {
                trigger.cancel();
            }
        });
    let outcome = env.client.wait_task(&upid, &opts).await.unwrap();
    let TaskOutcome::TimedOut {
        upid: kept,
        cancelled,
        ..
    } = &outcome
    else {
        panic!("expected an unfinished wait: {outcome:?}");
    };
    assert_eq!((kept, *cancelled), (&upid, true));
    assert!(outcome.is_running());
    assert_eq!(
        outcome.last_status().map(|s| s.status.as_str()),
        Some("running")
    );
    assert_eq!(outcome.exitstatus(), None);
    assert_eq!(
        env.count("GET", "/status"),
        2,
        "no poll after the cancellation"
    );
    let e = outcome.into_result().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(e.to_string().contains("wait cancelled"), "{e}");
    env.finish();
}

#[tokio::test]
async fn stop_task_and_wait_stops_once() {
    let env = env_with(realtime()).await;
    let upid = started(&env, 100, PowerAction::Reboot).await;
    let opts = WaitOptions {
        log_tail: 0,
        ..WaitOptions::with_timeout(Duration::from_secs(5))
    };
    let stop = env.client.stop_task_and_wait(&upid, &opts).await.unwrap();
    assert!(stop.requested, "{stop:?}");
    assert_eq!(stop.outcome.exitstatus(), Some("interrupted by signal"));
    assert_eq!(
        stop.outcome.last_status().map(|s| s.status.as_str()),
        Some("stopped")
    );
    let deletes = || {
        env.requests()
            .iter()
            .filter(|r| r.method == "DELETE" && r.path.starts_with("/nodes/pve01/tasks/"))
            .count()
    };
    assert_eq!(deletes(), 1);
    // Again: the task has ended, nothing is sent, the same exit status comes back.
    let again = env.client.stop_task_and_wait(&upid, &opts).await.unwrap();
    assert!(!again.requested, "{again:?}");
    assert_eq!(again.outcome.exitstatus(), Some("interrupted by signal"));
    assert_eq!(deletes(), 1);
    // Log lines were not asked for.
    assert_eq!(env.count("GET", "/log"), 0);
    env.finish();
}

#[tokio::test]
async fn stop_task_and_wait_sends_nothing_once_cancelled() {
    let env = env_with(realtime()).await;
    let upid = started(&env, 100, PowerAction::Reboot).await;
    let token = CancellationToken::new();
    token.cancel();
    let e = env
        .client
        .stop_task_and_wait(&upid, &WaitOptions::default().cancel_on(token))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    assert!(!env.requests().iter().any(|r| r.method == "DELETE"));
    assert!(env.client.task_status(&upid).await.unwrap().is_running());
    env.finish();
}
