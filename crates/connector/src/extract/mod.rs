//! Attachment text: what the engine can read out of a downloaded file.
//!
//! One module per format family, all in-process and in pure Rust:
//!
//! | formats | module | how |
//! | --- | --- | --- |
//! | TXT, Markdown, reST, CSV/TSV, JSON, YAML, logs, source code, `.paper` | `plain` | UTF-8, or UTF-16 with a byte-order mark |
//! | HTML, XHTML, ASPX | `plain` | the storage-format converter ([`crate::text`]) |
//! | XML, SVG | `plain` | the text nodes (quick-xml) |
//! | PDF | `pdf` | pdf-extract (over lopdf); encrypted files tried with the empty password |
//! | DOCX, DOCM, DOTX, PPTX, PPTM, POTX, PPSX, VSDX, VSDM | `ooxml` | zip + quick-xml over the parts that hold text |
//! | XLSX, XLSM, XLSB, XLS | `sheet` | calamine, one line per row, cells separated by tabs |
//! | ODT, ODS, ODP (and their templates) | `odf` | zip + quick-xml over `content.xml` |
//! | RTF | `rtf` | a small tokenizer: groups, control words, hex and Unicode escapes |
//! | DOC, PPT, MSG | `ole` | cfb (compound files): the Word piece table, PowerPoint text atoms, Outlook properties |
//!
//! Every other extension gets a metadata-only document whose `extraction_note` says why it has
//! no text. Legacy Visio (`.vsd`) is on the reference's allow-list but has no in-process reader:
//! no Rust library reads its compressed binary format (Apache POI's HDGF, in Java, is the only
//! open reader besides LibreOffice's C++ libvisio), so its note points to the extraction
//! service, whose Tika reads it. [`Extractor`] adds the limits of a sync (the download cap, a cap
//! on the text kept, a decompression budget, a time limit per file, panics caught) and, when
//! `use_text_extraction_service` is on, sends files to the configured [`Service`] instead: an
//! Apache Tika server ([`tika`]) or Elastic's data extraction service ([`elastic_service`],
//! uploading each file or, in its shared-volume mode, sending the file's path).
//!
//! Hostile files: what a file decompresses to (zip parts, PDF streams, compound-file streams) is
//! counted as it streams against [`Limits::max_decompressed_bytes`]; a file over it gives a
//! failure note ("decompresses to more than 256 MiB: not extracted (a decompression bomb?)")
//! and [`Extraction::poisoned`]. [`Quarantine`] remembers such files (and files whose extraction
//! killed the process) by attachment id and version, so that the next sync does not try again.

pub mod elastic_service;
mod formats;
mod limits;
mod odf;
mod ole;
mod ooxml;
mod pdf;
mod plain;
mod quarantine;
mod rtf;
mod sheet;
pub mod tika;
mod xml;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use formats::{ALLOW_LIST, Format};
pub use limits::{Limits, decompression_budget};
pub use quarantine::{Attempt, Quarantine, note as quarantine_note};

use crate::config::{ConnectorConfig, ExtractionServiceKind, ExtractionSettings};

/// What came out of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extraction {
    /// The text, when there is some.
    pub text: Option<String>,
    /// Why there is no text, or what was left out.
    pub note: Option<String>,
    /// Whether the note reports a failure (a corrupt or encrypted file, a time-out, the service
    /// failing) rather than a policy (an unsupported format, a cap): the sync warns about these.
    pub failed: bool,
    /// Whether the file is hostile to the extractor: it exceeded the decompression budget or
    /// made a reader crash (a time-out is not: a busy machine slows honest files). Such a file
    /// belongs in the [`Quarantine`]: trying it again at every sync only repeats the damage.
    pub poisoned: bool,
}

impl Extraction {
    /// No text, for the given reason.
    pub fn none(note: impl Into<String>) -> Extraction {
        Extraction {
            text: None,
            note: Some(note.into()),
            failed: false,
            poisoned: false,
        }
    }

    /// No text, because reading the file failed.
    pub fn failure(note: impl Into<String>) -> Extraction {
        Extraction {
            failed: true,
            ..Extraction::none(note)
        }
    }

    /// No text, because the file is hostile (see [`Extraction::poisoned`]).
    pub fn poisoned(note: impl Into<String>) -> Extraction {
        Extraction {
            poisoned: true,
            ..Extraction::failure(note)
        }
    }
}

/// Why a format reader gave up.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The file is protected by a password.
    Encrypted,
    /// The file is not what its extension says, or is damaged.
    Corrupt(String),
    /// The file decompresses to more than the budget (the reason, e.g. "decompresses to more
    /// than 256 MiB").
    Bomb(String),
}

impl Failure {
    fn corrupt(what: &str, err: impl std::fmt::Display) -> Failure {
        Failure::Corrupt(format!("{what}: {err}"))
    }

    fn note(&self, ext: &str) -> String {
        match self {
            Failure::Encrypted => format!("the `.{ext}` file is encrypted (password-protected)"),
            Failure::Corrupt(why) => format!("the `.{ext}` file could not be read: {why}"),
            Failure::Bomb(why) => {
                format!("the `.{ext}` file {why}: not extracted (a decompression bomb?)")
            }
        }
    }
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Self {
        limits::OverBudget::find(&err)
            .unwrap_or_else(|| Failure::Corrupt(format!("read error: {err}")))
    }
}

/// A file to read: bytes in memory or a file on disk (a streamed download).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Input<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// A reader that can also seek (zip, compound files, spreadsheets).
pub(crate) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

impl<'a> Input<'a> {
    /// A seekable reader over the whole input.
    fn open(self) -> io::Result<Box<dyn ReadSeek + 'a>> {
        Ok(match self {
            Input::Bytes(b) => Box::new(io::Cursor::new(b)),
            Input::File(p) => Box::new(io::BufReader::new(std::fs::File::open(p)?)),
        })
    }

    /// The first `max` bytes (all of a file that is no longer).
    fn head(self, max: usize) -> io::Result<Cow<'a, [u8]>> {
        Ok(match self {
            Input::Bytes(b) => Cow::Borrowed(&b[..b.len().min(max)]),
            Input::File(p) => {
                let file = std::fs::File::open(p)?;
                // Sized once: growing by doubling would hold up to three times the file.
                let len = file.metadata().map_or(0, |m| m.len());
                let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(max));
                file.take(max as u64).read_to_end(&mut out)?;
                Cow::Owned(out)
            }
        })
    }

    /// The whole input in memory.
    fn all(self) -> io::Result<Cow<'a, [u8]>> {
        self.head(usize::MAX)
    }
}

/// Whether `extension` names a format the engine extracts text from in-process.
pub fn is_supported(extension: &str) -> bool {
    Format::of(extension).is_some()
}

/// The note of legacy Visio drawings, which only the extraction service reads.
pub const VSD_NOTE: &str = "legacy Visio `.vsd` files (Visio 2010 and earlier) have no in-process \
    reader: no Rust library reads their compressed binary format; turn on the text extraction \
    service (Apache Tika and Elastic's data extraction service read them), or save the drawing \
    as `.vsdx`";

/// Why a file with `extension` gets no text in-process.
pub fn unsupported_note(extension: &str) -> String {
    let ext = extension.trim_start_matches('.').to_ascii_lowercase();
    if ext.is_empty() {
        "the file has no extension, so its format is unknown".to_owned()
    } else if ext == "vsd" {
        VSD_NOTE.to_owned()
    } else {
        format!(
            "no in-process text extraction for `.{ext}` files (the text extraction service may read them)"
        )
    }
}

/// Extracts the text of a file from its bytes and extension, with the default limits and no
/// time limit. Never panics: a panic in a format reader becomes a note.
pub fn extract(bytes: &[u8], extension: &str) -> Extraction {
    extract_with(Input::Bytes(bytes), extension, &Limits::default())
}

/// Extracts the text of a file on disk, without a time limit (see [`extract_file`]).
pub fn extract_path(path: &Path, extension: &str, limits: &Limits) -> Extraction {
    extract_with(Input::File(path), extension, limits)
}

fn extract_with(input: Input<'_>, extension: &str, limits: &Limits) -> Extraction {
    let ext = extension.trim_start_matches('.').to_ascii_lowercase();
    let Some(format) = Format::of(&ext) else {
        return Extraction::none(unsupported_note(&ext));
    };
    let budget = limits::Budget::new(limits.max_decompressed_bytes);
    let mut out = limits::TextOut::with_budget(limits.max_text_bytes, budget);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        format.read(input, &mut out)
    }));
    match result {
        Ok(Ok(())) => out.finish(&ext),
        Ok(Err(failure @ Failure::Bomb(_))) => Extraction::poisoned(failure.note(&ext)),
        Ok(Err(failure)) => {
            let note = failure.note(&ext);
            Extraction::failure(note)
        }
        Err(_) => {
            let note = format!("the `.{ext}` file could not be read: the reader crashed on it");
            Extraction::poisoned(note)
        }
    }
}

/// Blocking threads that in-process extraction may occupy at once, including readers that
/// overran their time and are still running (a thread cannot be stopped): half of the sync
/// runtime's pool ([`crate::sync::BLOCKING_THREADS`]), so that files stuck in a reader never
/// starve the spooling of downloads or the local index's writes.
pub const EXTRACTION_THREADS: usize = crate::sync::BLOCKING_THREADS / 2;

static THREADS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(EXTRACTION_THREADS);

/// A file to extract: on disk, or its bytes (a small download kept in memory).
#[derive(Debug, Clone)]
pub enum Source {
    /// A file on disk.
    Path(PathBuf),
    /// The whole file.
    Bytes(Vec<u8>),
}

impl From<&Path> for Source {
    fn from(path: &Path) -> Source {
        Source::Path(path.to_owned())
    }
}

impl From<&PathBuf> for Source {
    fn from(path: &PathBuf) -> Source {
        Source::Path(path.clone())
    }
}

/// Extracts the text of a file on disk on a blocking thread, within `limits.timeout` (waiting
/// for a thread included, see [`EXTRACTION_THREADS`]). A file that takes longer yields a note;
/// its thread is left to finish in the background and holds its place until it does.
pub async fn extract_file(path: PathBuf, extension: String, limits: Limits) -> Extraction {
    extract_source(Source::Path(path), extension, limits).await
}

/// [`extract_file`] for a file on disk or in memory.
pub async fn extract_source(source: Source, extension: String, limits: Limits) -> Extraction {
    let timeout = limits.timeout;
    let ext = extension.clone();
    let task = async move {
        // The semaphore is never closed.
        let place = THREADS.acquire().await.ok();
        tokio::task::spawn_blocking(move || {
            let _place = place;
            let input = match &source {
                Source::Path(path) => Input::File(path),
                Source::Bytes(bytes) => Input::Bytes(bytes),
            };
            extract_with(input, &extension, &limits)
        })
        .await
    };
    match tokio::time::timeout(timeout, task).await {
        Ok(Ok(extraction)) => extraction,
        Ok(Err(err)) => Extraction::poisoned(format!(
            "the `.{ext}` file could not be read: the reader stopped ({err})"
        )),
        Err(_) => {
            let note = format!(
                "text extraction of the `.{ext}` file took longer than {}",
                limits::human_duration(timeout)
            );
            // Not poisoned: a busy machine makes honest files slow too. The next sync retries.
            Extraction::failure(note)
        }
    }
}

/// The text extraction service `use_text_extraction_service` sends files to.
#[derive(Debug, Clone)]
pub enum Service {
    /// An Apache Tika server.
    Tika(tika::Tika),
    /// Elastic's data extraction service.
    Elastic(elastic_service::ElasticService),
}

impl From<tika::Tika> for Service {
    fn from(tika: tika::Tika) -> Self {
        Service::Tika(tika)
    }
}

impl From<elastic_service::ElasticService> for Service {
    fn from(service: elastic_service::ElasticService) -> Self {
        Service::Elastic(service)
    }
}

impl Service {
    /// The service the extraction settings name (`service_kind`, URL, time limit, and for
    /// Elastic's service the shared-volume mode).
    pub fn from_settings(e: &ExtractionSettings) -> Service {
        match e.service_kind {
            ExtractionServiceKind::Tika => Service::Tika(tika::Tika::new(
                &e.service_url,
                Duration::from_secs(e.service_timeout_secs.max(1)),
            )),
            ExtractionServiceKind::Elastic => {
                Service::Elastic(elastic_service::ElasticService::from_settings(e))
            }
        }
    }

    /// The service URL.
    pub fn url(&self) -> &str {
        match self {
            Service::Tika(t) => t.url(),
            Service::Elastic(e) => e.url(),
        }
    }

    /// Sends a small text file through the service the way a sync sends attachments (in the
    /// shared-volume mode too) and checks that its text comes back: what "Test connection"
    /// asks. `Err` says what went wrong, in the words of the extraction notes.
    pub async fn probe(&self) -> Result<(), String> {
        const SENTENCE: &str = "Confluence connector extraction probe";
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "confluence-connector-probe-{}-{nanos}.txt",
            std::process::id()
        ));
        std::fs::write(&path, SENTENCE)
            .map_err(|e| format!("writing a probe file in `{}`: {e}", path.display()))?;
        let text = self.extract_file(&path).await;
        let _ = std::fs::remove_file(&path);
        let text = text?;
        if text.contains(SENTENCE) {
            Ok(())
        } else {
            Err(format!(
                "the service answered, but not with the text of the probe file (got {} \
                 characters): is `extraction_service_kind` the service at this URL?",
                text.chars().count()
            ))
        }
    }

    /// The text of the file at `path`, or why there is none.
    pub async fn extract_file(&self, path: &Path) -> Result<String, String> {
        match self {
            Service::Tika(t) => t.extract_file(path).await.map_err(|e| e.to_string()),
            Service::Elastic(e) => e.extract_file(path).await.map_err(|e| e.to_string()),
        }
    }
}

/// The attachment policy of a sync: which files to download, and how to get their text.
#[derive(Debug, Clone)]
pub struct Extractor {
    limits: Limits,
    /// Largest file downloaded in-process mode; the service has no cap (the reference's rule).
    max_download_bytes: u64,
    service: Option<Service>,
}

impl Extractor {
    /// The policy a configuration asks for.
    pub fn new(config: &ConnectorConfig) -> Extractor {
        let e = &config.extraction;
        Extractor {
            limits: Limits::from_config(e, &config.http),
            max_download_bytes: config.http.max_download_bytes,
            service: config
                .use_text_extraction_service
                .then(|| Service::from_settings(e)),
        }
    }

    /// An in-process policy with these limits.
    pub fn in_process(limits: Limits, max_download_bytes: u64) -> Extractor {
        Extractor {
            limits,
            max_download_bytes,
            service: None,
        }
    }

    /// A policy that sends every file to `service` (a [`tika::Tika`], an
    /// [`elastic_service::ElasticService`] or a [`Service`]).
    pub fn with_service(limits: Limits, service: impl Into<Service>) -> Extractor {
        Extractor {
            limits,
            max_download_bytes: u64::MAX,
            service: Some(service.into()),
        }
    }

    /// The limits of in-process extraction.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether files go to the extraction service.
    pub fn uses_service(&self) -> bool {
        self.service.is_some()
    }

    /// The extraction service files go to, if any.
    pub fn service(&self) -> Option<&Service> {
        self.service.as_ref()
    }

    /// The directory shared with Elastic's data extraction service in its file-pointer mode: a
    /// download spooled there is sent by its path as it is (elsewhere, it is linked or copied
    /// there for the time of its extraction).
    pub fn shared_volume_dir(&self) -> Option<&Path> {
        match &self.service {
            Some(Service::Elastic(e)) => e.shared_volume().map(|v| v.dir.as_path()),
            _ => None,
        }
    }

    /// Why a file of this extension and size is not downloaded, or `None` to download it.
    pub fn skip_reason(&self, extension: &str, size: Option<u64>) -> Option<String> {
        let ext = extension.trim_start_matches('.').to_ascii_lowercase();
        if ext.is_empty() {
            return Some(unsupported_note(&ext));
        }
        if size == Some(0) {
            return Some("the file is empty".to_owned());
        }
        if self.service.is_some() {
            return None;
        }
        if !is_supported(&ext) {
            return Some(unsupported_note(&ext));
        }
        match size {
            Some(size) if size > self.max_download_bytes => {
                Some(limits::too_large_note(size, self.max_download_bytes))
            }
            _ => None,
        }
    }

    /// About the most memory the extraction of a file of `size` bytes with `extension` holds
    /// in this process (see [`Format::memory_estimate`]): the text the service answers when it
    /// reads the file, nothing for a file no reader takes.
    pub fn memory_estimate(&self, extension: &str, size: u64) -> u64 {
        let max_text = self.limits.max_text_bytes as u64;
        if self.service.is_some() {
            return max_text.saturating_mul(2);
        }
        Format::of(extension).map_or(0, |f| f.memory_estimate(size, max_text))
    }

    /// The text of a downloaded file, within the limits.
    pub async fn extract(&self, path: &Path, extension: &str) -> Extraction {
        self.extract_source(Source::Path(path.to_owned()), extension)
            .await
    }

    /// [`Extractor::extract`] for a file on disk or in memory.
    pub async fn extract_source(&self, source: Source, extension: &str) -> Extraction {
        let Some(service) = &self.service else {
            return extract_source(source, extension.to_owned(), self.limits.clone()).await;
        };
        // The services take files; a download is kept in memory only for in-process reading,
        // so this copy is for callers that hand over bytes themselves.
        let written;
        let path = match &source {
            Source::Path(path) => path.as_path(),
            Source::Bytes(bytes) => {
                written = match tempfile::Builder::new()
                    .suffix(&format!(".{extension}"))
                    .tempfile()
                    .and_then(|mut f| std::io::Write::write_all(&mut f, bytes).map(|()| f))
                {
                    Ok(file) => file,
                    Err(err) => {
                        return Extraction::failure(format!(
                            "could not write the file for the text extraction service: {err}"
                        ));
                    }
                };
                written.path()
            }
        };
        let extraction = service.extract_file(path).await;
        let mut out = limits::TextOut::new(self.limits.max_text_bytes);
        match extraction {
            Ok(text) => {
                out.push(&text);
                out.finish(extension)
            }
            Err(err) => Extraction::failure(format!("the text extraction service failed: {err}")),
        }
    }

    /// [`Extractor::extract`] for attachment `id` at `version`, through `quarantine`: a file
    /// quarantined by an earlier sync is not read again (its note says why); a file that is
    /// [`Extraction::poisoned`] now is quarantined; and the attempt is marked on disk while it
    /// runs, so that a file whose extraction kills the process is quarantined by the next sync.
    /// A quarantine that cannot be written only costs a warning.
    pub async fn extract_guarded(
        &self,
        quarantine: &Quarantine,
        id: &str,
        version: u64,
        source: impl Into<Source>,
        extension: &str,
    ) -> Extraction {
        if let Some(reason) = quarantine.reason(id, version) {
            return Extraction::failure(quarantine::note(&reason));
        }
        let attempt = quarantine.attempt(id, version);
        if let Err(err) = &attempt {
            tracing::warn!(id, version, "could not mark the extraction attempt: {err}");
        }
        let extraction = self.extract_source(source.into(), extension).await;
        if extraction.poisoned {
            let reason = extraction.note.clone().unwrap_or_default();
            if let Err(err) = quarantine.quarantine(id, version, &reason) {
                tracing::warn!(id, version, "could not quarantine the file: {err}");
            }
        }
        if let Ok(attempt) = attempt {
            attempt.finish();
        }
        extraction
    }
}

/// A download: in memory when it is small and read in-process, else written to a temporary file
/// (deleted when dropped) named with the extension, so that the extraction service can tell the
/// type.
#[derive(Debug)]
pub struct Spooled {
    body: Body,
    len: u64,
}

#[derive(Debug)]
enum Body {
    Memory(Vec<u8>),
    File(tempfile::NamedTempFile),
}

impl Spooled {
    /// The file to extract: its path (the file stays while `self` lives), or the bytes of a
    /// download held in memory, moved out.
    pub fn source(&mut self) -> Source {
        match &mut self.body {
            Body::File(file) => Source::Path(file.path().to_owned()),
            Body::Memory(bytes) => Source::Bytes(std::mem::take(bytes)),
        }
    }

    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Why a download could not be spooled.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The download failed (including [`crate::confluence::ClientError::TooLarge`]).
    #[error(transparent)]
    Download(#[from] crate::confluence::ClientError),
    /// The temporary file could not be written.
    #[error("could not write the download to a temporary file: {0}")]
    Io(#[from] io::Error),
}

/// The write buffer of a download being spooled.
const SPOOL_BUFFER: usize = 64 * 1024;

/// The largest download kept in memory instead of a file ([`spool`]'s `in_memory`): with
/// `concurrent_downloads` at its maximum of 50, 12.5 MiB at most. Most attachments are
/// smaller, and a file on disk costs a create, writes, a second open, reads and an unlink
/// (with the quarantine's per-file marks that went with them, 6% of a sync's CPU on the
/// simulator's medium site).
pub const IN_MEMORY_BYTES: usize = 256 * 1024;

/// Streams a download chunk by chunk: kept in memory while `in_memory` is set and it is no
/// larger than [`IN_MEMORY_BYTES`], else into a temporary file in `dir`: memory stays at one
/// chunk (and the write buffer) beyond that.
pub async fn spool(
    download: crate::confluence::Download,
    extension: &str,
    dir: Option<&std::path::Path>,
    in_memory: bool,
) -> Result<Spooled, SpoolError> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;

    let mut stream = download.into_stream();
    let mut head: Vec<u8> = Vec::new();
    let mut len = 0u64;
    let limit = if in_memory { IN_MEMORY_BYTES } else { 0 };
    let mut pending = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        len += chunk.len() as u64;
        if head.len() + chunk.len() > limit {
            pending = Some(chunk);
            break;
        }
        head.extend_from_slice(&chunk);
    }
    let Some(pending) = pending else {
        return Ok(Spooled {
            body: Body::Memory(head),
            len,
        });
    };
    let ext: String = extension
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    let suffix = format!(".{ext}");
    let mut builder = tempfile::Builder::new();
    builder.prefix("confluence-attachment-").suffix(&suffix);
    let file = match dir {
        Some(dir) => match builder.tempfile_in(dir) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)?;
                builder.tempfile_in(dir)?
            }
            Err(err) => return Err(err.into()),
        },
        None => builder.tempfile()?,
    };
    // tokio's file copies each write to its blocking thread through a buffer of up to 2 MiB
    // by default: 50 downloads at once held 67 MB that way. 64 KiB each is as fast.
    let mut spooled = tokio::fs::File::from_std(file.reopen()?);
    spooled.set_max_buf_size(SPOOL_BUFFER);
    let mut writer = tokio::io::BufWriter::with_capacity(SPOOL_BUFFER, spooled);
    writer.write_all(&head).await?;
    drop(head);
    writer.write_all(&pending).await?;
    drop(pending);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        len += chunk.len() as u64;
        writer.write_all(&chunk).await?;
    }
    writer.flush().await?;
    Ok(Spooled {
        body: Body::File(file),
        len,
    })
}
