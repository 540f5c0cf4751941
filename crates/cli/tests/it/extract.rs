//! `confluence-connector extract FILE`: in-process, and through Elastic's data extraction
//! service (the test server of `tests/tika.sh` answers its protocol, `TIKA_URL`).

use super::{json_of, run};

const SENTENCE: &str = "The quarterly figures sit in the shared drive";

fn html_file(dir: &std::path::Path) -> String {
    let path = dir.join("notes.html");
    std::fs::write(
        &path,
        format!("<html><body><p>{SENTENCE}</p></body></html>"),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_file_is_read_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let file = html_file(dir.path());
    let out = run(
        dir.path(),
        &["extract", &file, "--json"],
        &[("TIKA_URL", "")],
    );
    let got = json_of(&out);
    assert!(
        got["text"].as_str().unwrap_or_default().contains(SENTENCE),
        "{got}"
    );
    assert_eq!(got["failed"], false);
}

#[test]
fn a_file_is_sent_to_elastics_extraction_service() {
    let url = match std::env::var("TIKA_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("REQUIRE_TIKA").is_some() => {
            panic!("REQUIRE_TIKA is set but TIKA_URL is not: start tests/tika.sh")
        }
        _ => {
            eprintln!("TIKA_URL is not set: run this test through scripts/test");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let file = html_file(dir.path());
    let out = run(
        dir.path(),
        &["extract", &file, "--json", "--extraction-service", &url],
        &[],
    );
    let got = json_of(&out);
    assert!(
        got["text"].as_str().unwrap_or_default().contains(SENTENCE),
        "{got}"
    );
    assert_eq!(got["failed"], false);
    // A service that does not answer is a failure that says so, not an empty text.
    let out = run(
        dir.path(),
        &[
            "extract",
            &file,
            "--json",
            "--extraction-service",
            "http://127.0.0.1:9",
        ],
        &[],
    );
    let got = json_of(&out);
    assert_eq!(got["failed"], true, "{got}");
    assert!(got["text"].is_null(), "{got}");
    let note = got["note"].as_str().unwrap_or_default();
    assert!(note.contains("extraction service"), "{note}");
}
