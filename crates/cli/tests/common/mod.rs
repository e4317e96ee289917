//! Helpers shared by the `assent` binary's tests (`cli.rs`, `witness.rs`): the binary, a
//! temporary directory removed on drop (testkit's), and a command's output as text.
#![allow(dead_code, clippy::unwrap_used)]

use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_assent");

pub use assent_testkit::{TempDir, random_hex};

/// Runs `assent ARGS`, without the environment's database or data directory.
pub fn assent(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("ASSENT_DATABASE_URL")
        .env_remove("ASSENT_DATA")
        .output()
        .unwrap()
}

/// Standard output and standard error, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
