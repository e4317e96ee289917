//! Every route the server declares is documented in docs/openapi.yaml.
#![allow(clippy::unwrap_used)]

use std::path::Path;

#[test]
fn every_route_is_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = std::fs::read_to_string(root.join("../../docs/openapi.yaml")).unwrap();
    let mut files = vec![root.join("src/router.rs")];
    let mut dirs = vec![root.join("src/routes")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    let mut missing = vec![];
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        for part in src.split(".route(\"").skip(1) {
            let path = part.split('"').next().unwrap();
            let documented = spec.contains(&format!("\n  {path}:"))
                || spec.contains(&format!("\n  /admin/v1{path}:"));
            if !documented {
                missing.push(format!("{path} ({})", f.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from docs/openapi.yaml: {missing:#?}"
    );
}
