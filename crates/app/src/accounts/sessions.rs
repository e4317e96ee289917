//! Logins and console sessions. A session is a random 256-bit id in an HttpOnly,
//! SameSite=Strict cookie; the database keeps only its sha256, the account, a synchronizer
//! token for forms (CSRF), and its times: it ends after `idle_minutes` without a request or
//! `absolute_hours` after the login, at logout, and when the account is disabled or changes
//! its password.
//!
//! Guessing is slowed twice, in the database (so a restart forgets nothing): an account
//! with [`ACCOUNT_FAILURES`] failed logins within [`WINDOW_MS`] is locked for [`LOCK_MS`], and so
//! is a client network (the server's salted key of its /24 or /48) after
//! [`NETWORK_FAILURES`]. A wrong email costs the same Argon2 time as a wrong password, and
//! every failure reads the same ("wrong email, password or code").

use assent_model::clock::Clock;
use assent_store::{LoginFailures, SessionRow, Store};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::users::User;
use super::{password, totp};
use crate::error::{AppError, AppResult};
use crate::ledger::audit;

/// Failed logins of one account before it is locked.
pub const ACCOUNT_FAILURES: i64 = 5;
/// Failed logins from one client network before it is locked.
pub const NETWORK_FAILURES: i64 = 20;
/// The window in which failures are counted.
pub const WINDOW_MS: i64 = 15 * 60_000;
/// How long a lock lasts.
pub const LOCK_MS: i64 = 15 * 60_000;
/// A session's `last_seen` is written at most this often.
const TOUCH_MS: i64 = 60_000;

/// Session lifetimes (`[sessions]` in assent.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionPolicy {
    /// A session without a request for this long ends.
    pub idle_minutes: u32,
    /// A session ends this long after its login, whatever its activity.
    pub absolute_hours: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_minutes: 30,
            absolute_hours: 12,
        }
    }
}

impl SessionPolicy {
    pub fn idle_ms(&self) -> i64 {
        i64::from(self.idle_minutes.max(1)) * 60_000
    }
    pub fn absolute_ms(&self) -> i64 {
        i64::from(self.absolute_hours.max(1)) * 3_600_000
    }
}

/// A live session and its person.
#[derive(Debug, Clone)]
pub struct Session {
    /// The cookie's value (only on login; empty when resolved from a cookie).
    pub cookie: String,
    pub csrf: String,
    pub expires_at_ms: i64,
    pub user: User,
}

/// What the login form posts.
#[derive(Debug, Clone, Default)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// The six digits of the authenticator, when the account has a second factor.
    pub code: String,
    /// The server's key of the client network (never an address).
    pub network: String,
}

fn sha(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

fn random_hex() -> AppResult<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| AppError::internal(&e))?;
    Ok(hex::encode(raw))
}

/// `Err(TooMany)` while `key` is locked.
async fn check_lock(store: &Store, key: &str, now: i64) -> AppResult<()> {
    let f = store.login_failures(key).await?;
    if f.locked_until_ms > now {
        let secs = (f.locked_until_ms - now + 999) / 1000;
        return Err(AppError::too_many(u64::try_from(secs).unwrap_or(1)));
    }
    Ok(())
}

/// Counts a failure under `key`; locks it at `max` within the window. Whether it locked.
async fn count_failure(store: &Store, key: &str, max: i64, now: i64) -> AppResult<bool> {
    let mut f = store.login_failures(key).await?;
    if now - f.window_start_ms > WINDOW_MS {
        f = LoginFailures {
            failures: 0,
            window_start_ms: now,
            locked_until_ms: 0,
        };
    }
    f.failures += 1;
    let locked = f.failures >= max;
    if locked {
        f.locked_until_ms = now + LOCK_MS;
        f.failures = 0;
        f.window_start_ms = now;
    }
    store.set_login_failures(key, f).await?;
    Ok(locked)
}

fn wrong() -> AppError {
    AppError::unauthorized("wrong email, password or code")
}

/// Checks the credentials and opens a session.
pub async fn login(
    store: &Store,
    clock: &dyn Clock,
    policy: SessionPolicy,
    input: &LoginInput,
) -> AppResult<Session> {
    let now = clock.now_ms();
    let net_key = format!("net:{}", input.network);
    check_lock(store, &net_key, now).await?;
    let email = input.email.trim().to_lowercase();
    let row = if email.len() <= 254 {
        store.user_by_email(&email).await?
    } else {
        None
    };
    let user_key = row.as_ref().map(|r| format!("user:{}", r.id));
    if let Some(k) = &user_key {
        check_lock(store, k, now).await?;
    }
    let hash = row
        .as_ref()
        .and_then(|r| r.password_hash.clone())
        .unwrap_or_else(|| password::dummy_hash().to_owned());
    let password_ok = password::verify(&input.password, &hash);
    let ok = match &row {
        Some(r) if password_ok && r.password_hash.is_some() && r.disabled_at_ms.is_none() => {
            match &r.totp_secret {
                Some(s) => totp::verify(s, &input.code, now),
                None => true,
            }
        }
        _ => false,
    };
    let Some(row) = row.filter(|_| ok) else {
        count_failure(store, &net_key, NETWORK_FAILURES, now).await?;
        if let Some(k) = &user_key {
            let locked = count_failure(store, k, ACCOUNT_FAILURES, now).await?;
            let id = k.trim_start_matches("user:");
            audit(
                store,
                now,
                "account.login_failed",
                json!({"user_id": id, "locked": locked}),
            )
            .await?;
        }
        return Err(wrong());
    };
    if let Some(k) = &user_key {
        store.clear_login_failures(k).await?;
    }
    let user = User::try_from(&row)?;
    audit(store, now, "account.login", json!({"user_id": user.id})).await?;
    open(store, clock, policy, user).await
}

/// Opens a session for `user` (after a login, or to replace the sessions a password change
/// ended).
pub async fn open(
    store: &Store,
    clock: &dyn Clock,
    policy: SessionPolicy,
    user: User,
) -> AppResult<Session> {
    let now = clock.now_ms();
    let cookie = random_hex()?;
    let csrf = random_hex()?;
    let s = SessionRow {
        id_hash: sha(&cookie),
        user_id: user.id.clone(),
        csrf: csrf.clone(),
        created_at_ms: now,
        last_seen_ms: now,
        expires_at_ms: now + policy.absolute_ms(),
    };
    store.insert_session(&s).await?;
    store.purge_sessions(now).await?;
    Ok(Session {
        cookie,
        csrf,
        expires_at_ms: s.expires_at_ms,
        user,
    })
}

/// The live session of a cookie, if any: unexpired (idle and absolute), of an enabled
/// account with a password. An expired session is deleted.
pub async fn resolve(
    store: &Store,
    clock: &dyn Clock,
    policy: SessionPolicy,
    cookie: &str,
) -> AppResult<Option<Session>> {
    if cookie.len() != 64 || !cookie.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let h = sha(cookie);
    let Some(s) = store.session(&h).await? else {
        return Ok(None);
    };
    let now = clock.now_ms();
    if now >= s.expires_at_ms || now >= s.last_seen_ms + policy.idle_ms() {
        store.delete_session(&h).await?;
        return Ok(None);
    }
    let Some(row) = store.user_by_id(&s.user_id).await? else {
        return Ok(None);
    };
    if row.disabled_at_ms.is_some() || row.password_hash.is_none() {
        store.delete_session(&h).await?;
        return Ok(None);
    }
    if now - s.last_seen_ms >= TOUCH_MS {
        store.touch_session(&h, now).await?;
    }
    Ok(Some(Session {
        cookie: String::new(),
        csrf: s.csrf,
        expires_at_ms: s.expires_at_ms,
        user: User::try_from(&row)?,
    }))
}

/// Ends a session on the server (logout).
pub async fn logout(
    store: &Store,
    clock: &dyn Clock,
    cookie: &str,
    user_id: &str,
) -> AppResult<()> {
    store.delete_session(&sha(cookie)).await?;
    audit(
        store,
        clock.now_ms(),
        "account.logout",
        json!({"user_id": user_id}),
    )
    .await?;
    Ok(())
}
