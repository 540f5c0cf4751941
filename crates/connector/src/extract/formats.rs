//! Which extension is read by which format reader.

use super::limits::TextOut;
use super::{Failure, Input, odf, ole, ooxml, pdf, plain, rtf, sheet};

/// The reference connector's allow-list (`reference-connector.md` section 8): 31 extensions.
pub const ALLOW_LIST: [&str; 31] = [
    "txt", "py", "rst", "html", "markdown", "json", "xml", "csv", "md", "ppt", "rtf", "docx",
    "odt", "xls", "xlsx", "rb", "paper", "sh", "pptx", "pdf", "doc", "aspx", "xlsb", "xlsm", "tsv",
    "svg", "msg", "potx", "vsd", "vsdx", "vsdm",
];

/// A format family the engine reads in-process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text: prose, data, configuration and source files.
    Plain,
    /// HTML and ASP.NET pages.
    Html,
    /// XML and SVG.
    Xml,
    /// PDF.
    Pdf,
    /// Word 2007+ (`.docx`).
    Docx,
    /// PowerPoint 2007+ (`.pptx`, `.potx`).
    Pptx,
    /// Visio 2013+ (`.vsdx`).
    Vsdx,
    /// Spreadsheets: Excel 2007+ (`.xlsx`, `.xlsm`, `.xlsb`) and Excel 97-2003 (`.xls`).
    Sheet,
    /// OpenDocument text, spreadsheet and presentation.
    Odf,
    /// Rich Text Format.
    Rtf,
    /// Word 97-2003 (`.doc`).
    Doc,
    /// PowerPoint 97-2003 (`.ppt`).
    Ppt,
    /// Outlook messages (`.msg`).
    Msg,
}

const PLAIN: &[&str] = &[
    // Prose and data.
    "txt",
    "text",
    "md",
    "markdown",
    "mdown",
    "mkd",
    "rst",
    "adoc",
    "asciidoc",
    "org",
    "tex",
    "paper",
    "csv",
    "tsv",
    "tab",
    "json",
    "jsonl",
    "ndjson",
    "geojson",
    "yaml",
    "yml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "properties",
    "env",
    "log",
    "diff",
    "patch",
    "srt",
    "vtt",
    // Source code.
    "py",
    "pyi",
    "rb",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "psm1",
    "bat",
    "cmd",
    "js",
    "mjs",
    "cjs",
    "jsx",
    "ts",
    "tsx",
    "vue",
    "svelte",
    "java",
    "kt",
    "kts",
    "scala",
    "groovy",
    "gradle",
    "go",
    "rs",
    "c",
    "h",
    "cc",
    "cpp",
    "cxx",
    "hpp",
    "hh",
    "hxx",
    "cs",
    "fs",
    "vb",
    "swift",
    "m",
    "mm",
    "php",
    "pl",
    "pm",
    "r",
    "lua",
    "sql",
    "dart",
    "ex",
    "exs",
    "erl",
    "hrl",
    "hs",
    "clj",
    "cljs",
    "elm",
    "jl",
    "nim",
    "zig",
    "css",
    "scss",
    "sass",
    "less",
    "graphql",
    "gql",
    "proto",
    "tf",
    "hcl",
    "cmake",
    "mk",
    "dockerfile",
];
const HTML: &[&str] = &["html", "htm", "xhtml", "aspx", "asp", "shtml"];
const XML: &[&str] = &[
    "xml", "svg", "xsd", "xsl", "xslt", "wsdl", "rss", "atom", "xaml", "resx", "plist", "pom",
    "drawio",
];
const TABLE: &[(&[&str], Format)] = &[
    (&["pdf"], Format::Pdf),
    (&["docx", "docm", "dotx", "dotm"], Format::Docx),
    (
        &["pptx", "pptm", "potx", "potm", "ppsx", "ppsm"],
        Format::Pptx,
    ),
    (&["vsdx", "vsdm", "vstx", "vstm"], Format::Vsdx),
    (
        &["xlsx", "xlsm", "xltx", "xltm", "xlsb", "xls", "xlt"],
        Format::Sheet,
    ),
    (
        &["odt", "ods", "odp", "ott", "ots", "otp", "odg"],
        Format::Odf,
    ),
    (&["rtf"], Format::Rtf),
    (&["doc", "dot"], Format::Doc),
    (&["ppt", "pps", "pot"], Format::Ppt),
    (&["msg"], Format::Msg),
];

impl Format {
    /// The format of files with `extension` (case-insensitive, with or without the dot).
    pub fn of(extension: &str) -> Option<Format> {
        let ext = extension.trim_start_matches('.').to_ascii_lowercase();
        let ext = ext.as_str();
        if PLAIN.contains(&ext) {
            return Some(Format::Plain);
        }
        if HTML.contains(&ext) {
            return Some(Format::Html);
        }
        if XML.contains(&ext) {
            return Some(Format::Xml);
        }
        TABLE
            .iter()
            .find(|(exts, _)| exts.contains(&ext))
            .map(|(_, f)| *f)
    }

    /// Every extension the engine reads, for documentation and the CLI.
    pub fn extensions() -> Vec<&'static str> {
        let mut all: Vec<&str> = PLAIN.iter().chain(HTML).chain(XML).copied().collect();
        for (exts, _) in TABLE {
            all.extend_from_slice(exts);
        }
        all
    }

    /// About the most memory reading a file of `size` bytes takes, its text of up to
    /// `max_text` bytes included (measured on 25 MB HTML, PDF and DOCX files: 2.7, 2.4 and
    /// 0.4 times the file). Readers that take the whole file and build a tree of it (HTML, XML,
    /// PDF, RTF, spreadsheets) hold about three times the file; zip formats stream their parts
    /// (one XML event at a time); compound files read their streams whole; plain text reads at
    /// most twice the text cap.
    pub fn memory_estimate(self, size: u64, max_text: u64) -> u64 {
        const MIB: u64 = 1024 * 1024;
        let held = match self {
            Format::Plain => size.min(max_text.saturating_mul(2)).saturating_mul(2),
            Format::Html | Format::Xml | Format::Pdf | Format::Rtf | Format::Sheet => {
                size.saturating_mul(3)
            }
            Format::Docx | Format::Pptx | Format::Vsdx | Format::Odf => {
                size.min(super::limits::MAX_XML_EVENT_BYTES) + MIB
            }
            Format::Doc | Format::Ppt | Format::Msg => size + MIB,
        };
        // The text as it is collected, and the string it ends as.
        held.saturating_add(max_text.saturating_mul(2))
    }

    pub(crate) fn read(self, input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
        match self {
            Format::Plain => plain::text(input, out),
            Format::Html => plain::html(input, out),
            Format::Xml => plain::xml(input, out),
            Format::Pdf => pdf::read(input, out),
            Format::Docx => ooxml::docx(input, out),
            Format::Pptx => ooxml::pptx(input, out),
            Format::Vsdx => ooxml::vsdx(input, out),
            Format::Sheet => sheet::read(input, out),
            Format::Odf => odf::read(input, out),
            Format::Rtf => rtf::read(input, out),
            Format::Doc => ole::doc(input, out),
            Format::Ppt => ole::ppt(input, out),
            Format::Msg => ole::msg(input, out),
        }
    }
}
