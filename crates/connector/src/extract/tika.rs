//! The optional text extraction service: an Apache Tika server (`tika-server-standard` 3.x).
//!
//! A file is sent with `PUT /tika` and `Accept: text/plain`; Tika answers with its text. Tika
//! answers 422 for files it cannot parse (encrypted, corrupt) and 415 for types it does not know.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// Why the extraction service gave no text.
#[derive(Debug, thiserror::Error)]
pub enum TikaError {
    /// The server could not be reached.
    #[error("could not reach the text extraction service at `{url}`: {message}")]
    Unreachable {
        /// The service URL.
        url: String,
        /// The transport error.
        message: String,
    },
    /// The server did not answer in time.
    #[error("the text extraction service did not answer within {secs} s")]
    Timeout {
        /// The time limit, in seconds.
        secs: u64,
    },
    /// The server refused the file.
    #[error("the text extraction service answered {status}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// What it means.
        message: String,
    },
    /// The file could not be read from disk.
    #[error("could not read the downloaded file: {0}")]
    Io(#[from] std::io::Error),
}

/// A Tika server client.
#[derive(Debug, Clone)]
pub struct Tika {
    url: String,
    timeout: Duration,
}

/// One HTTP client for every extraction service call of the process (its connection pool is
/// shared): Tika's and Elastic's data extraction service's.
pub(crate) fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default()
    })
}

impl Tika {
    /// A client of the Tika server at `url` (e.g. `http://127.0.0.1:9998`), allowing `timeout`
    /// per file.
    pub fn new(url: &str, timeout: Duration) -> Tika {
        Tika {
            url: url.trim().trim_end_matches('/').to_owned(),
            timeout,
        }
    }

    /// The server URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's version (`GET /version`), to check that it is there.
    pub async fn version(&self) -> Result<String, TikaError> {
        let response = http()
            .get(format!("{}/version", self.url))
            .timeout(self.timeout.min(Duration::from_secs(30)))
            .send()
            .await
            .map_err(|e| self.transport(&e))?;
        self.text(response).await
    }

    /// The text of the file at `path`, streamed to the server.
    pub async fn extract_file(&self, path: &Path) -> Result<String, TikaError> {
        let file = tokio::fs::File::open(path).await?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().replace('"', ""))
            .unwrap_or_default();
        self.put(reqwest::Body::from(file), &name).await
    }

    /// The text of a file in memory; `name` (with its extension) helps Tika tell the type.
    pub async fn extract_bytes(&self, bytes: Vec<u8>, name: &str) -> Result<String, TikaError> {
        self.put(reqwest::Body::from(bytes), name).await
    }

    async fn put(&self, body: reqwest::Body, name: &str) -> Result<String, TikaError> {
        let mut request = http()
            .put(format!("{}/tika", self.url))
            .timeout(self.timeout)
            .header(reqwest::header::ACCEPT, "text/plain; charset=UTF-8")
            .body(body);
        if !name.is_empty() {
            request = request.header(
                reqwest::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            );
        }
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        self.text(response).await
    }

    async fn text(&self, response: reqwest::Response) -> Result<String, TikaError> {
        let status = response.status();
        if status.is_success() {
            return response.text().await.map_err(|e| self.transport(&e));
        }
        let body = response.text().await.unwrap_or_default();
        let detail: String = body
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        let message = match status.as_u16() {
            422 => format!("it could not parse the file (encrypted or corrupt): {detail}"),
            415 => format!("it does not support this file type: {detail}"),
            404 | 405 => format!(
                "there is no Tika `PUT /tika` at this address ({detail}); if it is Elastic's data \
                 extraction service, choose `elastic` as the text extraction service"
            ),
            _ => detail,
        };
        Err(TikaError::Status {
            status: status.as_u16(),
            message,
        })
    }

    fn transport(&self, err: &reqwest::Error) -> TikaError {
        if err.is_timeout() {
            TikaError::Timeout {
                secs: self.timeout.as_secs(),
            }
        } else {
            TikaError::Unreachable {
                url: self.url.clone(),
                message: err.to_string(),
            }
        }
    }
}
