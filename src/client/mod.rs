//! notebox as a PowerSync client: the official Rust SDK syncing into a local SQLite file
//! (rusqlite), used by `notebox check --e2e` to prove that tokens, key set, publication,
//! replication and sync config fit together.

mod diagnose;
mod http;
mod round_trip;

pub use round_trip::{Outcome, PROBE_EMAIL, run};
