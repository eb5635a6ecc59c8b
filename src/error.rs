//! The library's error type: every variant renders as one line that says what
//! went wrong, where, and what to do. The CLI maps all of them to exit code 2.

use std::path::PathBuf;

/// An error that ends a driftwatch command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A database could not be reached or refused us.
    #[error("{target}: {message}; {hint}")]
    Connect {
        /// The URL with the password hidden.
        target: String,
        /// What the server or network said.
        message: String,
        /// What the user can do about it.
        hint: String,
    },
    /// A catalog query failed.
    #[error("{target}: {query} failed: {message}")]
    Query {
        /// The URL with the password hidden.
        target: String,
        /// Which query (its .sql file).
        query: String,
        /// What the server said.
        message: String,
    },
    /// A user table is locked ACCESS EXCLUSIVE (DDL in progress): capture
    /// stops rather than queue behind or ahead of it.
    #[error("{target}: {relation} is locked by another session (pid {pid}, ACCESS EXCLUSIVE: DDL in progress?); capture stopped so as not to block it; retry when the DDL is done")]
    Locked {
        /// The URL with the password hidden.
        target: String,
        /// The locked relation.
        relation: String,
        /// Backend pid holding or awaiting the lock.
        pid: i32,
    },
    /// The schema changed between the catalog read and the deparse step.
    #[error("{target}: the schema changed during capture ({detail}); run the capture again")]
    ChangedDuringCapture {
        /// The URL with the password hidden.
        target: String,
        /// Which object moved.
        detail: String,
    },
    /// A file given as input is wrong.
    #[error("{path}: {message}; {hint}")]
    Input {
        /// The file (with `:line` where known).
        path: String,
        /// What is wrong with it.
        message: String,
        /// What to do.
        hint: String,
    },
    /// A command-line argument is wrong.
    #[error("{0}")]
    Usage(String),
    /// The throwaway PostgreSQL cluster could not be set up.
    #[error("shadow database: {0}")]
    Shadow(String),
    /// Reading or writing a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error (not a `source`: the line already says it, and the
        /// CLI prints the chain).
        error: std::io::Error,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            error: source,
        }
    }
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
