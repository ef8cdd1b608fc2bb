//! Integration tests: a real Postgres (DATABASE_URL, started by scripts/test), the router
//! driven in-process, and the real binary.

mod auth;
mod auth_limits;
mod auth_setup;
mod binary;
mod db_setup;
mod edge;
mod health;
mod helpers;
mod powersync;
mod upload;
mod web;
