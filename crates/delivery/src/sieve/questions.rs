//! Answers to what a running script asks: an included script, whether folders exist, whether
//! an id was seen before (`duplicate`, and `vacation`'s "already replied").

use ::sieve::{Input, Mailbox, Script, runtime::RuntimeError};
use marque_store::{mail, sieve_seen};

use super::run::{Plan, RunContext, State};

pub(super) fn include(cx: &RunContext<'_>, name: Script, optional: bool) -> Result<Input, String> {
    let text = match &name {
        Script::Personal(n) => marque_store::sieve::get(cx.store, cx.account, n)
            .map_err(|e| format!("include {n:?}: {e}"))?,
        // Global scripts are run around the user's, by scope; they have no names to include.
        Script::Global(_) => None,
    };
    match text {
        Some(text) => {
            let compiled = cx
                .engine
                .compile(&text)
                .map_err(|e| format!("include {name}: {e}"))?;
            Ok(Input::script(name, compiled))
        }
        None if optional => Ok(Input::False),
        None => Err(format!("include: no script {name}")),
    }
}

pub(super) fn mailboxes_exist(
    cx: &RunContext<'_>,
    mailboxes: &[Mailbox],
    special_use: &[String],
) -> Result<bool, String> {
    for m in mailboxes {
        let found = match m {
            Mailbox::Name(n) => mail::mailbox_by_name(cx.store, cx.account, n)
                .map_err(|e| format!("mailboxexists: {e}"))?
                .is_some(),
            Mailbox::Id(_) => false,
        };
        if !found {
            return Ok(false);
        }
    }
    if !special_use.is_empty() {
        let folders =
            mail::list(cx.store, cx.account).map_err(|e| format!("specialuse_exists: {e}"))?;
        for want in special_use {
            let found = folders.iter().any(|f| {
                f.special_use
                    .is_some_and(|u| u.attribute().eq_ignore_ascii_case(want))
            });
            if !found {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// `duplicate` (RFC 7352) and the vacation "already replied" test, which `sieve-rs` asks as a
/// duplicate id starting with `_v`.
pub(super) fn duplicate(
    cx: &RunContext<'_>,
    plan: &mut Plan,
    state: &mut State,
    id: String,
    expiry: u64,
    last: bool,
) -> Result<bool, String> {
    let is_vacation = id.starts_with("_v");
    if is_vacation && let Some(why) = state.vacation_refusal {
        plan.notes.push(format!("no vacation reply: {why}"));
        return Ok(true);
    }
    let seen = plan.seen.iter().any(|(s, _)| *s == id)
        || sieve_seen::seen(cx.store, cx.account, &id, cx.now)
            .map_err(|e| format!("duplicate: {e}"))?;
    if !seen || last {
        plan.seen.retain(|(s, _)| *s != id);
        plan.seen.push((id, cx.now.saturating_add(expiry)));
    }
    if is_vacation {
        state.vacation_next = !seen;
    }
    Ok(seen)
}

pub(super) fn describe(e: RuntimeError) -> String {
    match e {
        RuntimeError::TooManyIncludes => "too many nested includes".into(),
        RuntimeError::InvalidInstruction(i) => format!(
            "invalid instruction {} at line {}, column {}",
            i.name(),
            i.line_num(),
            i.line_pos()
        ),
        RuntimeError::ScriptErrorMessage(m) => format!("error: {m}"),
        RuntimeError::CapabilityNotAllowed(c) => format!("extension {c} is not available"),
        RuntimeError::CapabilityNotSupported(c) => format!("extension {c} is not supported"),
        RuntimeError::CPULimitReached => "instruction limit reached".into(),
    }
}
