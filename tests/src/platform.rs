//! A platform in a temporary directory: a real store, a core over it (bootstrapped, with the
//! cheap password hash of tests), and the tenants, domains and mailboxes a test asks for.
//!
//! ```ignore
//! let p = Platform::builder()
//!     .customer("C")
//!     .domain("c.example")
//!     .mailbox("ann@c.example", 100)
//!     .build()
//!     .await;
//! let ann = account(&p.core, "ann@c.example").await;
//! ```

use marque_core::{
    AccountId, Actor, Core, HashCost, NewDomain, NewMailbox, NewStaff, NewTenant, NewToken,
    PrincipalId, Recipient, StaffKind, TenantId, TenantKind,
};
use marque_store::{Store, StoreOptions};

/// The password of every mailbox the builder creates without one of its own.
pub const PASSWORD: &str = "correct horse battery";

/// A running platform; the directory (and the store in it) lives as long as it.
pub struct Platform {
    pub core: Core,
    /// The temporary directory: the store is in `store/`; the rest is the test's.
    pub dir: tempfile::TempDir,
    tenants: Vec<(String, TenantId)>,
}

/// One thing to create, in order.
enum Step {
    Tenant {
        name: String,
        kind: TenantKind,
        parent: Option<String>,
    },
    Domain(String),
    Mailbox(NewMailbox),
}

/// What [`Platform::builder`] gives: the platform is made by [`PlatformBuilder::build`].
pub struct PlatformBuilder {
    configure: Box<dyn FnOnce(Core) -> Core + Send>,
    admin_token: Option<String>,
    store: StoreOptions,
    steps: Vec<Step>,
}

impl Platform {
    /// A platform with only the provider.
    pub fn builder() -> PlatformBuilder {
        PlatformBuilder {
            configure: Box::new(|core| core),
            admin_token: None,
            store: StoreOptions::default(),
            steps: Vec::new(),
        }
    }

    /// The id of the tenant the builder created as `name`.
    pub fn tenant(&self, name: &str) -> TenantId {
        tenant_named(&self.tenants, name)
    }
}

/// The account of mailbox `address`.
pub async fn account(core: &Core, address: &str) -> AccountId {
    match core.resolve_address(address).await.expect("resolve") {
        Some(Recipient::Mailbox { account, .. }) => account,
        other => panic!("{address} is not a mailbox: {other:?}"),
    }
}

/// An API token for `principal`, made by the operator; its secret.
pub async fn token(core: &Core, principal: PrincipalId) -> String {
    let (_, secret) = core
        .create_token(
            &Actor::operator(),
            NewToken {
                name: "test".into(),
                principal: Some(principal),
                ..NewToken::default()
            },
        )
        .await
        .expect("create token");
    secret
}

/// An actor for `principal`, signed in through a fresh token.
pub async fn actor(core: &Core, principal: PrincipalId) -> Actor {
    let secret = token(core, principal).await;
    core.authenticate_token(&secret)
        .await
        .expect("token signs in")
}

/// A new staff member `login` of `tenant`, signed in through a token.
pub async fn staff(core: &Core, tenant: TenantId, login: &str, kind: StaffKind) -> Actor {
    let staff = core
        .create_staff(
            &Actor::operator(),
            NewStaff {
                tenant,
                login: login.into(),
                password: None,
                kind,
            },
        )
        .await
        .expect("create staff");
    actor(core, PrincipalId::Staff(staff.id)).await
}

impl PlatformBuilder {
    /// Changes the core before it is bootstrapped (the sign-in policy...). Settings of the
    /// hosting features (Sieve limits, webhook targets) go on `marque_hosting::Hosting`, over
    /// the built core.
    pub fn configure(mut self, f: impl FnOnce(Core) -> Core + Send + 'static) -> Self {
        let before = self.configure;
        self.configure = Box::new(move |core| f(before(core)));
        self
    }

    /// Bootstraps with this administrator token.
    pub fn admin_token(mut self, token: &str) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// Opens the store with `options` (`BackendKind::Postgres` with a
    /// [`crate::postgres::database`] puts the platform on PostgreSQL).
    pub fn store_options(mut self, options: StoreOptions) -> Self {
        self.store = options;
        self
    }

    /// A reseller under the provider.
    pub fn reseller(mut self, name: &str) -> Self {
        self.steps.push(Step::Tenant {
            name: name.into(),
            kind: TenantKind::Reseller,
            parent: None,
        });
        self
    }

    /// A customer under the provider.
    pub fn customer(mut self, name: &str) -> Self {
        self.steps.push(Step::Tenant {
            name: name.into(),
            kind: TenantKind::Customer,
            parent: None,
        });
        self
    }

    /// A customer under the tenant created as `parent`.
    pub fn customer_of(mut self, name: &str, parent: &str) -> Self {
        self.steps.push(Step::Tenant {
            name: name.into(),
            kind: TenantKind::Customer,
            parent: Some(parent.into()),
        });
        self
    }

    /// Customer `C` with `c.example` and its mailboxes `ann` and `bob` (100 MB) and `tiny`
    /// (1 MB), all with [`PASSWORD`]: where the delivery, Sieve and SMTP tests deliver.
    pub fn mail_customer(self) -> Self {
        self.customer("C")
            .domain("c.example")
            .mailbox("ann@c.example", 100)
            .mailbox("bob@c.example", 100)
            .mailbox("tiny@c.example", 1)
    }

    /// A domain of the tenant created last.
    pub fn domain(mut self, name: &str) -> Self {
        self.steps.push(Step::Domain(name.into()));
        self
    }

    /// A mailbox with [`PASSWORD`] and a quota of `quota_mb`.
    pub fn mailbox(self, address: &str, quota_mb: u64) -> Self {
        self.mailbox_with(address, PASSWORD, quota_mb)
    }

    /// A mailbox with its own password.
    pub fn mailbox_with(mut self, address: &str, password: &str, quota_mb: u64) -> Self {
        self.steps.push(Step::Mailbox(NewMailbox {
            address: address.into(),
            password: password.into(),
            quota_mb: Some(quota_mb),
            ..NewMailbox::default()
        }));
        self
    }

    /// Opens the store and the core, bootstraps, and creates everything asked for, in order.
    pub async fn build(self) -> Platform {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("store"), self.store).expect("open store");
        let core = Core::open_with(store, HashCost::insecure_for_tests()).expect("open core");
        let core = (self.configure)(core);
        core.bootstrap(self.admin_token).await.expect("bootstrap");
        let op = Actor::operator();
        let mut tenants: Vec<(String, TenantId)> = Vec::new();
        for step in self.steps {
            match step {
                Step::Tenant { name, kind, parent } => {
                    let parent = match parent {
                        Some(p) => tenant_named(&tenants, &p),
                        None => marque_core::PROVIDER,
                    };
                    let id = core
                        .create_tenant(
                            &op,
                            NewTenant {
                                name: name.clone(),
                                kind,
                                parent,
                                ..NewTenant::default()
                            },
                        )
                        .await
                        .unwrap_or_else(|e| panic!("tenant {name}: {e}"))
                        .tenant
                        .id;
                    tenants.push((name, id));
                }
                Step::Domain(name) => {
                    let tenant = tenants.last().map_or(marque_core::PROVIDER, |(_, t)| *t);
                    core.create_domain(
                        &op,
                        NewDomain {
                            name: name.clone(),
                            tenant,
                            ..NewDomain::default()
                        },
                    )
                    .await
                    .unwrap_or_else(|e| panic!("domain {name}: {e}"));
                }
                Step::Mailbox(new) => {
                    let address = new.address.clone();
                    core.create_mailbox(&op, new)
                        .await
                        .unwrap_or_else(|e| panic!("mailbox {address}: {e}"));
                }
            }
        }
        Platform { core, dir, tenants }
    }
}

fn tenant_named(tenants: &[(String, TenantId)], name: &str) -> TenantId {
    tenants
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, id)| *id)
        .unwrap_or_else(|| panic!("no tenant {name} was built"))
}
