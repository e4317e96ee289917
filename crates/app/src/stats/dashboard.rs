//! The dashboard of a site over a period: reads the site's counters and its rights
//! deadlines, and leaves the arithmetic to [`assent_model::dashboard::build`].

use assent_model::dashboard::{Dashboard, Input, RightsDue};
use assent_model::stats::local_day;

use crate::App;
use crate::error::{AppError, AppResult};
use crate::stats::tally::VersionTally;

/// What the caller asks: a site and a period (`period` 7/30/90, or `from` and `to`).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    pub site: Option<String>,
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The page's language (`en`, `fr`, `de`); names the purposes.
    pub lang: Option<String>,
}

/// The dashboard of `q.site` (the first site when none is named) over `q`'s period. `lang`
/// names the purposes.
pub async fn dashboard(st: &App, q: &Query, lang: &str) -> AppResult<Dashboard> {
    let sites = st.sites.site_ids();
    let site = match &q.site {
        Some(s) => s.clone(),
        None => sites
            .first()
            .cloned()
            .ok_or_else(|| AppError::not_found("no site yet: apply a registry first"))?,
    };
    let cur = st
        .sites
        .current(&site)
        .ok_or_else(|| AppError::not_found(format!("unknown site `{site}`")).field("site"))?;
    let tz = cur
        .tally
        .get_or_init(|| VersionTally::new(&cur.snapshot))
        .tz
        .clone();
    let now = st.clock.now_ms();
    let today = local_day(now, &tz);
    let (from, to) = assent_model::stats::period(
        q.period.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
        today,
    )
    .map_err(|e| AppError::invalid(e.field, e.message))?;
    // Displays counted in memory are part of the answer.
    super::shown::flush(st).await?;
    let rows = st.store.stats_between(&site, from, to).await?;
    let purposes: Vec<(String, String)> = cur
        .snapshot
        .purposes
        .iter()
        .filter(|p| p.consent_required)
        .map(|p| (p.id.clone(), p.name.get(lang, "en").to_owned()))
        .collect();
    let (open, due10, due5, overdue) = st.store.rights_due_counts(&site, now).await?;
    let input = Input {
        site,
        sites,
        from,
        to,
        time_zone: tz.iana_name().unwrap_or("UTC").to_owned(),
        purposes,
        rights: RightsDue {
            open,
            due_within_10_days: due10,
            due_within_5_days: due5,
            overdue,
        },
    };
    Ok(assent_model::dashboard::build(input, &rows))
}
