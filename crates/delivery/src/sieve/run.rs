//! The event loop of one recipient's chain of scripts: `sieve-rs` stops at each action or
//! question (does this folder exist? was this id seen?) and this module answers or records it.
//! The result is a [`Plan`], written later by [`super::apply`].

use std::collections::HashMap;
use std::sync::Arc;

use ::sieve::{Event, Input, Recipient, Sieve};
use marque_store::{AccountId, Store};
use tracing::warn;

use super::cache::Compiled;
use super::engine::SieveEngine;
use super::questions::{describe, duplicate, include, mailboxes_exist};
use super::redirect::{self, LoopCheck};
use super::reply::{self, ReplyContext};
use super::vacation;
use crate::outbox::OutboundKind;

/// Where a copy is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Folder {
    Inbox,
    Named {
        name: String,
        /// `:specialuse` (RFC 8579): the folder with this attribute, if there is one.
        special_use: Option<String>,
        /// `:create` (RFC 5490 §3.2).
        create: bool,
    },
}

/// One copy to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreAction {
    pub folder: Folder,
    /// IMAP flags and keywords (imap4flags, RFC 5232).
    pub flags: Vec<String>,
    /// Which content: 0 the message as received, `n` the `n`th of [`Plan::variants`] (after
    /// editheader).
    pub variant: usize,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub kind: OutboundKind,
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

/// What the scripts decided for one recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Edited copies of the message (editheader), referenced by [`StoreAction::variant`].
    pub variants: Vec<Vec<u8>>,
    pub stores: Vec<StoreAction>,
    pub outgoing: Vec<Outgoing>,
    /// Ids to remember (duplicate, vacation) with their expiry in seconds since the epoch.
    pub seen: Vec<(String, u64)>,
    /// `reject`/`ereject` and its reason.
    pub reject: Option<String>,
    pub discarded: bool,
    /// The run-time error that made the message go to INBOX as if there were no script.
    pub error: Option<String>,
    /// Things the log should say (a redirect refused as a loop, a vacation not sent...).
    pub notes: Vec<String>,
}

impl Plan {
    /// Keep in INBOX: what happens without a script.
    pub fn keep() -> Plan {
        Plan {
            stores: vec![StoreAction {
                folder: Folder::Inbox,
                flags: Vec::new(),
                variant: 0,
            }],
            ..Plan::default()
        }
    }

    /// Keep in INBOX because `error` stopped the scripts; nothing they decided is kept.
    pub fn failed(error: String) -> Plan {
        Plan {
            error: Some(error),
            ..Plan::keep()
        }
    }

    /// The content of `variant` given the message as received.
    pub fn content<'a>(&'a self, original: &'a [u8], variant: usize) -> &'a [u8] {
        match variant.checked_sub(1) {
            Some(i) => self.variants.get(i).map(Vec::as_slice).unwrap_or(original),
            None => original,
        }
    }
}

/// One script of a recipient's chain.
#[derive(Debug, Clone)]
pub struct ChainScript {
    /// For the log: `global:tenant:3:before`, `user:main`...
    pub name: String,
    pub compiled: Compiled,
}

/// What a run needs to know about the message and its recipient.
#[derive(Debug)]
pub struct RunContext<'a> {
    pub engine: &'a SieveEngine,
    pub store: &'a Store,
    pub account: AccountId,
    /// The recipient's address.
    pub address: &'a str,
    /// The envelope sender (empty: the null sender).
    pub sender: &'a str,
    pub raw: &'a [u8],
    /// Seconds since the epoch.
    pub now: u64,
}

/// Runs `chain` for one recipient. Never fails: an error gives [`Plan::failed`].
pub fn evaluate(cx: &RunContext<'_>, chain: &[ChainScript]) -> Plan {
    if chain.is_empty() {
        return Plan::keep();
    }
    let mut plan = Plan::default();
    let mut state = State {
        vacation_refusal: vacation::refusal(cx.raw, cx.sender),
        redirect_loop: redirect::check(cx.raw, cx.address, cx.engine.config().max_redirect_hops),
        vacation_next: false,
        force_keep: false,
    };
    // The keep of the scripts so far: it stands only if the last script to run kept.
    let mut pending_keep: Option<StoreAction> = None;
    for script in chain {
        let compiled = match &script.compiled {
            Ok(s) => s.clone(),
            Err(e) => return Plan::failed(format!("{}: {e}", script.name)),
        };
        let mut keep = None;
        if let Err(e) = run_one(cx, &script.name, compiled, &mut plan, &mut state, &mut keep) {
            return Plan::failed(format!("{}: {e}", script.name));
        }
        match (keep, pending_keep.take()) {
            (Some(mut k), Some(prev)) => {
                for f in prev.flags {
                    if !k.flags.iter().any(|x| x.eq_ignore_ascii_case(&f)) {
                        k.flags.push(f);
                    }
                }
                pending_keep = Some(k);
            }
            (k, _) => pending_keep = k,
        }
        if plan.reject.is_some() || pending_keep.is_none() {
            break;
        }
    }
    plan.stores.extend(pending_keep);
    if state.force_keep && !plan.stores.iter().any(|s| s.folder == Folder::Inbox) {
        plan.stores.push(StoreAction {
            folder: Folder::Inbox,
            flags: Vec::new(),
            variant: 0,
        });
    }
    let actions = plan.stores.len() + plan.outgoing.len();
    if actions > cx.engine.config().max_actions {
        return Plan::failed(format!(
            "{actions} actions, more than the limit of {}",
            cx.engine.config().max_actions
        ));
    }
    plan
}

pub(super) struct State {
    pub(super) vacation_refusal: Option<&'static str>,
    redirect_loop: LoopCheck,
    /// The vacation test passed: the next message sent is the reply.
    pub(super) vacation_next: bool,
    /// A redirect was refused: the message is kept in INBOX whatever else happened.
    force_keep: bool,
}

fn run_one(
    cx: &RunContext<'_>,
    name: &str,
    script: Arc<Sieve>,
    plan: &mut Plan,
    state: &mut State,
    keep: &mut Option<StoreAction>,
) -> Result<(), String> {
    let mut ctx = cx
        .engine
        .runtime()
        .filter(cx.raw)
        .with_user_address(cx.address);
    if !cx.sender.is_empty() {
        ctx.set_envelope(sieve::Envelope::From, cx.sender);
    }
    ctx.set_envelope(sieve::Envelope::To, cx.address);
    let mut created = Created::default();
    let mut input = Input::script(name.to_string(), script);
    while let Some(result) = ctx.run(input) {
        input = Input::True;
        let event = result.map_err(describe)?;
        match event {
            Event::IncludeScript { name, optional } => {
                input = include(cx, name, optional)?;
            }
            Event::MailboxExists {
                mailboxes,
                special_use,
            } => input = mailboxes_exist(cx, &mailboxes, &special_use)?.into(),
            Event::ListContains { .. } | Event::Function { .. } => input = Input::False,
            Event::DuplicateId { id, expiry, last } => {
                input = duplicate(cx, plan, state, id, expiry, last)?.into();
            }
            Event::SetEnvelope { .. } | Event::Notify { .. } => {}
            Event::Keep { flags, message_id } => {
                let variant = created.variant(plan, message_id);
                *keep = Some(StoreAction {
                    folder: Folder::Inbox,
                    flags,
                    variant,
                });
            }
            Event::Discard => plan.discarded = true,
            Event::Reject { reason, .. } => plan.reject = Some(reason),
            Event::FileInto {
                folder,
                flags,
                special_use,
                create,
                message_id,
                ..
            } => {
                let variant = created.variant(plan, message_id);
                let folder = if folder.eq_ignore_ascii_case("INBOX") {
                    Folder::Inbox
                } else {
                    Folder::Named {
                        name: folder,
                        special_use,
                        create,
                    }
                };
                plan.stores.push(StoreAction {
                    folder,
                    flags,
                    variant,
                });
            }
            Event::SendMessage {
                recipient,
                message_id,
                ..
            } => {
                let to = match recipient {
                    Recipient::Address(a) | Recipient::List(a) => vec![a],
                    Recipient::Group(v) => v,
                };
                let content = if state.vacation_next {
                    created.pending.remove(&message_id).unwrap_or_default()
                } else {
                    let v = created.variant(plan, message_id);
                    plan.content(cx.raw, v).to_vec()
                };
                send(cx, plan, state, to, content);
            }
            Event::CreatedMessage {
                message_id,
                message,
            } => {
                created.pending.insert(message_id, message);
            }
        }
    }
    Ok(())
}

/// The messages `sieve-rs` created in one run (editheader, vacation), numbered from 1; each
/// moves into [`Plan::variants`] when an action first uses it.
#[derive(Default)]
struct Created {
    pending: HashMap<usize, Vec<u8>>,
    placed: HashMap<usize, usize>,
}

impl Created {
    /// The variant index of message `id` (0: the message as received).
    fn variant(&mut self, plan: &mut Plan, id: usize) -> usize {
        if id == 0 {
            return 0;
        }
        if let Some(v) = self.placed.get(&id) {
            return *v;
        }
        match self.pending.remove(&id) {
            Some(bytes) => {
                plan.variants.push(bytes);
                let v = plan.variants.len();
                self.placed.insert(id, v);
                v
            }
            None => 0,
        }
    }
}

fn send(
    cx: &RunContext<'_>,
    plan: &mut Plan,
    state: &mut State,
    to: Vec<String>,
    content: Vec<u8>,
) {
    if std::mem::take(&mut state.vacation_next) {
        vacation_reply(cx, plan, to, &content);
        return;
    }
    match &state.redirect_loop {
        LoopCheck::Allowed => {
            let raw = redirect::stamp(&content, cx.address);
            plan.outgoing.push(Outgoing {
                kind: OutboundKind::Redirect,
                from: cx.sender.to_string(),
                to,
                raw,
            });
        }
        LoopCheck::Refused(why) => {
            plan.notes.push(format!(
                "redirect to {} not done ({why}); kept",
                to.join(", ")
            ));
            state.force_keep = true;
        }
    }
}

/// Queues the vacation reply, rebuilt from what `sieve-rs` composed so that its header fields
/// are the platform's ([`reply`]), from an address of the user's.
fn vacation_reply(cx: &RunContext<'_>, plan: &mut Plan, to: Vec<String>, composed: &[u8]) {
    let owns = |address: &str| {
        marque_core::lookup::address_belongs_to(cx.store, address, cx.account, cx.address)
            .unwrap_or(false)
    };
    let rcx = ReplyContext {
        user: cx.address,
        to: to.first().map(String::as_str).unwrap_or(cx.sender),
        original: cx.raw,
        hostname: cx.engine.hostname(),
        now: cx.now,
        owns: &owns,
    };
    match reply::rebuild(composed, &rcx) {
        Ok(r) => {
            for n in &r.notes {
                warn!(recipient = %cx.address, note = %n, "vacation reply changed");
            }
            plan.notes.extend(r.notes);
            // RFC 5230 §5.1: the reply goes with the null sender, so that it is never answered.
            plan.outgoing.push(Outgoing {
                kind: OutboundKind::Vacation,
                from: String::new(),
                to,
                raw: r.raw,
            });
        }
        Err(why) => {
            warn!(recipient = %cx.address, %why, "vacation reply not sent");
            plan.notes.push(format!("vacation reply not sent: {why}"));
        }
    }
}
