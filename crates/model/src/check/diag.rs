//! Diagnostics of `assent check`, shared by every section of the lints: the [`Diagnostic`]
//! type, the path into the document a lint names (`cookies[3].lifetime`), the list lints append
//! to, and the placing of each path at a line and column of the source.
//!
//! Invariants: a path is resolved against the spanned TOML tree to its deepest existing element
//! (a missing key points at its table), lines and columns are 1-based and columns count
//! characters, not bytes; diagnostics come out sorted by position, errors before warnings at
//! the same place.

use std::fmt;

use toml::de::{DeTable, DeValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_string())
    }
}
impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// A path from its segments: `p!["cookies", i, "lifetime"]`.
macro_rules! p {
    ($($seg:expr),* $(,)?) => { vec![$($crate::check::diag::Seg::from($seg)),*] };
}
pub(crate) use p;

/// `path` followed by `seg`: the element of a list or the key of a table that a lint names.
pub(crate) fn join(path: &[Seg], seg: impl Into<Seg>) -> Vec<Seg> {
    let mut out = path.to_vec();
    out.push(seg.into());
    out
}

/// A problem found in a registry, with its 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub line: usize,
    pub col: usize,
    pub path: String,
    pub message: String,
}

impl Diagnostic {
    /// `FILE:LINE:COL: error: message`
    pub fn render(&self, file: &str) -> String {
        format!(
            "{file}:{}:{}: {}: {}",
            self.line, self.col, self.severity, self.message
        )
    }

    /// The one diagnostic of a registry that does not parse, at the parser's position.
    pub(crate) fn parse_error(src: &str, e: &toml::de::Error) -> Self {
        let (line, col) = e
            .span()
            .map(|s| LineIndex::new(src).line_col(s.start))
            .unwrap_or((1, 1));
        Diagnostic {
            severity: Severity::Error,
            line,
            col,
            path: String::new(),
            message: e.message().trim().to_string(),
        }
    }
}

/// What the lints found, by path; placed in the source by [`Lints::place`].
#[derive(Default)]
pub(crate) struct Lints(Vec<(Severity, Vec<Seg>, String)>);

impl Lints {
    pub(crate) fn error(&mut self, path: Vec<Seg>, msg: impl Into<String>) {
        self.0.push((Severity::Error, path, msg.into()));
    }
    pub(crate) fn warn(&mut self, path: Vec<Seg>, msg: impl Into<String>) {
        self.0.push((Severity::Warning, path, msg.into()));
    }

    /// Every finding as a diagnostic with its line and column in `src`, sorted by position.
    pub(crate) fn place(self, src: &str) -> Vec<Diagnostic> {
        let index = LineIndex::new(src);
        let tree = DeTable::parse(src).ok();
        let mut out: Vec<Diagnostic> = self
            .0
            .into_iter()
            .map(|(severity, path, message)| {
                let offset = tree
                    .as_ref()
                    .and_then(|t| locate(t.get_ref(), &path))
                    .unwrap_or(0);
                let (line, col) = index.line_col(offset);
                Diagnostic {
                    severity,
                    line,
                    col,
                    path: path_string(&path),
                    message,
                }
            })
            .collect();
        out.sort_by_key(|d| (d.line, d.col, d.severity));
        out
    }
}

/// Places findings made outside the registry's own lints (e.g. `assent datastore check`, which
/// compares the annotations with live databases) at their line and column in `src`.
pub fn place(src: &str, findings: Vec<(Severity, Vec<Seg>, String)>) -> Vec<Diagnostic> {
    Lints(findings).place(src)
}

/// `cookies[3].lifetime`: how a path is named in diagnostics.
pub(crate) fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Finds the byte offset of the deepest existing element along `path`.
fn locate(table: &DeTable<'_>, path: &[Seg]) -> Option<usize> {
    let mut best: Option<usize> = None;
    let mut current: Option<&DeValue<'_>> = None;
    for (i, seg) in path.iter().enumerate() {
        let next = match (i, seg, current) {
            (0, Seg::Key(k), _) => lookup(table, k),
            (_, Seg::Key(k), Some(DeValue::Table(t))) => lookup(t, k),
            (_, Seg::Index(n), Some(DeValue::Array(a))) => a.get(*n),
            _ => None,
        };
        match next {
            Some(v) => {
                best = Some(v.span().start);
                current = Some(v.get_ref());
            }
            None => break,
        }
    }
    best
}

fn lookup<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a toml::Spanned<DeValue<'i>>> {
    t.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
}

/// Byte offsets of line starts, to turn an offset into a line and a column.
struct LineIndex<'a> {
    starts: Vec<usize>,
    src: &'a str,
}

impl<'a> LineIndex<'a> {
    fn new(src: &'a str) -> Self {
        let mut starts = vec![0];
        for (i, b) in src.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        Self { starts, src }
    }
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = match self.starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let end = offset.min(self.src.len());
        let col = self
            .src
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (line + 1, col)
    }
}
