//! The rule set a retention plan or run applies (the registry's rules and Assent's defaults
//! for its own kinds, the controller's time zone, each site's consent lifetime), the plan
//! (what is due, held, and next due; nothing changes), and the enforcement of each rule for
//! the policies (who enforces it, the last run).
//!
//! Invariants: the plan and the run count the same records (they share [`ConsentScope`]
//! and [`rights_state`]); a rule Assent does not enforce has no counts, only who does.

use std::collections::{BTreeMap, HashSet};

use assent_model::Registry;
use assent_model::registry::{DEFAULT_CONSENT_LIFETIME_DAYS, MAX_CONSENT_LIFETIME_DAYS};
use assent_model::retention::{
    Anchor, AppliesTo, EffectiveRule, Enforcer, anchor_cutoff, due_at, effective_rules, own_anchor,
};
use assent_model::rights::{Status, time_zone};
use assent_store::{RightsRequestRow, Store};
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::App;
use crate::error::{AppError, AppResult};
use crate::retention::holds::Held;
use crate::retention::marketing::plan_marketing;
use crate::retention::tables::{TableAccess, TableScope, plan_table};

const DAY_MS: i64 = 86_400_000;

/// What a plan or a run applies: the rules, the controller's zone, the sites' lifetimes.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<EffectiveRule>,
    pub tz: TimeZone,
    /// Consent lifetime of each site the registry lists, in days.
    pub lifetimes: BTreeMap<String, u32>,
    /// The registry's datastores, for rules bound to their tables.
    pub tables: TableAccess,
}

impl RuleSet {
    /// The rules of `r` in its controller's time zone.
    pub fn from_registry(r: &Registry) -> AppResult<RuleSet> {
        let tz = time_zone(&r.controller.timezone).map_err(|_| {
            AppError::invalid(
                "controller.timezone",
                format!("unknown time zone `{}`", r.controller.timezone),
            )
        })?;
        Ok(RuleSet {
            rules: effective_rules(r),
            tz,
            lifetimes: r
                .sites
                .iter()
                .map(|s| (s.id.clone(), s.consent_lifetime_days))
                .collect(),
            tables: TableAccess::new(r.datastores.clone()),
        })
    }

    /// The server's rule set: the configured registry file, else the rules of the current
    /// policy versions of every site (a registry applied with `assent apply`).
    pub fn for_app(st: &App) -> AppResult<RuleSet> {
        if let Some(path) = &st.settings.registry {
            let src = std::fs::read_to_string(path).map_err(|e| {
                AppError::unavailable(format!("{}: cannot read the registry: {e}", path.display()))
            })?;
            let (reg, _) = assent_model::check::parse(&src).map_err(|d| {
                AppError::invalid(
                    "registry",
                    d.first()
                        .map(|d| d.render(&path.display().to_string()))
                        .unwrap_or_default(),
                )
            })?;
            let mut set = RuleSet::from_registry(&reg)?;
            // Anonymising a table rewrites its `hash` columns with the erasure key.
            if set.rules.iter().any(|r| {
                r.action == assent_model::registry::RetentionAction::Anonymise
                    && matches!(r.applies_to, Some(AppliesTo::Table { .. }))
            }) {
                set.tables.key = crate::fulfil::ErasureKey::load(Some(&st.settings.data_dir))
                    .ok()
                    .map(std::sync::Arc::new);
            }
            return Ok(set);
        }
        let mut merged: Option<Registry> = None;
        for id in st.sites.site_ids() {
            let Some(cur) = st.sites.current(&id) else {
                continue;
            };
            let r = cur.snapshot.to_registry();
            match &mut merged {
                None => merged = Some(r),
                Some(m) => {
                    m.sites.extend(r.sites);
                    for rule in r.retention {
                        if m.retention_rule(&rule.id).is_none() {
                            m.retention.push(rule);
                        }
                    }
                }
            }
        }
        match merged {
            Some(r) => RuleSet::from_registry(&r),
            None => Ok(RuleSet {
                rules: effective_rules(&empty_registry()),
                tz: TimeZone::UTC,
                lifetimes: BTreeMap::new(),
                tables: TableAccess::new(vec![]),
            }),
        }
    }

    /// A site's consent lifetime in milliseconds: the registry's, else the 13-month cap (a
    /// site the registry no longer lists: never purge a proof before its choice expired).
    pub(crate) fn lifetime_ms(&self, site: &str) -> i64 {
        let days = self
            .lifetimes
            .get(site)
            .copied()
            .unwrap_or(MAX_CONSENT_LIFETIME_DAYS.max(DEFAULT_CONSENT_LIFETIME_DAYS));
        i64::from(days) * DAY_MS
    }
}

fn empty_registry() -> Registry {
    Registry {
        controller: assent_model::registry::Controller {
            name: String::new(),
            legal_form: None,
            registration: None,
            address: String::new(),
            country: String::new(),
            email: String::new(),
            phone: None,
            website: None,
            timezone: "UTC".into(),
            rights_email: None,
            rights_address: None,
            dpo: None,
            representative: None,
            supervisory_authority: assent_model::registry::Authority {
                name: String::new(),
                url: None,
                address: None,
            },
        },
        sites: vec![],
        purposes: vec![],
        services: vec![],
        cookies: vec![],
        activities: vec![],
        retention: vec![],
        datastores: vec![],
        marketing: vec![],
    }
}

/// One rule of a plan (`assent retention plan --json` prints `{"rules": [these]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulePlan {
    pub id: String,
    /// A kind name, `DATASTORE.TABLE`, or null for a rule bound to nothing.
    pub applies_to: Option<String>,
    /// `assent`, `controller` or `operator`.
    pub enforced_by: &'static str,
    /// Why, when not Assent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    /// Assent's default for an own kind no registry rule binds.
    pub default: bool,
    pub period: String,
    pub trigger: &'static str,
    /// Records due (held ones excluded); null when Assent does not enforce the rule.
    pub due: Option<i64>,
    pub held: Option<i64>,
    /// When the next records fall due after these (RFC 3339), if any.
    pub next_due_at: Option<String>,
    /// The largest anchor due (RFC 3339): records anchored at or before it are due.
    pub cutoff: Option<String>,
    /// Datastore tables: rows whose anchor is NULL (never purged, reported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unanchored: Option<i64>,
    /// Why the counts could not be computed (a datastore down, a missing column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The plan at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub at: String,
    pub rules: Vec<RulePlan>,
}

pub(crate) fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// What one consent rule covers on one site: the creation time at or before which a consent
/// is due.
pub(crate) struct ConsentScope {
    pub site: String,
    pub created_max: i64,
    pub lifetime_ms: i64,
    pub anchor: Anchor,
}

/// The scopes of a consent rule at `cut` (the largest anchor due), one per site.
pub(crate) async fn consent_scopes(c: &Scope<'_>) -> AppResult<Vec<ConsentScope>> {
    let anchor = own_anchor(&AppliesTo::Consents, c.rule.trigger)
        .map_err(|e| AppError::invalid("trigger", e))?;
    let mut out = Vec::new();
    for site in c.store.list_sites().await? {
        let lifetime_ms = c.set.lifetime_ms(&site);
        let created_max = match anchor {
            Anchor::Created => c.cut,
            Anchor::ChoiceExpiry => c.cut.saturating_sub(lifetime_ms),
        };
        out.push(ConsentScope {
            site,
            created_max,
            lifetime_ms,
            anchor,
        });
    }
    Ok(out)
}

/// One rule at one cutoff, with what a plan or a run of it needs.
pub(crate) struct Scope<'a> {
    pub store: &'a Store,
    pub set: &'a RuleSet,
    pub rule: &'a EffectiveRule,
    /// The largest anchor due.
    pub cut: i64,
    pub held: &'a Held,
}

/// A rights request against a rule at `cut`: not due yet, due, or due but held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RightsState {
    Erased,
    NotDue,
    Due,
    Held,
}

/// Where a request stands: an open request (or a restriction in force) is never purged, nor
/// the other requests of its requester, nor a request a DPO hold names.
pub(crate) fn rights_state(
    r: &RightsRequestRow,
    cut: i64,
    held: &Held,
    open_emails: &HashSet<(String, String)>,
) -> RightsState {
    if r.erased_at_ms.is_some() {
        return RightsState::Erased;
    }
    if r.received_at_ms > cut {
        return RightsState::NotDue;
    }
    let open = !r.status.is_closed() && r.status != Status::Received;
    let by_person = [Some(&r.id), r.email.as_ref(), r.subject.as_ref()]
        .into_iter()
        .flatten()
        .any(|p| held.persons.contains(p));
    let sibling = r
        .email
        .as_ref()
        .is_some_and(|e| open_emails.contains(&(r.site.clone(), e.clone())));
    if open || by_person || sibling {
        RightsState::Held
    } else {
        RightsState::Due
    }
}

/// The plan at `at_ms`: per rule, what is due and held and when the next records fall due.
pub async fn plan(store: &Store, set: &RuleSet, at_ms: i64) -> AppResult<Plan> {
    let held = Held::load(store, at_ms).await?;
    let mut rules = Vec::new();
    for rule in &set.rules {
        let (who, why) = rule.enforcer();
        let mut rp = RulePlan {
            id: rule.id.clone(),
            applies_to: rule.applies_to_code(),
            enforced_by: who.as_str(),
            note: (who != Enforcer::Assent).then_some(why),
            default: rule.default,
            period: rule.period.to_string(),
            trigger: rule.trigger.as_str(),
            due: None,
            held: None,
            next_due_at: None,
            cutoff: None,
            unanchored: None,
            error: None,
        };
        if let (Enforcer::Assent, Some(AppliesTo::Table { .. })) = (who, &rule.applies_to) {
            let cut = anchor_cutoff(at_ms, rule.period, rule.trigger, &set.tz);
            rp.cutoff = cut.map(rfc3339);
            if let Some(cut) = cut {
                let ts = TableScope {
                    access: &set.tables,
                    rule,
                    tz: &set.tz,
                    cut,
                    held: &held,
                };
                match plan_table(&ts).await {
                    Ok((tp, next)) => {
                        rp.due = Some(i64::try_from(tp.due).unwrap_or(i64::MAX));
                        rp.held = Some(i64::try_from(tp.held).unwrap_or(i64::MAX));
                        rp.unanchored = Some(i64::try_from(tp.unanchored).unwrap_or(i64::MAX));
                        rp.next_due_at = next.map(rfc3339);
                    }
                    Err(e) => rp.error = Some(e),
                }
            }
        } else if who == Enforcer::Assent {
            let cut = anchor_cutoff(at_ms, rule.period, rule.trigger, &set.tz);
            let scope = cut.map(|cut| Scope {
                store,
                set,
                rule,
                cut,
                held: &held,
            });
            let (due, h, next) = match (&rule.applies_to, scope) {
                (Some(AppliesTo::Consents), Some(c)) => plan_consents(&c).await?,
                (Some(AppliesTo::RightsRequests), Some(c)) => plan_rights(&c).await?,
                (Some(AppliesTo::ScanReports), Some(c)) => {
                    let (due, next) = c.store.scans_due(c.cut).await?;
                    let next = next.and_then(|e| due_at(e, rule.period, rule.trigger, &set.tz));
                    (due, 0, next)
                }
                (Some(AppliesTo::Marketing), Some(c)) => {
                    let (due, h, next) = plan_marketing(store, c.cut, &held).await?;
                    let next = next.and_then(|a| due_at(a, rule.period, rule.trigger, &set.tz));
                    (due, h, next)
                }
                _ => (0, 0, None),
            };
            rp.due = Some(due);
            rp.held = Some(h);
            rp.next_due_at = next.map(rfc3339);
            rp.cutoff = cut.map(rfc3339);
        }
        rules.push(rp);
    }
    Ok(Plan {
        at: rfc3339(at_ms),
        rules,
    })
}

async fn plan_consents(c: &Scope<'_>) -> AppResult<(i64, i64, Option<i64>)> {
    let (store, set, rule) = (c.store, c.set, c.rule);
    let (mut due, mut h, mut next) = (0, 0, None::<i64>);
    let subjects = c.held.subjects();
    for s in consent_scopes(c).await? {
        let all = store
            .retention_consents_count(&s.site, s.created_max, None)
            .await?;
        let held_here = store
            .retention_consents_count(&s.site, s.created_max, Some(&subjects))
            .await?;
        due += all - held_here;
        h += held_here;
        if let Some(created) = store
            .retention_consents_next(&s.site, s.created_max)
            .await?
        {
            let anchor = match s.anchor {
                Anchor::Created => created,
                Anchor::ChoiceExpiry => created.saturating_add(s.lifetime_ms),
            };
            if let Some(d) = due_at(anchor, rule.period, rule.trigger, &set.tz) {
                next = Some(next.map_or(d, |n| n.min(d)));
            }
        }
    }
    Ok((due, h, next))
}

async fn plan_rights(c: &Scope<'_>) -> AppResult<(i64, i64, Option<i64>)> {
    let (set, rule) = (c.set, c.rule);
    let rows = c.store.rights_list(None).await?;
    let open = Held::open_emails(&rows);
    let (mut due, mut h, mut next) = (0, 0, None::<i64>);
    for r in &rows {
        match rights_state(r, c.cut, c.held, &open) {
            RightsState::Due => due += 1,
            RightsState::Held => h += 1,
            RightsState::NotDue => {
                if let Some(d) = due_at(r.received_at_ms, rule.period, rule.trigger, &set.tz) {
                    next = Some(next.map_or(d, |n| n.min(d)));
                }
            }
            RightsState::Erased => {}
        }
    }
    Ok((due, h, next))
}

/// How one rule is enforced, for the privacy policy's sentence and the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleEnforcement {
    pub rule_id: String,
    pub enforced_by: Enforcer,
    /// Why, in words (English; the pages word it themselves).
    pub reason: &'static str,
    /// When its last run finished (or stopped), if Assent ran it.
    pub last_run_ms: Option<i64>,
    pub last_status: Option<String>,
}

/// Per retention rule id: whether Assent enforces it, and its last run. The privacy policy
/// says "enforced automatically by Assent, last run on …" only for `Enforcer::Assent`.
pub async fn enforcement(
    store: &Store,
    registry: &Registry,
) -> AppResult<BTreeMap<String, RuleEnforcement>> {
    let runs = store.retention_last_runs().await?;
    Ok(effective_rules(registry)
        .into_iter()
        .map(|rule| {
            let (who, why) = rule.enforcer();
            let last = runs.iter().find(|r| r.rule_id == rule.id);
            let e = RuleEnforcement {
                rule_id: rule.id.clone(),
                enforced_by: who,
                reason: why,
                last_run_ms: last.map(|r| r.finished_at_ms.unwrap_or(r.started_at_ms)),
                last_status: last.map(|r| r.status.clone()),
            };
            (rule.id, e)
        })
        .collect())
}

/// One rule of the admin listing: its plan now and its last run.
#[derive(Debug, Clone, Serialize)]
pub struct RuleStatus {
    #[serde(flatten)]
    pub plan: RulePlan,
    pub last_run: Option<assent_store::RetentionRunRow>,
}

/// `GET /admin/v1/retention`: every rule (the server's rule set) with what is due and held
/// now, when the next records fall due, and its last run.
pub async fn overview(st: &App) -> AppResult<Vec<RuleStatus>> {
    let set = RuleSet::for_app(st)?;
    let plan = plan(&st.store, &set, st.clock.now_ms()).await?;
    let runs = st.store.retention_last_runs().await?;
    Ok(plan
        .rules
        .into_iter()
        .map(|p| {
            let last_run = runs.iter().find(|r| r.rule_id == p.id).cloned();
            RuleStatus { plan: p, last_run }
        })
        .collect())
}
