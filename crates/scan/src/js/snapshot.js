// What a snapshot needs from the top document: the page's clock, its URL, storage keys, the
// document's HTTP status and its links (at most 5000).
(() => {
  const r = { now: Date.now(), url: String(location.href), local: [], session: [], links: [], status: null };
  try { r.local = Object.keys(localStorage); } catch (e) {}
  try { r.session = Object.keys(sessionStorage); } catch (e) {}
  try { const n = performance.getEntriesByType('navigation')[0]; if (n && n.responseStatus) r.status = n.responseStatus; } catch (e) {}
  try { r.links = Array.from(document.querySelectorAll('a[href], area[href]'), (a) => String(a.href)).slice(0, 5000); } catch (e) {}
  return r;
})()
