//! Every route of Assent, in one table: the `route_table!` below both builds the router and
//! emits [`ROUTES`], the method, path and documented status codes of each operation, so the
//! list cannot differ from what is served. tests/openapi.rs checks docs/openapi.yaml against
//! [`ROUTES`] in both directions, status codes included.
//!
//! Invariants: no route is registered outside this table (tests/openapi.rs fails on any
//! other route registration in src/); group layers apply to their group only (the banner cache,
//! the admin body limit); fallbacks and global layers (body limit, metrics, timeout, panics)
//! wrap everything.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use assent_app::access::Permission;

use crate::auth;
use crate::banner::BannerCache;
use crate::error::ApiError;
use crate::routes::marketing::MARKETING_MAX_BODY;
use crate::routes::{
    admin, banner, consent, console, health, ledger, marketing, pages, retention, rights, scans,
    stats, wellknown,
};
use crate::state::AppState;

/// Largest admin request body (a registry, an attachment).
pub const ADMIN_MAX_BODY: usize = crate::csrf::MAX_FORM_BODY;

/// One operation the server serves, as the OpenAPI document must describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Lower case, as OpenAPI spells it (`get`, `post`, `options`); `get` also answers HEAD.
    pub method: &'static str,
    /// The full path, with `{param}` segments (axum's syntax is OpenAPI's).
    pub path: &'static str,
    /// The table group (audience) the route belongs to.
    pub group: &'static str,
    /// Status codes the operation answers and documents, ascending. Left out because any
    /// operation may answer them: 405 (another method), 408 (request timeout), 500.
    pub codes: &'static [u16],
    /// The permission a caller's role must have (`assent_app::access::RIGHTS`); a guard
    /// refuses the others with 403 before the handler runs. `None`: public, or any
    /// authenticated caller (`/whoami`).
    pub needs: Option<Permission>,
}

/// Builds `fn table(&AppState) -> Router<AppState>` and `pub const ROUTES` from one list of
/// groups: `name("/prefix") layer(expr) { method "/path" => handler, [codes] needs(Perm); ... }`.
/// A group with a prefix is nested under it; `layer(..)`, optional, wraps that group's routes
/// only; `needs(..)`, optional, puts the permission guard on that route.
macro_rules! route_table {
    (@needs) => { None };
    (@needs $perm:ident) => { Some(Permission::$perm) };
    (@route $state:ident, $method:ident, $handler:path) => {
        axum::routing::$method($handler)
    };
    (@route $state:ident, $method:ident, $handler:path, $perm:ident) => {
        axum::routing::$method($handler).route_layer(middleware::from_fn_with_state(
            $state.clone(),
            |State(st): State<AppState>, req: Request, next: Next| {
                auth::require(st, Permission::$perm, req, next)
            },
        ))
    };
    ($(
        $group:ident ($prefix:literal) $(layer($layer:expr))? {
            $( $method:ident $path:literal => $handler:path, [$($code:literal),+ $(,)?]
               $(needs($perm:ident))?; )+
        }
    )+) => {
        /// Every operation served, generated from the same table as the router.
        pub const ROUTES: &[Route] = &[
            $($(
                Route {
                    method: stringify!($method),
                    path: concat!($prefix, $path),
                    group: stringify!($group),
                    codes: &[$($code),+],
                    needs: route_table!(@needs $($perm)?),
                },
            )+)+
        ];

        /// The routes of [`ROUTES`] with their group layers and permission guards; [`router`]
        /// adds the fallbacks and the global layers.
        fn table(state: &AppState) -> Router<AppState> {
            let mut app = Router::new();
            $(
                let group = Router::new()
                    $( .route($path, route_table!(@route state, $method, $handler $(, $perm)?)) )+;
                $( let group = group.layer($layer); )?
                app = if $prefix.is_empty() {
                    app.merge(group)
                } else {
                    app.nest($prefix, group)
                };
            )+
            app
        }
    };
}

route_table! {
    // Probes and public keys: load balancers, Prometheus, offline verifiers of the ledger.
    probes("") {
        get "/healthz" => health::healthz, [200];
        get "/readyz" => health::readyz, [200, 503];
        get "/metrics" => health::metrics, [200, 401, 403, 429];
        get "/.well-known/gpc.json" => wellknown::gpc, [200];
        get "/.well-known/assent-ledger-key" => wellknown::ledger_key, [200];
        get "/v1/ledger/checkpoint" => ledger::latest_checkpoint, [200, 404];
        get "/ledger/checkpoint" => ledger::checkpoint_notes, [200, 404];
        get "/ledger/consistency" => ledger::consistency, [200, 400, 404, 429];
    }

    // Visitors' browsers: the consent API (CORS for the site's domains) and receipts.
    consent("") {
        post "/v1/sites/{site}/consents" => consent::create,
            [201, 400, 403, 404, 409, 413, 415, 422, 429];
        options "/v1/sites/{site}/consents" => consent::preflight, [204, 403, 404];
        get "/v1/receipts/{id}" => consent::receipt, [200, 404, 410, 429];
        get "/v1/receipts/{id}/state" => consent::receipt_state, [200, 404, 410, 429];
        get "/receipts/{id}" => consent::receipt_page, [200, 404, 410, 429];
    }

    // Visitors' browsers: the banner's anonymous display counter (docs/dashboard.md).
    dashboard_beacon("") {
        post "/v1/sites/{site}/shown" => stats::shown, [204, 400, 403, 404, 413, 415, 422, 429];
    }

    // Visitors' browsers: the banner script, and the demo site (`assent demo` only). The
    // banner's built-script cache lives with its routes.
    banner("") layer(Extension(Arc::new(BannerCache::default()))) {
        get "/assent.js" => banner::script, [200, 304];
        get "/assent-details.json" => banner::details, [200, 304, 400, 404];
        get "/demo" => banner::demo_redirect, [308, 404];
        get "/demo/" => banner::demo_home, [200, 404];
        get "/demo/page2" => banner::demo_page2, [200, 404];
        get "/demo/embed" => banner::demo_embed, [200, 404];
        get "/demo/mail" => banner::demo_mail, [200, 404];
    }

    // Anyone: policy pages generated from the registry, as HTML and as data.
    pages("") {
        get "/sites/{site}/cookie-policy" => pages::cookie_html, [200, 304, 404];
        get "/sites/{site}/cookie-policy.json" => pages::cookie_json, [200, 304, 404];
        get "/sites/{site}/privacy-policy" => pages::privacy_html, [200, 304, 404];
        get "/sites/{site}/policy-versions" => pages::history_html, [200, 304, 404];
        get "/sites/{site}/policy-versions.json" => pages::history_json, [200, 304, 404];
        get "/sites/{site}/policy-versions/diff" => pages::diff_html, [200, 304, 400, 404];
        get "/sites/{site}/policy-versions/diff.json" => pages::diff_json,
            [200, 304, 400, 404];
    }

    // Data subjects: rights requests (HTML form, JSON API, email verification, downloads).
    rights("") {
        get "/sites/{site}/rights" => rights::form_page, [200, 404];
        post "/sites/{site}/rights" => rights::form_submit, [202, 400, 404, 413, 422, 429];
        get "/sites/{site}/rights/verify" => rights::code_page, [200, 404];
        post "/sites/{site}/rights/verify" => rights::code_submit, [200, 400, 404, 422, 429];
        post "/v1/requests" => rights::api_submit, [202, 400, 404, 413, 415, 422, 429];
        get "/v1/requests/verify" => rights::verify_link, [200, 410, 429];
        get "/v1/requests/{id}/download/{attachment}" => rights::download,
            [200, 404, 410, 429];
    }

    // Mailing systems (bearer token, role marketing or admin): record marketing choices, check
    // a batch of recipients before a campaign (up to 10,000: the group's own body limit).
    marketing_api("") layer(DefaultBodyLimit::max(MARKETING_MAX_BODY)) {
        post "/v1/sites/{site}/marketing/consents" => marketing::create,
            [201, 202, 400, 401, 403, 404, 413, 415, 422] needs(RecordMarketing);
        post "/v1/marketing/check" => marketing::check,
            [200, 400, 401, 403, 404, 413, 415, 422] needs(RecordMarketing);
    }

    // People and their mailbox providers (no cookie, no login): the double opt-in link, the
    // one-click unsubscribe (RFC 8058) and its preference page; SMS aggregators (a secret).
    marketing_public("") {
        get "/m/confirm/{token}" => marketing::confirm, [200, 404, 429];
        get "/u/{token}" => marketing::preferences, [200, 400];
        post "/u/{token}" => marketing::post_link, [200, 400, 413, 415];
        post "/v1/sites/{site}/sms/inbound" => marketing::sms_inbound,
            [200, 400, 401, 404, 413, 415, 422];
    }

    // People in a browser: the DPO console. A session cookie (or, for scripts, a bearer
    // token); each page names the permission it needs like the API, and the guard checks
    // every form post's origin and token (csrf.rs) before the handler runs.
    console("") layer(DefaultBodyLimit::max(ADMIN_MAX_BODY)) {
        get "/admin" => console::to_home, [308];
        get "/admin/" => console::home, [200, 400, 401, 403, 404, 422, 429];
        get "/admin/dashboard" => console::to_home, [308];
        get "/admin/login" => console::to_home, [308];
        post "/admin/login" => console::login, [303, 401, 403, 429];
        post "/admin/logout" => console::logout, [303, 403];
        get "/admin/setup/{token}" => console::setup_page, [200, 410];
        post "/admin/setup/{token}" => console::setup, [200, 403, 410, 422];
        get "/admin/requests" => console::queue, [200, 303, 401, 403, 429] needs(Read);
        get "/admin/requests/{id}" => console::request, [200, 303, 401, 403, 404, 429]
            needs(Read);
        post "/admin/requests/{id}/verify" => console::verify,
            [303, 401, 403, 404, 409, 413, 422, 429] needs(Requests);
        post "/admin/requests/{id}/start" => console::start,
            [303, 401, 403, 404, 409, 413, 429] needs(Requests);
        post "/admin/requests/{id}/note" => console::note,
            [303, 401, 403, 404, 409, 413, 422, 429] needs(Requests);
        post "/admin/requests/{id}/extend" => console::extend,
            [303, 401, 403, 404, 409, 413, 422, 429, 502] needs(Requests);
        post "/admin/requests/{id}/complete" => console::complete,
            [303, 400, 401, 403, 404, 409, 413, 422, 429] needs(Requests);
        post "/admin/requests/{id}/reject" => console::reject,
            [303, 401, 403, 404, 409, 413, 422, 429] needs(Requests);
        get "/admin/requests/new" => console::intake_page, [200, 303, 401, 403, 429]
            needs(Requests);
        post "/admin/requests" => console::intake,
            [303, 401, 403, 404, 413, 422, 429] needs(Requests);
        post "/admin/requests/{id}/preview" => console::preview,
            [200, 401, 403, 404, 409, 413, 422, 429] needs(Requests);
        post "/admin/requests/{id}/run" => console::run,
            [303, 401, 403, 404, 409, 413, 422, 429] needs(Requests);
        get "/admin/requests/{id}/package" => console::package,
            [200, 303, 401, 403, 404, 429] needs(Requests);
        post "/admin/requests/{id}/restrict" => console::restrict,
            [303, 401, 403, 404, 409, 413, 422, 429] needs(Requests);
        post "/admin/restrictions/{id}/lift" => console::lift,
            [303, 401, 403, 404, 409, 413, 422, 429] needs(Requests);
        post "/admin/requests/{id}/rectify" => console::rectify,
            [303, 401, 403, 404, 409, 413, 422, 429] needs(Requests);
        post "/admin/requests/{id}/tasks/{task}/done" => console::task_done,
            [303, 401, 403, 404, 409, 413, 422, 429] needs(Requests);
        get "/admin/users" => console::users_page, [200, 303, 401, 403, 429]
            needs(ManageUsers);
        post "/admin/users" => console::user_create, [200, 303, 401, 403, 409, 413, 422, 429]
            needs(ManageUsers);
        post "/admin/users/{id}/role" => console::user_role,
            [303, 401, 403, 404, 409, 413, 422, 429] needs(ManageUsers);
        post "/admin/users/{id}/disable" => console::user_disable,
            [303, 401, 403, 404, 409, 413, 429] needs(ManageUsers);
        post "/admin/users/{id}/enable" => console::user_enable,
            [303, 401, 403, 404, 413, 429] needs(ManageUsers);
        post "/admin/users/{id}/reset" => console::user_reset,
            [200, 401, 403, 404, 413, 429] needs(ManageUsers);
        get "/admin/tokens" => console::tokens_page, [200, 303, 401, 403, 429]
            needs(ManageTokens);
        post "/admin/tokens" => console::token_create, [200, 401, 403, 413, 422, 429]
            needs(ManageTokens);
        post "/admin/tokens/{id}/revoke" => console::token_revoke,
            [303, 401, 403, 404, 413, 429] needs(ManageTokens);
        get "/admin/account" => console::account_page, [200, 303, 401, 403, 429] needs(Read);
        post "/admin/account/preferences" => console::account_prefs,
            [303, 401, 403, 413, 422, 429] needs(Read);
        post "/admin/account/password" => console::account_password,
            [303, 401, 403, 413, 422, 429] needs(Read);
        post "/admin/account/totp" => console::account_totp, [303, 401, 403, 413, 422, 429]
            needs(Read);
        post "/admin/account/totp/disable" => console::account_totp_off,
            [303, 401, 403, 413, 422, 429] needs(Read);
        get "/admin/audit" => console::audit_page, [200, 303, 401, 403, 422, 429] needs(Read);
    }

    // Operators and the DPO's tools: the admin API (bearer token). Each route names the
    // permission it needs (`assent_app::access::RIGHTS`: auditor reads, dpo acts on requests,
    // admin does everything). Registries and attachments are larger than public bodies.
    admin_api("/admin/v1") layer(DefaultBodyLimit::max(ADMIN_MAX_BODY)) {
        get "/whoami" => admin::whoami, [200, 401];
        get "/sites" => admin::sites, [200, 401, 403] needs(Read);
        get "/sites/{site}/policy-versions" => admin::policy_versions, [200, 401, 403, 404]
            needs(Read);
        post "/registry" => admin::apply, [200, 400, 401, 403, 413, 422]
            needs(ApplyRegistry);
        get "/register" => pages::register_export, [200, 401, 403, 404, 422] needs(Read);
        get "/consents" => ledger::consents, [200, 400, 401, 403, 422] needs(Read);
        post "/consents/{receipt}/erase" => ledger::erase,
            [200, 400, 401, 403, 404, 409, 413, 415, 422] needs(EraseConsent);
        post "/ledger/checkpoints" => ledger::force_checkpoint, [200, 401, 403]
            needs(SignCheckpoint);
        get "/requests" => rights::list, [200, 400, 401, 403, 422] needs(Read);
        get "/requests/{id}" => rights::show, [200, 401, 403, 404] needs(Read);
        post "/requests/{id}/notes" => rights::add_note,
            [201, 400, 401, 403, 404, 409, 413, 415, 422] needs(Requests);
        post "/requests/{id}/verify" => rights::verify,
            [200, 400, 401, 403, 404, 409, 413, 415, 422] needs(Requests);
        post "/requests/{id}/start" => rights::start, [200, 401, 403, 404, 409]
            needs(Requests);
        post "/requests/{id}/extend" => rights::extend,
            [200, 400, 401, 403, 404, 409, 413, 415, 422, 502] needs(Requests);
        post "/requests/{id}/complete" => rights::complete,
            [200, 400, 401, 403, 404, 409, 413, 415, 422] needs(Requests);
        post "/requests/{id}/reject" => rights::reject,
            [200, 400, 401, 403, 404, 409, 413, 415, 422] needs(Requests);
        get "/marketing/suppressions" => marketing::suppressions, [200, 400, 401, 403, 422]
            needs(Marketing);
        post "/marketing/import" => marketing::import,
            [200, 400, 401, 403, 404, 413, 415, 422] needs(Marketing);
        get "/marketing/pending-mails" => marketing::pending_mails, [200, 401, 403]
            needs(Marketing);
        // Fulfilment of rights requests (issue 15): offline intake, the restriction list
        // (which the operator's systems query), rectification, Art. 19 tasks, runs.
        post "/requests" => rights::record_offline,
            [201, 400, 401, 403, 404, 413, 415, 422] needs(Requests);
        post "/requests/{id}/restrict" => rights::restrict,
            [200, 400, 401, 403, 404, 409, 413, 415, 422] needs(Requests);
        get "/restrictions" => rights::restrictions, [200, 400, 401, 403, 422] needs(Read);
        post "/restrictions/{id}/lift" => rights::lift,
            [200, 400, 401, 403, 404, 409, 413, 415, 422] needs(Requests);
        post "/requests/{id}/rectify" => rights::rectify,
            [200, 400, 401, 403, 404, 409, 413, 415, 422] needs(Requests);
        get "/requests/{id}/notifications" => rights::notifications, [200, 401, 403, 404]
            needs(Read);
        post "/requests/{id}/notifications/{task}/done" => rights::notification_done,
            [200, 400, 401, 403, 404, 409, 413, 415, 422] needs(Requests);
        post "/requests/{id}/fulfilment/preview" => rights::preview,
            [200, 400, 401, 403, 404, 409, 413, 415, 422] needs(Requests);
        post "/requests/{id}/fulfilment/run" => rights::run,
            [200, 400, 401, 403, 404, 409, 413, 415, 422] needs(Requests);
        get "/requests/{id}/fulfilment/package" => rights::package, [200, 401, 403, 404]
            needs(Requests);
        // Retention (issue 16): the rules, their plan and last run; the DPO's holds.
        get "/retention" => retention::overview, [200, 401, 403, 422, 503] needs(Read);
        get "/retention/holds" => retention::holds, [200, 401, 403] needs(Read);
        post "/retention/holds" => retention::set_hold,
            [201, 400, 401, 403, 413, 415, 422] needs(Retention);
        post "/retention/holds/{id}/lift" => retention::lift_hold, [200, 401, 403, 404]
            needs(Retention);
        // Scans run by the server (issue 18): queue, history with changes, HTML report,
        // periodic schedules. One scan runs at a time (`crate::scan_loop`).
        post "/sites/{site}/scans" => scans::request,
            [202, 400, 401, 403, 404, 409, 413, 415, 422] needs(Scans);
        get "/sites/{site}/scans" => scans::list, [200, 400, 401, 403, 404, 422] needs(Read);
        get "/scans/{id}" => scans::show, [200, 401, 403, 404] needs(Read);
        get "/scans/{id}/report.html" => scans::report_html, [200, 401, 403, 404, 409]
            needs(Read);
        post "/sites/{site}/scan-schedules" => scans::schedule,
            [201, 400, 401, 403, 404, 413, 415, 422] needs(Scans);
        get "/sites/{site}/scan-schedules" => scans::schedules, [200, 401, 403] needs(Read);
        delete "/scan-schedules/{id}" => scans::unschedule, [200, 401, 403, 404]
            needs(Scans);
        // The dashboard's numbers (docs/dashboard.md).
        get "/stats" => stats::api, [200, 400, 401, 403, 404, 422] needs(Read);
    }
}

pub fn router(state: AppState) -> Router {
    let cfg = &state.config;
    table(&state)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(cfg.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(cfg.request_timeout_secs.max(1)),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal(&"handler panicked").into_response()
        }))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this endpoint",
    )
}

/// Metrics and one log line per request. The log names the route template (never the raw
/// path or query, which may hold identifiers) and never the client's address.
async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    let status = resp.status().as_u16();
    st.metrics.observe(status, micros);
    if status >= 500 {
        // One line per failing request would flood the log when the disk is full: the cause
        // is logged (throttled) where it happens; this line is throttled too.
        static FAILED: assent_app::throttle::Throttle = assent_app::throttle::Throttle::new(5);
        if let Some(suppressed) = FAILED.allow() {
            tracing::warn!(%method, route, status, micros, suppressed, "request");
        }
    } else {
        tracing::debug!(%method, route, status, micros, "request");
    }
    resp
}
