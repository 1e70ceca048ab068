//! Brands of the hosting features: resolution domain → customer → reseller → provider →
//! built-in, per-domain override, globally unique hostnames that are freed on change, plans
//! switching branding and custom TLS off. Logos and permissions: `brand_rights.rs`.

use marque_core::*;
use marque_hosting::BrandOf;

#[path = "brand/common.rs"]
mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_resolves_up_its_tenant_chain() {
    let w = world().await;
    let (core, op) = (&w.core, Actor::operator());
    let hosting = &w.hosting;

    let b = hosting.brand_for_domain("C.Example.").await.unwrap();
    assert_eq!(b.brand.name, SERVER);
    assert_eq!(b.brand.hostnames, vec![SERVER.to_string()]);
    assert_eq!(b.source, BrandOf::Tenant(PROVIDER));

    hosting
        .set_brand(
            &op,
            BrandOf::Tenant(PROVIDER),
            brand("Platform", &["mail.platform.example"]),
        )
        .await
        .unwrap();
    let b = hosting.brand_for_domain("c.example").await.unwrap();
    assert_eq!(b.brand.name, "Platform");
    assert_eq!(b.brand.colours.accent, "#aabbcc", "colours are normalised");

    hosting
        .set_brand(
            &op,
            BrandOf::Tenant(w.reseller),
            brand("Resold", &["mail.r.example", "imap.r.example"]),
        )
        .await
        .unwrap();
    let b = hosting.brand_for_domain("c.example").await.unwrap();
    assert_eq!((b.brand.name.as_str(), b.tenant), ("Resold", w.reseller));
    assert_eq!(b.source, BrandOf::Tenant(w.reseller));

    // No hostnames of its own: the customer's name, the reseller's hosts.
    hosting
        .set_brand(&op, BrandOf::Tenant(w.customer), brand("Customer", &[]))
        .await
        .unwrap();
    let b = hosting.brand_for_domain("c.example").await.unwrap();
    assert_eq!(b.brand.name, "Customer");
    assert_eq!(b.brand.hostnames[0], "mail.r.example");
    assert_eq!(b.tenant, w.customer);

    hosting
        .set_brand(&op, dom("c.example"), brand("Domain", &["mail.c.example"]))
        .await
        .unwrap();
    let b = hosting.brand_for_domain("c.example").await.unwrap();
    assert_eq!(b.source, dom("c.example"));
    assert_eq!(b.brand.hostnames, vec!["mail.c.example".to_string()]);
    assert_eq!(
        hosting
            .brand_for_tenant(w.customer)
            .await
            .unwrap()
            .brand
            .name,
        "Customer"
    );

    hosting.clear_brand(&op, dom("c.example")).await.unwrap();
    assert_eq!(
        hosting
            .brand_for_domain("c.example")
            .await
            .unwrap()
            .brand
            .name,
        "Customer"
    );
    assert!(
        hosting
            .clear_brand(&op, dom("c.example"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        hosting
            .brand_for_domain("nowhere.example")
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Only the record itself, not what is inherited.
    assert_eq!(
        hosting.get_brand(&op, dom("c.example")).await.unwrap(),
        None
    );
    let own = hosting
        .get_brand(&op, BrandOf::Tenant(w.customer))
        .await
        .unwrap();
    assert_eq!(own.unwrap().name, "Customer");

    let page = core
        .audit(&op, AuditScope::Tenant(w.customer), None, 50)
        .await
        .unwrap();
    let whats: Vec<&str> = page.records.iter().map(|r| r.what.as_str()).collect();
    assert!(
        whats.contains(&"brand.set") && whats.contains(&"brand.clear"),
        "{whats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostnames_are_unique_validated_and_freed() {
    let w = world().await;
    let (core, op) = (&w.core, Actor::operator());
    let hosting = &w.hosting;
    domain(core, "other.example", w.reseller).await;

    hosting
        .set_brand(
            &op,
            BrandOf::Tenant(w.reseller),
            brand("R", &["mail.r.example"]),
        )
        .await
        .unwrap();
    let taken = hosting
        .set_brand(&op, dom("c.example"), brand("C", &["MAIL.R.EXAMPLE."]))
        .await
        .unwrap_err();
    assert!(matches!(taken, CoreError::AlreadyExists { .. }), "{taken}");
    for bad in ["not a host", "single", "-x.example", "a..example"] {
        let e = hosting
            .set_brand(&op, dom("c.example"), brand("C", &[bad]))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                CoreError::Invalid {
                    field: "hostnames",
                    ..
                }
            ),
            "{bad}: {e}"
        );
    }
    let twice = hosting
        .set_brand(
            &op,
            dom("c.example"),
            brand("C", &["a.c.example", "A.c.example"]),
        )
        .await
        .unwrap_err();
    assert!(matches!(twice, CoreError::Invalid { .. }));
    let mut bad_colour = brand("C", &[]);
    bad_colour.colours.primary = "red".into();
    let mut plain_http = brand("C", &[]);
    plain_http.support_url = Some("http://help.example".into());
    let mut script = brand("C", &[]);
    script.support_url = Some("javascript:alert(1)".into());
    let mut quoted = brand("C", &[]);
    quoted.support_url = Some("https://help.example/\"onclick".into());
    for (field, b) in [
        ("colours.primary", bad_colour),
        ("support_url", plain_http),
        ("support_url", script),
        ("support_url", quoted),
        ("name", brand("", &[])),
    ] {
        let e = hosting
            .set_brand(&op, dom("c.example"), b)
            .await
            .unwrap_err();
        assert!(
            matches!(e, CoreError::Invalid { field: f, .. } if f == field),
            "{field}: {e}"
        );
    }
    let mut none = brand("C", &[]);
    none.support_url = None;
    hosting
        .set_brand(&op, dom("c.example"), none)
        .await
        .unwrap();
    let got = hosting
        .get_brand(&op, dom("c.example"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.support_url, None);

    // By hostname: registered names, per-domain service names, the server's own name.
    let b = hosting
        .brand_for_host("Mail.R.Example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((b.brand.name.as_str(), b.tenant), ("R", w.reseller));
    let b = hosting
        .brand_for_host("autoconfig.c.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.source, dom("c.example"));
    assert_eq!(b.brand.hostnames[0], "mail.r.example");
    let b = hosting
        .brand_for_host("mta-sts.other.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.brand.name, "R");
    assert!(
        hosting
            .brand_for_host("autodiscover.unknown.example")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        hosting
            .brand_for_host("mail.unknown.example")
            .await
            .unwrap()
            .is_none()
    );
    assert!(hosting.brand_for_host("[::1]").await.unwrap().is_none());
    assert_eq!(
        hosting
            .brand_for_host(SERVER)
            .await
            .unwrap()
            .unwrap()
            .tenant,
        PROVIDER
    );
    assert_eq!(
        hosting.hostname_owner("mail.r.example").await.unwrap(),
        Some(w.reseller)
    );

    // Renaming frees the old name: another brand may take it at once.
    hosting
        .set_brand(
            &op,
            BrandOf::Tenant(w.reseller),
            brand("R", &["mx.r.example"]),
        )
        .await
        .unwrap();
    assert_eq!(
        hosting.hostname_owner("mail.r.example").await.unwrap(),
        None
    );
    hosting
        .set_brand(&op, dom("c.example"), brand("C", &["mail.r.example"]))
        .await
        .unwrap();
    assert_eq!(
        hosting.branded_hostnames().await.unwrap(),
        vec![
            ("mail.r.example".to_string(), w.customer),
            ("mx.r.example".to_string(), w.reseller),
        ]
    );
    // Clearing frees them too.
    hosting.clear_brand(&op, dom("c.example")).await.unwrap();
    hosting
        .clear_brand(&op, BrandOf::Tenant(w.reseller))
        .await
        .unwrap();
    assert!(hosting.branded_hostnames().await.unwrap().is_empty());
    hosting
        .set_brand(
            &op,
            BrandOf::Tenant(w.customer),
            brand("C", &["mx.r.example"]),
        )
        .await
        .unwrap();

    // A deleted domain's names are free again.
    hosting
        .set_brand(
            &op,
            dom("other.example"),
            brand("O", &["mail.other.example"]),
        )
        .await
        .unwrap();
    core.delete_domain(&op, "other.example").await.unwrap();
    assert_eq!(
        hosting.hostname_owner("mail.other.example").await.unwrap(),
        None
    );
    hosting
        .set_brand(&op, dom("c.example"), brand("C", &["mail.other.example"]))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_switches_branding_and_custom_tls_off() {
    let w = world().await;
    let (core, op) = (&w.core, Actor::operator());
    let hosting = &w.hosting;
    hosting
        .set_brand(
            &op,
            BrandOf::Tenant(w.reseller),
            brand("R", &["mail.r.example"]),
        )
        .await
        .unwrap();
    hosting
        .set_brand(
            &op,
            BrandOf::Tenant(w.customer),
            brand("C", &["mail.c.example"]),
        )
        .await
        .unwrap();
    assert_eq!(
        hosting
            .brand_for_domain("c.example")
            .await
            .unwrap()
            .brand
            .name,
        "C"
    );

    // Branding without custom TLS: the name stays, the own hostname is no longer served.
    set_plan(core, w.customer, w.branding_only).await;
    let b = hosting.brand_for_domain("c.example").await.unwrap();
    assert_eq!(b.brand.name, "C");
    assert_eq!(b.brand.hostnames, vec!["mail.r.example".to_string()]);
    assert!(
        hosting
            .brand_for_host("mail.c.example")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        hosting.hostname_owner("mail.c.example").await.unwrap(),
        None
    );
    let e = hosting
        .set_brand(
            &op,
            BrandOf::Tenant(w.customer),
            brand("C", &["mail.c.example"]),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CoreError::NotInPlan { .. }), "{e}");
    assert!(e.to_string().contains("custom TLS"), "{e}");
    hosting
        .set_brand(&op, BrandOf::Tenant(w.customer), brand("C2", &[]))
        .await
        .unwrap();

    // No branding at all: the reseller's brand shows, and nothing can be set.
    set_plan(core, w.customer, w.bare).await;
    assert_eq!(
        hosting
            .brand_for_domain("c.example")
            .await
            .unwrap()
            .brand
            .name,
        "R"
    );
    let e = hosting
        .set_brand(&op, dom("c.example"), brand("D", &[]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("custom branding"), "{e}");
    let e = hosting
        .set_brand_logo(&op, BrandOf::Tenant(w.customer), "image/png", PNG.to_vec())
        .await
        .unwrap_err();
    assert!(matches!(e, CoreError::NotInPlan { .. }), "{e}");

    // Back on the full plan, the kept record is in force again.
    set_plan(core, w.customer, w.full).await;
    assert_eq!(
        hosting
            .brand_for_domain("c.example")
            .await
            .unwrap()
            .brand
            .name,
        "C2"
    );

    // The provider needs no plan.
    hosting
        .set_brand(
            &op,
            BrandOf::Tenant(PROVIDER),
            brand("P", &["mail.platform.example"]),
        )
        .await
        .unwrap();
    assert_eq!(
        hosting
            .hostname_owner("mail.platform.example")
            .await
            .unwrap(),
        Some(PROVIDER)
    );
}
