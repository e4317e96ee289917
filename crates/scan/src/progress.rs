//! Progress of a scan: the events a display receives, the counter of page loads that emits
//! them, and a display on the terminal (a bar when stderr is a TTY, plain lines otherwise, for
//! CI).

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use crate::report::Scenario;

/// One progress step, for a display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressEvent {
    /// The scenario it is about.
    pub scenario: Option<Scenario>,
    /// What happened (`accept_all: http://...`).
    pub message: String,
    /// Page loads done (estimated against `total`).
    pub done: usize,
    /// Page loads planned.
    pub total: usize,
}

/// A progress callback; see [`stderr_progress`].
pub type ProgressFn = Arc<dyn Fn(&ProgressEvent) + Send + Sync>;

/// A progress callback writing to stderr: a redrawn bar on a terminal, one line per event
/// elsewhere (so CI logs stay readable).
pub fn stderr_progress() -> ProgressFn {
    let tty = std::io::stderr().is_terminal();
    let last_len = Arc::new(Mutex::new(0usize));
    Arc::new(move |ev: &ProgressEvent| {
        let mut err = std::io::stderr().lock();
        if tty {
            let mut last = last_len.lock().unwrap_or_else(|e| e.into_inner());
            let line = bar_line(ev, 28);
            let _ = write!(
                err,
                "\r{line}{}",
                " ".repeat(last.saturating_sub(line.chars().count()))
            );
            *last = line.chars().count();
            if ev.done >= ev.total {
                let _ = writeln!(err);
                *last = 0;
            }
        } else {
            let _ = writeln!(err, "[{}/{}] {}", ev.done, ev.total, ev.message);
        }
        let _ = err.flush();
    })
}

/// `[#######.......]  12/44  accept_all: http://...` truncated to a terminal-friendly width.
pub fn bar_line(ev: &ProgressEvent, width: usize) -> String {
    let total = ev.total.max(1);
    let filled = (ev.done.min(total) * width) / total;
    let mut msg: String = ev.message.chars().take(70).collect();
    if ev.message.chars().count() > 70 {
        msg.push('…');
    }
    format!(
        "[{}{}] {:>3}/{:<3} {}",
        "#".repeat(filled),
        ".".repeat(width - filled),
        ev.done,
        ev.total,
        msg
    )
}

/// Counts page loads for the progress display.
#[derive(Clone)]
pub(crate) struct ProgressCounter {
    done: Arc<Mutex<usize>>,
    pub total: usize,
    sink: Option<ProgressFn>,
}

impl ProgressCounter {
    pub(crate) fn new(total: usize, sink: Option<ProgressFn>) -> Self {
        ProgressCounter {
            done: Arc::new(Mutex::new(0)),
            total,
            sink,
        }
    }

    pub(crate) fn advance(&self, scenario: Option<Scenario>, by: usize, message: String) {
        let done = {
            let mut d = self.done.lock().unwrap_or_else(|e| e.into_inner());
            *d = (*d + by).min(self.total);
            *d
        };
        if let Some(sink) = &self.sink {
            sink(&ProgressEvent {
                scenario,
                message,
                done,
                total: self.total,
            });
        }
    }

    pub(crate) fn message(&self, scenario: Option<Scenario>, message: String) {
        self.advance(scenario, 0, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar() {
        let ev = ProgressEvent {
            scenario: None,
            message: "x".into(),
            done: 5,
            total: 10,
        };
        assert_eq!(bar_line(&ev, 10), "[#####.....]   5/10  x");
    }
}
