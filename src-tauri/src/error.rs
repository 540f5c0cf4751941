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

    /// Why the OS keyring cannot be used, for a screen that says so up front (no secret was being
    /// read or saved): the keyring's own explanation, with the way out, as a sentence.
    pub fn keyring_state(err: connector::config::ConfigError) -> String {
        match err {
            connector::config::ConfigError::Keyring { message, .. } => {
                let mut chars = message.chars();
                let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
                format!("{}{}.", first.unwrap_or_default(), chars.as_str())
            }
            other => CommandError::from(other).message,
        }
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
        use connector::config::{ConfigError, SecretField};
        // The keyring's problem for the admin: which secret, what was tried, why, and the way
        // out (the engine's message says it), without the connection's id.
        if let E::Config(ConfigError::Keyring {
            action,
            field,
            message,
            ..
        }) = &err
        {
            let what = SecretField::from_key(field).map_or("a secret", SecretField::label);
            let tried = match *action {
                "store" => format!("save {what} in"),
                "delete" => format!("delete {what} from"),
                _ => format!("read {what} from"),
            };
            return CommandError::new(
                "keyring",
                format!("Could not {tried} the OS keyring: {message}."),
            );
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use connector::config::{SecretField, keyring_unavailable};

    #[test]
    fn an_unavailable_keyring_reads_as_a_sentence_with_the_way_out() {
        let err = keyring_unavailable(
            "0d5c2f0e-uuid",
            SecretField::ApiToken,
            "store",
            "Platform secure storage failure: no Secret Service",
        );
        let err = CommandError::from(err);
        assert_eq!(err.kind, "keyring");
        assert!(
            err.message.starts_with(
                "Could not save the Confluence Cloud API token in the OS keyring: the OS \
                 keyring is not available on this machine"
            ),
            "{}",
            err.message
        );
        assert!(
            err.message
                .contains("Read secrets from environment variables")
                && !err.message.contains("0d5c2f0e")
                && !err.message.contains('`'),
            "{}",
            err.message
        );
    }
}
