//! Accounts of people: created by an admin (console or `assent user create`) with a role of
//! the one rights table (`admin`, `dpo`, `auditor`; `marketing` is a machine's role), a
//! password set by the person through a one-time setup link (24 hours) or given on the CLI's
//! standard input, disabled rather than deleted (their actions stay attributed in the
//! ledger).

use assent_model::clock::Clock;
use assent_store::{Store, StoreError, UserRow};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::password;
use crate::access::Role;
use crate::error::{AppError, AppResult};
use crate::ledger::audit;

/// How long a setup link stays valid.
pub const SETUP_TTL_MS: i64 = 24 * 3_600_000;

/// Console languages.
pub const LANGS: [&str; 3] = ["en", "fr", "de"];

/// A person's account as the console and the CLI see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub lang: String,
    pub tz: String,
    pub totp: bool,
    pub has_password: bool,
    pub disabled: bool,
    pub created_at_ms: i64,
}

impl User {
    /// How the ledger names this person.
    pub fn actor(&self) -> String {
        format!("user:{}", self.id)
    }
}

impl TryFrom<&UserRow> for User {
    type Error = AppError;
    fn try_from(r: &UserRow) -> AppResult<User> {
        Ok(User {
            id: r.id.clone(),
            email: r.email.clone(),
            role: Role::parse(&r.role)
                .ok_or_else(|| AppError::internal(&format!("user {} has an unknown role", r.id)))?,
            lang: r.lang.clone(),
            tz: r.tz.clone(),
            totp: r.totp_secret.is_some(),
            has_password: r.password_hash.is_some(),
            disabled: r.disabled_at_ms.is_some(),
            created_at_ms: r.created_at_ms,
        })
    }
}

/// What an admin gives to create an account.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub role: String,
    /// Set now (CLI `--password-stdin`); otherwise a setup link is made.
    pub password: Option<String>,
    pub lang: Option<String>,
    pub tz: Option<String>,
}

/// A lower-cased email address, or the reason it is not one.
pub fn parse_email(field: &str, s: &str) -> AppResult<String> {
    let e = s.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(AppError::invalid(
            field,
            "an email address like dpo@example.org",
        ));
    }
    Ok(e)
}

/// A role a person may have.
pub fn parse_role(s: &str) -> AppResult<Role> {
    match Role::parse(s.trim()) {
        Some(r) if r != Role::Marketing => Ok(r),
        _ => Err(AppError::invalid(
            "role",
            format!("unknown role `{}`: use admin, dpo or auditor", s.trim()),
        )),
    }
}

/// A console language (`en`, `fr`, `de`).
pub fn parse_lang(s: &str) -> AppResult<String> {
    LANGS
        .iter()
        .find(|l| **l == s.trim())
        .map(|l| (*l).to_owned())
        .ok_or_else(|| AppError::invalid("lang", "one of en, fr, de"))
}

/// An IANA time zone name.
pub fn parse_tz(s: &str) -> AppResult<String> {
    let s = s.trim();
    if s.len() > 64 || jiff::tz::TimeZone::get(s).is_err() {
        return Err(AppError::invalid(
            "tz",
            "an IANA time zone such as Europe/Paris or UTC",
        ));
    }
    Ok(s.to_owned())
}

fn random_hex(n: usize) -> AppResult<String> {
    let mut raw = vec![0u8; n];
    getrandom::fill(&mut raw).map_err(|e| AppError::internal(&e))?;
    Ok(hex::encode(raw))
}

fn sha(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

async fn setup_link(store: &Store, user_id: &str, now: i64, base: &str) -> AppResult<String> {
    let token = random_hex(32)?;
    store
        .insert_setup_token(&sha(&token), user_id, now + SETUP_TTL_MS)
        .await?;
    Ok(format!("{base}/admin/setup/{token}"))
}

/// Creates an account; returns it and, without a password, its one-time setup link.
pub async fn create(
    store: &Store,
    clock: &dyn Clock,
    actor: &str,
    n: &NewUser,
    base: &str,
) -> AppResult<(User, Option<String>)> {
    let email = parse_email("email", &n.email)?;
    let role = parse_role(&n.role)?;
    let lang = parse_lang(n.lang.as_deref().unwrap_or("en"))?;
    let tz = parse_tz(n.tz.as_deref().unwrap_or("UTC"))?;
    let password_hash = match &n.password {
        Some(p) => {
            password::check_new("password", p)?;
            Some(password::hash(p)?)
        }
        None => None,
    };
    if store.user_by_email(&email).await?.is_some() {
        return Err(
            AppError::conflict("email_taken", "an account with this email already exists")
                .field("email"),
        );
    }
    let now = clock.now_ms();
    let row = UserRow {
        id: format!("u_{}", random_hex(8)?),
        email,
        role: role.as_str().to_owned(),
        password_hash,
        totp_secret: None,
        lang,
        tz,
        created_at_ms: now,
        disabled_at_ms: None,
    };
    store.insert_user(&row).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            AppError::conflict("email_taken", "an account with this email already exists")
                .field("email")
        }
        e => e.into(),
    })?;
    let link = match row.password_hash {
        Some(_) => None,
        None => Some(setup_link(store, &row.id, now, base).await?),
    };
    audit(
        store,
        now,
        "account.user_created",
        json!({"user_id": row.id, "role": row.role, "by": actor}),
    )
    .await?;
    Ok((User::try_from(&row)?, link))
}

/// Every account, by email.
pub async fn list(store: &Store) -> AppResult<Vec<User>> {
    store
        .list_users()
        .await?
        .iter()
        .map(User::try_from)
        .collect()
}

/// An account by id or email.
pub async fn find(store: &Store, who: &str) -> AppResult<UserRow> {
    let found = if who.contains('@') {
        store.user_by_email(&who.trim().to_lowercase()).await?
    } else {
        store.user_by_id(who.trim()).await?
    };
    found.ok_or_else(|| AppError::not_found("no such account").field("user"))
}

async fn save(store: &Store, row: &UserRow) -> AppResult<()> {
    if !store.update_user(row).await? {
        return Err(AppError::not_found("no such account").field("user"));
    }
    Ok(())
}

/// Disables an account and ends its sessions (its history stays).
pub async fn disable(store: &Store, clock: &dyn Clock, actor: &str, who: &str) -> AppResult<User> {
    let mut row = find(store, who).await?;
    let now = clock.now_ms();
    if actor == format!("user:{}", row.id) {
        return Err(AppError::conflict(
            "self",
            "you cannot disable your own account",
        ));
    }
    row.disabled_at_ms.get_or_insert(now);
    save(store, &row).await?;
    store.delete_user_sessions(&row.id).await?;
    audit(
        store,
        now,
        "account.user_disabled",
        json!({"user_id": row.id, "by": actor}),
    )
    .await?;
    User::try_from(&row)
}

/// Enables a disabled account again.
pub async fn enable(store: &Store, clock: &dyn Clock, actor: &str, who: &str) -> AppResult<User> {
    let mut row = find(store, who).await?;
    row.disabled_at_ms = None;
    save(store, &row).await?;
    audit(
        store,
        clock.now_ms(),
        "account.user_enabled",
        json!({"user_id": row.id, "by": actor}),
    )
    .await?;
    User::try_from(&row)
}

/// Changes an account's role; its sessions pick it up at their next request.
pub async fn set_role(
    store: &Store,
    clock: &dyn Clock,
    actor: &str,
    who: &str,
    role: &str,
) -> AppResult<User> {
    let role = parse_role(role)?;
    let mut row = find(store, who).await?;
    if actor == format!("user:{}", row.id) && role != Role::Admin {
        return Err(AppError::conflict(
            "self",
            "you cannot take the admin role from yourself",
        ));
    }
    let before = row.role.clone();
    row.role = role.as_str().to_owned();
    save(store, &row).await?;
    audit(
        store,
        clock.now_ms(),
        "account.role_changed",
        json!({"user_id": row.id, "from": before, "to": row.role, "by": actor}),
    )
    .await?;
    User::try_from(&row)
}

/// A lost password (or second factor): clears both, ends the sessions and makes a new
/// setup link.
pub async fn reset(
    store: &Store,
    clock: &dyn Clock,
    actor: &str,
    who: &str,
    base: &str,
) -> AppResult<String> {
    let mut row = find(store, who).await?;
    let now = clock.now_ms();
    row.password_hash = None;
    row.totp_secret = None;
    save(store, &row).await?;
    store.delete_user_sessions(&row.id).await?;
    let link = setup_link(store, &row.id, now, base).await?;
    audit(
        store,
        now,
        "account.user_reset",
        json!({"user_id": row.id, "by": actor}),
    )
    .await?;
    Ok(link)
}

/// The account a setup link is for, while it is valid.
pub async fn setup_account(store: &Store, clock: &dyn Clock, token: &str) -> AppResult<User> {
    let gone = || {
        AppError::gone(
            "setup_link",
            "this setup link is used or expired: ask an administrator for a new one",
        )
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(gone());
    }
    let id = store
        .setup_token_user(&sha(token), clock.now_ms())
        .await?
        .ok_or_else(gone)?;
    let row = store.user_by_id(&id).await?.ok_or_else(gone)?;
    User::try_from(&row)
}

/// Sets the password of a setup link's account (once).
pub async fn setup_password(
    store: &Store,
    clock: &dyn Clock,
    token: &str,
    new: &str,
    repeat: &str,
) -> AppResult<User> {
    let user = setup_account(store, clock, token).await?;
    password::check_new("password", new)?;
    if new != repeat {
        return Err(AppError::invalid("repeat", "the two passwords differ"));
    }
    let now = clock.now_ms();
    if !store
        .use_setup_token(&sha(token), &user.id, &password::hash(new)?, now)
        .await?
    {
        return Err(AppError::gone(
            "setup_link",
            "this setup link was used meanwhile",
        ));
    }
    audit(
        store,
        now,
        "account.password_set",
        json!({"user_id": user.id, "by": user.actor()}),
    )
    .await?;
    Ok(user)
}

/// A person changes their own password (the current one is asked again); every session of
/// the account ends, so the caller opens a new one.
pub async fn change_password(
    store: &Store,
    clock: &dyn Clock,
    user_id: &str,
    current: &str,
    new: &str,
    repeat: &str,
) -> AppResult<()> {
    let mut row = find(store, user_id).await?;
    let ok = row
        .password_hash
        .as_deref()
        .is_some_and(|h| password::verify(current, h));
    if !ok {
        return Err(AppError::invalid(
            "current",
            "the current password is wrong",
        ));
    }
    password::check_new("password", new)?;
    if new != repeat {
        return Err(AppError::invalid("repeat", "the two passwords differ"));
    }
    row.password_hash = Some(password::hash(new)?);
    save(store, &row).await?;
    store.delete_user_sessions(&row.id).await?;
    audit(
        store,
        clock.now_ms(),
        "account.password_changed",
        json!({"user_id": row.id, "by": format!("user:{}", row.id)}),
    )
    .await?;
    Ok(())
}

/// Turns the second factor on: `secret` (shown on the page) must produce `code` now.
pub async fn enable_totp(
    store: &Store,
    clock: &dyn Clock,
    user_id: &str,
    secret: &str,
    code: &str,
) -> AppResult<()> {
    let mut row = find(store, user_id).await?;
    let now = clock.now_ms();
    if super::totp::unbase32(secret).is_none_or(|k| k.len() < 16) {
        return Err(AppError::invalid("secret", "not a secret made by Assent"));
    }
    if !super::totp::verify(secret, code, now) {
        return Err(AppError::invalid(
            "code",
            "wrong code: check the time of the device and type the six digits it shows now",
        ));
    }
    row.totp_secret = Some(secret.trim().to_owned());
    save(store, &row).await?;
    audit(
        store,
        now,
        "account.totp_enabled",
        json!({"user_id": row.id, "by": format!("user:{}", row.id)}),
    )
    .await?;
    Ok(())
}

/// Turns the second factor off (the password is asked again).
pub async fn disable_totp(
    store: &Store,
    clock: &dyn Clock,
    user_id: &str,
    current: &str,
) -> AppResult<()> {
    let mut row = find(store, user_id).await?;
    if !row
        .password_hash
        .as_deref()
        .is_some_and(|h| password::verify(current, h))
    {
        return Err(AppError::invalid(
            "current",
            "the current password is wrong",
        ));
    }
    row.totp_secret = None;
    save(store, &row).await?;
    audit(
        store,
        clock.now_ms(),
        "account.totp_disabled",
        json!({"user_id": row.id, "by": format!("user:{}", row.id)}),
    )
    .await?;
    Ok(())
}

/// A person's language and time zone for the console.
pub async fn set_preferences(store: &Store, user_id: &str, lang: &str, tz: &str) -> AppResult<()> {
    let mut row = find(store, user_id).await?;
    row.lang = parse_lang(lang)?;
    row.tz = parse_tz(tz)?;
    save(store, &row).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs() {
        assert_eq!(
            parse_email("e", " DPO@Example.org ").unwrap(),
            "dpo@example.org"
        );
        for bad in ["", "x", "a@b", "a b@c.org", "@c.org", "a@.org"] {
            assert!(parse_email("e", bad).is_err(), "{bad}");
        }
        assert!(parse_role("marketing").is_err() && parse_role("root").is_err());
        assert_eq!(parse_role("dpo").unwrap(), Role::Dpo);
        assert!(parse_tz("Europe/Paris").is_ok() && parse_tz("Mars/Olympus").is_err());
        assert!(parse_lang("fr").is_ok() && parse_lang("es").is_err());
    }
}
