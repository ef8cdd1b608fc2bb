//! notebox: the backend of an offline-first notes app on Postgres + PowerSync.
//! Modules are features; `cli` wires them to commands.

/// jemalloc, for the binary and everything that links the library (benches measure what
/// runs): its background thread gives freed memory back to the system once a burst is over.
/// glibc's allocator kept the worker threads' arenas grown: `scripts/bench-memory` left
/// 30.1–30.3 MiB resident 95 s after fresh-token storms, against 25.5–26.1 with jemalloc
/// (27.4–28.2 after its upload storms), at the same throughput.
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
