//! The ids a registry declares (sites, purposes, services, retention rules, activities): each
//! must be well formed and unique within its table, and references elsewhere are checked
//! against these sets.
//!
//! Invariant: a set holds every id of its table, valid or not, so that one bad id yields one
//! diagnostic where it is declared, not another at each reference.

use std::collections::HashSet;

use super::diag::{Lints, p};
use super::valid::valid_id;
use crate::registry::Registry;

/// The declared ids, by table.
pub(crate) struct Known<'a> {
    pub purposes: HashSet<&'a str>,
    pub services: HashSet<&'a str>,
    pub sites: HashSet<&'a str>,
    pub rules: HashSet<&'a str>,
}

impl<'a> Known<'a> {
    /// Collects the ids of every table, reporting the malformed and the repeated ones.
    pub(crate) fn collect(r: &'a Registry, l: &mut Lints) -> Self {
        fn ids<T>(list: &[T], id: fn(&T) -> &str) -> Vec<&str> {
            list.iter().map(id).collect()
        }
        let tables = [
            ("purpose", "purposes", ids(&r.purposes, |x| &x.id)),
            ("service", "services", ids(&r.services, |x| &x.id)),
            ("site", "sites", ids(&r.sites, |x| &x.id)),
            ("retention rule", "retention", ids(&r.retention, |x| &x.id)),
            ("activity", "activities", ids(&r.activities, |x| &x.id)),
        ];
        let [purposes, services, sites, rules, _activities] =
            tables.map(|(what, table, ids)| unique(l, what, table, ids));
        Known {
            purposes,
            services,
            sites,
            rules,
        }
    }
}

fn unique<'a>(l: &mut Lints, what: &str, table: &str, ids: Vec<&'a str>) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for (i, id) in ids.into_iter().enumerate() {
        if !valid_id(id) {
            l.error(
                p![table, i, "id"],
                format!(
                    "invalid {what} id `{id}`: use lowercase letters, digits, `-` and `_` (at most 64)"
                ),
            );
        }
        if !seen.insert(id) {
            l.error(p![table, i, "id"], format!("duplicate {what} id `{id}`"));
        }
    }
    seen
}
