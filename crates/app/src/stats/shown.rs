//! Banner displays, counted anonymously: the banner posts `{policy_version, language}` when it
//! shows its first layer (`POST /v1/sites/{site}/shown`, a `navigator.sendBeacon`); the count
//! is kept in memory per (site, day, version, language) and added to the day's `shown`
//! counter every few seconds and at shutdown. Nothing is stored in the visitor's browser and
//! nothing about the visitor is kept: no address, no identifier, not even the time (only the
//! day). A display counted in memory is lost if the process is killed before its flush.

use assent_model::stats::SHOWN;
use assent_store::StatRow;
use serde::Deserialize;

use crate::App;
use crate::error::{AppError, AppResult};
use crate::stats::tally::VersionTally;

/// What the banner sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shown {
    pub policy_version: i64,
    pub language: String,
}

/// Counts one display of `site`'s banner: the version must be one of the site's (up to the
/// current one) and the language one it offers.
pub fn count(st: &App, site: &str, shown: Shown) -> AppResult<()> {
    let cur = st
        .sites
        .current(site)
        .ok_or_else(|| AppError::not_found(format!("unknown site `{site}`")).field("site"))?;
    if shown.policy_version < 1 || shown.policy_version > cur.row.version {
        return Err(AppError::invalid(
            "policy_version",
            format!(
                "unknown policy version {} (current: {})",
                shown.policy_version, cur.row.version
            ),
        ));
    }
    if !cur.snapshot.site.languages.contains(&shown.language) {
        return Err(AppError::invalid(
            "language",
            format!(
                "language `{}` is not offered by this site ({})",
                shown.language.chars().take(20).collect::<String>(),
                cur.snapshot.site.languages.join(", ")
            ),
        ));
    }
    let tz = &cur
        .tally
        .get_or_init(|| VersionTally::new(&cur.snapshot))
        .tz;
    let day = assent_model::stats::local_day(st.clock.now_ms(), tz);
    st.shown
        .add((site.to_owned(), day, shown.policy_version, shown.language))
}

/// Adds the displays counted in memory to the counters. On failure they are kept for the
/// next flush.
pub async fn flush(st: &App) -> AppResult<()> {
    let _flushing = st.shown.flushing.lock().await;
    let pending = st.shown.take();
    if pending.is_empty() {
        return Ok(());
    }
    let rows: Vec<StatRow> = pending
        .iter()
        .map(|((site, day, version, lang), n)| StatRow {
            site: site.clone(),
            day: *day,
            version: *version,
            lang: lang.clone(),
            kind: SHOWN.to_owned(),
            n: *n,
        })
        .collect();
    if let Err(e) = st.store.stats_add(&rows).await {
        st.shown.put_back(pending);
        return Err(e.into());
    }
    Ok(())
}
