//! Shared set-up for the core's tests: a real store in a temporary directory.

#![allow(dead_code)]

use marque_core::{Actor, Core, HashCost, NewToken, PrincipalId};
use marque_store::{Store, StoreOptions};

/// A core over a fresh store; keep the directory alive as long as the core.
pub async fn core() -> (Core, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("open store");
    let core = Core::open_with(store, HashCost::insecure_for_tests()).expect("open core");
    core.bootstrap(None).await.expect("bootstrap");
    (core, dir)
}

/// An actor for `principal`, signed in through a fresh token made by the operator.
pub async fn actor(core: &Core, principal: PrincipalId) -> Actor {
    let op = Actor::operator();
    let (_, secret) = core
        .create_token(
            &op,
            NewToken {
                name: "test".into(),
                principal: Some(principal),
                ..NewToken::default()
            },
        )
        .await
        .expect("create token");
    core.authenticate_token(&secret)
        .await
        .expect("token signs in")
}
