//! Managing Sieve scripts through the hosting features: the user's own scripts with their limits, the
//! managed vacation and forwarding section, bulk filters, permissions and the audit trail.

use marque_core::*;
use marque_hosting::Hosting;
use marque_hosting::sieve::{self, Forwards, LIMIT_SCRIPTS, LIMIT_SIZE, Selection, Vacation};
use marque_tests::Platform;

const FILTER: &str = "require \"fileinto\";\r\nif header :contains \"subject\" \"spam\" {\r\n  fileinto \"Junk\";\r\n}\r\n";

struct World {
    hosting: Hosting,
    core: Core,
    _dir: tempfile::TempDir,
    c1: TenantId,
    c2: TenantId,
}

async fn world() -> World {
    let p = Platform::builder()
        .customer("C1")
        .domain("one.example")
        .customer("C2")
        .domain("two.example")
        .build()
        .await;
    let (c1, c2) = (p.tenant("C1"), p.tenant("C2"));
    let Platform { core, dir, .. } = p;
    let hosting = Hosting::new(core);
    World {
        core: hosting.core().clone(),
        hosting,
        _dir: dir,
        c1,
        c2,
    }
}

async fn mailbox(core: &Core, address: &str, postmaster: bool) -> Actor {
    let m = core
        .create_mailbox(
            &Actor::operator(),
            NewMailbox {
                address: address.into(),
                password: "a password".into(),
                quota_mb: Some(5),
                postmaster,
                ..NewMailbox::default()
            },
        )
        .await
        .unwrap();
    marque_tests::actor(core, PrincipalId::Mailbox(m.id)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_manages_its_own_scripts_within_the_limits() {
    let w = world().await;
    let hosting = w.hosting.clone().with_sieve_limits(sieve::SieveLimits {
        max_scripts: 2,
        max_script_size: 200,
    });
    let core = hosting.core().clone();
    let u = mailbox(&core, "u@one.example", false).await;
    let a = "u@one.example";

    hosting
        .sieve_put(&u, a, "main", FILTER.into())
        .await
        .unwrap();
    assert_eq!(hosting.sieve_get(&u, a, "main").await.unwrap(), FILTER);
    hosting.sieve_set_active(&u, a, Some("main")).await.unwrap();
    let list = hosting.sieve_list(&u, a).await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].active);
    assert_eq!(list[0].size, FILTER.len() as u64);

    // A script that does not compile is refused with its line and column.
    let e = hosting
        .sieve_put(&u, a, "bad", b"keep;\r\nfileinto \"x\";\r\n".to_vec())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("line 2"), "{e}");
    assert!(
        hosting
            .sieve_get(&u, a, "bad")
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Size and count limits.
    let big = format!("# {}\r\nkeep;\r\n", "x".repeat(300));
    let e = hosting
        .sieve_put(&u, a, "big", big.into())
        .await
        .unwrap_err();
    assert_eq!(sieve::limit_of(&e), Some(LIMIT_SIZE));
    hosting
        .sieve_put(&u, a, "second", b"keep;".to_vec())
        .await
        .unwrap();
    let e = hosting
        .sieve_put(&u, a, "third", b"keep;".to_vec())
        .await
        .unwrap_err();
    assert_eq!(sieve::limit_of(&e), Some(LIMIT_SCRIPTS));
    let e = hosting
        .sieve_have_space(&u, a, "third", 5)
        .await
        .unwrap_err();
    assert_eq!(sieve::limit_of(&e), Some(LIMIT_SCRIPTS));
    // Replacing an existing script needs no new slot.
    hosting.sieve_have_space(&u, a, "second", 5).await.unwrap();
    hosting
        .sieve_put(&u, a, "second", b"discard;".to_vec())
        .await
        .unwrap();

    // The active script cannot be deleted; renaming keeps it active.
    let e = hosting.sieve_delete(&u, a, "main").await.unwrap_err();
    assert!(matches!(e, CoreError::State { .. }), "{e}");
    let e = hosting
        .sieve_rename(&u, a, "main", "second")
        .await
        .unwrap_err();
    assert!(matches!(e, CoreError::AlreadyExists { .. }), "{e}");
    hosting
        .sieve_rename(&u, a, "main", "filters")
        .await
        .unwrap();
    let active: Vec<String> = hosting
        .sieve_list(&u, a)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.active)
        .map(|s| s.name)
        .collect();
    assert_eq!(active, ["filters"]);
    hosting.sieve_set_active(&u, a, None).await.unwrap();
    hosting.sieve_delete(&u, a, "filters").await.unwrap();
    assert!(
        hosting
            .sieve_delete(&u, a, "filters")
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn others_cannot_touch_a_users_scripts_and_admin_changes_are_audited() {
    let w = world().await;
    let (core, hosting) = (&w.core, &w.hosting);
    let u = mailbox(core, "u@one.example", false).await;
    let other = mailbox(core, "v@one.example", false).await;
    let foreign_pm = mailbox(core, "pm@two.example", true).await;
    let pm = mailbox(core, "pm@one.example", true).await;
    let a = "u@one.example";

    hosting
        .sieve_put(&u, a, "mine", FILTER.into())
        .await
        .unwrap();
    assert!(
        hosting
            .sieve_list(&other, a)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let e = hosting
        .sieve_put(&foreign_pm, a, "x", b"keep;".to_vec())
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");

    // The postmaster of the domain may; that change is audited, the user's own is not.
    hosting
        .sieve_put(&pm, a, "from-pm", b"keep;".to_vec())
        .await
        .unwrap();
    let page = core
        .audit(&Actor::operator(), AuditScope::Tenant(w.c1), None, 50)
        .await
        .unwrap();
    let sieve: Vec<(&str, &str)> = page
        .records
        .iter()
        .filter(|r| r.what.starts_with("sieve."))
        .map(|r| (r.what.as_str(), r.who.as_str()))
        .collect();
    assert_eq!(sieve, [("sieve.put", "pm@one.example")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacation_and_forwards_rewrite_only_the_managed_section() {
    let w = world().await;
    let (core, hosting) = (&w.core, &w.hosting);
    let u = mailbox(core, "u@one.example", false).await;
    let a = "u@one.example";

    // No active script: one named "marque" is created and activated.
    let vacation = Vacation {
        enabled: true,
        subject: "Away".into(),
        body: "Back soon.".into(),
        start: Some("2026-01-01".into()),
        end: Some("2026-12-31".into()),
        days: Some(3),
        addresses: vec![],
    };
    hosting
        .set_vacation(&u, a, Some(vacation.clone()))
        .await
        .unwrap();
    let list = hosting.sieve_list(&u, a).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, sieve::MANAGED_SCRIPT);
    assert!(list[0].active);
    let text = hosting.sieve_get(&u, a, "marque").await.unwrap();
    assert!(text.contains("vacation :days 3 :subject \"Away\" \"Back soon.\";"));

    // The user's own active script keeps its rules byte for byte.
    hosting
        .sieve_put(&u, a, "mine", FILTER.into())
        .await
        .unwrap();
    hosting.sieve_set_active(&u, a, Some("mine")).await.unwrap();
    hosting
        .set_forwards(
            &u,
            a,
            Some(Forwards {
                addresses: vec!["Elsewhere@Two.Example".into()],
                keep_copy: true,
            }),
        )
        .await
        .unwrap();
    let text = hosting.sieve_get(&u, a, "mine").await.unwrap();
    assert!(text.starts_with(sieve::managed::BEGIN), "{text}");
    assert!(text.ends_with(FILTER), "{text}");
    assert!(text.contains("redirect :copy \"elsewhere@two.example\";"));
    assert!(text.contains("vacation :days 3"));
    let settings = hosting.sieve_settings(&u, a).await.unwrap();
    assert_eq!(settings.vacation, Some(vacation));

    // Both off: the section goes, the user's script is exactly what it was.
    hosting.set_vacation(&u, a, None).await.unwrap();
    hosting.set_forwards(&u, a, None).await.unwrap();
    assert_eq!(hosting.sieve_get(&u, a, "mine").await.unwrap(), FILTER);

    // Bad settings are refused and change nothing.
    let e = hosting
        .set_forwards(
            &u,
            a,
            Some(Forwards {
                addresses: vec![a.into()],
                keep_copy: false,
            }),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CoreError::Invalid { .. }), "{e}");
    assert_eq!(hosting.sieve_get(&u, a, "mine").await.unwrap(), FILTER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_filters_reach_only_what_the_actor_manages() {
    let w = world().await;
    let (core, hosting) = (&w.core, &w.hosting);
    for i in 0..5 {
        mailbox(core, &format!("m{i}@one.example"), false).await;
    }
    let pm = mailbox(core, "pm@one.example", true).await;
    let away = mailbox(core, "away@one.example", false).await;
    hosting
        .set_vacation(
            &away,
            "away@one.example",
            Some(Vacation {
                enabled: true,
                body: "Gone.".into(),
                ..Vacation::default()
            }),
        )
        .await
        .unwrap();
    mailbox(core, "x@two.example", false).await;

    // The postmaster: its own domain, yes; the tenant or another domain, no.
    let results = sieve::bulk_set(
        hosting,
        &pm,
        Selection::Domain("one.example".into()),
        "junk",
        FILTER,
        true,
    )
    .await
    .unwrap();
    assert_eq!(results.len(), 7);
    assert!(results.iter().all(|r| r.result.is_ok()));
    let text = hosting
        .sieve_get(&Actor::operator(), "m3@one.example", "junk")
        .await
        .unwrap();
    assert_eq!(text, FILTER);
    // The mailbox with a vacation keeps it in the newly active script.
    let text = hosting
        .sieve_get(&Actor::operator(), "away@one.example", "junk")
        .await
        .unwrap();
    assert!(
        text.contains("\"Gone.\";") && text.ends_with(FILTER),
        "{text}"
    );

    for selection in [
        Selection::Tenant(w.c1),
        Selection::Domain("two.example".into()),
    ] {
        let e = sieve::bulk_set(hosting, &pm, selection, "junk", FILTER, true)
            .await
            .unwrap_err();
        assert!(e.is_not_found(), "{e}");
    }
    let results = sieve::bulk_set(
        hosting,
        &pm,
        Selection::Addresses(vec![
            "m1@one.example".into(),
            "x@two.example".into(),
            "nobody@one.example".into(),
        ]),
        "other",
        "keep;",
        false,
    )
    .await
    .unwrap();
    let ok: Vec<bool> = results.iter().map(|r| r.result.is_ok()).collect();
    assert_eq!(ok, [true, false, false]);
    assert!(results[1].result.as_ref().unwrap_err().is_not_found());

    // A script that does not compile is refused before anything is written.
    let e = sieve::bulk_set(
        hosting,
        &Actor::operator(),
        Selection::Tenant(w.c2),
        "broken",
        "fileinto \"x\";",
        true,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CoreError::Invalid { .. }), "{e}");

    // The operator across a tenant; one audit record for the call, with the count.
    let results = sieve::bulk_set(
        hosting,
        &Actor::operator(),
        Selection::Tenant(w.c2),
        "junk",
        FILTER,
        false,
    )
    .await
    .unwrap();
    assert_eq!(results.len(), 1);
    let page = core
        .audit(&Actor::operator(), AuditScope::Tenant(w.c2), None, 50)
        .await
        .unwrap();
    let bulk: Vec<&AuditRecord> = page
        .records
        .iter()
        .filter(|r| r.what == "sieve.bulk")
        .collect();
    assert_eq!(bulk.len(), 1);
    assert_eq!(bulk[0].detail["selected"], 1);
    assert_eq!(bulk[0].detail["succeeded"], 1);
}
