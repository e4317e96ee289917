//! The demo's mail catcher: with `assent demo` and no SMTP server, the emails Assent would
//! have sent are kept here (the 50 latest, in memory) for `/demo/mail`, so that a newcomer
//! can follow the whole rights flow in a browser. Never enabled by `assent serve`: these mails
//! hold requesters' addresses. They are still recorded on their request as not sent.

use std::collections::VecDeque;
use std::sync::Mutex;

/// How many mails the catcher keeps.
pub const KEPT: usize = 50;

/// One caught mail.
#[derive(Debug, Clone)]
pub struct Caught {
    pub at_ms: i64,
    pub request_id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Default)]
pub struct Outbox {
    mails: Mutex<VecDeque<Caught>>,
}

impl Outbox {
    /// Keeps one mail (`to`, `subject`, `body`), dropping the oldest beyond [`KEPT`].
    pub fn keep(&self, at_ms: i64, request_id: &str, to: &str, subject: &str, body: &str) {
        if let Ok(mut m) = self.mails.lock() {
            if m.len() == KEPT {
                m.pop_front();
            }
            m.push_back(Caught {
                at_ms,
                request_id: request_id.to_owned(),
                to: to.to_owned(),
                subject: subject.to_owned(),
                body: body.to_owned(),
            });
        }
    }

    /// The caught mails, newest first.
    pub fn newest_first(&self) -> Vec<Caught> {
        self.mails
            .lock()
            .map(|m| m.iter().rev().cloned().collect())
            .unwrap_or_default()
    }
}
