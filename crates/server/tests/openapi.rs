//! docs/openapi.yaml describes exactly the operations the server routes: every method+path of
//! `assent_server::router::ROUTES` (generated from the same table as the router) is documented
//! with the same status codes, and the document lists nothing that is not routed. Every entry
//! of `ROUTES` is also requested from a running server, to prove it is served, and no source
//! file registers a route outside the table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use assent_server::router::ROUTES;

/// (method, path) → documented status codes, ascending.
type Operations = BTreeMap<(String, String), Vec<u16>>;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
        .unwrap_or(s)
}

/// The keys of a one-line YAML flow mapping (`{'200': {description: ok}, '404': {...}}`),
/// skipping nested mappings, sequences and quoted strings.
fn flow_keys(src: &str) -> Result<Vec<String>, String> {
    let src = src.trim();
    let inner = src
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(|| format!("not a one-line flow mapping: {src}"))?;
    let mut keys = vec![];
    let (mut depth, mut quote, mut key, mut in_key) = (0usize, None::<char>, String::new(), true);
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                // '' inside single quotes is an escaped quote.
                if q == '\'' && chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            } else if q == '"' && c == '\\' {
                chars.next();
            }
            if in_key && depth == 0 {
                key.push(c);
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                if in_key && depth == 0 {
                    key.push(c);
                }
            }
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.checked_sub(1).ok_or("unbalanced brackets")?,
            ':' if depth == 0 && in_key => {
                keys.push(unquote(&key).to_string());
                key.clear();
                in_key = false;
            }
            ',' if depth == 0 => in_key = true,
            _ if in_key && depth == 0 => key.push(c),
            _ => {}
        }
    }
    if depth != 0 || quote.is_some() {
        return Err(format!("unbalanced flow mapping: {src}"));
    }
    Ok(keys)
}

fn status(key: &str, at: &str) -> Result<u16, String> {
    key.parse::<u16>()
        .ok()
        .filter(|c| (100..600).contains(c))
        .ok_or_else(|| format!("{at}: response key `{key}` is not a status code"))
}

/// A line-based reader of `paths:` → path → method → `responses:` → status codes, for the
/// two-space indentation docs/openapi.yaml uses; anything it does not understand is an error.
fn operations(yaml: &str) -> Result<Operations, String> {
    let mut ops = Operations::new();
    let mut in_paths = false;
    let mut path: Option<String> = None;
    let mut op: Option<(String, String)> = None;
    let mut in_responses = false;
    for (n, line) in yaml.lines().enumerate() {
        let at = format!("docs/openapi.yaml:{}", n + 1);
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let ind = indent(line);
        if ind == 0 {
            in_paths = text == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if in_responses && ind <= 6 {
            in_responses = false;
        }
        match ind {
            2 => {
                let p = text
                    .strip_suffix(':')
                    .map(unquote)
                    .filter(|p| p.starts_with('/'))
                    .ok_or_else(|| format!("{at}: expected a path, found `{text}`"))?;
                path = Some(p.to_string());
                op = None;
            }
            4 => {
                let (key, _) = text.split_once(':').unwrap_or((text, ""));
                op = None;
                if METHODS.contains(&key) {
                    let p = path
                        .clone()
                        .ok_or_else(|| format!("{at}: method outside a path"))?;
                    let k = (key.to_string(), p);
                    if ops.insert(k.clone(), vec![]).is_some() {
                        return Err(format!("{at}: {} {} documented twice", k.0, k.1));
                    }
                    op = Some(k);
                }
            }
            6 if op.is_some() && text.starts_with("responses:") => {
                let rest = text.trim_start_matches("responses:").trim();
                let codes = ops.get_mut(op.as_ref().unwrap()).unwrap();
                if rest.is_empty() {
                    in_responses = true;
                } else {
                    for k in flow_keys(rest).map_err(|e| format!("{at}: {e}"))? {
                        codes.push(status(&k, &at)?);
                    }
                }
            }
            8 if in_responses => {
                let (key, _) = text
                    .split_once(':')
                    .ok_or_else(|| format!("{at}: expected `'CODE': ...`"))?;
                let codes = ops.get_mut(op.as_ref().unwrap()).unwrap();
                codes.push(status(unquote(key), &at)?);
            }
            _ => {}
        }
    }
    for codes in ops.values_mut() {
        codes.sort_unstable();
    }
    Ok(ops)
}

fn documented() -> Operations {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = std::fs::read_to_string(root.join("../../docs/openapi.yaml")).unwrap();
    operations(&spec).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_document_matches_the_route_table() {
    let doc = documented();
    let mut problems = vec![];
    let mut routed = Operations::new();
    for r in ROUTES {
        let key = (r.method.to_string(), r.path.to_string());
        if routed.insert(key, r.codes.to_vec()).is_some() {
            problems.push(format!(
                "{} {} is twice in the route table",
                r.method, r.path
            ));
        }
        if !r.codes.windows(2).all(|w| w[0] < w[1]) {
            problems.push(format!(
                "{} {}: list the codes in ascending order, once each",
                r.method, r.path
            ));
        }
    }
    for ((m, p), codes) in &routed {
        match doc.get(&(m.clone(), p.clone())) {
            None => problems.push(format!("routed but undocumented: {m} {p}")),
            Some(d) if d != codes => problems.push(format!(
                "{m} {p}: the document lists {d:?}, the route table {codes:?}"
            )),
            Some(_) => {}
        }
    }
    for (m, p) in doc.keys() {
        if !routed.contains_key(&(m.clone(), p.clone())) {
            problems.push(format!("documented but not routed: {m} {p}"));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/openapi.yaml and the route table in src/router.rs differ:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_route_is_registered_outside_the_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root.clone()];
    let mut found = vec![];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let src = std::fs::read_to_string(&p).unwrap();
                let n = src.matches(".route(").count() + src.matches(".route_service(").count();
                // The table's macro has the one `.route(` of the crate.
                let allowed = usize::from(p == root.join("router.rs"));
                if n != allowed {
                    found.push(format!("{}: {n}", p.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "register routes in the table of src/router.rs only: {found:?}"
    );
}

/// Every operation of the table reaches a handler: the router's own fallbacks answer
/// `no such endpoint` (404) and `method_not_allowed` (405).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_the_table_is_served() {
    let app = common::TestApp::spawn(common::Backend::Sqlite).await;
    let mut missed = vec![];
    for r in ROUTES {
        let path = r
            .path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let method = reqwest::Method::from_bytes(r.method.to_ascii_uppercase().as_bytes()).unwrap();
        let resp = app
            .client
            .request(method, app.url(&path))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        if (status == 404 && body.contains("no such endpoint"))
            || (status == 405 && body.contains("method_not_allowed"))
        {
            missed.push(format!("{} {} ({status})", r.method, r.path));
        }
    }
    assert!(missed.is_empty(), "not served: {missed:#?}");
    let resp = app.get("/admin/v1/nothing-here").await;
    assert_eq!(
        resp.status(),
        404,
        "the fallback still answers under /admin/v1"
    );
    app.stop().await;
}

#[test]
fn the_yaml_reader_reads_both_response_styles() {
    let yaml = "openapi: 3.1.0\npaths:\n  /a/{x}:\n    parameters:\n      - {name: x, in: path}\n    get:\n      summary: 'a: b'\n      responses: {'200': {description: 'x: {y}, ''z'''}, \"404\": {$ref: '#/e'}}\n    post:\n      responses:\n        '201':\n          description: made\n          content: {}\n        '422': {$ref: '#/e'}\n  # a comment\n  /b:\n    options:\n      responses: {'204': {description: ok}}\ncomponents: {}\n";
    let ops = operations(yaml).unwrap();
    let get = |m: &str, p: &str| ops.get(&(m.to_string(), p.to_string())).cloned();
    assert_eq!(get("get", "/a/{x}"), Some(vec![200, 404]));
    assert_eq!(get("post", "/a/{x}"), Some(vec![201, 422]));
    assert_eq!(get("options", "/b"), Some(vec![204]));
    assert_eq!(ops.len(), 3);
    assert!(operations("paths:\n  /a:\n    get:\n      responses: {default: {}}\n").is_err());
    assert!(operations("paths:\n  a:\n    get: {}\n").is_err());
}
