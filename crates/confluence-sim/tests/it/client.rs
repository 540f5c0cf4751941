//! A plain Confluence REST client: Basic or Bearer auth, `_links.next` joined to `_links.base`.

use confluence_sim::{Credentials, Flavor, RunningSim, SimOptions, SiteSize};
use serde_json::Value;

pub struct Client {
    pub http: reqwest::Client,
    /// The site base: `http://host/wiki` on Cloud, `http://host[/ctx]` on Server/DC.
    pub base: String,
    pub host: String,
    pub auth: Option<String>,
}

pub fn auth_header(c: &Credentials) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD;
    match (c, &c.personal_access_token) {
        (_, Some(pat)) => format!("Bearer {pat}"),
        (
            Credentials {
                email: Some(e),
                api_token: Some(t),
                ..
            },
            _,
        ) => format!("Basic {}", b.encode(format!("{e}:{t}"))),
        (
            Credentials {
                username: Some(u),
                password: Some(p),
                ..
            },
            _,
        ) => format!("Basic {}", b.encode(format!("{u}:{p}"))),
        _ => String::new(),
    }
}

impl Client {
    pub fn for_sim(sim: &RunningSim) -> Client {
        Client::with_auth(sim, Some(auth_header(&sim.credentials())))
    }

    pub fn with_auth(sim: &RunningSim, auth: Option<String>) -> Client {
        let base = match sim.flavor() {
            Flavor::Cloud => format!("{}/wiki", sim.base_url()),
            _ => sim.base_url(),
        };
        Client {
            http: reqwest::Client::builder().build().expect("client"),
            base,
            host: format!("http://127.0.0.1:{}", sim.port()),
            auth,
        }
    }

    pub async fn raw(&self, url: &str) -> reqwest::Response {
        let mut rb = self.http.get(url).header("accept", "application/json");
        if let Some(a) = &self.auth {
            rb = rb.header("authorization", a);
        }
        rb.send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// GET a path below the REST root (`/rest/api/...` relative to the base).
    pub async fn api(&self, path_and_query: &str) -> (u16, Value) {
        let url = format!("{}/rest/api{path_and_query}", self.base);
        self.json(&url).await
    }

    pub async fn json(&self, url: &str) -> (u16, Value) {
        let r = self.raw(url).await;
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn ok(&self, path_and_query: &str) -> Value {
        let (s, v) = self.api(path_and_query).await;
        assert_eq!(s, 200, "GET {path_and_query}: {v}");
        v
    }

    /// Every row of a v1 collection, following `_links.next` joined onto `_links.base`.
    pub async fn all(&self, path_and_query: &str) -> Vec<Value> {
        let mut url = format!("{}/rest/api{path_and_query}", self.base);
        let mut out = Vec::new();
        for _ in 0..100_000 {
            let (s, v) = self.json(&url).await;
            assert_eq!(s, 200, "GET {url}: {v}");
            let rows = v["results"].as_array().cloned().unwrap_or_default();
            let n = rows.len();
            out.extend(rows);
            match v["_links"]["next"].as_str() {
                Some(next) if n > 0 => {
                    let base = v["_links"]["base"].as_str().expect("_links.base");
                    url = format!("{base}{next}");
                }
                _ => break,
            }
        }
        out
    }
}

impl Client {
    /// GET below `/wiki/api/v2` (Cloud REST v2): status, body, and the `Link` header.
    pub async fn v2_raw(&self, path_and_query: &str) -> (u16, Value, Option<String>) {
        let url = format!("{}/api/v2{path_and_query}", self.base);
        v2_answer(self.raw(&url).await).await
    }

    /// POST a JSON body below `/wiki/api/v2`: status, body, and the `Link` header.
    pub async fn v2_post(&self, path: &str, body: &Value) -> (u16, Value, Option<String>) {
        let url = format!("{}/api/v2{path}", self.base);
        let mut rb = self
            .http
            .post(&url)
            .header("accept", "application/json")
            .json(body);
        if let Some(a) = &self.auth {
            rb = rb.header("authorization", a);
        }
        let r = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        v2_answer(r).await
    }

    /// A v2 object or collection page that must answer 200.
    pub async fn v2(&self, path_and_query: &str) -> Value {
        let (s, v, _) = self.v2_raw(path_and_query).await;
        assert_eq!(s, 200, "GET v2 {path_and_query}: {v}");
        v
    }

    /// Every row of a v2 collection, following `_links.next` (site-relative, with `/wiki`)
    /// and checking that the `Link` header names the same next page, until there is none.
    pub async fn v2_all(&self, path_and_query: &str) -> Vec<Value> {
        let mut url = format!("{}/api/v2{path_and_query}", self.base);
        let mut out = Vec::new();
        for _ in 0..100_000 {
            let (status, v, link) = v2_answer(self.raw(&url).await).await;
            assert_eq!(status, 200, "GET {url}: {v}");
            out.extend(v["results"].as_array().cloned().unwrap_or_default());
            let next = v["_links"]["next"].as_str();
            let base = v["_links"]["base"].as_str().expect("_links.base");
            assert_eq!(
                link,
                next.map(|n| format!("<{n}>; rel=\"next\", <{base}>; rel=\"base\"")),
                "Link header of {url}"
            );
            match next {
                Some(next) => url = format!("{}{next}", self.host),
                None => break,
            }
        }
        out
    }
}

pub async fn start(flavor: Flavor, size: SiteSize) -> RunningSim {
    confluence_sim::start(SimOptions {
        flavor,
        size,
        ..SimOptions::default()
    })
    .await
    .expect("start")
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A v2 answer: status, body (JSON, or the text when it is not), and the `Link` header.
async fn v2_answer(r: reqwest::Response) -> (u16, Value, Option<String>) {
    let status = r.status().as_u16();
    let link = r
        .headers()
        .get("link")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let text = r.text().await.unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v, link)
}
