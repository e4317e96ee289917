//! Rights fulfilment on the operator's own databases (`[[datastores]]` of the registry): the
//! engine that `assent dsr` and the request workflow both drive. Every operation takes a
//! [`Fulfilment`] (the registry, where the URLs come from, connection options) and a
//! [`Subject`] (the identities the requester gave), and answers per datastore: a datastore
//! that fails (unreachable, refused, missing table, permission, lock timeout) is reported
//! in `failures` with its table and an exact message, and the others' results stand.
//!
//! | operation | what it does | ledger |
//! |---|---|---|
//! | [`preview`] | the dry run of an erasure: rows to delete, columns to mask, per table | — |
//! | [`access`] | the person's rows across references, plus Assent's own records if a store is given | — |
//! | [`write_package`] | `data.json`, one CSV per table, `index.html` (fr/en/de) into a directory | — |
//! | [`package_zip`] | the same files as one stored ZIP archive (the workflow's download) | — |
//! | [`erase`] | the erasure, one transaction per datastore, idempotent; with a store, Assent's consent records of the subject redacted | `erasure` receipt, `redaction`s |
//! | [`restrict`] | sets or lifts the configured flag column (`restrict_column`) | `restriction` |
//! | [`rectify`] | applies reviewed corrections to named columns | `rectification` (fields, not values) |
//!
//! Ledger entries carry no personal data: the subject is a keyed hash
//! ([`ErasureKey::subject_hash`]), failures name the kind and table, never the engine's text.
//! These are blocking database calls run on blocking threads; they never hold the store.

mod key;
mod package;
mod run;
mod subject;
mod zip;

pub use key::ErasureKey;
pub use package::{
    AccessResult, FoundTable, OwnRecords, access, package_files, package_zip, write_package,
};
pub use run::{
    ChangeRun, DatastoreChange, DatastoreErasure, ErasedTable, ErasureRun, OwnErasure,
    StoreFailure, erase, preview, rectify, restrict,
};
pub use subject::{Fulfilment, ProcessEnv, Subject, UrlSource};

pub use assent_datastore::ops::Change;
pub use assent_datastore::{ConnectOptions, Identity};
