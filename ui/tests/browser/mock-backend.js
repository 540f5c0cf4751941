// The Tauri IPC of the browser tests: `@tauri-apps/api/mocks` answering from the engine answers
// recorded by the end-to-end test (ui/tests/fixtures/). The server prepends `const FIXTURES = {...}`.
import { mockIPC } from "/__tauri/mocks.js";
import { emit } from "/__tauri/event.js";

const fx = FIXTURES; // eslint-disable-line no-undef
const sandbox = fx.list_connections[0];
let connections = [];
let jobs = [];
let running = [];
let schedules = [];
let activeRules = null;
let activeRulesSynced = false;
let draftRules = null;
// What the next full sync would remove: the recorded answer for rules that narrow the scope.
const narrows = (rules) => !!rules && (rules.advanced.length > 0 || rules.basic.length > 0);
const deletions = (rules) => (narrows(rules) ? fx["deletion_preview-narrowed"] : fx["deletion_preview-none"]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// What crosses the real IPC is JSON: the engine never holds the page's objects.
const wire = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
// A sync that fails: the next sync started ends with this recorded job (see `__nextSyncFails`).
let failing = null;

async function replaySync(id, jobType, allowDeletions) {
  if (failing) {
    const job = { ...failing, id: `${failing.id}-${jobs.length}`, connection_id: id, job_type: jobType, started_at: new Date().toISOString() };
    failing = null;
    jobs = [job, ...jobs];
    running = running.filter((r) => r.connection_id !== id);
    await emit("sync-finished", { connection_id: id, job, error: null });
    return;
  }
  // The recorded events are a full sync's; an access-control sync only ends.
  const events = jobType === "full" ? fx.sync_events : [];
  for (const message of events) {
    await sleep(40);
    await emit("sync-event", { ...message, connection_id: id });
  }
  let job = fx.list_jobs.find((j) => j.job_type === jobType) ?? fx.list_jobs[0];
  // An incremental sync (ui/tests/fixtures/list_jobs-incremental.json, written by hand in the
  // engine's shape): its delta after a full sync, else it runs as a full sync and says so.
  if (jobType === "incremental") {
    const [delta, asFull] = fx["list_jobs-incremental"];
    job = jobs.some((j) => j.job_type === "full" && j.status === "completed") ? delta : asFull;
  }
  job = { ...job, id: `${job.id}-${jobs.length}`, started_at: new Date().toISOString() };
  if (jobType === "full" && narrows(activeRules)) {
    const removed = fx["deletion_preview-narrowed"].preview.removed;
    job = { ...job, rules: activeRules, counters: { ...job.counters, deleted_document_count: allowDeletions ? removed : 0 } };
    // The scope the index reflects now: nothing more to remove.
    if (allowDeletions) activeRulesSynced = true;
  }
  jobs = [job, ...jobs];
  running = running.filter((r) => r.connection_id !== id);
  connections = connections.map((c) => (c.id === id ? afterJob(c, job) : c));
  await emit("sync-finished", { connection_id: id, job, error: null });
}

// The connection's row after `job`, as the engine's store derives it: the last sync of any kind,
// and for a content sync its result and the index's document count it recorded.
function afterJob(c, job) {
  const last = {
    finished_at: job.ended_at ?? new Date().toISOString(),
    status: job.status,
    job_type: job.job_type,
    indexed_document_count: job.counters.indexed_document_count,
    counters: job.counters,
  };
  if (job.job_type === "access_control") return { ...c, last_sync: last };
  const counted = job.counters.total_document_count ?? null;
  return {
    ...c,
    last_sync: last,
    last_content_sync: last,
    documents_in_index: counted ?? c.documents_in_index,
    documents_counted_at: counted === null ? c.documents_counted_at : last.finished_at,
  };
}

// A sync the command-line tool runs on the same data: `running_syncs` reports it with the counters
// of its last heartbeat, and starting another sync of the connection is refused.
const lastProgress = fx.sync_events.map((m) => m.event).filter((e) => e.event === "progress").at(-1);
window.__externalSync = (id, indexed) => {
  const busy = fx["start_sync-busy"].message;
  const progress = { ...lastProgress };
  delete progress.event;
  const view = {
    connection_id: id,
    job_type: "full",
    started_at: busy.match(/since (\S+),/)[1],
    phase: null,
    progress: { ...progress, docs_seen: 0, docs_per_second: 0, counters: { ...progress.counters, indexed_document_count: indexed } },
    warnings: [],
    canceling: false,
    job_id: busy.match(/\(job (\S+)\)/)[1],
    trigger: "cli",
    own: false,
    pid: Number(busy.match(/by process (\d+)/)[1]),
    host: busy.match(/ on (\S+) \(job/)[1],
  };
  running = [...running.filter((r) => r.connection_id !== id), view];
};
// `recorded`: the job it recorded, from a fixture (the recorded full sync by default).
window.__externalSyncEnds = (id, recorded) => {
  const job = { ...(recorded ?? fx.list_jobs.find((j) => j.job_type === "full")), id: "cli-job", trigger: "cli", started_at: new Date().toISOString() };
  jobs = [job, ...jobs];
  running = running.filter((r) => r.connection_id !== id);
};

// `recorded`: a failed job from ui/tests/fixtures/list_jobs-failed.json (the engine's answers,
// recorded with the CLI: an unreachable host, a refused connection, a refused token).
window.__nextSyncFails = (recorded) => {
  failing = recorded;
};
// A saved draft of sync rules, as if the admin had saved it earlier.
window.__draftRules = (rules) => {
  draftRules = wire(rules);
};

window.__calls = [];
mockIPC(
  (cmd, args) => {
    window.__calls.push({ cmd, args });
    switch (cmd) {
      case "list_connections":
        return connections;
      case "create_sandbox_connection":
        connections = [{ ...sandbox, last_sync: null, last_content_sync: null, documents_in_index: null, documents_counted_at: null }];
        return connections[0];
      case "sync_kinds":
        return fx.sync_kinds;
      case "running_syncs":
        return running;
      case "start_sync": {
        if (running.some((r) => r.connection_id === args.id && !r.own)) throw fx["start_sync-busy"];
        const view = {
          connection_id: args.id,
          job_type: args.jobType,
          started_at: new Date().toISOString(),
          phase: null,
          progress: null,
          warnings: [],
          canceling: false,
          job_id: null,
          trigger: "manual",
          own: true,
          pid: 4321,
          host: null,
        };
        running = [...running, view];
        setTimeout(() => replaySync(args.id, args.jobType, args.allowDeletions), 300);
        return view;
      }
      case "deletion_preview":
        return args.rules ? deletions(args.rules) : activeRulesSynced ? fx["deletion_preview-none"] : deletions(activeRules);
      case "list_schedules":
        return schedules.filter((s) => args.id === null || s.connection_id === args.id);
      case "save_schedule": {
        const refused = fx["save_schedule-invalid"];
        if (refused.message.startsWith(`\`${args.spec}\``)) throw refused;
        const saved = {
          connection_id: args.id,
          job_type: args.jobType,
          enabled: args.enabled,
          spec: args.spec,
          next_run_at: args.enabled ? new Date(Date.now() + 15 * 60000).toISOString() : null,
          last_run_at: null,
        };
        schedules = [...schedules.filter((s) => !(s.connection_id === args.id && s.job_type === args.jobType)), saved];
        return saved;
      }
      case "save_draft_rules":
        draftRules = wire(args.rules);
        return { connection_id: args.id, state: "draft", version: activeRules ? 2 : 1, rules: wire(args.rules), updated_at: new Date().toISOString() };
      case "revert_rules": {
        const had = draftRules !== null;
        draftRules = null;
        return had;
      }
      case "validate_rules": {
        // The engine's answer for ui/tests/fixtures/rules-invalid-draft.json (recorded with the
        // CLI's `rules validate --json`); any other rules are valid.
        const invalid = fx["validate_rules-invalid"];
        const ids = new Set(invalid.problems.map((p) => p.rule_id));
        return args.rules.basic.some((r) => ids.has(r.id)) ? invalid : fx["validate_rules-valid"];
      }
      case "activate_rules":
        activeRules = draftRules;
        activeRulesSynced = false;
        draftRules = null;
        return { connection_id: args.id, state: "active", version: 1, rules: activeRules, updated_at: new Date().toISOString() };
      case "cancel_sync":
        return true;
      case "list_jobs":
        return jobs;
      case "config_form":
        return fx.config_form;
      case "load_connection":
        return args.id ? fx["load_connection-sandbox"] : fx["load_connection-new"];
      case "validate_connection":
        return fx["test_connection-new"].problems;
      case "test_connection":
        return args.draft.id ? fx["test_connection-sandbox"] : fx["test_connection-new"];
      case "search_documents":
        return fx.search_documents;
      case "get_document":
        return fx.get_document;
      case "acl_users":
        return fx.acl_users;
      case "acl_user_access":
        return fx.acl_user_access;
      case "acl_explain_document":
        return fx.acl_explain_document;
      case "acl_diff":
        return fx.acl_diff;
      case "load_rules": {
        const at = new Date().toISOString();
        if (!activeRules && !draftRules) return fx.load_rules;
        return wire({
          active: activeRules ? { connection_id: args.id, state: "active", version: 1, rules: activeRules, updated_at: at } : null,
          draft: draftRules ? { connection_id: args.id, state: "draft", version: activeRules ? 2 : 1, rules: draftRules, updated_at: at } : null,
        });
      }
      case "save_connection": {
        // No OS keyring here (a desktop without an unlocked Secret Service): storing a secret fails.
        if (Object.values(args.draft.secrets).some((v) => typeof v === "string" && v !== "")) throw fx["save_connection-keyring"];
        const saved = { ...sandbox, id: args.draft.id ?? "new-connection", name: args.draft.name, sandbox: !!args.draft.id, last_sync: null };
        connections = [...connections.filter((c) => c.id !== saved.id), saved];
        return saved;
      }
      case "es_role_request":
        return null;
      case "delete_connection":
        connections = connections.filter((c) => c.id !== args.id);
        return null;
      case "app_settings":
        return fx.app_settings;
      case "open_log_folder":
        return null;
      case "cql_tokens":
        return args.text === "space = ENG and type = page" ? fx.cql_tokens : [];
      case "cql_complete":
        return args.text.endsWith("spa") ? fx.cql_complete : [];
      case "cql_problems":
        return args.text.trim().endsWith("and") ? fx.cql_problems : [];
      case "preview_rules":
        return fx.preview_rules;
      default:
        throw { kind: "internal", message: `the browser mock has no answer for ${cmd}` };
    }
  },
  { shouldMockEvents: true },
);
