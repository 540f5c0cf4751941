//! Elastic's data extraction service: what `use_text_extraction_service` means in Elastic's
//! connectors (the `data-extraction-service` image: Apache Tika behind an nginx front that
//! shapes the answers).
//!
//! The protocol, as Elastic documents it ("Content extraction" in the connectors reference, the
//! connector service's `extraction_service` settings, and its connectors-python client):
//!
//! - `PUT {host}/extract_text/` with `Accept: application/json` and one of
//!   - the file as the request body (`Content-Type: application/octet-stream`), or
//!   - with *file pointers* (`use_file_pointers`), no body and `?local_file_path=<path>`: the
//!     connector writes the file into a directory it shares with the service
//!     (`shared_volume_dir`, `/app/files` by default) and sends its path.
//! - The answer is a JSON object: `extracted_text` (`""` for a file without text) and `_meta`
//!   (`X-ELASTIC:service`, `X-ELASTIC:TIKA:parsed_by`), or `error` and `message` when the
//!   extraction failed: status 422 when Tika could not parse the file (corrupt or encrypted),
//!   another status for other failures, and an `error` beside status 200 when Tika reported an
//!   exception for the file.
//! - Elastic's connector allows 30 s per request by default; here the per-file time limit is
//!   the configuration's `service_timeout_secs`, as for Tika.
//!
//! Every failure is an [`ElasticServiceError`] whose message names the service and says what
//! to check; nothing here panics.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::config::ExtractionSettings;

/// What the answer of the service may weigh before it is refused (the JSON of the text of
/// one file; the text kept is capped afterwards, like Tika's).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

/// Why Elastic's data extraction service gave no text.
#[derive(Debug, thiserror::Error)]
pub enum ElasticServiceError {
    /// The service could not be reached.
    #[error("could not reach Elastic's data extraction service at `{url}`: {message}")]
    Unreachable {
        /// The service URL.
        url: String,
        /// The transport error.
        message: String,
    },
    /// The service did not answer in time.
    #[error("Elastic's data extraction service did not answer within {secs} s")]
    Timeout {
        /// The time limit, in seconds.
        secs: u64,
    },
    /// The service answered with an error for this file.
    #[error("Elastic's data extraction service answered {status} ({error}): {message}{hint}")]
    Failed {
        /// The HTTP status.
        status: u16,
        /// The service's `error` (e.g. `Unprocessable Entity`).
        error: String,
        /// The service's `message`.
        message: String,
        /// What to check, when there is something (empty otherwise, or starting with a space).
        hint: String,
    },
    /// The answer is not the service's JSON: not this service, or a proxy in between.
    #[error(
        "`{url}` answered PUT /extract_text/ with {status} and no JSON of Elastic's data \
         extraction service ({detail}): if it is an Apache Tika server, choose `tika` as the \
         text extraction service"
    )]
    Protocol {
        /// The service URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The beginning of the answer.
        detail: String,
    },
    /// The answer is larger than [`ElasticService::with_max_response_bytes`] allows.
    #[error("the answer of Elastic's data extraction service is larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The file could not be put in the shared directory.
    #[error(
        "could not put the file in the shared volume directory `{dir}` for Elastic's data \
         extraction service: {message} (`extraction_service_shared_volume_dir` must be a \
         directory this process can write)"
    )]
    SharedVolume {
        /// The directory.
        dir: String,
        /// The error.
        message: String,
    },
    /// The file could not be read from disk.
    #[error("could not read the downloaded file: {0}")]
    Io(#[from] std::io::Error),
}

/// The directory the connector shares with the service (the file-pointer mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedVolume {
    /// The directory, as this machine sees it.
    pub dir: PathBuf,
    /// The same directory as the service sees it, when it mounts it elsewhere (e.g. the
    /// container's `/app/files`); `None` when the paths are the same.
    pub service_dir: Option<String>,
}

impl SharedVolume {
    /// The path the service reads for the file `name` of the directory.
    fn service_path(&self, local: &Path) -> String {
        match &self.service_dir {
            None => local.to_string_lossy().into_owned(),
            Some(dir) => {
                let name = local
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let windows = dir.contains('\\') && !dir.contains('/');
                let sep = if windows { '\\' } else { '/' };
                format!("{}{sep}{name}", dir.trim_end_matches(['/', '\\']))
            }
        }
    }
}

/// A client of Elastic's data extraction service.
#[derive(Debug, Clone)]
pub struct ElasticService {
    url: String,
    timeout: Duration,
    volume: Option<SharedVolume>,
    max_response_bytes: u64,
}

/// A file placed in the shared directory for one request; removed when dropped (unless it was
/// there already).
#[derive(Debug)]
struct Placed {
    path: PathBuf,
    remove: bool,
}

impl Drop for Placed {
    fn drop(&mut self) {
        if self.remove
            && let Err(err) = std::fs::remove_file(&self.path)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), "could not remove a shared file: {err}");
        }
    }
}

impl ElasticService {
    /// A client of the service at `url` (e.g. `http://127.0.0.1:8090`) that uploads files,
    /// allowing `timeout` per file.
    pub fn new(url: &str, timeout: Duration) -> ElasticService {
        ElasticService {
            url: url.trim().trim_end_matches('/').to_owned(),
            timeout,
            volume: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// The client a configuration asks for (URL, time limit, file pointers).
    pub fn from_settings(e: &ExtractionSettings) -> ElasticService {
        let service = ElasticService::new(
            &e.service_url,
            Duration::from_secs(e.service_timeout_secs.max(1)),
        );
        if !e.use_file_pointers {
            return service;
        }
        let service_dir = e.shared_volume_service_dir.trim();
        service.with_file_pointers(SharedVolume {
            dir: PathBuf::from(e.shared_volume_dir.trim()),
            service_dir: (!service_dir.is_empty()).then(|| service_dir.to_owned()),
        })
    }

    /// Sends the paths of files put in `volume` instead of the files (`use_file_pointers`).
    pub fn with_file_pointers(mut self, volume: SharedVolume) -> ElasticService {
        self.volume = Some(volume);
        self
    }

    /// Refuses answers larger than `bytes` ([`DEFAULT_MAX_RESPONSE_BYTES`] otherwise).
    pub fn with_max_response_bytes(mut self, bytes: u64) -> ElasticService {
        self.max_response_bytes = bytes.max(1);
        self
    }

    /// The service URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The shared directory, in the file-pointer mode.
    pub fn shared_volume(&self) -> Option<&SharedVolume> {
        self.volume.as_ref()
    }

    /// Whether the service answers at all (`GET /`, which the service passes to Tika's
    /// greeting): `Ok` for any 2xx.
    pub async fn ping(&self) -> Result<(), ElasticServiceError> {
        let response = super::tika::http()
            .get(format!("{}/", self.url))
            .timeout(self.timeout.min(Duration::from_secs(30)))
            .send()
            .await
            .map_err(|e| self.transport(&e))?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(());
        }
        let detail = first_line(&String::from_utf8_lossy(
            &self.body(response).await.unwrap_or_default(),
        ));
        Err(ElasticServiceError::Failed {
            status,
            error: "not ready".to_owned(),
            message: detail,
            hint: String::new(),
        })
    }

    /// The text of the file at `path`: streamed to the service, or put in the shared directory
    /// and named by its path there.
    pub async fn extract_file(&self, path: &Path) -> Result<String, ElasticServiceError> {
        self.once_more(|| self.extract_file_once(path)).await
    }

    async fn extract_file_once(&self, path: &Path) -> Result<String, ElasticServiceError> {
        match &self.volume {
            None => {
                let file = tokio::fs::File::open(path).await?;
                self.upload(reqwest::Body::from(file)).await
            }
            Some(volume) => {
                let placed = place_file(volume, path).await?;
                self.by_pointer(volume, &placed).await
            }
        }
    }

    /// The text of a file in memory; `name` gives the extension of the shared file.
    pub async fn extract_bytes(
        &self,
        bytes: Vec<u8>,
        name: &str,
    ) -> Result<String, ElasticServiceError> {
        self.once_more(|| self.extract_bytes_once(bytes.clone(), name))
            .await
    }

    /// Runs `attempt` again, once, when the connection closed under it: a kept-alive
    /// connection the service dropped as it was reused, or a worker that died mid-answer.
    /// Extraction changes nothing on the service, so asking twice is safe; a service that is
    /// down (connection refused) or that answered is not asked again.
    async fn once_more<F, Fut>(&self, attempt: F) -> Result<String, ElasticServiceError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<String, ElasticServiceError>>,
    {
        match attempt().await {
            Err(ElasticServiceError::Unreachable { message, .. })
                if connection_dropped(&message) =>
            {
                tracing::debug!(url = %self.url, %message, "the extraction service dropped the connection; asking once more");
                attempt().await
            }
            other => other,
        }
    }

    async fn extract_bytes_once(
        &self,
        bytes: Vec<u8>,
        name: &str,
    ) -> Result<String, ElasticServiceError> {
        match &self.volume {
            None => self.upload(reqwest::Body::from(bytes)).await,
            Some(volume) => {
                let placed = place_bytes(volume, &bytes, name).await?;
                self.by_pointer(volume, &placed).await
            }
        }
    }

    async fn upload(&self, body: reqwest::Body) -> Result<String, ElasticServiceError> {
        let response = super::tika::http()
            .put(format!("{}/extract_text/", self.url))
            .timeout(self.timeout)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport(&e))?;
        self.answer(response, None).await
    }

    async fn by_pointer(
        &self,
        volume: &SharedVolume,
        placed: &Placed,
    ) -> Result<String, ElasticServiceError> {
        let pointer = volume.service_path(&placed.path);
        let mut url = url::Url::parse(&format!("{}/extract_text/", self.url)).map_err(|e| {
            ElasticServiceError::Unreachable {
                url: self.url.clone(),
                message: format!("not a valid URL ({e})"),
            }
        })?;
        url.query_pairs_mut()
            .append_pair("local_file_path", &pointer);
        let response = super::tika::http()
            .put(url)
            .timeout(self.timeout)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .send()
            .await
            .map_err(|e| self.transport(&e))?;
        self.answer(response, Some(&pointer)).await
    }

    /// Reads the service's JSON answer: its `extracted_text`, or its `error` and `message`.
    async fn answer(
        &self,
        response: reqwest::Response,
        pointer: Option<&str>,
    ) -> Result<String, ElasticServiceError> {
        let status = response.status();
        let body = self.body(response).await?;
        let json = serde_json::from_slice::<Value>(&body)
            .ok()
            .filter(Value::is_object);
        let Some(json) = json else {
            return Err(ElasticServiceError::Protocol {
                url: self.url.clone(),
                status: status.as_u16(),
                detail: if body.is_empty() {
                    "an empty answer".to_owned()
                } else {
                    format!("`{}`", first_line(&String::from_utf8_lossy(&body)))
                },
            });
        };
        let text_of = |key: &str| {
            json.get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.chars().take(300).collect::<String>())
        };
        let error = text_of("error");
        if status.is_success() && error.is_none() {
            if let Some(parser) = json
                .get("_meta")
                .and_then(|m| m.get("X-ELASTIC:TIKA:parsed_by"))
            {
                tracing::debug!(%parser, "extracted by Elastic's data extraction service");
            }
            return match json.get("extracted_text") {
                Some(Value::String(text)) => Ok(text.clone()),
                None | Some(Value::Null) => Ok(String::new()),
                Some(other) => Err(ElasticServiceError::Protocol {
                    url: self.url.clone(),
                    status: status.as_u16(),
                    detail: format!("`extracted_text` is {other}, not a string"),
                }),
            };
        }
        let message = text_of("message").unwrap_or_else(|| "no message".to_owned());
        let hint = match (status.as_u16(), pointer) {
            (code, Some(path)) if code != 422 && !status.is_success() => format!(
                " (the service was asked to read `{path}`: is the shared directory mounted \
                 there in the service?)"
            ),
            _ => String::new(),
        };
        Err(ElasticServiceError::Failed {
            status: status.as_u16(),
            error: error.unwrap_or_else(|| {
                status
                    .canonical_reason()
                    .unwrap_or("extraction failed")
                    .to_owned()
            }),
            message,
            hint,
        })
    }

    /// The answer's body, up to the cap.
    async fn body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, ElasticServiceError> {
        let limit = self.max_response_bytes;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(ElasticServiceError::TooLarge { limit });
        }
        let mut out = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(&e))? {
            if out.len() as u64 + chunk.len() as u64 > limit {
                return Err(ElasticServiceError::TooLarge { limit });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    fn transport(&self, err: &reqwest::Error) -> ElasticServiceError {
        if err.is_timeout() {
            ElasticServiceError::Timeout {
                secs: self.timeout.as_secs(),
            }
        } else {
            ElasticServiceError::Unreachable {
                url: self.url.clone(),
                message: error_chain(err),
            }
        }
    }
}

/// Whether a transport error says the connection closed under a request that had been sent
/// (not that it could not be made).
fn connection_dropped(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "connection closed",
        "connection reset",
        "broken pipe",
        "incomplete message",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// The error and its causes on one line (reqwest's own message hides the refused connection).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// A new unique name in the shared directory, with the extension of `name`.
fn shared_name(volume: &SharedVolume, name: &Path) -> PathBuf {
    let ext: String = name
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    let mut file = format!("confluence-attachment-{}", uuid::Uuid::new_v4().simple());
    if !ext.is_empty() {
        file.push('.');
        file.push_str(&ext);
    }
    volume.dir.join(file)
}

fn volume_error(volume: &SharedVolume, err: &std::io::Error) -> ElasticServiceError {
    ElasticServiceError::SharedVolume {
        dir: volume.dir.display().to_string(),
        message: err.to_string(),
    }
}

/// Puts the file at `source` in the shared directory: as it is when it is there already,
/// otherwise as a hard link (no copy on the same file system) or a copy.
async fn place_file(volume: &SharedVolume, source: &Path) -> Result<Placed, ElasticServiceError> {
    tokio::fs::metadata(source).await?;
    let inside = match (
        tokio::fs::canonicalize(source).await,
        tokio::fs::canonicalize(&volume.dir).await,
    ) {
        (Ok(file), Ok(dir)) => file.parent() == Some(dir.as_path()),
        (_, Err(err)) => return Err(volume_error(volume, &err)),
        (Err(err), _) => return Err(err.into()),
    };
    if inside {
        let path = std::path::absolute(source)?;
        readable_by_others(&path).await;
        return Ok(Placed {
            path,
            remove: false,
        });
    }
    let dest = std::path::absolute(shared_name(volume, source))?;
    if tokio::fs::hard_link(source, &dest).await.is_err() {
        let copied = tokio::fs::copy(source, &dest).await;
        let placed = Placed {
            path: dest,
            remove: true,
        };
        if let Err(err) = copied {
            return Err(volume_error(volume, &err));
        }
        readable_by_others(&placed.path).await;
        return Ok(placed);
    }
    readable_by_others(&dest).await;
    Ok(Placed {
        path: dest,
        remove: true,
    })
}

/// Writes `bytes` as a new file of the shared directory.
async fn place_bytes(
    volume: &SharedVolume,
    bytes: &[u8],
    name: &str,
) -> Result<Placed, ElasticServiceError> {
    let dest = std::path::absolute(shared_name(volume, Path::new(name)))
        .map_err(|e| volume_error(volume, &e))?;
    let placed = Placed {
        path: dest,
        remove: true,
    };
    tokio::fs::write(&placed.path, bytes)
        .await
        .map_err(|e| volume_error(volume, &e))?;
    readable_by_others(&placed.path).await;
    Ok(placed)
}

/// The service often runs as another user (in its container): the file must be readable by it.
/// Who may reach the file at all is the shared directory's permissions' business.
async fn readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let readable = std::fs::Permissions::from_mode(0o644);
        if let Err(err) = tokio::fs::set_permissions(path, readable).await {
            tracing::debug!(path = %path.display(), "could not make a shared file readable: {err}");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_a_dropped_connection_is_asked_again() {
        assert!(super::connection_dropped(
            "error decoding response body: request or response body error: connection closed before message completed"
        ));
        assert!(super::connection_dropped(
            "error sending request: Connection reset by peer (os error 104)"
        ));
        assert!(!super::connection_dropped(
            "error sending request: Connection refused (os error 111)"
        ));
        assert!(!super::connection_dropped(
            "dns error: failed to lookup address information"
        ));
    }
    use super::*;

    #[test]
    fn service_paths_follow_the_services_mount() {
        let same = SharedVolume {
            dir: PathBuf::from("/srv/x"),
            service_dir: None,
        };
        assert_eq!(same.service_path(Path::new("/srv/x/a.pdf")), "/srv/x/a.pdf");
        let mounted = SharedVolume {
            dir: PathBuf::from("/srv/x"),
            service_dir: Some("/app/files/".into()),
        };
        assert_eq!(
            mounted.service_path(Path::new("/srv/x/a.pdf")),
            "/app/files/a.pdf"
        );
        let windows = SharedVolume {
            dir: PathBuf::from("/srv/x"),
            service_dir: Some("D:\\share".into()),
        };
        assert_eq!(
            windows.service_path(Path::new("/srv/x/a.pdf")),
            "D:\\share\\a.pdf"
        );
    }

    #[test]
    fn settings_choose_the_mode() {
        let mut e = ExtractionSettings {
            service_url: " http://extract:8090/ ".into(),
            ..ExtractionSettings::default()
        };
        let upload = ElasticService::from_settings(&e);
        assert_eq!(upload.url(), "http://extract:8090");
        assert!(upload.shared_volume().is_none());
        e.use_file_pointers = true;
        e.shared_volume_service_dir = " ".into();
        let pointers = ElasticService::from_settings(&e);
        assert_eq!(
            pointers.shared_volume(),
            Some(&SharedVolume {
                dir: PathBuf::from("/app/files"),
                service_dir: None
            })
        );
    }

    #[tokio::test]
    async fn shared_files_are_linked_in_and_removed_after() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        let volume = SharedVolume {
            dir: shared.clone(),
            service_dir: None,
        };
        let source = dir.path().join("spool.pdf");
        std::fs::write(&source, b"%PDF-1.4").unwrap();
        let placed = place_file(&volume, &source).await.unwrap();
        assert!(placed.path.starts_with(&shared));
        assert_eq!(placed.path.extension().unwrap(), "pdf");
        assert_eq!(std::fs::read(&placed.path).unwrap(), b"%PDF-1.4");
        let path = placed.path.clone();
        drop(placed);
        assert!(!path.exists() && source.exists());
        // A file already in the directory is sent as it is, and left there.
        let inside = shared.join("already.txt");
        std::fs::write(&inside, b"x").unwrap();
        let placed = place_file(&volume, &inside).await.unwrap();
        assert!(!placed.remove);
        drop(placed);
        assert!(inside.exists());
        // A missing directory is named.
        let missing = SharedVolume {
            dir: dir.path().join("nowhere"),
            service_dir: None,
        };
        let err = place_file(&missing, &source).await.unwrap_err().to_string();
        assert!(
            err.contains("nowhere") && err.contains("shared volume"),
            "{err}"
        );
        let err = place_bytes(&missing, b"x", "a.txt").await.err().unwrap();
        assert!(err.to_string().contains("nowhere"), "{err}");
    }
}
