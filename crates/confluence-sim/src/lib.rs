//! A Confluence simulator: Cloud, Server and Data Center REST shapes over one deterministic
//! site.
//!
//! Confluence cannot run here, so this crate is how the connector meets Confluence in tests,
//! benchmarks and the demo. It behaves as Confluence does (see `confluence-api.md`): short
//! pages, silent caps, cursor-only Cloud search, relative `_links`, Java exception messages,
//! per-flavor identities and auth failures. A site is generated from a seed and a size; bodies
//! and attachment bytes are generated on demand, so 100 000 documents fit in tens of MiB.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use confluence_sim::{SimOptions, Flavor, SiteSize, start};
//! let sim = start(SimOptions { flavor: Flavor::Server, size: SiteSize::Small, ..SimOptions::default() }).await?;
//! println!("{} {:?}", sim.base_url(), sim.credentials());
//! let docs = sim.truth(); // what a complete sync must produce, with readers
//! sim.admin().delete_content(&docs[1].id)?;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Main types: [`SimOptions`] (what to start), [`RunningSim`] (a server in this process),
//! [`Admin`] (mutations and faults between syncs), [`TruthDoc`] (the ground truth), and
//! [`cql::parse`] (the CQL validator the search routes use).

#![warn(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod admin;
mod api;
mod bomb;
pub mod cql;
mod files;
mod generate;
mod http;
mod model;
mod options;
mod render;
mod rng;
mod text;
mod time;
mod truth;

pub use admin::{Admin, AdminError};
pub use options::{
    Credentials, DcAuth, FaultPlan, Flavor, LargeFiles, Latency, ParseError, Quirks, SimOptions,
    SiteSize, parse_duration,
};
pub use truth::TruthDoc;

pub use http::EndpointCount;
use http::{FaultState, Shared};
use model::CRAWLER;

/// A simulator serving in this process. Dropping it without [`RunningSim::shutdown`] leaves
/// the server running until the runtime stops.
pub struct RunningSim {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Generates the site and starts serving it on 127.0.0.1 (a free port unless one is given).
/// Must be called inside a tokio runtime.
pub async fn start(opts: SimOptions) -> anyhow::Result<RunningSim> {
    let default_tz =
        parse_time_zone(&opts.time_zone).map_err(|e| anyhow::anyhow!("option `time_zone`: {e}"))?;
    let (listener, addr) = http::bind(opts.port).await?;
    let flavor = opts.flavor;
    let size = opts.size;
    let seed = opts.seed;
    let large_files = opts.large_files;
    let mut site = tokio::task::spawn_blocking(move || {
        generate::generate_with(flavor, size, seed, large_files)
    })
    .await?;
    site.default_tz = default_tz;
    let opts_search_lag = opts.search_lag_ms;
    let shared = Arc::new(Shared {
        faults: Mutex::new(FaultState {
            plan: opts.faults.clone(),
            latency: opts.latency,
            rules: Vec::new(),
            burst_left: 0,
            burst_pos: 0,
            tokens: f64::from(opts.faults.rps.unwrap_or(0)),
            last_refill: Instant::now(),
        }),
        quirks: RwLock::new(opts.quirks.clone()),
        opts,
        site: RwLock::new(site),
        port: addr.port(),
        requests: AtomicU64::new(0),
        hooks: Mutex::new(Vec::new()),
        search_lag_ms: AtomicU64::new(opts_search_lag),
        endpoints: Mutex::new(std::collections::BTreeMap::new()),
    });
    if shared.opts.bomb_attachments {
        let first_page = {
            let site = shared.site.read().unwrap_or_else(|e| e.into_inner());
            (0..site.contents.len() as u32)
                .find(|&i| {
                    site.c(i).kind == model::Kind::Page
                        && site.c(i).live()
                        && site.can_read(Some(CRAWLER), i)
                })
                .map(|i| site.id_str(i))
        };
        if let Some(page) = first_page {
            Admin {
                shared: shared.clone(),
            }
            .add_bomb_attachments(&page)
            .map_err(|e| anyhow::anyhow!("adding the bomb attachments: {e}"))?;
        }
    }
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(http::serve(listener, shared.clone(), rx));
    tracing::info!(port = addr.port(), flavor = %flavor, "confluence simulator listening");
    Ok(RunningSim { shared, stop, task })
}

/// Parses an IANA time zone name (`UTC`, `Asia/Kolkata`, `America/New_York`).
pub(crate) fn parse_time_zone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        format!("unknown time zone `{name}` (expected an IANA name such as `Europe/Berlin`)")
    })
}

pub(crate) fn credentials_of(shared: &Shared) -> Credentials {
    let site = shared.site.read().unwrap_or_else(|e| e.into_inner());
    let u = &site.users[CRAWLER as usize];
    match shared.opts.flavor {
        Flavor::Cloud => Credentials {
            email: Some(u.email.clone()),
            api_token: Some(u.secret.clone()),
            ..Credentials::default()
        },
        f if api::uses_pat(f, shared.opts.data_center_auth) => Credentials {
            personal_access_token: Some(api::pat_for(site.seed, &u.username)),
            ..Credentials::default()
        },
        _ => Credentials {
            username: Some(u.username.clone()),
            password: Some(u.secret.clone()),
            ..Credentials::default()
        },
    }
}

pub(crate) fn base_url_of(shared: &Shared) -> String {
    if shared.opts.flavor == Flavor::Cloud {
        shared.host()
    } else {
        shared.base()
    }
}

/// The JSON object the binary prints first: `base_url`, `flavor`, the credentials, and the
/// API root for convenience.
pub(crate) fn info_json(shared: &Shared) -> Value {
    let mut v = json!({
        "base_url": base_url_of(shared),
        "flavor": shared.opts.flavor.as_str(),
        "api_base": format!("{}/rest/api", shared.base()),
    });
    if let (Value::Object(m), Ok(Value::Object(c))) =
        (&mut v, serde_json::to_value(credentials_of(shared)))
    {
        m.extend(c);
    }
    v
}

impl RunningSim {
    /// The URL an admin types as "Confluence URL": Cloud `http://127.0.0.1:PORT` (the API is
    /// under `/wiki/rest/api`), Server/DC `http://127.0.0.1:PORT` plus the context path.
    pub fn base_url(&self) -> String {
        base_url_of(&self.shared)
    }

    /// The port the simulator listens on.
    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// The flavor being served.
    pub fn flavor(&self) -> Flavor {
        self.shared.opts.flavor
    }

    /// The crawler account's credentials, shaped for the flavor.
    pub fn credentials(&self) -> Credentials {
        credentials_of(&self.shared)
    }

    /// Credentials of any other account (by account id, user name or e-mail), for tests of
    /// what another user sees. Data Center returns a PAT when the simulator uses PATs.
    pub fn user_credentials(&self, user: &str) -> Option<Credentials> {
        let site = self.shared.site.read().unwrap_or_else(|e| e.into_inner());
        let u = site
            .users
            .iter()
            .find(|u| u.account_id == user || u.username == user || u.email == user)?;
        Some(match self.shared.opts.flavor {
            Flavor::Cloud => Credentials {
                email: Some(u.email.clone()),
                api_token: Some(u.secret.clone()),
                ..Credentials::default()
            },
            f if api::uses_pat(f, self.shared.opts.data_center_auth) => Credentials {
                personal_access_token: Some(api::pat_for(site.seed, &u.username)),
                ..Credentials::default()
            },
            _ => Credentials {
                username: Some(u.username.clone()),
                password: Some(u.secret.clone()),
                ..Credentials::default()
            },
        })
    }

    /// The JSON object the binary prints on its first line.
    pub fn info(&self) -> Value {
        info_json(&self.shared)
    }

    /// The ground truth of the current state (after admin mutations).
    ///
    /// For very large sites prefer [`RunningSim::truth_for_each`], which does not hold every
    /// reader list at once.
    pub fn truth(&self) -> Vec<TruthDoc> {
        let mut out = Vec::new();
        self.truth_for_each(|d| out.push(d));
        out
    }

    /// Streams the ground truth of the current state, one document at a time.
    pub fn truth_for_each(&self, f: impl FnMut(TruthDoc)) {
        let site = self.shared.site.read().unwrap_or_else(|e| e.into_inner());
        truth::for_each(&site, f);
    }

    /// How many documents the ground truth holds, without building it.
    pub fn document_count(&self) -> usize {
        let site = self.shared.site.read().unwrap_or_else(|e| e.into_inner());
        truth::count(&site)
    }

    /// Mutations and fault control.
    pub fn admin(&self) -> Admin {
        Admin {
            shared: self.shared.clone(),
        }
    }

    /// Confluence requests served so far (admin routes are not counted).
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Approximate heap bytes held by the site model.
    pub fn model_bytes(&self) -> usize {
        self.shared
            .site
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .approx_heap_bytes()
    }

    /// Stops accepting connections, lets open ones finish (up to 2 s), and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Generates a site without serving it and streams its ground truth (used by `truth`).
pub fn truth_of(flavor: Flavor, size: SiteSize, seed: u64, f: impl FnMut(TruthDoc)) {
    let site = generate::generate(flavor, size, seed);
    truth::for_each(&site, f);
}
