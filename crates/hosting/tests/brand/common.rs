//! The world the brand tests share: a provider, a reseller with a customer, three plans
//! (branding and TLS, branding only, neither), and helpers to build brands and domains.
//! Each test file uses part of it.
#![allow(dead_code)] // each test file that includes this module uses only some of it

use marque_core::*;
use marque_hosting::{Brand, BrandOf, Colours, Hosting};
use marque_tests::Platform;

pub const SERVER: &str = "mx.platform.example";
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

pub struct World {
    pub hosting: Hosting,
    pub core: Core,
    pub _dir: tempfile::TempDir,
    pub reseller: TenantId,
    pub customer: TenantId,
    /// A plan with branding and TLS, one with branding only, one with neither.
    pub full: PlanId,
    pub branding_only: PlanId,
    pub bare: PlanId,
}

pub fn plan(owner: TenantId, name: &str, custom_branding: bool, tls: bool) -> NewPlan {
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

pub async fn tenant(core: &Core, name: &str, kind: TenantKind, parent: TenantId) -> TenantId {
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

pub async fn set_plan(core: &Core, t: TenantId, p: PlanId) {
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

pub async fn domain(core: &Core, name: &str, t: TenantId) {
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
pub async fn world() -> World {
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

pub fn brand(name: &str, hosts: &[&str]) -> Brand {
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

pub fn dom(name: &str) -> BrandOf {
    BrandOf::Domain(name.into())
}
