/* Assent consent banner: readable source.
 *
 * This file is the BODY of a function. The server answers `GET /assent.js?site=ID` with
 *   ((S,C,f)=>f(C,S))(<CSS as a JS string>, <config JSON>, function(C,S){ <assent.min.js> });
 * C = the site's whole banner configuration for its current policy version (both layers, every
 * language of the site), S = the CSS text. Schema of C, the choice cookie and integration notes:
 * docs/dev/banner-config.md; the generator is crates/server/src/banner/config.rs. Minified copy:
 * assent.min.js, made by scripts/build-banner.sh (never edit it by hand). Vanilla JavaScript
 * (ES2020), no dependency. Before the visitor decides, the script makes one request only, to
 * Assent, without credentials: once the first layer is shown (or the preferences are opened), the
 * second layer's longer texts (GET /assent-details.json, cacheable); the preferences never wait
 * for them, they are filled in when they arrive.
 * Written for size: every byte here is paid by every visitor of every site (6 KB gzipped for the
 * script, its CSS and the configuration together: what the first layer needs). Names starting with `_` are object
 * properties that the minifier shortens.
 */
var w = window, d = document, nav = navigator, loc = location, now = Date.now;
if (w.assent) return; // included twice: the first instance stays in charge

/* ---- indexes into C.t[lang] (same order as UI_KEYS in banner/config.rs) and into a purpose ---- */
// (a dialog uses 4 in a row: its title, text, the label of its × and its third button)
var TITLE = 0, PREFS_TITLE = 4, ACCEPT = 8, REJECT = 9, ALWAYS = 10, CURRENT = 11, RECEIPT = 12,
  BLOCKED = 13, ALLOW = 14, OPEN = 15, POLICY = 16, MANAGE = 17, GPC = 18, BASIS = 19, SERVICES = 20,
  SESSION = 21;
// C.p[i] = [id, flags, consent-mode mask, name, legal basis index (or indexes) into C.b,
//           rows: [[service index into C.r, [cookie name, lifetime code], ...], ...]]
var ID = 0, FLAGS = 1, CMASK = 2, NAME = 3, BASES = 4, ROWS = 5;
var EXEMPT = 1, GPCF = 2; // flag bits

/* ---- Google Consent Mode v2: defaults before anything else ---- */
var CM = "ad_storage ad_user_data ad_personalization analytics_storage functionality_storage personalization_storage security_storage".split(" ");
var dl = w.dataLayer ||= [];
w.gtag ||= function () { dl.push(arguments); };
var consent = (a, f, x = {}) => {
  CM.map((k, i) => x[k] = f(i) ? "granted" : "denied");
  w.gtag("consent", a, x);
};
consent("default", i => i > 5, {wait_for_update: 500}); // security_storage only

var P = C.p, queue = [], busy, B, M, viaBanner, back, started, warned = 0, D, asked, DAY = 864e5;
var gpc = nav.globalPrivacyControl === true, host = loc.hostname;
var days = Math.min(C.d, 395); // never above 13 months
// Assent's base URL as this page reached it: where this script came from (C.a, the configured
// public URL, when the script runs inline)
var API = d.currentScript?.src.replace(/\/assent\.js.*/, "") || C.a;
var SU = API + "/v1/sites/" + encodeURIComponent(C.s) + "/"; // the site's endpoints
var byId = id => P.find(p => p[ID] == id);
var locked = p => gpc && p?.[FLAGS] & GPCF; // refused by Global Privacy Control
var on = (t, f) => d.addEventListener(t, f);

/* ---- language: the page's lang, then the browser's languages, then the site's default ---- */
var li = 0, pick = l => C.l.findIndex(x => x.toLowerCase() == l); // tags compare case-insensitively
[d.documentElement.lang, ...nav.languages].some(l =>
  (l = (l || "").toLowerCase(), li = pick(l)) > -1 || (li = pick(l.split("-")[0])) > -1) || (li = 0);
var lang = C.l[li], T = C.t[li];
// a Text is [one string per language] or one string for all; esc picks the language, then escapes
var X = s => s?.map ? s[li] : s;
var esc = s => String(X(s)).replace(/[&<>"]/g, c => `&#${c.charCodeAt()};`);
var fmt = (s, m) => esc(s).replace(/\{(\w+)\}/g, (a, k) => esc(m[k] ?? a)); // escape, then fill {names}

/* ---- the choice cookie: URI-encoded JSON {subject, version, choices, time, receipt} ---- */
var CN = "assent_consent", dom = C.k.replace(/^\./, "");
var write = o => d.cookie = CN + "=" + encodeURIComponent(JSON.stringify(o)) +
  "; Path=/; Max-Age=" + ((o.time + days * DAY - now()) / 1e3 | 0) +
  (host == dom || host.endsWith("." + dom) ? "; Domain=" + dom : "") + // else host-only (e.g. a test host)
  "; SameSite=Lax" + (loc.protocol == "https:" ? "; Secure" : "");
var old = {};
try { old = JSON.parse(decodeURIComponent(d.cookie.match("(^|; )" + CN + "=([^;]*)")[2])); } catch (e) {}
// a UUIDv7: the time of the first visit in milliseconds, then random bits from the UUID v4 that
// ends every blob: URL (crypto.randomUUID exists in secure contexts only). Time-ordered ids keep
// the ledger's (site, subject) index append-only: new visitors' consents are written at its end
var ts = Date.now().toString(16).padStart(12, 0),
  sid = /^[\da-f-]{36}$/.test(old.subject) ? old.subject : ts.slice(0, 8) + "-" + ts.slice(8) + "-7" + URL.createObjectURL(new Blob).slice(-21);
// a stored choice counts while it has not expired and its version is not below the consent floor
var cur = old.choices && old.version >= C.f && old.time + days * DAY > now() ? old : null;

/* ---- consent state ---- */
// exempt purposes are always on; GPC-flagged ones are off under GPC; else the choice.
var ok = (p, c) => !!(p && !locked(p) && (p[FLAGS] & EXEMPT || (c || cur?.choices || {})[p[ID]]));
var choice = () => JSON.parse(JSON.stringify(cur)); // a copy, or null
// each Consent Mode type is granted when one of the purposes mapped to it is
var update = () => consent("update", i => P.some(p => p[CMASK] >> i & 1 && ok(p)));
cur && update();

/* ---- revalidation: a withdrawal or an erasure recorded on the server reaches this browser. A stored
 * choice's receipt is asked about before the page's gated scripts run (they wait: busy); the browser
 * caches the answer for a day, and C.e, the site's revalidation epoch, which the server moves on when
 * it records one, makes a new URL. 410 Gone: the grants and the cookie go, and what waited never runs
 * on this page. Any other answer or failure keeps the choice (no answer is not a withdrawal) ---- */
var R = cur?.receipt;
R && (busy = 1, fetch(API + "/v1/receipts/" + R + "/state?" + C.e, {credentials: "omit"})
  .then(r => r.status == 410 && cur?.receipt == R && (write({time: 0}), cur = null, update(), scan(d), purge(), 1))
  .catch(e => 0).then(x => x || run(busy = 0)));

function decide(c, action, channel) {
  var choices = {}, o;
  P.map(p => choices[p[ID]] = ok(p, c));
  write(o = cur = {subject: sid, version: C.v, choices, time: now()});
  // proof of consent: posted in the background, the page never waits for it. `assent:change`
  // follows the ledger's answer, so that it carries the receipt id (null when not recorded)
  fetch(SU + "consents", {
    method: "POST", keepalive: true, credentials: "omit", // mode "cors" is the default
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({subject: sid, policy_version: C.v, choices, action, language: lang, channel, gpc})
  }).then(r => r.json()).then(j => {
    if (!j.receipt) throw j.error?.message || "the ledger gave no receipt";
    o.receipt = j.receipt.id;
    cur == o && write(o);
  }).catch(e => warned++ || console.error(
    // a refused origin (CORS) and a network failure look alike here: name both, once per page
    `Assent: choice applied here but NOT recorded (no receipt): ${e}. ` +
    `${API} accepts choices only from the domains of site "${C.s}"; this page's origin is ${loc.origin}: add "${host}" to its \`domains\` ` +
    `(docs/banner.md).`
  )).finally(() => d.dispatchEvent(new CustomEvent("assent:change", {detail: {receipt: null, ...JSON.parse(JSON.stringify(o))}})));
  M && close(1);
  B && B.remove();
  B = 0;
  update();
  scan(d);
  purge();
}

/* ---- deleting the trackers of refused purposes: cookies, and web-storage keys of the same names,
 * on the host and each parent domain; `name*` is a prefix; names listed under a granted purpose stay.
 * The names are those of the cookies in the purpose's rows ---- */
function purge() {
  var keep = [], del = [], ds = [""], hp = host.split(".");
  while (hp[1]) ds.push(hp.join(".")), hp.shift();
  P.map(p => p[ROWS].map(r => r.map(c => c[0] && (ok(p) ? keep : del).push(c[0])))); // c: a service index, or [name, lifetime]
  var is = n => k => k.at(-1) == "*" ? n.startsWith(k.slice(0, -1)) : n == k;
  var gone = n => n != CN && !keep.some(is(n)) && del.some(is(n));
  d.cookie.split("; ").map(x => {
    var n = x.split("=")[0];
    gone(n) && ds.map(x => d.cookie = n + "=; Max-Age=0; Path=/" + (x && "; Domain=" + x));
  });
  try {
    [localStorage, sessionStorage].map(st => Object.keys(st).map(n => gone(n) && st.removeItem(n)));
  } catch (e) {} // storage disabled
}

/* ---- prior blocking, and "Manage my cookies" elements ---- */
var SEL = 'script[type="text/plain"][data-assent-purpose],[data-assent-purpose][data-assent-src],[data-assent-manage]';
function scan(r) {
  [r, ...r.querySelectorAll(SEL)].map(el => {
    if (!el.matches?.(SEL)) return;
    var a = el.dataset, ids, url, pn, svc, px;
    // a link or a button (docs/banner.md): the browser makes it focusable and keyboard-operable
    if (a.assentManage != null) return el.textContent.trim() || (el.textContent = T[MANAGE]);
    ids = a.assentPurpose.trim().split(/\s+/);
    if (ids.every(i => ok(byId(i)))) {
      if (el.tagName == "SCRIPT") el.type == "text/plain" && !el._queued && (el._queued = 1, queue.push(el), run());
      else if (el._on != 1) el._on = 1, el._ph?.remove(), el.classList.remove("assent-off"), el.src = a.assentSrc;
    } else if (!/^(SCRIPT|IMG)$/.test(el.tagName) && el._on !== 0) {
      // a script that already ran cannot be undone: it is simply never run again
      el._on = 0;
      url = a.assentSrc;
      pn = ids.map(i => (i = byId(i)) ? X(i[NAME]) : "?").join(", ");
      try { svc = a.assentService || new URL(url, loc).hostname; } catch (e) {}
      // same size as the element: its width and height attributes, else its current height
      px = (n, v) => (v = el.getAttribute(n)) ? +v ? v + "px" : esc(v) : "";
      el.before(el._ph = mk(`<div class="assent assent-ph" lang="${lang}" style="width:${px("width") || "100%"};min-height:${px("height") || el.offsetHeight + "px"}">` +
        `<p>${fmt(T[BLOCKED], {service: svc, purpose: pn})}</p>` +
        (ids.some(i => locked(byId(i))) ? "" :
          `<button class=assent-b data-assent-allow="${esc(a.assentPurpose)}">${fmt(T[ALLOW], {purpose: pn})}</button>`) +
        ext(url, T[OPEN]) + "</div>"));
      if (el.getAttribute("src")) el.src = "about:blank"; // withdrawn while shown
      el.classList.add("assent-off");
    }
  });
}

// scripts run once, in document order; an external one without `async` holds the queue until loaded
function run() {
  while (!busy && queue.length) {
    var o = queue.shift(), s = d.createElement("script"), src = o.dataset.src || o.getAttribute("src");
    if (!o.parentNode) continue;
    for (var a of o.attributes) /^(type|data-src)$/.test(a.name) || s.setAttribute(a.name, a.value);
    s.nonce = o.nonce;
    if (src) {
      s.src = src;
      if (!o.hasAttribute("async")) s.async = false, busy = 1, s.onload = s.onerror = () => { busy = 0; run(); };
    } else s.text = o.text;
    o.replaceWith(s);
  }
}

/* ---- user interface: both layers share one structure and one style, built from C alone ---- */
var btn = (a, t) => `<button class=assent-b data-assent-action=${a}>${esc(t)}</button>`;
var ext = (u, t) => `<a href="${esc(u)}" target=_blank>${esc(t)}</a>`;
var mk = h => {
  var e = d.createElement("div");
  e.innerHTML = h;
  return e.firstChild;
};
// a cookie's lifetime in the visitor's language: code 0 = session, else amount * 10 + unit
var UNITS = "minute hour day week month year".split(" ");
var life = n => esc(n ? (n / 10 | 0).toLocaleString(lang, {style: "unit", unit: UNITS[n % 10 - 1], unitDisplay: "long"}) : T[SESSION]);
// id: "banner" (first layer: non-modal, at the bottom: the page stays usable, no cookie wall) or
// "prefs" (second layer: modal); x: the action of its × button; last: its third choice button
var dialog = (id, k, x, last, inner) => mk(`<div id=assent-${id} class=assent lang="${lang}" role=dialog aria-modal=${id > "p"} aria-labelledby=assent-${id}-t aria-describedby=assent-${id}-d>` +
    `<div class=assent-m tabindex=-1><h2 id=assent-${id}-t>${esc(T[k])}</h2><div class=assent-c>` +
    `<p id=assent-${id}-d>${esc(T[k + 1])} ${ext(C.a + "/sites/" + C.s + "/cookie-policy?lang=" + lang, T[POLICY])}</p>` +
    (gpc && T[GPC] ? `<p class=assent-g>${esc(T[GPC])}</p>` : "") + // only when GPC refuses something (else the text is empty)
    inner + `</div><div class=assent-bt>${btn("accept-all", T[ACCEPT])}${btn("reject-all", T[REJECT])}${btn(last, T[k + 3])}</div>` +
    // the ×'s label is visible text too, so that its accessible name contains what is seen
    `<button class=assent-x data-assent-action=${x}>${esc(T[k + 2])}<span aria-hidden=true> ×</span></button></div></div>`);

// the second layer's details, D = {r: "If you refuse:", p: [[description, refusal impact or null], ...]}
// in the order of P: fetched once (more), written into the open preferences when they arrive (fill)
var fill = () => M && D && M.querySelectorAll(".assent-i").forEach((e, i, x) => (x = D.p[i]) &&
  (e.innerHTML = `<p>${esc(x[0])}</p>` + (x[1] ? `<p class=assent-k><b>${esc(D.r)}</b> ${esc(x[1])}</p>` : "")));
var more = () => asked ||= fetch(API + "/assent-details.json?site=" + encodeURIComponent(C.s) + "&v=" + C.v + "&lang=" + lang,
  {credentials: "omit"}).then(r => r.json()).then(j => { D = j; fill(); }).catch(e => 0);

// the second layer: focus moves in, is trapped inside while open and restored afterwards
function show(fromBanner) {
  var f = () => {
    if (M) return;
    viaBanner = fromBanner;
    back = d.activeElement;
    d.body.append(M = dialog("prefs", PREFS_TITLE, "dismiss", "save",
      (cur ? `<p class=assent-k>${fmt(T[CURRENT], {
        date: new Date(cur.time).toLocaleString(lang, {dateStyle: "long", timeStyle: "short"}), v: cur.version
      })}` + (cur.receipt ? " · " + ext(API + "/receipts/" + encodeURIComponent(cur.receipt), T[RECEIPT]) + ": " + esc(cur.receipt) : "") + "</p>" : "") +
      P.map((p, i) => {
        var id = "assent-s" + i, ex = p[FLAGS] & EXEMPT, rows = p[ROWS];
        // switch row, description and refusal impact (filled in from D), legal basis, then the
        // purpose's services (name · provider) with their cookies (name and lifetime)
        return `<section class=assent-p><div class=assent-r><label for=${id}>${esc(p[NAME])}</label>` +
          (ex ? `<span class=assent-k>${esc(T[ALWAYS])}</span>` : "") +
          `<input type=checkbox role=switch class=assent-sw id=${id} data-assent-purpose="${esc(p[ID])}" aria-describedby="${id}i ${id}d"` +
          (ok(p) ? " checked" : "") + (ex || locked(p) ? " disabled" : "") + `></div><div class=assent-i id=${id}i></div>` +
          `<p class=assent-k id=${id}d><b>${esc(T[BASIS])}</b> ${[p[BASES]].flat().map(b => esc(C.b[b])).join(", ")}</p>` +
          (rows[0] ? `<details class=assent-k><summary>${esc(T[SERVICES])} (${rows.length})</summary><ul>` +
            rows.map(([s, ...c]) => `<li>${esc(C.r[s].join(" · "))}` +
              (c[0] ? ": " + c.map(([n, l]) => esc(n) + ` (${life(l)})`).join(", ") : "")).join("") + "</ul></details>" : "") + "</section>";
      }).join("")));
    if (B) B.hidden = true;
    fill();
    more();
    M.firstChild.focus();
  };
  d.body ? f() : on("DOMContentLoaded", f);
}

function close(decided) {
  M.remove();
  M = 0;
  if (B && !decided) B.hidden = false;
  back?.focus?.();
}

// a: accept-all, reject-all, close (the first layer's ×: closing without a choice is a refusal),
// save, customize, dismiss (the preferences' ×)
function act(a, inPrefs) {
  var c = {}, some = f => P.some(p => !(p[FLAGS] & EXEMPT) && f(p));
  if (a == "customize") return show(1);
  if (a == "dismiss") return close();
  if (a == "accept-all") P.map(p => c[p[ID]] = 1);
  if (a == "save") M.querySelectorAll("input").forEach(i => c[i.dataset.assentPurpose] = i.checked);
  decide(c, a == "accept-all" ? "accept_all" :
    // granting nothing after a choice that granted something is a withdrawal
    cur && some(ok) && !some(p => c[p[ID]]) ? "withdraw" : a == "save" ? "custom" : "reject_all",
    inPrefs && !viaBanner ? "preferences" : "banner");
}

on("click", e => {
  var t = e.target.closest("[data-assent-manage],[data-assent-allow],.assent [data-assent-action]"), a, c;
  if (!t) return;
  a = t.dataset;
  if (a.assentManage != null) e.preventDefault(), show();
  else if (a.assentAllow) {
    c = {...cur?.choices};
    a.assentAllow.trim().split(/\s+/).map(i => c[i] = 1);
    decide(c, "custom", "banner");
  } else act(a.assentAction, M && M.contains(t));
});

on("keydown", e => {
  var t = e.target, k = e.key, f;
  if (M) {
    if (k == "Escape") act("dismiss");
    if (k == "Tab") { // wrap around the dialog's first and last focusable elements
      f = [...M.querySelectorAll("a,button,input:enabled,summary")];
      if (e.shiftKey ? t == f[0] || t == M.firstChild : t == f.at(-1))
        e.preventDefault(), f.at(e.shiftKey ? -1 : 0).focus();
    }
  } else if (k == "Escape" && B && (B.contains(t) || t == d.body)) act("close");
});
on("focusin", e => M && !M.contains(e.target) && M.firstChild.focus());

/* ---- public API ---- */
w.assent = {
  hasConsent: id => ok(byId(id)),
  show: () => show(),
  onChange: f => on("assent:change", e => f(e.detail)), // once the ledger answered: with the receipt
  choice
};

/* ---- start ---- */
var st = d.createElement("style");
st.textContent = S;
d.head.append(st); // the script is in <head>
// as soon as <body> exists (while the page is still being parsed, so that the first layer is in the
// page's first paint): handle what is already there and show the first layer
var start = () => {
  if (d.body && !started) {
    started = 1;
    scan(d);
    purge();
    // shownAt (performance.now() at insertion) serves the timing benchmark; the beacon counts
    // the display for the dashboard, anonymously (no cookie, no id: docs/dashboard.md)
    cur || (d.body.prepend(B = dialog("banner", TITLE, "close", "customize",
      `<p class=assent-k>${P.map(p => esc(p[NAME])).join(" · ")}</p>`)), // the purposes, named
      w.assent.shownAt = performance.now(), nav.sendBeacon?.(SU + "shown", JSON.stringify({policy_version: C.v, language: lang})), more());
  }
};
// prior blocking of what the parser (or the page's scripts) add later
new MutationObserver(ms => {
  start();
  ms.map(m => m.addedNodes.forEach(n => n.querySelectorAll && scan(n)));
}).observe(d, {childList: true, subtree: true});
start();
