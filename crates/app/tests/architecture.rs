//! The house rules of `docs/dev/architecture.md`, checked on the source tree:
//! - no import cycle between the files of a crate (file A uses something of file B while B,
//!   directly or through others, uses A): each crate's files form layers;
//! - no product source file above 1,000 lines (an inline `#[cfg(test)]` module not counted);
//! - the crates depend on each other in one direction only, as the document draws it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn crates() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(workspace().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("src").is_dir())
        .collect();
    v.sort();
    v
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a source file: `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs`
/// and `main.rs` are the crate root.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs").to_string();
    if !matches!(stem.as_str(), "mod" | "lib" | "main") {
        parts.push(stem);
    }
    parts
}

/// The product part of a file: everything before its first top-level `#[cfg(test)]`.
fn product_part(text: &str) -> &str {
    match text.find("\n#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// `text` without its comments (a `//` not preceded by `:`, which would be a URL).
fn code_only(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut cut = line.len();
        let mut from = 0;
        while let Some(i) = line[from..].find("//") {
            let at = from + i;
            if at == 0 || !line[..at].ends_with(':') {
                cut = at;
                break;
            }
            from = at + 2;
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// Every path a file names that starts with `crate::`, `super::` or `self::`, in `use`
/// declarations (with their braces expanded) and in code.
fn paths_named(text: &str) -> Vec<Vec<String>> {
    let mut out = vec![];
    // `use` declarations (a line starting with `use`, `pub use` or `pub(crate) use`), braces
    // expanded.
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        let t = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub(super) "))
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        if let Some(decl) = t.strip_prefix("use ") {
            let mut d = decl.to_string();
            while !d.contains(';') && i + 1 < lines.len() {
                i += 1;
                d.push_str(lines[i]);
            }
            let d = d.split(';').next().unwrap_or("");
            let d = d.split_whitespace().collect::<Vec<_>>().join(" ");
            expand(&d, &mut out);
        }
        i += 1;
    }
    // Paths in code: `crate::a::b::c`.
    for start in ["crate::", "super::"] {
        let mut rest = text;
        while let Some(i) = rest.find(start) {
            let tail = &rest[i..];
            let len = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            let p: Vec<String> = tail[..len]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            out.push(p);
            rest = &tail[len.max(1)..];
        }
    }
    out
}

/// The paths of one `use` declaration, as segments (`a::{b, c::{d, e as f}}` gives `a::b`,
/// `a::c::d`, `a::c::e`).
fn expand(decl: &str, out: &mut Vec<Vec<String>>) {
    out.extend(split_use(decl).into_iter().map(|(p, _)| p));
}

/// The parts of a `use` declaration with the name each is imported as.
fn split_use(decl: &str) -> Vec<(Vec<String>, String)> {
    fn go(decl: &str, out: &mut Vec<(Vec<String>, String)>) {
        let decl = decl.trim();
        if let Some(open) = decl.find('{') {
            let prefix = &decl[..open];
            let close = decl.rfind('}').filter(|c| *c > open).unwrap_or(decl.len());
            let inner = &decl[open + 1..close];
            let mut depth = 0;
            let mut part = String::new();
            for c in inner.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        go(
                            &format!("{prefix}{}", std::mem::take(&mut part).trim()),
                            out,
                        );
                        continue;
                    }
                    _ => {}
                }
                part.push(c);
            }
            if !part.trim().is_empty() {
                go(&format!("{prefix}{}", part.trim()), out);
            }
        } else if !decl.is_empty() {
            let (path, alias) = match decl.split_once(" as ") {
                Some((p, a)) => (p, Some(a.trim())),
                None => (decl, None),
            };
            let segs: Vec<String> = path
                .split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let name = alias
                .map(str::to_string)
                .or_else(|| segs.last().cloned())
                .unwrap_or_default();
            out.push((segs, name));
        }
    }
    let decl = decl
        .trim_start_matches("pub(crate)")
        .trim_start_matches("pub");
    let mut out = vec![];
    go(decl, &mut out);
    out
}

/// The file module a path refers to: the longest prefix that is a module of the crate.
fn resolve(
    path: &[String],
    here: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let mut abs: Vec<String> = vec![];
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("self") => {
            abs = here.to_vec();
            rest = &path[1..];
        }
        Some("super") => {
            abs = here.to_vec();
            while rest.first().map(String::as_str) == Some("super") {
                abs.pop();
                rest = &rest[1..];
            }
        }
        // A path relative to this module (`use child::Item`, edition 2018).
        Some(first) => {
            let mut child = here.to_vec();
            child.push(first.to_string());
            if !modules.contains(&child) {
                return None;
            }
            abs = here.to_vec();
        }
        None => return None,
    }
    abs.extend(rest.iter().filter(|s| s.as_str() != "*").cloned());
    while !abs.is_empty() && !modules.contains(&abs) {
        abs.pop();
    }
    Some(abs)
}

/// The names a module re-exports (`pub use a::B;`, `pub use a::{B, C as D};`), each with
/// the path it stands for: a path through a re-export depends on the item's own file.
fn reexports(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let t = line.trim_start();
        let Some(decl) = t
            .strip_prefix("pub use ")
            .or_else(|| t.strip_prefix("pub(crate) use "))
        else {
            continue;
        };
        let mut d = decl.to_string();
        if !d.contains(';') {
            // Multi-line re-exports: read on from this line in the text.
            let from = text.find(line).unwrap_or(0) + line.len();
            let rest = &text[from..];
            let end = rest.find(';').unwrap_or(rest.len());
            d.push_str(&rest[..end]);
        }
        let d = d.split(';').next().unwrap_or("");
        let d = d.split_whitespace().collect::<Vec<_>>().join(" ");
        for (path, name) in split_use(&d) {
            if name != "*" && name != "self" {
                out.insert(name, path);
            }
        }
    }
    out
}

/// `text` without its `pub use` declarations.
fn without_reexports(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("pub use ") {
            skipping = !t.contains(';');
            continue;
        }
        if skipping {
            skipping = !t.contains(';');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The file-level import graph of one crate: module → modules it uses.
fn graph(krate: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = krate.join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let texts: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            (module_of(&src, f), code_only(product_part(&text)))
        })
        .collect();
    let exports: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>> = texts
        .iter()
        .map(|(m, t)| (m.clone(), reexports(t)))
        .collect();
    let mut g = BTreeMap::new();
    for (here, text) in &texts {
        // A crate root's `pub use` lines are its facade, not a use of what it re-exports.
        let text = &if here.is_empty() {
            without_reexports(text)
        } else {
            text.clone()
        };
        let mut named = paths_named(text);
        // Paths in code that start with a child module's name (`policy::apply(..)`).
        for m in &modules {
            if m.len() == here.len() + 1 && m.starts_with(here) {
                let child = &m[here.len()];
                let pat = format!("{child}::");
                let mut rest = text.as_str();
                while let Some(i) = rest.find(&pat) {
                    let before = rest[..i].chars().next_back();
                    if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                        let tail = &rest[i..];
                        let len = tail
                            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                            .unwrap_or(tail.len());
                        let mut p = vec!["self".to_string()];
                        p.extend(
                            tail[..len]
                                .split("::")
                                .filter(|s| !s.is_empty())
                                .map(str::to_string),
                        );
                        named.push(p);
                    }
                    rest = &rest[i + pat.len()..];
                }
            }
        }
        let mut deps = BTreeSet::new();
        for p in named {
            if let Some(m) = resolve_through(&p, here, &modules, &exports, 0)
                && &m != here
            {
                deps.insert(m);
            }
        }
        g.insert(here.clone(), deps);
    }
    g
}

/// [`resolve`], then through the re-exports of the module reached.
fn resolve_through(
    path: &[String],
    here: &[String],
    modules: &BTreeSet<Vec<String>>,
    exports: &BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
    depth: usize,
) -> Option<Vec<String>> {
    let m = resolve(path, here, modules)?;
    if depth > 8 {
        return Some(m);
    }
    // The segment after the module part of the path, once made absolute.
    let next = {
        let mut n = 0;
        let mut abs: Vec<String> = match path.first().map(String::as_str) {
            Some("crate") => {
                n = 1;
                vec![]
            }
            Some("self") => {
                n = 1;
                here.to_vec()
            }
            Some("super") => {
                let mut a = here.to_vec();
                while path.get(n).map(String::as_str) == Some("super") {
                    a.pop();
                    n += 1;
                }
                a
            }
            _ => here.to_vec(),
        };
        abs.extend(path[n..].iter().cloned());
        abs.get(m.len()).cloned()
    };
    if let Some(name) = next
        && let Some(target) = exports.get(&m).and_then(|e| e.get(&name))
        && !target.is_empty()
    {
        return resolve_through(target, &m, modules, exports, depth + 1).or(Some(m));
    }
    Some(m)
}

/// Strongly connected components of more than one module (Tarjan).
fn cycles(g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct St<'a> {
        g: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on: BTreeSet<&'a Vec<String>>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut St<'a>, v: &'a Vec<String>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        if let Some(ws) = s.g.get(v) {
            for w in ws {
                let Some((w, _)) = s.g.get_key_value(w) else {
                    continue;
                };
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(lw));
                } else if s.on.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(iw));
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = vec![];
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(if w.is_empty() {
                    "(root)".to_string()
                } else {
                    w.join("::")
                });
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = St {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on: BTreeSet::new(),
        next: 0,
        out: vec![],
    };
    for v in g.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_import_cycles_between_files() {
    let mut found = vec![];
    let debug = std::env::var("ASSENT_ARCH_DEBUG").ok();
    for k in crates() {
        let g = graph(&k);
        if debug.as_deref() == k.file_name().and_then(|n| n.to_str()) {
            for (m, deps) in &g {
                eprintln!("{m:?} -> {deps:?}");
            }
        }
        for c in cycles(&g) {
            found.push(format!(
                "{}: {}",
                k.file_name().unwrap().to_string_lossy(),
                c.join(" <-> ")
            ));
        }
    }
    assert!(
        found.is_empty(),
        "file-level import cycles:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checker_sees_a_cycle() {
    let mut g = BTreeMap::new();
    let a = vec!["a".to_string()];
    let b = vec!["b".to_string()];
    g.insert(a.clone(), BTreeSet::from([b.clone()]));
    g.insert(b.clone(), BTreeSet::from([a.clone()]));
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".to_string()]]);
    let mut out = vec![];
    expand("crate::{a::{B, c}, d as e}", &mut out);
    assert_eq!(out.len(), 3);
    let modules = BTreeSet::from([
        vec![],
        vec!["x".to_string()],
        vec!["x".to_string(), "y".to_string()],
    ]);
    let here = vec!["x".to_string(), "y".to_string()];
    let sup = resolve(&["super".into(), "Z".into()], &here, &modules);
    assert_eq!(sup, Some(vec!["x".to_string()]));
}

#[test]
fn no_product_file_above_a_thousand_lines() {
    let mut big = vec![];
    for k in crates() {
        let mut files = vec![];
        rust_files(&k.join("src"), &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let n = product_part(&text).lines().count();
            if n > 1000 {
                big.push(format!("{} ({n} lines)", f.display()));
            }
        }
    }
    assert!(
        big.is_empty(),
        "files over 1,000 lines:\n{}",
        big.join("\n")
    );
}

/// Which crate may depend on which: `docs/dev/architecture.md` draws the same layers.
const LAYERS: &[(&str, &[&str])] = &[
    ("assent-model", &[]),
    ("assent-ledger", &["assent-model"]),
    ("assent-store", &["assent-model", "assent-ledger"]),
    ("assent-pages", &["assent-model"]),
    ("assent-datastore", &["assent-model"]),
    ("assent-cdp", &[]),
    ("assent-scan", &["assent-model", "assent-cdp"]),
    (
        "assent-app",
        &[
            "assent-model",
            "assent-ledger",
            "assent-store",
            "assent-pages",
            "assent-datastore",
            "assent-scan",
        ],
    ),
    (
        "assent-server",
        &[
            "assent-model",
            "assent-ledger",
            "assent-store",
            "assent-pages",
            "assent-app",
        ],
    ),
];

#[test]
fn crates_depend_one_way() {
    let mut wrong = vec![];
    for k in crates() {
        let manifest = std::fs::read_to_string(k.join("Cargo.toml")).unwrap();
        let name = manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .map(|l| l.trim_end_matches('"').to_string())
            .unwrap();
        let Some((_, allowed)) = LAYERS.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        // Normal dependencies only: test-only crates may use anything below the binary.
        let deps = manifest
            .split("[dependencies]")
            .nth(1)
            .map(|s| s.split("\n[").next().unwrap_or(""))
            .unwrap_or("");
        for line in deps.lines() {
            let dep = line.split(['.', ' ', '=']).next().unwrap_or("");
            if dep.starts_with("assent-") && !allowed.contains(&dep) {
                wrong.push(format!("{name} depends on {dep}"));
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}
