//! Attachment text extraction throughput, per format: in-process, and through the Apache Tika
//! service side by side when `TIKA_URL` is set (start it with `tests/tika.sh start`).
//!
//! ```text
//! cargo run --release -p connector --example extract_bench [-- MiB_PER_FORMAT]
//! ```
//!
//! Inputs are generated here (the test generators), about 1 MiB a file by default; each format
//! runs for at least half a second. MB/s counts input bytes (10^6 bytes a second).

#[path = "../tests/it/extract_files.rs"]
mod files;

use std::time::{Duration, Instant};

use connector::extract::{self, tika::Tika};

const FORMATS: &[&str] = &[
    "txt", "csv", "json", "xml", "html", "md", "pdf", "docx", "pptx", "vsdx", "xlsx", "xls", "odt",
    "ods", "odp", "rtf", "doc", "ppt", "msg",
];

/// Filler lines for a file of about `target` bytes.
fn sized(ext: &str, target: usize) -> Vec<u8> {
    let probe = files::generate(ext, "The heron counts seventeen lanterns", 200);
    let per_line = (probe.len() / 200).max(1);
    files::generate(
        ext,
        "The heron counts seventeen lanterns",
        target / per_line,
    )
}

fn main() {
    let mib: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1.0);
    let target = (mib * 1024.0 * 1024.0) as usize;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let tika = std::env::var("TIKA_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| Tika::new(&u, Duration::from_secs(300)));
    println!(
        "{:<6} {:>10} {:>14} {:>12} {:>8}",
        "format", "file (KB)", "in-process MB/s", "Tika MB/s", "ratio"
    );
    for ext in FORMATS {
        let bytes = sized(ext, target);
        let ours = measure(
            || {
                let got = extract::extract(&bytes, ext);
                assert!(got.text.is_some(), "`.{ext}`: {:?}", got.note);
            },
            bytes.len(),
        );
        let theirs = tika.as_ref().map(|t| {
            measure(
                || {
                    let name = format!("file.{ext}");
                    let _ = runtime.block_on(t.extract_bytes(bytes.clone(), &name));
                },
                bytes.len(),
            )
        });
        match theirs {
            Some(theirs) => println!(
                "{ext:<6} {:>10} {ours:>15.1} {theirs:>12.1} {:>7.1}x",
                bytes.len() / 1000,
                ours / theirs
            ),
            None => println!(
                "{ext:<6} {:>10} {ours:>15.1} {:>12} {:>8}",
                bytes.len() / 1000,
                "-",
                "-"
            ),
        }
    }
}

/// Input MB/s of `f` over `bytes`, run for at least half a second (and at least twice).
fn measure(mut f: impl FnMut(), bytes: usize) -> f64 {
    f(); // warm-up
    let start = Instant::now();
    let mut runs = 0u32;
    while runs < 2 || start.elapsed() < Duration::from_millis(500) {
        f();
        runs += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    (bytes as f64 * f64::from(runs)) / secs / 1e6
}
