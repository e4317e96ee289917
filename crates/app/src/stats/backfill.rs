//! Counting the consents recorded before the counters existed (schema 8): the migration
//! noted, per chain, the last entry then written; the server reads those entries in steps,
//! from the ledger (the consent records are the authoritative copy), and adds them to the
//! counters with its progress in one transaction per step (`Store::stats_backfill_step`), so
//! that a restart resumes and two servers never count a step twice. Records erased before
//! their step are not counted (their content is gone).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use assent_store::StatRow;
use serde::Deserialize;

use crate::App;
use crate::error::AppResult;
use crate::sites::SiteVersion;

/// Entries read per step.
pub const STEP: u32 = 5_000;

/// The consent record's fields the counters need (both record formats carry them).
#[derive(Deserialize)]
struct Rec {
    site: String,
    #[serde(rename = "policyVersion")]
    version: i64,
    language: String,
    action: String,
    method: String,
    purposes: BTreeMap<String, bool>,
    #[serde(rename = "consentTimestamp")]
    at: i64,
}

/// One step of the backfill (at most `limit` entries of one chain); returns the number of
/// entries read, 0 when there is nothing left to count.
pub async fn step(st: &App, limit: u32) -> AppResult<u64> {
    let Some((chain, next, upto)) = st.store.stats_backfill_pending().await?.into_iter().next()
    else {
        return Ok(0);
    };
    let entries = st.store.entries(chain, next, limit).await?;
    let mut versions: HashMap<(String, i64), Option<Arc<SiteVersion>>> = HashMap::new();
    let mut sums: BTreeMap<(String, i32, i64, String, String), i64> = BTreeMap::new();
    let mut last = next.saturating_sub(1);
    let mut read = 0;
    for (e, payload) in &entries {
        if e.seq > upto {
            break;
        }
        last = e.seq;
        read += 1;
        let Some(p) = payload.as_deref().filter(|_| e.kind == "consent") else {
            continue;
        };
        let Ok(r) = serde_json::from_slice::<Rec>(p) else {
            continue;
        };
        let key = (r.site.clone(), r.version);
        let v = match versions.get(&key) {
            Some(v) => v.clone(),
            None => {
                let v = st.sites.version(&st.store, &r.site, r.version).await?;
                versions.insert(key, v.clone());
                v
            }
        };
        let Some(v) = v else { continue };
        let t = crate::consent::tally(
            &v,
            r.language,
            r.at,
            &r.action,
            r.method == "gpc",
            &r.purposes,
        );
        let mut bits = t.bits;
        while bits != 0 {
            let b = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let Some(kind) = t.kinds.get(b) {
                let k = (
                    r.site.clone(),
                    t.day,
                    t.version,
                    t.lang.clone(),
                    kind.clone(),
                );
                *sums.entry(k).or_insert(0) += 1;
            }
        }
    }
    if entries.is_empty() {
        // The entries noted by the migration are gone (cannot happen: the ledger is
        // append-only); end this chain's backfill rather than loop.
        last = upto;
    }
    let rows: Vec<StatRow> = sums
        .into_iter()
        .map(|((site, day, version, lang, kind), n)| StatRow {
            site,
            day,
            version,
            lang,
            kind,
            n,
        })
        .collect();
    let done = i64::try_from(next).unwrap_or(0) - 1;
    let new_done = i64::try_from(last).unwrap_or(i64::MAX);
    st.store
        .stats_backfill_step(chain, done, new_done, &rows)
        .await?;
    Ok(read.max(1))
}

/// Runs the backfill to its end (at start, in the background).
pub async fn run(st: &App) -> AppResult<u64> {
    let mut total = 0;
    loop {
        let n = step(st, STEP).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}
