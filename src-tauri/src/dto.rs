//! The shapes the shell adds at the IPC boundary: command arguments and answers that bundle
//! engine types, and the payloads of the events the window listens to.

use std::collections::BTreeMap;

use connector::check::Check;
use connector::config::{FieldError, FieldSpec};
use connector::events::{Progress, SyncEvent, SyncPhase};
use connector::sync::DeletionPreview;
use connector::{JobRecord, JobType, LeaseHolder};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::CommandError;

/// The event a running sync's progress arrives on.
pub const SYNC_EVENT: &str = "sync-event";
/// The event sent once when a sync ends, however it ends.
pub const SYNC_FINISHED: &str = "sync-finished";

/// Everything the configuration form is built from, as the engine describes it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConfigForm {
    /// The connector's fields (the reference's 18 and ours), in order.
    pub fields: Vec<FieldSpec>,
    /// The target's fields.
    pub target_fields: Vec<FieldSpec>,
}

/// A connection as the form edits it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConnectionForm {
    /// The connection id; `None` for a new connection.
    pub id: Option<String>,
    /// Its name.
    pub name: String,
    /// True for the sandbox: address and credentials come from the built-in simulator.
    pub sandbox: bool,
    /// One value per non-sensitive field key.
    #[ts(type = "Record<string, unknown>")]
    pub values: Map<String, Value>,
    /// The keys of the sensitive fields that have a stored value (values never leave the keyring).
    pub secrets_set: Vec<String>,
    /// Why the keyring could not be read, when it could not.
    pub keyring_problem: Option<String>,
}

/// What the form sends back to validate, test or save.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct ConnectionDraft {
    /// The connection id; `None` to create one.
    pub id: Option<String>,
    /// Its name.
    pub name: String,
    /// One value per field key.
    #[ts(type = "Record<string, unknown>")]
    pub values: Map<String, Value>,
    /// Secrets typed in the form: a value replaces the stored one, `null` clears it; keys that
    /// are absent keep what is stored.
    #[ts(type = "Record<string, string | null>")]
    pub secrets: BTreeMap<String, Option<String>>,
}

/// The result of "Test connection": local problems first; remote checks only when there are none.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TestResult {
    /// Every problem of the configuration, each tied to its field.
    pub problems: Vec<FieldError>,
    /// One result per remote check: Confluence credentials, spaces, the target.
    pub checks: Vec<Check>,
}

/// An imported `connector.json`, as form values.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportedForm {
    /// One value per non-sensitive field key.
    #[ts(type = "Record<string, unknown>")]
    pub values: Map<String, Value>,
    /// The sensitive field keys the document carried a value for.
    pub secrets: BTreeMap<String, String>,
    /// Ignored keys and similar notes.
    pub warnings: Vec<String>,
}

/// Which syncs the engine can run.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SyncKinds {
    /// Full content sync.
    pub full: bool,
    /// Incremental content sync.
    pub incremental: bool,
    /// Access-control (identities) sync.
    pub access_control: bool,
}

/// A sync in flight, as the dashboard shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RunningSync {
    /// The connection it runs for.
    pub connection_id: String,
    /// Full, incremental or access control.
    pub job_type: JobType,
    /// When it was started, RFC 3339.
    pub started_at: String,
    /// The current phase, once known.
    pub phase: Option<SyncPhase>,
    /// The last progress snapshot.
    pub progress: Option<Progress>,
    /// The last warnings, newest last.
    pub warnings: Vec<String>,
    /// True once cancellation was asked for.
    pub canceling: bool,
    /// The job's id, once the engine recorded it.
    pub job_id: Option<String>,
    /// What started it: `manual` or `scheduled` in this app, `cli` and others elsewhere.
    pub trigger: String,
    /// True when this app runs the sync (and can cancel it); false when another process does.
    pub own: bool,
    /// The process that runs it.
    pub pid: u32,
    /// The machine it runs on, once known.
    pub host: Option<String>,
}

impl RunningSync {
    /// A sync this app starts now.
    pub fn here(connection_id: &str, job_type: JobType, trigger: &str) -> RunningSync {
        RunningSync {
            connection_id: connection_id.to_owned(),
            job_type,
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            phase: None,
            progress: None,
            warnings: vec![],
            canceling: false,
            job_id: None,
            trigger: trigger.to_owned(),
            own: true,
            pid: std::process::id(),
            host: None,
        }
    }

    /// A sync another process runs, as its lease and its job's last heartbeat describe it.
    pub fn elsewhere(lease: &LeaseHolder, job: Option<&JobRecord>) -> RunningSync {
        let elapsed_s = chrono::DateTime::parse_from_rfc3339(&lease.started_at)
            .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).as_seconds_f64())
            .unwrap_or_default();
        RunningSync {
            connection_id: lease.connection_id.clone().unwrap_or_default(),
            job_type: job.map_or(JobType::Full, |j| j.job_type),
            started_at: lease.started_at.clone(),
            phase: None,
            progress: job.map(|j| Progress {
                elapsed_s,
                counters: j.counters.clone(),
                requests: j.requests,
                ..Progress::default()
            }),
            warnings: vec![],
            canceling: false,
            job_id: Some(lease.job_id.clone()),
            trigger: job.map_or_else(String::new, |j| j.trigger.clone()),
            own: false,
            pid: lease.pid,
            host: Some(lease.host.clone()),
        }
    }
}

/// What the next full sync would remove on purpose, and the engine's sentence for it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeletionCheck {
    /// The engine's preview.
    pub preview: DeletionPreview,
    /// "this will remove N of M documents from the index (…)", or `None` when nothing goes.
    pub message: Option<String>,
}

impl From<DeletionPreview> for DeletionCheck {
    fn from(preview: DeletionPreview) -> Self {
        DeletionCheck {
            message: preview.message(),
            preview,
        }
    }
}

/// The payload of [`SYNC_EVENT`].
#[derive(Debug, Clone, Serialize, TS)]
pub struct SyncEventMessage {
    /// The connection whose sync sent it.
    pub connection_id: String,
    /// The engine's event.
    pub event: SyncEvent,
}

/// The payload of [`SYNC_FINISHED`].
#[derive(Debug, Clone, Serialize, TS)]
pub struct SyncFinished {
    /// The connection whose sync ended.
    pub connection_id: String,
    /// The job as recorded, when the sync got far enough to record one.
    pub job: Option<JobRecord>,
    /// Why the sync could not run or finish.
    pub error: Option<CommandError>,
}

/// A search of the documents browser.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct DocumentQuery {
    /// Free text; empty lists every document.
    pub query: String,
    /// Only documents of this `type` (`space`, `page`, `blogpost`, `attachment`, `comment`).
    pub doc_type: Option<String>,
    /// Hits to skip.
    #[ts(type = "number")]
    pub from: usize,
    /// Hits per page.
    #[ts(type = "number")]
    pub size: usize,
}

/// One hit of the documents browser.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DocumentHit {
    /// The document id.
    pub id: String,
    /// Relevance.
    pub score: f32,
    /// The document as indexed.
    #[ts(type = "Record<string, unknown>")]
    pub source: Value,
}

/// One page of the documents browser.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DocumentPage {
    /// Matching documents in all.
    #[ts(type = "number")]
    pub total: u64,
    /// This page's hits.
    pub hits: Vec<DocumentHit>,
    /// Where the documents were searched, for people.
    pub target: String,
}

/// A user of the identity documents, for the ACL inspector's picker.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AclUser {
    /// The identity document id.
    pub id: String,
    /// What people call the user (display name, else username or email, else the id).
    pub name: String,
    /// The email, when the identity carries one.
    pub email: Option<String>,
}

impl AclUser {
    /// The picker entry of identity document `id` with `body`.
    pub fn from_identity(id: String, body: &Value) -> AclUser {
        let field = |key: &str| {
            body["identity"][key]
                .as_str()
                .map(|v| v.split_once(':').map_or(v, |(_, rest)| rest).to_owned())
        };
        let name = field("display_name")
            .or_else(|| field("username"))
            .or_else(|| field("email"))
            .unwrap_or_else(|| id.clone());
        AclUser {
            id,
            name,
            email: field("email"),
        }
    }
}

/// The rules of a connection: what syncs use, and the draft being edited.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RulesState {
    /// The rules syncs use, if any were activated.
    pub active: Option<connector::StoredRules>,
    /// The draft, if one is being edited.
    pub draft: Option<connector::StoredRules>,
}
