//! Attachment text: what the engine can read out of a downloaded file.
//!
//! Text formats (plain text, Markdown, CSV/TSV, JSON, XML, HTML, source code) are decoded here.
//! Other formats get a metadata-only document whose `extraction_note` says why it has no text.

/// What came out of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extraction {
    /// The text, when there is some.
    pub text: Option<String>,
    /// Why there is no text, or what was left out.
    pub note: Option<String>,
}

impl Extraction {
    fn text(text: String) -> Extraction {
        Extraction {
            text: Some(text),
            note: None,
        }
    }

    /// No text, for the given reason.
    pub fn none(note: impl Into<String>) -> Extraction {
        Extraction {
            text: None,
            note: Some(note.into()),
        }
    }
}

/// Extensions whose files are text, read as UTF-8.
const PLAIN: &[&str] = &[
    "txt",
    "text",
    "md",
    "markdown",
    "rst",
    "csv",
    "tsv",
    "json",
    "xml",
    "yaml",
    "yml",
    "log",
    "py",
    "rb",
    "sh",
    "js",
    "ts",
    "java",
    "go",
    "rs",
    "c",
    "h",
    "cpp",
    "cs",
    "sql",
    "toml",
    "ini",
    "properties",
    "svg",
];

/// Extensions read as HTML.
const HTML: &[&str] = &["html", "htm", "xhtml", "aspx"];

/// Whether `extension` names a format the engine extracts text from.
pub fn is_supported(extension: &str) -> bool {
    let ext = extension.to_ascii_lowercase();
    PLAIN.contains(&ext.as_str()) || HTML.contains(&ext.as_str())
}

/// Extracts the text of a file from its bytes and extension.
pub fn extract(bytes: &[u8], extension: &str) -> Extraction {
    let ext = extension.to_ascii_lowercase();
    if PLAIN.contains(&ext.as_str()) {
        return Extraction::text(String::from_utf8_lossy(bytes).trim().to_owned());
    }
    if HTML.contains(&ext.as_str()) {
        let html = String::from_utf8_lossy(bytes);
        return Extraction::text(crate::text::storage_to_text(&html));
    }
    Extraction::none(format!("no text extraction for `.{ext}` files"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_formats_are_decoded_and_others_explain_themselves() {
        assert_eq!(
            extract(b"  hello world \n", "TXT").text.as_deref(),
            Some("hello world")
        );
        let html = extract(
            b"<html><body><h1>Title</h1><p>Body &amp; soul</p></body></html>",
            "html",
        );
        let text = html.text.unwrap();
        assert!(
            text.contains("Title") && text.contains("Body & soul"),
            "{text}"
        );
        let png = extract(&[0x89, b'P', b'N', b'G'], "png");
        assert_eq!(png.text, None);
        assert!(png.note.unwrap().contains(".png"));
    }
}
