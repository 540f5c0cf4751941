//! Shared by the crash, concurrency and deleted-mid-sync tests: a simulated site with a
//! `connector.json` that reaches it, `sync --config` children with a private data directory, and
//! the checks every run ends with (the local index against the truth, the job history, the work
//! directory).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use confluence_sim::{Flavor, Latency, RunningSim, SimOptions, SiteSize, TruthDoc};
use connector::config::{Target, connector_json};
use connector::sink::{LocalIndex, SearchRequest, Sink};
use serde_json::Value;

/// The local index every test here syncs into.
pub const INDEX: &str = "resume";

/// No sync of a tiny or small site takes this long in a debug build.
const SYNC_TIMEOUT: Duration = Duration::from_secs(120);

/// A simulator in this process and a configuration file (secrets in `env`) that reaches it.
pub struct Site {
    pub sim: RunningSim,
    pub config_path: PathBuf,
    pub env: Vec<(String, String)>,
    pub flavor: Flavor,
    pub size: SiteSize,
    pub seed: u64,
}

impl Site {
    /// Starts a `size` site of `flavor` from `seed` and writes its `connector.json` into `dir`.
    pub async fn start(flavor: Flavor, size: SiteSize, seed: u64, dir: &Path) -> Site {
        Site::start_with(flavor, size, seed, dir, None).await
    }

    /// [`Site::start`] with `latency` added to every Confluence response: runs last long enough
    /// to checkpoint.
    pub async fn start_with(
        flavor: Flavor,
        size: SiteSize,
        seed: u64,
        dir: &Path,
        latency: Option<Latency>,
    ) -> Site {
        let sim = confluence_sim::start(SimOptions {
            flavor,
            size,
            seed,
            latency,
            ..SimOptions::default()
        })
        .await
        .expect("starting the simulator");
        let (mut config, secrets) = connector_sandbox::config_for(&sim);
        config.target = Target::Local {
            index_name: INDEX.into(),
        };
        let config_path = dir.join(format!("connector-{}-{seed}.json", flavor.as_str()));
        std::fs::write(&config_path, connector_json::export(&config).to_string()).unwrap();
        let env = secrets
            .fields()
            .map(|f| {
                (
                    f.env_var().to_owned(),
                    secrets.get(f).unwrap_or_default().to_owned(),
                )
            })
            .collect();
        Site {
            sim,
            config_path,
            env,
            flavor,
            size,
            seed,
        }
    }

    /// `flavor/size/seed`, for messages.
    pub fn name(&self) -> String {
        format!(
            "{}/{:?}/seed {}",
            self.flavor.as_str(),
            self.size,
            self.seed
        )
    }

    /// Starts `confluence-connector sync --config FILE --json` into `data_dir`; its output goes to
    /// files beside the data directory (a pipe nobody reads could stall it).
    pub fn spawn_sync(&self, data_dir: &Path, tag: &str) -> SyncChild {
        std::fs::create_dir_all(data_dir).unwrap();
        let stdout = data_dir.with_file_name(format!("{tag}.stdout"));
        let stderr = data_dir.with_file_name(format!("{tag}.stderr"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_confluence-connector"));
        cmd.args(["sync", "--config"])
            .arg(&self.config_path)
            .arg("--json")
            .env("CONFLUENCE_CONNECTOR_DATA_DIR", data_dir)
            .env_remove("CONFLUENCE_CONNECTOR_LOG")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        SyncChild {
            child: cmd.spawn().expect("starting confluence-connector sync"),
            stdout,
            stderr,
            requests_before: self.sim.request_count(),
            started: Instant::now(),
        }
    }

    /// Sets the connection's deletion threshold (percent of the index a sync may delete).
    pub fn set_deletion_threshold(&self, percent: u32) {
        let text = std::fs::read_to_string(&self.config_path).unwrap();
        let mut json: Value = serde_json::from_str(&text).unwrap();
        json[connector_json::EXTENSION_KEY]["deletion_threshold_percent"] = percent.into();
        std::fs::write(&self.config_path, json.to_string()).unwrap();
    }

    /// A sync into `data_dir`, waited for.
    pub async fn sync(&self, data_dir: &Path, tag: &str) -> Finished {
        let child = self.spawn_sync(data_dir, tag);
        child.finish(&self.sim).await
    }
}

/// A running `sync` child.
pub struct SyncChild {
    pub child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    requests_before: u64,
    started: Instant,
}

/// A `sync` child that ended.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// Confluence requests the simulator served while it ran (no other child ran meanwhile).
    pub requests: u64,
    pub elapsed: Duration,
}

impl Finished {
    /// The `--json` summary.
    pub fn summary(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "not one JSON object ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// Panics with the output unless the sync exited 0 with status `completed`.
    pub fn assert_completed(&self, what: &str) -> Value {
        assert!(
            self.status.success(),
            "{what}: exit {:?}\nstdout: {}\nstderr: {}",
            self.status.code(),
            self.stdout,
            self.stderr
        );
        let summary = self.summary();
        assert_eq!(summary["status"], "completed", "{what}: {summary}");
        summary
    }
}

impl SyncChild {
    /// Confluence requests served since this child started.
    pub fn requests(&self, sim: &RunningSim) -> u64 {
        sim.request_count() - self.requests_before
    }

    /// Whether the child already exited.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_some()
    }

    /// Waits for the child to exit on its own.
    pub async fn finish(mut self, sim: &RunningSim) -> Finished {
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the sync") {
                return self.ended(status, sim);
            }
            if self.started.elapsed() > SYNC_TIMEOUT {
                let _ = self.child.kill();
                let status = self.child.wait().expect("reaping the sync");
                let ended = self.ended(status, sim);
                panic!(
                    "the sync did not end within {SYNC_TIMEOUT:?}\nstdout: {}\nstderr: {}",
                    ended.stdout, ended.stderr
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// SIGKILLs the child (unless it already ended) and reaps it; true when it was still
    /// running.
    pub fn kill9(mut self, sim: &RunningSim) -> (bool, Finished) {
        let was_running = self.child.try_wait().ok().flatten().is_none();
        // `Child::kill` sends SIGKILL on Unix: no handler runs, nothing is cleaned up.
        let _ = self.child.kill();
        let status = self.child.wait().expect("reaping the killed sync");
        (was_running, self.ended(status, sim))
    }

    fn ended(&self, status: ExitStatus, sim: &RunningSim) -> Finished {
        Finished {
            status,
            stdout: std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.stderr).unwrap_or_default(),
            requests: self.requests(sim),
            elapsed: self.started.elapsed(),
        }
    }
}

/// `confluence-connector jobs --json` for `data_dir`, newest first.
pub fn jobs(data_dir: &Path) -> Vec<Value> {
    let out = crate::run(data_dir, &["jobs", "--json", "--limit", "1000"], &[]);
    assert!(
        out.status.success(),
        "jobs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    crate::json_of(&out).as_array().cloned().unwrap_or_default()
}

/// One line per job, for messages.
pub fn describe_jobs(jobs: &[Value]) -> String {
    jobs.iter()
        .map(|j| {
            format!(
                "{} {} {} requests={} errors={}",
                j["id"].as_str().unwrap_or("?"),
                j["status"].as_str().unwrap_or("?"),
                j["started_at"].as_str().unwrap_or("?"),
                j["requests"],
                j["errors"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// Every file left under `data_dir/work`, with its size.
pub fn work_leftovers(data_dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                let len = entry.metadata().map(|m| m.len()).unwrap_or_default();
                out.push(format!("{} ({len} bytes)", path.display()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&data_dir.join("work"), &mut out);
    out.sort();
    out
}

/// Every document of the local index: id -> source. Also fails on an id held twice.
pub async fn indexed(data_dir: &Path) -> BTreeMap<String, Value> {
    let path = connector::target::local_index_path(data_dir, INDEX);
    if !path.exists() {
        return BTreeMap::new();
    }
    let index = LocalIndex::open(&path).expect("opening the local index");
    index.refresh().await.unwrap();
    let total = index.count().await.unwrap() as usize;
    let page = index
        .search(&SearchRequest {
            size: total.max(1),
            ..SearchRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total as usize, total, "search total vs count");
    let mut out = BTreeMap::new();
    let mut twice = Vec::new();
    for hit in page.hits {
        if let Some(old) = out.insert(hit.id.clone(), hit.source) {
            twice.push((hit.id, old));
        }
    }
    assert!(twice.is_empty(), "ids indexed more than once: {twice:?}");
    assert_eq!(out.len(), total, "count vs distinct ids");
    out
}

/// What differs between the index and the truth; empty when they agree on ids, types, titles
/// and spaces.
pub fn differences(index: &BTreeMap<String, Value>, truth: &[TruthDoc]) -> Vec<String> {
    let want: BTreeMap<&str, &TruthDoc> = truth.iter().map(|t| (t.id.as_str(), t)).collect();
    let got: BTreeSet<&str> = index.keys().map(String::as_str).collect();
    let mut out = Vec::new();
    for (id, t) in &want {
        if !got.contains(id) {
            out.push(format!("missing {} {id} {:?}", t.r#type, t.title));
        }
    }
    for id in &got {
        if want.contains_key(id) {
            continue;
        }
        let doc = &index[*id];
        let kind = doc["type"].as_str().unwrap_or("?");
        let orphan = if matches!(kind, "comment" | "attachment") {
            " (orphaned: its container is gone)"
        } else {
            ""
        };
        out.push(format!(
            "unexpected {kind} {id} {:?}{orphan}",
            doc["title"].as_str().unwrap_or_default()
        ));
    }
    for (id, t) in &want {
        let Some(doc) = index.get(*id) else { continue };
        for (field, value) in [
            ("type", &t.r#type),
            ("title", &t.title),
            ("space_key", &t.space_key),
        ] {
            if doc[field] != value.as_str() {
                out.push(format!("{id}: {field} {} instead of {value:?}", doc[field]));
            }
        }
    }
    out
}

/// Panics unless the index of `data_dir` equals the simulator's current truth.
pub async fn assert_index_is_truth(data_dir: &Path, sim: &RunningSim, what: &str) {
    let truth = sim.truth();
    let index = indexed(data_dir).await;
    let diff = differences(&index, &truth);
    assert!(
        diff.is_empty(),
        "{what}: the index ({} docs) differs from the truth ({} docs):\n  {}",
        index.len(),
        truth.len(),
        diff.join("\n  ")
    );
}

/// The pages of `truth` with at least one comment and one attachment.
pub fn pages_with_children(truth: &[TruthDoc]) -> Vec<TruthDoc> {
    let has = |page: &TruthDoc, ty: &str| {
        truth
            .iter()
            .any(|d| d.r#type == ty && d.parent_id.as_deref() == Some(page.id.as_str()))
    };
    truth
        .iter()
        .filter(|d| d.r#type == "page" && has(d, "comment") && has(d, "attachment"))
        .cloned()
        .collect()
}

/// The ids of `page` and of the comments and attachments it holds.
pub fn page_and_children(truth: &[TruthDoc], page: &str) -> BTreeSet<String> {
    truth
        .iter()
        .filter(|d| {
            d.id == page
                || (matches!(d.r#type.as_str(), "comment" | "attachment")
                    && d.parent_id.as_deref() == Some(page))
        })
        .map(|d| d.id.clone())
        .collect()
}
