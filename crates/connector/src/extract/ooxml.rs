//! Office Open XML (Word, PowerPoint and Visio 2007+): zip containers whose parts are XML.

use std::io::BufReader;

use super::limits::{MAX_XML_EVENT_BYTES, TextOut, XmlGuard};
use super::xml::{self, Spec};
use super::{Failure, Input, ReadSeek};

pub(crate) type Archive<'a> = zip::ZipArchive<Box<dyn ReadSeek + 'a>>;

/// Opens a zip container; an OLE compound file here is an encrypted Office document.
pub(crate) fn open(input: Input<'_>) -> Result<Archive<'_>, Failure> {
    let head = input.head(8)?;
    if head.starts_with(&super::ole::MAGIC) {
        return Err(super::ole::encrypted_package(input));
    }
    zip::ZipArchive::new(input.open()?)
        .map_err(|e| Failure::corrupt("not a valid zip container", e))
}

/// Writes the text of the part `name` (if present) through `spec`.
pub(crate) fn part(
    zip: &mut Archive<'_>,
    name: &str,
    spec: &Spec,
    out: &mut TextOut,
) -> Result<(), Failure> {
    let entry = match zip.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Ok(()),
        Err(zip::result::ZipError::UnsupportedArchive(msg)) if msg.contains("assword") => {
            return Err(Failure::Encrypted);
        }
        Err(e) => return Err(Failure::corrupt(&format!("part `{name}`"), e)),
    };
    if entry.encrypted() {
        return Err(Failure::Encrypted);
    }
    // What the part says it holds is refused up front; what it really inflates to is counted
    // as it streams (a zip may lie about sizes), against the budget of the whole file.
    let budget = out.budget().clone();
    budget.check_declared(entry.size())?;
    let reader = XmlGuard::new(budget.reader(entry), MAX_XML_EVENT_BYTES);
    xml::collect(BufReader::new(reader), spec, out)?;
    out.newline();
    Ok(())
}

/// Part names matching `dir` + `stem` + number + `.xml`, in numeric order.
pub(crate) fn numbered(zip: &Archive<'_>, dir: &str, stem: &str) -> Vec<String> {
    let prefix = format!("{dir}{stem}");
    let mut parts: Vec<(u32, String)> = zip
        .file_names()
        .filter_map(|n| {
            let n = n.ok()?;
            let number = n.strip_prefix(&prefix)?.strip_suffix(".xml")?;
            Some((number.parse().ok()?, n.to_string()))
        })
        .collect();
    parts.sort();
    parts.into_iter().map(|(_, n)| n).collect()
}

/// Word: the body, then headers, footers, footnotes, endnotes and comments.
pub(crate) fn docx(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    const SPEC: Spec = Spec {
        text_in: &["t"],
        para: &["p", "tr"],
        cell: &["tc"],
        tab: &["tab"],
        line: &["br", "cr"],
        space: &[],
        skip: &["pPr", "rPr", "sectPr", "tblPr", "instrText"],
    };
    let mut zip = open(input)?;
    if zip.index_for_name("word/document.xml").is_none() {
        return Err(Failure::Corrupt("no `word/document.xml` part".to_owned()));
    }
    let mut parts = vec!["word/document.xml".to_owned()];
    for stem in ["header", "footer"] {
        parts.extend(numbered(&zip, "word/", stem));
    }
    for name in ["footnotes", "endnotes", "comments"] {
        parts.push(format!("word/{name}.xml"));
    }
    for name in parts {
        part(&mut zip, &name, &SPEC, out)?;
    }
    Ok(())
}

/// PowerPoint: slides in order, then speaker notes; a template without slides gives its layouts.
pub(crate) fn pptx(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    const SPEC: Spec = Spec {
        text_in: &["t"],
        para: &["p", "tr"],
        cell: &["tc"],
        tab: &[],
        line: &["br"],
        space: &[],
        skip: &["pPr", "rPr", "endParaRPr"],
    };
    let mut zip = open(input)?;
    let mut parts = numbered(&zip, "ppt/slides/", "slide");
    if parts.is_empty() {
        parts = numbered(&zip, "ppt/slideLayouts/", "slideLayout");
        parts.extend(numbered(&zip, "ppt/slideMasters/", "slideMaster"));
    }
    if parts.is_empty() && zip.index_for_name("ppt/presentation.xml").is_none() {
        return Err(Failure::Corrupt(
            "no `ppt/presentation.xml` part".to_owned(),
        ));
    }
    parts.extend(numbered(&zip, "ppt/notesSlides/", "notesSlide"));
    for name in parts {
        part(&mut zip, &name, &SPEC, out)?;
    }
    Ok(())
}

/// Visio: the text of every shape on every page.
pub(crate) fn vsdx(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    const SPEC: Spec = Spec {
        text_in: &["Text"],
        para: &["Text", "Shape"],
        cell: &[],
        tab: &[],
        line: &["pp"],
        space: &[],
        skip: &[],
    };
    let mut zip = open(input)?;
    let pages = numbered(&zip, "visio/pages/", "page");
    if pages.is_empty() && zip.index_for_name("visio/document.xml").is_none() {
        return Err(Failure::Corrupt("no `visio/document.xml` part".to_owned()));
    }
    for name in pages {
        part(&mut zip, &name, &SPEC, out)?;
    }
    Ok(())
}
