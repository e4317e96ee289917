//! Files that hold personal data are private to the account that runs Assent: a data
//! directory Assent creates is `0700`, the SQLite database it creates is `0600` (SQLite gives
//! the WAL and shared-memory files the database file's mode), and so is a backup. An existing
//! directory keeps its mode; [`loose_mode`] lets the caller warn about it.

use std::path::Path;

/// Creates `dir` (and missing parents) readable by its owner only; an existing directory is
/// left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Creates an empty file readable and writable by its owner only; fails if it exists.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path).map(drop)
}

/// The permission bits of `path` that give access to group or others (`mode & 0o077`), when
/// there are any; `None` for a private path, a missing one, or on systems without modes.
pub fn loose_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then_some(mode & 0o777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}
