//! Authentication over HTTP: ticket login, CSRF, expiry and renewal, API tokens, 401 wording,
//! 403 for limited identities.

use pve_sim::Role;
use serde_json::json;

use crate::support::{Auth, start};

#[tokio::test]
async fn ticket_login_csrf_expiry_and_renewal() {
    let sim = start().await;
    let (ticket, csrf) = sim.login().await;
    assert!(ticket.starts_with("PVE:root@pam:"), "{ticket}");
    assert!(ticket.contains("::"));

    // A read with the ticket cookie needs no CSRF token.
    let no_csrf = Auth::Ticket {
        ticket: ticket.clone(),
        csrf: None,
    };
    let r = sim.call("GET", "/version", &no_csrf, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["release"], "9.1");

    // A write without the CSRF header is refused with PVE's wording.
    let r = sim
        .call(
            "DELETE",
            "/nodes/pve01/tasks/UPID:pve01:00000001:00000001:00000001:x::root@pam:",
            &no_csrf,
            &[],
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.message(), "Permission denied - invalid csrf token\n");
    let wrong_csrf = Auth::Ticket {
        ticket: ticket.clone(),
        csrf: Some("00000000:bogus".into()),
    };
    let r = sim
        .call(
            "POST",
            "/nodes/pve01/qemu/100/status/start",
            &wrong_csrf,
            &[],
        )
        .await;
    assert_eq!(r.status, 401);

    // With the CSRF header a write goes through auth (here: to the handler's own answer).
    let full = Auth::Ticket {
        ticket: ticket.clone(),
        csrf: Some(csrf.clone()),
    };
    let r = sim
        .call(
            "DELETE",
            "/nodes/pve01/tasks/UPID:pve01:00000001:00000001:00000001:x::root@pam:",
            &full,
            &[],
        )
        .await;
    assert_ne!(r.status, 401, "{:?}", r.body);

    // Renewal: post the current ticket as password.
    sim.server.advance(3600.0);
    let r = sim
        .call(
            "POST",
            "/access/ticket",
            &Auth::None,
            &[("username", "root@pam"), ("password", &ticket)],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let renewed = r.data()["ticket"].as_str().unwrap().to_string();
    assert_ne!(renewed, ticket);

    // Two hours after issue the old ticket is dead, the renewed one still works.
    sim.server.advance(3601.0);
    let r = sim.call("GET", "/version", &no_csrf, &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.message(), "permission denied - invalid PVE ticket\n");
    let r = sim
        .call(
            "GET",
            "/version",
            &Auth::Ticket {
                ticket: renewed.clone(),
                csrf: None,
            },
            &[],
        )
        .await;
    assert_eq!(r.status, 200);

    // An expired ticket cannot be renewed.
    let r = sim
        .call(
            "POST",
            "/access/ticket",
            &Auth::None,
            &[("username", "root@pam"), ("password", &ticket)],
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.message(), "authentication failure\n");
}

#[tokio::test]
async fn login_variants_and_401_wording() {
    let sim = start().await;
    // realm passed separately
    let r = sim
        .call(
            "POST",
            "/access/ticket",
            &Auth::None,
            &[("username", "root"), ("realm", "pam"), ("password", "demo")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["username"], "root@pam");
    assert_eq!(r.data()["clustername"], "demo-cluster");
    // JSON body works too
    let r = sim
        .post_json(
            "/access/ticket",
            &Auth::None,
            &json!({"username": "root@pam", "password": "demo"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Auth, u16, &'a str);
    let cases: &[Case] = &[
        (
            "/access/ticket",
            &[("username", "root@pam"), ("password", "wrong")],
            Auth::None,
            401,
            "authentication failure",
        ),
        (
            "/access/ticket",
            &[("username", "nobody@pve"), ("password", "demo")],
            Auth::None,
            401,
            "authentication failure",
        ),
    ];
    for (path, params, auth, status, msg) in cases {
        let r = sim.call("POST", path, auth, params).await;
        assert_eq!(
            (r.status, r.message().trim_end()),
            (*status, *msg),
            "{path} {params:?}"
        );
    }
    let gets: &[(Auth, u16, &str)] = &[
        (Auth::None, 401, "No ticket"),
        (
            Auth::Token("root@pam!test=wrong".into()),
            401,
            "invalid token value!",
        ),
        (
            Auth::Token("root@pam!nope=x".into()),
            401,
            "no such token 'nope' for user 'root@pam'",
        ),
        (
            Auth::Ticket {
                ticket: "PVE:root@pam:00000000::Zm9v".into(),
                csrf: None,
            },
            401,
            "permission denied - invalid PVE ticket",
        ),
    ];
    for (auth, status, msg) in gets {
        let r = sim.call("GET", "/version", auth, &[]).await;
        assert_eq!(
            (r.status, r.message().trim_end()),
            (*status, *msg),
            "{auth:?}"
        );
    }
    // POST /access/ticket needs no authentication: a token header is ignored and the ticket
    // is for the user named, not the token.
    let r = sim
        .call(
            "POST",
            "/access/ticket",
            &Auth::token(),
            &[("username", "root@pam"), ("password", "demo")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["username"], "root@pam");
}

#[tokio::test]
async fn limited_identities_get_403() {
    let sim = start().await;
    sim.server.with_sim(|s| {
        s.auth.add_token("audit@pve!ro", "ro-secret", Role::Auditor);
        s.auth
            .add_token("ops@pve!vm100", "vm-secret", Role::Vms(vec![100]));
        s.auth.add_token("none@pve!x", "x", Role::None);
    });
    let auditor = Auth::Token("audit@pve!ro=ro-secret".into());
    let limited = Auth::Token("ops@pve!vm100=vm-secret".into());
    let nothing = Auth::Token("none@pve!x=x".into());

    // The auditor reads cluster status but may not power a VM.
    assert_eq!(
        sim.call("GET", "/cluster/status", &auditor, &[])
            .await
            .status,
        200
    );
    let r = sim
        .call("POST", "/nodes/pve01/qemu/100/status/start", &auditor, &[])
        .await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(
        r.message(),
        "Permission check failed (/vms/100, VM.PowerMgmt)\n"
    );
    // The limited token may act on VM 100 (it is running: the task fails later, but auth passes)
    // and not on VM 101.
    let r = sim
        .call("POST", "/nodes/pve01/qemu/100/status/start", &limited, &[])
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(
        r.data()
            .as_str()
            .unwrap()
            .ends_with(":qmstart:100:ops@pve!vm100:"),
        "{:?}",
        r.body
    );
    let r = sim
        .call("POST", "/nodes/pve01/qemu/101/status/stop", &limited, &[])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.message(),
        "Permission check failed (/vms/101, VM.PowerMgmt)\n"
    );
    // No privileges at all: cluster status is refused.
    let r = sim.call("GET", "/cluster/status", &nothing, &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.message(), "Permission check failed (/, Sys.Audit)\n");
}
