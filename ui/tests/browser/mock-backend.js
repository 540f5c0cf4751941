// The Tauri IPC of the browser tests: `@tauri-apps/api/mocks` answering from the engine answers
// recorded by the end-to-end test (ui/tests/fixtures/). The server prepends `const FIXTURES = {...}`.
import { mockIPC } from "/__tauri/mocks.js";
import { emit } from "/__tauri/event.js";

const fx = FIXTURES; // eslint-disable-line no-undef
const sandbox = fx.list_connections[0];
let connections = [];
let jobs = [];
let running = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function replaySync(id, jobType) {
  // The recorded events are a full sync's; an access-control sync only ends.
  const events = jobType === "full" ? fx.sync_events : [];
  for (const message of events) {
    await sleep(40);
    await emit("sync-event", { ...message, connection_id: id });
  }
  const job = fx.list_jobs.find((j) => j.job_type === jobType) ?? fx.list_jobs[0];
  jobs = [job, ...jobs];
  running = running.filter((r) => r.connection_id !== id);
  connections = connections.map((c) => (c.id === id ? { ...c, last_sync: sandbox.last_sync } : c));
  await emit("sync-finished", { connection_id: id, job, error: null });
}

window.__calls = [];
mockIPC(
  (cmd, args) => {
    window.__calls.push({ cmd, args });
    switch (cmd) {
      case "list_connections":
        return connections;
      case "create_sandbox_connection":
        connections = [{ ...sandbox, last_sync: null }];
        return connections[0];
      case "sync_kinds":
        return fx.sync_kinds;
      case "running_syncs":
        return running;
      case "start_sync": {
        const view = { connection_id: args.id, job_type: args.jobType, started_at: new Date().toISOString(), phase: null, progress: null, warnings: [], canceling: false };
        running = [...running, view];
        setTimeout(() => replaySync(args.id, args.jobType), 300);
        return view;
      }
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
      case "load_rules":
        return fx.load_rules;
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
