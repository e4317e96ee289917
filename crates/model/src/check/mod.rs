//! `assent check`: parse a registry and report every problem with its place in the file
//! (`FILE:LINE:COL: error|warning: message`). Parsing errors and semantic lints share one
//! [`Diagnostic`] type; a diagnostic points into the document by a path (`cookies[3].lifetime`)
//! that is resolved to a line and column against the spanned TOML tree.
//!
//! One module per section of the registry (`controller`, `sites`, `purposes`, `services`,
//! `cookies`, `activities` with retention), one for the translated texts and the language rule
//! (`texts`), and shared ones below them: `diag` (diagnostics and their placing), `valid`
//! (value syntax), `ids` (declared ids). Dependencies point one way: this module uses the
//! sections, the sections use the shared modules, never the reverse.

mod activities;
mod controller;
mod cookies;
mod datastores;
mod diag;
mod ids;
mod marketing;
mod placeholders;
mod purposes;
mod retention;
mod services;
mod sites;
mod texts;
mod valid;

pub use diag::{Diagnostic, Seg, Severity, place};

use crate::registry::Registry;

/// Parses and validates a registry. Returns the registry when it has no error (warnings may
/// remain) and every diagnostic, sorted by position.
pub fn check(src: &str) -> (Option<Registry>, Vec<Diagnostic>) {
    let registry: Registry = match toml::from_str(src) {
        Ok(r) => r,
        Err(e) => return (None, vec![Diagnostic::parse_error(src, &e)]),
    };
    let mut lints = diag::Lints::default();
    lint(&registry, &mut lints);
    let out = lints.place(src);
    let ok = !out.iter().any(|d| d.severity == Severity::Error);
    (ok.then_some(registry), out)
}

/// Parses a registry and fails on any error diagnostic (warnings are returned alongside).
pub fn parse(src: &str) -> Result<(Registry, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (reg, diags) = check(src);
    match reg {
        Some(r) => Ok((r, diags)),
        None => Err(diags
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect()),
    }
}

/// Every lint of every section.
fn lint(r: &Registry, l: &mut diag::Lints) {
    controller::lint(r, l);
    let known = ids::Known::collect(r, l);
    sites::lint(r, &known, l);
    purposes::lint(r, l);
    services::lint(r, &known, l);
    cookies::lint(r, &known, l);
    activities::lint(r, &known, l);
    retention::lint(r, l);
    datastores::lint(r, &known, l);
    marketing::lint(r, &known, l);
    texts::lint(r, l);
    placeholders::lint(r, l);
}

#[cfg(test)]
mod tests;
