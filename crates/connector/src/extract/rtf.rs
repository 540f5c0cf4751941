//! Rich Text Format: a small tokenizer over groups, control words and escapes. Destinations
//! that hold no document text (font and colour tables, style sheets, pictures, embedded objects,
//! field instructions, `\*` extensions) are skipped.

use super::limits::TextOut;
use super::plain::windows_1252;
use super::{Failure, Input};

/// Destinations whose content is not document text.
const SKIPPED: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "object",
    "objdata",
    "fldinst",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "filetbl",
    "revtbl",
    "pgdsctbl",
];

#[derive(Clone, Copy)]
struct Group {
    skip: bool,
    /// Characters to skip after `\uN` (`\ucN`).
    uc: usize,
}

pub(crate) fn read(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    let bytes = input.all()?;
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    if !bytes[start..].starts_with(b"{\\rtf") {
        return Err(Failure::Corrupt("no `{\\rtf` header".to_owned()));
    }
    let mut stack: Vec<Group> = Vec::new();
    let mut g = Group { skip: false, uc: 1 };
    // Fallback characters still to skip after a `\u`.
    let mut pending_skip = 0usize;
    let mut i = start;
    let n = bytes.len();
    while i < n && !out.full() {
        let b = bytes[i];
        match b {
            b'{' => {
                stack.push(g);
                pending_skip = 0;
                i += 1;
            }
            b'}' => {
                g = stack.pop().unwrap_or(Group { skip: true, uc: 1 });
                pending_skip = 0;
                i += 1;
            }
            b'\\' => {
                i += 1;
                let Some(&c) = bytes.get(i) else { break };
                if c.is_ascii_alphabetic() {
                    let word_start = i;
                    while i < n && bytes[i].is_ascii_alphabetic() {
                        i += 1;
                    }
                    let word = std::str::from_utf8(&bytes[word_start..i]).unwrap_or("");
                    let num_start = i;
                    if i < n && bytes[i] == b'-' {
                        i += 1;
                    }
                    while i < n && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                    let param: Option<i64> = std::str::from_utf8(&bytes[num_start..i])
                        .ok()
                        .and_then(|s| s.parse().ok());
                    if i < n && bytes[i] == b' ' {
                        i += 1;
                    }
                    control_word(word, param, &mut g, &mut pending_skip, out);
                } else {
                    i += 1;
                    match c {
                        b'\'' => {
                            let hex = bytes
                                .get(i..i + 2)
                                .and_then(|h| std::str::from_utf8(h).ok());
                            i += 2;
                            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                                emit(windows_1252(v), &g, &mut pending_skip, out);
                            }
                        }
                        b'*' => g.skip = true,
                        b'~' => emit(' ', &g, &mut pending_skip, out),
                        b'_' => emit('-', &g, &mut pending_skip, out),
                        b'\\' | b'{' | b'}' => emit(char::from(c), &g, &mut pending_skip, out),
                        b'\n' | b'\r' if !g.skip => out.newline(),
                        _ => {}
                    }
                }
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                // A run of plain text.
                let run_start = i;
                while i < n && !matches!(bytes[i], b'{' | b'}' | b'\\' | b'\r' | b'\n') {
                    i += 1;
                }
                let run = &bytes[run_start..i];
                let text = match std::str::from_utf8(run) {
                    Ok(s) => s.to_owned(),
                    Err(_) => run.iter().map(|&b| windows_1252(b)).collect(),
                };
                for ch in text.chars() {
                    emit(ch, &g, &mut pending_skip, out);
                }
            }
        }
    }
    Ok(())
}

fn emit(c: char, g: &Group, pending_skip: &mut usize, out: &mut TextOut) {
    if *pending_skip > 0 {
        *pending_skip -= 1;
        return;
    }
    if !g.skip {
        out.push_char(c);
    }
}

fn control_word(
    word: &str,
    param: Option<i64>,
    g: &mut Group,
    pending_skip: &mut usize,
    out: &mut TextOut,
) {
    if SKIPPED.contains(&word) {
        g.skip = true;
        return;
    }
    if word == "uc" {
        g.uc = usize::try_from(param.unwrap_or(1)).unwrap_or(1);
        return;
    }
    if word == "u" {
        let mut v = param.unwrap_or(0);
        if v < 0 {
            v += 65536;
        }
        let c = u32::try_from(v)
            .ok()
            .and_then(char::from_u32)
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        *pending_skip = 0;
        emit(c, g, pending_skip, out);
        *pending_skip = g.uc;
        return;
    }
    if g.skip {
        return;
    }
    let text = match word {
        "par" | "line" | "row" | "sect" | "page" => "\n",
        "tab" | "cell" => "\t",
        "emdash" => "\u{2014}",
        "endash" => "\u{2013}",
        "bullet" => "\u{2022}",
        "lquote" => "\u{2018}",
        "rquote" => "\u{2019}",
        "ldblquote" => "\u{201C}",
        "rdblquote" => "\u{201D}",
        "emspace" | "enspace" | "qmspace" => " ",
        _ => return,
    };
    *pending_skip = 0;
    if text == "\n" {
        out.newline();
    } else {
        out.push(text);
    }
}
