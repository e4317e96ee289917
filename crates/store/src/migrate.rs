//! Embedded migrations: one list of names, embedded for each backend.
//!
//! To add a migration: create `migrations/sqlite/NNNN_name.sql` and
//! `migrations/postgres/NNNN_name.sql` and add one line to the list below. The runners (in
//! `sqlite/open.rs` and `postgres/connect.rs`) apply every pending migration at open, in
//! order, inside one transaction, and record it in `schema_migrations(version, name)`. A
//! database that records a version this binary does not know is refused
//! ([`StoreError::SchemaTooNew`]).

use crate::error::StoreError;

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// One list of migrations, by name, embedded from each backend's directory
/// (`migrations/sqlite/`, `migrations/postgres/`): a migration cannot exist for one backend
/// only, nor under two names.
macro_rules! migrations {
    ($($version:literal $name:literal),* $(,)?) => {
        pub(crate) const SQLITE: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
        }),*];
        pub(crate) const POSTGRES: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }),*];
    };
}

migrations!(
    1 "0001_init",
    2 "0002_rights",
    3 "0003_ledger_write_path",
    4 "0004_consent_keys",
    5 "0005_consent_tombstones",
    6 "0006_marketing",
    9 "0009_retention",
    10 "0010_rights_fulfilment",
    11 "0011_accounts",
    12 "0012_consent_stats",
    17 "0017_scans",
);

/// Highest migration version this binary knows (same for both backends).
pub const SCHEMA_VERSION: i64 = 17;

/// Given the rows of `schema_migrations`, returns the migrations still to apply, or an error
/// if the database is newer than the binary or its history differs from the embedded one.
pub(crate) fn pending(
    known: &'static [Migration],
    applied: &[(i64, String)],
) -> Result<Vec<Migration>, StoreError> {
    let max_known = known.iter().map(|m| m.version).max().unwrap_or(0);
    if let Some(found) = applied
        .iter()
        .map(|(v, _)| *v)
        .max()
        .filter(|f| *f > max_known)
    {
        return Err(StoreError::SchemaTooNew {
            found,
            known: max_known,
        });
    }
    for (v, name) in applied {
        match known.iter().find(|m| m.version == *v) {
            Some(m) if m.name == name => {}
            Some(m) => {
                return Err(StoreError::MigrationMismatch(format!(
                    "migration {v} is recorded as `{name}` but this build calls it `{}`",
                    m.name
                )));
            }
            None => {
                return Err(StoreError::MigrationMismatch(format!(
                    "migration {v} (`{name}`) is unknown to this build"
                )));
            }
        }
    }
    Ok(known
        .iter()
        .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
        .copied()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_match_files_and_each_other() {
        assert_eq!(SQLITE.len(), POSTGRES.len());
        // Versions increase (numbers are assigned to branches in advance, so there may be
        // gaps while branches merge).
        let mut prev = 0;
        for (s, p) in SQLITE.iter().zip(POSTGRES) {
            assert!(s.version > prev, "{} after {prev}", s.version);
            prev = s.version;
            assert_eq!(s.version, p.version);
            assert_eq!(s.name, p.name);
            assert!(s.name.starts_with(&format!("{:04}_", s.version)));
        }
        assert_eq!(SQLITE.last().map(|m| m.version), Some(SCHEMA_VERSION));
        for dir in ["sqlite", "postgres"] {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/").to_owned() + dir;
            let mut files: Vec<String> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            files.sort();
            let names: Vec<String> = SQLITE.iter().map(|m| format!("{}.sql", m.name)).collect();
            assert_eq!(files, names, "every migration file of {dir} must be listed");
        }
    }

    #[test]
    fn pending_rules() {
        assert_eq!(pending(SQLITE, &[]).unwrap().len(), SQLITE.len());
        assert_eq!(
            pending(SQLITE, &[(1, "0001_init".into())]).unwrap().len(),
            SQLITE.len() - 1
        );
        assert!(matches!(
            pending(SQLITE, &[(1, "0001_init".into()), (99, "0099_x".into())]),
            Err(StoreError::SchemaTooNew { found: 99, .. })
        ));
        assert!(matches!(
            pending(SQLITE, &[(1, "0001_other".into())]),
            Err(StoreError::MigrationMismatch(_))
        ));
    }
}
