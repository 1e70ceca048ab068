//! GETQUOTAROOT and GETQUOTA (RFC 9208): every quota a message counts against is a root: the
//! mailbox's own, its domain's and each storage pool above it, under neutral names (the
//! brand's tenants are not shown to the user). Sizes are in KiB (RFC 9208 §5.1 STORAGE).

use std::io;

use marque_store::Reader;
use marque_store::counters::{self, Metric};
use marque_store::mail;

use super::{account, core_no, store_no};
use crate::imap::render;
use crate::imap::session::{Outcome, Session};

/// A quota root: its name, usage and limit in bytes.
struct Root {
    name: String,
    used: i64,
    limit: i64,
}

/// The name of the `i`th charge (mailbox, domain, then pools from the nearest tenant up).
fn root_name(i: usize, count: usize) -> String {
    match i {
        0 => "mailbox".into(),
        1 => "domain".into(),
        _ => format!("pool{}", count - i),
    }
}

async fn roots(s: &Session) -> Result<Vec<Root>, Outcome> {
    let account = account(s).map_err(|e| Outcome::No(e.to_string()))?;
    let charges = s
        .ctx
        .core
        .usage_charges(account)
        .await
        .map_err(|e| core_no(&e))?;
    let count = charges.len();
    let used = s
        .ctx
        .core
        .store()
        .read(move |st| {
            charges
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.limit.map(|l| (i, c.owner, l)))
                .map(|(i, owner, limit)| {
                    let key = counters::key(owner, Metric::StorageUsed);
                    Ok(Root {
                        name: root_name(i, count),
                        used: st.counter(&key)?,
                        limit,
                    })
                })
                .collect::<marque_store::Result<Vec<Root>>>()
        })
        .await
        .map_err(|e| store_no(&e))?;
    Ok(used)
}

fn quota_line(out: &mut Vec<u8>, r: &Root) {
    out.extend_from_slice(b"* QUOTA ");
    render::string(out, r.name.as_bytes());
    out.extend_from_slice(
        format!(
            " (STORAGE {} {})\r\n",
            r.used.max(0) / 1024,
            r.limit.max(0) / 1024
        )
        .as_bytes(),
    );
}

/// Applies GETQUOTAROOT.
#[tracing::instrument(skip(s))]
pub async fn root(s: &mut Session, name: &str) -> io::Result<Outcome> {
    let acct = account(s)?;
    let n = name.to_string();
    match s
        .ctx
        .core
        .store()
        .read(move |st| mail::mailbox_by_name(st, acct, &n))
        .await
    {
        Ok(Some(_)) => {}
        Ok(None) => return Ok(Outcome::No("[NONEXISTENT] no such mailbox".into())),
        Err(e) => return Ok(store_no(&e)),
    }
    let roots = match roots(s).await {
        Ok(r) => r,
        Err(o) => return Ok(o),
    };
    let rev2 = s.rev2;
    let out = &mut s.io.out;
    out.extend_from_slice(b"* QUOTAROOT ");
    render::mailbox(out, name, rev2);
    for r in &roots {
        out.push(b' ');
        render::string(out, r.name.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    for r in &roots {
        quota_line(out, r);
    }
    Ok(Outcome::Ok("GETQUOTAROOT completed".into()))
}

/// Applies GETQUOTA.
#[tracing::instrument(skip(s))]
pub async fn get(s: &mut Session, root: &str) -> io::Result<Outcome> {
    let roots = match roots(s).await {
        Ok(r) => r,
        Err(o) => return Ok(o),
    };
    match roots.iter().find(|r| r.name.eq_ignore_ascii_case(root)) {
        Some(r) => {
            quota_line(&mut s.io.out, r);
            Ok(Outcome::Ok("GETQUOTA completed".into()))
        }
        None => Ok(Outcome::No("[NONEXISTENT] no such quota root".into())),
    }
}
