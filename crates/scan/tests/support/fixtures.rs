//! Fixture sites served on loopback: `shop.test` (127.0.0.1) is the audited site and
//! `thirdparty.test` (127.0.0.2) plays a third party; Chromium reaches both names through
//! `--host-resolver-rules`.

use std::sync::Arc;

use assent_scan::{Declared, DeclaredCookie, DeclaredPurpose};

use super::{Request, Response, serve};

/// Which fixture to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Assent-like banner (in a closed shadow root), analytics blocked until consent and
    /// purged on withdrawal.
    Compliant,
    /// The same shape with seeded violations (see `violating_declared`).
    Violating,
    /// No banner at all, a Google Analytics-like cookie set by a script, a cross-site iframe.
    NoBanner,
    /// Another vendor's banner (`#cmp-ok`, `#cmp-no`), no manage link.
    OtherBanner,
}

/// A served fixture.
pub struct Site {
    /// `http://shop.test:PORT/`
    pub url: String,
    /// `http://thirdparty.test:PORT`
    pub third_party: String,
    /// Value for `ScanOptions::host_resolver_rules`.
    pub rules: String,
}

pub const PAGES: usize = 10;

fn page_path(i: usize) -> String {
    if i == 0 { "/".into() } else { format!("/p{i}") }
}

fn page(kind: Kind, i: usize, third: &str) -> String {
    let nav: String = (0..PAGES)
        .map(|j| format!("<a href=\"{}\">Page {j}</a> ", page_path(j)))
        .collect();
    let head = match kind {
        Kind::Compliant => "<script src=\"/assent.js\"></script>\
             <script type=\"text/plain\" data-assent-purpose=\"analytics\" data-src=\"/analytics.js\"></script>"
            .to_owned(),
        Kind::Violating => format!(
            "<script src=\"/assent.js\"></script>\
             <script type=\"text/plain\" data-assent-purpose=\"analytics\" data-src=\"/analytics.js\"></script>\
             <script type=\"text/plain\" data-assent-purpose=\"marketing\" data-src=\"/ads.js\"></script>\
             <script src=\"/chat.js\"></script>\
             <script>navigator.sendBeacon('{third}/beacon?page={i}', 'visit');</script>"
        ),
        Kind::NoBanner => "<script src=\"/ga.js\"></script>".to_owned(),
        Kind::OtherBanner => String::new(),
    };
    let manage = match kind {
        // A cross-site iframe: Chromium runs it in its own process (its own target).
        Kind::NoBanner => format!("<iframe src=\"{third}/embed\" title=\"partner\"></iframe>"),
        Kind::OtherBanner => "<div id=\"cmp\"><button id=\"cmp-ok\" \
             onclick=\"document.cookie='cmp=yes; path=/; max-age=60'\">OK</button>\
             <button id=\"cmp-no\" onclick=\"document.cookie='cmp=no; path=/; max-age=60'\">No</button></div>"
            .to_owned(),
        _ => "<footer><a href=\"#\" data-assent-manage>Manage my cookies</a></footer>".to_owned(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shop page {i}</title>{head}</head>\
         <body><h1>Shop page {i}</h1><nav>{nav}<a href=\"/brochure.pdf\">PDF</a> <a href=\"{third}/elsewhere\">Partner</a> \
         <a href=\"mailto:shop@example.com\">Mail</a></nav><p>Welcome.</p>{manage}</body></html>"
    )
}

/// An Assent-like banner. `buggy` seeds the refusal bug (the advertising script loads whatever
/// the choice) and renders in the light DOM; the compliant one renders in a closed shadow root.
fn banner_js(buggy: bool) -> String {
    format!(
        r#"(function () {{
  var BUGGY = {buggy};
  function consent() {{ var m = document.cookie.match(/(?:^|;\s*)assent_consent=([^;]*)/); return m ? m[1] : null; }}
  function load(src) {{ var s = document.createElement('script'); s.src = src; document.head.appendChild(s); }}
  function enableBlocked() {{
    document.querySelectorAll('script[type="text/plain"][data-assent-purpose]').forEach(function (s) {{ load(s.getAttribute('data-src')); }});
  }}
  function store(v) {{ document.cookie = 'assent_consent=' + v + '; path=/; max-age=15552000; samesite=lax'; }}
  function purge() {{ ['_sa_id'].forEach(function (n) {{ document.cookie = n + '=; path=/; max-age=0'; }}); }}
  var host = null;
  function close() {{ if (host) {{ host.remove(); host = null; }} }}
  function show(layer) {{
    close();
    host = document.createElement('div');
    var root = BUGGY ? host : host.attachShadow({{ mode: 'closed' }});
    var html = '<div role="dialog" aria-label="Cookies" style="position:fixed;bottom:0;left:0;right:0;padding:16px;background:#fff;border-top:1px solid #ccc">'
      + '<p>We measure the audience of this site.</p>'
      + '<button data-assent-action="accept-all">Accept all</button> '
      + '<button data-assent-action="reject-all">Refuse all</button> ';
    if (layer === 'first') html += '<button data-assent-action="customize">Customize</button>';
    else html += '<label><input type="checkbox" name="analytics"> Analytics</label> <button data-assent-action="save">Save</button>';
    root.innerHTML = html + '</div>';
    root.addEventListener('click', function (e) {{
      var b = e.target.closest('[data-assent-action]');
      if (!b) return;
      var a = b.getAttribute('data-assent-action');
      if (a === 'customize') {{ show('prefs'); return; }}
      var box = root.querySelector('input[name=analytics]');
      if (a === 'accept-all' || (a === 'save' && box && box.checked)) {{ store('all'); close(); enableBlocked(); return; }}
      store('none'); close(); purge();
      if (BUGGY) load('/ads.js');
    }});
    document.body.appendChild(host);
  }}
  function init() {{
    var c = consent();
    if (c === 'all') enableBlocked();
    else if (c === null) show('first');
    else if (BUGGY) load('/ads.js');
    document.addEventListener('click', function (e) {{
      var m = e.target.closest('[data-assent-manage]');
      if (!m) return;
      e.preventDefault();
      show('prefs');
    }});
  }}
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
}})();"#
    )
}

/// Serves one fixture.
pub async fn serve_site(kind: Kind) -> Site {
    let third_addr = serve(
        "127.0.0.2:0",
        Arc::new(|req: &Request| match req.path() {
            // The partner tries a cookie without SameSite=None; Secure: the browser refuses it.
            "/beacon" | "/pixel.gif" => Response {
                status: 200,
                headers: vec![("Content-Type".into(), "image/gif".into())],
                body: b"GIF89a".to_vec(),
            }
            .header("Set-Cookie", "tp_uid=42; Path=/; Max-Age=31536000"),
            "/embed" => Response::html(
                "<!doctype html><title>Embed</title><script src=\"/embed.js\"></script>",
            ),
            "/embed.js" => Response::js("localStorage.setItem('embed_seen', '1');"),
            _ => Response::html("<!doctype html><title>Partner</title>"),
        }),
    )
    .await;
    // Bind the site's listener first to know its port.
    let listener_addr = {
        let third = format!("http://thirdparty.test:{}", third_addr.port());
        let third_for_handler = third.clone();
        let handler = move |req: &Request| -> Response {
            let third = third_for_handler.as_str();
            let path = req.path();
            if let Some(i) = (0..PAGES).find(|i| page_path(*i) == path) {
                return Response::html(page(kind, i, third)).header(
                    "Set-Cookie",
                    "session_id=s3cr3t; Path=/; HttpOnly; SameSite=Lax",
                );
            }
            match (kind, path) {
                (Kind::Compliant, "/assent.js") => Response::js(banner_js(false)),
                (Kind::Violating, "/assent.js") => Response::js(banner_js(true)),
                (Kind::Compliant, "/analytics.js") => Response::js(format!(
                    "document.cookie = '_sa_id=' + Math.random().toString(36).slice(2) + '; path=/; max-age=31536000; samesite=lax';\
                     new Image().src = '{third}/pixel.gif?e=pageview';"
                )),
                // Seeded: a 2-year analytics cookie (declared for 395 days).
                (Kind::Violating, "/analytics.js") => Response::js(
                    "document.cookie = '_sa_id=' + Math.random().toString(36).slice(2) + '; path=/; max-age=63072000; samesite=lax';",
                ),
                // Seeded: set before consent by a script that is not blocked.
                (Kind::Violating, "/chat.js") => Response::js(
                    "document.cookie = 'chat_visitor=v' + Date.now() + '; path=/; max-age=2592000; samesite=lax';",
                ),
                // Seeded: loaded after refusal too; sets a declared and an undeclared tracker.
                (Kind::Violating, "/ads.js") => Response::js(
                    "document.cookie = 'ads_id=a1; path=/; max-age=7776000; samesite=lax';\
                     document.cookie = '_fbp=fb.1.123.456; path=/; max-age=7776000; samesite=lax';",
                ),
                (Kind::NoBanner, "/ga.js") => Response::js(
                    "document.cookie = '_ga=GA1.1.99.1; path=/; max-age=63072000; samesite=lax';\
                     try { localStorage.setItem('ga_client', '99'); } catch (e) {}",
                ),
                _ => Response::not_found(),
            }
        };
        (serve("127.0.0.1:0", Arc::new(handler)).await, third)
    };
    let (addr, third) = listener_addr;
    Site {
        url: format!("http://shop.test:{}/", addr.port()),
        third_party: third,
        rules: "MAP shop.test 127.0.0.1,MAP thirdparty.test 127.0.0.2".into(),
    }
}

fn purpose(id: &str, consent_required: bool) -> DeclaredPurpose {
    DeclaredPurpose {
        id: id.into(),
        consent_required,
    }
}

fn cookie(name: &str, purpose: &str, lifetime: Option<i64>) -> DeclaredCookie {
    DeclaredCookie {
        name: name.into(),
        domain: None,
        purpose: purpose.into(),
        lifetime_seconds: lifetime,
        service: None,
    }
}

const DAY: i64 = 86_400;

/// The compliant site's inventory.
pub fn compliant_declared() -> Declared {
    Declared {
        site_hosts: vec!["shop.test".into()],
        cookie_domain: None,
        purposes: vec![purpose("necessary", false), purpose("analytics", true)],
        cookies: vec![
            cookie("session_id", "necessary", None),
            cookie("assent_consent", "necessary", Some(180 * DAY)),
            cookie("_sa_id", "analytics", Some(395 * DAY)),
        ],
        third_party_hosts_allowed_before_consent: vec![],
    }
}

/// The violating site's inventory: `_fbp` is missing, `_sa_id` is declared for 395 days.
pub fn violating_declared() -> Declared {
    let mut d = compliant_declared();
    d.purposes.push(purpose("functional", true));
    d.purposes.push(purpose("marketing", true));
    d.cookies.push(DeclaredCookie {
        service: Some("Chat widget".into()),
        ..cookie("chat_visitor", "functional", Some(30 * DAY))
    });
    d.cookies
        .push(cookie("ads_id", "marketing", Some(90 * DAY)));
    d
}
