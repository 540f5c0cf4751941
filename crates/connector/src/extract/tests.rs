//! Unit tests of the dispatcher; the format tests with generated files live in `tests/it/extract.rs`.

use super::*;

#[test]
fn text_formats_are_decoded_and_others_explain_themselves() {
    assert_eq!(
        extract(b"  hello world \n", "TXT").text.as_deref(),
        Some("  hello world")
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

#[test]
fn the_reference_allow_list_is_covered_except_legacy_visio() {
    let missing: Vec<&str> = ALLOW_LIST
        .iter()
        .copied()
        .filter(|e| !is_supported(e))
        .collect();
    assert_eq!(missing, ["vsd"]);
    // What we do not read in-process says so, and what reads it.
    let note = unsupported_note(".VSD");
    assert_eq!(note, VSD_NOTE);
    assert!(note.contains("`.vsdx`") && note.contains("text extraction service"));
}

#[test]
fn utf16_and_windows_1252_text_is_decoded() {
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "Grüße".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    assert_eq!(extract(&utf16, "txt").text.as_deref(), Some("Grüße"));
    assert_eq!(
        extract(b"caf\xe9 \x93ok\x94", "csv").text.as_deref(),
        Some("café \u{201C}ok\u{201D}")
    );
    let binary = extract(b"\x00\x01\x02text", "txt");
    assert!(binary.note.unwrap().contains("binary"), "binary text file");
}

#[test]
fn xml_keeps_text_nodes_one_per_line() {
    let xml = br#"<?xml version="1.0"?><root><a>First &amp; one</a><b x="attr"><c>Second</c></b><![CDATA[Third]]></root>"#;
    assert_eq!(
        extract(xml, "xml").text.as_deref(),
        Some("First & one\nSecond\nThird")
    );
    assert!(extract(b"<a><b>unclosed", "xml").text.is_some());
}

#[test]
fn skip_reasons_follow_the_reference() {
    let e = Extractor::in_process(Limits::default(), 10 * 1024 * 1024);
    assert_eq!(e.skip_reason("pdf", Some(1000)), None);
    assert!(
        e.skip_reason("PDF", Some(11 * 1024 * 1024))
            .unwrap()
            .contains("10 MiB download cap")
    );
    assert!(e.skip_reason("png", Some(10)).unwrap().contains("`.png`"));
    assert!(
        e.skip_reason("", Some(10))
            .unwrap()
            .contains("no extension")
    );
    assert_eq!(
        e.skip_reason("txt", Some(0)).as_deref(),
        Some("the file is empty")
    );
    let service = Extractor::with_service(
        Limits::default(),
        tika::Tika::new("http://127.0.0.1:1", Duration::from_secs(1)),
    );
    assert_eq!(service.skip_reason("png", Some(50 * 1024 * 1024)), None);
}
