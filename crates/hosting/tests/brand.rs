//! Brands of the hosting features: resolution domain → customer → reseller → provider → built-in, per-domain
//! override, globally unique hostnames that are freed on change, plans switching branding and
//! custom TLS off, logo checks, and permission refusals across tenants.

use marque_core::*;
use marque_hosting::{Brand, BrandOf, Colours, Hosting};
use marque_tests::{Platform, staff};

const SERVER: &str = "mx.platform.example";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

struct World {
    hosting: Hosting,
    core: Core,
    _dir: tempfile::TempDir,
    reseller: TenantId,
    customer: TenantId,
    /// A plan with branding and TLS, one with branding only, one with neither.
    full: PlanId,
    branding_only: PlanId,
    bare: PlanId,
}

fn plan(owner: TenantId, name: &str, custom_branding: bool, tls: bool) -> NewPlan {
    NewPlan {
        owner,
        name: name.into(),
        tier: Tier::Standard,
        default_mailbox_mb: 100,
        max_mailbox_mb: 1000,
        features: Features {
            custom_branding,
            tls,
            ..Features::default()
        },
        price_credits: 0,
    }
}

async fn tenant(core: &Core, name: &str, kind: TenantKind, parent: TenantId) -> TenantId {
    core.create_tenant(
        &Actor::operator(),
        NewTenant {
            name: name.into(),
            kind,
            parent,
            ..NewTenant::default()
        },
    )
    .await
    .unwrap()
    .tenant
    .id
}

async fn set_plan(core: &Core, t: TenantId, p: PlanId) {
    core.update_tenant(
        &Actor::operator(),
        t,
        TenantChanges {
            plan: Some(Some(p)),
            ..TenantChanges::default()
        },
    )
    .await
    .unwrap();
}

async fn domain(core: &Core, name: &str, t: TenantId) {
    core.create_domain(
        &Actor::operator(),
        NewDomain {
            name: name.into(),
            tenant: t,
            ..NewDomain::default()
        },
    )
    .await
    .unwrap();
}

/// Provider → reseller R (plan: full) → customer C (plan: full), C owns `c.example`.
async fn world() -> World {
    let Platform { core, dir, .. } = Platform::builder().build().await;
    let hosting = Hosting::new(core).with_server_hostname(SERVER);
    let core = hosting.core().clone();
    let op = Actor::operator();
    let full = core
        .create_plan(&op, plan(PROVIDER, "full", true, true))
        .await
        .unwrap()
        .id;
    let branding_only = core
        .create_plan(&op, plan(PROVIDER, "branding", true, false))
        .await
        .unwrap()
        .id;
    let bare = core
        .create_plan(&op, plan(PROVIDER, "bare", false, false))
        .await
        .unwrap()
        .id;
    let reseller = tenant(&core, "R", TenantKind::Reseller, PROVIDER).await;
    set_plan(&core, reseller, full).await;
    let customer = tenant(&core, "C", TenantKind::Customer, reseller).await;
    set_plan(&core, customer, full).await;
    domain(&core, "c.example", customer).await;
    World {
        hosting,
        core,
        _dir: dir,
        reseller,
        customer,
        full,
        branding_only,
        bare,
    }
}

fn brand(name: &str, hosts: &[&str]) -> Brand {
    Brand {
        name: name.into(),
        hostnames: hosts.iter().map(|h| h.to_string()).collect(),
        colours: Colours {
            primary: "#112233".into(),
            accent: "#AABBCC".into(),
        },
        support_url: Some("https://help.example/support".into()),
        logo: None,
    }
}

fn dom(name: &str) -> BrandOf {
    BrandOf::Domain(name.into())
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logos_are_checked_by_content_and_replaced() {
    let w = world().await;
    let (hosting, op) = (&w.hosting, Actor::operator());
    let of = dom("c.example");
    let e = hosting
        .set_brand_logo(&op, of.clone(), "image/png", PNG.to_vec())
        .await
        .unwrap_err();
    assert!(
        matches!(e, CoreError::State { .. }),
        "a logo needs a brand: {e}"
    );
    hosting
        .set_brand(&op, of.clone(), brand("C", &[]))
        .await
        .unwrap();

    for (ct, bytes, field) in [
        ("image/svg+xml", b"<svg onload='x'/>".to_vec(), "logo type"),
        ("image/png", b"<svg onload='x'/>".to_vec(), "logo type"),
        ("image/jpeg", PNG.to_vec(), "logo type"),
        ("image/gif", b"GIF89a....".to_vec(), "logo type"),
        ("image/png", Vec::new(), "logo size"),
        (
            "image/png",
            [PNG, &vec![0u8; LOGO_MAX_BYTES_TEST]].concat(),
            "logo size",
        ),
    ] {
        let e = hosting
            .set_brand_logo(&op, of.clone(), ct, bytes)
            .await
            .unwrap_err();
        match e {
            CoreError::Invalid { field: f, .. } => assert_eq!(f, field, "{ct}"),
            other => panic!("{ct}: {other}"),
        }
    }

    let first = hosting
        .set_brand_logo(&op, of.clone(), "image/png", PNG.to_vec())
        .await
        .unwrap();
    assert_eq!(first.content_type, "image/png");
    assert_eq!(
        hosting.brand_logo(first.id).await.unwrap(),
        Some(("image/png".to_string(), PNG.to_vec()))
    );
    // A new brand setting keeps the logo.
    hosting
        .set_brand(&op, of.clone(), brand("C renamed", &[]))
        .await
        .unwrap();
    let b = hosting.brand_for_domain("c.example").await.unwrap();
    assert_eq!(b.brand.logo.as_ref(), Some(&first));

    let jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F'];
    let second = hosting
        .set_brand_logo(&op, of.clone(), "image/jpeg", jpeg.clone())
        .await
        .unwrap();
    assert_ne!(first.id, second.id);
    assert_eq!(
        hosting.brand_logo(first.id).await.unwrap(),
        None,
        "old logo deleted"
    );
    assert_eq!(
        hosting.brand_logo(second.id).await.unwrap(),
        Some(("image/jpeg".to_string(), jpeg))
    );
    hosting.clear_brand(&op, of).await.unwrap();
    assert_eq!(hosting.brand_logo(second.id).await.unwrap(), None);
}

const LOGO_MAX_BYTES_TEST: usize = marque_hosting::brand::LOGO_MAX_BYTES;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_follow_the_tenant_tree() {
    let w = world().await;
    let (core, hosting) = (&w.core, &w.hosting);
    let other = tenant(core, "R2", TenantKind::Reseller, PROVIDER).await;
    set_plan(core, other, w.full).await;

    let reseller_admin = staff(core, w.reseller, "r-admin", StaffKind::Admin).await;
    let customer_admin = staff(core, w.customer, "c-admin", StaffKind::Admin).await;
    let foreign = staff(core, other, "r2-admin", StaffKind::Admin).await;
    let pm = core
        .create_mailbox(
            &Actor::operator(),
            NewMailbox {
                address: "pm@c.example".into(),
                password: "a password".into(),
                quota_mb: Some(10),
                postmaster: true,
                ..NewMailbox::default()
            },
        )
        .await
        .unwrap();
    let postmaster = marque_tests::actor(core, PrincipalId::Mailbox(pm.id)).await;

    // The reseller's staff brand their customer and its domains.
    hosting
        .set_brand(
            &reseller_admin,
            BrandOf::Tenant(w.customer),
            brand("C", &[]),
        )
        .await
        .unwrap();
    hosting
        .set_brand(&reseller_admin, dom("c.example"), brand("D", &[]))
        .await
        .unwrap();
    // A tenant's own brand belongs to its ancestors; its domains' brands to it.
    let e = hosting
        .set_brand(
            &customer_admin,
            BrandOf::Tenant(w.customer),
            brand("X", &[]),
        )
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e}");
    assert_eq!(
        hosting
            .get_brand(&customer_admin, BrandOf::Tenant(w.customer))
            .await
            .unwrap()
            .unwrap()
            .name,
        "C"
    );
    hosting
        .set_brand(&customer_admin, dom("c.example"), brand("D2", &[]))
        .await
        .unwrap();
    // A postmaster sees the domain but may not brand it.
    let e = hosting
        .set_brand(&postmaster, dom("c.example"), brand("X", &[]))
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e}");
    let e = hosting
        .set_brand_logo(&postmaster, dom("c.example"), "image/png", PNG.to_vec())
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e}");
    // Another reseller sees nothing of it.
    for of in [
        BrandOf::Tenant(w.customer),
        dom("c.example"),
        BrandOf::Tenant(w.reseller),
    ] {
        let e = hosting
            .set_brand(&foreign, of.clone(), brand("X", &[]))
            .await
            .unwrap_err();
        assert!(e.is_not_found(), "{of}: {e}");
        assert!(
            hosting
                .get_brand(&foreign, of.clone())
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(
            hosting
                .clear_brand(&foreign, of)
                .await
                .unwrap_err()
                .is_not_found()
        );
    }
    // Nor the provider's own brand.
    let e = hosting
        .set_brand(&reseller_admin, BrandOf::Tenant(PROVIDER), brand("X", &[]))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert_eq!(
        hosting
            .brand_for_domain("c.example")
            .await
            .unwrap()
            .brand
            .name,
        "D2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_claimed_only_within_ones_own_subtree() {
    let w = world().await;
    let (core, hosting) = (&w.core, &w.hosting);
    domain(core, "r.example", w.reseller).await;
    let r_admin = staff(core, w.reseller, "r-admin", StaffKind::Admin).await;
    let c_admin = staff(core, w.customer, "c-admin", StaffKind::Admin).await;
    let not_owned = |e: CoreError, why: &str| match e {
        CoreError::HostnameNotOwned { reason, .. } => {
            assert!(reason.contains(why), "{reason}")
        }
        other => panic!("expected a refusal, got {other}"),
    };

    // The reseller brands its customer's names, as it does its own.
    hosting
        .set_brand(
            &r_admin,
            BrandOf::Tenant(w.customer),
            brand("C", &["mail.c.example"]),
        )
        .await
        .unwrap();
    hosting
        .set_brand(&r_admin, dom("r.example"), brand("R", &["mail.r.example"]))
        .await
        .unwrap();
    // The customer may not take its reseller's names, nor the server's own.
    let e = hosting
        .set_brand(&c_admin, dom("c.example"), brand("C", &["imap.r.example"]))
        .await
        .unwrap_err();
    not_owned(
        e,
        "lies in the domain r.example, which belongs to another tenant",
    );
    let e = hosting
        .set_brand(&c_admin, dom("c.example"), brand("C", &[SERVER]))
        .await
        .unwrap_err();
    not_owned(e, "one of the platform's own host names");

    // A reseller hands out a subdomain of its own domain; its customer cannot take one.
    let sub = |name: &str, t: TenantId| NewDomain {
        name: name.into(),
        tenant: t,
        ..NewDomain::default()
    };
    core.create_domain(&r_admin, sub("c.r.example", w.customer))
        .await
        .unwrap();
    let e = core
        .create_domain(&c_admin, sub("x.r.example", w.customer))
        .await
        .unwrap_err();
    not_owned(e, "belongs to another tenant");
    let e = core
        .create_domain(&c_admin, sub("platform.example", w.customer))
        .await
        .unwrap_err();
    not_owned(e, "contains the platform's host name mx.platform.example");
    // The subdomain is the customer's now: its names are the customer's to brand.
    hosting
        .set_brand(
            &c_admin,
            dom("c.r.example"),
            brand("C", &["mail.c.r.example"]),
        )
        .await
        .unwrap();
    assert_eq!(
        hosting.hostname_owner("mail.c.r.example").await.unwrap(),
        Some(w.customer)
    );
    // The provider's administrators act for the platform.
    core.create_domain(&Actor::operator(), sub("platform.example", PROVIDER))
        .await
        .unwrap();
}
