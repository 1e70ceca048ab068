//! What one SMTP session knows and what its commands act on: the state (RFC 5321 §4.1.4
//! command order), the error count, the replies it queues, and the end of a transaction.
//! The loop that reads commands is [`super::serve`]; the commands are under [`super::cmd`].

use marque_session::lines::LineIo;
use tracing::{info, warn};

use super::content::Collected;
use super::context::{Context, Helo};
use super::reply::Reply;
use super::transaction::Transaction;
use crate::submission_limits::Counted;

/// Where the session is in RFC 5321's command order.
pub enum State {
    /// Greeted, waiting for EHLO or HELO.
    Start,
    /// After EHLO/HELO (or RSET): no transaction.
    Ready(Helo),
    /// After MAIL FROM: recipients and content.
    Mail(Helo, Box<Transaction>),
}

/// What the loop does after a command.
pub enum Flow {
    Continue,
    Close,
    StartTls,
}

/// One session: its connection's context, where it is, and its errors so far.
pub struct Session {
    pub ctx: Context,
    pub state: State,
    /// Bad commands, failed AUTHs and unknown recipients so far (`max_errors`).
    pub errors: u32,
}

impl Session {
    pub fn new(ctx: Context) -> Self {
        Session {
            ctx,
            state: State::Start,
            errors: 0,
        }
    }

    /// Queues a reply (and keeps it in the conversation); error replies count towards
    /// `max_errors`.
    pub fn reply(&mut self, io: &mut LineIo, r: Reply) {
        if matches!(r.code, 500..=504) || r.code == 535 {
            self.errors += 1;
        }
        for l in r.to_wire().lines() {
            self.ctx.note(format!("S: {l}"));
        }
        io.queue(r.to_wire().as_bytes());
    }

    /// Ends the transaction with its content: delivery, the log record, the reply.
    pub async fn finish(&mut self, content: Collected) -> Reply {
        let State::Mail(helo, mut tx) = std::mem::replace(&mut self.state, State::Start) else {
            return Reply::new(503, "5.5.1", "No transaction");
        };
        self.state = State::Ready(helo.clone());
        let counted = tx.counted.take();
        let reply = tx.finish(&mut self.ctx, &helo, content).await;
        info!(code = reply.code, "transaction done");
        if reply.code != 250 {
            self.give_back(counted).await;
        }
        reply
    }

    /// Gives back the hourly count of a message that was not sent.
    async fn give_back(&self, counted: Option<Counted>) {
        if let Some(c) = counted
            && let Err(e) = self.ctx.limits.give_back(c).await
        {
            // The message stays counted: the limit errs on the strict side.
            warn!(error = %e, "could not give back an hourly message count");
        }
    }

    /// Writes the record of a transaction that ends without content (RSET, QUIT, a new EHLO,
    /// a dropped connection), if it got as far as a recipient.
    pub async fn abandon(&mut self) {
        // Outside a transaction the state (and its EHLO) stays as it is.
        if !matches!(self.state, State::Mail(..)) {
            return;
        }
        if let State::Mail(h, mut tx) = std::mem::replace(&mut self.state, State::Start) {
            self.state = State::Ready(h.clone());
            self.give_back(tx.counted.take()).await;
            tx.abandon(&mut self.ctx, &h).await;
        }
    }
}
