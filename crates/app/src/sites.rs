//! The current policy version of every site, cached in memory for the hot paths (banner,
//! consent API) and refreshed from the store, so that servers sharing one PostgreSQL pick up
//! a version applied by another within seconds.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use assent_model::version::SiteSnapshot;
use assent_store::{PolicyVersionRow, Store, StoreError};

/// One stored version with its parsed content.
#[derive(Debug)]
pub struct SiteVersion {
    pub row: PolicyVersionRow,
    pub snapshot: SiteSnapshot,
    /// The parts of a consent record that only depend on this version, pre-encoded (built
    /// on first use by the consent API).
    pub record_template: OnceLock<crate::consent::record::RecordTemplate>,
    /// The dashboard's counter kinds and time zone of this version (built on first use).
    pub tally: OnceLock<crate::stats::tally::VersionTally>,
}

impl SiteVersion {
    pub fn new(row: PolicyVersionRow, snapshot: SiteSnapshot) -> Self {
        SiteVersion {
            row,
            snapshot,
            record_template: OnceLock::new(),
            tally: OnceLock::new(),
        }
    }
}

#[derive(Default)]
pub struct SiteCache {
    latest: RwLock<HashMap<String, Arc<SiteVersion>>>,
    older: RwLock<HashMap<(String, i64), Arc<SiteVersion>>>,
    /// Each site's banner revalidation epoch (see [`SiteCache::bump_epoch`]).
    epochs: RwLock<HashMap<String, i64>>,
}

/// The `meta` key of a site's banner revalidation epoch.
pub(crate) fn epoch_key(site: &str) -> String {
    format!("banner_epoch:{site}")
}

impl SiteCache {
    /// The current version of a site.
    pub fn current(&self, site: &str) -> Option<Arc<SiteVersion>> {
        self.latest.read().ok()?.get(site).cloned()
    }

    pub fn site_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .latest
            .read()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// A given version of a site (loaded once, then kept: versions are immutable).
    pub async fn version(
        &self,
        store: &Store,
        site: &str,
        version: i64,
    ) -> Result<Option<Arc<SiteVersion>>, StoreError> {
        if let Some(cur) = self.current(site)
            && cur.row.version == version
        {
            return Ok(Some(cur));
        }
        let key = (site.to_string(), version);
        if let Some(v) = self.older.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(Some(v));
        }
        let Some(row) = store.policy_version(site, version).await? else {
            return Ok(None);
        };
        let Some(v) = parse(row) else { return Ok(None) };
        let v = Arc::new(v);
        if let Ok(mut m) = self.older.write() {
            m.insert(key, v.clone());
        }
        Ok(Some(v))
    }

    /// A site's banner revalidation epoch: a counter, 0 until the first withdrawal or erasure
    /// of a cookie consent recorded on the server. The banner's configuration carries it, and
    /// a browser holding a stored choice asks the server again whenever it changes
    /// (`docs/banner.md`, "Withdrawals recorded on the server").
    pub fn epoch(&self, site: &str) -> i64 {
        self.epochs
            .read()
            .ok()
            .and_then(|m| m.get(site).copied())
            .unwrap_or(0)
    }

    /// Moves a site's epoch on, after a withdrawal or an erasure recorded on the server (in
    /// the store, so that servers sharing the database pick it up at their next refresh).
    pub async fn bump_epoch(&self, store: &Store, site: &str) -> Result<(), StoreError> {
        store.meta_increment(&epoch_key(site)).await?;
        self.load_epoch(store, site).await
    }

    /// Reloads a site's revalidation epoch from the store (after a change made here).
    pub async fn reload_epoch(&self, store: &Store, site: &str) -> Result<(), StoreError> {
        self.load_epoch(store, site).await
    }

    async fn load_epoch(&self, store: &Store, site: &str) -> Result<(), StoreError> {
        let n = store
            .meta_get(&epoch_key(site))
            .await?
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        if let Ok(mut m) = self.epochs.write() {
            m.insert(site.to_owned(), n);
        }
        Ok(())
    }

    /// Reloads the latest version and the revalidation epoch of the given sites.
    pub async fn refresh(&self, store: &Store, sites: &[String]) -> Result<(), StoreError> {
        for site in sites {
            self.load_epoch(store, site).await?;
            let Some(row) = store.latest_policy_version(site).await? else {
                continue;
            };
            let unchanged = self
                .current(site)
                .is_some_and(|c| c.row.version == row.version);
            if unchanged {
                continue;
            }
            if let Some(v) = parse(row)
                && let Ok(mut m) = self.latest.write()
            {
                m.insert(site.clone(), Arc::new(v));
            }
        }
        Ok(())
    }
}

fn parse(row: PolicyVersionRow) -> Option<SiteVersion> {
    match serde_json::from_str::<SiteSnapshot>(&row.registry_json) {
        Ok(snapshot) => Some(SiteVersion::new(row, snapshot)),
        Err(e) => {
            tracing::error!(site = %row.site, version = row.version, error = %e, "stored policy version does not parse");
            None
        }
    }
}
