//! A streaming XML text collector shared by the OOXML, OpenDocument and XML readers.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::Failure;
use super::limits::TextOut;

/// Which elements (by local name, without prefix) shape the text.
#[derive(Debug, Default)]
pub(crate) struct Spec {
    /// Text is kept only inside these elements; empty keeps all text.
    pub text_in: &'static [&'static str],
    /// The end of one of these ends a line (paragraphs, rows).
    pub para: &'static [&'static str],
    /// The end of one of these writes a tab (table cells); paragraphs inside become spaces.
    pub cell: &'static [&'static str],
    /// One of these writes a tab.
    pub tab: &'static [&'static str],
    /// One of these ends a line (line breaks).
    pub line: &'static [&'static str],
    /// One of these writes a space (OpenDocument `text:s`).
    pub space: &'static [&'static str],
    /// The content of these is dropped.
    pub skip: &'static [&'static str],
}

/// Writes the text of the XML document `reader` to `out`, shaped by `spec`.
pub(crate) fn collect<R: BufRead>(
    reader: R,
    spec: &Spec,
    out: &mut TextOut,
) -> Result<(), Failure> {
    let mut reader = Reader::from_reader(reader);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = false;
        cfg.allow_unmatched_ends = true;
        cfg.trim_text(false);
    }
    let mut buf = Vec::new();
    // How deep inside kept-text, cell and skipped elements we are.
    let (mut keep, mut cells, mut skip) = (0usize, 0usize, 0usize);
    let all_text = spec.text_in.is_empty();
    loop {
        buf.clear();
        let event = reader.read_event_into(&mut buf).map_err(|e| match &e {
            // Past the decompression budget, or one event too large to hold.
            quick_xml::Error::Io(io) => super::limits::OverBudget::find(io)
                .unwrap_or_else(|| Failure::corrupt("malformed XML", &e)),
            _ => Failure::corrupt("malformed XML", e),
        })?;
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                let local = e.local_name();
                let name: &str = local.as_ref();
                if skip > 0 || spec.skip.contains(&name) {
                    skip += 1;
                    continue;
                }
                if spec.text_in.contains(&name) {
                    keep += 1;
                }
                if spec.cell.contains(&name) {
                    cells += 1;
                }
                empty_like(name, spec, out, count(&e));
            }
            Event::Empty(e) => {
                let local = e.local_name();
                let name: &str = local.as_ref();
                if skip > 0 {
                    continue;
                }
                empty_like(name, spec, out, count(&e));
                if spec.para.contains(&name) && cells == 0 {
                    out.newline();
                }
            }
            Event::End(e) => {
                let local = e.local_name();
                let name: &str = local.as_ref();
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                if spec.text_in.contains(&name) {
                    keep = keep.saturating_sub(1);
                }
                if spec.cell.contains(&name) {
                    cells = cells.saturating_sub(1);
                    out.end_cell();
                } else if spec.para.contains(&name) || spec.para == ["*"] {
                    if cells > 0 {
                        out.sep(" ");
                    } else {
                        out.newline();
                    }
                }
            }
            Event::Text(t) if skip == 0 && (all_text || keep > 0) => {
                let s = t.xml10_content();
                if all_text {
                    // Indentation between elements is not text.
                    if !s.trim().is_empty() {
                        out.push(&s);
                    }
                } else {
                    out.push(&s);
                }
            }
            Event::CData(t) if skip == 0 && (all_text || keep > 0) => {
                out.push(&t.xml10_content());
            }
            Event::GeneralRef(r) if skip == 0 && (all_text || keep > 0) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push_char(c);
                } else {
                    let name = r.into_inner();
                    out.push(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        "nbsp" => " ",
                        _ => "",
                    });
                }
            }
            _ => {}
        }
        if out.full() {
            break;
        }
    }
    Ok(())
}

/// The `text:c` repeat count of an OpenDocument `text:s`.
fn count(e: &quick_xml::events::BytesStart<'_>) -> Option<usize> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == "c")
        .and_then(|a| a.value.parse().ok())
}

fn empty_like(name: &str, spec: &Spec, out: &mut TextOut, count: Option<usize>) {
    if spec.tab.contains(&name) {
        out.push("\t");
    } else if spec.line.contains(&name) {
        out.push("\n");
    } else if spec.space.contains(&name) {
        let n = count.unwrap_or(1).min(64);
        out.push(&" ".repeat(n));
    }
}
