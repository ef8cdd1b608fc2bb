//! notebox: the backend of an offline-first notes app on Postgres + PowerSync.
//! Modules are features; `cli` wires them to commands.

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
