// Runs in every document (and every iframe) before the page's own scripts: reports cookie and
// storage writes, with the writing script's URL, through the binding `__assentScanReport`, and
// keeps closed shadow roots reachable for banner clicks. Never throws into the page.
(() => {
  if (window.__assentScanInstalled) return;
  try { Object.defineProperty(window, '__assentScanInstalled', { value: true }); } catch (e) { return; }
  const bind = window.__assentScanReport;
  const report = (kind, data) => {
    try { bind(JSON.stringify(Object.assign({ kind: kind, frame: String(location.href) }, data))); } catch (e) {}
  };
  // The writer is the innermost frame under our own hook (the stack's line 1; line 0 is
  // "Error"), built-ins aside ("at Array.forEach (<anonymous>)"): its script's URL, or null for
  // a script without one, such as an inline script that another script inserted (a consent
  // banner releasing it). Never an outer frame: that would blame whoever released the script
  // (the banner) for what the script set.
  const scriptUrl = (stack) => {
    const frames = String(stack || '').split('\n').slice(2)
      .filter((l) => /^\s*at /.test(l) && !/\(<anonymous>\)\s*$/.test(l));
    const f = frames[0] || '';
    const m = f.match(/(https?:\/\/[^\s()]+?):\d+:\d+\)?\s*$/)
      || f.match(/\(eval at [^(]*\((https?:\/\/[^\s()]+?):\d+:\d+\)/);
    return m ? m[1] : null;
  };
  try {
    const d = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
    if (d && d.get && d.set) {
      Object.defineProperty(Document.prototype, 'cookie', {
        configurable: true, enumerable: d.enumerable,
        get: function () { return d.get.call(this); },
        set: function (v) {
          try { report('cookie', { line: String(v).slice(0, 4096), script: scriptUrl(new Error().stack) }); } catch (e) {}
          return d.set.call(this, v);
        }
      });
    }
  } catch (e) {}
  try {
    if (window.CookieStore && CookieStore.prototype.set) {
      const orig = CookieStore.prototype.set;
      CookieStore.prototype.set = function (a, b) {
        try {
          const o = typeof a === 'string' ? { name: a, value: b } : (a || {});
          let line = String(o.name) + '=' + String(o.value);
          if (o.expires) line += '; expires=' + new Date(o.expires).toUTCString();
          if (o.domain) line += '; domain=' + o.domain;
          report('cookie', { line: line, script: scriptUrl(new Error().stack) });
        } catch (e) {}
        return orig.apply(this, arguments);
      };
    }
  } catch (e) {}
  try {
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (k, v) {
      try {
        let kind = 'session_storage';
        try { if (this === window.localStorage) kind = 'local_storage'; } catch (e) {}
        report(kind, { name: String(k), script: scriptUrl(new Error().stack) });
      } catch (e) {}
      return setItem.apply(this, arguments);
    };
  } catch (e) {}
  try {
    const roots = [];
    const attach = Element.prototype.attachShadow;
    Element.prototype.attachShadow = function () {
      const r = attach.apply(this, arguments);
      roots.push(r);
      return r;
    };
    Object.defineProperty(window, '__assentScanRoots', { value: () => roots.slice() });
  } catch (e) {}
})();
