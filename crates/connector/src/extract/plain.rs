//! Text files (decoded), HTML (the storage-format converter) and XML (its text nodes).

use super::limits::TextOut;
use super::xml::{self, Spec};
use super::{Failure, Input};

/// Plain text: UTF-8, or UTF-16 with a byte-order mark, or else Windows-1252.
pub(crate) fn text(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    // UTF-16 needs two bytes a character; a few more finish the last character.
    let bytes = input.head(out.room().saturating_mul(2).saturating_add(4))?;
    out.push(&decode(&bytes)?);
    Ok(())
}

/// HTML through the storage-format converter, which reads XHTML and lenient HTML alike.
pub(crate) fn html(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    let html = decode(&input.all()?)?;
    out.push(&crate::text::storage_to_text(&html));
    Ok(())
}

/// XML and SVG: every text node, one line per element that holds text.
pub(crate) fn xml(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    /// Every element ends a line: XML has no paragraphs, so each text node stands alone.
    const LINES: Spec = Spec {
        text_in: &[],
        para: &["*"],
        cell: &[],
        tab: &[],
        line: &[],
        space: &[],
        skip: &["style", "script"],
    };
    let text = decode(&input.all()?)?;
    xml::collect(text.as_bytes(), &LINES, out)
}

/// Decodes text bytes; NUL bytes in a file without a UTF-16 byte-order mark mean binary.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, Failure> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Ok(String::from_utf8_lossy(rest).into_owned());
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return Ok(utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return Ok(utf16(rest, u16::from_be_bytes));
    }
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return Err(Failure::Corrupt(
            "it holds binary data, not text".to_owned(),
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        // A cut inside the last character (a capped read) is not an encoding problem.
        Err(e) if e.error_len().is_none() => {
            Ok(String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned())
        }
        Err(_) => Ok(bytes.iter().map(|&b| windows_1252(b)).collect()),
    }
}

fn utf16(bytes: &[u8], read: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| read([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Windows-1252, the usual encoding of old Western text files that are not UTF-8.
pub(crate) fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}
