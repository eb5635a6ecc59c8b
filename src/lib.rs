//! driftwatch: PostgreSQL schema drift detection.
//!
//! Every input becomes a [`model::Snapshot`]; see `docs/architecture.md`.

pub mod alert;
pub mod baseline;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod config;
pub mod database;
pub mod ddl;
pub mod diff;
pub mod error;
pub mod escape;
pub mod history;
pub mod job;
pub mod metrics;
pub mod migrations;
pub mod model;
pub mod normalize;
pub mod preflight;
pub mod replay;
pub mod report;
pub mod rollback;
pub mod schedule;
pub mod shadow;
pub mod source;
pub mod store;
pub mod util;
pub mod watch;

pub use error::{Error, Result};
