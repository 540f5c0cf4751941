//! The connector configuration: the 18 fields of Elastic's Confluence connector, our additions
//! (explicit TLS opt-out, HTTP tuning) and the target index.
//!
//! - [`ConnectorConfig`] holds every non-secret value and is safe to serialise, store and export.
//! - [`Secrets`] holds the sensitive values; it is never serialised and its `Debug` prints `***`.
//!   [`EnvSecrets`] and [`KeyringStore`] fill it (see [`SecretField`] for the variable names).
//! - [`fields`] and [`target_fields`] describe the form a UI shows ([`FieldSpec`]).
//! - [`validate`] returns every problem at once, each tied to a field ([`FieldError`]).
//! - [`form`] turns a configuration into the flat values a form edits, and back.
//! - [`connector_json`] imports and exports Elastic's `connector.json` shape, without secrets.

pub mod connector_json;
mod fields;
pub mod form;
mod model;
mod secrets;
mod validate;

pub use fields::{
    DependsOn, FieldDisplay, FieldSpec, FieldType, FieldValidation, SelectOption, fields,
    target_fields,
};
pub use model::{
    ConnectorConfig, DEFAULT_INDEX_NAME, DataCenterAuthMethod, DataSource, ElasticsearchTarget,
    EsAuthMethod, ExtractionServiceKind, ExtractionSettings, HttpSettings, Target, split_spaces,
};
pub use secrets::{
    CONNECTION_ENV_PREFIX, ConnectionEnvSecrets, EnvSecrets, KEYRING_SERVICE, KeyringStore,
    MemorySecrets, SecretField, SecretSource, SecretStore, Secrets, env_name, keyring_unavailable,
};
pub use validate::{FieldError, Severity, has_errors, validate};

/// What can go wrong while reading, importing or storing a configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The OS keyring could not be used; the message says what to do about it.
    #[error("keyring: could not {action} `{field}` of connection `{connection}`: {message}")]
    Keyring {
        /// What was attempted: `read`, `store` or `delete`.
        action: &'static str,
        /// The connection the secret belongs to.
        connection: String,
        /// The secret's field key, e.g. `api_token`.
        field: &'static str,
        /// The cause and an actionable hint.
        message: String,
    },
    /// A configuration document is not shaped as expected.
    #[error("configuration document: {0}")]
    Shape(String),
    /// A field holds a value of the wrong type or outside its options.
    #[error("field `{field}`: {message}")]
    InvalidValue {
        /// The field key.
        field: String,
        /// What was expected.
        message: String,
    },
    /// A document is not valid JSON.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}
