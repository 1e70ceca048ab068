//! Sign-in for the mail services and the authentication log.
//!
//! Every password sign-in (IMAP, POP3, SMTP AUTH, ManageSieve, panel, API) goes through
//! [`Core::sign_in`], which verifies the secret and writes one record, success or failure, into
//! the log of the tenant the login belongs to and every tenant above it. A login that names no
//! known mailbox or staff member is recorded for the domain's tenants when the domain is ours,
//! else for the provider only. Secrets never reach the record.

use serde::{Deserialize, Serialize};

use marque_store::logs::{self, Cursor, LogKind, Query, Term};
use marque_store::{Reader, TenantId};

use crate::error::{CoreError, Result};
use crate::ids::PROVIDER;
use crate::principal::Actor;
use crate::{Core, domain, now_ms, validate};

/// One sign-in attempt, as the service saw it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// `imap`, `pop3`, `smtp`, `managesieve`, `panel`, `api`.
    pub protocol: &'a str,
    /// The login as given (an address, or a staff login name).
    pub login: &'a str,
    /// The client's IP address.
    pub remote: &'a str,
    /// `PLAIN`, `LOGIN`, `USER/PASS`, `password`...
    pub mechanism: &'a str,
}

/// One record of the authentication log (stored as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRecord {
    /// When, in ms since the epoch.
    pub when: u64,
    pub protocol: String,
    pub login: String,
    pub remote: String,
    pub mechanism: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// Why it failed (never which half of the credentials was wrong, to a client; here it is
    /// the operator's record).
    pub reason: String,
}

/// A page of the authentication log.
#[derive(Debug, Clone, Serialize)]
pub struct AuthPage {
    pub records: Vec<AuthRecord>,
    pub next: Option<Cursor>,
}

impl Core {
    /// Verifies `secret` for `attempt.login` and records the attempt. A failure is
    /// [`CoreError::AuthFailed`] whatever the reason.
    ///
    /// Every attempt goes through the sign-in throttle ([`crate::signin`]): an address with
    /// too many recent failures is refused with [`CoreError::SignInRefused`] without its
    /// password being checked; an attempt waits while the address's or the login's last
    /// failure still holds it back; a failure is counted and answered only after its delay
    /// (tokio's clock).
    pub async fn sign_in(&self, attempt: Attempt<'_>, secret: &str) -> Result<Actor> {
        let ip = attempt.remote.parse::<std::net::IpAddr>().ok();
        if let Err(e) = self.throttle_before(ip, Some(attempt.login)).await {
            if matches!(e, CoreError::SignInRefused { .. }) {
                self.record_login_event(attempt, "failure", &e.to_string())
                    .await?;
            }
            return Err(e);
        }
        let result = self.authenticate_password(attempt.login, secret).await;
        let (owners, outcome, reason) = match &result {
            Ok(actor) => (actor.principal.path.clone(), "success", String::new()),
            Err(e) => {
                let login = attempt.login.to_string();
                let owners = self.read(move |s| owners_of_login(s, &login)).await?;
                (owners, "failure", e.to_string())
            }
        };
        self.record_auth(attempt, &owners, outcome, &reason).await?;
        if matches!(result, Err(CoreError::AuthFailed)) {
            let wait = self
                .throttle_failed(attempt, ip, Some(attempt.login))
                .await?;
            tokio::time::sleep(wait).await;
        }
        result
    }

    /// Verifies an API token (as [`Core::authenticate_token`]) under the same throttle as
    /// passwords: a refused address is refused here too, and a wrong token counts against
    /// the client's address (`attempt.remote`) and is answered after its delay. The caller
    /// writes the authentication record.
    pub async fn sign_in_token(&self, attempt: Attempt<'_>, secret: &str) -> Result<Actor> {
        let ip = attempt.remote.parse::<std::net::IpAddr>().ok();
        self.throttle_before(ip, None).await?;
        let result = self.authenticate_token(secret).await;
        if matches!(result, Err(CoreError::AuthFailed)) {
            let wait = self.throttle_failed(attempt, ip, None).await?;
            tokio::time::sleep(wait).await;
        }
        result
    }

    /// Writes one record for `attempt.login` into the log of the tenants it belongs to
    /// (the domain's, for an address), whether or not the login exists.
    pub(crate) async fn record_login_event(
        &self,
        attempt: Attempt<'_>,
        outcome: &str,
        reason: &str,
    ) -> Result<()> {
        let login = attempt.login.to_string();
        let owners = self.read(move |s| owners_of_login(s, &login)).await?;
        self.record_auth(attempt, &owners, outcome, reason).await
    }

    /// Writes one authentication record for `owners` (a tenant chain, root first). For sign-ins
    /// that do not go through [`Core::sign_in`] (API tokens, for instance).
    pub async fn record_auth(
        &self,
        attempt: Attempt<'_>,
        owners: &[TenantId],
        outcome: &str,
        reason: &str,
    ) -> Result<()> {
        let record = AuthRecord {
            when: now_ms(),
            protocol: attempt.protocol.to_string(),
            login: attempt.login.to_string(),
            remote: attempt.remote.to_string(),
            mechanism: attempt.mechanism.to_string(),
            outcome: outcome.to_string(),
            reason: reason.to_string(),
        };
        let body = serde_json::to_vec(&record).map_err(|e| CoreError::Task(e.to_string()))?;
        let owners = if owners.is_empty() {
            vec![PROVIDER]
        } else {
            owners.to_vec()
        };
        let login = record.login.to_ascii_lowercase();
        let remote = record.remote.clone();
        let when = record.when;
        self.store()
            .transact(move |txn| -> Result<()> {
                let terms = [(Term::Address, login.as_str()), (Term::Ip, remote.as_str())];
                logs::append(txn, &owners, LogKind::Auth, when, &terms, &body)?;
                Ok(())
            })
            .await
    }

    /// Reads `tenant`'s authentication log, newest first: all of it, or the records of one
    /// login or one IP. The caller must be allowed to read the tenant's logs (checked by the
    /// admin API through [`crate::policy::authorize`]).
    pub async fn auth_log(
        &self,
        tenant: TenantId,
        filter: Option<(Term, String)>,
        from_ms: u64,
        to_ms: u64,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<AuthPage> {
        let query = Query {
            owner: tenant,
            kind: LogKind::Auth,
            term: filter,
            from_ms,
            to_ms,
            after,
            limit,
        };
        self.read(move |s| {
            let page = logs::search(s, &query)?;
            let records = page
                .entries
                .iter()
                .map(|e| {
                    serde_json::from_slice(&e.body).map_err(|e| CoreError::Task(e.to_string()))
                })
                .collect::<Result<Vec<AuthRecord>>>()?;
            Ok(AuthPage {
                records,
                next: page.next,
            })
        })
        .await
    }
}

/// Whose log an unknown login's failure goes to: its domain's tenants if the domain is ours.
fn owners_of_login(r: &impl Reader, login: &str) -> Result<Vec<TenantId>> {
    let Some((_, domain_part)) = login.rsplit_once('@') else {
        return Ok(vec![PROVIDER]);
    };
    let Ok(name) = validate::domain(domain_part) else {
        return Ok(vec![PROVIDER]);
    };
    match domain::load_by_name(r, &name) {
        Ok((_, tenant)) => Ok(tenant.path),
        Err(CoreError::NotFound { .. }) => Ok(vec![PROVIDER]),
        Err(e) => Err(e),
    }
}
