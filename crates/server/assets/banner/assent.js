/* Assent consent banner: readable source.
 *
 * This file is the BODY of a function. The server answers `GET /assent.js?site=ID` with
 *   (function(C,S){ <assent.min.js> })(<config JSON>, <CSS as a JS string>);
 * C = the site's banner configuration for its current policy version, S = the CSS text.
 * Schema of C, the choice cookie and integration notes: docs/dev/banner-config.md.
 * Minified copy: assent.min.js, made by scripts/build-banner.sh (never edit it by hand).
 * Vanilla JavaScript (ES2020), no dependency, no request before the visitor decides.
 */
var w = window, d = document, nav = navigator, loc = location;
if (w.assent) return; // included twice: the first instance stays in charge

/* ---- Google Consent Mode v2: defaults before anything else ---- */
var DN = "denied", GR = "granted";
w.dataLayer = w.dataLayer || [];
if (typeof w.gtag != "function") w.gtag = function () { w.dataLayer.push(arguments); };
var consent = (a, f, x) => {
  var u = {};
  "ad_storage ad_user_data ad_personalization analytics_storage functionality_storage personalization_storage security_storage"
    .split(" ").map(k => u[k] = f(k) ? GR : DN);
  w.gtag("consent", a, {...u, ...x});
};
consent("default", k => k == "security_storage", {wait_for_update: 500});

var P = C.purposes, byId = {}, queue = [], busy, B, M, viaBanner, back, now = Date.now, DAY = 864e5;
P.map(p => byId[p.id] = p);
var gpc = nav.globalPrivacyControl === true, https = loc.protocol == "https:", host = loc.hostname;
var days = Math.min(C.days || 182, 395); // never above 13 months

/* ---- language: the page's lang, then the browser's languages, then the site's default ---- */
var pick = l => C.langs.find(x => x.toLowerCase() == l); // tags compare case-insensitively
var lang = [d.documentElement.lang, ...nav.languages]
  .map(l => (l = (l || "").toLowerCase(), pick(l) || pick(l.split("-")[0])))
  .find(x => x) || C.lang;
var T = {...C.t[C.lang], ...C.t[lang]};
var L = o => o && typeof o == "object" ? o[lang] ?? o[C.lang] : o; // {"en":..,"fr":..} or a plain string
var esc = s => String(s ?? "").replace(/[&<>"]/g, c => "&#" + c.charCodeAt(0) + ";");
var fmt = (s, m) => esc((s || "").replace(/\{(\w+)\}/g, (a, k) => m[k] ?? a)); // fill {names}, then escape

/* ---- the choice cookie: URI-encoded JSON {subject, version, choices, time, receipt} ---- */
var CK = C.cookie || {}, CN = CK.name || "assent_consent", dom = (CK.domain || "").replace(/^\./, "");
var read = () => { try { return JSON.parse(decodeURIComponent(d.cookie.match("(^|; )" + CN + "=([^;]*)")[2])); } catch (e) {} };
var write = o => d.cookie = CN + "=" + encodeURIComponent(JSON.stringify(o)) +
  "; Path=/; Max-Age=" + ((o.time + days * DAY - now()) / 1e3 | 0) +
  (host == dom || host.endsWith("." + dom) ? "; Domain=" + dom : "") + // else host-only (e.g. a test host)
  "; SameSite=Lax" + (https ? "; Secure" : "");
var old = read() || {};
var sid = /^[\da-f-]{36}$/.test(old.subject) ? old.subject :
  w.crypto.randomUUID ? crypto.randomUUID() : // secure contexts only; else UUID v4 from getRandomValues
  "10000000-1000-4000-8000-100000000000".replace(/[018]/g, c => (c ^ crypto.getRandomValues(new Uint8Array(1))[0] & 15 >> c / 4).toString(16));
// a stored choice counts while it has not expired and its version is not below the consent floor
var cur = old.choices && old.version >= (C.floor | 0) && old.time + days * DAY > now() ? old : null;

/* ---- consent state ---- */
// exempt purposes (req: false) are always on; GPC-flagged ones are off under GPC; else the choice.
// A purpose without "req" needs consent: the protective reading.
var exempt = p => p.req === false;
var ok = (id, c) => {
  var p = byId[id];
  return !!p && !(gpc && p.gpc) && (exempt(p) || !!(c || cur?.choices || {})[id]);
};
var choice = () => cur && JSON.parse(JSON.stringify(cur));
// each Consent Mode type is granted when one of the purposes mapped to it is (none listed: denied)
var update = () => consent("update", k => C.cm[k]?.some(i => ok(i)));
cur && update();

function decide(c, action, channel) {
  var choices = {}, o;
  P.map(p => choices[p.id] = ok(p.id, c));
  write(o = cur = {subject: sid, version: C.v, choices, time: now()});
  // proof of consent: posted in the background, the page never waits for it
  fetch(C.api + "/v1/sites/" + encodeURIComponent(C.site) + "/consents", {
    method: "POST", keepalive: true, credentials: "omit", // mode "cors" is the default
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({subject: sid, policy_version: C.v, choices, action, language: lang, channel, gpc})
  }).then(r => r.ok && r.json()).then(j => {
    if (j?.receipt?.id && cur == o) o.receipt = j.receipt.id, write(o);
  }).catch(() => {});
  if (M) closePrefs(1);
  B?.remove();
  B = null;
  update();
  scan(d);
  purge();
  d.dispatchEvent(new CustomEvent("assent:change", {detail: choice()}));
}

/* ---- deleting the trackers of refused purposes: cookies, and web-storage keys of the same names
 * (wildcards like _ga_* allowed) ---- */
function purge() {
  var keep = {}, del = [], ds = [""], hp = host.split(".");
  while (hp[1]) ds.push(hp.join(".")), hp.shift(); // host-only, then the host and each parent domain
  P.map(p => (p.services || []).map(s => (s.cookies || []).map(k => ok(p.id) ? keep[k.n] = 1 :
    del.push(RegExp("^" + k.n.replace(/\W/g, "\\$&").replace(/\\\*/g, ".*") + "$")))));
  var gone = n => n != CN && !keep[n] && del.some(r => r.test(n));
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
    var a = el.dataset, ids, url, pn, svc, p, px;
    if (a.assentManage != null) {
      if (el.tabIndex < 0) el.tabIndex = 0, el.setAttribute("role", "button");
      el.textContent.trim() || (el.textContent = T.manage);
      return;
    }
    ids = a.assentPurpose.trim().split(/\s+/);
    if (ids.every(i => ok(i))) {
      if (el.tagName == "SCRIPT") el.type == "text/plain" && !el.aq && (el.aq = 1, queue.push(el), run());
      else if (el.as != 1) el.as = 1, el.ap?.remove(), el.classList.remove("assent-off"), el.src = a.assentSrc;
    } else if (!/^(SCRIPT|IMG)$/.test(el.tagName) && el.as !== 0) {
      // a script that already ran cannot be undone: it is simply never run again
      el.as = 0;
      url = a.assentSrc;
      pn = ids.map(i => L(byId[i]?.name) || i).join(", ");
      svc = a.assentService;
      try { svc ||= new URL(url, loc).hostname; } catch (e) {}
      px = v => v && (+v ? v + "px" : v);
      p = el.ap = d.createElement("div");
      p.className = "assent assent-ph";
      p.lang = lang;
      p.style.width = px(el.getAttribute("width")) || "100%";
      p.style.minHeight = px(el.getAttribute("height")) || (el.offsetHeight || 150) + "px";
      p.innerHTML = `<p>${fmt(T.blocked, {service: svc, purpose: pn})}</p>` +
        (ids.some(i => gpc && byId[i]?.gpc) ? "" :
          `<button type="button" class="assent-b" data-assent-allow="${esc(a.assentPurpose)}">${fmt(T.allow, {purpose: pn})}</button>`) +
        ext(url, T.open);
      if (el.getAttribute("src")) el.src = "about:blank"; // withdrawn while shown
      el.classList.add("assent-off");
      el.before(p);
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

/* ---- user interface ---- */
var ready = f => d.body ? f() : d.addEventListener("DOMContentLoaded", f);
var mk = h => { var x = d.createElement("div"); x.innerHTML = h; return x.firstChild; };
var btn = (a, t) => `<button class="assent-b" data-assent-action="${a}">${esc(t)}</button>`;
var xbtn = (a, t) => `<button class="assent-x" data-assent-action="${a}" aria-label="${esc(t)}">×</button>`;
var ext = (u, t) => `<a href="${esc(u)}" target="_blank">${esc(t)}</a>`;
var intro = (id, t) => `<p id="${id}">${esc(t)} ${ext(L(C.policy) || C.api + "/sites/" + C.site + "/cookie-policy?lang=" + lang, T.policy)}</p>` +
  (gpc && P.some(p => p.gpc) ? `<p class="assent-g">${esc(T.gpc)}</p>` : ""); // only when GPC refuses something
var dialog = (id, modal, t, ds) => `<div id="assent-${id}" class="assent" lang="${lang}" role="dialog" aria-modal="${modal}" aria-labelledby="${t}" aria-describedby="${ds}">`;

// first layer: a non-modal region at the bottom; the page stays usable (no cookie wall)
function banner() {
  d.body.prepend(B = mk(dialog("banner", false, "assent-t", "assent-d") +
    `<div class="assent-tx"><h2 id="assent-t">${esc(T.title)}</h2>${intro("assent-d", T.body)}` +
    `<ul class="assent-pl">${P.map(p => `<li>${esc(L(p.name))}</li>`).join("")}</ul></div>` +
    `<div class="assent-bt">${btn("accept-all", T.accept)}${btn("reject-all", T.reject)}${btn("customize", T.customize)}</div>` +
    xbtn("close", T.close) + "</div>"));
}

function purpose(p) {
  var id = "assent-s-" + esc(p.id), n = 0, ss = p.services || [];
  var sv = ss.map(s => {
    var ck = s.cookies || [];
    n += ck.length;
    return `<div class="assent-sv"><p><b>${s.url ? ext(s.url, s.name) : esc(s.name)}</b>` +
      (s.provider ? " · " + esc(s.provider) : "") + (s.country ? " · " + esc(s.country) : "") + "</p>" +
      (ck.length ? `<table><tr><th>${esc(T.cookies)}</th><th>${esc(T.domain)}</th><th>${esc(T.lifetime)}</th></tr>` +
        ck.map(k => `<tr><td><code>${esc(k.n)}</code></td><td>${esc(k.d)}</td><td>${esc(L(k.l))}</td></tr>`).join("") +
        "</table>" : "") + "</div>";
  }).join("");
  return `<section class="assent-p"><div class="assent-r"><label for="${id}">${esc(L(p.name))}</label>` +
    (exempt(p) ? `<span class="assent-a">${esc(T.always)}</span>` : "") +
    `<input type="checkbox" role="switch" class="assent-sw" id="${id}" data-assent-purpose="${esc(p.id)}" aria-describedby="${id}-d"` +
    (ok(p.id) ? " checked" : "") + (exempt(p) || gpc && p.gpc ? " disabled" : "") + "></div>" +
    `<p id="${id}-d">${esc(L(p.desc))}</p>` + (p.impact ? `<p class="assent-k">${esc(L(p.impact))}</p>` : "") + `<p class="assent-k"><b>${esc(T.basis)}</b> ${esc(L(p.basis))}</p>` +
    (n ? `<details><summary>${esc(T.services)} (${ss.length})</summary>${sv}</details>` : "") +
    "</section>";
}

// second layer: a modal dialog; focus is trapped inside while open and restored afterwards
function show(fromBanner) {
  ready(() => {
    if (M) return;
    viaBanner = fromBanner;
    back = d.activeElement;
    d.body.append(M = mk(dialog("prefs", true, "assent-pt", "assent-pd") +
      `<div class="assent-m" tabindex="-1"><div class="assent-h"><h2 id="assent-pt">${esc(T.prefsTitle)}</h2>${xbtn("dismiss", T.closePrefs)}</div>` +
      `<div class="assent-c">${intro("assent-pd", T.prefsBody)}` +
      (cur ? `<p class="assent-cur">${fmt(T.current, {
        date: new Date(cur.time).toLocaleString(lang, {dateStyle: "long", timeStyle: "short"}), v: cur.version
      })}` + (cur.receipt ? " · " + ext(C.api + "/v1/receipts/" + encodeURIComponent(cur.receipt), T.receipt) : "") + "</p>" : "") +
      P.map(purpose).join("") +
      `</div><div class="assent-bt">${btn("accept-all", T.accept)}${btn("reject-all", T.reject)}${btn("save", T.save)}</div></div></div>`));
    if (B) B.hidden = true;
    M.firstChild.focus();
  });
}

function closePrefs(decided) {
  M.remove();
  M = null;
  if (B && !decided) B.hidden = false;
  back?.focus?.();
}

function act(a, inPrefs) {
  var ch = inPrefs && !viaBanner ? "preferences" : "banner", c = {},
    had = cur && P.some(p => !exempt(p) && ok(p.id)); // withdrawing is refusing after a consent
  if (a == "accept-all") P.map(p => c[p.id] = true), decide(c, "accept_all", ch);
  if (a == "reject-all") decide(c, had ? "withdraw" : "reject_all", ch);
  if (a == "close") decide(c, "reject_all", "banner"); // closing without a choice counts as refusal
  if (a == "customize") show(1);
  if (a == "dismiss") closePrefs();
  if (a == "save") {
    M.querySelectorAll("input").forEach(i => c[i.dataset.assentPurpose] = i.checked);
    decide(c, had && !P.some(p => !exempt(p) && c[p.id]) ? "withdraw" : "custom", ch);
  }
}

d.addEventListener("click", e => {
  var t = e.target.closest("[data-assent-manage],[data-assent-allow],.assent [data-assent-action]"), c;
  if (!t) return;
  if (t.dataset.assentManage != null) e.preventDefault(), show();
  else if (t.dataset.assentAllow) {
    c = {...cur?.choices};
    t.dataset.assentAllow.trim().split(/\s+/).map(i => c[i] = true);
    decide(c, "custom", "banner");
  } else act(t.dataset.assentAction, M?.contains(t));
});

d.addEventListener("keydown", e => {
  var t = e.target, k = e.key, b, a = d.activeElement;
  if (M) {
    if (k == "Escape") act("dismiss");
    if (k == "Tab") {
      b = M.querySelectorAll("button"); // the first is "close", the last is "save"
      if (e.shiftKey ? a == b[0] || a == M.firstChild : a == b[b.length - 1])
        e.preventDefault(), b[e.shiftKey ? b.length - 1 : 0].focus();
    }
  } else if (k == "Escape" && B && (B.contains(t) || t == d.body)) act("close");
  else if ((k == "Enter" || k == " ") && t.closest("[data-assent-manage]") && !t.closest("a[href],button"))
    e.preventDefault(), show();
});
d.addEventListener("focusin", e => M && !M.contains(e.target) && M.firstChild.focus());

/* ---- public API ---- */
w.assent = {
  hasConsent: id => ok(id),
  show: () => show(),
  onChange: f => d.addEventListener("assent:change", e => f(e.detail)),
  choice
};

/* ---- start ---- */
var st = d.createElement("style");
st.textContent = S;
(d.head || d.documentElement).append(st);
new MutationObserver(ms => ms.map(m => m.addedNodes.forEach(n => n.querySelectorAll && scan(n))))
  .observe(d, {childList: true, subtree: true});
ready(() => {
  scan(d);
  purge();
  cur || banner();
});
