/* Assent consent banner: readable source.
 *
 * This file is the BODY of a function. The server answers `GET /assent.js?site=ID` with
 *   (function(C,S){ <assent.min.js> })(<config JSON>, <CSS as a JS string>);
 * C = the site's compact banner configuration for its current policy version, S = the CSS text.
 * Schema of C, the choice cookie and integration notes: docs/dev/banner-config.md; the generator is
 * crates/server/src/banner/config.rs. Minified copy: assent.min.js, made by scripts/build-banner.sh
 * (never edit it by hand). Vanilla JavaScript (ES2020), no dependency. Before the visitor decides, the
 * only request is to Assent itself, for the second layer's details (no cookie, no identifier).
 * Written for size: every byte here is paid by every visitor of every site.
 */
var w = window, d = document, nav = navigator, loc = location, now = Date.now;
if (w.assent) return; // included twice: the first instance stays in charge

/* ---- indexes into C.t[lang] (same order as UI_KEYS in banner/config.rs) and into a purpose ---- */
var TITLE = 0, BODY = 1, ACCEPT = 2, REJECT = 3, CUSTOMIZE = 4, SAVE = 5, CLOSE = 6, CLOSE_PREFS = 7,
  ALWAYS = 8, PREFS_TITLE = 9, PREFS_BODY = 10, CURRENT = 11, RECEIPT = 12, BLOCKED = 13, ALLOW = 14,
  OPEN = 15, POLICY = 16, MANAGE = 17, GPC = 18;
var ID = 0, FLAGS = 1, CMASK = 2, NAME = 3, NAMES = 4; // C.p[i] = [id, flags, consent-mode mask, name, cookie names]
var EXEMPT = 1, GPCF = 2; // flag bits

/* ---- Google Consent Mode v2: defaults before anything else ---- */
var CM = "ad_storage ad_user_data ad_personalization analytics_storage functionality_storage personalization_storage security_storage".split(" ");
var dl = w.dataLayer = w.dataLayer || [];
if (typeof w.gtag != "function") w.gtag = function () { dl.push(arguments); };
var consent = (a, f, x) => {
  CM.map((k, i) => x[k] = f(i) ? "granted" : "denied");
  w.gtag("consent", a, x);
};
consent("default", i => i > 5, {wait_for_update: 500}); // security_storage only

var P = C.p, queue = [], busy, B, M, viaBanner, back, DAY = 864e5;
var gpc = nav.globalPrivacyControl === true, host = loc.hostname;
var days = Math.min(C.d, 395); // never above 13 months
// Assent's base URL as this page reached it: where this script came from (C.a, the configured
// public URL, when the script runs inline)
var API = d.currentScript?.src.replace(/\/assent\.js.*/, "") || C.a;
var byId = id => P.find(p => p[ID] == id);

/* ---- language: the page's lang, then the browser's languages, then the site's default ---- */
var li = 0, pick = l => C.l.findIndex(x => x.toLowerCase() == l); // tags compare case-insensitively
[d.documentElement.lang, ...nav.languages].some(l =>
  (l = (l || "").toLowerCase(), li = pick(l)) > -1 || (li = pick(l.split("-")[0])) > -1) || (li = 0);
var lang = C.l[li], T = C.t[li];
// a Text is [one string per language] or one string for all; esc picks the language, then escapes
var X = s => s?.map ? s[li] : s;
var esc = s => String(X(s)).replace(/[&<>"]/g, c => "&#" + c.charCodeAt(0) + ";");
var fmt = (s, m) => esc(s).replace(/\{(\w+)\}/g, (a, k) => esc(m[k] ?? a)); // escape, then fill {names}

/* ---- the choice cookie: URI-encoded JSON {subject, version, choices, time, receipt} ---- */
var CN = C.k[0], dom = C.k[1].replace(/^\./, "");
var read = () => { try { return JSON.parse(decodeURIComponent(d.cookie.match("(^|; )" + CN + "=([^;]*)")[2])); } catch (e) {} };
var write = o => d.cookie = CN + "=" + encodeURIComponent(JSON.stringify(o)) +
  "; Path=/; Max-Age=" + ((o.time + days * DAY - now()) / 1e3 | 0) +
  (host == dom || host.endsWith("." + dom) ? "; Domain=" + dom : "") + // else host-only (e.g. a test host)
  "; SameSite=Lax" + (loc.protocol == "https:" ? "; Secure" : "");
var old = read() || {};
var sid = /^[\da-f-]{36}$/.test(old.subject) ? old.subject :
  // a random UUID v4 (crypto.randomUUID exists in secure contexts only)
  "10000000-1000-4000-8000-100000000000".replace(/[018]/g, c => (c ^ crypto.getRandomValues(new Uint8Array(1))[0] & 15 >> c / 4).toString(16));
// a stored choice counts while it has not expired and its version is not below the consent floor
var cur = old.choices && old.version >= C.f && old.time + days * DAY > now() ? old : null;

/* ---- consent state ---- */
// exempt purposes are always on; GPC-flagged ones are off under GPC; else the choice.
var ok = (p, c) => !!(p && !(gpc && p[FLAGS] & GPCF) && (p[FLAGS] & EXEMPT || (c || cur?.choices || {})[p[ID]]));
var choice = () => cur ? JSON.parse(JSON.stringify(cur)) : null;
// each Consent Mode type is granted when one of the purposes mapped to it is
var update = () => consent("update", i => P.some(p => p[CMASK] >> i & 1 && ok(p)), {});
cur && update();

function decide(c, action, channel) {
  var choices = {}, o;
  P.map(p => choices[p[ID]] = ok(p, c));
  write(o = cur = {subject: sid, version: C.v, choices, time: now()});
  // proof of consent: posted in the background, the page never waits for it
  fetch(API + "/v1/sites/" + encodeURIComponent(C.s) + "/consents", {
    method: "POST", keepalive: true, credentials: "omit", // mode "cors" is the default
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({subject: sid, policy_version: C.v, choices, action, language: lang, channel, gpc})
  }).then(r => r.json()).then(j => {
    if (j.receipt && cur == o) o.receipt = j.receipt.id, write(o);
  }).catch(e => 0);
  M && close(1);
  B && B.remove();
  B = 0;
  update();
  scan(d);
  purge();
  d.dispatchEvent(new CustomEvent("assent:change", {detail: choice()}));
}

/* ---- deleting the trackers of refused purposes: cookies, and web-storage keys of the same names,
 * on the host and each parent domain; `name*` is a prefix; names listed under a granted purpose stay ---- */
function purge() {
  var keep = [], del = [], ds = [""], hp = host.split(".");
  while (hp[1]) ds.push(hp.join(".")), hp.shift();
  P.map(p => p[NAMES].map(n => (ok(p) ? keep : del).push(n)));
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
    var a = el.dataset, ids, url, pn, svc, ph, px;
    if (a.assentManage != null) {
      if (el.tabIndex < 0) el.tabIndex = 0, el.setAttribute("role", "button");
      el.textContent.trim() || (el.textContent = T[MANAGE]);
      return;
    }
    ids = a.assentPurpose.trim().split(/\s+/);
    if (ids.every(i => ok(byId(i)))) {
      if (el.tagName == "SCRIPT") el.type == "text/plain" && !el.aq && (el.aq = 1, queue.push(el), run());
      else if (el.as != 1) el.as = 1, el.ap?.remove(), el.classList.remove("assent-off"), el.src = a.assentSrc;
    } else if (!/^(SCRIPT|IMG)$/.test(el.tagName) && el.as !== 0) {
      // a script that already ran cannot be undone: it is simply never run again
      el.as = 0;
      url = a.assentSrc;
      pn = ids.map(i => (i = byId(i)) ? X(i[NAME]) : "?").join(", ");
      try { svc = a.assentService || new URL(url, loc).hostname; } catch (e) {}
      // same size as the element: its width and height attributes, else its current height
      px = (n, v) => (v = el.getAttribute(n)) ? +v ? v + "px" : esc(v) : "";
      ph = el.ap = mk(`<div class="assent assent-ph" lang="${lang}" style="width:${px("width") || "100%"};min-height:${px("height") || el.offsetHeight + "px"}">` +
        `<p>${fmt(T[BLOCKED], {service: svc, purpose: pn})}</p>` +
        (ids.some(i => gpc && byId(i)?.[FLAGS] & GPCF) ? "" :
          `<button class="assent-b" data-assent-allow="${esc(a.assentPurpose)}">${fmt(T[ALLOW], {purpose: pn})}</button>`) +
        ext(url, T[OPEN]) + "</div>");
      if (el.getAttribute("src")) el.src = "about:blank"; // withdrawn while shown
      el.classList.add("assent-off");
      el.before(ph);
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

/* ---- user interface: both layers share one structure and one style. The first layer and the
 * controls of the second come with this script; the second layer's details (purpose descriptions, legal bases, services, cookies, lifetimes:
 * HTML rendered by the server) and its CSS are fetched from {api}/assent.json?site=ID&v=VERSION (immutable, cached) at idle once the
 * first layer is shown, or when the preferences are opened, to keep this response small
 * (docs/banner.md, "Sizes") ---- */
var ready = f => d.body ? f() : d.addEventListener("DOMContentLoaded", f);
var btn = (a, t) => `<button class="assent-b" data-assent-action="${a}">${esc(t)}</button>`;
var ext = (u, t) => `<a href="${esc(u)}" target="_blank">${esc(t)}</a>`;
var style = css => {
  var st = d.createElement("style");
  st.textContent = css;
  (d.head || d.documentElement).append(st);
};
var J, load = () => J ||= fetch(API + "/assent.json?site=" + encodeURIComponent(C.s) + "&v=" + C.v)
  .then(r => r.json()).then(j => (style(j.css), j)) // failed: the preferences show the purposes' names and switches only
  .catch(e => ({}));
// id: "banner" (first layer: non-modal, at the bottom: the page stays usable, no cookie wall) or
// "prefs" (second layer: modal); x: the action of its × button; last: its third choice button
var mk = h => {
  var e = d.createElement("div");
  e.innerHTML = h;
  return e.firstChild;
};
var dialog = (id, title, body, x, xl, inner, last, ll) => mk(`<div id="assent-${id}" class="assent" lang="${lang}" role="dialog" aria-modal="${id > "p"}" aria-labelledby="assent-${id}-t" aria-describedby="assent-${id}-d">` +
    `<div class="assent-m" tabindex="-1"><h2 id="assent-${id}-t">${esc(title)}</h2><div class="assent-c">` +
    `<p id="assent-${id}-d">${esc(body)} ${ext(C.u, T[POLICY])}</p>` +
    (gpc && P.some(p => p[FLAGS] & GPCF) ? `<p class="assent-g">${esc(T[GPC])}</p>` : "") + // only when GPC refuses something
    inner + `</div><div class="assent-bt">${btn("accept-all", T[ACCEPT])}${btn("reject-all", T[REJECT])}${btn(last, ll)}</div>` +
    `<button class="assent-x" data-assent-action="${x}" aria-label="${esc(xl)}">×</button></div></div>`);

// the second layer: focus moves in, is trapped inside while open and restored afterwards
function show(fromBanner) {
  load().then(j => ready(() => {
    if (M) return;
    viaBanner = fromBanner;
    back = d.activeElement;
    d.body.append(M = dialog("prefs", T[PREFS_TITLE], T[PREFS_BODY], "dismiss", T[CLOSE_PREFS],
      (cur ? `<p class="assent-k">${fmt(T[CURRENT], {
        date: new Date(cur.time).toLocaleString(lang, {dateStyle: "long", timeStyle: "short"}), v: cur.version
      })}` + (cur.receipt ? " · " + ext(API + "/v1/receipts/" + encodeURIComponent(cur.receipt), T[RECEIPT]) : "") + "</p>" : "") +
      P.map((p, i) => {
        var id = "assent-s" + i, ex = p[FLAGS] & EXEMPT;
        return `<section class="assent-p"><div class="assent-r"><label for="${id}">${esc(p[NAME])}</label>` +
          (ex ? `<span class="assent-k">${esc(T[ALWAYS])}</span>` : "") +
          `<input type="checkbox" role="switch" class="assent-sw" id="${id}" data-assent-purpose="${esc(p[ID])}" aria-describedby="${id}d"` +
          (ok(p) ? " checked" : "") + (ex || gpc && p[FLAGS] & GPCF ? " disabled" : "") + "></div>" +
          // the purpose's details, rendered by the server: <p id="assent-s{i}d"> (description), refusal
          // impact, legal basis, and a <details> table of its services and cookies
          (j.h?.[li][i] || "") + "</section>";
      }).join(""), "save", T[SAVE]));
    if (B) B.hidden = true;
    M.firstChild.focus();
  }));
}

function close(decided) {
  M.remove();
  M = 0;
  if (B && !decided) B.hidden = false;
  back?.focus?.();
}

function act(a, inPrefs) {
  var ch = inPrefs && !viaBanner ? "preferences" : "banner", c = {},
    had = cur && P.some(p => !(p[FLAGS] & EXEMPT) && ok(p)); // refusing after a consent is a withdrawal
  if (a == "accept-all") P.map(p => c[p[ID]] = 1), decide(c, "accept_all", ch);
  if (a == "reject-all") decide(c, had ? "withdraw" : "reject_all", ch);
  if (a == "close") decide(c, "reject_all", ch); // closing without a choice counts as refusal
  if (a == "customize") show(1);
  if (a == "dismiss") close();
  if (a == "save") {
    M.querySelectorAll("input").forEach(i => c[i.dataset.assentPurpose] = i.checked);
    decide(c, had && !P.some(p => !(p[FLAGS] & EXEMPT) && c[p[ID]]) ? "withdraw" : "custom", ch);
  }
}

d.addEventListener("click", e => {
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

d.addEventListener("keydown", e => {
  var t = e.target, k = e.key, f;
  if (M) {
    if (k == "Escape") act("dismiss");
    if (k == "Tab") { // wrap around the dialog's first and last focusable elements
      f = [...M.querySelectorAll("a,button,input:enabled,summary")];
      if (e.shiftKey ? t == f[0] || t == M.firstChild : t == f.at(-1))
        e.preventDefault(), f.at(e.shiftKey ? -1 : 0).focus();
    }
  } else if (k == "Escape" && B && (B.contains(t) || t == d.body)) act("close");
  else if ((k == "Enter" || k == " ") && t.closest("[data-assent-manage]") && !t.closest("a[href],button"))
    e.preventDefault(), show();
});
d.addEventListener("focusin", e => M && !M.contains(e.target) && M.firstChild.focus());

/* ---- public API ---- */
w.assent = {
  hasConsent: id => ok(byId(id)),
  show: () => show(),
  onChange: f => d.addEventListener("assent:change", e => f(e.detail)),
  choice
};

/* ---- start ---- */
style(S);
// as soon as <body> exists (while the page is still being parsed, so that the first layer is in the
// page's first paint): handle what is already there and show the first layer
var started, start = () => {
  if (d.body && !started) {
    started = 1;
    scan(d);
    purge();
    // shownAt (performance.now() at insertion) serves the timing benchmark
    cur || (d.body.prepend(B = dialog("banner", T[TITLE], T[BODY], "close", T[CLOSE],
      `<ul class="assent-pl">${P.map(p => `<li>${esc(p[NAME])}</li>`).join("")}</ul>`, "customize", T[CUSTOMIZE])),
      w.assent.shownAt = performance.now(), (w.requestIdleCallback || setTimeout)(load));
  }
};
// prior blocking of what the parser (or the page's scripts) add later
new MutationObserver(ms => {
  start();
  ms.map(m => m.addedNodes.forEach(n => n.querySelectorAll && scan(n)));
}).observe(d, {childList: true, subtree: true});
start();
