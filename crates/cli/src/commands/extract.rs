//! `confluence-connector extract FILE`: the text a sync would index for a local file, or why
//! there is none, so an admin can see what a given attachment will yield.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use connector::config::ExtractionSettings;
use connector::extract::elastic_service::ElasticService;
use connector::extract::{Extractor, Limits, tika::Tika};

/// Arguments of `extract`.
#[derive(clap::Args)]
pub struct Args {
    /// The file to read.
    pub file: PathBuf,
    /// Treat the file as having this extension instead of its own (e.g. `pdf`).
    #[arg(long)]
    pub extension: Option<String>,
    /// Send the file to this Apache Tika server instead of extracting in-process.
    #[arg(long, env = "TIKA_URL")]
    pub tika: Option<String>,
    /// Send the file to this Elastic data extraction service (`PUT /extract_text/`, what
    /// Elastic's connectors call the extraction service) instead; it wins over `--tika`.
    #[arg(long, value_name = "URL")]
    pub extraction_service: Option<String>,
    /// The download cap a sync applies in-process, in bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_download_bytes: u64,
    /// Text kept, in bytes.
    #[arg(long, default_value_t = ExtractionSettings::default().max_text_bytes)]
    pub max_text_bytes: u64,
    /// Seconds allowed for the extraction.
    #[arg(long, default_value_t = ExtractionSettings::default().timeout_secs)]
    pub timeout_secs: u64,
    /// Print `{ "text", "note", "failed", "chars" }` as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read `{}`", args.file.display()))?
        .len();
    let extension = args.extension.clone().unwrap_or_else(|| {
        args.file
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let limits = Limits::from_settings(&ExtractionSettings {
        max_text_bytes: args.max_text_bytes,
        timeout_secs: args.timeout_secs,
        ..ExtractionSettings::default()
    });
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let elastic = args.extraction_service.as_deref().filter(|u| !u.is_empty());
    let tika = args.tika.as_deref().filter(|u| !u.is_empty());
    let extractor = match (elastic, tika) {
        (Some(url), _) => Extractor::with_service(limits, ElasticService::new(url, timeout)),
        (None, Some(url)) => Extractor::with_service(limits, Tika::new(url, timeout)),
        (None, None) => Extractor::in_process(limits, args.max_download_bytes),
    };
    let extraction = match extractor.skip_reason(&extension, Some(size)) {
        Some(reason) => connector::extract::Extraction::none(reason),
        None => extractor.extract(&args.file, &extension).await,
    };
    if args.json {
        let chars = extraction.text.as_deref().map_or(0, |t| t.chars().count());
        println!(
            "{}",
            serde_json::json!({
                "text": extraction.text,
                "note": extraction.note,
                "failed": extraction.failed,
                "chars": chars,
            })
        );
    } else {
        if let Some(text) = &extraction.text {
            println!("{text}");
        }
        if let Some(note) = &extraction.note {
            eprintln!("note: {note}");
        }
    }
    Ok(if extraction.text.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
