//! Integration tests: a real Postgres (DATABASE_URL, started by scripts/test), the router
//! driven in-process, and the real binary.

mod account;
mod admin;
mod auth;
mod auth_limits;
mod auth_setup;
mod binary;
mod check_e2e;
mod db_setup;
mod edge;
mod edits;
mod export_import;
mod health;
mod helpers;
mod invitations;
mod invitations_cli;
mod least_privilege;
mod metrics;
mod note_pinned;
mod notebooks;
mod oidc;
mod oidc_accounts;
mod oidc_provider;
mod openapi;
mod powersync;
mod replicas;
mod sharing;
mod signing;
mod tls;
mod ui_core;
mod upload;
mod upload_cancel;
mod upload_limits;
mod upload_plans;
mod upload_props;
mod web;
