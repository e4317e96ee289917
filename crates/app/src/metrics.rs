//! A small Prometheus registry: a handful of counters and one latency histogram do not need a
//! metrics framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

const BUCKETS_MS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

/// Names and help texts of this process's own counters, in the order `render` writes them.
const OWN_COUNTERS: [(&str, &str); 5] = [
    ("assent_consents_total", "Consent records stored."),
    (
        "assent_consents_rejected_total",
        "Consent requests refused as invalid.",
    ),
    (
        "assent_rate_limited_total",
        "Requests refused by the rate limiter.",
    ),
    (
        "assent_ledger_entries_appended_total",
        "Ledger entries appended by this process.",
    ),
    (
        "assent_ledger_checkpoints_total",
        "Signed checkpoints made by this process.",
    ),
];

#[derive(Default)]
pub struct Metrics {
    pub requests: [AtomicU64; 5], // by status class 1xx..5xx
    pub consents: AtomicU64,
    pub consent_rejected: AtomicU64,
    pub rate_limited: AtomicU64,
    pub ledger_entries: AtomicU64,
    pub checkpoints: AtomicU64,
    pub retention: crate::retention::counters::RetentionCounters,
    /// When this process last ran the rights jobs, which purge rights requests past their
    /// retention (epoch ms; 0: not yet). The privacy policy states it.
    pub rights_purge_last_run_ms: AtomicI64,
    latency: [AtomicU64; 11],
    latency_sum_us: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, status: u16, micros: u64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        if let Some(c) = self.requests.get(class) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let ms = micros as f64 / 1000.0;
        let idx = BUCKETS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(BUCKETS_MS.len());
        if let Some(b) = self.latency.get(idx) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.latency_sum_us.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn render(
        &self,
        extra: &[(&str, &str, f64)],
        counters: &[(&str, &str, u64)],
        histograms: &[Histogram<'_>],
    ) -> String {
        let mut s = String::new();
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "# HELP assent_http_requests_total HTTP requests by status class."
        );
        let _ = writeln!(s, "# TYPE assent_http_requests_total counter");
        for (i, c) in self.requests.iter().enumerate() {
            let _ = writeln!(
                s,
                "assent_http_requests_total{{class=\"{}xx\"}} {}",
                i + 1,
                g(c)
            );
        }
        let counts: Vec<u64> = self.latency.iter().map(g).collect();
        let bounds: Vec<f64> = BUCKETS_MS.iter().map(|b| b / 1000.0).collect();
        histogram(
            &mut s,
            &Histogram {
                name: "assent_http_request_duration_seconds",
                help: "Request latency.",
                bounds_s: &bounds,
                counts: &counts,
                sum_s: g(&self.latency_sum_us) as f64 / 1e6,
            },
        );
        for h in histograms {
            histogram(&mut s, h);
        }
        let own = [
            (OWN_COUNTERS[0], &self.consents),
            (OWN_COUNTERS[1], &self.consent_rejected),
            (OWN_COUNTERS[2], &self.rate_limited),
            (OWN_COUNTERS[3], &self.ledger_entries),
            (OWN_COUNTERS[4], &self.checkpoints),
        ];
        for ((name, help), v) in own {
            sample(&mut s, "counter", name, help, g(v));
        }
        for (name, help, v) in counters {
            sample(&mut s, "counter", name, help, v);
        }
        for (name, help, v) in extra {
            sample(&mut s, "gauge", name, help, v);
        }
        s
    }
}

/// A histogram to render: `counts` per bucket (not cumulative), one more than `bounds_s`
/// (the last bucket is unbounded).
pub struct Histogram<'a> {
    pub name: &'a str,
    pub help: &'a str,
    pub bounds_s: &'a [f64],
    pub counts: &'a [u64],
    pub sum_s: f64,
}

/// One sample with its `HELP` and `TYPE` lines.
fn sample(s: &mut String, kind: &str, name: &str, help: &str, v: impl std::fmt::Display) {
    let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
}

fn histogram(s: &mut String, h: &Histogram<'_>) {
    let name = h.name;
    let _ = writeln!(s, "# HELP {name} {}\n# TYPE {name} histogram", h.help);
    let mut cum = 0;
    for (i, b) in h.bounds_s.iter().enumerate() {
        cum += h.counts.get(i).copied().unwrap_or(0);
        let _ = writeln!(s, "{name}_bucket{{le=\"{b}\"}} {cum}");
    }
    cum += h.counts.get(h.bounds_s.len()).copied().unwrap_or(0);
    let _ = writeln!(s, "{name}_bucket{{le=\"+Inf\"}} {cum}");
    let _ = writeln!(s, "{name}_sum {}", h.sum_s);
    let _ = writeln!(s, "{name}_count {cum}");
}
