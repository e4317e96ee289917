// Manual test harness for the Assent banner. No dependency: `node serve.mjs [port]` (default 8089).
// Serves dev/index.html (a Callkom demo page) and `GET /assent.js?site=callkom` wrapped exactly as
// the Rust server does: (function(C,S){<assent.js>})(<config>,<css>). The consent API here is a FAKE
// (it answers 201 with a made-up receipt) for manual checks only; real tests use the Rust server.
//
// Page query parameters (passed on to /assent.js):
//   lang=fr          <html lang> of the demo page
//   min=1            serve assent.min.js / assent.min.css instead of the sources
//   v=4&floor=4      override the policy version and the consent floor (re-consent checks)
//   days=0.0001      override the consent lifetime in days
//   gpc=performance  flag a purpose as GPC-refusable (the demo site has no advertising purpose)
// GET /__log returns the consent POST bodies received so far; DELETE /__log clears them.
import {createServer} from "node:http";
import {readFileSync} from "node:fs";
import {createHash, randomUUID} from "node:crypto";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const banner = join(here, "..");
const port = Number(process.argv[2] ?? process.env.PORT ?? 8089);
const log = [];
const GPC = {
  en: "Your browser’s Global Privacy Control signal is honoured: advertising purposes are refused.",
  fr: "Le signal Global Privacy Control de votre navigateur est respecté : les finalités publicitaires sont refusées.",
};

function wrapped(q, origin) {
  const min = q.get("min") === "1";
  const js = readFileSync(join(banner, min ? "assent.min.js" : "assent.js"), "utf8");
  const css = readFileSync(join(banner, min ? "assent.min.css" : "assent.css"), "utf8");
  const cfg = JSON.parse(readFileSync(join(here, "config.json"), "utf8"));
  cfg.api = origin;
  for (const k of ["v", "floor", "days"]) if (q.has(k)) cfg[k] = Number(q.get(k));
  for (const id of (q.get("gpc") ?? "").split(",")) for (const p of cfg.purposes) if (p.id === id) p.gpc = true;
  // like the server: the GPC notice text is only sent when some purpose is GPC-refusable
  if (cfg.purposes.some((p) => p.gpc)) for (const l of Object.keys(GPC)) cfg.t[l].gpc = GPC[l];
  // the server emits compact JSON; "</" is escaped so the text is also safe inside an inline <script>
  const j = (v) => JSON.stringify(v).replace(/<\//g, "<\\/");
  return `(function(C,S){${js}\n})(${j(cfg)},${j(css)});\n`;
}

const fake = {
  // stands for gtag.js: sets GA-like cookies on the current host so that withdrawal can be checked
  "/fake/gtag.js": ["text/javascript", `window.fakeGa=(window.fakeGa||0)+1;
document.cookie="_ga=GA1.1."+Date.now()+"; Path=/; Max-Age=34000000; SameSite=Lax";
document.cookie="_ga_CALLKOM1=GS1.1."+Date.now()+"; Path=/; Max-Age=34000000; SameSite=Lax";`],
  "/fake/hubspot.js": ["text/javascript", `window.fakeHs=(window.fakeHs||0)+1;
document.cookie="hubspotutk=demo"+Date.now()+"; Path=/; Max-Age=15000000; SameSite=Lax";`],
  "/fake/calendly.html": ["text/html; charset=utf-8", `<!doctype html><title>Calendly (fake)</title>
<body style="font:15px system-ui;margin:0;display:grid;place-items:center;height:100vh;background:#eef6ff">
<p>Calendly booking widget (stand-in)</p>`],
  "/fake/pixel.svg": ["image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="24"><rect width="120" height="24" fill="#cde"/><text x="6" y="17" font-size="12">pixel loaded</text></svg>`],
};

createServer((req, res) => {
  const origin = `http://${req.headers.host}`;
  const url = new URL(req.url, origin);
  const send = (code, type, body, extra = {}) => {
    res.writeHead(code, {"content-type": type, "cache-control": "no-store", ...extra});
    res.end(body);
  };
  const cors = {"access-control-allow-origin": "*", "access-control-allow-methods": "POST", "access-control-allow-headers": "content-type"};
  try {
    if (url.pathname === "/" || url.pathname === "/index.html") {
      const html = readFileSync(join(here, "index.html"), "utf8")
        .replaceAll("{{LANG}}", (url.searchParams.get("lang") ?? "en").replace(/[^a-zA-Z-]/g, ""))
        .replaceAll("{{QS}}", url.search ? "&" + url.search.slice(1).replace(/"/g, "") : "");
      return send(200, "text/html; charset=utf-8", html);
    }
    if (url.pathname === "/assent.js") return send(200, "text/javascript; charset=utf-8", wrapped(url.searchParams, origin));
    if (fake[url.pathname]) return send(200, ...fake[url.pathname]);
    const m = url.pathname.match(/^\/v1\/sites\/([^/]+)\/consents$/);
    if (m && req.method === "OPTIONS") return send(204, "text/plain", "", cors);
    if (m && req.method === "POST") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const rec = {site: m[1], contentType: req.headers["content-type"], at: Date.now(), body: JSON.parse(body)};
        log.push(rec);
        console.log("POST consent", JSON.stringify(rec.body));
        const id = randomUUID();
        send(201, "application/json", JSON.stringify({receipt: {id, hash: createHash("sha256").update(body).digest("hex")}}), cors);
      });
      return;
    }
    if (url.pathname === "/__log") {
      if (req.method === "DELETE") log.length = 0;
      return send(200, "application/json", JSON.stringify(log));
    }
    if (url.pathname.startsWith("/v1/receipts/")) return send(200, "application/json", JSON.stringify({fake: true, id: url.pathname.slice(13)}));
    if (/^\/sites\/[^/]+\/cookie-policy$/.test(url.pathname)) return send(200, "text/html; charset=utf-8", "<!doctype html><title>Cookie policy</title><p>Cookie policy (stand-in).</p><a href='/' data-assent-manage></a>");
    send(404, "text/plain", "not found");
  } catch (e) {
    send(500, "text/plain", String(e.stack || e));
  }
}).listen(port, "127.0.0.1", function () {
  console.log(`banner harness on http://127.0.0.1:${this.address().port}/`);
});
