//! Routing, authentication and the handlers of Confluence's REST v1 routes.

use serde_json::{Value, json};

use crate::cql::{self, CqlError, Hit};
use crate::files;
use crate::http::{Req, Resp, Shared, server_error};
use crate::model::{ADMIN, Caller, Kind, Site, Status};
use crate::options::{DcAuth, Flavor, Quirks};
use crate::render::{Expand, R, enc};
use crate::rng;
use crate::time::{friendly, iso, now_ms};

mod search;
mod users;
pub(crate) mod v2;

/// Query-string access.
pub(crate) struct Q<'a>(pub &'a [(String, String)]);

impl<'a> Q<'a> {
    /// First value of a parameter.
    pub(crate) fn get(&self, k: &str) -> Option<&'a str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    /// All values of a parameter, comma-split.
    pub(crate) fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == k)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// String parameter with repeated values comma-joined (as Confluence does).
    pub(crate) fn joined(&self, k: &str) -> Option<String> {
        let v: Vec<&str> = self
            .0
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect();
        if v.is_empty() {
            None
        } else {
            Some(v.join(","))
        }
    }
}

/// One request being answered.
pub(crate) struct Call<'a> {
    pub sh: &'a Shared,
    pub site: &'a Site,
    pub req: &'a Req,
    pub caller: Caller,
    pub r: R<'a>,
    /// The sloppy-server quirks in force for this request.
    pub quirks: Quirks,
}

/// Offset paging parameters after validation and clipping.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    pub start: usize,
    /// Effective (clipped) limit.
    pub limit: usize,
    /// The limit as requested (before clipping).
    pub requested: usize,
}

impl<'a> Call<'a> {
    pub(crate) fn q(&self) -> Q<'a> {
        Q(&self.req.query)
    }

    pub(crate) fn flavor(&self) -> Flavor {
        self.sh.opts.flavor
    }

    pub(crate) fn cloud(&self) -> bool {
        self.flavor() == Flavor::Cloud
    }

    /// The generic v1 error envelope.
    pub(crate) fn error(&self, status: u16, message: &str) -> Resp {
        let reason = axum::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        Resp::json(
            status,
            &json!({
                "statusCode": status,
                "data": {"authorized": status != 404 && status != 403, "valid": true, "allowedInReadOnlyMode": true, "errors": [], "successful": false},
                "message": message,
                "reason": reason
            }),
        )
    }

    /// Cloud's bare `{statusCode, message}` refusal (Java exception text); Server/DC use the
    /// full envelope.
    pub(crate) fn bare(&self, status: u16, message: &str) -> Resp {
        if self.cloud() {
            Resp::json(status, &json!({"statusCode": status, "message": message}))
        } else {
            self.error(status, message)
        }
    }

    /// Reads and validates `start`/`limit`.
    pub(crate) fn paging(&self, default: usize, cap: Option<usize>) -> Result<Paging, Resp> {
        let q = self.q();
        let parse = |name: &str| -> Result<Option<i64>, Resp> {
            match q.get(name) {
                None | Some("") => Ok(None),
                Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                    self.bare(400, &format!(
                        "org.springframework.web.method.annotation.MethodArgumentTypeMismatchException: Failed to convert value of type 'java.lang.String' to required type 'int'; nested exception is java.lang.NumberFormatException: For input string: \"{v}\""
                    ))
                }),
            }
        };
        let start = parse("start")?;
        let limit = parse("limit")?;
        if start.is_some_and(|s| s < 0) {
            return Err(self.bare(
                400,
                "java.lang.IllegalArgumentException: start cannot be less than zero",
            ));
        }
        if limit.is_some_and(|l| l < 0) {
            return Err(self.bare(
                400,
                "java.lang.IllegalArgumentException: limit cannot be less than zero",
            ));
        }
        let mut start = start.unwrap_or(0).min(i64::from(i32::MAX)) as usize;
        if self.quirks.ignore_start && self.is_content_listing() {
            // A sloppy server: every offset gets the first page.
            start = 0;
        }
        let requested = limit.map_or(default, |l| l.min(i64::from(i32::MAX)) as usize);
        let limit = cap.map_or(requested, |c| requested.min(c));
        Ok(Paging {
            start,
            limit,
            requested,
        })
    }

    /// Whether this request is a content listing (where the listing quirks apply).
    pub(crate) fn is_content_listing(&self) -> bool {
        is_content_listing_path(&self.req.path)
    }

    /// A content listing's items as a sloppy server pages them: every page served twice
    /// (`repeat_pages`, pages of `limit`), or in a new order on every request
    /// (`shuffle_pages`). Without those quirks, `items` unchanged.
    pub(crate) fn listing_order(&self, mut items: Vec<u32>, limit: usize) -> Vec<u32> {
        if !self.is_content_listing() {
            return items;
        }
        if self.quirks.shuffle_pages && items.len() > 1 {
            let n = self.sh.requests.load(std::sync::atomic::Ordering::Relaxed);
            let mut r = rng::Rng::new(self.site.seed, &[0x5AFF1E, n]);
            for i in (1..items.len()).rev() {
                items.swap(i, r.index(i + 1));
            }
        }
        if self.quirks.repeat_pages && limit > 0 {
            items = items
                .chunks(limit)
                .flat_map(|chunk| chunk.iter().chain(chunk.iter()).copied())
                .collect();
        }
        items
    }

    /// Query parameters for links, without the paging ones.
    fn link_params(&self, drop: &[&str]) -> Vec<(String, String)> {
        self.req
            .query
            .iter()
            .filter(|(k, _)| {
                !matches!(k.as_str(), "start" | "limit" | "next" | "prev" | "cursor")
                    && !drop.contains(&k.as_str())
            })
            .cloned()
            .collect()
    }

    /// `_links` of an offset-paged collection at `api_path` (e.g. `/rest/api/space`).
    pub(crate) fn offset_links(
        &self,
        api_path: &str,
        p: Paging,
        returned: usize,
        more: bool,
    ) -> Value {
        let params = self.link_params(&[]);
        let encode = |extra: &[(&str, String)]| {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &params {
                s.append_pair(k, v);
            }
            for (k, v) in extra {
                s.append_pair(k, v);
            }
            s.finish()
        };
        let base_q = encode(&[]);
        let mut links = json!({
            "base": self.sh.base(),
            "context": self.sh.context(),
            "self": if base_q.is_empty() { format!("{}{api_path}", self.sh.base()) } else { format!("{}{api_path}?{base_q}", self.sh.base()) },
        });
        if more && returned > 0 && !self.quirks.omit_next {
            let q = encode(&[
                ("next", "true".into()),
                ("limit", p.limit.to_string()),
                ("start", (p.start + returned).to_string()),
            ]);
            links["next"] = json!(format!("{api_path}?{q}"));
        }
        if p.start > 0 {
            let q = encode(&[
                ("prev", "true".into()),
                ("limit", p.limit.to_string()),
                ("start", p.start.saturating_sub(p.limit).to_string()),
            ]);
            links["prev"] = json!(format!("{api_path}?{q}"));
        }
        links
    }

    /// An offset-paged collection over `items`.
    pub(crate) fn offset_collection(
        &self,
        api_path: &str,
        items: &[u32],
        p: Paging,
        render: impl Fn(u32) -> Value,
        echo_requested: bool,
    ) -> Value {
        let ordered = self.listing_order(items.to_vec(), p.limit);
        let items = &ordered[..];
        let end = (p.start + p.limit).min(items.len());
        let slice = if p.start < items.len() {
            &items[p.start..end]
        } else {
            &[][..]
        };
        let rows: Vec<Value> = slice.iter().map(|&i| render(i)).collect();
        let more = end < items.len();
        let links = self.offset_links(api_path, p, rows.len(), more);
        self.r.collection(
            rows,
            p.start,
            if echo_requested { p.requested } else { p.limit },
            links,
        )
    }

    /// As [`Call::offset_collection`], but returning at most `take` rows (a short page) while
    /// the links and the echoed `limit` keep the requested page size.
    pub(crate) fn offset_collection_take(
        &self,
        api_path: &str,
        items: &[u32],
        p: Paging,
        take: usize,
        render: impl Fn(u32) -> Value,
    ) -> Value {
        let end = (p.start + p.limit.min(take)).min(items.len());
        let slice = items.get(p.start..end).unwrap_or(&[]);
        let rows: Vec<Value> = slice.iter().map(|&i| render(i)).collect();
        let links = self.offset_links(api_path, p, rows.len(), end < items.len());
        self.r.collection(rows, p.start, p.limit, links)
    }

    /// The `expand` parameter, or `default` when absent.
    pub(crate) fn expand(&self, default: &str) -> Expand {
        match self.q().joined("expand") {
            Some(e) => Expand::parse(&e),
            None => Expand::parse(default),
        }
    }

    pub(crate) fn not_found_content(&self, id: &str) -> Resp {
        let digits = id.trim_start_matches("att");
        self.error(
            404,
            &format!("No content found with id : ContentId{{id={digits}}}"),
        )
    }

    /// A readable content item by id string.
    pub(crate) fn readable(&self, id: &str) -> Result<u32, Resp> {
        match self.site.parse_id(id) {
            Some(i) if self.site.can_read(self.caller, i) => Ok(i),
            _ => Err(self.not_found_content(id)),
        }
    }

    /// Whether the caller administers the site (Server/DC `expand=permissions` needs it).
    pub(crate) fn is_admin(&self) -> bool {
        self.caller
            .is_some_and(|u| u == ADMIN || self.site.in_group(u, 1))
    }
}

fn deprecated(mut r: Resp, cloud: bool) -> Resp {
    if cloud {
        r = r.header("deprecation", "Wed, 1 Mar 2023").header(
            "warning",
            "299 - \"Deprecated API, will be removed on Mon, 31 Mar 2025\"",
        );
    }
    r
}

/// Which part of the site a path addresses.
enum Area<'p> {
    Api(&'p str),
    /// Cloud REST v2: what follows `/wiki/api/v2`.
    V2(&'p str),
    Download(&'p str),
    Extender(&'p str),
    Jira(&'p str),
    Media(&'p str),
}

fn classify<'p>(sh: &Shared, path: &'p str) -> Option<Area<'p>> {
    if let Some(rest) = path.strip_prefix("/__media/") {
        return Some(Area::Media(rest));
    }
    if sh.opts.flavor == Flavor::Cloud {
        if let Some(rest) = path.strip_prefix("/rest/api/3/") {
            return Some(Area::Jira(rest));
        }
        let rest = path.strip_prefix("/wiki")?;
        if let Some(api) = rest.strip_prefix("/rest/api") {
            return Some(Area::Api(api));
        }
        if v2::is_v2_path(path) {
            return Some(Area::V2(&rest["/api/v2".len()..]));
        }
        return rest
            .strip_prefix("/download/attachments/")
            .map(Area::Download);
    }
    let ctx = sh.context();
    let rest = path.strip_prefix(ctx.as_str())?;
    if let Some(api) = rest.strip_prefix("/rest/api") {
        return Some(Area::Api(api));
    }
    if let Some(ext) = rest.strip_prefix("/rest/extender/1.0/") {
        return Some(Area::Extender(ext));
    }
    rest.strip_prefix("/download/attachments/")
        .map(Area::Download)
}

/// A caller, and the `X-Seraph-LoginReason` Server/DC add to the answer (`OK` after a
/// successful login, `AUTHENTICATED_FAILED` when a refused credential is served as anonymous).
type Authenticated = (Caller, Option<&'static str>);

/// Authenticates a request: a caller, or the refusal Confluence would send.
fn authenticate(
    sh: &Shared,
    site: &Site,
    req: &Req,
    area: &Area<'_>,
    quirks: &Quirks,
) -> Result<Authenticated, Resp> {
    use base64::Engine;
    let header = req
        .headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .map(str::trim);
    let flavor = sh.opts.flavor;
    if flavor == Flavor::Cloud {
        let forbidden = || {
            if matches!(area, Area::Api(p) if p.starts_with("/search/user")) {
                Resp::json(
                    403,
                    &json!({"message": "Current user not permitted to use Confluence", "statusCode": 403}),
                )
            } else {
                Resp::json(
                    403,
                    &json!({"statusCode": 403, "message": "com.atlassian.confluence.mvc.rest.common.exception.StacklessResponseStatusException: 403 FORBIDDEN \"Request rejected because caller cannot access Confluence\""}),
                )
            }
        };
        let unauthorized = || {
            let realm = enc(&format!("127.0.0.1:{}/wiki", sh.port));
            Resp::bytes(401, "text/html;charset=utf-8", "<!doctype html><html lang=\"en\"><head><title>HTTP Status 401 – Unauthorized</title></head><body><h1>HTTP Status 401 – Unauthorized</h1><hr class=\"line\" /><p><b>Type</b> Status Report</p><p><b>Description</b> The request has not been applied to the target resource because it lacks valid authentication credentials for that resource.</p><hr class=\"line\" /><h3>Apache Tomcat</h3></body></html>")
                .header("WWW-Authenticate", format!("OAuth realm=\"{realm}\""))
        };
        let Some(h) = header else {
            // `user/current` answers the anonymous user without credentials.
            if matches!(area, Area::Api(p) if p.trim_end_matches('/') == "/user/current") {
                return Ok((None, None));
            }
            return Err(forbidden());
        };
        let Some(b64) = h
            .strip_prefix("Basic ")
            .or_else(|| h.strip_prefix("basic "))
        else {
            return Err(unauthorized());
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok());
        let Some((email, token)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return Err(unauthorized());
        };
        return match site.users.iter().position(|u| {
            u.email.eq_ignore_ascii_case(email) && u.secret == token && u.active && !u.app
        }) {
            Some(u) if !quirks.expired_credentials => Ok((Some(u as u32), None)),
            _ => Err(forbidden()),
        };
    }
    let anonymous_allowed = site.spaces.iter().any(|s| s.anonymous);
    let unauthorized = |reason: &str| {
        Resp::json(401, &json!({
            "statusCode": 401,
            "data": {"authorized": false, "valid": true, "allowedInReadOnlyMode": true, "errors": [], "successful": false},
            "message": "Client must be authenticated to access this resource.",
            "reason": "Unauthorized"
        }))
        .header("WWW-Authenticate", "Basic realm=\"Confluence\"")
        .header("X-Seraph-LoginReason", reason)
    };
    // A refused credential: 401, or (anonymous fallback, or a wrong PAT on DC) the anonymous
    // user with the login reason in a header.
    let refused = |reason: &'static str, fallback: bool| -> Result<Authenticated, Resp> {
        if fallback && anonymous_allowed && reason == "AUTHENTICATED_FAILED" {
            Ok((None, Some("AUTHENTICATED_FAILED")))
        } else {
            Err(unauthorized(reason))
        }
    };
    let fallback = quirks.anonymous_fallback;
    let Some(h) = header else {
        return Ok((None, None));
    };
    if let Some(b64) = h
        .strip_prefix("Basic ")
        .or_else(|| h.strip_prefix("basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok());
        let Some((user, pass)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return refused("AUTHENTICATED_FAILED", fallback);
        };
        return match site
            .users
            .iter()
            .position(|u| u.username.eq_ignore_ascii_case(user))
        {
            Some(i) if site.users[i].secret == pass && !quirks.expired_credentials => {
                if site.users[i].active {
                    Ok((Some(i as u32), Some("OK")))
                } else {
                    Err(unauthorized("AUTHENTICATION_DENIED"))
                }
            }
            _ => refused("AUTHENTICATED_FAILED", fallback),
        };
    }
    if let Some(token) = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))
    {
        if flavor == Flavor::DataCenter {
            if let Some(i) = site
                .users
                .iter()
                .position(|u| pat_for(site.seed, &u.username) == token.trim())
                && site.users[i].active
                && !quirks.expired_credentials
            {
                return Ok((Some(i as u32), Some("OK")));
            }
            // CONFSERVER-98199: a wrong token is treated as anonymous when anonymous access is
            // on; only the login-reason header tells.
            return refused("AUTHENTICATED_FAILED", true);
        }
        return refused("AUTHENTICATED_FAILED", fallback);
    }
    refused("AUTHENTICATED_FAILED", fallback)
}

/// Whether `path` (a full request path) is a content listing, where the listing quirks apply.
pub(crate) fn is_content_listing_path(path: &str) -> bool {
    let Some(i) = path.find("/rest/api/") else {
        return false;
    };
    let segs: Vec<&str> = path[i + "/rest/api/".len()..]
        .trim_end_matches('/')
        .split('/')
        .collect();
    matches!(
        segs.as_slice(),
        ["content"]
            | ["content", "search"]
            | ["search"]
            | ["space", _, "content"]
            | ["space", _, "content", _]
            | ["content", _, "child", _]
            | ["content", _, "descendant", _]
            | ["content", _, "label"]
    )
}

fn quirk_matches(req: &Req, pattern: Option<&str>) -> bool {
    pattern.is_some_and(|p| {
        !p.is_empty()
            && (req.path.contains(p) || format!("{}?{}", req.path, req.raw_query).contains(p))
    })
}

/// What a proxy or a server lacking a route answers before Confluence sees the request.
fn proxy_quirks(sh: &Shared, req: &Req, q: &Quirks) -> Option<Resp> {
    let host = req
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if quirk_matches(req, q.redirect_host.as_deref()) && !host.starts_with("localhost") {
        // A front end that sends every client to its canonical host name. The client sees
        // another host and (as browsers and reqwest do) drops its Authorization header.
        let query = if req.raw_query.is_empty() {
            String::new()
        } else {
            format!("?{}", req.raw_query)
        };
        let location = format!("http://localhost:{}{}{query}", sh.port, req.raw_path);
        return Some(
            Resp::bytes(
                302,
                "text/html",
                format!("<html><body>Moved to <a href=\"{location}\">{location}</a></body></html>"),
            )
            .header("location", location),
        );
    }
    if quirk_matches(req, q.html_login.as_deref()) {
        // A single-sign-on proxy whose session expired: its login page, with status 200.
        return Some(Resp::bytes(
            200,
            "text/html;charset=UTF-8",
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Log in - Confluence</title></head>\n<body class=\"login\"><div id=\"main\"><h1>Log in</h1>\n<form name=\"loginform\" id=\"loginform\" method=\"POST\" action=\"/dologin.action\">\n<input type=\"text\" name=\"os_username\" id=\"os_username\"/>\n<input type=\"password\" name=\"os_password\" id=\"os_password\"/>\n<input type=\"submit\" id=\"loginButton\" value=\"Log in\"/>\n</form></div></body></html>\n",
        ));
    }
    if quirk_matches(req, q.forbidden_route.as_deref()) {
        // An account without the right the route needs (Cloud's wording, both flavors).
        return Some(Resp::json(
            403,
            &serde_json::json!({
                "statusCode": 403,
                "message": "Current user not permitted to use Confluence",
                "data": { "authorized": false, "valid": true, "errors": [], "successful": false },
            }),
        ));
    }
    if quirk_matches(req, q.missing_route.as_deref()) {
        let status = q.missing_status.unwrap_or(404);
        if sh.opts.flavor == Flavor::Cloud && v2::is_v2_path(&req.path) {
            // A v2 path the server does not route: its HTML error page, as for any path
            // under `/wiki/api/v2` that is no route.
            return Some(if status == 501 {
                v2::error(501, "Not Implemented")
            } else {
                v2::no_route()
            });
        }
        let (message, reason) = if status == 501 {
            (
                "This operation is not supported by this server",
                "Not Implemented",
            )
        } else {
            (
                "null for uri: the requested resource does not exist",
                "Not Found",
            )
        };
        return Some(Resp::json(
            status,
            &json!({
                "statusCode": status,
                "data": {"authorized": true, "valid": true, "allowedInReadOnlyMode": true, "errors": [], "successful": false},
                "message": message,
                "reason": reason
            }),
        ));
    }
    None
}

/// `trim-fields`: content objects without their optional `space.key`, `version` and
/// `_links.webui`.
fn trim_fields(resp: Resp) -> Resp {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                let is_content = m.contains_key("id")
                    && m.get("type").and_then(Value::as_str).is_some_and(|t| {
                        matches!(t, "page" | "blogpost" | "comment" | "attachment")
                    });
                if is_content {
                    m.remove("version");
                    if let Some(Value::Object(space)) = m.get_mut("space") {
                        space.remove("key");
                    }
                    if let Some(Value::Object(links)) = m.get_mut("_links") {
                        links.remove("webui");
                    }
                }
                m.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let json = resp
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.starts_with("application/json"));
    if resp.status != 200 || !json {
        return resp;
    }
    let Ok(mut v) = serde_json::from_slice::<Value>(&resp.body) else {
        return resp;
    };
    walk(&mut v);
    Resp {
        body: bytes::Bytes::from(serde_json::to_vec(&v).unwrap_or_default()),
        ..resp
    }
}

/// `changing-results`: before a CQL content listing past its first page is answered, its first
/// item (already served) is deleted and a new page (or blog post) is added to its space, so
/// offsets shift under the crawler as when people edit during a crawl.
pub(crate) fn churn(sh: &std::sync::Arc<Shared>, req: &Req) {
    let q = Q(&req.query);
    let continuation = q.get("cursor").is_some_and(|c| !c.is_empty())
        || q.get("start")
            .and_then(|s| s.parse::<u64>().ok())
            .is_some_and(|s| s > 0);
    if !continuation {
        return;
    }
    let quirks = sh.quirks();
    let plan = {
        let site = sh.site.read().unwrap_or_else(|e| e.into_inner());
        let Some(Area::Api(api)) = classify(sh, &req.path) else {
            return;
        };
        let api = api.trim_end_matches('/');
        if api != "/content/search" && api != "/search" {
            return;
        }
        let Ok((caller, _)) = authenticate(sh, &site, req, &Area::Api(api), &quirks) else {
            return;
        };
        let Ok(query) = cql::parse(q.get("cql").unwrap_or(""), sh.opts.flavor) else {
            return;
        };
        let call = Call {
            sh,
            site: &site,
            req,
            caller,
            r: R {
                site: &site,
                flavor: sh.opts.flavor,
                base: sh.base(),
                context: sh.context(),
                caller,
                api_download: sh.opts.api_download_links,
            },
            quirks: quirks.clone(),
        };
        let Ok(hits) = evaluate(&call, &query, false) else {
            return;
        };
        hits.into_iter().find_map(|h| match h {
            Hit::Content(i) if matches!(site.c(i).kind, Kind::Page | Kind::BlogPost) => Some((
                site.id_str(i),
                site.spaces[site.c(i).space as usize].key.clone(),
                site.c(i).kind,
            )),
            _ => None,
        })
    };
    let Some((victim, space, kind)) = plan else {
        return;
    };
    let admin = crate::admin::Admin { shared: sh.clone() };
    let _ = admin.delete_content(&victim);
    let n = sh.requests.load(std::sync::atomic::Ordering::Relaxed);
    let title = format!("Added while a listing was paged {n}");
    let body = "<p>Added while the crawler was paging a listing.</p>";
    let _ = if kind == Kind::BlogPost {
        admin.add_blogpost(&space, &title, body)
    } else {
        admin.add_page(&space, None, &title, body)
    };
}

/// The personal access token of a Data Center user.
pub(crate) fn pat_for(seed: u64, username: &str) -> String {
    use base64::Engine;
    let mut r = rng::Rng::new(seed, &[0x9A7, rng::hash_str(username)]);
    let raw = format!("{}:{}", r.below(1_000_000_000_000), r.hex(20));
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw)
}

/// The key a request is counted under in [`crate::Admin::request_counts`]: the method and the
/// route template, without the Cloud `/wiki` prefix or the Server/DC context path, with ids,
/// space keys, group and user names and file names replaced by placeholders
/// (`GET /rest/api/content/{id}/child/attachment`, `GET /rest/api/space/{key}/content/page`).
pub(crate) fn route_template(sh: &Shared, method: &str, path: &str) -> String {
    fn is_id(s: &str) -> bool {
        let d = s.strip_prefix("att").unwrap_or(s);
        !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
    }
    fn segments(p: &str) -> Vec<&str> {
        p.trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect()
    }
    let templ = match classify(sh, path) {
        Some(Area::Api(p)) => {
            let segs = segments(p);
            let out: Vec<&str> = segs
                .iter()
                .enumerate()
                .map(|(i, &s)| match (segs.first().copied(), i) {
                    (Some("space"), 1) => "{key}",
                    (Some("group"), 1) if s != "member" && s != "by-id" => {
                        if segs.get(2) == Some(&"membersByGroupId") {
                            "{id}"
                        } else {
                            "{name}"
                        }
                    }
                    _ if is_id(s) => "{id}",
                    _ => s,
                })
                .collect();
            format!("/rest/api/{}", out.join("/"))
        }
        Some(Area::V2(p)) => {
            let out: Vec<&str> = segments(p)
                .into_iter()
                .map(|s| if is_id(s) { "{id}" } else { s })
                .collect();
            format!("/api/v2/{}", out.join("/"))
        }
        Some(Area::Download(_)) => "/download/attachments/{id}/{filename}".to_owned(),
        Some(Area::Extender(p)) => {
            let segs = segments(p);
            let out: Vec<&str> = segs
                .iter()
                .enumerate()
                .map(|(i, &s)| {
                    let prev = if i > 0 { segs[i - 1] } else { "" };
                    match prev {
                        "space" => "{key}",
                        "user" if segs.first() == Some(&"permission") => "{user}",
                        "getUsers" => "{group}",
                        _ => s,
                    }
                })
                .collect();
            format!("/rest/extender/1.0/{}", out.join("/"))
        }
        Some(Area::Jira(p)) => format!("/rest/api/3/{}", p.trim_matches('/')),
        Some(Area::Media(_)) => "/__media/file/{id}/{version}/binary".to_owned(),
        None => {
            let out: Vec<&str> = segments(path)
                .into_iter()
                .map(|s| if is_id(s) { "{id}" } else { s })
                .collect();
            format!("/{}", out.join("/"))
        }
    };
    format!("{method} {templ}")
}

/// Answers one Confluence request (faults already applied).
pub(crate) fn route(sh: &Shared, req: &Req) -> Resp {
    let quirks = sh.quirks();
    if let Some(r) = proxy_quirks(sh, req, &quirks) {
        return r;
    }
    let Some(area) = classify(sh, &req.path) else {
        return Resp::bytes(
            404,
            "text/html",
            "<html><body><h1>404 Not Found</h1></body></html>",
        );
    };
    if let Area::Extender(_) = area
        && !sh.opts.extender
    {
        return Resp::bytes(
            404,
            "text/html",
            "<html><body><h1>404 Not Found</h1><p>Could not find the requested resource</p></body></html>",
        );
    }
    let site = sh.site.read().unwrap_or_else(|e| e.into_inner());
    if let Area::Media(rest) = area {
        return media(sh, &site, req, rest);
    }
    let (caller, login_reason) = match authenticate(sh, &site, req, &area, &quirks) {
        Ok(c) => c,
        // v2 answers refused credentials with a 404 that names nothing; an unparseable
        // header is refused in front of the API, as on v1.
        Err(r) if matches!(area, Area::V2(_)) && r.status == 403 => return v2::not_found(),
        Err(r) => return r,
    };
    let server_like = sh.opts.flavor.is_server_like();
    let username = caller.map(|u| site.users[u as usize].username.clone());
    let call = Call {
        sh,
        site: &site,
        req,
        caller,
        r: R {
            site: &site,
            flavor: sh.opts.flavor,
            base: sh.base(),
            context: sh.context(),
            caller,
            api_download: sh.opts.api_download_links,
        },
        quirks: quirks.clone(),
    };
    let reads = req.method == axum::http::Method::GET || req.method == axum::http::Method::HEAD;
    let mut resp = match area {
        // v2 has a `POST` route (`users-bulk`) and answers other methods itself.
        Area::V2(p) => v2::route(&call, p),
        _ if !reads => call.error(405, "Method Not Allowed"),
        Area::Api(p) => api(&call, p),
        Area::Download(p) => download(&call, p),
        Area::Extender(p) => users::extender(&call, p),
        Area::Jira(p) => users::jira(&call, p),
        Area::Media(_) => Resp::empty(404),
    };
    if quirks.trim_fields {
        resp = trim_fields(resp);
    }
    if server_like {
        // Seraph's headers: who the request ran as, and how the login went.
        resp = resp.header(
            "X-AUSERNAME",
            username.unwrap_or_else(|| "anonymous".to_owned()),
        );
        if let Some(reason) = login_reason {
            resp = resp.header("X-Seraph-LoginReason", reason);
        }
    }
    resp
}

fn api(c: &Call<'_>, path: &str) -> Resp {
    let segs: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    let res = match segs.as_slice() {
        ["space"] => spaces(c),
        ["space", key] => space_one(c, key),
        ["space", _, "permission"] => Err(c.error(405, "Method Not Allowed")),
        ["space", key, "content"] => space_content_both(c, key),
        ["space", key, "content", ty] => space_content(c, key, ty),
        ["space", key, "permissions"] if c.flavor() == Flavor::DataCenter => {
            users::dc_space_permissions(c, key, false)
        }
        ["space", key, "permissions", "anonymous"] if c.flavor() == Flavor::DataCenter => {
            users::dc_space_permissions(c, key, true)
        }
        ["content"] => content_list(c),
        ["content", "search"] => search::content_search(c),
        ["content", id] => content_one(c, id),
        ["content", id, "history"] => c.readable(id).map(|i| {
            Resp::json(
                200,
                &c.r.content(i, &Expand::parse("history.lastUpdated"))["history"],
            )
        }),
        ["content", id, "child"] => c.readable(id).map(|i| {
            let e = Expand::parse(&c.q().joined("expand").unwrap_or_default()).prefixed("children");
            let v = c.r.content(
                i,
                &Expand::parse(&format!("children,{}", e.terms().join(","))),
            );
            Resp::json(200, &v["children"])
        }),
        ["content", id, "child", "page"] => child_pages(c, id),
        ["content", id, "child", "comment"] => child_comments(c, id),
        ["content", id, "child", "attachment"] => child_attachments(c, id),
        ["content", id, "child", "attachment", att, "download"] => {
            attachment_download_api(c, id, att)
        }
        ["content", id, "descendant", ty] => descendants(c, id, ty),
        ["content", id, "label"] => labels(c, id),
        ["content", id, "restriction", "byOperation"] => restrictions_all(c, id),
        ["content", id, "restriction", "byOperation", op] => restriction_op(c, id, op),
        ["search"] => search::search(c),
        ["search", "user"] if c.cloud() => users::search_user(c),
        ["user"] => users::user(c),
        ["user", "current"] => users::current(c),
        ["user", "memberof"] => users::memberof(c),
        ["user", "list"] if !c.cloud() => users::user_list(c),
        ["admin", "users", "list", "active"] if c.flavor() == Flavor::DataCenter => {
            users::active_users(c)
        }
        ["group"] => users::groups(c),
        ["group", "by-id"] if c.cloud() => users::group_by_id(c),
        ["group", "member"] if c.cloud() => users::group_member_by_name(c),
        ["group", gid, "membersByGroupId"] if c.cloud() => users::members_by_group_id(c, gid),
        ["group", name, "member"] => users::group_member(c, name),
        _ => Err(c.error(404, "null for uri")),
    };
    res.unwrap_or_else(|e| e)
}

impl Expand {
    /// Prefixes every term (used to reuse content expansions under `children`).
    pub(crate) fn prefixed(&self, p: &str) -> Expand {
        let mut s: Vec<String> = Vec::new();
        for t in self.terms() {
            s.push(format!("{p}.{t}"));
        }
        if s.is_empty() {
            return Expand::default();
        }
        Expand::parse(&s.join(","))
    }
}

type Res = Result<Resp, Resp>;

fn spaces(c: &Call<'_>) -> Res {
    let p = c.paging(25, Some(1000))?;
    let exp = c.expand("");
    if c.flavor().is_server_like() && exp.mentions("permissions") && !c.is_admin() {
        // CONFSERVER-99908: the expansion fails for non-administrators.
        return Ok(server_error(500));
    }
    let q = c.q();
    let keys = q.all("spaceKey");
    let ids = q.all("spaceId");
    let ty = q.get("type");
    let status = q.get("status");
    let site = c.site;
    let mut list: Vec<u32> = (0..site.spaces.len() as u32)
        .filter(|&s| {
            let sp = &site.spaces[s as usize];
            c.site.can_view_space(c.caller, s)
                && (keys.is_empty() || keys.iter().any(|k| k.eq_ignore_ascii_case(&sp.key)))
                && (ids.is_empty() || ids.iter().any(|i| *i == sp.id.to_string()))
                && ty.is_none_or(|t| t == if sp.personal { "personal" } else { "global" })
                && status.is_none_or(|st| st == if sp.archived { "archived" } else { "current" })
        })
        .collect();
    if c.cloud() {
        // Measured order is none of name, key or id.
        list.sort_by_key(|&s| rng::hash(site.seed, &[0x5BA, site.spaces[s as usize].id]));
    } else {
        list.sort_by(|a, b| {
            site.spaces[*a as usize]
                .key
                .cmp(&site.spaces[*b as usize].key)
        });
    }
    // Cloud returns short first pages while more exist (limit=250 → 200 rows at start=0).
    let take = if c.cloud() && p.start == 0 {
        200
    } else {
        usize::MAX
    };
    let v = c.offset_collection_take("/rest/api/space", &list, p, take, |s| c.r.space(s, &exp));
    Ok(Resp::json(200, &v))
}

fn space_one(c: &Call<'_>, key: &str) -> Res {
    let exp = c.expand("");
    let s = c
        .site
        .space_by_key(key)
        .filter(|&s| c.site.can_view_space(c.caller, s))
        .ok_or_else(|| c.error(404, &format!("No space with key : {key}")))?;
    if c.flavor().is_server_like() && exp.mentions("permissions") && !c.is_admin() {
        return Ok(server_error(500));
    }
    let mut v = c.r.space(s, &exp);
    v["_links"]["base"] = json!(c.sh.base());
    v["_links"]["context"] = json!(c.sh.context());
    v["_links"]["collection"] = json!("/rest/api/space");
    Ok(Resp::json(200, &v))
}

fn space_for_listing(c: &Call<'_>, key: &str) -> Result<u32, Resp> {
    c.site.space_by_key(key).filter(|&s| c.site.can_view_space(c.caller, s)).ok_or_else(|| {
        if c.cloud() {
            c.bare(404, &format!("org.springframework.web.server.ResponseStatusException: 404 NOT_FOUND \"No space found with key : {key}\""))
        } else {
            c.error(404, &format!("No space found with key : {key}"))
        }
    })
}

fn space_items(c: &Call<'_>, s: u32, kind: Kind, root_only: bool) -> Vec<u32> {
    let site = c.site;
    let mut v: Vec<u32> = site
        .space_contents(s)
        .filter(|&i| {
            let x = site.c(i);
            x.kind == kind && (!root_only || x.parent.is_none()) && site.can_read(c.caller, i)
        })
        .collect();
    v.sort_by_key(|&i| site.c(i).id);
    v
}

fn space_content(c: &Call<'_>, key: &str, ty: &str) -> Res {
    let s = space_for_listing(c, key)?;
    let kind = match ty {
        "page" => Kind::Page,
        "blogpost" => Kind::BlogPost,
        _ => return Err(c.error(400, &format!("Unsupported content type : {ty}"))),
    };
    let p = c.paging(25, Some(1000))?;
    let exp = c.expand("");
    let root = c.q().get("depth") == Some("root");
    let items = space_items(c, s, kind, root);
    let v = c.offset_collection(
        &format!(
            "/rest/api/space/{}/content/{ty}",
            enc(&c.site.spaces[s as usize].key)
        ),
        &items,
        p,
        |i| c.r.content(i, &exp),
        false,
    );
    Ok(deprecated(Resp::json(200, &v), c.cloud()))
}

fn space_content_both(c: &Call<'_>, key: &str) -> Res {
    let s = space_for_listing(c, key)?;
    let p = c.paging(25, Some(1000))?;
    let exp = c.expand("");
    let root = c.q().get("depth") == Some("root");
    let key = enc(&c.site.spaces[s as usize].key);
    let mut out = serde_json::Map::new();
    for (name, kind) in [("page", Kind::Page), ("blogpost", Kind::BlogPost)] {
        let items = space_items(c, s, kind, root);
        let v = c.offset_collection(
            &format!("/rest/api/space/{key}/content/{name}"),
            &items,
            p,
            |i| c.r.content(i, &exp),
            false,
        );
        out.insert(name.into(), v);
    }
    out.insert(
        "_links".into(),
        json!({"base": c.sh.base(), "context": c.sh.context()}),
    );
    Ok(deprecated(Resp::json(200, &Value::Object(out)), c.cloud()))
}

fn content_list(c: &Call<'_>) -> Res {
    let q = c.q();
    let p = c.paging(25, Some(1000))?;
    if p.start > 100_000 {
        return Err(c.bare(400, "Start of this size is no longer supported. If you need to fetch this amount of content, please use either the search endpoint or get the content by a space at a time."));
    }
    let ty = q.get("type").unwrap_or("page");
    let kind = match ty {
        "page" => Kind::Page,
        "blogpost" => Kind::BlogPost,
        "folder" if c.cloud() => return Err(c.bare(501, "Cannot fetch folders with ContentFinder")),
        _ => {
            return Err(c.bare(
                400,
                &format!("java.lang.IllegalArgumentException: Unsupported content type : {ty}"),
            ));
        }
    };
    let (current, trashed) = wanted_statuses(c);
    let exp = c.expand("space,history,version");
    let site = c.site;
    let title = q.get("title");
    let day = q.get("postingDay");
    let mut items: Vec<u32> = Vec::new();
    if current || trashed {
        let spaces: Vec<u32> = match q.get("spaceKey") {
            Some(k) => site.space_by_key(k).into_iter().collect(),
            None => (0..site.spaces.len() as u32).collect(),
        };
        for s in spaces {
            items.extend(
                site.spaces[s as usize]
                    .contents
                    .iter()
                    .copied()
                    .filter(|&i| {
                        let x = site.c(i);
                        let status_ok = match x.status {
                            Status::Current => current,
                            Status::Trashed => trashed,
                            Status::Purged => false,
                        };
                        status_ok
                            && x.kind == kind
                            && title.is_none_or(|t| x.title.eq_ignore_ascii_case(t))
                            && day.is_none_or(|d| iso(x.created).starts_with(d))
                            && site.can_read_any_status(c.caller, i)
                    }),
            );
        }
    }
    match q.get("orderby").map(|o| o.to_ascii_lowercase()) {
        Some(o) if o.starts_with("history.createddate") => {
            items.sort_by_key(|&i| (site.c(i).created, site.c(i).id));
            if o.ends_with("desc") {
                items.reverse();
            }
        }
        _ => items.sort_by_key(|&i| site.c(i).id),
    }
    let v = c.offset_collection(
        "/rest/api/content",
        &items,
        p,
        |i| c.r.content(i, &exp),
        false,
    );
    Ok(deprecated(Resp::json(200, &v), c.cloud()))
}

/// The `status` parameter of `content` and `content/{id}` (repeatable, comma-separated;
/// default `current`): whether current and whether trashed content is wanted.
fn wanted_statuses(c: &Call<'_>) -> (bool, bool) {
    let asked = c.q().all("status");
    if asked.is_empty() {
        return (true, false);
    }
    let has = |s: &str| asked.iter().any(|a| a.eq_ignore_ascii_case(s));
    (has("current") || has("any"), has("trashed") || has("any"))
}

fn content_one(c: &Call<'_>, id: &str) -> Res {
    let (current, trashed) = wanted_statuses(c);
    // Trashed content is read only when `status=trashed` (or `any`) is asked.
    let i = c
        .site
        .parse_id_any(id)
        .filter(|&i| {
            let x = c.site.c(i);
            match x.status {
                Status::Current => current,
                Status::Trashed => trashed,
                Status::Purged => false,
            }
        })
        .filter(|&i| c.site.can_read_any_status(c.caller, i))
        .ok_or_else(|| c.not_found_content(id))?;
    let exp = c.expand("space,history,version");
    if exp.depth() > 8 {
        return Err(c.bare(400, "Maximum sub-expansions allowed is 8"));
    }
    if c.flavor().is_server_like() && exp.mentions("permissions") && !c.is_admin() {
        return Ok(server_error(500));
    }
    let mut v = c.r.content(i, &exp);
    v["_links"]["base"] = json!(c.sh.base());
    v["_links"]["context"] = json!(c.sh.context());
    v["_links"]["collection"] = json!("/rest/api/content");
    Ok(Resp::json(200, &v))
}

fn child_pages(c: &Call<'_>, id: &str) -> Res {
    let i = c.readable(id)?;
    let p = c.paging(25, None)?;
    let exp = c.expand("");
    let items: Vec<u32> = c
        .site
        .child_pages(i)
        .into_iter()
        .filter(|&x| c.site.can_read(c.caller, x))
        .collect();
    let v = c.offset_collection(
        &format!("/rest/api/content/{id}/child/page"),
        &items,
        p,
        |x| c.r.content(x, &exp),
        false,
    );
    Ok(Resp::json(200, &v))
}

fn child_comments(c: &Call<'_>, id: &str) -> Res {
    let i = c.readable(id)?;
    let p = c.paging(25, Some(1000))?;
    let exp = c.expand("");
    let q = c.q();
    let locations = q.all("location");
    let all_depth = q
        .get("depth")
        .is_some_and(|d| d.eq_ignore_ascii_case("all"));
    let site = c.site;
    let holder = site.c(i);
    let items: Vec<u32> = if holder.kind == Kind::Comment {
        let container = holder.parent.unwrap_or(i);
        site.children_of_kind(container, Kind::Comment)
            .into_iter()
            .filter(|&x| site.c(x).reply_to == Some(i))
            .collect()
    } else {
        site.children_of_kind(i, Kind::Comment)
            .into_iter()
            .filter(|&x| {
                let cm = site.c(x);
                (all_depth || cm.reply_to.is_none())
                    && (locations.is_empty()
                        || locations
                            .iter()
                            .any(|l| l == if cm.inline { "inline" } else { "footer" }))
            })
            .collect()
    };
    let v = c.offset_collection(
        &format!("/rest/api/content/{id}/child/comment"),
        &items,
        p,
        |x| c.r.content(x, &exp),
        false,
    );
    Ok(deprecated(Resp::json(200, &v), c.cloud()))
}

fn child_attachments(c: &Call<'_>, id: &str) -> Res {
    let i = c.readable(id)?;
    let p = c.paging(25, Some(200))?;
    let exp = c.expand("metadata");
    let q = c.q();
    let filename = q.get("filename");
    let media = q.get("mediaType");
    let site = c.site;
    let items: Vec<u32> = site
        .children_of_kind(i, Kind::Attachment)
        .into_iter()
        .filter(|&x| {
            let a = site.c(x);
            filename.is_none_or(|f| *a.title == *f)
                && media.is_none_or(|m| a.file.is_some_and(|(k, _)| k.media_type() == m))
        })
        .collect();
    let v = c.offset_collection(
        &format!("/rest/api/content/{id}/child/attachment"),
        &items,
        p,
        |x| c.r.content(x, &exp),
        false,
    );
    Ok(Resp::json(200, &v))
}

fn descendants(c: &Call<'_>, id: &str, ty: &str) -> Res {
    let i = c.readable(id)?;
    let kind = match ty {
        "page" => Kind::Page,
        "comment" => Kind::Comment,
        "attachment" => Kind::Attachment,
        _ => return Err(c.error(400, &format!("Unsupported descendant type : {ty}"))),
    };
    let p = c.paging(25, Some(1000))?;
    let exp = c.expand("");
    let items: Vec<u32> = c
        .site
        .descendants(i)
        .into_iter()
        .filter(|&x| c.site.c(x).kind == kind && c.site.can_read(c.caller, x))
        .collect();
    let v = c.offset_collection(
        &format!("/rest/api/content/{id}/descendant/{ty}"),
        &items,
        p,
        |x| c.r.content(x, &exp),
        false,
    );
    Ok(Resp::json(200, &v))
}

fn labels(c: &Call<'_>, id: &str) -> Res {
    let i = c.readable(id)?;
    let p = c.paging(200, Some(200))?;
    if p.requested == 0 {
        return Err(c.bare(400, "java.lang.IllegalArgumentException: null"));
    }
    let q = c.q();
    let prefix = q.get("prefix");
    let site = c.site;
    let labels: Vec<u16> = if prefix.is_none_or(|p| p == "global") {
        site.c(i).labels.clone()
    } else {
        Vec::new()
    };
    let end = (p.start + p.limit).min(labels.len());
    let rows: Vec<Value> = labels
        .get(p.start..end)
        .unwrap_or(&[])
        .iter()
        .map(|&l| c.r.label(l))
        .collect();
    let more = end < labels.len();
    let links = c.offset_links(
        &format!("/rest/api/content/{id}/label"),
        p,
        rows.len(),
        more,
    );
    Ok(Resp::json(
        200,
        &c.r.collection(rows, p.start, p.limit, links),
    ))
}

fn restrictions_all(c: &Call<'_>, id: &str) -> Res {
    let i = c.readable(id)?;
    let exp = c.expand("");
    let mut read = c.r.restriction(i, "read", &exp.sub("read"), 0, 100);
    let mut update = c.r.restriction(i, "update", &exp.sub("update"), 0, 100);
    read["_links"] = json!({"self": format!("{}/rest/api/content/{id}/restriction/byOperation/read", c.sh.base())});
    update["_links"] = json!({"self": format!("{}/rest/api/content/{id}/restriction/byOperation/update", c.sh.base())});
    Ok(Resp::json(
        200,
        &json!({
            "read": read,
            "update": update,
            "_links": {"base": c.sh.base(), "context": c.sh.context(), "self": format!("{}/rest/api/content/{id}/restriction/byOperation", c.sh.base())}
        }),
    ))
}

fn restriction_op(c: &Call<'_>, id: &str, op: &str) -> Res {
    let i = c.readable(id)?;
    if op != "read" && op != "update" {
        return Err(c.bare(
            400,
            &format!("java.lang.IllegalArgumentException: No enum constant for operation : {op}"),
        ));
    }
    let p = c.paging(100, Some(100))?;
    let exp = c.expand("");
    let mut v = c.r.restriction(i, op, &exp, p.start, p.limit);
    v["_links"]["base"] = json!(c.sh.base());
    v["_links"]["context"] = json!(c.sh.context());
    Ok(Resp::json(200, &v))
}

/// Bytes of an attachment, with its headers.
fn file_response(c: &Call<'_>, i: u32) -> Resp {
    let a = c.site.c(i);
    let (kind, size) = a.file.unwrap_or((files::FileKind::Txt, 0));
    let bytes = files::generate(kind, size, c.site.seed, a.id, a.version, &a.title);
    Resp::bytes(200, kind.media_type(), bytes)
        .header(
            "content-disposition",
            format!("attachment; filename*=UTF-8''{}", enc(&a.title)),
        )
        .header("last-modified", friendly(a.modified))
}

/// The Cloud redirect to the media host: another host name, with a token in the query.
fn media_redirect(c: &Call<'_>, i: u32) -> Resp {
    let a = c.site.c(i);
    let token = media_token(c.site.seed, a.id, a.version);
    let loc = format!(
        "http://localhost:{}/__media/file/{}/{}/binary?token={token}&client=sim&name={}",
        c.sh.port,
        a.id,
        a.version,
        enc(&a.title)
    );
    Resp::empty(302).header("location", loc)
}

fn media_token(seed: u64, id: u64, version: u32) -> String {
    rng::Rng::new(seed, &[0x3ED1A, id, u64::from(version)]).hex(40)
}

fn media(sh: &Shared, site: &Site, req: &Req, rest: &str) -> Resp {
    // The media host refuses a forwarded Authorization header: the token is the credential.
    if req.headers.contains_key("authorization") {
        return Resp::json(
            401,
            &json!({"error": "Unauthorized", "message": "Authorization header is not accepted with a token"}),
        );
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let (Some(id), Some(ver)) = (
        parts.get(1).and_then(|s| s.parse::<u64>().ok()),
        parts.get(2).and_then(|s| s.parse::<u32>().ok()),
    ) else {
        return Resp::empty(404);
    };
    let token = Q(&req.query).get("token").unwrap_or("").to_owned();
    let Some(i) = site.content_by_id(id) else {
        return Resp::empty(404);
    };
    if token != media_token(site.seed, id, ver) || site.c(i).version != ver {
        return Resp::json(
            403,
            &json!({"error": "Forbidden", "message": "Invalid token"}),
        );
    }
    let a = site.c(i);
    let (kind, size) = a.file.unwrap_or((files::FileKind::Txt, 0));
    let _ = sh;
    Resp::bytes(
        200,
        kind.media_type(),
        files::generate(kind, size, site.seed, a.id, a.version, &a.title),
    )
}

fn attachment_download_api(c: &Call<'_>, id: &str, att: &str) -> Res {
    let container = c.readable(id)?;
    let a = c
        .site
        .parse_id(att)
        .filter(|&a| c.site.c(a).parent == Some(container) && c.site.c(a).kind == Kind::Attachment);
    let a = a.ok_or_else(|| c.not_found_content(att))?;
    if let Some(v) = c.q().get("version").and_then(|v| v.parse::<u32>().ok())
        && (v > c.site.c(a).version || v == 0)
    {
        return Err(c.bare(
            400,
            &format!("java.lang.IllegalArgumentException: Version {v} does not exist for attachment {att}"),
        ));
    }
    Ok(if c.cloud() {
        media_redirect(c, a)
    } else {
        file_response(c, a)
    })
}

fn download(c: &Call<'_>, rest: &str) -> Resp {
    let Some((container, name)) = rest.split_once('/') else {
        return c.error(404, "Not Found");
    };
    let Ok(cid) = container.parse::<u64>() else {
        return c.error(404, "Not Found");
    };
    let site = c.site;
    let Some(ci) = site
        .content_by_id(cid)
        .filter(|&ci| site.can_read(c.caller, ci))
    else {
        return Resp::bytes(
            404,
            "text/html",
            "<html><body><h1>Page Not Found</h1></body></html>",
        );
    };
    let Some(a) = site
        .children_of_kind(ci, Kind::Attachment)
        .into_iter()
        .find(|&a| *site.c(a).title == *name)
    else {
        return Resp::bytes(
            404,
            "text/html",
            "<html><body><h1>Page Not Found</h1></body></html>",
        );
    };
    if c.cloud() {
        media_redirect(c, a)
    } else {
        file_response(c, a)
    }
}

/// Whether a flavor/auth pair uses a PAT (for credentials).
pub(crate) fn uses_pat(flavor: Flavor, auth: DcAuth) -> bool {
    flavor == Flavor::DataCenter && auth == DcAuth::Pat
}

/// Search hits visible to the caller, in CQL order.
pub(crate) fn evaluate(
    c: &Call<'_>,
    query: &cql::Query,
    include_archived: bool,
) -> Result<Vec<Hit>, CqlError> {
    let site = c.site;
    let ctx = cql::Ctx {
        site,
        caller: c.caller,
        now: now_ms(),
        tz: site.zone_of(c.caller),
    };
    let indexed_until =
        c.sh.opts
            .index_lag
            .map_or(i64::MAX, |lag| ctx.now - lag.as_millis() as i64);
    // CONFCLOUD-73997: the search index sees a change only `search_lag_ms` after it happened;
    // until then the item is left out (an edited item too, where Confluence would still
    // serve the old version).
    let lag =
        c.sh.search_lag_ms
            .load(std::sync::atomic::Ordering::Relaxed);
    let changed_until = if lag == 0 {
        i64::MAX
    } else {
        ctx.now - lag.min(i64::MAX as u64) as i64
    };
    let mut hits: Vec<Hit> = Vec::new();
    let scope = query.expr.as_ref().and_then(cql::space_scope);
    let spaces: Vec<u32> = match &scope {
        Some(keys) => {
            let found: Vec<u32> = keys.iter().filter_map(|k| site.space_by_key(k)).collect();
            if found.is_empty() && c.flavor().is_server_like() {
                // CONFSERVER-101465 (9.3.1+): an unknown space key is refused.
                return Err(CqlError::Unsupported(
                    "parameters should not be empty".into(),
                ));
            }
            found
        }
        None => (0..site.spaces.len() as u32).collect(),
    };
    // Archived spaces stay out of site-wide searches unless asked for, but a query that names
    // the space explicitly still reaches its content.
    let include_archived = include_archived || scope.is_some();
    for &s in &spaces {
        let sp = &site.spaces[s as usize];
        if sp.archived && !include_archived {
            continue;
        }
        if !site.can_view_space(c.caller, s) {
            continue;
        }
        for i in site.space_contents(s) {
            if site.c(i).created > indexed_until || site.c(i).changed > changed_until {
                continue;
            }
            let ok = query
                .expr
                .as_ref()
                .is_none_or(|e| ctx.eval(e, Hit::Content(i)));
            if ok && site.can_read(c.caller, i) {
                hits.push(Hit::Content(i));
            }
        }
    }
    if query.expr.as_ref().is_some_and(cql::mentions_space_type) {
        for &s in &spaces {
            let sp = &site.spaces[s as usize];
            if (sp.archived && !include_archived) || !site.can_view_space(c.caller, s) {
                continue;
            }
            if query
                .expr
                .as_ref()
                .is_none_or(|e| ctx.eval(e, Hit::Space(s)))
            {
                hits.push(Hit::Space(s));
            }
        }
    }
    let key = |h: &Hit, field: &str| -> (i64, String) {
        match (h, field) {
            (Hit::Content(i), "created") => (site.c(*i).created, String::new()),
            (Hit::Content(i), "lastmodified") => (site.c(*i).modified, String::new()),
            (Hit::Content(i), "title") => (0, site.c(*i).title.to_lowercase()),
            (Hit::Content(i), "type") => (0, site.c(*i).kind.as_str().to_owned()),
            (Hit::Content(i), "space" | "space.key") => {
                (0, site.spaces[site.c(*i).space as usize].key.to_lowercase())
            }
            (Hit::Content(i), _) => (site.c(*i).id as i64, String::new()),
            (Hit::Space(s), "title") => (0, site.spaces[*s as usize].name.to_lowercase()),
            (Hit::Space(s), "space" | "space.key") => {
                (0, site.spaces[*s as usize].key.to_lowercase())
            }
            (Hit::Space(_), "type") => (0, "space".into()),
            (Hit::Space(s), _) => (site.spaces[*s as usize].created, String::new()),
        }
    };
    let id_of = |h: &Hit| match h {
        Hit::Content(i) => site.c(*i).id,
        Hit::Space(s) => site.spaces[*s as usize].id,
    };
    hits.sort_by(|a, b| {
        for (field, desc) in &query.order {
            let o = key(a, field).cmp(&key(b, field));
            let o = if *desc { o.reverse() } else { o };
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        id_of(a).cmp(&id_of(b))
    });
    Ok(hits)
}
