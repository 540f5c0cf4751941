//! The engine's error type.

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The local state database could not be opened, migrated or queried.
    #[error("local state database: {0}")]
    Store(#[from] rusqlite::Error),
    /// Elasticsearch could not be reached or answered with an error.
    #[error("elasticsearch: {0}")]
    Elasticsearch(String),
    /// A value could not be serialised or parsed as JSON.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A sink (Elasticsearch, OpenSearch or the local index) failed.
    #[error(transparent)]
    Sink(#[from] crate::sink::SinkError),
    /// Confluence could not be reached or refused a request.
    #[error("confluence: {0}")]
    Confluence(#[from] crate::confluence::ClientError),
    /// A listing failed (after the client's retries): nothing it would have listed can be
    /// deleted by this sync.
    #[error("listing {what} failed: {source}")]
    Listing {
        /// What was being listed, e.g. `comments of page 123 ('Release notes')`.
        what: String,
        /// Why.
        source: crate::confluence::ClientError,
    },
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    /// The configuration has problems; each names its field.
    #[error("invalid configuration: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<crate::config::FieldError>),
    /// A file of the engine's working directory could not be used.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A connection, job or document that was asked for does not exist.
    #[error("{0} does not exist")]
    NotFound(String),
    /// A caller passed a value the engine cannot use; the message says which and why.
    #[error("{0}")]
    InvalidInput(String),
    /// A sync of the same connection is already running (in this process or another).
    #[error("{}", .0.busy_message())]
    Busy(Box<crate::store::LeaseHolder>),
    /// Document-level security cannot work with this site or configuration.
    #[error("{0}")]
    Acl(#[from] crate::acl::AclError),
}

impl From<elasticsearch::http::transport::BuildError> for Error {
    fn from(err: elasticsearch::http::transport::BuildError) -> Self {
        Error::Elasticsearch(err.to_string())
    }
}

impl From<elasticsearch::Error> for Error {
    fn from(err: elasticsearch::Error) -> Self {
        Error::Elasticsearch(err.to_string())
    }
}

/// A `Result` whose error is the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
