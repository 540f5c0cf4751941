//! Peak memory of the `confluence-connector` binary during a full sync, side by side in one run:
//! the simulator serves from this process, the sync runs in a child process of its own (the
//! real CLI). Reported: the child's CPU time per 1,000 documents (the simulator's is not in
//! it), its peak resident set (`VmHWM`, read every 20 ms until it exits) and the high-water mark
//! at each quarter of the run (flat means bounded).
//!
//! ```text
//! cargo bench -p confluence-connector-cli --bench memory [-- SCENARIO[,SCENARIO] [FILES]]
//! ```
//!
//! Scenarios: `25k`, `50k`, `100k` (a Cloud site of about that many documents, ordinary
//! attachments, labels and document-level security on, no latency) and `files` (a Server site
//! whose every attachment is a 1-25 MiB HTML, PDF or DOCX file, FILES of them, default 600,
//! with the download cap at 32 MiB and 50 downloads in flight). Default: all four. Each
//! scenario writes to the local index; with `SEARCH_URL` set (see
//! `tests/search-node.sh`), each runs again into that node. `MEMORY_BENCH_WRAPPER` runs the
//! sync under a profiler, e.g. `heaptrack -o /tmp/sync`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use confluence_sim::{Flavor, LargeFiles, SimOptions, SiteSize};
use connector::config::{ElasticsearchTarget, Target, connector_json};
use connector_sandbox::Sandbox;

const MIB: f64 = 1024.0 * 1024.0;

struct Scenario {
    name: String,
    options: SimOptions,
    /// `max_download_bytes` for the sync (the default otherwise).
    download_cap: Option<u64>,
}

fn scenario(name: &str, files: usize) -> Scenario {
    let cloud = |spaces| SiteSize::Custom {
        spaces,
        pages_per_space: 760,
        blogposts_per_space: 100,
        attachments_per_page: 0.5,
        comments_per_page: 0.5,
        users: 1000,
        groups: 30,
    };
    let options = |flavor, size, large_files| SimOptions {
        flavor,
        size,
        seed: 1,
        large_files,
        ..SimOptions::default()
    };
    match name {
        "25k" => Scenario {
            name: name.into(),
            options: options(Flavor::Cloud, cloud(13), None),
            download_cap: None,
        },
        "50k" => Scenario {
            name: name.into(),
            options: options(Flavor::Cloud, cloud(27), None),
            download_cap: None,
        },
        "100k" => Scenario {
            name: name.into(),
            options: options(Flavor::Cloud, cloud(53), None),
            download_cap: None,
        },
        "files" => {
            // Two files a page, one file over 10 MiB on top.
            let pages = (files / 2 / 4).max(1);
            Scenario {
                name: format!("{files} files of 1-25 MiB"),
                options: options(
                    Flavor::Server,
                    SiteSize::Custom {
                        spaces: 4,
                        pages_per_space: pages,
                        blogposts_per_space: 0,
                        attachments_per_page: 2.0,
                        comments_per_page: 0.0,
                        users: 30,
                        groups: 4,
                    },
                    Some(LargeFiles {
                        min_bytes: 1024 * 1024,
                        max_bytes: 25 * 1024 * 1024,
                    }),
                ),
                download_cap: Some(32 * 1024 * 1024),
            }
        }
        other => panic!("unknown scenario `{other}` (25k, 50k, 100k, files)"),
    }
}

/// What one sync in a child process did.
struct Measured {
    documents: u64,
    status: String,
    wall: f64,
    /// Peak resident set, in bytes, from the kernel.
    peak: u64,
    /// The high-water mark at a quarter, a half and three quarters of the run.
    quarters: [u64; 3],
    /// CPU seconds (user and system) the sync process used, at its last reading.
    cpu: f64,
}

fn main() {
    // `cargo bench` passes `--bench`; the rest are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let names = args
        .first()
        .cloned()
        .unwrap_or_else(|| "25k,50k,100k,files".into());
    let files: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(600);
    let search_node = std::env::var("SEARCH_URL").ok();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    println!(
        "\n{:<24} {:<12} {:>9} {:>8} {:>12} {:>10} {:>8} {:>8} {:>8} {:>10}",
        "site",
        "target",
        "documents",
        "wall s",
        "CPU s/1k doc",
        "peak MiB",
        "at 1/4",
        "at 1/2",
        "at 3/4",
        "status"
    );
    for name in names.split(',') {
        let scenario = scenario(name.trim(), files);
        let sandbox = runtime
            .block_on(Sandbox::start(scenario.options.clone()))
            .expect("simulator");
        let mut targets = vec![("local index", None)];
        if let Some(url) = &search_node {
            targets.push(("search node", Some(url.clone())));
        }
        for (target, url) in targets {
            let measured = sync_in_child(&sandbox, &scenario, url.as_deref());
            let mib = |b: u64| b as f64 / MIB;
            println!(
                "{:<24} {:<12} {:>9} {:>8.1} {:>12.3} {:>10.1} {:>8.1} {:>8.1} {:>8.1} {:>10}",
                scenario.name,
                target,
                measured.documents,
                measured.wall,
                measured.cpu * 1000.0 / measured.documents.max(1) as f64,
                mib(measured.peak),
                mib(measured.quarters[0]),
                mib(measured.quarters[1]),
                mib(measured.quarters[2]),
                measured.status,
            );
        }
        runtime.block_on(sandbox.shutdown());
    }
}

/// Runs `confluence-connector sync` against the sandbox in a child process and measures it.
fn sync_in_child(sandbox: &Sandbox, scenario: &Scenario, search_node: Option<&str>) -> Measured {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = sandbox.config.clone();
    config.use_document_level_security = true;
    config.concurrent_downloads = 50;
    if let Some(cap) = scenario.download_cap {
        config.http.max_download_bytes = cap;
    }
    let index = format!("memory-bench-{}", std::process::id());
    config.target = match search_node {
        Some(url) => Target::Elasticsearch(ElasticsearchTarget {
            url: url.to_owned(),
            index_name: index.clone(),
            ..ElasticsearchTarget::default()
        }),
        None => Target::Local {
            index_name: index.clone(),
        },
    };
    let path = dir.path().join("connector.json");
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&connector_json::export(&config)).expect("json"),
    )
    .expect("config");
    let secrets = &sandbox.secrets;
    let binary = env!("CARGO_BIN_EXE_confluence-connector");
    // A profiler to run the sync under, e.g. `heaptrack -o /tmp/sync` (its own memory counts).
    let wrapper = std::env::var("MEMORY_BENCH_WRAPPER").unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(words).arg(binary);
            command
        }
        None => Command::new(binary),
    };
    command
        .args(["sync", "--json", "--config"])
        .arg(&path)
        .env("CONFLUENCE_CONNECTOR_DATA_DIR", dir.path().join("data"))
        .env_remove("CONFLUENCE_CONNECTOR_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for field in secrets.fields() {
        command.env(field.env_var(), secrets.get(field).unwrap_or_default());
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("running confluence-connector");
    let pid = child.id();
    // The high-water mark is read until the process ends; its last reading is the peak (the
    // last 20 ms of a run, after the summary is printed, allocate nothing that matters).
    let mut samples: Vec<(f64, u64)> = Vec::new();
    let mut cpu = 0.0;
    let status = loop {
        if let Some(hwm) = high_water_mark(pid) {
            samples.push((started.elapsed().as_secs_f64(), hwm));
        }
        cpu = cpu_seconds(pid).unwrap_or(cpu);
        if let Some(status) = child.try_wait().expect("waiting for the sync") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let peak = samples.last().map_or(0, |(_, hwm)| *hwm);
    let wall = started.elapsed().as_secs_f64();
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout {
        std::io::Read::read_to_string(&mut out, &mut stdout).ok();
    }
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_default();
    let at = |share: f64| {
        samples
            .iter()
            .take_while(|(t, _)| *t <= wall * share)
            .map(|(_, hwm)| *hwm)
            .max()
            .unwrap_or(0)
    };
    Measured {
        documents: summary["indexed_document_count"].as_u64().unwrap_or(0),
        status: summary["status"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("exit {status}")),
        wall,
        peak,
        quarters: [at(0.25), at(0.5), at(0.75)],
        cpu,
    }
}

/// User and system CPU seconds of a process (Linux `/proc`, 100 ticks a second).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat")).ok()?;
    // After the command name: state is field 3 of stat(5), utime 14 and stime 15.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// `VmHWM` of a process, in bytes (Linux `/proc`).
fn high_water_mark(pid: u32) -> Option<u64> {
    let status =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
