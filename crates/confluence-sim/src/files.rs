//! Attachment files: real, openable files of an exact, pre-declared size.
//!
//! A file is generated when it is downloaded, from the seed, the attachment id and version, so
//! nothing but its type and size is stored. Every generator pads its output to the exact size
//! the listing announced (`extensions.fileSize`): text formats with filler lines, OOXML
//! containers (stored, uncompressed ZIP entries) with filler paragraphs, PDFs with an
//! unreferenced filler stream and PNGs with a `tEXt` chunk.

use std::io::{Cursor, Write};

use crate::rng::Rng;
use crate::text::{filler, sentence, xml_escape};

/// The file formats the generator produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FileKind {
    Pdf,
    Docx,
    Xlsx,
    Pptx,
    Txt,
    Csv,
    Html,
    Md,
    Png,
    /// A PDF whose content stream inflates to more than 1 GiB (`bomb.rs`); no text.
    BombPdf,
    /// A DOCX whose `word/document.xml` inflates to more than 1 GiB (`bomb.rs`); no text.
    BombDocx,
}

/// Every kind, in the order the generator cycles through them.
pub(crate) const ALL_KINDS: [FileKind; 9] = [
    FileKind::Pdf,
    FileKind::Docx,
    FileKind::Txt,
    FileKind::Png,
    FileKind::Xlsx,
    FileKind::Csv,
    FileKind::Pptx,
    FileKind::Html,
    FileKind::Md,
];

impl FileKind {
    /// File extension.
    pub(crate) fn ext(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
            FileKind::Pptx => "pptx",
            FileKind::Txt => "txt",
            FileKind::Csv => "csv",
            FileKind::Html => "html",
            FileKind::Md => "md",
            FileKind::Png => "png",
            FileKind::BombPdf => "pdf",
            FileKind::BombDocx => "docx",
        }
    }

    /// Media type.
    pub(crate) fn media_type(self) -> &'static str {
        match self {
            FileKind::Pdf | FileKind::BombPdf => "application/pdf",
            FileKind::Docx | FileKind::BombDocx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileKind::Txt => "text/plain",
            FileKind::Csv => "text/csv",
            FileKind::Html => "text/html",
            FileKind::Md => "text/markdown",
            FileKind::Png => "image/png",
        }
    }

    /// `mediaTypeDescription`.
    pub(crate) fn description(self) -> &'static str {
        match self {
            FileKind::Pdf | FileKind::BombPdf => "PDF Document",
            FileKind::Docx | FileKind::BombDocx => "Microsoft Word Document",
            FileKind::Xlsx => "Microsoft Excel Spreadsheet",
            FileKind::Pptx => "Microsoft PowerPoint Presentation",
            FileKind::Txt => "Text File",
            FileKind::Csv => "CSV File",
            FileKind::Html => "HTML Document",
            FileKind::Md => "Markdown Document",
            FileKind::Png => "PNG Image",
        }
    }

    /// Whether the file's text contains the item's distinctive sentence.
    pub(crate) fn has_text(self) -> bool {
        !matches!(self, FileKind::Png | FileKind::BombPdf | FileKind::BombDocx)
    }

    /// A realistic size for this kind.
    pub(crate) fn pick_size(self, r: &mut Rng) -> u64 {
        let (lo, hi) = match self {
            FileKind::Pdf => (24_000, 2_500_000),
            FileKind::Docx => (14_000, 90_000),
            FileKind::Xlsx => (12_000, 140_000),
            FileKind::Pptx => (40_000, 400_000),
            FileKind::Txt => (1_200, 40_000),
            FileKind::Csv => (4_000, 220_000),
            FileKind::Html => (3_000, 60_000),
            FileKind::Md => (1_500, 30_000),
            FileKind::Png => (160_000, 1_400_000),
            FileKind::BombPdf => return crate::bomb::pdf().len() as u64,
            FileKind::BombDocx => return crate::bomb::docx().len() as u64,
        };
        // Skew towards the small end, as real attachment sizes are.
        let u = r.unit();
        lo + ((hi - lo) as f64 * u * u) as u64
    }
}

/// The size of the one big file of `small` and larger sites: over 10 MiB.
pub(crate) fn big_size(r: &mut Rng) -> u64 {
    10 * 1024 * 1024 + r.range(300_000, 1_800_000)
}

/// Generates a file of exactly `size` bytes (when `size` is above the format's minimum).
pub(crate) fn generate(
    kind: FileKind,
    size: u64,
    seed: u64,
    id: u64,
    version: u32,
    title: &str,
) -> Vec<u8> {
    let sent = sentence(seed, id, version);
    let mut r = Rng::new(seed, &[0xF11E, id, u64::from(version)]);
    let size = size as usize;
    match kind {
        FileKind::Txt => {
            let head = format!("{title}\n\n{sent}\n\n");
            fill_text(head, "", size, &mut r, |r| format!("{}\n", filler(r)))
        }
        FileKind::Md => {
            let head = format!("# {title}\n\n{sent}\n\n## Notes\n\n");
            fill_text(head, "", size, &mut r, |r| format!("- {}\n", filler(r)))
        }
        FileKind::Csv => {
            let head = format!(
                "id,description,status\n1,\"{}\",open\n",
                sent.replace('"', "\"\"")
            );
            let mut n = 1;
            fill_text(head, "", size, &mut r, move |r| {
                n += 1;
                format!(
                    "{n},\"{}\",{}\n",
                    filler(r),
                    if n % 3 == 0 { "done" } else { "open" }
                )
            })
        }
        FileKind::Html => {
            let t = xml_escape(title);
            let head = format!(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head><body>\n<h1>{t}</h1>\n<p>{}</p>\n",
                xml_escape(&sent)
            );
            fill_text(head, "</body></html>\n", size, &mut r, |r| {
                format!("<p>{}</p>\n", filler(r))
            })
        }
        FileKind::Pdf => pdf(&sent, title, size, &mut r),
        FileKind::Docx => docx(&sent, title, size, &mut r),
        FileKind::Xlsx => xlsx(&sent, title, size, &mut r),
        FileKind::Pptx => pptx(&sent, title, size, &mut r),
        FileKind::Png => png_file(size, &mut r),
        FileKind::BombPdf => crate::bomb::pdf().to_vec(),
        FileKind::BombDocx => crate::bomb::docx().to_vec(),
    }
}

/// Head, then filler units while they fit, then spaces and a newline, then the tail.
fn fill_text(
    head: String,
    tail: &str,
    size: usize,
    r: &mut Rng,
    mut unit: impl FnMut(&mut Rng) -> String,
) -> Vec<u8> {
    let mut out = head.into_bytes();
    loop {
        let u = unit(r);
        if out.len() + u.len() + tail.len() > size {
            break;
        }
        out.extend_from_slice(u.as_bytes());
    }
    let rem = size.saturating_sub(out.len() + tail.len());
    if rem > 0 {
        out.extend(std::iter::repeat_n(b' ', rem - 1));
        out.push(b'\n');
    }
    out.extend_from_slice(tail.as_bytes());
    out
}

/// Filler XML: units while they fit within `len`, then spaces.
fn fill_xml(len: usize, r: &mut Rng, unit: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    loop {
        let u = unit(&xml_escape(&filler(r)));
        if out.len() + u.len() > len {
            break;
        }
        out.push_str(&u);
    }
    while out.len() < len {
        out.push(' ');
    }
    out
}

/// A one-page PDF whose text layer carries the title, the sentence and filler lines, padded
/// with an unreferenced stream.
fn pdf(sent: &str, title: &str, size: usize, r: &mut Rng) -> Vec<u8> {
    let esc = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .map(|c| match c {
                '(' | ')' | '\\' => format!("\\{c}"),
                c => c.to_string(),
            })
            .collect::<String>()
    };
    let mut text = format!(
        "BT /F1 16 Tf 72 740 Td 20 TL ({}) Tj T* /F1 11 Tf 14 TL ({}) Tj T*",
        esc(title),
        esc(sent)
    );
    for _ in 0..30 {
        text.push_str(&format!(" ({}) Tj T*", esc(&filler(r))));
    }
    text.push_str(" ET");
    let padding_unit = format!("% {}\n", filler(r));
    let build = |pad: usize| -> Vec<u8> {
        let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let mut offsets = Vec::new();
        let objs = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_owned(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
        ];
        for (i, o) in objs.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        offsets.push(out.len());
        out.extend_from_slice(
            format!(
                "5 0 obj\n<< /Length {} >>\nstream\n{text}\nendstream\nendobj\n",
                text.len() + 1
            )
            .as_bytes(),
        );
        offsets.push(out.len());
        out.extend_from_slice(format!("6 0 obj\n<< /Length {pad} >>\nstream\n").as_bytes());
        let unit = padding_unit.as_bytes();
        let mut written = 0;
        while written < pad {
            let n = unit.len().min(pad - written);
            out.extend_from_slice(&unit[..n]);
            written += n;
        }
        out.extend_from_slice(b"\nendstream\nendobj\n");
        let xref = out.len();
        out.extend_from_slice(b"xref\n0 7\n0000000000 65535 f \n");
        for o in &offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
        );
        out
    };
    let mut pad = 0usize;
    let mut out = build(pad);
    for _ in 0..4 {
        if out.len() == size {
            break;
        }
        pad = (pad + size).saturating_sub(out.len());
        out = build(pad);
    }
    out
}

const CT_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/>";
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
const RELS_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const REL_DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

fn rels(items: &[(&str, &str, &str)]) -> String {
    let mut s = format!("{XML_DECL}<Relationships xmlns=\"{RELS_NS}\">");
    for (id, ty, target) in items {
        s.push_str(&format!(
            "<Relationship Id=\"{id}\" Type=\"{REL_DOC}/{ty}\" Target=\"{target}\"/>"
        ));
    }
    s.push_str("</Relationships>");
    s
}

/// Writes a ZIP with stored entries; the last entry (the main part) is built by `main` for a
/// given length so that the whole archive is exactly `size` bytes.
fn ooxml(
    parts: Vec<(String, String)>,
    main_name: &str,
    size: usize,
    main: impl Fn(usize) -> String,
) -> Vec<u8> {
    let write = |main_body: &str| -> Vec<u8> {
        let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default());
        let mut ok = true;
        for (name, body) in &parts {
            ok &=
                zw.start_file(name.as_str(), opts).is_ok() && zw.write_all(body.as_bytes()).is_ok();
        }
        ok &= zw.start_file(main_name, opts).is_ok() && zw.write_all(main_body.as_bytes()).is_ok();
        match zw.finish() {
            Ok(c) if ok => c.into_inner(),
            _ => Vec::new(),
        }
    };
    let minimal = main(0);
    let base = write(&minimal);
    let overhead = base.len() - minimal.len();
    let body = main(size.saturating_sub(overhead));
    write(&body)
}

/// Builds `head + filler + tail` of exactly `len` bytes when possible.
fn exact_xml(
    head: String,
    tail: &str,
    len: usize,
    r: &mut Rng,
    unit: impl Fn(&str) -> String,
) -> String {
    let fixed = head.len() + tail.len();
    let fill = fill_xml(len.saturating_sub(fixed), r, unit);
    format!("{head}{fill}{tail}")
}

fn docx(sent: &str, title: &str, size: usize, r: &mut Rng) -> Vec<u8> {
    let ct = format!(
        "{CT_HEAD}<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>"
    );
    let root = rels(&[("rId1", "officeDocument", "word/document.xml")]);
    let head = format!(
        "{XML_DECL}<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:rPr><w:b/></w:rPr><w:t>{}</w:t></w:r></w:p><w:p><w:r><w:t>{}</w:t></w:r></w:p>",
        xml_escape(title),
        xml_escape(sent)
    );
    let seed = r.next_u64();
    ooxml(
        vec![
            ("[Content_Types].xml".into(), ct),
            ("_rels/.rels".into(), root),
        ],
        "word/document.xml",
        size,
        |len| {
            let mut r = Rng::new(seed, &[]);
            exact_xml(
                head.clone(),
                "<w:sectPr/></w:body></w:document>",
                len,
                &mut r,
                |t| format!("<w:p><w:r><w:t>{t}</w:t></w:r></w:p>"),
            )
        },
    )
}

fn xlsx(sent: &str, title: &str, size: usize, r: &mut Rng) -> Vec<u8> {
    let ct = format!(
        "{CT_HEAD}<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>"
    );
    let root = rels(&[("rId1", "officeDocument", "xl/workbook.xml")]);
    let wb = format!(
        "{XML_DECL}<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"{REL_DOC}\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
    );
    let wb_rels = rels(&[("rId1", "worksheet", "worksheets/sheet1.xml")]);
    let cell = |t: &str| format!("<c t=\"inlineStr\"><is><t>{t}</t></is></c>");
    let head = format!(
        "{XML_DECL}<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row>{}</row><row>{}</row>",
        cell(&xml_escape(title)),
        cell(&xml_escape(sent))
    );
    let seed = r.next_u64();
    ooxml(
        vec![
            ("[Content_Types].xml".into(), ct),
            ("_rels/.rels".into(), root),
            ("xl/workbook.xml".into(), wb),
            ("xl/_rels/workbook.xml.rels".into(), wb_rels),
        ],
        "xl/worksheets/sheet1.xml",
        size,
        |len| {
            let mut r = Rng::new(seed, &[]);
            exact_xml(head.clone(), "</sheetData></worksheet>", len, &mut r, |t| {
                format!("<row><c t=\"inlineStr\"><is><t>{t}</t></is></c></row>")
            })
        },
    )
}

fn pptx(sent: &str, title: &str, size: usize, r: &mut Rng) -> Vec<u8> {
    const P: &str = "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\"";
    const GRP: &str = "<p:nvGrpSpPr><p:cNvPr id=\"1\" name=\"\"/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>";
    let pml = "application/vnd.openxmlformats-officedocument.presentationml";
    let ct = format!(
        "{CT_HEAD}<Override PartName=\"/ppt/presentation.xml\" ContentType=\"{pml}.presentation.main+xml\"/><Override PartName=\"/ppt/slides/slide1.xml\" ContentType=\"{pml}.slide+xml\"/><Override PartName=\"/ppt/slideLayouts/slideLayout1.xml\" ContentType=\"{pml}.slideLayout+xml\"/><Override PartName=\"/ppt/slideMasters/slideMaster1.xml\" ContentType=\"{pml}.slideMaster+xml\"/><Override PartName=\"/ppt/theme/theme1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.theme+xml\"/></Types>"
    );
    let root = rels(&[("rId1", "officeDocument", "ppt/presentation.xml")]);
    let pres = format!(
        "{XML_DECL}<p:presentation {P}><p:sldMasterIdLst><p:sldMasterId id=\"2147483648\" r:id=\"rId1\"/></p:sldMasterIdLst><p:sldIdLst><p:sldId id=\"256\" r:id=\"rId2\"/></p:sldIdLst><p:sldSz cx=\"9144000\" cy=\"6858000\"/><p:notesSz cx=\"6858000\" cy=\"9144000\"/></p:presentation>"
    );
    let pres_rels = rels(&[
        ("rId1", "slideMaster", "slideMasters/slideMaster1.xml"),
        ("rId2", "slide", "slides/slide1.xml"),
        ("rId3", "theme", "theme/theme1.xml"),
    ]);
    let master = format!(
        "{XML_DECL}<p:sldMaster {P}><p:cSld><p:spTree>{GRP}</p:spTree></p:cSld><p:clrMap bg1=\"lt1\" tx1=\"dk1\" bg2=\"lt2\" tx2=\"dk2\" accent1=\"accent1\" accent2=\"accent2\" accent3=\"accent3\" accent4=\"accent4\" accent5=\"accent5\" accent6=\"accent6\" hlink=\"hlink\" folHlink=\"folHlink\"/><p:sldLayoutIdLst><p:sldLayoutId id=\"2147483649\" r:id=\"rId1\"/></p:sldLayoutIdLst></p:sldMaster>"
    );
    let master_rels = rels(&[
        ("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml"),
        ("rId2", "theme", "../theme/theme1.xml"),
    ]);
    let layout = format!(
        "{XML_DECL}<p:sldLayout {P}><p:cSld><p:spTree>{GRP}</p:spTree></p:cSld></p:sldLayout>"
    );
    let layout_rels = rels(&[("rId1", "slideMaster", "../slideMasters/slideMaster1.xml")]);
    let slide_rels = rels(&[("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml")]);
    let clr = |n: &str, v: &str| format!("<a:{n}><a:srgbClr val=\"{v}\"/></a:{n}>");
    let mut scheme = String::new();
    for (n, v) in [
        ("dk1", "000000"),
        ("lt1", "FFFFFF"),
        ("dk2", "1F497D"),
        ("lt2", "EEECE1"),
        ("accent1", "4F81BD"),
        ("accent2", "C0504D"),
        ("accent3", "9BBB59"),
        ("accent4", "8064A2"),
        ("accent5", "4BACC6"),
        ("accent6", "F79646"),
        ("hlink", "0000FF"),
        ("folHlink", "800080"),
    ] {
        scheme.push_str(&clr(n, v));
    }
    let fill = "<a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill>";
    let font = "<a:latin typeface=\"Calibri\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/>";
    let theme = format!(
        "{XML_DECL}<a:theme xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" name=\"Sim\"><a:themeElements><a:clrScheme name=\"Sim\">{scheme}</a:clrScheme><a:fontScheme name=\"Sim\"><a:majorFont>{font}</a:majorFont><a:minorFont>{font}</a:minorFont></a:fontScheme><a:fmtScheme name=\"Sim\"><a:fillStyleLst>{fill}{fill}{fill}</a:fillStyleLst><a:lnStyleLst><a:ln w=\"9525\">{fill}</a:ln><a:ln w=\"25400\">{fill}</a:ln><a:ln w=\"38100\">{fill}</a:ln></a:lnStyleLst><a:effectStyleLst><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle></a:effectStyleLst><a:bgFillStyleLst>{fill}{fill}{fill}</a:bgFillStyleLst></a:fmtScheme></a:themeElements></a:theme>"
    );
    let para = |t: &str| format!("<a:p><a:r><a:rPr lang=\"en-US\"/><a:t>{t}</a:t></a:r></a:p>");
    let head = format!(
        "{XML_DECL}<p:sld {P}><p:cSld><p:spTree>{GRP}<p:sp><p:nvSpPr><p:cNvPr id=\"2\" name=\"Text\"/><p:cNvSpPr txBox=\"1\"/><p:nvPr/></p:nvSpPr><p:spPr><a:xfrm><a:off x=\"457200\" y=\"457200\"/><a:ext cx=\"8229600\" cy=\"5943600\"/></a:xfrm><a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></p:spPr><p:txBody><a:bodyPr/><a:lstStyle/>{}{}",
        para(&xml_escape(title)),
        para(&xml_escape(sent))
    );
    let seed = r.next_u64();
    ooxml(
        vec![
            ("[Content_Types].xml".into(), ct),
            ("_rels/.rels".into(), root),
            ("ppt/presentation.xml".into(), pres),
            ("ppt/_rels/presentation.xml.rels".into(), pres_rels),
            ("ppt/slideMasters/slideMaster1.xml".into(), master),
            (
                "ppt/slideMasters/_rels/slideMaster1.xml.rels".into(),
                master_rels,
            ),
            ("ppt/slideLayouts/slideLayout1.xml".into(), layout),
            (
                "ppt/slideLayouts/_rels/slideLayout1.xml.rels".into(),
                layout_rels,
            ),
            ("ppt/theme/theme1.xml".into(), theme),
            ("ppt/slides/_rels/slide1.xml.rels".into(), slide_rels),
        ],
        "ppt/slides/slide1.xml",
        size,
        |len| {
            let mut r = Rng::new(seed, &[]);
            exact_xml(
                head.clone(),
                "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>",
                len,
                &mut r,
                |t| format!("<a:p><a:r><a:rPr lang=\"en-US\"/><a:t>{t}</a:t></a:r></a:p>"),
            )
        },
    )
}

/// A gradient PNG padded with a `tEXt` chunk before `IEND`.
fn png_file(size: usize, r: &mut Rng) -> Vec<u8> {
    let (w, h) = (160 + r.index(80) as u32, 120 + r.index(60) as u32);
    let (a, b, c) = (
        r.below(256) as u32,
        r.below(256) as u32,
        r.below(256) as u32,
    );
    let mut data = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            data.push(((x * 255 / w + a) % 256) as u8);
            data.push(((y * 255 / h + b) % 256) as u8);
            data.push((((x + y) * 128 / (w + h) + c) % 256) as u8);
        }
    }
    let mut buf = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut buf, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let written = enc.write_header().and_then(|mut wr| {
            wr.write_image_data(&data)?;
            wr.finish()
        });
        if written.is_err() {
            return Vec::new();
        }
    }
    // IEND is the last 12 bytes; insert a tEXt chunk before it.
    let iend = buf.split_off(buf.len().saturating_sub(12));
    let room = size.saturating_sub(buf.len() + iend.len() + 12);
    if room > 8 {
        let mut chunk = b"Comment\0".to_vec();
        let unit = format!("{} ", filler(r));
        while chunk.len() < room {
            let n = unit.len().min(room - chunk.len());
            chunk.extend_from_slice(&unit.as_bytes()[..n]);
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(b"tEXt");
        crc.update(&chunk);
        buf.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
        buf.extend_from_slice(b"tEXt");
        buf.extend_from_slice(&chunk);
        buf.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    buf.extend_from_slice(&iend);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn every_kind_has_its_exact_size_and_the_sentence() {
        let mut r = Rng::new(3, &[]);
        for kind in ALL_KINDS {
            for _ in 0..3 {
                let size = kind.pick_size(&mut r);
                let bytes = generate(kind, size, 3, 4242, 2, "Résumé notes");
                assert_eq!(bytes.len() as u64, size, "{kind:?}");
                let sent = sentence(3, 4242, 2);
                match kind {
                    FileKind::Png => assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n"),
                    FileKind::Docx | FileKind::Xlsx | FileKind::Pptx => {
                        let mut z = zip::ZipArchive::new(Cursor::new(&bytes)).expect("zip");
                        let name = match kind {
                            FileKind::Docx => "word/document.xml",
                            FileKind::Xlsx => "xl/worksheets/sheet1.xml",
                            _ => "ppt/slides/slide1.xml",
                        };
                        let mut s = String::new();
                        z.by_name(name)
                            .expect("part")
                            .read_to_string(&mut s)
                            .expect("utf-8");
                        assert!(s.contains(&sent));
                    }
                    _ => assert!(String::from_utf8_lossy(&bytes).contains(&sent), "{kind:?}"),
                }
            }
        }
    }

    #[test]
    fn big_pdf_is_exact_and_well_formed() {
        let mut r = Rng::new(1, &[]);
        let size = big_size(&mut r);
        let bytes = generate(FileKind::Pdf, size, 1, 9, 1, "Big");
        assert_eq!(bytes.len() as u64, size);
        assert!(bytes.starts_with(b"%PDF-1.4"));
        assert!(bytes.ends_with(b"%%EOF\n"));
        let tail = String::from_utf8_lossy(&bytes[bytes.len() - 64..]).to_string();
        let xref: usize = tail
            .split("startxref\n")
            .nth(1)
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(bytes[xref..].starts_with(b"xref"));
    }
}
