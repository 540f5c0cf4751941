//! The error every command returns, as the UI receives it: `{ kind, message }`.

use serde::Serialize;
use ts_rs::TS;

/// A failed command, in words an admin can act on.
#[derive(Debug, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    /// A stable machine-readable category, such as `store` or `internal`.
    pub kind: String,
    /// What went wrong and, where possible, what to do about it.
    pub message: String,
}

impl From<connector::Error> for CommandError {
    fn from(err: connector::Error) -> Self {
        let kind = match err {
            connector::Error::Store(_) => "store",
            connector::Error::Elasticsearch(_) => "elasticsearch",
            _ => "internal",
        };
        CommandError {
            kind: kind.to_owned(),
            message: err.to_string(),
        }
    }
}
