//! Sieve script storage: names, the one active script, rename and delete rules, purge.

use marque_store::mail::{self, purge_account};
use marque_store::{AccountId, Error, Store, sieve};

#[macro_use]
mod common;

use common::Place;

const A: AccountId = AccountId(7);
const B: AccountId = AccountId(8);

async fn open(place: &Place) -> Store {
    let store = place.open();
    store
        .transact(|t| {
            mail::init_account(t, A)?;
            mail::init_account(t, B)
        })
        .await
        .unwrap();
    store
}

on_each_backend! {
    #[tokio::test]
    async fn scripts_are_listed_by_name_with_the_active_one_marked(place) {
        let store = open(&place).await;
        store
            .transact(|t| {
                sieve::put(t, A, "vacation", b"keep;")?;
                sieve::put(t, A, "junk", b"discard;")?;
                sieve::set_active(t, A, Some("junk"))
            })
            .await
            .unwrap();
        let list = sieve::list(&store, A).unwrap();
        let names: Vec<_> = list
            .iter()
            .map(|s| (s.name.as_str(), s.active, s.size))
            .collect();
        assert_eq!(names, vec![("junk", true, 8), ("vacation", false, 5)]);
        assert_eq!(
            sieve::active(&store, A).unwrap(),
            Some(("junk".to_string(), b"discard;".to_vec()))
        );
        assert_eq!(sieve::usage(&store, A).unwrap(), (2, 13));
        // Another account sees none of them.
        assert!(sieve::list(&store, B).unwrap().is_empty());
        assert_eq!(sieve::active(&store, B).unwrap(), None);
    }
}

on_each_backend! {
    #[tokio::test]
    async fn the_active_script_cannot_be_deleted_until_deactivated(place) {
        let store = open(&place).await;
        store
            .transact(|t| {
                sieve::put(t, A, "main", b"keep;")?;
                sieve::set_active(t, A, Some("main"))
            })
            .await
            .unwrap();
        let err = store
            .transact(|t| sieve::delete(t, A, "main"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err}");
        store
            .transact(|t| {
                sieve::set_active(t, A, None)?;
                sieve::delete(t, A, "main")
            })
            .await
            .unwrap();
        assert!(sieve::list(&store, A).unwrap().is_empty());
        let err = store
            .transact(|t| sieve::delete(t, A, "main"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err}");
        let err = store
            .transact(|t| sieve::set_active(t, A, Some("missing")))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err}");
    }
}

on_each_backend! {
    #[tokio::test]
    async fn rename_keeps_the_script_active_and_refuses_an_existing_name(place) {
        let store = open(&place).await;
        store
            .transact(|t| {
                sieve::put(t, A, "one", b"keep;")?;
                sieve::put(t, A, "two", b"stop;")?;
                sieve::set_active(t, A, Some("one"))
            })
            .await
            .unwrap();
        let err = store
            .transact(|t| sieve::rename(t, A, "one", "two"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AlreadyExists(_)), "{err}");
        store
            .transact(|t| sieve::rename(t, A, "one", "première"))
            .await
            .unwrap();
        assert_eq!(
            sieve::active(&store, A).unwrap(),
            Some(("première".to_string(), b"keep;".to_vec()))
        );
        assert_eq!(sieve::get(&store, A, "one").unwrap(), None);
    }
}

on_each_backend! {
    #[tokio::test]
    async fn bad_names_are_refused(place) {
        let store = open(&place).await;
        let long = "x".repeat(sieve::MAX_NAME_LEN + 1);
        for name in ["", "a\r\nb", "nul\0", long.as_str()] {
            let owned = name.to_string();
            let err = store
                .transact(move |t| sieve::put(t, A, &owned, b"keep;"))
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Invalid(_)), "{name:?}: {err}");
        }
    }
}

on_each_backend! {
    #[tokio::test]
    async fn purging_an_account_removes_its_scripts(place) {
        let store = open(&place).await;
        store
            .transact(|t| {
                sieve::put(t, A, "main", b"keep;")?;
                sieve::set_active(t, A, Some("main"))?;
                sieve::put(t, B, "other", b"keep;")
            })
            .await
            .unwrap();
        purge_account(&store, A).await.unwrap();
        assert!(sieve::list(&store, A).unwrap().is_empty());
        assert_eq!(sieve::active(&store, A).unwrap(), None);
        assert_eq!(sieve::list(&store, B).unwrap().len(), 1);
    }
}
