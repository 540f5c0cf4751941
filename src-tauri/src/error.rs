//! The error every command returns, as the UI receives it: `{ kind, message }`.

use serde::Serialize;
use ts_rs::TS;

/// A failed command, in words an admin can act on.
#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    /// A stable machine-readable category: `store`, `config`, `keyring`, `confluence`,
    /// `elasticsearch`, `target`, `invalid`, `not_found`, `busy` or `internal`.
    pub kind: String,
    /// What went wrong and, where possible, what to do about it.
    pub message: String,
}

impl CommandError {
    /// An error of `kind` with `message`.
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        CommandError {
            kind: kind.to_owned(),
            message: message.into(),
        }
    }

    /// Connection `id` is gone.
    pub fn not_found(id: &str) -> Self {
        CommandError::new(
            "not_found",
            format!("the connection `{id}` no longer exists; it may have been deleted"),
        )
    }

    /// A lock was poisoned by an earlier panic.
    pub fn poisoned() -> Self {
        CommandError::new(
            "internal",
            "an earlier command failed while holding the app's state; restart the app",
        )
    }
}

impl From<connector::Error> for CommandError {
    fn from(err: connector::Error) -> Self {
        use connector::Error as E;
        let kind = match &err {
            E::Store(_) => "store",
            E::Elasticsearch(_) => "elasticsearch",
            E::Sink(_) => "target",
            E::Confluence(_) => "confluence",
            E::Config(connector::config::ConfigError::Keyring { .. }) => "keyring",
            E::Config(_) | E::Invalid(_) => "config",
            E::NotFound(_) => "not_found",
            E::InvalidInput(_) => "invalid",
            E::Busy(_) => "busy",
            _ => "internal",
        };
        CommandError::new(kind, err.to_string())
    }
}

impl From<connector::config::ConfigError> for CommandError {
    fn from(err: connector::config::ConfigError) -> Self {
        connector::Error::from(err).into()
    }
}
