// `(selectors, ms) => Promise<selector | null>`: clicks the first visible element matching one of
// the selectors (in order), in the document and in open and closed shadow roots; polls until
// `ms` elapse. `collect.rs` also derives a probe from it that reports without clicking.
(async (sels, ms) => {
  const roots = () => {
    const out = [document];
    const walk = (root) => {
      for (const el of root.querySelectorAll('*')) {
        if (el.shadowRoot && !out.includes(el.shadowRoot)) { out.push(el.shadowRoot); walk(el.shadowRoot); }
      }
    };
    walk(document);
    const extra = typeof window.__assentScanRoots === 'function' ? window.__assentScanRoots() : [];
    for (const r of extra) if (!out.includes(r)) { out.push(r); walk(r); }
    return out;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none';
  };
  const find = () => {
    const rs = roots();
    for (const sel of sels) {
      for (const root of rs) {
        let els = [];
        try { els = root.querySelectorAll(sel); } catch (e) { continue; }
        for (const el of els) if (visible(el)) return [el, sel];
      }
    }
    return null;
  };
  const end = performance.now() + ms;
  for (;;) {
    const f = find();
    if (f) { f[0].click(); return f[1]; }
    if (performance.now() >= end) return null;
    await new Promise((r) => setTimeout(r, 50));
  }
})
