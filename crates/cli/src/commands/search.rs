//! `confluence-connector search`: full-text search of an index.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use connector::config::{Secrets, Target};
use connector::sink::{SearchRequest, Sink};
use connector::target::AnySink;

/// Arguments of `search`.
#[derive(clap::Args)]
pub struct Args {
    /// Words to look for; empty lists everything.
    #[arg(default_value = "")]
    pub query: String,
    /// The local index to search (ignored with --config).
    #[arg(long, default_value = connector::config::DEFAULT_INDEX_NAME)]
    pub index: String,
    /// Search the target of this configuration instead of a local index.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Only documents of this type: space, page, blogpost, attachment, comment.
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// Only documents of this space key.
    #[arg(long)]
    pub space: Option<String>,
    /// How many results.
    #[arg(long, default_value_t = 10)]
    pub size: usize,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: Args, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let (target, secrets) = match &args.config {
        Some(path) => {
            let (config, secrets) = super::sync::load_config(path)?;
            (config.target, secrets)
        }
        None => {
            let path = connector::target::local_index_path(data_dir, &args.index);
            if !path.exists() {
                anyhow::bail!(
                    "there is no local index `{}` in `{}`: run `confluence-connector demo` or a sync first",
                    args.index,
                    data_dir.display()
                );
            }
            (
                Target::Local {
                    index_name: args.index.clone(),
                },
                Secrets::new(),
            )
        }
    };
    let sink = AnySink::open(&target, &secrets, data_dir)?;
    let mut filters = Vec::new();
    if let Some(kind) = &args.kind {
        filters.push(("type".to_owned(), kind.clone()));
    }
    if let Some(space) = &args.space {
        filters.push(("space_key".to_owned(), space.clone()));
    }
    let page = sink
        .search(&SearchRequest {
            query: args.query.clone(),
            filters,
            size: args.size,
            ..SearchRequest::default()
        })
        .await?;
    if args.json {
        let hits: Vec<_> = page
            .hits
            .iter()
            .map(|h| serde_json::json!({"id": h.id, "score": h.score, "source": h.source}))
            .collect();
        println!("{}", serde_json::json!({"total": page.total, "hits": hits}));
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} matching documents in {}", page.total, sink.describe());
    for hit in &page.hits {
        let s = &hit.source;
        println!(
            "  [{}] {} · {} · {}",
            s["type"].as_str().unwrap_or("?"),
            s["title"].as_str().unwrap_or(""),
            s["space_key"].as_str().unwrap_or(""),
            s["url"].as_str().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}
