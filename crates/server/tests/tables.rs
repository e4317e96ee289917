#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Policy tables on a phone (issue 19), in real headless Chromium (assent-cdp) against the real
//! server (TestApp, SQLite): at 390 px the cookie and privacy policies of the demo registry have
//! no horizontally scrolling element (axe's `scrollable-region-focusable` had nothing to point
//! at), every data cell shows its column's label, and the header row is visually hidden but
//! still in the document; at 1280 px the tables are ordinary tables.
//!
//! `ASSENT_TABLES_SHOTS=docs/images cargo test -p assent-server --test tables` also rewrites
//! the documentation screenshot of the cookie policy at 390 px.

mod common;

use assent_cdp::{Browser, LaunchOptions, Page, Value};
use common::{Backend, TestApp};

const PAGES: [&str; 4] = [
    "/sites/callkom/cookie-policy?lang=en",
    "/sites/callkom/privacy-policy?lang=en",
    "/sites/callkom/cookie-policy?lang=fr",
    "/sites/callkom/privacy-policy?lang=fr",
];

async fn launch() -> Browser {
    Browser::launch(LaunchOptions::default())
        .await
        .expect("Chromium (apt-get install chromium; scripts/test.sh does it)")
}

async fn eval(page: &Page, js: &str) -> Value {
    page.evaluate(js)
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
}

/// Problems found by `js` (an expression yielding an array of strings); empty when all is well.
async fn problems(page: &Page, js: &str) -> Vec<String> {
    match eval(page, js).await {
        Value::Array(v) => v
            .into_iter()
            .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
            .collect(),
        other => panic!("{js}: not an array: {other}"),
    }
}

/// Everything the narrow layout promises, as one list of problems.
const NARROW: &str = r#"(() => {
  const out = [];
  const de = document.documentElement;
  if (de.scrollWidth > innerWidth) out.push(`page scrolls sideways: ${de.scrollWidth} > ${innerWidth}`);
  for (const el of document.querySelectorAll('body *')) {
    const cs = getComputedStyle(el);
    const scrolls = (cs.overflowX === 'auto' || cs.overflowX === 'scroll') && el.scrollWidth > el.clientWidth;
    if (scrolls) out.push(`scrolls sideways: <${el.tagName.toLowerCase()} class="${el.className}"> ${el.scrollWidth} > ${el.clientWidth}`);
  }
  for (const w of document.querySelectorAll('.table-wrap')) {
    if (w.scrollWidth > w.clientWidth) out.push(`.table-wrap overflows: ${w.scrollWidth} > ${w.clientWidth}`);
  }
  const tables = document.querySelectorAll('.table-wrap table');
  if (tables.length === 0) out.push('no table');
  for (const t of tables) {
    const name = t.id || (t.caption && t.caption.textContent) || '?';
    if (getComputedStyle(t).display !== 'block') out.push(`${name}: display ${getComputedStyle(t).display}`);
    const head = t.tHead;
    if (!head) continue; // the register's field tables: row headers only
    const cols = [...head.querySelectorAll('th')];
    if (cols.some(c => c.getAttribute('scope') !== 'col')) out.push(`${name}: a header without scope=col`);
    const r = head.getBoundingClientRect();
    if (r.width > 1 || r.height > 1) out.push(`${name}: header row visible (${r.width}x${r.height})`);
    for (const row of t.tBodies[0].rows) {
      for (const cell of row.cells) {
        const col = cols[cell.cellIndex];
        const label = cell.getAttribute('data-label');
        if (cell.tagName === 'TD' && label === null) out.push(`${name}: a cell without data-label`);
        if (label === null) continue;
        if (!col || label !== col.textContent.trim()) out.push(`${name}: label "${label}" is not its column's "${col && col.textContent}"`);
        if (!label.trim()) out.push(`${name}: empty label`);
        const shown = cell.getClientRects().length > 0;
        const before = getComputedStyle(cell, '::before').content;
        if (shown && (before === 'none' || before === 'normal' || before === '""'))
          out.push(`${name}: no label shown before a cell (${before})`);
        if (shown && before !== JSON.stringify(label)) out.push(`${name}: shown label ${before} is not ${JSON.stringify(label)}`);
      }
    }
  }
  return out;
})()"#;

const WIDE: &str = r#"(() => {
  const out = [];
  for (const t of document.querySelectorAll('.table-wrap table')) {
    const name = t.id || '?';
    if (getComputedStyle(t).display !== 'table') out.push(`${name}: display ${getComputedStyle(t).display}`);
    if (t.tHead && t.tHead.getBoundingClientRect().height < 10) out.push(`${name}: header row hidden`);
    for (const td of t.querySelectorAll('td')) {
      const b = getComputedStyle(td, '::before').content;
      if (b !== 'none' && b !== 'normal') { out.push(`${name}: a label shown before a cell (${b})`); break; }
    }
  }
  if (document.querySelectorAll('.table-wrap table').length === 0) out.push('no table');
  return out;
})()"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_stack_on_narrow_screens() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let browser = launch().await;
    let ctx = browser.new_context().await.unwrap();
    let page = ctx.new_page().await.unwrap();
    for path in PAGES {
        let url = app.url(path);
        for (width, height, rules) in [(390, 844, NARROW), (1280, 800, WIDE)] {
            page.set_viewport(width, height).await.unwrap();
            page.navigate(&url)
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            let p = problems(&page, rules).await;
            assert!(p.is_empty(), "{path} at {width} px:\n{}", p.join("\n"));
        }
    }

    // The documentation screenshot: the cookie table at 390 px, without the banner.
    if let Ok(dir) = std::env::var("ASSENT_TABLES_SHOTS") {
        page.set_viewport(390, 844).await.unwrap();
        page.navigate(&app.url(PAGES[0])).await.unwrap();
        eval(
            &page,
            "document.getElementById('assent-banner')?.remove();document.getElementById('list').scrollIntoView();true",
        )
        .await;
        std::fs::write(
            // A relative directory is taken from the workspace root.
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(&dir)
                .join("cookie-policy-narrow.png"),
            page.screenshot_png().await.unwrap(),
        )
        .unwrap();
    }
}
