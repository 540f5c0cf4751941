//! Office 97-2003 compound files (cfb): Word's piece table, PowerPoint's text atoms, Outlook's
//! message properties. Also how an encrypted Office 2007+ file is recognised: it is a compound
//! file holding an `EncryptedPackage` stream instead of a zip container.

use std::io::Read;

use super::limits::TextOut;
use super::plain::windows_1252;
use super::{Failure, Input, ReadSeek};

/// The first bytes of every compound file.
pub(crate) const MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Largest stream read, against damaged size fields.
const MAX_STREAM_BYTES: u64 = 256 * 1024 * 1024;

type Compound<'a> = cfb::CompoundFile<Box<dyn ReadSeek + 'a>>;

fn open(input: Input<'_>) -> Result<Compound<'_>, Failure> {
    cfb::CompoundFile::open(input.open()?)
        .map_err(|e| Failure::corrupt("not a valid Office 97-2003 compound file", e))
}

fn stream(file: &mut Compound<'_>, path: &str) -> Result<Option<Vec<u8>>, Failure> {
    if !file.is_stream(path) {
        return Ok(None);
    }
    let mut data = Vec::new();
    file.open_stream(path)
        .map_err(|e| Failure::corrupt(&format!("stream `{path}`"), e))?
        .take(MAX_STREAM_BYTES)
        .read_to_end(&mut data)?;
    Ok(Some(data))
}

/// Whether the compound file `input` has a stream at the root called `name`.
pub(crate) fn has_stream(input: Input<'_>, name: &str) -> bool {
    open(input).is_ok_and(|f| f.is_stream(format!("/{name}")))
}

/// What a compound file under an Office 2007+ extension means.
pub(crate) fn encrypted_package(input: Input<'_>) -> Failure {
    if has_stream(input, "EncryptedPackage") {
        Failure::Encrypted
    } else {
        Failure::Corrupt(
            "an Office 97-2003 file under an Office 2007+ extension; rename it".to_owned(),
        )
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn utf16(b: &[u8]) -> String {
    let units = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Word 97-2003: the text pieces of the piece table (`Clx` in the table stream), in order.
pub(crate) fn doc(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    let bad = |what: &str| Failure::Corrupt(format!("not a valid Word 97-2003 file: {what}"));
    let mut file = open(input)?;
    let word = stream(&mut file, "/WordDocument")?.ok_or_else(|| bad("no WordDocument stream"))?;
    if u16_at(&word, 0) != Some(0xA5EC) {
        return Err(bad("bad FIB signature"));
    }
    let flags = u16_at(&word, 0x0A).ok_or_else(|| bad("short FIB"))?;
    if flags & 0x0100 != 0 {
        return Err(Failure::Encrypted);
    }
    let table_name = if flags & 0x0200 != 0 {
        "/1Table"
    } else {
        "/0Table"
    };
    let table = stream(&mut file, table_name)?.ok_or_else(|| bad("no table stream"))?;
    let fc_clx = u32_at(&word, 0x01A2).ok_or_else(|| bad("short FIB"))? as usize;
    let lcb_clx = u32_at(&word, 0x01A6).ok_or_else(|| bad("short FIB"))? as usize;
    let clx = table
        .get(fc_clx..fc_clx.saturating_add(lcb_clx))
        .ok_or_else(|| bad("piece table out of range"))?;
    // Skip the Prc entries (formatting), up to the Pcdt (0x02).
    let mut at = 0;
    while clx.get(at) == Some(&0x01) {
        let cb = u16_at(clx, at + 1).ok_or_else(|| bad("short Prc"))? as usize;
        at += 3 + cb;
    }
    if clx.get(at) != Some(&0x02) {
        return Err(bad("no Pcdt in the piece table"));
    }
    let lcb = u32_at(clx, at + 1).ok_or_else(|| bad("short Pcdt"))? as usize;
    let plc = clx
        .get(at + 5..(at + 5).saturating_add(lcb))
        .ok_or_else(|| bad("short PlcPcd"))?;
    if plc.len() < 4 {
        return Err(bad("empty PlcPcd"));
    }
    let pieces = (plc.len() - 4) / 12;
    let mut text = String::new();
    for i in 0..pieces {
        let (Some(cp0), Some(cp1)) = (u32_at(plc, i * 4), u32_at(plc, i * 4 + 4)) else {
            break;
        };
        let pcd = (pieces + 1) * 4 + i * 8;
        let Some(fc) = u32_at(plc, pcd + 2) else {
            break;
        };
        let chars = cp1.saturating_sub(cp0) as usize;
        if fc & 0x4000_0000 != 0 {
            let start = ((fc & 0x3FFF_FFFF) / 2) as usize;
            let Some(raw) = word.get(start..start.saturating_add(chars)) else {
                continue;
            };
            text.extend(raw.iter().map(|&b| windows_1252(b)));
        } else {
            let start = fc as usize;
            let Some(raw) = word.get(start..start.saturating_add(chars * 2)) else {
                continue;
            };
            text.push_str(&utf16(raw));
        }
        if text.len() > out.room() {
            break;
        }
    }
    write_word_text(&text, out);
    Ok(())
}

/// Word's special characters: paragraph and cell marks, fields (instructions dropped).
fn write_word_text(text: &str, out: &mut TextOut) {
    // Nesting of fields: true while in an instruction (between 0x13 and 0x14).
    let mut fields: Vec<bool> = Vec::new();
    for c in text.chars() {
        match c {
            '\u{13}' => fields.push(true),
            '\u{14}' => {
                if let Some(f) = fields.last_mut() {
                    *f = false;
                }
            }
            '\u{15}' => {
                fields.pop();
            }
            _ if fields.last() == Some(&true) => {}
            '\r' | '\u{0B}' | '\u{0C}' => out.newline(),
            '\u{07}' => out.sep("\t"),
            '\u{1E}' => out.push("-"),
            '\u{A0}' => out.push(" "),
            '\u{01}' | '\u{08}' | '\u{1F}' => {}
            c => out.push_char(c),
        }
    }
}

/// PowerPoint 97-2003: the text atoms of the `PowerPoint Document` stream, in order.
pub(crate) fn ppt(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    let mut file = open(input)?;
    if file.is_stream("/EncryptedSummary") {
        return Err(Failure::Encrypted);
    }
    let data = stream(&mut file, "/PowerPoint Document")?.ok_or_else(|| {
        Failure::Corrupt("not a valid PowerPoint 97-2003 file: no document stream".to_owned())
    })?;
    records(&data, out, 0)
}

fn records(data: &[u8], out: &mut TextOut, depth: usize) -> Result<(), Failure> {
    const TEXT_CHARS: u16 = 0x0FA0;
    const TEXT_BYTES: u16 = 0x0FA8;
    const CRYPT_SESSION: u16 = 0x2F14;
    let mut at = 0;
    while at + 8 <= data.len() && !out.full() {
        let (Some(ver_inst), Some(kind), Some(len)) =
            (u16_at(data, at), u16_at(data, at + 2), u32_at(data, at + 4))
        else {
            break;
        };
        let body_start = at + 8;
        let body_end = body_start.saturating_add(len as usize).min(data.len());
        let body = &data[body_start..body_end];
        match kind {
            CRYPT_SESSION => return Err(Failure::Encrypted),
            TEXT_CHARS => write_slide_text(&utf16(body), out),
            TEXT_BYTES => write_slide_text(
                &body.iter().map(|&b| windows_1252(b)).collect::<String>(),
                out,
            ),
            _ if ver_inst & 0x000F == 0x000F && depth < 16 => records(body, out, depth + 1)?,
            _ => {}
        }
        at = body_end;
    }
    Ok(())
}

fn write_slide_text(text: &str, out: &mut TextOut) {
    for c in text.chars() {
        match c {
            '\r' | '\u{0B}' => out.newline(),
            c => out.push_char(c),
        }
    }
    out.newline();
}

/// Outlook message: subject, sender, recipients, then the plain body (or the HTML body).
pub(crate) fn msg(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    let mut file = open(input)?;
    let mut prop = |id: &str| -> Result<Option<String>, Failure> {
        if let Some(data) = stream(&mut file, &format!("/__substg1.0_{id}001F"))? {
            return Ok(Some(utf16(&data).trim_end_matches('\0').to_owned()));
        }
        if let Some(data) = stream(&mut file, &format!("/__substg1.0_{id}001E"))? {
            let s: String = data.iter().map(|&b| windows_1252(b)).collect();
            return Ok(Some(s.trim_end_matches('\0').to_owned()));
        }
        Ok(None)
    };
    let subject = prop("0037")?;
    let from = prop("0C1A")?;
    let to = prop("0E04")?;
    let cc = prop("0E03")?;
    let body = prop("1000")?;
    let html = if body.is_none() {
        stream(&mut file, "/__substg1.0_10130102")?
    } else {
        None
    };
    if subject.is_none() && body.is_none() && html.is_none() {
        return Err(Failure::Corrupt(
            "not an Outlook message: no subject and no body".to_owned(),
        ));
    }
    for (label, value) in [("Subject", subject), ("From", from), ("To", to), ("Cc", cc)] {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            out.push(&format!("{label}: {v}"));
            out.newline();
        }
    }
    out.push("\n");
    if let Some(body) = body {
        out.push(&body.replace("\r\n", "\n"));
    } else if let Some(html) = html {
        let html = super::plain::decode(&html).unwrap_or_default();
        out.push(&crate::text::storage_to_text(&html));
    }
    Ok(())
}
