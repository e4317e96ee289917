//! People of the DPO console: accounts ([`users`]), their passwords ([`password`], Argon2id),
//! the optional second factor ([`totp`], RFC 6238), and logins with server-side sessions and
//! lockouts ([`sessions`]). API tokens for machines stay in `crate::tokens`.
//!
//! Every change a person makes, and every login and logout, is an audit entry in the ledger
//! naming the actor (`user:<id>` or a token id), never a password, code or session id.

pub mod password;
pub mod sessions;
pub mod totp;
pub mod users;
