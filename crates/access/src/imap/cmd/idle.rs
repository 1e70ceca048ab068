//! IDLE (RFC 2177): the session waits for `DONE` and, meanwhile, sends the untagged updates
//! of every change committed to the selected mailbox, woken by the store's notifier.

use std::io;

use marque_store::Event;
use tokio::sync::broadcast::error::RecvError;

use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;
use crate::imap::view;

enum Wake {
    Read(io::Result<usize>),
    Event(Result<Event, RecvError>),
    Shutdown,
}

/// Applies IDLE.
#[tracing::instrument(skip(s, tag))]
pub async fn run(s: &mut Session, tag: &str) -> io::Result<Outcome> {
    let _ = tag;
    let condstore = s.condstore;
    let qresync = s.qresync;
    let store = s.ctx.core.store().clone();
    let mut shutdown = s.io.shutdown_signal()?;
    // Take the event receiver out of the state for the duration, so both can be borrowed.
    let mut events = match &mut s.state {
        State::Authenticated { user } | State::Selected { user, .. } => user.events.take(),
        _ => None,
    }
    .ok_or_else(|| io::Error::other("IDLE without a user"))?;
    s.io.line("+ idling");
    s.io.flush().await?;
    s.io.shrink();
    let result = loop {
        if let Some(line) = s.io.take_line() {
            break if line.eq_ignore_ascii_case(b"DONE") {
                Ok(Outcome::Ok("IDLE terminated".into()))
            } else {
                Ok(Outcome::Bad("expected DONE".into()))
            };
        }
        let wake = tokio::select! {
            n = s.io.fill() => Wake::Read(n),
            e = events.recv() => Wake::Event(e),
            _ = shutdown.wait() => Wake::Shutdown,
            _ = tokio::time::sleep(crate::imap::limits::AUTOLOGOUT) => Wake::Shutdown,
        };
        match wake {
            Wake::Read(n) => {
                if n? == 0 {
                    break Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
            Wake::Event(e) => {
                let relevant = match (&e, &s.state) {
                    (Ok(ev), State::Selected { view, .. }) => ev.mailbox == view.id,
                    (Err(RecvError::Lagged(_)), _) => true,
                    (Err(RecvError::Closed), _) => {
                        break Err(io::Error::other("event channel closed"));
                    }
                    _ => false,
                };
                if relevant && let State::Selected { user, view } = &mut s.state {
                    // Drop what queued up meanwhile: one update covers it.
                    while events.try_recv().is_ok() {}
                    if let Err(e) =
                        view::sync(&store, &mut s.io.out, user, view, true, condstore, qresync)
                            .await
                    {
                        tracing::debug!(error = %e, "update during IDLE failed");
                    }
                    s.io.flush().await?;
                }
            }
            Wake::Shutdown => {
                s.io.line("* BYE [UNAVAILABLE] server shutting down");
                s.state = State::Logout;
                break Ok(Outcome::Ok("IDLE terminated".into()));
            }
        }
    };
    if let State::Authenticated { user } | State::Selected { user, .. } = &mut s.state {
        user.events = Some(events);
    }
    result
}
