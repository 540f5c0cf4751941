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
