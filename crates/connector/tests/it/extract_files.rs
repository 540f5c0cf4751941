//! Real files of every format the engine extracts, generated here (no binary blobs): each holds
//! a known sentence, then `filler` lines of other text, so the same generators serve the tests
//! (`filler` small) and the throughput benchmark (`filler` large).

#![allow(dead_code)]

use std::io::{Cursor, Write};

/// A filler line, different for each `i`.
pub fn filler(i: usize) -> String {
    const WORDS: [&str; 12] = [
        "quarterly",
        "roadmap",
        "latency",
        "budget",
        "review",
        "deployment",
        "customer",
        "migration",
        "incident",
        "capacity",
        "release",
        "backlog",
    ];
    let w = |k: usize| WORDS[(i * 7 + k * 5) % WORDS.len()];
    format!(
        "Line {i}: the {} {} needs a {} before the {} {}.",
        w(0),
        w(1),
        w(2),
        w(3),
        w(4)
    )
}

fn lines(filler_lines: usize) -> impl Iterator<Item = String> {
    (0..filler_lines).map(filler)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Every generated extension, in a stable order.
pub const EXTENSIONS: &[&str] = &[
    "txt", "md", "markdown", "rst", "paper", "csv", "tsv", "json", "xml", "svg", "html", "aspx",
    "py", "rb", "sh", "rs", "pdf", "docx", "pptx", "potx", "vsdx", "vsdm", "xlsx", "xlsm", "xls",
    "odt", "ods", "odp", "rtf", "doc", "ppt", "msg",
];

/// A file of format `ext` holding `sentence` and `filler_lines` filler lines.
pub fn generate(ext: &str, sentence: &str, filler_lines: usize) -> Vec<u8> {
    let text = || {
        let mut s = format!("Title\n\n{sentence}\n");
        for l in lines(filler_lines) {
            s.push_str(&l);
            s.push('\n');
        }
        s
    };
    match ext {
        "txt" | "paper" | "rst" => text().into_bytes(),
        "md" | "markdown" => {
            let mut s = format!("# Notes\n\n{sentence}\n\n");
            for l in lines(filler_lines) {
                s.push_str(&format!("- {l}\n"));
            }
            s.into_bytes()
        }
        "csv" | "tsv" => {
            let sep = if ext == "csv" { "," } else { "\t" };
            let mut s = format!("id{sep}text\n1{sep}\"{sentence}\"\n");
            for (i, l) in lines(filler_lines).enumerate() {
                s.push_str(&format!("{}{sep}\"{l}\"\n", i + 2));
            }
            s.into_bytes()
        }
        "json" => {
            let mut items = vec![serde_json::json!({"id": 1, "text": sentence})];
            items.extend(
                lines(filler_lines)
                    .enumerate()
                    .map(|(i, l)| serde_json::json!({"id": i + 2, "text": l})),
            );
            serde_json::to_vec_pretty(&items).unwrap_or_default()
        }
        "xml" => {
            let mut s = format!(
                "<?xml version=\"1.0\"?>\n<notes><note id=\"1\">{}</note>\n",
                esc(sentence)
            );
            for l in lines(filler_lines) {
                s.push_str(&format!("<note>{}</note>\n", esc(&l)));
            }
            s.push_str("</notes>\n");
            s.into_bytes()
        }
        "svg" => {
            let mut s = format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"100\"><text x=\"10\" y=\"20\">{}</text>",
                esc(sentence)
            );
            for (i, l) in lines(filler_lines).enumerate() {
                s.push_str(&format!(
                    "<text x=\"10\" y=\"{}\">{}</text>",
                    40 + i * 20,
                    esc(&l)
                ));
            }
            s.push_str("</svg>");
            s.into_bytes()
        }
        "html" | "aspx" => {
            let mut s = format!(
                "<!DOCTYPE html>\n<html><head><title>Notes</title><style>p {{ color: red }}</style></head><body>\n<h1>Notes</h1>\n<p>{}</p>\n",
                esc(sentence)
            );
            for l in lines(filler_lines) {
                s.push_str(&format!("<p>{}</p>\n", esc(&l)));
            }
            s.push_str("</body></html>\n");
            s.into_bytes()
        }
        "py" | "rb" | "sh" => {
            let mut s = format!("# {sentence}\n");
            for l in lines(filler_lines) {
                s.push_str(&format!("print(\"{l}\")\n"));
            }
            s.into_bytes()
        }
        "rs" => {
            let mut s = format!("//! {sentence}\nfn main() {{\n");
            for l in lines(filler_lines) {
                s.push_str(&format!("    println!(\"{l}\");\n"));
            }
            s.push_str("}\n");
            s.into_bytes()
        }
        "pdf" => pdf(sentence, filler_lines),
        "docx" => docx(sentence, filler_lines),
        "pptx" | "potx" => pptx(sentence, filler_lines),
        "vsdx" | "vsdm" => vsdx(sentence, filler_lines),
        "xlsx" | "xlsm" => xlsx(sentence, filler_lines),
        "xls" => xls(sentence, filler_lines),
        "odt" | "ods" | "odp" => odf(ext, sentence, filler_lines),
        "rtf" => rtf(sentence, filler_lines),
        "doc" => doc(sentence, filler_lines),
        "ppt" => ppt(sentence, filler_lines),
        "msg" => msg(sentence, filler_lines),
        other => panic!("no generator for `.{other}`"),
    }
}

/// A PDF with one page per 40 lines; text in Helvetica (WinAnsi), uncompressed content streams.
pub fn pdf(sentence: &str, filler_lines: usize) -> Vec<u8> {
    let esc = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .map(|c| match c {
                '(' | ')' | '\\' => format!("\\{c}"),
                c => c.to_string(),
            })
            .collect::<String>()
    };
    let mut all = vec![sentence.to_owned()];
    all.extend(lines(filler_lines));
    let pages: Vec<&[String]> = all.chunks(40).collect();
    let n = pages.len();
    // Objects: 1 catalog, 2 pages, 3 font, then per page: page, contents.
    let mut objs: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {n} >>",
            (0..n)
                .map(|i| format!("{} 0 R", 4 + i * 2))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
    ];
    for (i, page) in pages.iter().enumerate() {
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + i * 2
        ));
        let mut content = "BT /F1 11 Tf 72 750 Td 14 TL".to_owned();
        for l in page.iter() {
            content.push_str(&format!(" ({}) Tj T*", esc(l)));
        }
        content.push_str(" ET");
        objs.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// The same PDF encrypted (RC4, 128 bits) with `user_password` (empty: opens without one).
pub fn encrypted_pdf(sentence: &str, user_password: &str) -> Vec<u8> {
    use pdf_extract::encryption::{EncryptionState, EncryptionVersion, Permissions};
    let mut doc = pdf_extract::Document::load_mem(&pdf(sentence, 3)).expect("own PDF");
    if doc.trailer.get(b"ID").is_err() {
        let id = pdf_extract::Object::String(
            b"0123456789abcdef".to_vec(),
            pdf_extract::StringFormat::Hexadecimal,
        );
        doc.trailer
            .set("ID", pdf_extract::Object::Array(vec![id.clone(), id]));
    }
    let version = EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner-secret",
        user_password,
        key_length: 128,
        permissions: Permissions::all(),
    };
    let state = EncryptionState::try_from(version).expect("encryption state");
    doc.encrypt(&state).expect("encrypt");
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save");
    out
}

/// A deflated zip of `parts`.
pub fn zip_of(parts: &[(&str, String)]) -> Vec<u8> {
    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in parts {
        zw.start_file(*name, opts).expect("zip entry");
        zw.write_all(body.as_bytes()).expect("zip write");
    }
    zw.finish().expect("zip finish").into_inner()
}

const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

pub fn docx(sentence: &str, filler_lines: usize) -> Vec<u8> {
    let p = |t: &str| {
        format!(
            "<w:p><w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"720\"/></w:tabs></w:pPr><w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
            esc(t)
        )
    };
    let mut body = format!(
        "{DECL}<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{}<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Cell A</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Cell B</w:t></w:r></w:p></w:tc></w:tr></w:tbl>",
        p(sentence)
    );
    for l in lines(filler_lines) {
        body.push_str(&p(&l));
    }
    body.push_str("<w:sectPr/></w:body></w:document>");
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let rels = "http://schemas.openxmlformats.org/package/2006/relationships";
    let wml = "application/vnd.openxmlformats-officedocument.wordprocessingml";
    zip_of(&[
        (
            "[Content_Types].xml",
            format!(
                "{DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"{wml}.document.main+xml\"/><Override PartName=\"/word/footer1.xml\" ContentType=\"{wml}.footer+xml\"/></Types>"
            ),
        ),
        (
            "_rels/.rels",
            format!(
                "{DECL}<Relationships xmlns=\"{rels}\"><Relationship Id=\"rId1\" Type=\"{rel}/officeDocument\" Target=\"word/document.xml\"/></Relationships>"
            ),
        ),
        (
            "word/_rels/document.xml.rels",
            format!(
                "{DECL}<Relationships xmlns=\"{rels}\"><Relationship Id=\"rId1\" Type=\"{rel}/footer\" Target=\"footer1.xml\"/></Relationships>"
            ),
        ),
        ("word/document.xml", body),
        (
            "word/footer1.xml",
            format!(
                "{DECL}<w:ftr xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:p><w:r><w:t>Footer text</w:t></w:r></w:p></w:ftr>"
            ),
        ),
    ])
}

pub fn pptx(sentence: &str, filler_lines: usize) -> Vec<u8> {
    let ns = "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\"";
    let slide = |paras: &[String]| {
        let mut s = format!("{DECL}<p:sld {ns}><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/>");
        for t in paras {
            s.push_str(&format!("<a:p><a:pPr><a:tabLst><a:tab pos=\"1\"/></a:tabLst></a:pPr><a:r><a:rPr lang=\"en-US\"/><a:t>{}</a:t></a:r></a:p>", esc(t)));
        }
        s.push_str("</p:txBody></p:sp></p:spTree></p:cSld></p:sld>");
        s
    };
    let mut parts = vec![
        (
            "ppt/presentation.xml".to_owned(),
            format!("{DECL}<p:presentation {ns}/>"),
        ),
        (
            "ppt/slides/slide1.xml".to_owned(),
            slide(&[sentence.to_owned()]),
        ),
    ];
    let all: Vec<String> = lines(filler_lines).collect();
    // Slide 10 sorts after slide 2 only when sorted by number.
    for (i, chunk) in all.chunks(20).enumerate() {
        parts.push((format!("ppt/slides/slide{}.xml", i + 2), slide(chunk)));
    }
    let parts: Vec<(&str, String)> = parts.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    zip_of(&parts)
}

pub fn vsdx(sentence: &str, filler_lines: usize) -> Vec<u8> {
    let mut page = format!(
        "{DECL}<PageContents xmlns=\"http://schemas.microsoft.com/office/visio/2012/main\"><Shapes><Shape ID=\"1\"><Text><cp IX=\"0\"/>{}</Text></Shape>",
        esc(sentence)
    );
    for (i, l) in lines(filler_lines).enumerate() {
        page.push_str(&format!(
            "<Shape ID=\"{}\"><Cell N=\"PinX\" V=\"1\"/><Text>{}</Text></Shape>",
            i + 2,
            esc(&l)
        ));
    }
    page.push_str("</Shapes></PageContents>");
    zip_of(&[
        (
            "visio/document.xml",
            format!(
                "{DECL}<VisioDocument xmlns=\"http://schemas.microsoft.com/office/visio/2012/main\"/>"
            ),
        ),
        ("visio/pages/page1.xml", page),
    ])
}

pub fn xlsx(sentence: &str, filler_lines: usize) -> Vec<u8> {
    let ns = "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"";
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let mut strings = vec![sentence.to_owned()];
    strings.extend(lines(filler_lines));
    let mut sst = format!(
        "{DECL}<sst {ns} count=\"{0}\" uniqueCount=\"{0}\">",
        strings.len()
    );
    for s in &strings {
        sst.push_str(&format!("<si><t>{}</t></si>", esc(s)));
    }
    sst.push_str("</sst>");
    let mut sheet = format!("{DECL}<worksheet {ns}><sheetData>");
    for i in 0..strings.len() {
        let r = i + 1;
        sheet.push_str(&format!(
            "<row r=\"{r}\"><c r=\"A{r}\"><v>{r}</v></c><c r=\"B{r}\" t=\"s\"><v>{i}</v></c></row>"
        ));
    }
    sheet.push_str("</sheetData></worksheet>");
    zip_of(&[
        (
            "[Content_Types].xml",
            format!(
                "{DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/><Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/></Types>"
            ),
        ),
        (
            "_rels/.rels",
            format!(
                "{DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{rel}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
            ),
        ),
        (
            "xl/workbook.xml",
            format!(
                "{DECL}<workbook {ns} xmlns:r=\"{rel}\"><sheets><sheet name=\"Notes\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(
                "{DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{rel}/worksheet\" Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\"{rel}/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>"
            ),
        ),
        ("xl/sharedStrings.xml", sst),
        ("xl/worksheets/sheet1.xml", sheet),
    ])
}

/// One BIFF8 record.
fn rec(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(data);
}

/// A compound file with the given streams.
pub fn compound(streams: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut file =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
            .expect("cfb");
    for (name, data) in streams {
        if let Some((dir, _)) = name.rsplit_once('/')
            && !dir.is_empty()
        {
            file.create_storage_all(dir).expect("storage");
        }
        let mut s = file.create_stream(name).expect("stream");
        s.write_all(data).expect("write");
    }
    file.flush().expect("flush");
    file.into_inner().into_inner()
}

/// An Excel 97-2003 workbook: one sheet, strings in the shared string table (as Excel writes).
pub fn xls(sentence: &str, filler_lines: usize) -> Vec<u8> {
    let mut strings = vec![sentence.to_owned()];
    strings.extend(lines(filler_lines).take(2000));
    let bof = |dt: u16| {
        let mut b = Vec::new();
        b.extend_from_slice(&0x0600u16.to_le_bytes());
        b.extend_from_slice(&dt.to_le_bytes());
        b.extend_from_slice(&[0; 12]);
        b
    };
    let sheet_name = "Notes";
    let mut globals = Vec::new();
    rec(&mut globals, 0x0809, &bof(0x0005));
    rec(&mut globals, 0x0042, &1200u16.to_le_bytes());
    let mut bound = vec![0u8; 4];
    bound.extend_from_slice(&[0, 0, sheet_name.len() as u8, 0]);
    bound.extend_from_slice(sheet_name.as_bytes());
    let bound_at = globals.len() + 4;
    rec(&mut globals, 0x0085, &bound);
    // The SST must fit one record (8224 bytes); keep the strings that fit.
    let mut sst = Vec::new();
    let mut kept = 0u32;
    let mut body = Vec::new();
    for s in &strings {
        let mut one = (s.len() as u16).to_le_bytes().to_vec();
        one.push(0);
        one.extend_from_slice(s.as_bytes());
        if body.len() + one.len() + 8 > 8224 {
            break;
        }
        body.extend_from_slice(&one);
        kept += 1;
    }
    sst.extend_from_slice(&kept.to_le_bytes());
    sst.extend_from_slice(&kept.to_le_bytes());
    sst.extend_from_slice(&body);
    rec(&mut globals, 0x00FC, &sst);
    rec(&mut globals, 0x000A, &[]);
    let sheet_at = globals.len() as u32;
    globals[bound_at..bound_at + 4].copy_from_slice(&sheet_at.to_le_bytes());
    rec(&mut globals, 0x0809, &bof(0x0010));
    let mut dims = Vec::new();
    dims.extend_from_slice(&0u32.to_le_bytes());
    dims.extend_from_slice(&kept.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    dims.extend_from_slice(&1u16.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    rec(&mut globals, 0x0200, &dims);
    for i in 0..kept {
        let mut cell = Vec::new();
        cell.extend_from_slice(&(i as u16).to_le_bytes());
        cell.extend_from_slice(&0u16.to_le_bytes());
        cell.extend_from_slice(&0u16.to_le_bytes());
        cell.extend_from_slice(&i.to_le_bytes());
        rec(&mut globals, 0x00FD, &cell);
    }
    rec(&mut globals, 0x000A, &[]);
    compound(&[("/Workbook", globals)])
}

pub fn odf(ext: &str, sentence: &str, filler_lines: usize) -> Vec<u8> {
    let (mime, body) = match ext {
        "odt" => {
            let mut b = format!(
                "<office:text><text:h text:outline-level=\"1\">Notes</text:h><text:p>{}</text:p>",
                esc(sentence)
            );
            for l in lines(filler_lines) {
                b.push_str(&format!(
                    "<text:p><text:span>{}</text:span><text:s text:c=\"2\"/>end</text:p>",
                    esc(&l)
                ));
            }
            b.push_str("</office:text>");
            ("application/vnd.oasis.opendocument.text", b)
        }
        "ods" => {
            let mut b = format!(
                "<office:spreadsheet><table:table table:name=\"Notes\"><table:table-row><table:table-cell office:value-type=\"float\" office:value=\"1\"><text:p>1</text:p></table:table-cell><table:table-cell office:value-type=\"string\"><text:p>{}</text:p></table:table-cell></table:table-row>",
                esc(sentence)
            );
            for (i, l) in lines(filler_lines).enumerate() {
                b.push_str(&format!("<table:table-row><table:table-cell office:value-type=\"float\" office:value=\"{0}\"><text:p>{0}</text:p></table:table-cell><table:table-cell office:value-type=\"string\"><text:p>{1}</text:p></table:table-cell></table:table-row>", i + 2, esc(&l)));
            }
            b.push_str("</table:table></office:spreadsheet>");
            ("application/vnd.oasis.opendocument.spreadsheet", b)
        }
        _ => {
            let frame = |t: &str| {
                format!(
                    "<draw:frame><draw:text-box><text:p>{}</text:p></draw:text-box></draw:frame>",
                    esc(t)
                )
            };
            let mut b = format!(
                "<office:presentation><draw:page draw:name=\"page1\">{}</draw:page>",
                frame(sentence)
            );
            for (i, chunk) in lines(filler_lines)
                .collect::<Vec<_>>()
                .chunks(10)
                .enumerate()
            {
                b.push_str(&format!("<draw:page draw:name=\"page{}\">", i + 2));
                for l in chunk {
                    b.push_str(&frame(l));
                }
                b.push_str("</draw:page>");
            }
            b.push_str("</office:presentation>");
            ("application/vnd.oasis.opendocument.presentation", b)
        }
    };
    let content = format!(
        "{DECL}<office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" xmlns:draw=\"urn:oasis:names:tc:opendocument:xmlns:drawing:1.0\" office:version=\"1.3\"><office:automatic-styles><style:style xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\" style:name=\"P1\"/></office:automatic-styles><office:body>{body}</office:body></office:document-content>"
    );
    // The mimetype entry comes first, stored, as the OpenDocument spec asks.
    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zw.start_file("mimetype", stored).expect("zip");
    zw.write_all(mime.as_bytes()).expect("zip");
    zw.start_file("content.xml", deflated).expect("zip");
    zw.write_all(content.as_bytes()).expect("zip");
    zw.start_file("META-INF/manifest.xml", deflated)
        .expect("zip");
    zw.write_all(format!("{DECL}<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\"><manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"{mime}\"/><manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/></manifest:manifest>").as_bytes()).expect("zip");
    zw.finish().expect("zip").into_inner()
}

/// RTF with a font table, colour table, a `\*` destination, a hex escape and a Unicode escape.
pub fn rtf(sentence: &str, filler_lines: usize) -> Vec<u8> {
    let rtf_esc = |s: &str| {
        let mut o = String::new();
        for c in s.chars() {
            match c {
                '\\' | '{' | '}' => {
                    o.push('\\');
                    o.push(c);
                }
                c if c.is_ascii() => o.push(c),
                c => o.push_str(&format!("\\u{}?", c as u32 as i16)),
            }
        }
        o
    };
    let mut s = format!(
        "{{\\rtf1\\ansi\\ansicpg1252\\deff0{{\\fonttbl{{\\f0\\fswiss Helvetica;}}}}{{\\colortbl;\\red255\\green0\\blue0;}}{{\\*\\generator Test 1.0;}}\n\\pard\\f0\\fs24 {}\\par\nCaf\\'e9 na\\u239?ve\\par\n",
        rtf_esc(sentence)
    );
    for l in lines(filler_lines) {
        s.push_str(&format!("{{\\b {}}}\\par\n", rtf_esc(&l)));
    }
    s.push('}');
    s.into_bytes()
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Word 97-2003: a FIB, UTF-16 text in one piece, and the piece table in `1Table`.
pub fn doc(sentence: &str, filler_lines: usize) -> Vec<u8> {
    let mut text = format!("{sentence}\r");
    // A field: the instruction is dropped, the result kept.
    text.push_str("\u{13} HYPERLINK \"https://example.com\" \u{14}Example link\u{15}\r");
    for l in lines(filler_lines) {
        text.push_str(&l);
        text.push('\r');
    }
    let chars = text.encode_utf16().count() as u32;
    let mut word = vec![0u8; 0x400];
    word[0..2].copy_from_slice(&0xA5ECu16.to_le_bytes());
    word[2..4].copy_from_slice(&0x00C1u16.to_le_bytes());
    word[0x0A..0x0C].copy_from_slice(&0x0200u16.to_le_bytes()); // fWhichTblStm: 1Table
    let fc_text = word.len() as u32;
    word.extend_from_slice(&utf16le(&text));
    // Clx: one Pcdt with one piece.
    let mut plc = Vec::new();
    plc.extend_from_slice(&0u32.to_le_bytes());
    plc.extend_from_slice(&chars.to_le_bytes());
    plc.extend_from_slice(&0u16.to_le_bytes());
    plc.extend_from_slice(&fc_text.to_le_bytes());
    plc.extend_from_slice(&0u16.to_le_bytes());
    let mut clx = vec![0x02];
    clx.extend_from_slice(&(plc.len() as u32).to_le_bytes());
    clx.extend_from_slice(&plc);
    let mut table = vec![0u8; 16];
    let fc_clx = table.len() as u32;
    table.extend_from_slice(&clx);
    word[0x01A2..0x01A6].copy_from_slice(&fc_clx.to_le_bytes());
    word[0x01A6..0x01AA].copy_from_slice(&(clx.len() as u32).to_le_bytes());
    compound(&[("/WordDocument", word), ("/1Table", table)])
}

fn ppt_record(ver_inst: u16, kind: u16, body: &[u8]) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend_from_slice(&ver_inst.to_le_bytes());
    r.extend_from_slice(&kind.to_le_bytes());
    r.extend_from_slice(&(body.len() as u32).to_le_bytes());
    r.extend_from_slice(body);
    r
}

/// PowerPoint 97-2003: a document container whose slide list holds text atoms.
pub fn ppt(sentence: &str, filler_lines: usize) -> Vec<u8> {
    let mut atoms = ppt_record(0, 0x0FA0, &utf16le(sentence));
    for l in lines(filler_lines) {
        atoms.extend(ppt_record(0, 0x0FA8, l.as_bytes()));
    }
    let slide_list = ppt_record(0x000F, 0x0FF0, &atoms);
    let document = ppt_record(0x000F, 0x03E8, &slide_list);
    compound(&[
        ("/PowerPoint Document", document),
        ("/Current User", vec![0; 20]),
    ])
}

/// An Outlook message: subject, sender and plain body as UTF-16 properties.
pub fn msg(sentence: &str, filler_lines: usize) -> Vec<u8> {
    let mut body = format!("Hello,\r\n\r\n{sentence}\r\n");
    for l in lines(filler_lines) {
        body.push_str(&l);
        body.push_str("\r\n");
    }
    compound(&[
        ("/__substg1.0_0037001F", utf16le("Quarterly planning")),
        ("/__substg1.0_0C1A001F", utf16le("Ann Lee")),
        ("/__substg1.0_1000001F", utf16le(&body)),
        ("/__properties_version1.0", vec![0; 32]),
    ])
}

/// Decompression bombs for the tests and the fault suite: small files that inflate to
/// `inflated_bytes`, generated streaming at the best compression (about 1000:1, so 1 GiB gives
/// a file of about 1 MiB) without ever holding the inflated bytes.
///
/// A PDF whose one page has a Flate content stream inflating to `inflated_bytes` of spaces
/// (valid content: whitespace between no operators), then a line of text.
pub fn bomb_pdf(inflated_bytes: u64) -> Vec<u8> {
    use flate2::{Compression, write::ZlibEncoder};
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![b' '; 64 * 1024];
    let mut left = inflated_bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        z.write_all(&chunk[..n]).expect("deflate");
        left -= n as u64;
    }
    z.write_all(b"\nBT /F1 11 Tf 72 750 Td (Bomb) Tj ET\n")
        .expect("deflate");
    let content = z.finish().expect("deflate");
    let mut objs: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>".to_vec(),
    ];
    let mut stream = format!(
        "<< /Length {} /Filter /FlateDecode >>\nstream\n",
        content.len()
    )
    .into_bytes();
    stream.extend_from_slice(&content);
    stream.extend_from_slice(b"\nendstream");
    objs.push(stream);
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A DOCX whose `word/document.xml` inflates to `inflated_bytes` of empty paragraphs (no text,
/// so the text cap never stops the reader: only the decompression budget does).
pub fn bomb_docx(inflated_bytes: u64) -> Vec<u8> {
    bomb_docx_of(inflated_bytes, b"<w:p/>")
}

/// A DOCX whose `word/document.xml` body is `fill` repeated up to `inflated_bytes` (e.g. `b"A"`
/// inside one `<w:t>`: a single text run the size of the part).
pub fn bomb_docx_of(inflated_bytes: u64, fill: &[u8]) -> Vec<u8> {
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(inflated_bytes >= u64::from(u32::MAX));
    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zw.start_file("[Content_Types].xml", opts)
        .expect("zip entry");
    zw.write_all(format!("{DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>").as_bytes()).expect("zip write");
    zw.start_file("word/document.xml", opts).expect("zip entry");
    zw.write_all(
        format!("{DECL}<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>Bomb</w:t></w:r></w:p><w:p><w:r><w:t>").as_bytes(),
    )
    .expect("zip write");
    let chunk: Vec<u8> = fill
        .iter()
        .copied()
        .cycle()
        .take(64 * 1024 / fill.len() * fill.len())
        .collect();
    let mut left = inflated_bytes - inflated_bytes % fill.len() as u64;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        zw.write_all(&chunk[..n]).expect("zip write");
        left -= n as u64;
    }
    zw.write_all(b"</w:t></w:r></w:p></w:body></w:document>")
        .expect("zip write");
    zw.finish().expect("zip finish").into_inner()
}
