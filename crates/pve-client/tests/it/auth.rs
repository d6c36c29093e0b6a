//! Authentication against the simulator: API token, ticket login with CSRF on writes, ticket
//! renewal (the ticket posted as password), one re-login on a 401, and wrong credentials.

use std::time::Duration;

use pve_client::api::guest::{ActionOptions, PowerAction};
use pve_client::{Credentials, ErrorKind, Secret};
use pve_sim::{Fault, Role};

use crate::support::{Opts, env, env_with};

fn ticket_opts() -> Opts {
    Opts {
        password_auth: true,
        ..Opts::default()
    }
}

#[tokio::test]
async fn token_auth_identifies_the_token() {
    let env = env().await;
    let v = env.client.version().await.unwrap();
    assert!(!v.version.is_empty());
    let log = env.requests();
    assert_eq!(log.len(), 1, "no login round-trip with a token");
    assert_eq!(log[0].userid.as_deref(), Some("root@pam!test"));
    assert!(!env.client.uses_ticket());
    env.finish();
}

#[tokio::test]
async fn bad_token_is_an_auth_error() {
    let env = env().await;
    let bad = env.client_with(|c| {
        c.credentials = Credentials::Token {
            name: "test".into(),
            value: Secret::new("wrong"),
        };
    });
    let e = bad.version().await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Auth, Some(401)));
    assert!(e.to_string().starts_with("authentication failed: "), "{e}");
    assert!(e.to_string().ends_with("(GET /version)"), "{e}");
    assert_eq!(
        env.count("GET", "/version"),
        1,
        "a token 401 is not retried"
    );
    env.finish();
}

#[tokio::test]
async fn ticket_login_then_csrf_on_writes() {
    let env = env_with(ticket_opts()).await;
    assert!(env.client.uses_ticket());
    env.client.version().await.unwrap();
    // A write needs the CSRF token: start the stopped VM 103.
    let upid = env
        .client
        .qemu_action("pve01", 103, PowerAction::Start, &ActionOptions::default())
        .await
        .unwrap();
    assert_eq!(upid.user, "root@pam");
    let log = env.requests();
    let methods: Vec<(&str, &str)> = log
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        methods,
        [
            ("POST", "/access/ticket"),
            ("GET", "/version"),
            ("POST", "/nodes/pve01/qemu/103/status/start")
        ]
    );
    let names: Vec<&str> = log[0].params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["username", "password"]);
    assert_eq!(log[0].params[0].1, "root@pam");
    assert!(
        log[1..]
            .iter()
            .all(|r| r.status == 200 && r.userid.as_deref() == Some("root@pam"))
    );
    env.finish();
}

#[tokio::test]
async fn wrong_password_fails_at_login() {
    let env = env_with(ticket_opts()).await;
    let bad = env.client_with(|c| c.credentials = Credentials::Password(Secret::new("nope")));
    let e = bad.login().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(
        e.to_string(),
        "authentication failed: authentication failure (POST /access/ticket)"
    );
    let e = bad.version().await.unwrap_err();
    assert_eq!(e.path(), Some("/access/ticket"));
    assert_eq!(
        env.count("GET", "/version"),
        0,
        "no API call without a ticket"
    );
    env.finish();
}

#[tokio::test]
async fn ticket_is_renewed_with_the_ticket_as_password() {
    let env = env_with(ticket_opts()).await;
    // Renew before every call, so the second call renews.
    let client = env.client_with(|c| c.ticket_renew_after = Duration::ZERO);
    client.version().await.unwrap();
    // Change root's password on the cluster: a password login would now fail, so only a
    // renewal (posting the current ticket as password) can get a new ticket.
    env.sim.with_sim(|s| {
        s.auth
            .add_user("root@pam", "changed-elsewhere", Role::Admin)
    });
    client.version().await.unwrap();
    let trail: Vec<(String, u16)> = env
        .requests()
        .iter()
        .map(|r| (format!("{} {}", r.method, r.path), r.status))
        .collect();
    assert_eq!(
        trail,
        [
            ("POST /access/ticket".to_owned(), 200),
            ("GET /version".to_owned(), 200),
            ("POST /access/ticket".to_owned(), 200),
            ("GET /version".to_owned(), 200),
        ]
    );
    // Once the renewal is refused (ticket expired), the client falls back to the password,
    // which now fails: the error names the login call.
    env.sim.advance(7300.0);
    let e = client.version().await.unwrap_err();
    assert_eq!(
        (e.kind(), e.path()),
        (ErrorKind::Auth, Some("/access/ticket"))
    );
    env.finish();
}

#[tokio::test]
async fn expired_ticket_triggers_one_relogin() {
    let env = env_with(ticket_opts()).await;
    env.client.version().await.unwrap();
    // The sim's clock passes the 2-hour lifetime: the next call gets 401, logs in again, succeeds.
    env.sim.advance(7300.0);
    env.client.nodes().await.unwrap();
    let trail: Vec<(String, u16)> = env
        .requests()
        .iter()
        .map(|r| (format!("{} {}", r.method, r.path), r.status))
        .collect();
    assert_eq!(
        trail,
        [
            ("POST /access/ticket".to_owned(), 200),
            ("GET /version".to_owned(), 200),
            ("GET /nodes".to_owned(), 401),
            ("POST /access/ticket".to_owned(), 200),
            ("GET /nodes".to_owned(), 200),
        ]
    );
    env.finish();
}

#[tokio::test]
async fn relogin_happens_once_then_the_401_is_returned() {
    let env = env_with(ticket_opts()).await;
    env.client.version().await.unwrap();
    env.sim.inject(Fault::expire_ticket().times(5)).unwrap();
    let e = env.client.nodes().await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Auth, Some(401)));
    assert!(e.message().contains("invalid PVE ticket"), "{e}");
    assert_eq!(
        env.count("GET", "/nodes"),
        2,
        "one retry after one re-login"
    );
    assert_eq!(env.count("POST", "/access/ticket"), 2);
    // A POST rejected with 401 is also re-sent once (it never ran).
    env.sim.clear_faults();
    env.sim.inject(Fault::expire_ticket().times(1)).unwrap();
    env.client
        .qemu_action("pve01", 103, PowerAction::Start, &ActionOptions::default())
        .await
        .unwrap();
    assert_eq!(env.count("POST", "/status/start"), 2);
    env.finish();
}

#[tokio::test]
async fn concurrent_first_calls_share_one_login() {
    let env = env_with(ticket_opts()).await;
    let calls = (0..6).map(|_| env.client.version());
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(env.count("POST", "/access/ticket"), 1);
    assert_eq!(env.count("GET", "/version"), 6);
    env.finish();
}
