//! Opens an access package (a ZIP archive) with Debian's `unzip`, a real reader: every
//! entry's CRC is tested (`unzip -t`), then each file is read (`unzip -p`).

use std::collections::BTreeMap;
use std::process::Command;

/// The files of `zip`, by name.
pub fn unzip(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let dir = assent_testkit::TempDir::new("unzip");
    let path = dir.join("package.zip");
    std::fs::write(&path, zip).unwrap();
    let run = |args: &[&str]| {
        let o = Command::new("unzip")
            .args(args)
            .arg(&path)
            .output()
            .expect("unzip must be installed (apt-get install unzip)");
        assert!(o.status.success(), "unzip {args:?}: {o:?}");
        o.stdout
    };
    run(&["-tq"]);
    let names = String::from_utf8(run(&["-Z1"])).unwrap();
    names
        .lines()
        .map(|n| {
            let o = Command::new("unzip")
                .arg("-p")
                .arg(&path)
                .arg(n)
                .output()
                .unwrap();
            assert!(o.status.success(), "unzip -p {n}: {o:?}");
            (n.to_string(), o.stdout)
        })
        .collect()
}
