//! Policy versions: the write (through the writer, with its `policy.version` ledger entry)
//! and the reads, one SQL text each for both backends.

use assent_ledger::Entry;

use crate::error::StoreError;
use crate::rows::{POLICY_COLS, policy_at, str_at};
use crate::sql::{i, t};
use crate::store::Store;
use crate::types::{NewPolicyVersion, PolicyVersionRow};
use crate::writer::{InsertPolicy, Op};

impl Store {
    /// Stores a new policy version of `v.site`, numbered previous max + 1 (1 for the first)
    /// with its consent floor, and appends a `policy.version` ledger entry with
    /// `ledger_payload`, all in one transaction.
    pub async fn insert_policy_version(
        &self,
        v: NewPolicyVersion,
        ledger_payload: Vec<u8>,
        ts_ms: i64,
    ) -> Result<(PolicyVersionRow, Entry), StoreError> {
        let p = InsertPolicy {
            v,
            payload: ledger_payload,
            ts_ms,
        };
        Ok(*self.call(|a| Op::InsertPolicy(Box::new(p), a)).await?)
    }

    /// The newest policy version of a site.
    pub async fn latest_policy_version(
        &self,
        site: &str,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        let sql = format!(
            "SELECT {POLICY_COLS} FROM policy_versions WHERE site = ?1 \
             ORDER BY version DESC LIMIT 1"
        );
        self.row(sql, vec![t(site)], policy_at).await
    }

    /// One policy version of a site.
    pub async fn policy_version(
        &self,
        site: &str,
        version: i64,
    ) -> Result<Option<PolicyVersionRow>, StoreError> {
        let sql =
            format!("SELECT {POLICY_COLS} FROM policy_versions WHERE site = ?1 AND version = ?2");
        self.row(sql, vec![t(site), i(version)], policy_at).await
    }

    /// All versions of a site, oldest first.
    pub async fn list_policy_versions(
        &self,
        site: &str,
    ) -> Result<Vec<PolicyVersionRow>, StoreError> {
        let sql =
            format!("SELECT {POLICY_COLS} FROM policy_versions WHERE site = ?1 ORDER BY version");
        self.rows(sql, vec![t(site)], policy_at).await
    }

    /// Every site that has at least one policy version, sorted.
    pub async fn list_sites(&self) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT DISTINCT site FROM policy_versions ORDER BY site";
        self.rows(sql.to_owned(), vec![], str_at).await
    }
}
