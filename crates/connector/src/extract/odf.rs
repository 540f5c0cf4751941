//! OpenDocument text, spreadsheets and presentations: `content.xml` inside a zip container.

use super::limits::TextOut;
use super::ooxml;
use super::xml::Spec;
use super::{Failure, Input};

pub(crate) fn read(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    const SPEC: Spec = Spec {
        text_in: &[],
        para: &["p", "h", "table-row", "list-item", "page"],
        cell: &["table-cell"],
        tab: &["tab"],
        line: &["line-break"],
        space: &["s"],
        // Style and form definitions hold no document text; change-tracking keeps deleted text.
        skip: &[
            "automatic-styles",
            "font-face-decls",
            "forms",
            "tracked-changes",
            "scripts",
            "settings",
        ],
    };
    let mut zip = ooxml::open(input)?;
    if let Ok(manifest) = zip.by_name("META-INF/manifest.xml") {
        let mut xml = String::new();
        let _ =
            std::io::Read::read_to_string(&mut std::io::Read::take(manifest, 1 << 20), &mut xml);
        if xml.contains("encryption-data") {
            return Err(Failure::Encrypted);
        }
    }
    if zip.index_for_name("content.xml").is_none() {
        return Err(Failure::Corrupt("no `content.xml` part".to_owned()));
    }
    ooxml::part(&mut zip, "content.xml", &SPEC, out)
}
