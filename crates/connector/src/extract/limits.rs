//! The limits of one extraction, the bounded text buffer every reader writes to, and the
//! decompression budget: every byte a reader inflates (zip parts, PDF streams) or pulls out of a
//! container is counted as it streams, and a file that produces more than the budget is refused
//! with a note instead of exhausting memory.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Extraction, Failure};
use crate::config::{ExtractionSettings, HttpSettings};

const MIB: u64 = 1024 * 1024;

/// Bytes a file may decompress to, per download-cap byte (an average ratio: office XML
/// compresses about 10:1, text-heavy PDF streams 3-5:1).
pub const DECOMPRESSION_RATIO: u64 = 64;
/// The decompression budget never goes below this (small download caps)...
pub const MIN_DECOMPRESSED_BYTES: u64 = 32 * MIB;
/// ...nor above this, whatever the caps: several files are extracted at once.
pub const MAX_DECOMPRESSED_BYTES: u64 = 256 * MIB;
/// Largest single XML event (one element tag, text run, comment or CDATA section) read from a
/// zip part: the XML reader holds one event in memory at a time.
pub const MAX_XML_EVENT_BYTES: u64 = 16 * MIB;

/// The decompression budget of one file: `64 x` the download cap, at least `4 x` the text cap,
/// clamped to 32..=256 MiB. With the defaults (10 MiB downloads, 2 MiB of text): 256 MiB.
pub fn decompression_budget(max_download_bytes: u64, max_text_bytes: u64) -> u64 {
    max_download_bytes
        .saturating_mul(DECOMPRESSION_RATIO)
        .max(max_text_bytes.saturating_mul(4))
        .clamp(MIN_DECOMPRESSED_BYTES, MAX_DECOMPRESSED_BYTES)
}

/// Limits applied to the extraction of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Text kept per file, in bytes; the rest is cut and the cut noted.
    pub max_text_bytes: usize,
    /// Time allowed to extract one file in-process.
    pub timeout: Duration,
    /// Bytes one file may decompress to (all its zip parts, PDF streams, compound-file streams
    /// together), counted as they stream: past it the file is refused with a note
    /// ([`decompression_budget`]).
    pub max_decompressed_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_settings(&ExtractionSettings::default())
    }
}

impl Limits {
    /// The limits a configuration asks for, with the budget of the default download cap.
    pub fn from_settings(settings: &ExtractionSettings) -> Limits {
        Limits::from_config(settings, &HttpSettings::default())
    }

    /// The limits of a configuration's extraction settings and download cap.
    pub fn from_config(settings: &ExtractionSettings, http: &HttpSettings) -> Limits {
        Limits {
            max_text_bytes: usize::try_from(settings.max_text_bytes.max(1)).unwrap_or(usize::MAX),
            timeout: Duration::from_secs(settings.timeout_secs.max(1)),
            max_decompressed_bytes: decompression_budget(
                http.max_download_bytes,
                settings.max_text_bytes,
            ),
        }
    }
}

/// The bytes one extraction may still produce, shared by every reader of the file.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    left: Arc<AtomicU64>,
    total: u64,
}

/// The error a [`Bounded`] reader returns past the budget; [`Failure`] recognises it.
#[derive(Debug)]
pub(crate) struct OverBudget(pub String);

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OverBudget {}

impl OverBudget {
    /// The budget failure hidden in an I/O error, if it is one.
    pub fn find(err: &io::Error) -> Option<Failure> {
        err.get_ref()
            .and_then(|e| e.downcast_ref::<OverBudget>())
            .map(|e| Failure::Bomb(e.0.clone()))
    }
}

impl Budget {
    pub fn new(total: u64) -> Budget {
        Budget {
            left: Arc::new(AtomicU64::new(total)),
            total,
        }
    }

    /// The whole budget.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// What is left of it.
    pub fn left(&self) -> u64 {
        self.left.load(Ordering::Relaxed)
    }

    /// The reason given when the budget is exceeded.
    pub fn reason(&self) -> String {
        format!("decompresses to more than {}", human_bytes(self.total))
    }

    /// Counts `n` produced bytes; past the budget, the file is refused.
    pub fn spend(&self, n: u64) -> Result<(), Failure> {
        let mut left = self.left.load(Ordering::Relaxed);
        loop {
            let Some(rest) = left.checked_sub(n) else {
                self.left.store(0, Ordering::Relaxed);
                return Err(Failure::Bomb(self.reason()));
            };
            match self
                .left
                .compare_exchange(left, rest, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(now) => left = now,
            }
        }
    }

    /// Refuses up front what a container declares it would produce.
    pub fn check_declared(&self, n: u64) -> Result<(), Failure> {
        if n > self.left.load(Ordering::Relaxed) {
            return Err(Failure::Bomb(self.reason()));
        }
        Ok(())
    }

    /// `inner`, with every byte it produces counted against the budget.
    pub fn reader<R: Read>(&self, inner: R) -> Bounded<R> {
        Bounded {
            inner,
            budget: self.clone(),
        }
    }
}

/// A reader whose output counts against a [`Budget`]: past it, reads fail with [`OverBudget`].
pub(crate) struct Bounded<R> {
    inner: R,
    budget: Budget,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(Failure::Bomb(why)) = self.budget.spend(n as u64) {
            return Err(io::Error::other(OverBudget(why)));
        }
        Ok(n)
    }
}

/// A reader of XML that fails on one event (tag, text run, comment, CDATA section, processing
/// instruction, declaration) longer than `max` bytes: quick-xml buffers a whole event, so a
/// part made of one 1 GiB text run would otherwise be held in memory at once.
pub(crate) struct XmlGuard<R> {
    inner: R,
    max: u64,
    run: u64,
    state: Lex,
    /// The last two bytes, for the `-->`, `]]>` and `?>` ends.
    last: [u8; 2],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Text,
    /// Just after `<`.
    Open,
    /// Just after `<!`.
    Bang,
    Tag(Option<u8>),
    Comment,
    CData,
    Pi,
    /// `<!DOCTYPE ...>` and friends, with the depth of `[`.
    Decl(u32),
}

impl<R> XmlGuard<R> {
    pub fn new(inner: R, max: u64) -> XmlGuard<R> {
        XmlGuard {
            inner,
            max,
            run: 0,
            state: Lex::Text,
            last: [0; 2],
        }
    }

    fn step(&mut self, b: u8) {
        let ends = |s: &[u8; 2], a: u8, b2: u8| s[0] == a && s[1] == b2;
        let next = match self.state {
            Lex::Text if b == b'<' => {
                self.run = 0;
                Lex::Open
            }
            Lex::Text => Lex::Text,
            Lex::Open => match b {
                b'!' => Lex::Bang,
                b'?' => Lex::Pi,
                b'>' => Lex::Text,
                b'"' | b'\'' => Lex::Tag(Some(b)),
                _ => Lex::Tag(None),
            },
            Lex::Bang => match b {
                b'-' => Lex::Comment,
                b'[' => Lex::CData,
                b'>' => Lex::Text,
                _ => Lex::Decl(0),
            },
            Lex::Tag(None) => match b {
                b'>' => Lex::Text,
                b'"' | b'\'' => Lex::Tag(Some(b)),
                _ => Lex::Tag(None),
            },
            Lex::Tag(Some(q)) if b == q => Lex::Tag(None),
            Lex::Tag(q) => Lex::Tag(q),
            Lex::Comment if b == b'>' && ends(&self.last, b'-', b'-') => Lex::Text,
            Lex::CData if b == b'>' && ends(&self.last, b']', b']') => Lex::Text,
            Lex::Pi if b == b'>' && self.last[1] == b'?' => Lex::Text,
            Lex::Decl(0) if b == b'>' => Lex::Text,
            Lex::Decl(d) if b == b'[' => Lex::Decl(d + 1),
            Lex::Decl(d) if b == b']' => Lex::Decl(d.saturating_sub(1)),
            s => s,
        };
        if next == Lex::Text && self.state != Lex::Text {
            self.run = 0;
        } else {
            self.run += 1;
        }
        self.state = next;
        self.last = [self.last[1], b];
    }
}

impl<R: Read> Read for XmlGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            self.step(b);
            if self.run > self.max {
                return Err(io::Error::other(OverBudget(format!(
                    "holds one XML element or text run larger than {}",
                    human_bytes(self.max)
                ))));
            }
        }
        Ok(n)
    }
}

/// Text as readers produce it, bounded: past the cap, writes are dropped and the cut is noted.
/// It also carries the file's decompression [`Budget`], which every reader sees through it.
#[derive(Debug)]
pub(crate) struct TextOut {
    buf: String,
    cap: usize,
    truncated: bool,
    budget: Budget,
}

impl TextOut {
    /// A buffer with the default decompression budget.
    pub fn new(cap: usize) -> TextOut {
        TextOut::with_budget(cap, Budget::new(Limits::default().max_decompressed_bytes))
    }

    pub fn with_budget(cap: usize, budget: Budget) -> TextOut {
        TextOut {
            buf: String::new(),
            cap,
            truncated: false,
            budget,
        }
    }

    /// The decompression budget of the file being read.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Whether the cap was reached: readers may stop early.
    pub fn full(&self) -> bool {
        self.truncated
    }

    /// Bytes that still fit.
    pub fn room(&self) -> usize {
        self.cap.saturating_sub(self.buf.len())
    }

    /// Appends `s`, or as much of it as fits (cut at a character boundary).
    pub fn push(&mut self, s: &str) {
        if self.truncated {
            return;
        }
        let room = self.cap.saturating_sub(self.buf.len());
        if s.len() <= room {
            self.buf.push_str(s);
        } else {
            let mut end = room;
            while end > 0 && !s.is_char_boundary(end) {
                end -= 1;
            }
            self.buf.push_str(&s[..end]);
            self.truncated = true;
        }
    }

    /// Appends a character, dropping control characters other than tab and newline.
    pub fn push_char(&mut self, c: char) {
        if c == '\n' || c == '\t' || !c.is_control() {
            let mut tmp = [0u8; 4];
            self.push(c.encode_utf8(&mut tmp));
        }
    }

    /// Ends the current line, unless the text is empty or already ends one.
    pub fn newline(&mut self) {
        if !self.buf.is_empty() && !self.buf.ends_with('\n') {
            self.push("\n");
        }
    }

    /// A separator between cells or words, unless at a line start or after whitespace.
    pub fn sep(&mut self, sep: &str) {
        if !self.buf.is_empty() && !self.buf.ends_with(['\n', '\t', ' ']) {
            self.push(sep);
        }
    }

    /// Ends a table cell: a tab instead of the space a paragraph inside it left.
    pub fn end_cell(&mut self) {
        if self.buf.ends_with(' ') {
            self.buf.pop();
        }
        self.sep("\t");
    }

    /// The text (trailing whitespace on lines and runs of blank lines removed), or why none.
    pub fn finish(self, ext: &str) -> Extraction {
        let mut text = String::with_capacity(self.buf.len());
        let mut blank = 0;
        for line in self.buf.lines() {
            let line = line.trim_end();
            if line.is_empty() {
                blank += 1;
                continue;
            }
            if !text.is_empty() {
                text.push_str(if blank > 0 { "\n\n" } else { "\n" });
            }
            blank = 0;
            text.push_str(line);
        }
        if text.trim().is_empty() {
            return Extraction::none(format!("the `.{ext}` file holds no text"));
        }
        let note = self.truncated.then(|| {
            format!(
                "text cut at {} (the extracted-text cap)",
                human_bytes(self.cap as u64)
            )
        });
        Extraction {
            text: Some(text),
            note,
            failed: false,
            poisoned: false,
        }
    }
}

/// `10 MiB`, `512 KiB`, `300 bytes`.
pub(crate) fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= MIB {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    } else if n >= 1024 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// `30 s`, `1.5 s`.
pub(crate) fn human_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The note of a file over the download cap.
pub(crate) fn too_large_note(size: u64, cap: u64) -> String {
    format!(
        "the file ({}) is larger than the {} download cap",
        human_bytes(size),
        human_bytes(cap)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_cuts_at_a_character_boundary_and_is_noted() {
        let mut out = TextOut::new(5);
        out.push("héllo");
        assert!(out.full());
        let e = out.finish("txt");
        assert_eq!(e.text.as_deref(), Some("héll"));
        assert_eq!(
            e.note.as_deref(),
            Some("text cut at 5 bytes (the extracted-text cap)")
        );
    }

    #[test]
    fn blank_runs_collapse_and_empty_text_explains_itself() {
        let mut out = TextOut::new(100);
        out.push("a  \n\n\n\nb\n");
        assert_eq!(out.finish("txt").text.as_deref(), Some("a\n\nb"));
        let e = TextOut::new(10).finish("pdf");
        assert_eq!(e.note.as_deref(), Some("the `.pdf` file holds no text"));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(10 * 1024 * 1024), "10 MiB");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MiB");
        assert_eq!(
            too_large_note(11 * 1024 * 1024, 10 * 1024 * 1024),
            "the file (11 MiB) is larger than the 10 MiB download cap"
        );
    }
}
