// The only module that talks to the Rust side. Every command has one typed wrapper here; views
// import these functions and never call `invoke` or `listen` themselves.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AccessDiff } from "./bindings/AccessDiff";
import type { AppSettings } from "./bindings/AppSettings";
import type { BasicRule } from "./bindings/BasicRule";
import type { Completion } from "./bindings/Completion";
import type { CqlProblem } from "./bindings/CqlProblem";
import type { EditorToken } from "./bindings/EditorToken";
import type { Preview } from "./bindings/Preview";
import type { RuleProblem } from "./bindings/RuleProblem";
import type { RuleSet } from "./bindings/RuleSet";
import type { RulesState } from "./bindings/RulesState";
import type { RuleValidation } from "./bindings/RuleValidation";
import type { StoredRules } from "./bindings/StoredRules";
import type { AclUser } from "./bindings/AclUser";
import type { Check } from "./bindings/Check";
import type { DocExplanation } from "./bindings/DocExplanation";
import type { UserAccess } from "./bindings/UserAccess";
import type { CommandError } from "./bindings/CommandError";
import type { ConfigForm } from "./bindings/ConfigForm";
import type { ConnectionDraft } from "./bindings/ConnectionDraft";
import type { ConnectionForm } from "./bindings/ConnectionForm";
import type { ConnectionSummary } from "./bindings/ConnectionSummary";
import type { Counters } from "./bindings/Counters";
import type { DeletionCheck } from "./bindings/DeletionCheck";
import type { DeletionPreview } from "./bindings/DeletionPreview";
import type { DeltaInfo } from "./bindings/DeltaInfo";
import type { DocumentHit } from "./bindings/DocumentHit";
import type { DocumentPage } from "./bindings/DocumentPage";
import type { DocumentQuery } from "./bindings/DocumentQuery";
import type { FieldError } from "./bindings/FieldError";
import type { FieldSpec } from "./bindings/FieldSpec";
import type { ImportedForm } from "./bindings/ImportedForm";
import type { JobError } from "./bindings/JobError";
import type { JobRecord } from "./bindings/JobRecord";
import type { JobType } from "./bindings/JobType";
import type { Progress } from "./bindings/Progress";
import type { RunningSync } from "./bindings/RunningSync";
import type { Schedule } from "./bindings/Schedule";
import type { SyncEvent } from "./bindings/SyncEvent";
import type { SyncEventMessage } from "./bindings/SyncEventMessage";
import type { SyncFinished } from "./bindings/SyncFinished";
import type { SyncKinds } from "./bindings/SyncKinds";
import type { SyncPhase } from "./bindings/SyncPhase";
import type { TestResult } from "./bindings/TestResult";

export type {
  AppSettings,
  BasicRule,
  Completion,
  CqlProblem,
  EditorToken,
  Preview,
  RuleProblem,
  RuleSet,
  RulesState,
  RuleValidation,
  StoredRules,
  AccessDiff,
  AclUser,
  DocExplanation,
  UserAccess,
  Check,
  CommandError,
  ConfigForm,
  ConnectionDraft,
  ConnectionForm,
  ConnectionSummary,
  Counters,
  DeletionCheck,
  DeletionPreview,
  DeltaInfo,
  DocumentHit,
  DocumentPage,
  DocumentQuery,
  FieldError,
  FieldSpec,
  ImportedForm,
  JobError,
  JobRecord,
  JobType,
  Progress,
  RunningSync,
  Schedule,
  SyncEvent,
  SyncEventMessage,
  SyncFinished,
  SyncKinds,
  SyncPhase,
  TestResult,
};

// Connections.

/** Every saved connection with its last sync. */
export function listConnections(): Promise<ConnectionSummary[]> {
  return invoke<ConnectionSummary[]>("list_connections");
}

/** Creates (or returns) the sandbox connection: the built-in simulator into the local index. */
export function createSandboxConnection(): Promise<ConnectionSummary> {
  return invoke<ConnectionSummary>("create_sandbox_connection");
}

/** Copies a connection and its stored secrets. */
export function duplicateConnection(id: string): Promise<ConnectionSummary> {
  return invoke<ConnectionSummary>("duplicate_connection", { id });
}

/** Deletes a connection, its history and its stored secrets. */
export function deleteConnection(id: string): Promise<void> {
  return invoke<void>("delete_connection", { id });
}

// Configuration.

/** The form's fields as the engine describes them. */
export function configForm(): Promise<ConfigForm> {
  return invoke<ConfigForm>("config_form");
}

/** A connection's form values (`null` for a new connection). */
export function loadConnection(id: string | null): Promise<ConnectionForm> {
  return invoke<ConnectionForm>("load_connection", { id });
}

/** Every problem of a draft, in the engine's words. */
export function validateConnection(draft: ConnectionDraft): Promise<FieldError[]> {
  return invoke<FieldError[]>("validate_connection", { draft });
}

/** Validation, then one result per remote check. */
export function testConnection(draft: ConnectionDraft): Promise<TestResult> {
  return invoke<TestResult>("test_connection", { draft });
}

/** The least-privilege Elasticsearch role and API-key request for the form's target, for Kibana's console; null for the local index. */
export function esRoleRequest(values: Record<string, unknown>): Promise<string | null> {
  return invoke<string | null>("es_role_request", { values });
}

/** Saves a draft; secrets go to the OS keyring. */
export function saveConnection(draft: ConnectionDraft): Promise<ConnectionSummary> {
  return invoke<ConnectionSummary>("save_connection", { draft });
}

/** Reads an Elastic `connector.json` into form values. */
export function importConnectorJson(text: string): Promise<ImportedForm> {
  return invoke<ImportedForm>("import_connector_json", { text });
}

/** A draft as an Elastic `connector.json`, secrets blanked. */
export function exportConnectorJson(draft: ConnectionDraft): Promise<string> {
  return invoke<string>("export_connector_json", { draft });
}

// Syncs.

/** Which syncs the engine can run. */
export function syncKinds(): Promise<SyncKinds> {
  return invoke<SyncKinds>("sync_kinds");
}

/**
 * Starts a sync in the background; progress arrives through `onSyncEvent`. `allowDeletions` is the
 * user's confirmation of the removals a deliberate scope change causes (see `deletionPreview`).
 */
export function startSync(id: string, jobType: JobType, allowDeletions = false): Promise<RunningSync> {
  return invoke<RunningSync>("start_sync", { id, jobType, allowDeletions });
}

/** Asks a running sync to stop. */
export function cancelSync(id: string): Promise<boolean> {
  return invoke<boolean>("cancel_sync", { id });
}

/** The syncs in flight: this app's and those another process (the CLI) runs on the same data. */
export function runningSyncs(): Promise<RunningSync[]> {
  return invoke<RunningSync[]>("running_syncs");
}

/** A connection's most recent jobs, newest first. */
export function listJobs(id: string, limit = 50): Promise<JobRecord[]> {
  return invoke<JobRecord[]>("list_jobs", { id, limit });
}

/**
 * What the next full sync would remove because the scope changed on purpose, with `rules` (a
 * draft) or the active rules (`null`).
 */
export function deletionPreview(id: string, rules: RuleSet | null): Promise<DeletionCheck> {
  return invoke<DeletionCheck>("deletion_preview", { id, rules });
}

/** Calls `handler` with every progress event of every running sync. */
export function onSyncEvent(handler: (message: SyncEventMessage) => void): Promise<UnlistenFn> {
  return listen<SyncEventMessage>("sync-event", (e) => handler(e.payload));
}

/** Calls `handler` once per sync that ends. */
export function onSyncFinished(handler: (message: SyncFinished) => void): Promise<UnlistenFn> {
  return listen<SyncFinished>("sync-finished", (e) => handler(e.payload));
}

// Schedules.

/** The schedules of connection `id`, or of every connection (`null`). */
export function listSchedules(id: string | null): Promise<Schedule[]> {
  return invoke<Schedule[]>("list_schedules", { id });
}

/**
 * Saves one schedule of a connection. A spec the engine cannot read rejects with kind `invalid` and
 * the engine's message for the field.
 */
export function saveSchedule(id: string, jobType: JobType, enabled: boolean, spec: string): Promise<Schedule> {
  return invoke<Schedule>("save_schedule", { id, jobType, enabled, spec });
}

// Documents.

/** One page of a connection's indexed documents. */
export function searchDocuments(id: string, query: DocumentQuery): Promise<DocumentPage> {
  return invoke<DocumentPage>("search_documents", { id, query });
}

/** One indexed document, or `null`. */
export function getDocument(id: string, docId: string): Promise<Record<string, unknown> | null> {
  return invoke<Record<string, unknown> | null>("get_document", { id, docId });
}

// ACL inspector.

/** The users of a connection's identity documents. */
export function aclUsers(id: string): Promise<AclUser[]> {
  return invoke<AclUser[]>("acl_users", { id });
}

/** A user's identities and the documents they may read. */
export function aclUserAccess(id: string, user: string): Promise<UserAccess> {
  return invoke<UserAccess>("acl_user_access", { id, user });
}

/** A document's ACL, how it was derived, and who may read it. */
export function aclExplainDocument(id: string, docId: string): Promise<DocExplanation> {
  return invoke<DocExplanation>("acl_explain_document", { id, docId });
}

/** Access gained and lost between two jobs. */
export function aclDiff(from: string, to: string): Promise<AccessDiff> {
  return invoke<AccessDiff>("acl_diff", { from, to });
}

// Sync rules and the CQL editor.

/** The draft and active rules of a connection. */
export function loadRules(id: string): Promise<RulesState> {
  return invoke<RulesState>("load_rules", { id });
}

/** Saves a draft (syncs keep using the active rules). */
export function saveDraftRules(id: string, rules: RuleSet): Promise<StoredRules> {
  return invoke<StoredRules>("save_draft_rules", { id, rules });
}

/** Validates rules offline, or also against Confluence with `remote`. */
export function validateRules(id: string, rules: RuleSet, remote: boolean): Promise<RuleValidation> {
  return invoke<RuleValidation>("validate_rules", { id, rules, remote });
}

/** Makes the draft the active rules. */
export function activateRules(id: string): Promise<StoredRules> {
  return invoke<StoredRules>("activate_rules", { id });
}

/** Discards the draft. */
export function revertRules(id: string): Promise<boolean> {
  return invoke<boolean>("revert_rules", { id });
}

/** Highlighting tokens of a CQL query. */
export function cqlTokens(text: string): Promise<EditorToken[]> {
  return invoke<EditorToken[]>("cql_tokens", { text });
}

/** Offline problems of a CQL query. */
export function cqlProblems(id: string, text: string): Promise<CqlProblem[]> {
  return invoke<CqlProblem[]>("cql_problems", { id, text });
}

/** Completions at a cursor of a CQL query. */
export function cqlComplete(id: string, text: string, cursor: number): Promise<Completion[]> {
  return invoke<Completion[]>("cql_complete", { id, text, cursor });
}

/** The live preview of rules: total, first matches, breakdown per rule. */
export function previewRules(id: string, rules: RuleSet): Promise<Preview> {
  return invoke<Preview>("preview_rules", { id, rules });
}

/** Turns whatever a command rejected with into words an admin can act on. */
export function errorMessage(err: unknown): string {
  if (typeof err === "object" && err !== null && "message" in err) {
    return String((err as CommandError).message);
  }
  return String(err);
}

/** The kind of a command's error (`keyring`, `confluence`, `config`, ...), when it has one. */
export function errorKind(err: unknown): string | null {
  if (typeof err === "object" && err !== null && "kind" in err) return String((err as CommandError).kind);
  return null;
}

// Settings and logs

/** The settings and logs screen: data folder, log file and its last lines, version, simulator. */
export function appSettings(): Promise<AppSettings> {
  return invoke("app_settings");
}

/** Opens the log folder in the system's file manager. */
export function openLogFolder(): Promise<void> {
  return invoke("open_log_folder");
}
