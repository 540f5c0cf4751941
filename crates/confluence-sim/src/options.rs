//! What a simulator is asked to be: flavor, size, seed, port, latency and faults.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

/// Which Confluence deployment the simulator imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// Confluence Cloud: `/wiki/rest/api`, account ids, cursor search, email + API token.
    Cloud,
    /// Confluence Server: `/rest/api` (optional context path), user names, Basic auth.
    Server,
    /// Confluence Data Center 9.x: as Server, plus personal access tokens and native
    /// space-permission reads.
    DataCenter,
}

impl Flavor {
    /// True for Server and Data Center, which share their REST shapes.
    pub fn is_server_like(self) -> bool {
        !matches!(self, Flavor::Cloud)
    }

    /// The name used on the command line and in [`FromStr`].
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Cloud => "cloud",
            Flavor::Server => "server",
            Flavor::DataCenter => "datacenter",
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An option value that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid {what} `{value}`: {reason}")]
pub struct ParseError {
    what: &'static str,
    value: String,
    reason: String,
}

impl ParseError {
    fn new(what: &'static str, value: &str, reason: impl Into<String>) -> Self {
        ParseError {
            what,
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

impl FromStr for Flavor {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cloud" => Ok(Flavor::Cloud),
            "server" => Ok(Flavor::Server),
            "datacenter" | "data-center" | "dc" => Ok(Flavor::DataCenter),
            _ => Err(ParseError::new(
                "flavor",
                s,
                "expected `cloud`, `server` or `datacenter`",
            )),
        }
    }
}

/// How large a site to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SiteSize {
    /// About 30 documents in 3 spaces: fast tests and the demo. No file over 10 MiB.
    Tiny,
    /// About 500 documents, with an archived space and one attachment over 10 MiB.
    Small,
    /// About 5 000 documents.
    Medium,
    /// About 50 000 documents.
    Large,
    /// Explicit counts.
    Custom {
        /// Global spaces (personal and archived ones are added on top when `spaces >= 3`).
        spaces: usize,
        /// Pages in each global space, homepage included.
        pages_per_space: usize,
        /// Blog posts in each global space.
        blogposts_per_space: usize,
        /// Average attachments per page or blog post.
        attachments_per_page: f32,
        /// Average comments per page or blog post.
        comments_per_page: f32,
        /// Users, the crawler's account included.
        users: usize,
        /// Groups beyond the built-in ones.
        groups: usize,
    },
}

/// The counts a [`SiteSize`] stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Counts {
    pub spaces: usize,
    pub pages_per_space: usize,
    pub blogposts_per_space: usize,
    pub attachments_per_page: f32,
    pub comments_per_page: f32,
    pub users: usize,
    pub groups: usize,
    /// Whether to add an archived space, a hidden space and one file over 10 MiB.
    pub extras: bool,
    /// Whether the tiny-site layout (one global space, one anonymous space, one personal) is used.
    pub tiny: bool,
}

impl SiteSize {
    pub(crate) fn counts(self) -> Counts {
        let c = |spaces, pages, blogs, att, com, users, groups| Counts {
            spaces,
            pages_per_space: pages,
            blogposts_per_space: blogs,
            attachments_per_page: att,
            comments_per_page: com,
            users,
            groups,
            extras: true,
            tiny: false,
        };
        match self {
            SiteSize::Tiny => Counts {
                extras: false,
                tiny: true,
                ..c(2, 7, 2, 0.4, 0.3, 8, 2)
            },
            SiteSize::Small => c(4, 32, 5, 0.5, 0.4, 30, 4),
            SiteSize::Medium => c(10, 170, 30, 0.5, 0.5, 200, 12),
            SiteSize::Large => c(25, 760, 100, 0.5, 0.5, 1000, 30),
            SiteSize::Custom {
                spaces,
                pages_per_space,
                blogposts_per_space,
                attachments_per_page,
                comments_per_page,
                users,
                groups,
            } => Counts {
                extras: spaces >= 3,
                ..c(
                    spaces.max(1),
                    pages_per_space.max(1),
                    blogposts_per_space,
                    attachments_per_page,
                    comments_per_page,
                    users.max(4),
                    groups,
                )
            },
        }
    }
}

impl FromStr for SiteSize {
    type Err = ParseError;
    /// `tiny`, `small`, `medium`, `large`, or explicit counts as
    /// `spaces=20,pages=4000,blogposts=500,attachments=1.0,comments=1.0,users=500,groups=20`
    /// (omitted keys take the `small` values).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "tiny" => return Ok(SiteSize::Tiny),
            "small" => return Ok(SiteSize::Small),
            "medium" => return Ok(SiteSize::Medium),
            "large" => return Ok(SiteSize::Large),
            _ => {}
        }
        let base = SiteSize::Small.counts();
        let (mut sp, mut pg, mut bl, mut at, mut co, mut us, mut gr) = (
            base.spaces,
            base.pages_per_space,
            base.blogposts_per_space,
            base.attachments_per_page,
            base.comments_per_page,
            base.users,
            base.groups,
        );
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| ParseError::new("size", s, "expected a name or key=value pairs"))?;
            let v = v.trim();
            let int = || {
                v.parse::<usize>()
                    .map_err(|e| ParseError::new("size", s, e.to_string()))
            };
            let float = || {
                v.parse::<f32>()
                    .map_err(|e| ParseError::new("size", s, e.to_string()))
            };
            match k.trim() {
                "spaces" => sp = int()?,
                "pages" | "pages_per_space" => pg = int()?,
                "blogposts" | "blogposts_per_space" => bl = int()?,
                "attachments" | "attachments_per_page" => at = float()?,
                "comments" | "comments_per_page" => co = float()?,
                "users" => us = int()?,
                "groups" => gr = int()?,
                other => return Err(ParseError::new("size", s, format!("unknown key `{other}`"))),
            }
        }
        Ok(SiteSize::Custom {
            spaces: sp,
            pages_per_space: pg,
            blogposts_per_space: bl,
            attachments_per_page: at,
            comments_per_page: co,
            users: us,
            groups: gr,
        })
    }
}

/// How Data Center callers authenticate (Server always uses Basic, Cloud email + token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DcAuth {
    /// `Authorization: Basic base64(username:password)`.
    #[default]
    Basic,
    /// `Authorization: Bearer <personal access token>`.
    Pat,
}

impl FromStr for DcAuth {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "basic" => Ok(DcAuth::Basic),
            "pat" | "personal_access_token" | "bearer" => Ok(DcAuth::Pat),
            _ => Err(ParseError::new(
                "Data Center auth",
                s,
                "expected `basic` or `pat`",
            )),
        }
    }
}

/// Latency added before each Confluence response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// The same delay every time.
    Fixed(Duration),
    /// A delay drawn (deterministically from the seed and request number) within bounds.
    Between(Duration, Duration),
}

/// Parses `50ms`, `2s`, `1.5s`, `250us` or a bare number of milliseconds.
pub fn parse_duration(s: &str) -> Result<Duration, ParseError> {
    let s = s.trim();
    let err = |r: &str| ParseError::new("duration", s, r.to_owned());
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "ms"),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| err("expected a number with ms, s or us"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(err("must be a non-negative number"));
    }
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" => v,
        "us" => v / 1_000_000.0,
        "m" | "min" => v * 60.0,
        _ => return Err(err("unknown unit; use ms, s or us")),
    };
    Ok(Duration::from_secs_f64(secs))
}

impl FromStr for Latency {
    type Err = ParseError;
    /// `50ms` (fixed) or `20ms..80ms` (random within bounds).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (parse_duration(a)?, parse_duration(b)?);
                if b < a {
                    return Err(ParseError::new(
                        "latency",
                        s,
                        "upper bound below lower bound",
                    ));
                }
                Ok(Latency::Between(a, b))
            }
            None => Ok(Latency::Fixed(parse_duration(s)?)),
        }
    }
}

/// Faults injected into Confluence routes (never into `/__sim` admin routes), decided
/// deterministically from the seed and the request's sequence number.
///
/// The command-line syntax ([`FromStr`]) is a comma-separated list of `key=value` items:
///
/// | item | meaning |
/// |---|---|
/// | `429=P` | answer 429 with probability `P` |
/// | `retry-after=S` / `retry-after=none` | `Retry-After` seconds on 429s, or no header (default 1) |
/// | `headers` | `X-RateLimit-*` headers on every response (and `X-RateLimit-NearLimit`) |
/// | `5xx=P` | start a burst of server errors with probability `P` |
/// | `burst=N` | length of a burst (default 3) |
/// | `statuses=500/502/503/504` | statuses used in turn within a burst |
/// | `reset=P` | close the connection without answering |
/// | `truncate=P` | send half the body, then close (the `Content-Length` promises all of it) |
/// | `slow=P`, `slow-delay=D` | send the body in small chunks with `D` between them (default 50ms) |
/// | `rps=N` | a requests-per-second budget; requests over it get 429 |
/// | `paths=A\|B` | apply the plan only to requests whose path contains `A` or `B` (e.g. `paths=/content/search\|/download/`); default: every request |
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    /// Probability of a 429.
    pub rate_limit: f64,
    /// `Retry-After` seconds on 429s; `None` leaves the header out.
    pub retry_after: Option<u64>,
    /// Whether every response carries `X-RateLimit-*` headers.
    pub rate_limit_headers: bool,
    /// Probability that a burst of server errors starts.
    pub error_rate: f64,
    /// Length of a burst of server errors.
    pub error_burst: u32,
    /// Statuses a burst cycles through.
    pub error_statuses: Vec<u16>,
    /// Probability of closing the connection without answering.
    pub reset: f64,
    /// Probability of a truncated body.
    pub truncate: f64,
    /// Probability of a slow body.
    pub slow: f64,
    /// Delay between the chunks of a slow body.
    pub slow_delay: Duration,
    /// Requests-per-second budget; requests beyond it get 429.
    pub rps: Option<u32>,
    /// Only requests whose path (or path and query) contains one of these are faulted; empty:
    /// every request. Lets a test fault listings or downloads alone.
    pub paths: Vec<String>,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan {
            rate_limit: 0.0,
            retry_after: Some(1),
            rate_limit_headers: false,
            error_rate: 0.0,
            error_burst: 3,
            error_statuses: vec![500, 502, 503, 504],
            reset: 0.0,
            truncate: 0.0,
            slow: 0.0,
            slow_delay: Duration::from_millis(50),
            rps: None,
            paths: Vec::new(),
        }
    }
}

impl FaultPlan {
    /// No faults at all.
    pub fn none() -> Self {
        FaultPlan::default()
    }

    /// True when the plan injects nothing.
    pub fn is_empty(&self) -> bool {
        self.rate_limit <= 0.0
            && self.error_rate <= 0.0
            && self.reset <= 0.0
            && self.truncate <= 0.0
            && self.slow <= 0.0
            && self.rps.is_none()
            && !self.rate_limit_headers
    }
}

impl FromStr for FaultPlan {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut plan = FaultPlan::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (k, v) = item.split_once('=').unwrap_or((item, ""));
            let prob = || -> Result<f64, ParseError> {
                let p: f64 = v
                    .parse()
                    .map_err(|_| ParseError::new("fault", item, "expected a probability"))?;
                if (0.0..=1.0).contains(&p) {
                    Ok(p)
                } else {
                    Err(ParseError::new(
                        "fault",
                        item,
                        "probability must be within 0..=1",
                    ))
                }
            };
            let int = || -> Result<u64, ParseError> {
                v.parse()
                    .map_err(|_| ParseError::new("fault", item, "expected an integer"))
            };
            match k {
                "429" => plan.rate_limit = prob()?,
                "retry-after" => {
                    plan.retry_after = if v == "none" { None } else { Some(int()?) };
                }
                "headers" => plan.rate_limit_headers = true,
                "5xx" => plan.error_rate = prob()?,
                "burst" => plan.error_burst = int()?.max(1) as u32,
                "statuses" => {
                    plan.error_statuses = v
                        .split('/')
                        .map(|x| x.parse::<u16>())
                        .collect::<Result<_, _>>()
                        .map_err(|_| ParseError::new("fault", item, "expected statuses a/b/c"))?;
                    if plan.error_statuses.is_empty() {
                        return Err(ParseError::new("fault", item, "no status given"));
                    }
                }
                "reset" => plan.reset = prob()?,
                "truncate" => plan.truncate = prob()?,
                "slow" => plan.slow = prob()?,
                "slow-delay" => plan.slow_delay = parse_duration(v)?,
                "rps" => plan.rps = Some(int()?.max(1) as u32),
                "paths" => {
                    plan.paths = v
                        .split('|')
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect()
                }
                _ => return Err(ParseError::new("fault", item, "unknown fault")),
            }
        }
        Ok(plan)
    }
}

/// "Sloppy server" behaviours: what real servers, older versions, plug-ins and proxies in
/// front of Confluence do that Confluence itself does not. All off by default; each can be
/// switched at start ([`SimOptions::quirks`]) or between syncs ([`crate::Admin::set_quirks`],
/// `POST /__sim/quirks {"spec": "..."}`).
///
/// "Content listings" are the offset or cursor collections of content: `content/search`,
/// `search`, `content`, `space/{key}/content[/{type}]`, `content/{id}/child/*`,
/// `content/{id}/descendant/*` and `content/{id}/label`.
///
/// The command-line syntax ([`FromStr`]) is a comma-separated list:
///
/// | item | meaning |
/// |---|---|
/// | `ignore-start` | content listings ignore `start` (and the Cloud `cursor`): every request gets the first page, with a `next` link |
/// | `omit-next` | no `_links.next` on any collection, even while more pages exist |
/// | `repeat-pages` | content listings serve every page twice (page 2 repeats page 1, page 4 repeats page 3, ...) |
/// | `shuffle-pages` | content listings are ordered differently on every request (pages overlap and miss items) |
/// | `trim-fields` | content objects lose optional fields: `space.key`, `version`, `_links.webui` |
/// | `html-login=PATH` | requests whose path contains `PATH` get a proxy's HTML login page with status 200 |
/// | `redirect=PATH` | requests whose path contains `PATH` get a 302 to the same URL on host `localhost` (another host name; the client drops its `Authorization`) |
/// | `missing-route=PATH` / `missing-status=404\|501` | requests whose path contains `PATH` get 404 (default) or 501, as from a server without that route |
/// | `forbidden=PATH` | requests whose path (or path and query) contains `PATH` get 403, as for an account without the right the route needs |
/// | `changing-results` | each content listing request past the first page first deletes the listing's first item and adds a new page to its space |
/// | `expired-credentials` | every presented credential is refused (an expired or revoked token or password) |
/// | `anonymous-fallback` | Server/DC: a refused credential is served as the anonymous user when a space allows anonymous access, with `X-Seraph-LoginReason: AUTHENTICATED_FAILED` |
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Quirks {
    /// Content listings ignore `start` (and the Cloud cursor).
    pub ignore_start: bool,
    /// No `_links.next` anywhere.
    pub omit_next: bool,
    /// Content listings serve every page twice.
    pub repeat_pages: bool,
    /// Content listings are ordered differently on every request.
    pub shuffle_pages: bool,
    /// Content objects lose `space.key`, `version` and `_links.webui`.
    pub trim_fields: bool,
    /// Paths (substring) answered with an HTML login page and status 200.
    pub html_login: Option<String>,
    /// Paths (substring) answered with a 302 to the same URL on host `localhost`.
    pub redirect_host: Option<String>,
    /// Paths (substring) the server does not offer.
    pub missing_route: Option<String>,
    /// The status of a missing route: 404 (default) or 501.
    pub missing_status: Option<u16>,
    /// Paths (substring) the crawler's account may not use: Confluence answers 403 (Cloud:
    /// "Current user not permitted to use Confluence"), as for an account without the right.
    pub forbidden_route: Option<String>,
    /// Content is added and removed while a listing is paged.
    pub changing_results: bool,
    /// Every presented credential is refused.
    pub expired_credentials: bool,
    /// Server/DC: refused credentials are served as anonymous when anonymous access is on.
    pub anonymous_fallback: bool,
}

impl Quirks {
    /// No quirk at all.
    pub fn none() -> Self {
        Quirks::default()
    }
}

impl FromStr for Quirks {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut q = Quirks::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (k, v) = item.split_once('=').unwrap_or((item, ""));
            let path = || -> Result<Option<String>, ParseError> {
                if v.is_empty() {
                    Err(ParseError::new("quirk", item, "expected a path substring"))
                } else {
                    Ok(Some(v.to_owned()))
                }
            };
            match k {
                "ignore-start" => q.ignore_start = true,
                "omit-next" => q.omit_next = true,
                "repeat-pages" => q.repeat_pages = true,
                "shuffle-pages" => q.shuffle_pages = true,
                "trim-fields" => q.trim_fields = true,
                "html-login" => q.html_login = path()?,
                "redirect" => q.redirect_host = path()?,
                "missing-route" => q.missing_route = path()?,
                "forbidden" => q.forbidden_route = path()?,
                "missing-status" => {
                    q.missing_status = Some(match v {
                        "404" => 404,
                        "501" => 501,
                        _ => return Err(ParseError::new("quirk", item, "expected 404 or 501")),
                    })
                }
                "changing-results" => q.changing_results = true,
                "expired-credentials" => q.expired_credentials = true,
                "anonymous-fallback" => q.anonymous_fallback = true,
                _ => return Err(ParseError::new("quirk", item, "unknown quirk")),
            }
        }
        Ok(q)
    }
}

/// Everything needed to start a simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Which deployment to imitate.
    pub flavor: Flavor,
    /// How large a site to generate.
    pub size: SiteSize,
    /// The seed every generated item derives from.
    pub seed: u64,
    /// The port to listen on (127.0.0.1); `None` picks a free one.
    pub port: Option<u16>,
    /// Server/DC only: a context path such as `/confluence`.
    pub context_path: Option<String>,
    /// Latency added to each Confluence response.
    pub latency: Option<Latency>,
    /// Faults injected into Confluence responses.
    pub faults: FaultPlan,
    /// How Data Center callers authenticate.
    pub data_center_auth: DcAuth,
    /// Server/DC: whether the Extender for Confluence app is installed (`/rest/extender/1.0`);
    /// when false its routes answer 404.
    pub extender: bool,
    /// How long new content stays invisible to CQL search (Confluence's index lags writes by
    /// about a minute); `None` indexes at once. Listings that do not search see it at once.
    /// Only creation is delayed; [`SimOptions::search_lag_ms`] delays every change.
    pub index_lag: Option<Duration>,
    /// Cloud only: print attachment `_links.download` in the API form
    /// (`/rest/api/content/{pageId}/child/attachment/{attId}/download`) instead of the classic
    /// `/download/attachments/...?version=..&modificationDate=..&cacheVersion=1&api=v2`.
    pub api_download_links: bool,
    /// Sloppy-server behaviours (all off by default).
    pub quirks: Quirks,
    /// Attach a decompression-bomb PDF and DOCX (see [`crate::Admin::add_bomb_attachments`])
    /// to the first page of the first space the crawler can read.
    pub bomb_attachments: bool,
    /// The site's default time zone (an IANA name such as `Asia/Kolkata`): users without a
    /// zone of their own ([`crate::Admin::set_user_time_zone`]) and anonymous callers read CQL
    /// date literals and date functions in it. Default `UTC`. An unknown name makes
    /// [`crate::start`] fail.
    pub time_zone: String,
    /// CONFCLOUD-73997 (meant for Cloud): milliseconds during which a change (creation, edit,
    /// re-upload, restore, move) stays invisible to CQL search (`/search`,
    /// `/content/search`); the item is absent from results until then, an edited one too.
    /// Listings that do not search see changes at once. 0 (default): no lag.
    pub search_lag_ms: u64,
    /// Make every generated attachment a large HTML, PDF or DOCX file with a size drawn
    /// evenly from this range (the one file over 10 MiB stays): a site for memory benchmarks.
    pub large_files: Option<LargeFiles>,
}

/// The size range of [`SimOptions::large_files`], in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LargeFiles {
    /// Smallest file.
    pub min_bytes: u64,
    /// Largest file.
    pub max_bytes: u64,
}

impl FromStr for LargeFiles {
    type Err = ParseError;
    /// `LO-HI` in MiB, e.g. `1-25`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| ParseError::new("large_files", s, why.to_owned());
        let (lo, hi) = s
            .split_once('-')
            .ok_or_else(|| bad("expected `LO-HI` in MiB, e.g. `1-25`"))?;
        let mib = |v: &str| {
            v.trim()
                .parse::<u64>()
                .map_err(|e| bad(&e.to_string()))
                .map(|v| v * 1024 * 1024)
        };
        let (min_bytes, max_bytes) = (mib(lo)?, mib(hi)?);
        if min_bytes == 0 || min_bytes > max_bytes {
            return Err(bad("expected 0 < LO <= HI"));
        }
        Ok(LargeFiles {
            min_bytes,
            max_bytes,
        })
    }
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            flavor: Flavor::Cloud,
            size: SiteSize::Tiny,
            seed: 7,
            port: None,
            context_path: None,
            latency: None,
            faults: FaultPlan::none(),
            data_center_auth: DcAuth::Basic,
            extender: true,
            index_lag: None,
            api_download_links: false,
            quirks: Quirks::none(),
            bomb_attachments: false,
            time_zone: "UTC".to_owned(),
            search_lag_ms: 0,
            large_files: None,
        }
    }
}

/// The credentials a crawler uses against a simulator, shaped per flavor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
pub struct Credentials {
    /// Server/DC Basic user name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub username: Option<String>,
    /// Server/DC Basic password.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub password: Option<String>,
    /// Cloud account email.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    /// Cloud API token.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub api_token: Option<String>,
    /// Data Center personal access token.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub personal_access_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_large_file_ranges_in_mib() {
        let range: LargeFiles = "1-25".parse().unwrap();
        assert_eq!(
            (range.min_bytes, range.max_bytes),
            (1024 * 1024, 25 * 1024 * 1024)
        );
        for bad in ["25", "0-5", "9-3", "a-b"] {
            assert!(bad.parse::<LargeFiles>().is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_flavors_sizes_and_latency() {
        assert_eq!(
            "datacenter".parse::<Flavor>().ok(),
            Some(Flavor::DataCenter)
        );
        assert!("nope".parse::<Flavor>().is_err());
        assert_eq!("tiny".parse::<SiteSize>().ok(), Some(SiteSize::Tiny));
        let custom: SiteSize = "spaces=20,pages=5000,users=100"
            .parse()
            .unwrap_or(SiteSize::Tiny);
        assert!(matches!(
            custom,
            SiteSize::Custom {
                spaces: 20,
                pages_per_space: 5000,
                ..
            }
        ));
        assert_eq!(
            "50ms".parse::<Latency>().ok(),
            Some(Latency::Fixed(Duration::from_millis(50)))
        );
        assert_eq!(
            "10ms..20ms".parse::<Latency>().ok(),
            Some(Latency::Between(
                Duration::from_millis(10),
                Duration::from_millis(20)
            ))
        );
    }

    #[test]
    fn parses_fault_plans() {
        let p: FaultPlan =
            "429=0.1,retry-after=none,5xx=0.2,burst=4,statuses=502/503,reset=0.01,rps=20,headers"
                .parse()
                .unwrap_or_default();
        assert_eq!(p.rate_limit, 0.1);
        assert_eq!(p.retry_after, None);
        assert_eq!(p.error_burst, 4);
        assert_eq!(p.error_statuses, vec![502, 503]);
        assert_eq!(p.rps, Some(20));
        assert!(p.rate_limit_headers);
        let scoped: FaultPlan = "truncate=0.5,paths=/content/search|/download/"
            .parse()
            .unwrap_or_default();
        assert_eq!(scoped.paths, vec!["/content/search", "/download/"]);
        assert!("429=2".parse::<FaultPlan>().is_err());
        assert!("bogus=1".parse::<FaultPlan>().is_err());
    }

    #[test]
    fn parses_quirks() {
        let q: Quirks = "ignore-start,omit-next,html-login=/child/comment,missing-route=/label,missing-status=501,anonymous-fallback"
            .parse()
            .unwrap_or_default();
        assert!(q.ignore_start && q.omit_next && q.anonymous_fallback);
        assert_eq!(q.html_login.as_deref(), Some("/child/comment"));
        assert_eq!(q.missing_route.as_deref(), Some("/label"));
        assert_eq!(q.missing_status, Some(501));
        assert!("missing-status=418".parse::<Quirks>().is_err());
        assert!("redirect".parse::<Quirks>().is_err());
        assert!("bogus".parse::<Quirks>().is_err());
        assert_eq!("".parse::<Quirks>().ok(), Some(Quirks::none()));
    }
}
