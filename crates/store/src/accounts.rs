//! People of the DPO console (tables of migration 0011): accounts, one-time setup links,
//! server-side sessions, failed-login counters, and when API tokens were last used. One SQL
//! text each for both backends (see `sql.rs`); the store decides nothing (the rules live in
//! `assent_app::accounts`).
//!
//! Invariants: no password, setup link or session id is stored, only a password's Argon2id
//! PHC string and the sha256 of links and session ids.

use crate::error::StoreError;
use crate::rows::i64_at;
use crate::sql::{Cols, V, i, insert, ot, t};
use crate::store::Store;

/// A person's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    /// Lower case.
    pub email: String,
    pub role: String,
    /// The Argon2id PHC string; `None` until the person sets a password.
    pub password_hash: Option<String>,
    /// Base32 TOTP secret; `None` without a second factor.
    pub totp_secret: Option<String>,
    /// Language of the console (`en`, `fr`, `de`).
    pub lang: String,
    /// IANA time zone of the dates shown.
    pub tz: String,
    pub created_at_ms: i64,
    pub disabled_at_ms: Option<i64>,
}

/// A console session (the cookie holds the id; only its sha256 is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: [u8; 32],
    pub user_id: String,
    /// The synchronizer token every form of this session carries.
    pub csrf: String,
    pub created_at_ms: i64,
    pub last_seen_ms: i64,
    /// Absolute expiry.
    pub expires_at_ms: i64,
}

/// Failed logins under one key (`user:<id>` or `net:<key>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    pub failures: i64,
    pub window_start_ms: i64,
    pub locked_until_ms: i64,
}

const USER_COLS: &str =
    "id, email, role, password_hash, totp_secret, lang, tz, created_at_ms, disabled_at_ms";

fn user_at(r: &dyn Cols) -> Result<UserRow, StoreError> {
    Ok(UserRow {
        id: r.str_(0)?,
        email: r.str_(1)?,
        role: r.str_(2)?,
        password_hash: r.ostr(3)?,
        totp_secret: r.ostr(4)?,
        lang: r.str_(5)?,
        tz: r.str_(6)?,
        created_at_ms: r.i64_(7)?,
        disabled_at_ms: r.oi64(8)?,
    })
}

const SESSION_COLS: &str = "id_hash, user_id, csrf, created_at_ms, last_seen_ms, expires_at_ms";

fn session_at(r: &dyn Cols) -> Result<SessionRow, StoreError> {
    Ok(SessionRow {
        id_hash: r.hash(0, "session id hash")?,
        user_id: r.str_(1)?,
        csrf: r.str_(2)?,
        created_at_ms: r.i64_(3)?,
        last_seen_ms: r.i64_(4)?,
        expires_at_ms: r.i64_(5)?,
    })
}

fn failures_at(r: &dyn Cols) -> Result<LoginFailures, StoreError> {
    Ok(LoginFailures {
        failures: r.i64_(0)?,
        window_start_ms: r.i64_(1)?,
        locked_until_ms: r.i64_(2)?,
    })
}

fn token_use_at(r: &dyn Cols) -> Result<(String, Option<i64>), StoreError> {
    Ok((r.str_(0)?, r.oi64(1)?))
}

/// Whether the first statement changed a row.
fn changed(n: Option<Vec<u64>>) -> bool {
    n.is_some_and(|n| n.first().is_some_and(|k| *k > 0))
}

impl Store {
    /// Stores a new account; a taken email or id is [`StoreError::Conflict`].
    pub async fn insert_user(&self, u: &UserRow) -> Result<(), StoreError> {
        let vals = vec![
            t(&u.id),
            t(&u.email),
            t(&u.role),
            ot(&u.password_hash),
            ot(&u.totp_secret),
            t(&u.lang),
            t(&u.tz),
            i(u.created_at_ms),
            V::I(u.disabled_at_ms),
        ];
        self.exec(vec![insert("users", USER_COLS, vals)], false, None)
            .await?;
        Ok(())
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE email = ?1");
        self.row(sql, vec![t(email)], user_at).await
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = ?1");
        self.row(sql, vec![t(id)], user_at).await
    }

    /// Every account, by email.
    pub async fn list_users(&self) -> Result<Vec<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users ORDER BY email");
        self.rows(sql, vec![], user_at).await
    }

    /// Replaces an account's changeable fields (role, password hash, TOTP secret, language,
    /// time zone, disabled); `false` when there is no such account.
    pub async fn update_user(&self, u: &UserRow) -> Result<bool, StoreError> {
        let sql = "UPDATE users SET role = ?2, password_hash = ?3, totp_secret = ?4, lang = ?5, \
                   tz = ?6, disabled_at_ms = ?7 WHERE id = ?1";
        let vals = vec![
            t(&u.id),
            t(&u.role),
            ot(&u.password_hash),
            ot(&u.totp_secret),
            t(&u.lang),
            t(&u.tz),
            V::I(u.disabled_at_ms),
        ];
        Ok(changed(
            self.exec(vec![(sql.to_owned(), vals)], false, None).await?,
        ))
    }

    /// Stores a setup link's hash for `user_id`.
    pub async fn insert_setup_token(
        &self,
        hash: &[u8; 32],
        user_id: &str,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        let vals = vec![
            V::B(hash.to_vec()),
            t(user_id),
            i(expires_at_ms),
            V::I(None),
        ];
        let stmt = insert(
            "user_setup_tokens",
            "hash, user_id, expires_at_ms, used_at_ms",
            vals,
        );
        self.exec(vec![stmt], false, None).await?;
        Ok(())
    }

    /// The account of an unused, unexpired setup link.
    pub async fn setup_token_user(
        &self,
        hash: &[u8; 32],
        now_ms: i64,
    ) -> Result<Option<String>, StoreError> {
        let sql = "SELECT user_id FROM user_setup_tokens \
                   WHERE hash = ?1 AND used_at_ms IS NULL AND expires_at_ms > ?2";
        let rows: Vec<String> = self
            .rows(sql.to_owned(), vec![V::B(hash.to_vec()), i(now_ms)], |r| {
                r.str_(0)
            })
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Uses a setup link once: sets the account's password hash and marks the link used, in
    /// one transaction; `false` if the link was used or expired meanwhile.
    pub async fn use_setup_token(
        &self,
        hash: &[u8; 32],
        user_id: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mark = "UPDATE user_setup_tokens SET used_at_ms = ?3 \
                    WHERE hash = ?1 AND user_id = ?2 AND used_at_ms IS NULL AND expires_at_ms > ?3";
        let set = "UPDATE users SET password_hash = ?2 WHERE id = ?1";
        let stmts = vec![
            (
                mark.to_owned(),
                vec![V::B(hash.to_vec()), t(user_id), i(now_ms)],
            ),
            (set.to_owned(), vec![t(user_id), t(password_hash)]),
        ];
        Ok(self.exec(stmts, true, None).await?.is_some())
    }

    pub async fn insert_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        let vals = vec![
            V::B(s.id_hash.to_vec()),
            t(&s.user_id),
            t(&s.csrf),
            i(s.created_at_ms),
            i(s.last_seen_ms),
            i(s.expires_at_ms),
        ];
        let stmt = insert("user_sessions", SESSION_COLS, vals);
        self.exec(vec![stmt], false, None).await?;
        Ok(())
    }

    pub async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!("SELECT {SESSION_COLS} FROM user_sessions WHERE id_hash = ?1");
        self.row(sql, vec![V::B(id_hash.to_vec())], session_at)
            .await
    }

    /// Records activity on a session (its idle expiry counts from here).
    pub async fn touch_session(&self, id_hash: &[u8; 32], now_ms: i64) -> Result<(), StoreError> {
        let sql = "UPDATE user_sessions SET last_seen_ms = ?2 WHERE id_hash = ?1";
        self.exec(
            vec![(sql.to_owned(), vec![V::B(id_hash.to_vec()), i(now_ms)])],
            false,
            None,
        )
        .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &[u8; 32]) -> Result<(), StoreError> {
        let sql = "DELETE FROM user_sessions WHERE id_hash = ?1";
        self.exec(
            vec![(sql.to_owned(), vec![V::B(id_hash.to_vec())])],
            false,
            None,
        )
        .await?;
        Ok(())
    }

    /// Ends every session of an account (disabled, password changed, role changed).
    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM user_sessions WHERE user_id = ?1";
        self.exec(vec![(sql.to_owned(), vec![t(user_id)])], false, None)
            .await?;
        Ok(())
    }

    /// Drops sessions past their absolute expiry.
    pub async fn purge_sessions(&self, now_ms: i64) -> Result<(), StoreError> {
        let sql = "DELETE FROM user_sessions WHERE expires_at_ms <= ?1";
        self.exec(vec![(sql.to_owned(), vec![i(now_ms)])], false, None)
            .await?;
        Ok(())
    }

    pub async fn login_failures(&self, key: &str) -> Result<LoginFailures, StoreError> {
        let sql = "SELECT failures, window_start_ms, locked_until_ms FROM login_failures \
                   WHERE key = ?1";
        Ok(self
            .row(sql.to_owned(), vec![t(key)], failures_at)
            .await?
            .unwrap_or_default())
    }

    pub async fn set_login_failures(&self, key: &str, f: LoginFailures) -> Result<(), StoreError> {
        let sql = "INSERT INTO login_failures (key, failures, window_start_ms, locked_until_ms) \
                   VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET \
                   failures = excluded.failures, window_start_ms = excluded.window_start_ms, \
                   locked_until_ms = excluded.locked_until_ms";
        let vals = vec![
            t(key),
            i(f.failures),
            i(f.window_start_ms),
            i(f.locked_until_ms),
        ];
        self.exec(vec![(sql.to_owned(), vals)], false, None).await?;
        Ok(())
    }

    pub async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM login_failures WHERE key = ?1";
        self.exec(vec![(sql.to_owned(), vec![t(key)])], false, None)
            .await?;
        Ok(())
    }

    /// Records that a token was used (callers write at most once a minute per token).
    pub async fn touch_token(&self, id: &str, now_ms: i64) -> Result<(), StoreError> {
        let sql = "UPDATE api_tokens SET last_used_at_ms = ?2 WHERE id = ?1";
        self.exec(vec![(sql.to_owned(), vec![t(id), i(now_ms)])], false, None)
            .await?;
        Ok(())
    }

    /// `(token id, last used)` of every token.
    pub async fn token_last_used(&self) -> Result<Vec<(String, Option<i64>)>, StoreError> {
        let sql = "SELECT id, last_used_at_ms FROM api_tokens";
        self.rows(sql.to_owned(), vec![], token_use_at).await
    }

    /// How many accounts exist (the first one made by the CLI is the way in).
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM users";
        Ok(self.row(sql.to_owned(), vec![], i64_at).await?.unwrap_or(0))
    }
}

impl Store {
    /// The audit trail: ledger entries other than consents, newest first, `limit` from
    /// `offset`, with their payloads (`None` once redacted).
    pub async fn audit_entries(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<(assent_ledger::Entry, Option<Vec<u8>>)>, StoreError> {
        let sql = format!(
            "SELECT {}, payload FROM ledger_entries WHERE kind <> 'consent' \
             ORDER BY ts_ms DESC, chain, seq DESC LIMIT ?1 OFFSET ?2",
            crate::rows::ENTRY_COLS
        );
        let vals = vec![i(i64::from(limit)), i(i64::from(offset))];
        self.rows(sql, vals, crate::rows::entry_with_payload).await
    }
}
