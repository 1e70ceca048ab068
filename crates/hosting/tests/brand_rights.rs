//! Brands of the hosting features: logo checks, and permission refusals across tenants.

use marque_core::*;
use marque_hosting::BrandOf;
use marque_tests::staff;

#[path = "brand/common.rs"]
mod common;

use common::*;

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
