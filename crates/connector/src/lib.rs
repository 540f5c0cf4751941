//! The Confluence connector engine.
//!
//! It reads a connector configuration, crawls Confluence (Cloud, Server or Data Center), turns
//! spaces, pages, blog posts, attachments and comments into documents, and writes them to a sink:
//! Elasticsearch (or OpenSearch) or the embedded local index. Its state (connections, sync jobs)
//! lives in SQLite.
//!
//! The engine knows nothing of Tauri, clap or the terminal: the desktop shell and the CLI are thin
//! adapters over the types re-exported here.
//!
//! - [`Store`]: the local SQLite state; [`ConnectionSummary`] is what the connections list shows.
//! - [`config`]: the connector configuration, its validation and its secrets.
//! - [`confluence::ConfluenceClient`]: the Confluence REST client.
//! - [`sync::full_sync`]: a full sync into any [`sink::Sink`]: [`sink::EsSink`] or
//!   [`sink::LocalIndex`], or the configured one through [`target::AnySink`].
//! - [`check::remote`]: the "Test connection" checks.
//! - [`acl`]: document-level security: ACL resolution, access-control syncs, the inspector.

pub mod acl;
pub mod check;
pub mod config;
pub mod confluence;
pub mod connections;
pub mod document;
mod error;
pub mod events;
pub mod extract;
pub mod rules;
pub mod schedule;
pub mod sink;
mod store;
pub mod sync;
pub mod target;
pub mod text;
mod tls;

pub use error::{Error, Result};
pub use store::{
    ConnectionSummary, DeltaInfo, JobError, JobRecord, JobStatus, JobType, LastSync, LeaseHolder,
    SavedConnection, Store, SyncCursor,
};
pub use store::{DocAclRecord, FailedDocument, UserSnapshot};
pub use store::{RuleState, StoredRules};
