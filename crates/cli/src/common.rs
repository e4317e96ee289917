//! What every subcommand may use: the async runtime, the embedded demo registry, and how an
//! application error reads on the command line, and when an output error is no error (a
//! closed pipe). It uses no other file of the binary.

use anyhow::{Context, Result};

/// The demo registry (seed 002, Callkom), embedded so `assent demo` runs anywhere.
pub const DEMO_REGISTRY: &str = include_str!("../../../examples/callkom.toml");

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// How an application error reads on the command line: the field at fault first, as
/// `field: message` (the application layer never puts personal data in a message).
pub(crate) fn app_error(e: assent_app::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Whether an error comes from writing to a closed pipe (`assent export ... | head`): the reader
/// has what it wanted, so the command ends quietly and successfully.
pub(crate) fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
