//! notebox: the backend of an offline-first notes app on Postgres + PowerSync.
//! Modules are features; `cli` wires them to commands.

/// jemalloc, for the binary and everything that links the library (benches measure what
/// runs): it gives memory back to the system once a burst is over. glibc's allocator kept
/// the worker threads' arenas grown: after 26,000 fresh tokens (`scripts/bench-memory`)
/// 30.1–30.3 MiB stayed resident, 26.7–27.6 MiB with jemalloc, at the same throughput.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

pub mod account;
pub mod admin;
pub mod app;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod db;
pub mod export;
pub mod http;
pub mod notebooks;
pub mod notes;
pub mod powersync;
pub mod schema;
pub mod telemetry;
pub mod upload;
pub mod web;
