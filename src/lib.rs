//! driftwatch: PostgreSQL schema drift detection.
//!
//! Every input becomes a [`model::Snapshot`]; see `docs/architecture.md`.

pub mod catalog;
pub mod cli;
pub mod error;
pub mod model;
pub mod normalize;
pub mod shadow;
pub mod source;
pub mod util;

pub use error::{Error, Result};
