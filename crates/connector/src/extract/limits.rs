//! The limits of one extraction, and the bounded text buffer every reader writes to.

use std::time::Duration;

use super::Extraction;
use crate::config::ExtractionSettings;

/// Limits applied to the extraction of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Text kept per file, in bytes; the rest is cut and the cut noted.
    pub max_text_bytes: usize,
    /// Time allowed to extract one file in-process.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_settings(&ExtractionSettings::default())
    }
}

impl Limits {
    /// The limits a configuration asks for.
    pub fn from_settings(settings: &ExtractionSettings) -> Limits {
        Limits {
            max_text_bytes: usize::try_from(settings.max_text_bytes.max(1)).unwrap_or(usize::MAX),
            timeout: Duration::from_secs(settings.timeout_secs.max(1)),
        }
    }
}

/// Text as readers produce it, bounded: past the cap, writes are dropped and the cut is noted.
#[derive(Debug)]
pub(crate) struct TextOut {
    buf: String,
    cap: usize,
    truncated: bool,
}

impl TextOut {
    pub fn new(cap: usize) -> TextOut {
        TextOut {
            buf: String::new(),
            cap,
            truncated: false,
        }
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
