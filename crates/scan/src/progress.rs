//! Progress display on the terminal: a bar when stderr is a TTY, plain lines otherwise (CI).

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use crate::{ProgressEvent, ProgressFn};

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
