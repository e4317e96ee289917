//! Persistence of marketing choices (tables of migration `0006_marketing`), for both
//! backends: the current state of each (site, channel, purpose, address hash), the double
//! opt-in requests waiting for their link, and the batch lookup the check before a campaign
//! makes.
//!
//! A change of state is written with its ledger entry in one transaction (the backend's
//! group-commit writer owns the chain), so no choice exists without its proof. The lookup
//! reads many address hashes per query (chunks of [`LOOKUP_CHUNK`]): no round trip per
//! recipient.
//!
//! Statuses and channels are read into `assent_model`'s enums; an unknown value in the
//! database is [`StoreError::CorruptValue`], never a default.

use assent_model::marketing::{MarketingChannel, SubscriptionStatus};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::sql::{Cols, Stmt, V, i, insert, ot, parsed, t};
use crate::store::Store;
use crate::types::AppendItem;

/// Sending attempts of a confirmation email before the job gives up (the error stays
/// visible to the operator until the request expires).
pub const MAX_MAIL_ATTEMPTS: i64 = 100;

/// Address hashes per lookup query.
pub const LOOKUP_CHUNK: usize = 1000;

/// The current state of one subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRow {
    pub site: String,
    pub channel: MarketingChannel,
    /// Keyed HMAC-SHA256 of the canonical address.
    pub addr_hash: [u8; 32],
    /// A marketing purpose id, or `*` for every purpose (a suppression).
    pub purpose: String,
    pub status: SubscriptionStatus,
    /// `consent` or `soft_opt_in` for an opt-in; `None` for an opt-out.
    pub basis: Option<String>,
    /// Where the choice came from: `api`, `double_opt_in`, `one_click`, `preferences`,
    /// `sms_stop`, `rights_request`, `import`.
    pub source: String,
    /// The receipt of the choice (its ledger entry's payload names it).
    pub receipt_id: String,
    /// The canonical address; `None` when unknown (an unsubscribe link) or erased.
    pub address: Option<String>,
    /// Plain SHA-256 (hex) of the canonical address, for processors' suppression lists.
    pub sha256: Option<String>,
    pub updated_at_ms: i64,
}

/// What the check before a campaign needs of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub addr_hash: [u8; 32],
    /// Whether the row is the `*` suppression rather than the purpose's own.
    pub all_purposes: bool,
    pub status: SubscriptionStatus,
    pub updated_at_ms: i64,
}

/// A double opt-in waiting for its confirmation link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRow {
    /// SHA-256 of the link's token.
    pub token_hash: [u8; 32],
    /// The receipt id the confirmed choice will have.
    pub id: String,
    pub site: String,
    pub channel: MarketingChannel,
    pub purpose: String,
    pub addr_hash: [u8; 32],
    pub address: String,
    pub basis: String,
    /// The provenance given with the request (canonical JSON).
    pub provenance: String,
    pub language: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub mail_sent_at_ms: Option<i64>,
    pub mail_attempts: i64,
    /// Why the last sending failed (shown to the operator until it succeeds).
    pub mail_error: Option<String>,
}

const SUB_COLS: &str = "site, channel, addr_hash, purpose, status, basis, source, receipt_id, \
    address, sha256, updated_at_ms";
const PENDING_COLS: &str = "token_hash, id, site, channel, purpose, addr_hash, address, basis, \
    provenance, language, created_at_ms, expires_at_ms, mail_sent_at_ms, mail_attempts, mail_error";

fn sub_at(r: &dyn Cols) -> Result<SubscriptionRow, StoreError> {
    Ok(SubscriptionRow {
        site: r.str_(0)?,
        channel: parsed(
            r,
            1,
            "marketing_subscriptions",
            "channel",
            MarketingChannel::parse,
        )?,
        addr_hash: r.hash(2, "marketing address hash")?,
        purpose: r.str_(3)?,
        status: parsed(
            r,
            4,
            "marketing_subscriptions",
            "status",
            SubscriptionStatus::parse,
        )?,
        basis: r.ostr(5)?,
        source: r.str_(6)?,
        receipt_id: r.str_(7)?,
        address: r.ostr(8)?,
        sha256: r.ostr(9)?,
        updated_at_ms: r.i64_(10)?,
    })
}

fn standing_at(r: &dyn Cols) -> Result<Standing, StoreError> {
    Ok(Standing {
        addr_hash: r.hash(0, "marketing address hash")?,
        all_purposes: r.str_(1)? == assent_model::marketing::ALL_PURPOSES,
        status: parsed(
            r,
            2,
            "marketing_subscriptions",
            "status",
            SubscriptionStatus::parse,
        )?,
        updated_at_ms: r.i64_(3)?,
    })
}

fn pending_at(r: &dyn Cols) -> Result<PendingRow, StoreError> {
    Ok(PendingRow {
        token_hash: r.hash(0, "marketing token hash")?,
        id: r.str_(1)?,
        site: r.str_(2)?,
        channel: parsed(
            r,
            3,
            "marketing_pending",
            "channel",
            MarketingChannel::parse,
        )?,
        purpose: r.str_(4)?,
        addr_hash: r.hash(5, "marketing address hash")?,
        address: r.str_(6)?,
        basis: r.str_(7)?,
        provenance: r.str_(8)?,
        language: r.str_(9)?,
        created_at_ms: r.i64_(10)?,
        expires_at_ms: r.i64_(11)?,
        mail_sent_at_ms: r.oi64(12)?,
        mail_attempts: r.i64_(13)?,
        mail_error: r.ostr(14)?,
    })
}

/// Inserts or replaces a subscription's state. An unknown address (`None`) keeps the one
/// already stored.
fn upsert_stmt(s: &SubscriptionRow) -> Stmt {
    let (sql, vals) = insert(
        "marketing_subscriptions",
        SUB_COLS,
        vec![
            t(&s.site),
            t(s.channel.as_str()),
            V::B(s.addr_hash.to_vec()),
            t(&s.purpose),
            t(s.status.as_str()),
            ot(&s.basis),
            t(&s.source),
            t(&s.receipt_id),
            ot(&s.address),
            ot(&s.sha256),
            i(s.updated_at_ms),
        ],
    );
    let sql = format!(
        "{sql} ON CONFLICT (site, channel, purpose, addr_hash) DO UPDATE SET \
         status = excluded.status, basis = excluded.basis, source = excluded.source, \
         receipt_id = excluded.receipt_id, \
         address = COALESCE(excluded.address, marketing_subscriptions.address), \
         sha256 = COALESCE(excluded.sha256, marketing_subscriptions.sha256), \
         updated_at_ms = excluded.updated_at_ms"
    );
    (sql, vals)
}

fn insert_pending_stmt(p: &PendingRow) -> Stmt {
    insert(
        "marketing_pending",
        PENDING_COLS,
        vec![
            V::B(p.token_hash.to_vec()),
            t(&p.id),
            t(&p.site),
            t(p.channel.as_str()),
            t(&p.purpose),
            V::B(p.addr_hash.to_vec()),
            t(&p.address),
            t(&p.basis),
            t(&p.provenance),
            t(&p.language),
            i(p.created_at_ms),
            i(p.expires_at_ms),
            V::I(p.mail_sent_at_ms),
            i(p.mail_attempts),
            ot(&p.mail_error),
        ],
    )
}

impl Store {
    /// Writes subscription states and `ledger` (their proof) in one transaction.
    pub async fn marketing_set(
        &self,
        rows: &[SubscriptionRow],
        ledger: Option<AppendItem>,
    ) -> Result<(), StoreError> {
        let stmts = rows.iter().map(upsert_stmt).collect();
        self.exec(stmts, false, ledger).await?;
        Ok(())
    }

    /// The rows of `purpose` and of `*` for the given address hashes on (site, channel):
    /// one query per [`LOOKUP_CHUNK`] hashes.
    pub async fn marketing_lookup(
        &self,
        site: &str,
        channel: MarketingChannel,
        purpose: &str,
        hashes: &[[u8; 32]],
    ) -> Result<Vec<Standing>, StoreError> {
        let mut out = Vec::with_capacity(hashes.len());
        for chunk in hashes.chunks(LOOKUP_CHUNK) {
            let mut vals = Vec::with_capacity(chunk.len() + 4);
            vals.extend([
                t(site),
                t(channel.as_str()),
                t(purpose),
                t(assent_model::marketing::ALL_PURPOSES),
            ]);
            let marks: Vec<String> = (5..5 + chunk.len()).map(|k| format!("?{k}")).collect();
            vals.extend(chunk.iter().map(|h| V::B(h.to_vec())));
            let sql = format!(
                "SELECT addr_hash, purpose, status, updated_at_ms FROM marketing_subscriptions \
                 WHERE site = ?1 AND channel = ?2 AND purpose IN (?3, ?4) \
                 AND addr_hash IN ({})",
                marks.join(",")
            );
            out.extend(self.rows(sql, vals, standing_at).await?);
        }
        Ok(out)
    }

    /// Every subscription of one address on (site, channel), for its preference page.
    pub async fn marketing_of(
        &self,
        site: &str,
        channel: MarketingChannel,
        addr_hash: &[u8; 32],
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        let sql = format!(
            "SELECT {SUB_COLS} FROM marketing_subscriptions \
             WHERE site = ?1 AND channel = ?2 AND addr_hash = ?3 ORDER BY purpose"
        );
        let vals = vec![t(site), t(channel.as_str()), V::B(addr_hash.to_vec())];
        self.rows(sql, vals, sub_at).await
    }

    /// Opt-outs of `channel` (every site) changed at or after `since_ms`, oldest first.
    pub async fn marketing_suppressions(
        &self,
        channel: MarketingChannel,
        since_ms: i64,
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        let sql = format!(
            "SELECT {SUB_COLS} FROM marketing_subscriptions \
             WHERE status = ?1 AND channel = ?2 AND updated_at_ms >= ?3 \
             ORDER BY updated_at_ms, site, purpose"
        );
        let vals = vec![
            t(SubscriptionStatus::OptedOut.as_str()),
            t(channel.as_str()),
            i(since_ms),
        ];
        self.rows(sql, vals, sub_at).await
    }

    /// Erasure of an address: its stored copies go (subscriptions keep their hashes, so
    /// that a suppression still holds; pending opt-ins are deleted), and `rows` (the
    /// suppression) and `ledger` are written in the same transaction.
    pub async fn marketing_erase_address(
        &self,
        addr_hash: &[u8; 32],
        rows: &[SubscriptionRow],
        ledger: Option<AppendItem>,
    ) -> Result<(), StoreError> {
        let h = || V::B(addr_hash.to_vec());
        let mut stmts: Vec<Stmt> = rows.iter().map(upsert_stmt).collect();
        stmts.push((
            "UPDATE marketing_subscriptions SET address = NULL WHERE addr_hash = ?1".to_owned(),
            vec![h()],
        ));
        stmts.push((
            "DELETE FROM marketing_pending WHERE addr_hash = ?1".to_owned(),
            vec![h()],
        ));
        self.exec(stmts, false, ledger).await?;
        Ok(())
    }

    /// Stores a double opt-in waiting for its link.
    pub async fn marketing_insert_pending(&self, p: &PendingRow) -> Result<(), StoreError> {
        self.exec(vec![insert_pending_stmt(p)], false, None).await?;
        Ok(())
    }

    /// A pending opt-in by the SHA-256 of its token.
    pub async fn marketing_pending(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<PendingRow>, StoreError> {
        let sql = format!("SELECT {PENDING_COLS} FROM marketing_pending WHERE token_hash = ?1");
        self.row(sql, vec![V::B(token_hash.to_vec())], pending_at)
            .await
    }

    /// Confirms a pending opt-in: deletes it and writes `row` and `ledger`, in one
    /// transaction. `false`: it was no longer pending (confirmed or expired meanwhile).
    pub async fn marketing_confirm(
        &self,
        token_hash: &[u8; 32],
        row: &SubscriptionRow,
        ledger: AppendItem,
    ) -> Result<bool, StoreError> {
        let stmts = vec![
            (
                "DELETE FROM marketing_pending WHERE token_hash = ?1".to_owned(),
                vec![V::B(token_hash.to_vec())],
            ),
            upsert_stmt(row),
        ];
        Ok(self.exec(stmts, true, Some(ledger)).await?.is_some())
    }

    /// Pending opt-ins whose confirmation email is still to send, before `now_ms` expiry,
    /// tried fewer than [`MAX_MAIL_ATTEMPTS`] times.
    pub async fn marketing_unsent(&self, now_ms: i64) -> Result<Vec<PendingRow>, StoreError> {
        let sql = format!(
            "SELECT {PENDING_COLS} FROM marketing_pending \
             WHERE mail_sent_at_ms IS NULL AND expires_at_ms > ?1 AND mail_attempts < ?2 \
             ORDER BY created_at_ms"
        );
        self.rows(sql, vec![i(now_ms), i(MAX_MAIL_ATTEMPTS)], pending_at)
            .await
    }

    /// Replaces the token of a pending opt-in (its confirmation email is sent again with a
    /// new link).
    pub async fn marketing_rotate_token(
        &self,
        id: &str,
        token_hash: &[u8; 32],
    ) -> Result<(), StoreError> {
        let sql = "UPDATE marketing_pending SET token_hash = ?1 WHERE id = ?2";
        let vals = vec![V::B(token_hash.to_vec()), t(id)];
        self.exec(vec![(sql.to_owned(), vals)], false, None).await?;
        Ok(())
    }

    /// Records a sending attempt: sent at `sent_ms`, or failed with `error`.
    pub async fn marketing_mail_attempt(
        &self,
        id: &str,
        sent_ms: Option<i64>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE marketing_pending SET mail_attempts = mail_attempts + 1, \
                   mail_sent_at_ms = ?1, mail_error = ?2 WHERE id = ?3";
        let vals = vec![V::I(sent_ms), V::T(error.map(str::to_owned)), t(id)];
        self.exec(vec![(sql.to_owned(), vals)], false, None).await?;
        Ok(())
    }

    /// Pending opt-ins that failed to send, for the operator (the address is left out).
    pub async fn marketing_failed_mails(&self) -> Result<Vec<PendingRow>, StoreError> {
        let sql = format!(
            "SELECT {PENDING_COLS} FROM marketing_pending \
             WHERE mail_sent_at_ms IS NULL AND mail_error IS NOT NULL ORDER BY created_at_ms"
        );
        self.rows(sql, vec![], pending_at).await
    }

    /// Deletes the pending opt-ins expired at `now_ms` (with their addresses); returns how
    /// many.
    pub async fn marketing_expire(&self, now_ms: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM marketing_pending WHERE expires_at_ms <= ?1";
        let n = self
            .exec(vec![(sql.to_owned(), vec![i(now_ms)])], false, None)
            .await?;
        Ok(n.and_then(|v| v.first().copied()).unwrap_or(0))
    }
}
