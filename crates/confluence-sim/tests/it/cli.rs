//! The binary: `serve` prints one JSON object first, `truth` prints JSON lines.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use confluence_sim::{Flavor, SiteSize, TruthDoc};

#[tokio::test]
async fn serve_prints_base_url_and_credentials_first() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_confluence-sim"))
        .args([
            "serve",
            "--flavor",
            "server",
            "--size",
            "tiny",
            "--seed",
            "7",
            "--context-path",
            "/confluence",
            "--latency",
            "1ms",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("line");
    let info: serde_json::Value = serde_json::from_str(&line).expect("JSON first line");
    let base = info["base_url"].as_str().unwrap_or("").to_owned();
    assert!(base.ends_with("/confluence"), "{base}");
    let r = reqwest::Client::new()
        .get(format!("{base}/rest/api/space"))
        .basic_auth(
            info["username"].as_str().unwrap_or(""),
            info["password"].as_str(),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 200);
    child.kill().expect("kill");
    let _ = child.wait();
}

#[test]
fn truth_prints_one_document_a_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_confluence-sim"))
        .args([
            "truth", "--flavor", "cloud", "--size", "tiny", "--seed", "7",
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    let docs: Vec<TruthDoc> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a TruthDoc per line"))
        .collect();
    let mut lib = Vec::new();
    confluence_sim::truth_of(Flavor::Cloud, SiteSize::Tiny, 7, |d| lib.push(d));
    assert_eq!(docs, lib);
    assert!(
        docs.iter()
            .all(|d| !d.id.is_empty() && !d.space_key.is_empty() && !d.readers.is_empty())
    );
}
