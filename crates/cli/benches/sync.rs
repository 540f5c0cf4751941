//! The speed and memory of a full sync, side by side in one run: the simulator serves from this
//! process, every sync runs the real `confluence-connector sync --json` in a process of its own,
//! so CPU time and memory are the connector's alone.
//!
//! ```text
//! cargo bench -p confluence-connector-cli --bench sync [-- SECTION[,SECTION]]
//! ```
//!
//! Sections (default: all three, in this order):
//! - `requests`: the medium Cloud site (labels and document-level security on) at
//!   `BENCH_LATENCY_MS` (50) per request, a fresh full sync at each concurrency of
//!   `BENCH_CONCURRENCY` (`4,16,32,64`): requests per document (as the simulator counts them, a
//!   download redirect twice) against the minimum ARCHITECTURE.md's request budget gives for
//!   this site, and the wall time against the latency bound (API requests x latency /
//!   concurrency, or downloads x latency / 50 when that is more).
//! - `cpu`: the same site with no latency at concurrency 16, `BENCH_REPEAT` (3) runs:
//!   documents per second and CPU seconds (user and system) per 1,000 documents.
//! - `memory`: peak resident set (`VmHWM`, read every 20 ms) of 25k- and 100k-document Cloud
//!   sites and of a Server site whose every attachment is a 1-25 MiB HTML, PDF or DOCX file
//!   (`BENCH_FILES`, 600, 50 downloads in flight, a 32 MiB download cap), with the high-water
//!   mark at each quarter of the run (flat means bounded); `BENCH_SITES` (`25k,100k,files`)
//!   chooses among them.
//!
//! Every row writes to a fresh local index; with `SEARCH_URL` set (see `tests/search-node.sh`)
//! it runs again into that search node. `BENCH_BASELINE=/path/to/confluence-connector` runs
//! every row with that binary too (an older build), alternating with this one, and prints the
//! ratio. `BENCH_WRAPPER` runs each sync under a profiler, e.g. `heaptrack -o /tmp/sync`;
//! `BENCH_STDERR=1` shows the syncs' own output, with `BENCH_LOG` as their `RUST_LOG`. A sync that does not complete prints its
//! summary, and its row says so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use confluence_sim::{Flavor, LargeFiles, Latency, SimOptions, SiteSize};
use connector::config::{ConnectorConfig, ElasticsearchTarget, Target, connector_json};
use connector_sandbox::Sandbox;

const MIB: f64 = 1024.0 * 1024.0;

/// The simulator serves from this process on the cores the sync runs on: the allocator the
/// binaries use keeps its share of the CPU smaller (the system allocator's took a tenth of all
/// samples in `perf`).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// `concurrent_downloads` in every run (the reference's default).
const DOWNLOADS: u32 = 50;

/// A configuration of one sync: the site's own with these changes.
#[derive(Clone, Copy)]
struct Settings {
    concurrency: u64,
    download_cap: Option<u64>,
}

/// A binary to run and its name in the tables.
struct Build {
    name: &'static str,
    path: PathBuf,
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
    /// Requests and downloads (with their redirects) the simulator served.
    requests: u64,
    downloads: u64,
    groups: u64,
    users: u64,
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; the rest are ours.
    let sections = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_else(|| "requests,cpu,memory".into());
    let mut builds = vec![Build {
        name: "this build",
        path: PathBuf::from(env!("CARGO_BIN_EXE_confluence-connector")),
    }];
    if let Ok(path) = std::env::var("BENCH_BASELINE") {
        builds.insert(
            0,
            Build {
                name: "baseline",
                path: path.into(),
            },
        );
    }
    let mut targets = vec![("local index", None)];
    if let Ok(url) = std::env::var("SEARCH_URL") {
        targets.push(("search node", Some(url)));
    }
    let bench = Bench {
        runtime: tokio::runtime::Runtime::new().expect("runtime"),
        builds,
        targets,
    };
    for section in sections.split(',') {
        match section.trim() {
            "requests" => bench.requests(),
            "cpu" => bench.cpu(),
            "memory" => bench.memory(),
            other => panic!("unknown section `{other}` (requests, cpu, memory)"),
        }
    }
}

struct Bench {
    runtime: tokio::runtime::Runtime,
    builds: Vec<Build>,
    targets: Vec<(&'static str, Option<String>)>,
}

impl Bench {
    fn start(&self, options: SimOptions) -> Sandbox {
        self.runtime
            .block_on(Sandbox::start(options))
            .expect("simulator")
    }

    fn medium(&self) -> Sandbox {
        self.start(SimOptions {
            flavor: Flavor::Cloud,
            size: SiteSize::Medium,
            seed: 1,
            ..SimOptions::default()
        })
    }

    /// A sync of `sandbox` with `settings` by every build into every target, one after the
    /// other, each handed to `report`.
    fn each(
        &self,
        sandbox: &Sandbox,
        settings: Settings,
        mut report: impl FnMut(&Build, &'static str, Measured),
    ) {
        for (target, url) in &self.targets {
            for build in &self.builds {
                report(
                    build,
                    target,
                    sync_in_child(build, sandbox, settings, url.as_deref()),
                );
            }
        }
    }

    fn requests(&self) {
        let latency_ms: u64 = env("BENCH_LATENCY_MS", 50);
        let levels: Vec<u64> = std::env::var("BENCH_CONCURRENCY")
            .unwrap_or_else(|_| "4,16,32,64".into())
            .split(',')
            .filter_map(|c| c.trim().parse().ok())
            .collect();
        let sandbox = self.medium();
        let budget = Budget::of(&sandbox);
        sandbox
            .sim
            .admin()
            .set_latency(Some(Latency::Fixed(Duration::from_millis(latency_ms))));
        println!(
            "\nRequests and the latency bound: Cloud medium site, {latency_ms} ms per request, \
             labels and document-level security on"
        );
        println!(
            "{:<11} {:<12} {:>11} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>8} {:>7}",
            "build",
            "target",
            "concurrency",
            "documents",
            "requests",
            "req/doc",
            "budget/doc",
            "wall s",
            "bound s",
            "bound %",
            "docs/s"
        );
        for concurrency in levels {
            let settings = Settings {
                concurrency,
                download_cap: None,
            };
            self.each(&sandbox, settings, |build, target, m| {
                let latency = latency_ms as f64 / 1000.0;
                let bound = ((m.requests - m.downloads) as f64 * latency / concurrency as f64)
                    .max(m.downloads as f64 * latency / DOWNLOADS as f64);
                let docs = m.documents.max(1) as f64;
                println!(
                    "{:<11} {:<12} {:>11} {:>9} {:>9} {:>8.2} {:>10.2} {:>9.2} {:>9.2} {:>7.0}% {:>7.0}{}",
                    build.name,
                    target,
                    concurrency,
                    m.documents,
                    m.requests,
                    m.requests as f64 / docs,
                    budget.requests(&m) as f64 / docs,
                    m.wall,
                    bound,
                    100.0 * bound / m.wall,
                    docs / m.wall,
                    status_note(&m),
                );
            });
        }
        println!("budget: {}", budget.describe());
        self.runtime.block_on(sandbox.shutdown());
    }

    fn cpu(&self) {
        let repeat: usize = env("BENCH_REPEAT", 3);
        let sandbox = self.medium();
        println!(
            "\nCPU with no latency: Cloud medium site, concurrency 16, labels and \
             document-level security on, {repeat} runs each"
        );
        println!(
            "{:<11} {:<12} {:>9} {:>9} {:>8} {:>12}",
            "build", "target", "documents", "wall s", "docs/s", "CPU s/1k doc"
        );
        let mut per_doc: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
        for _ in 0..repeat {
            let settings = Settings {
                concurrency: 16,
                download_cap: None,
            };
            self.each(&sandbox, settings, |build, target, m| {
                let docs = m.documents.max(1) as f64;
                let cpu = m.cpu * 1000.0 / docs;
                per_doc.entry((target, build.name)).or_default().push(cpu);
                println!(
                    "{:<11} {:<12} {:>9} {:>9.2} {:>8.0} {:>12.3}{}",
                    build.name,
                    target,
                    m.documents,
                    m.wall,
                    docs / m.wall,
                    cpu,
                    status_note(&m),
                );
            });
        }
        for ((target, build), runs) in &per_doc {
            println!(
                "median CPU s/1k doc, {build}, {target}: {:.3}",
                median(runs)
            );
        }
        if let Some(baseline) = self.builds.iter().find(|b| b.name == "baseline") {
            for (target, _) in &self.targets {
                let base = median(&per_doc[&(*target, baseline.name)]);
                let now = median(&per_doc[&(*target, "this build")]);
                println!(
                    "CPU per document, {target}: this build {:+.0}% against the baseline",
                    (now / base - 1.0) * 100.0
                );
            }
        }
        self.runtime.block_on(sandbox.shutdown());
    }

    fn memory(&self) {
        let files: usize = env("BENCH_FILES", 600);
        println!(
            "\nPeak memory: full sync, labels and document-level security on, no latency, \
             {DOWNLOADS} downloads in flight"
        );
        println!(
            "{:<24} {:<11} {:<12} {:>9} {:>8} {:>12} {:>10} {:>8} {:>8} {:>8}",
            "site",
            "build",
            "target",
            "documents",
            "wall s",
            "CPU s/1k doc",
            "peak MiB",
            "at 1/4",
            "at 1/2",
            "at 3/4"
        );
        let sites = std::env::var("BENCH_SITES").unwrap_or_else(|_| "25k,100k,files".into());
        for name in sites.split(',').map(str::trim) {
            let scenario = scenario(name, files);
            let sandbox = self.start(scenario.options.clone());
            let settings = Settings {
                concurrency: 16,
                download_cap: scenario.download_cap,
            };
            self.each(&sandbox, settings, |build, target, m| {
                let mib = |b: u64| b as f64 / MIB;
                println!(
                    "{:<24} {:<11} {:<12} {:>9} {:>8.1} {:>12.3} {:>10.1} {:>8.1} {:>8.1} {:>8.1}{}",
                    scenario.name,
                    build.name,
                    target,
                    m.documents,
                    m.wall,
                    m.cpu * 1000.0 / m.documents.max(1) as f64,
                    mib(m.peak),
                    mib(m.quarters[0]),
                    mib(m.quarters[1]),
                    mib(m.quarters[2]),
                    status_note(&m),
                );
            });
            self.runtime.block_on(sandbox.shutdown());
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// Nothing for a completed sync, else its status: a bench of a failed sync measures nothing.
fn status_note(m: &Measured) -> String {
    if m.status == "completed" {
        String::new()
    } else {
        format!("  ({})", m.status)
    }
}

/// The fewest requests a complete crawl of the site needs by the request budget of
/// ARCHITECTURE.md (Cloud through REST v2, labels and document-level security on): the
/// identity check, the space listing and the v2 probe; per space its pages without bodies,
/// the v1 restriction listing of its pages and blog posts, its content labels, and its pages
/// and blog posts with their bodies; per label used in the spaces the pages and the blog posts
/// carrying it (or, when that is more, per page or blog post its labels);
/// site-wide the attachments and the footer and inline comments (250 rows a request in v2,
/// 200 in the restriction listing), and v1's search for the creators of those edited since
/// (100 ids a request); two requests per download. Which files are downloaded
/// depends on the caps and extension list, so the downloads are the ones the simulator served,
/// and so are the group member listings (one per group an access computation needs) and the
/// `users-bulk` lookups (one per listing page that names people not met before).
struct Budget {
    fixed: u64,
    listings: u64,
    labels: u64,
    site_wide: u64,
    creators: u64,
}

impl Budget {
    fn of(sandbox: &Sandbox) -> Budget {
        let truth = sandbox.sim.truth();
        let mut per_space: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        let mut carriers: BTreeMap<(&str, &str, &str), u64> = BTreeMap::new();
        let mut spaces = BTreeSet::new();
        let (mut attachments, mut comments) = (0u64, 0u64);
        // Comments and attachments edited since their creation: v1 names their creators.
        let mut edited = (0u64, 0u64);
        for doc in &truth {
            match doc.r#type.as_str() {
                "space" => {
                    spaces.insert(doc.space_key.as_str());
                }
                "page" | "blogpost" => {
                    *per_space
                        .entry((doc.space_key.as_str(), doc.r#type.as_str()))
                        .or_default() += 1;
                    for label in &doc.labels {
                        *carriers
                            .entry((doc.space_key.as_str(), label.as_str(), doc.r#type.as_str()))
                            .or_default() += 1;
                    }
                }
                "attachment" => {
                    attachments += 1;
                    edited.0 += u64::from(doc.version > 1);
                }
                "comment" => {
                    comments += 1;
                    edited.1 += u64::from(doc.version > 1);
                }
                _ => {}
            }
        }
        let pages = |n: u64, per: u64| n.div_ceil(per).max(1);
        let count = |space: &str, kind: &str| per_space.get(&(space, kind)).copied().unwrap_or(0);
        let listings = spaces
            .iter()
            .map(|space| {
                let (p, b) = (count(space, "page"), count(space, "blogpost"));
                // Pages without bodies, restrictions, then pages and blog posts with bodies.
                pages(p, 250) + pages(p + b, 200) + pages(p, 250) + pages(b, 250)
            })
            .sum();
        // Per space its label listing, then two listings per label used in the spaces (one
        // covers up to 100 spaces), or one per page or blog post, whichever is fewer.
        let used: BTreeSet<&str> = carriers.keys().map(|(_, label, _)| *label).collect();
        let items: u64 = per_space.values().sum();
        let per_label = 2 * used.len() as u64 * (spaces.len() as u64).div_ceil(100);
        let labels = spaces.len() as u64 + per_label.min(items);
        Budget {
            fixed: 2 + (spaces.len() as u64).div_ceil(100),
            listings,
            labels,
            site_wide: pages(attachments, 250) + comments.div_ceil(250).max(2),
            creators: edited.0.div_ceil(100) + edited.1.div_ceil(100),
        }
    }

    /// With the downloads, group member listings and user lookups the simulator served.
    fn requests(&self, m: &Measured) -> u64 {
        self.fixed
            + self.listings
            + self.labels
            + self.site_wide
            + self.creators
            + m.groups
            + m.users
            + m.downloads
    }

    fn describe(&self) -> String {
        format!(
            "{} sign-in, spaces and probe + {} page, restriction and blog post listings + {} \
             label listings + {} site-wide attachment and comment listings + {} creator \
             searches + the group member listings, user lookups and downloads served",
            self.fixed, self.listings, self.labels, self.site_wide, self.creators
        )
    }
}

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
        "100k" => Scenario {
            name: name.into(),
            options: options(Flavor::Cloud, cloud(53), None),
            download_cap: None,
        },
        _ => {
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
    }
}

/// The sandbox's configuration with `settings`, document-level security on, into `search_node`
/// or a local index.
fn config(sandbox: &Sandbox, settings: Settings, search_node: Option<&str>) -> ConnectorConfig {
    let mut config = sandbox.config.clone();
    config.use_document_level_security = true;
    config.concurrent_downloads = DOWNLOADS;
    config.http.max_concurrent_requests = settings.concurrency;
    if let Some(cap) = settings.download_cap {
        config.http.max_download_bytes = cap;
    }
    // A fresh index for every run: a sync into an index that holds the documents already
    // writes nothing (and one of another site deletes).
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let index = format!("sync-bench-{}-{run}", std::process::id());
    config.target = match search_node {
        Some(url) => Target::Elasticsearch(ElasticsearchTarget {
            url: url.to_owned(),
            index_name: index,
            ..ElasticsearchTarget::default()
        }),
        None => Target::Local { index_name: index },
    };
    config
}

/// Runs `build`'s `confluence-connector sync` against the sandbox in a child process and
/// measures it.
fn sync_in_child(
    build: &Build,
    sandbox: &Sandbox,
    settings: Settings,
    search_node: Option<&str>,
) -> Measured {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("connector.json");
    let config = config(sandbox, settings, search_node);
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&connector_json::export(&config)).expect("json"),
    )
    .expect("config");
    // A profiler to run the sync under, e.g. `heaptrack -o /tmp/sync` (its own memory counts).
    let wrapper = std::env::var("BENCH_WRAPPER").unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(words).arg(&build.path);
            command
        }
        None => Command::new(&build.path),
    };
    command
        .args(["sync", "--json", "--config"])
        .arg(&path)
        .env("CONFLUENCE_CONNECTOR_DATA_DIR", dir.path().join("data"))
        .env_remove("CONFLUENCE_CONNECTOR_LOG")
        .env_remove("RUST_LOG")
        .envs(std::env::var_os("BENCH_LOG").map(|filter| ("RUST_LOG", filter)))
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("BENCH_STDERR").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    let secrets = &sandbox.secrets;
    for field in secrets.fields() {
        command.env(field.env_var(), secrets.get(field).unwrap_or_default());
    }
    if search_node.is_some() && std::env::var_os("ES_API_KEY").is_none() {
        // The test node runs without security and ignores the key; the configuration needs one.
        command.env("ES_API_KEY", "unused-by-an-open-node");
    }
    let admin = sandbox.sim.admin();
    admin.reset_request_counts();
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
    let wall = started.elapsed().as_secs_f64();
    let counts = admin.request_counts();
    if let (Some(url), Target::Elasticsearch(target)) = (search_node, &config.target) {
        // Best effort: the node's disk and heap are not the bench's to fill.
        let _ = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-X", "DELETE"])
            .arg(format!("{url}/{}", target.index_name))
            .status();
    }
    let peak = samples.last().map_or(0, |(_, hwm)| *hwm);
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout {
        std::io::Read::read_to_string(&mut out, &mut stdout).ok();
    }
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_default();
    if summary["status"] != "completed" {
        eprintln!("{}", stdout.trim());
    }
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
        requests: counts.values().map(|c| c.requests).sum(),
        downloads: counts
            .iter()
            .filter(|(endpoint, _)| is_download(endpoint))
            .map(|(_, c)| c.requests)
            .sum(),
        groups: counts
            .iter()
            .filter(|(endpoint, _)| endpoint.contains("/group/"))
            .map(|(_, c)| c.requests)
            .sum(),
        users: counts
            .iter()
            .filter(|(endpoint, _)| endpoint.contains("users-bulk"))
            .map(|(_, c)| c.requests)
            .sum(),
    }
}

/// Attachment files and their redirects: they go through `concurrent_downloads`.
fn is_download(endpoint: &str) -> bool {
    endpoint.contains("/download/") || endpoint.contains("/__media/")
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
