// Browser smoke test of the banner against the dev harness (serve.mjs), in Debian's Chromium over the
// DevTools protocol. No dependency: `node --experimental-websocket check.mjs [--min] [--shots DIR]`
//   --min        test assent.min.js / assent.min.css instead of the sources
//   --shots DIR  also write the four documentation screenshots (banner-*-{en,fr}.png) into DIR
// Manual tool for whoever edits the banner; the project's real browser tests drive the Rust server.
import {spawn} from "node:child_process";
import {mkdtempSync, readFileSync, existsSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, dirname} from "node:path";
import {fileURLToPath} from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

async function launch() {
  const dir = mkdtempSync(join(tmpdir(), "chr-"));
  const proc = spawn("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
    `--user-data-dir=${dir}`, "--remote-debugging-port=0", "about:blank"], {stdio: ["ignore", "ignore", "pipe"]});
  let port;
  for (let i = 0; i < 100 && !port; i++) {
    await sleep(100);
    const f = join(dir, "DevToolsActivePort");
    if (existsSync(f)) port = readFileSync(f, "utf8").split("\n")[0];
  }
  const list = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json();
  const ws = new WebSocket(list.webSocketDebuggerUrl);
  await new Promise(r => ws.onopen = r);
  let id = 0;
  const pending = new Map(), listeners = [];
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id && pending.has(msg.id)) {
      const {res, rej} = pending.get(msg.id);
      pending.delete(msg.id);
      msg.error ? rej(new Error(JSON.stringify(msg.error))) : res(msg.result);
    } else listeners.forEach(l => l(msg));
  };
  const send = (method, params = {}, sessionId) => new Promise((res, rej) => {
    const i = ++id;
    pending.set(i, {res, rej});
    ws.send(JSON.stringify({id: i, method, params, sessionId}));
  });
  return {
    proc, send, listeners,
    async page({width = 1280, height = 800, mobile = false, gpc = false} = {}) {
      const {targetId} = await send("Target.createTarget", {url: "about:blank"});
      const {sessionId} = await send("Target.attachToTarget", {targetId, flatten: true});
      const s = (m, p) => send(m, p, sessionId);
      await s("Page.enable");
      await s("Runtime.enable");
      await s("Network.enable");
      await s("Emulation.setDeviceMetricsOverride", {width, height, deviceScaleFactor: 1, mobile});
      if (gpc) await s("Page.addScriptToEvaluateOnNewDocument", {source: "Object.defineProperty(Navigator.prototype,'globalPrivacyControl',{get:()=>true})"});
      const logs = [];
      listeners.push(m => {
        if (m.sessionId !== sessionId) return;
        if (m.method === "Runtime.exceptionThrown") logs.push("EXC " + JSON.stringify(m.params.exceptionDetails.exception?.description || m.params.exceptionDetails.text));
        if (m.method === "Runtime.consoleAPICalled") logs.push("console." + m.params.type + " " + m.params.args.map(a => a.value ?? a.description).join(" "));
      });
      const p = {
        s, logs, targetId,
        async goto(url) {
          const done = new Promise(r => { const l = m => { if (m.sessionId === sessionId && m.method === "Page.loadEventFired") { listeners.splice(listeners.indexOf(l), 1); r(); } }; listeners.push(l); });
          await s("Page.navigate", {url});
          await done;
          await sleep(150);
        },
        async eval(expr) {
          const r = await s("Runtime.evaluate", {expression: expr, awaitPromise: true, returnByValue: true, userGesture: true});
          if (r.exceptionDetails) throw new Error("eval failed: " + expr + " -> " + JSON.stringify(r.exceptionDetails.exception?.description || r.exceptionDetails.text));
          return r.result.value;
        },
        async key(key, opts = {}) {
          const codes = {Tab: 9, Escape: 27, Enter: 13, " ": 32};
          const base = {key, code: key === " " ? "Space" : key, windowsVirtualKeyCode: codes[key], modifiers: opts.shift ? 8 : 0};
          await s("Input.dispatchKeyEvent", {type: "rawKeyDown", ...base});
          if (key === "Enter" || key === " ") await s("Input.dispatchKeyEvent", {type: "char", text: key === "Enter" ? "\r" : " ", ...base});
          await s("Input.dispatchKeyEvent", {type: "keyUp", ...base});
          await sleep(30);
        },
        async click(sel) {
          const r = await p.eval(`(()=>{const e=document.querySelector(${JSON.stringify(sel)}); if(!e) return null; e.scrollIntoView({block:'center'}); const b=e.getBoundingClientRect(); return [b.x+b.width/2,b.y+b.height/2]})()`);
          if (!r) throw new Error("no element " + sel);
          for (const type of ["mousePressed", "mouseReleased"]) await s("Input.dispatchMouseEvent", {type, x: r[0], y: r[1], button: "left", clickCount: 1});
          await sleep(120);
        },
        async shot(path, full = false) {
          const r = await s("Page.captureScreenshot", {format: "png", captureBeyondViewport: full});
          writeFileSync(path, Buffer.from(r.data, "base64"));
        },
        async cookies() { return (await s("Network.getCookies")).cookies; },
        async close() { await send("Target.closeTarget", {targetId}); },
      };
      return p;
    },
    async close() { ws.close(); proc.kill(); },
  };
}
const sleep = (ms) => new Promise(r => setTimeout(r, ms));


const MIN = process.argv.includes("--min") ? "&min=1" : "";
const shotsDir = process.argv.includes("--shots") ? process.argv[process.argv.indexOf("--shots") + 1] : null;
const srv = spawn(process.execPath, [join(here, "serve.mjs"), "0"], {stdio: ["ignore", "pipe", "inherit"]});
const base = await new Promise(r => srv.stdout.on("data", d => { const m = String(d).match(/(http:\/\/\S+)\//); if (m) r(m[1]); }));
const b = await launch();
let fails = 0, passes = 0;
const ok = (c, msg, extra) => { if (c) passes++; else { fails++; console.log("FAIL", msg, extra !== undefined ? JSON.stringify(extra) : ""); } };
const log = async () => (await (await fetch(base + "/__log")).json()).map(x => x.body);
const clearLog = () => fetch(base + "/__log", {method: "DELETE"});
const url = (q = "") => `${base}/?x=1${q}${MIN}`;

const pages = [];
async function fresh(opts) {
  const p = await b.page(opts);
  pages.push(p);
  await p.s("Network.clearBrowserCookies");
  await clearLog();
  return p;
}

try {
  // 1. first visit
  let p = await fresh();
  await p.goto(url());
  ok(await p.eval("!!document.querySelector('#assent-banner')"), "banner shown");
  ok(await p.eval("document.querySelector('#assent-banner').getAttribute('role')") === "dialog", "role dialog");
  ok(await p.eval("getComputedStyle(document.querySelector('#assent-banner')).position") === "fixed", "fixed");
  ok(await p.eval("document.cookie") === "", "no cookie before choice", await p.eval("document.cookie"));
  ok(await p.eval("JSON.stringify(Array.from(dataLayer[0]))") === JSON.stringify(["consent", "default", {ad_storage: "denied", ad_user_data: "denied", ad_personalization: "denied", analytics_storage: "denied", functionality_storage: "denied", personalization_storage: "denied", security_storage: "granted", wait_for_update: 500}]), "consent default first", await p.eval("JSON.stringify(Array.from(dataLayer[0]))"));
  ok(await p.eval("window.fakeGa===undefined && window.inlineRuns===undefined && window.fakeHs===undefined"), "nothing ran");
  ok(await p.eval("!document.querySelector('iframe').getAttribute('src')"), "iframe inert");
  ok(await p.eval("!!document.querySelector('.assent-ph')"), "placeholder");
  ok(await p.eval("!document.querySelector('img[data-assent-src]').getAttribute('src')"), "img inert");
  const sizes = await p.eval("[...document.querySelectorAll('#assent-banner [data-assent-action]')].filter(e=>e.dataset.assentAction!='close').map(e=>{const r=e.getBoundingClientRect(),s=getComputedStyle(e);return [r.width,r.height,s.backgroundColor,s.color,s.fontSize,s.fontWeight,s.borderRadius].join()})");
  ok(sizes.length === 3 && new Set(sizes).size === 1, "identical buttons", sizes);
  ok(await p.eval("assent.choice()") === null, "choice null");
  ok(await p.eval("assent.hasConsent('necessary') && !assent.hasConsent('performance')"), "hasConsent before");
  ok(await p.eval("document.querySelector('[data-assent-manage]:not(a)').getAttribute('role')==='button' && document.querySelector('span[data-assent-manage]').tabIndex===0"), "manage span focusable");
  ok(await p.eval("document.querySelector('#assent-banner').parentNode===document.body && document.body.firstElementChild.id==='assent-banner'"), "banner first in body");
  // dynamic iframe
  await p.click("#add");
  ok(await p.eval("!!document.querySelector('#late .assent-ph') && !document.querySelector('#late iframe').getAttribute('src')"), "late iframe blocked");
  await p.eval("window.evts=[];document.addEventListener('assent:change',e=>evts.push(e.detail));assent.onChange(c=>window.cb=c)");
  // accept all
  await p.click('#assent-banner [data-assent-action="accept-all"]');
  await sleep(300);
  ok(!(await p.eval("!!document.querySelector('#assent-banner')")), "banner gone");
  ok(await p.eval("window.fakeGa===1 && window.inlineRuns===1 && window.fakeHs===1"), "scripts ran once", await p.eval("[window.fakeGa,window.inlineRuns,window.fakeHs]"));
  ok(await p.eval("document.querySelector('main iframe').getAttribute('src')==='/fake/calendly.html' && !document.querySelector('.assent-ph')"), "iframe active");
  ok(await p.eval("document.querySelector('img[data-assent-src]').getAttribute('src')==='/fake/pixel.svg'"), "img active");
  ok(await p.eval("evts.length===1 && evts[0].choices.performance===true && cb.choices.functional===true"), "events");
  let L = await log();
  ok(L.length === 1 && L[0].action === "accept_all" && L[0].channel === "banner" && L[0].gpc === false && L[0].policy_version === 3 && L[0].language === "en" && JSON.stringify(L[0].choices) === '{"necessary":true,"functional":true,"performance":true}', "POST accept", L);
  ok(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(L[0].subject), "uuid v4", L[0].subject);
  const ck = (await p.cookies()).find(c => c.name === "assent_consent");
  const val = JSON.parse(decodeURIComponent(ck.value));
  ok(val.receipt && val.subject === L[0].subject && val.version === 3, "cookie has receipt", val);
  ok(ck.sameSite === "Lax" && Math.abs(ck.expires - (Date.now() / 1000 + 182 * 86400)) < 60, "cookie attrs", ck);
  const upd = await p.eval("JSON.stringify(dataLayer.filter(a=>a[0]==='consent'&&a[1]==='update').map(a=>a[2]))");
  ok(JSON.parse(upd).at(-1).analytics_storage === "granted" && JSON.parse(upd).at(-1).ad_storage === "denied", "consent update", upd);
  ok(await p.eval("document.cookie.includes('_ga=') && document.cookie.includes('_ga_CALLKOM1')"), "ga cookies set");
  // reload: no banner, scripts run at load, update pushed
  await p.goto(url());
  ok(!(await p.eval("!!document.querySelector('#assent-banner')")), "no banner after reload");
  ok(await p.eval("window.fakeGa===1 && dataLayer[1][1]==='update'"), "scripts + update at load", await p.eval("JSON.stringify([window.fakeGa, Array.from(dataLayer[1])])"));
  // manage link: keyboard
  await p.eval("document.querySelector('footer a[data-assent-manage]').focus()");
  await p.key("Enter");
  ok(await p.eval("!!document.querySelector('#assent-prefs') && document.activeElement.closest('#assent-prefs')!==null"), "prefs via keyboard + focus inside");
  ok(await p.eval("document.querySelector('#assent-prefs').getAttribute('aria-modal')==='true'"), "aria-modal");
  const cur = await p.eval("document.querySelector('.assent-cur').textContent");
  ok(/policy version 3/.test(cur) && /View the proof/.test(cur), "current choice line", cur);
  ok(await p.eval("document.querySelector('.assent-cur a').href.includes('/v1/receipts/')"), "receipt link");
  ok(await p.eval("document.querySelector('input[data-assent-purpose=necessary]').checked && document.querySelector('input[data-assent-purpose=necessary]').disabled && document.querySelector('input[data-assent-purpose=performance]').checked"), "switch states");
  ok(await p.eval("document.querySelectorAll('#assent-prefs tr').length") === 17 + 8, "cookie rows (17 + 8 headers)", await p.eval("document.querySelectorAll('#assent-prefs tr').length"));
  // focus trap
  const seen = new Set();
  for (let i = 0; i < 30; i++) { await p.key("Tab"); seen.add(await p.eval("document.activeElement.closest('#assent-prefs')?'in':'out'")); }
  ok(seen.size === 1 && seen.has("in"), "focus trapped", [...seen]);
  for (let i = 0; i < 10; i++) { await p.key("Tab", {shift: true}); seen.add(await p.eval("document.activeElement.closest('#assent-prefs')?'in':'out'")); }
  ok(seen.size === 1, "focus trapped shift", [...seen]);
  // withdraw
  await p.eval("localStorage.setItem('_ga_LS','1');localStorage.setItem('site_key','1')");
  await clearLog();
  await p.click('#assent-prefs [data-assent-action="reject-all"]');
  await sleep(300);
  L = await log();
  ok(L.length === 1 && L[0].action === "withdraw" && L[0].channel === "preferences", "withdraw", L);
  ok(!(await p.eval("document.cookie")).match(/(^|; )_ga/) && !(await p.eval("document.cookie")).includes("hubspotutk"), "cookies deleted", await p.eval("document.cookie"));
  ok(await p.eval("document.activeElement===document.querySelector('footer a[data-assent-manage]')"), "focus restored");
  ok(await p.eval("localStorage.getItem('_ga_LS')===null && localStorage.getItem('site_key')==='1'"), "web storage purged");
  ok(await p.eval("!!document.querySelector('.assent-ph') && document.querySelector('main iframe').classList.contains('assent-off')"), "iframe re-blocked");
  ok(await p.eval("JSON.stringify(Array.from(dataLayer.at(-1)))").then(s => s.includes('"analytics_storage":"denied"')), "update denied");
  // placeholder allow
  await clearLog();
  await p.click(".assent-ph button");
  await sleep(200);
  L = await log();
  ok(L.length === 1 && L[0].action === "custom" && L[0].choices.functional === true && L[0].choices.performance === false, "placeholder allow", L);
  ok(await p.eval("window.fakeHs===1 && window.fakeGa===1"), "no rerun", await p.eval("[window.fakeHs, window.fakeGa]"));
  await p.close();

  // 2. Escape on first layer = reject_all
  p = await fresh();
  await p.goto(url());
  await p.key("Tab");
  ok(await p.eval("!!document.activeElement.closest('#assent-banner')"), "first Tab lands in the banner");
  await p.eval("document.activeElement.blur()");
  await p.key("Escape");
  await sleep(200);
  L = await log();
  ok(L.length === 1 && L[0].action === "reject_all" && JSON.stringify(L[0].choices) === '{"necessary":true,"functional":false,"performance":false}', "escape refuses", L);
  ok(!(await p.eval("!!document.querySelector('#assent-banner')")), "banner closed on escape");
  await p.close();

  // 3. customize -> save custom; dismiss returns to banner
  p = await fresh();
  await p.goto(url());
  await p.click('[data-assent-action="customize"]');
  ok(await p.eval("document.querySelector('#assent-banner').hidden && !!document.querySelector('#assent-prefs')"), "prefs from banner");
  ok(await p.eval("[...document.querySelectorAll('#assent-prefs input[role=switch]')].filter(i=>!i.disabled).every(i=>!i.checked)"), "no pre-ticked");
  await p.key("Escape");
  ok(await p.eval("!document.querySelector('#assent-prefs') && !document.querySelector('#assent-banner').hidden"), "escape back to banner");
  ok(await p.eval("document.activeElement.dataset.assentAction==='customize'"), "focus back to customize");
  await p.key("Enter");
  await p.click('label[for="assent-s-performance"]');
  await p.click('#assent-prefs [data-assent-action="save"]');
  await sleep(200);
  L = await log();
  ok(L.length === 1 && L[0].action === "custom" && L[0].channel === "banner" && L[0].choices.performance === true && L[0].choices.functional === false, "custom save", L);
  ok(await p.eval("window.fakeGa===1 && window.fakeHs===undefined"), "only performance ran");
  await p.close();

  // 4. floor: stored v3 below new floor 4 -> ask again
  p = await fresh();
  await p.goto(url());
  await p.click('[data-assent-action="accept-all"]');
  await p.goto(url("&v=4&floor=4"));
  ok(await p.eval("!!document.querySelector('#assent-banner') && assent.choice()===null && !assent.hasConsent('performance') && window.fakeGa===undefined"), "re-ask below floor");
  await p.goto(url("&v=4&floor=3"));
  ok(await p.eval("!document.querySelector('#assent-banner') && assent.hasConsent('performance')"), "v3 >= floor 3 valid");
  await p.close();

  // 5. GPC
  p = await fresh({gpc: true});
  await p.goto(url("&gpc=performance"));
  ok(await p.eval("!!document.querySelector('#assent-banner .assent-g')"), "gpc notice");
  await p.click('[data-assent-action="customize"]');
  ok(await p.eval("document.querySelector('input[data-assent-purpose=performance]').disabled"), "gpc switch disabled");
  await p.click('#assent-prefs [data-assent-action="accept-all"]');
  await sleep(200);
  L = await log();
  ok(L.length === 1 && L[0].gpc === true && L[0].choices.performance === false && L[0].choices.functional === true, "gpc accept", L);
  ok(await p.eval("!assent.hasConsent('performance') && window.fakeGa===undefined"), "gpc refuses");
  await p.close();

  // reduced motion
  p = await fresh();
  await p.s("Emulation.setEmulatedMedia", {features: [{name: "prefers-reduced-motion", value: "reduce"}]});
  await p.goto(url());
  ok(await p.eval("getComputedStyle(document.querySelector('#assent-banner')).animationName") === "none", "reduced motion");
  await p.s("Emulation.setEmulatedMedia", {features: [{name: "prefers-reduced-motion", value: "no-preference"}]});
  ok(await p.eval("getComputedStyle(document.querySelector('#assent-banner')).animationName") !== "none", "motion otherwise");
  await p.close();

  // 6. French
  p = await fresh();
  await p.goto(url("&lang=fr"));
  ok(await p.eval("document.querySelector('#assent-banner [data-assent-action=accept-all]').textContent") === "Tout accepter", "french");
  ok(await p.eval("document.querySelector('#assent-banner').lang") === "fr", "lang attr");
  await p.click('[data-assent-action="reject-all"]');
  await sleep(200);
  L = await log();
  ok(L[0].language === "fr" && L[0].action === "reject_all", "fr post", L);
  await p.close();
  // 7. page lang unknown -> browser language (en-US in headless)
  p = await fresh();
  await p.goto(url("&lang=de"));
  ok(await p.eval("document.querySelector('#assent-banner h2').textContent") === "We value your privacy", "fallback browser lang");
  await p.close();
  ok(await (async () => { p = await fresh(); await p.goto(url()); return p.eval("document.querySelector('span[data-assent-manage]').textContent"); })() === "Manage my cookies", "manage filled");

  // screenshots of both layers (desktop) for the docs
  if (shotsDir) {
    for (const lang of ["en", "fr"]) {
      p = await fresh();
      await p.goto(url("&lang=" + lang));
      await sleep(400);
      await p.shot(join(shotsDir, `banner-first-layer-${lang}.png`));
      await p.click('[data-assent-action="customize"]');
      await p.eval("document.querySelectorAll('#assent-prefs details')[2].open=true");
      await sleep(400);
      await p.shot(join(shotsDir, `banner-preferences-${lang}.png`));
    }
  }
  for (const q of pages) ok(q.logs.length === 0, "no page errors", q.logs);
} catch (e) {
  fails++;
  console.log("ERROR", e);
}
console.log(`${passes} passed, ${fails} failed`);
await b.close();
srv.kill();
process.exit(fails ? 1 : 0);
