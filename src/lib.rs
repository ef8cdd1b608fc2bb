//! notebox: the backend of an offline-first notes app on Postgres + PowerSync.
//! Modules are features; `cli` wires them to commands.

/// jemalloc, for the binary and everything that links the library (benches measure what
/// runs): its background thread gives freed memory back to the system once a burst is over.
/// glibc's allocator kept the worker threads' arenas grown (`scripts/bench-memory`, 95 s
/// after each storm): 30.1–30.3 MiB resident after fresh-token storms and 30.0–31.8 after
/// upload storms, against 24.8–25.0 and 22.7–23.3 with jemalloc, at the same throughput.
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
