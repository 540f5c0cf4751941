//! The Elasticsearch sink against a real node: mapping, bulk through `BulkWriter`, created versus
//! updated, item failures, scan, delete, search with access control, identity documents.

use std::collections::BTreeSet;
use std::sync::Arc;

use connector::sink::{
    BulkOptions, BulkWriter, EsOptions, EsSink, IndexDoc, IndexSettings, PrivilegeCheck,
    SearchRequest, Sink,
};
use serde_json::{Value, json};

use crate::support::{search_url, unique_index};

fn sink(url: &str, prefix: &str) -> EsSink {
    EsSink::new(&EsOptions::new(url, unique_index(prefix))).unwrap()
}

fn page(i: usize) -> IndexDoc {
    let id = format!("page-{i:05}");
    let space_key = if i.is_multiple_of(2) { "ENG" } else { "OPS" };
    IndexDoc {
        id: id.clone(),
        space_key: Some(space_key.to_owned()),
        timestamp: "2026-11-01T10:00:00Z".to_owned(),
        source: json!({
            "id": id,
            "type": "page",
            "title": format!("Page number {i}"),
            "body": "Some text about releases",
            "space_key": space_key,
            "_timestamp": "2026-11-01T10:00:00Z",
            "size": i,
        }),
    }
}

/// Runs a raw search body against the node (for what the sink API does not expose).
async fn raw_search(url: &str, index: &str, body: Value) -> Vec<String> {
    let answer: Value = reqwest::Client::new()
        .post(format!("{url}/{index}/_search"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ids: Vec<String> = answer["hits"]["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|hit| hit["_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn bulk_writer_fills_the_index_and_scan_sees_every_id_once() {
    let Some(url) = search_url() else { return };
    let es = Arc::new(sink(&url, "it-bulk"));
    es.prepare().await.unwrap();
    // Preparing twice is harmless: a rerun of a sync must not fail on an existing index.
    es.prepare().await.unwrap();
    assert_eq!(es.count().await.unwrap(), 0);

    let mut writer = BulkWriter::new(Arc::clone(&es), BulkOptions::default());
    for i in 0..1200 {
        writer.push(page(i)).await.unwrap();
    }
    let outcome = writer.finish().await.unwrap();
    assert_eq!((outcome.created, outcome.updated), (1200, 0));
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert!(outcome.bytes > 1200 * 100, "{}", outcome.bytes);
    es.refresh().await.unwrap();
    assert_eq!(es.count().await.unwrap(), 1200);

    // Rewriting 100 documents and adding 50 counts 100 updated and 50 created.
    let again = es.write((1150..1250).map(page).collect()).await.unwrap();
    assert_eq!((again.created, again.updated), (50, 50));
    let again = es.write((0..50).map(page).collect()).await.unwrap();
    assert_eq!((again.created, again.updated), (0, 50));
    es.refresh().await.unwrap();

    let mut seen = Vec::new();
    let mut pages = 0;
    es.scan(97, &mut |docs| {
        assert!(docs.len() <= 97);
        pages += 1;
        seen.extend(docs);
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(seen.len(), 1250);
    assert_eq!(
        seen.iter()
            .map(|d| d.id.as_str())
            .collect::<BTreeSet<_>>()
            .len(),
        1250
    );
    assert_eq!(pages, 1250usize.div_ceil(97));
    let first = seen.iter().find(|d| d.id == "page-00001").unwrap();
    assert_eq!(first.space_key.as_deref(), Some("OPS"));
    assert_eq!(first.timestamp.as_deref(), Some("2026-11-01T10:00:00Z"));

    // A visitor's error stops the scan and comes back.
    let stopped = es
        .scan(100, &mut |_| {
            Err(connector::Error::Elasticsearch("stop".into()))
        })
        .await
        .unwrap_err();
    assert!(stopped.to_string().contains("stop"));

    let ids: Vec<String> = (0..10)
        .map(|i| page(i).id)
        .chain(["no-such-id".to_owned()])
        .collect();
    let gone = es.delete(ids).await.unwrap();
    assert_eq!(gone.deleted, 10);
    assert!(
        gone.failed.is_empty(),
        "a missing id is not a failure: {:?}",
        gone.failed
    );
    es.refresh().await.unwrap();
    assert_eq!(es.count().await.unwrap(), 1240);
    assert_eq!(es.get("page-00003").await.unwrap(), None);
    assert_eq!(es.get("page-00011").await.unwrap().unwrap()["size"], 11);

    es.delete_index().await.unwrap();
    assert_eq!(es.count().await.unwrap(), 0, "a missing index counts 0");
}

#[tokio::test]
async fn a_document_violating_the_mapping_is_counted_as_failed_with_its_reason() {
    let Some(url) = search_url() else { return };
    let es = sink(&url, "it-bad");
    let mut bad = page(1);
    bad.id = "bad".into();
    bad.source = json!({ "type": "page", "size": "not a number" });
    let mut bad_date = page(2);
    bad_date.id = "bad-date".into();
    bad_date.source = json!({ "_timestamp": "yesterday" });
    // `write` creates the index with its mapping first, even without `prepare`.
    let outcome = es.write(vec![page(0), bad, bad_date]).await.unwrap();
    assert_eq!(outcome.created, 1);
    assert_eq!(outcome.failed.len(), 2, "{:?}", outcome.failed);
    let failed = &outcome.failed[0];
    assert_eq!((failed.id.as_str(), failed.status), ("bad", Some(400)));
    assert!(failed.reason.contains("size"), "{}", failed.reason);
    assert!(
        failed.reason.contains("parsing_exception"),
        "{}",
        failed.reason
    );
    assert_eq!(outcome.failed[1].id, "bad-date");
    es.delete_index().await.unwrap();
}

#[tokio::test]
async fn search_combines_free_text_filters_and_access_control() {
    let Some(url) = search_url() else { return };
    let es = sink(&url, "it-search");
    let doc = |id: &str, source: Value| IndexDoc {
        id: id.to_owned(),
        space_key: source["space_key"].as_str().map(str::to_owned),
        timestamp: "2026-11-01T10:00:00Z".to_owned(),
        source,
    };
    let docs = vec![
        doc(
            "public",
            json!({ "type": "page", "title": "Release checklist", "space": "Engineering",
            "space_key": "ENG", "labels": ["ops"] }),
        ),
        doc(
            "restricted",
            json!({ "type": "page", "title": "Release budget", "space": "Engineering",
            "space_key": "ENG", "_allow_access_control": ["user:a", "group:finance"] }),
        ),
        doc(
            "denied",
            json!({ "type": "page", "title": "Release secrets", "space_key": "ENG",
            "_allow_access_control": ["__deny__"] }),
        ),
        doc(
            "blog",
            json!({ "type": "blogpost", "title": "Release party", "space_key": "SOC" }),
        ),
        doc(
            "other",
            json!({ "type": "page", "title": "Onboarding", "space_key": "ENG" }),
        ),
    ];
    let outcome = es.write(docs).await.unwrap();
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    es.refresh().await.unwrap();

    let search = |query: &str, filters: &[(&str, &str)], acl: Option<&[&str]>| SearchRequest {
        query: query.to_owned(),
        filters: filters
            .iter()
            .map(|(f, v)| (f.to_string(), v.to_string()))
            .collect(),
        from: 0,
        size: 20,
        access_control: acl.map(|ids| ids.iter().map(|s| s.to_string()).collect()),
    };
    let ids = |page: connector::sink::SearchPage| -> BTreeSet<String> {
        page.hits.into_iter().map(|hit| hit.id).collect()
    };
    let set =
        |names: &[&str]| -> BTreeSet<String> { names.iter().map(|s| s.to_string()).collect() };

    let all = es.search(&search("release", &[], None)).await.unwrap();
    assert_eq!(all.total, 4);
    assert!(all.hits[0].score > 0.0);
    let eng_pages = search("release", &[("type", "page"), ("space_key", "ENG")], None);
    assert_eq!(
        ids(es.search(&eng_pages).await.unwrap()),
        set(&["public", "restricted", "denied"])
    );
    let by_space_name = search("", &[("space", "Engineering"), ("labels", "ops")], None);
    assert_eq!(
        ids(es.search(&by_space_name).await.unwrap()),
        set(&["public"])
    );

    // No `_allow_access_control`: visible to all; `user:a`: only to identities with it;
    // the deny marker: to nobody.
    let anonymous = search("release", &[], Some(&[]));
    assert_eq!(
        ids(es.search(&anonymous).await.unwrap()),
        set(&["public", "blog"])
    );
    let user_b = search("release", &[], Some(&["user:b", "group:eng"]));
    assert_eq!(
        ids(es.search(&user_b).await.unwrap()),
        set(&["public", "blog"])
    );
    let user_a = search("release", &[("type", "page")], Some(&["user:b", "user:a"]));
    assert_eq!(
        ids(es.search(&user_a).await.unwrap()),
        set(&["public", "restricted"])
    );
    let finance = search("", &[], Some(&["group:finance"]));
    let page = es.search(&finance).await.unwrap();
    assert_eq!(page.total, 4);
    assert!(!ids(page).contains("denied"));

    let second_page = SearchRequest {
        from: 3,
        size: 10,
        ..SearchRequest::default()
    };
    let paged = es.search(&second_page).await.unwrap();
    assert_eq!((paged.total, paged.hits.len()), (5, 2));

    // The reference's identity-document template queries `_allow_access_control.keyword`: the
    // mapping answers it the same as the field itself.
    let template = json!({ "query": { "bool": { "should": [
        { "bool": { "must_not": { "exists": { "field": "_allow_access_control" } } } },
        { "terms": { "_allow_access_control.keyword": ["user:a"] } }
    ] } } });
    assert_eq!(
        raw_search(&url, es.index(), template).await,
        ["blog", "other", "public", "restricted"]
    );
    let plain = json!({ "query": { "terms": { "_allow_access_control": ["group:finance"] } } });
    assert_eq!(raw_search(&url, es.index(), plain).await, ["restricted"]);
    es.delete_index().await.unwrap();
}

#[tokio::test]
async fn check_reports_the_cluster_and_the_missing_security_plugin() {
    let Some(url) = search_url() else { return };
    let es = sink(&url, "it-check");
    let check = es.check().await.unwrap();
    assert_eq!(check.distribution, "opensearch");
    assert!(check.version.starts_with("2."), "{check:?}");
    assert!(!check.cluster_name.is_empty());
    assert!(
        matches!(&check.privileges, PrivilegeCheck::NotChecked(why) if why.starts_with("no security plugin")),
        "{check:?}"
    );

    let nowhere = EsSink::new(&EsOptions::new("http://127.0.0.1:9", "x")).unwrap();
    let err = nowhere.check().await.unwrap_err().to_string();
    assert!(err.contains("unreachable"), "{err}");
}

#[tokio::test]
async fn identity_documents_are_upserted_scanned_and_deleted() {
    let Some(url) = search_url() else { return };
    let es = sink(&url, "it-acl");
    let acl = es.acl_index();
    assert_eq!(acl.name(), format!(".search-acl-filter-{}", es.index()));
    acl.prepare().await.unwrap();
    acl.prepare().await.unwrap();
    let user = |id: &str, identities: &[&str]| {
        (
            id.to_owned(),
            json!({
                "identity": { "account_id": format!("account_id:{id}"), "display_name": "name:X" },
                "created_at": "2026-11-01T10:00:00Z",
                "query": { "template": {
                    "params": { "access_control": identities },
                    "source": "{\"query\":{}}"
                } }
            }),
        )
    };
    let first = acl.upsert(vec![
        user("u1", &["account_id:u1"]),
        user("u2", &["account_id:u2"]),
    ]);
    let first = first.await.unwrap();
    assert_eq!((first.created, first.updated), (2, 0), "{:?}", first.failed);
    let second = acl
        .upsert(vec![user("u1", &["account_id:u1", "group_id:g"])])
        .await
        .unwrap();
    assert_eq!((second.created, second.updated), (0, 1));
    acl.refresh().await.unwrap();
    let stored = acl.get("u1").await.unwrap().unwrap();
    assert_eq!(
        stored["query"]["template"]["params"]["access_control"][1],
        "group_id:g"
    );
    assert_eq!(stored["id"], "u1");

    let mut ids = Vec::new();
    acl.scan_ids(1, &mut |page| {
        ids.extend(page);
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(ids, ["u1", "u2"]);
    assert_eq!(
        acl.delete(vec!["u2".into(), "u9".into()])
            .await
            .unwrap()
            .deleted,
        1
    );
    acl.refresh().await.unwrap();
    assert_eq!(acl.count().await.unwrap(), 1);
    acl.delete_index().await.unwrap();
    es.delete_index().await.unwrap();
}

#[tokio::test]
async fn an_access_only_update_rewrites_or_removes_the_access_list_and_nothing_else() {
    let Some(url) = search_url() else { return };
    let es = sink(&url, "it-access");
    let doc = |id: &str, source: Value| IndexDoc {
        id: id.to_owned(),
        space_key: Some("ENG".to_owned()),
        timestamp: "2026-11-01T10:00:00Z".to_owned(),
        source,
    };
    let outcome = es
        .write(vec![
            doc(
                "a",
                json!({ "type": "page", "title": "Budget", "space_key": "ENG", "body": "numbers",
                "_allow_access_control": ["group:finance"] }),
            ),
            doc(
                "b",
                json!({ "type": "page", "title": "Open", "space_key": "ENG",
                "_allow_access_control": ["group:eng"] }),
            ),
        ])
        .await
        .unwrap();
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    let outcome = es
        .update_access(vec![
            ("a".into(), Some(vec!["user:ann".into()])),
            ("b".into(), None),
            ("missing".into(), Some(vec!["user:ann".into()])),
        ])
        .await
        .unwrap();
    assert_eq!(outcome.updated, 2, "{outcome:?}");
    assert_eq!(outcome.failed.len(), 1, "a missing document is not created");
    assert_eq!(outcome.failed[0].id, "missing");
    let a = es.get("a").await.unwrap().unwrap();
    assert_eq!(a["_allow_access_control"], json!(["user:ann"]));
    assert_eq!(a["body"], "numbers", "the rest of the document stays");
    let b = es.get("b").await.unwrap().unwrap();
    assert!(b.get("_allow_access_control").is_none(), "{b}");
    assert!(es.get("missing").await.unwrap().is_none());
    es.delete_index().await.unwrap();
}

/// A small JSON request to the node, for what the sink API does not expose.
pub(crate) async fn node(
    method: reqwest::Method,
    url: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut request = reqwest::Client::new().request(method, format!("{url}{path}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status();
    let text = answer.text().await.unwrap();
    serde_json::from_str(&text)
        .unwrap_or_else(|_| json!({ "status": status.as_u16(), "text": text }))
}

/// One index setting as the node reports it (`index.refresh_interval`, ...), defaults excluded.
async fn index_setting(url: &str, index: &str, key: &str) -> Value {
    let settings = node(
        reqwest::Method::GET,
        url,
        &format!("/{index}/_settings"),
        None,
    )
    .await;
    let (_, index) = settings.as_object().unwrap().iter().next().unwrap();
    index["settings"]["index"][key].clone()
}

#[tokio::test]
async fn index_settings_and_the_ingest_pipeline_come_from_the_connection() {
    let Some(url) = search_url() else { return };
    let pipeline = unique_index("it-pipeline");
    let put = node(
        reqwest::Method::PUT,
        &url,
        &format!("/_ingest/pipeline/{pipeline}"),
        Some(json!({ "processors": [{ "set": { "field": "ingested_by", "value": "pipeline" } }] })),
    )
    .await;
    assert_eq!(put["acknowledged"], true, "{put}");
    let mut options = EsOptions::new(&url, unique_index("it-settings"));
    options.settings = IndexSettings {
        shards: Some(2),
        replicas: Some(0),
        refresh_interval: Some("5s".into()),
        bulk_refresh_interval: Some("-1".into()),
    };
    options.pipeline = Some(pipeline.clone());
    let es = EsSink::new(&options).unwrap();
    es.prepare().await.unwrap();
    let index = es.index().to_owned();
    assert_eq!(index_setting(&url, &index, "number_of_shards").await, "2");
    assert_eq!(index_setting(&url, &index, "number_of_replicas").await, "0");
    assert_eq!(index_setting(&url, &index, "refresh_interval").await, "5s");

    // Documents pass through the pipeline; access-only updates do not need it.
    let outcome = es.write(vec![page(1)]).await.unwrap();
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert_eq!(
        es.get("page-00001").await.unwrap().unwrap()["ingested_by"],
        "pipeline"
    );

    // A full sync raises the refresh interval and puts it back, however it ends.
    assert_eq!(
        es.begin_full_sync("job-1").await.unwrap(),
        Vec::<String>::new()
    );
    assert!(!es.rebuilding());
    assert_eq!(index_setting(&url, &index, "refresh_interval").await, "-1");
    es.end_full_sync(false).await.unwrap();
    assert_eq!(index_setting(&url, &index, "refresh_interval").await, "5s");

    // A process that died with the bulk interval set: the next sync's start puts it back.
    node(
        reqwest::Method::PUT,
        &url,
        &format!("/{index}/_settings"),
        Some(json!({ "index": { "refresh_interval": "-1", "number_of_replicas": 1 } })),
    )
    .await;
    EsSink::new(&options).unwrap().prepare().await.unwrap();
    assert_eq!(index_setting(&url, &index, "refresh_interval").await, "5s");
    assert_eq!(index_setting(&url, &index, "number_of_replicas").await, "0");

    // Test connection: the pipeline exists; a missing one is a problem.
    let check = es.check().await.unwrap();
    assert_eq!(check.problems, Vec::<String>::new());
    assert!(check.index_state.contains("is an index"), "{check:?}");
    options.pipeline = Some("no-such-pipeline".into());
    let check = EsSink::new(&options).unwrap().check().await.unwrap();
    assert_eq!(check.problems.len(), 1, "{check:?}");
    assert!(check.problems[0].contains("`no-such-pipeline` does not exist"));

    es.delete_index().await.unwrap();
    node(
        reqwest::Method::DELETE,
        &url,
        &format!("/_ingest/pipeline/{pipeline}"),
        None,
    )
    .await;
}

/// Sends `body` to `path` on drop (puts a block back to null), so that a failing assertion leaves no block behind.
pub(crate) struct Unblock {
    pub url: String,
    pub path: String,
    pub body: Value,
}

impl Drop for Unblock {
    fn drop(&mut self) {
        // curl, not the async client: this may run while a runtime unwinds.
        let _ = std::process::Command::new("curl")
            .args([
                "-fsS",
                "-XPUT",
                "-H",
                "content-type: application/json",
                "-d",
            ])
            .arg(self.body.to_string())
            .arg(format!("{}{}", self.url, self.path))
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_index_fails_the_sync_with_the_disk_watermark_in_admin_words() {
    let Some(url) = search_url() else { return };
    let sandbox = connector_sandbox::Sandbox::start(confluence_sim::SimOptions {
        flavor: confluence_sim::Flavor::Server,
        size: confluence_sim::SiteSize::Tiny,
        seed: 11,
        ..confluence_sim::SimOptions::default()
    })
    .await
    .unwrap();
    let es = Arc::new(sink(&url, "it-readonly"));
    es.prepare().await.unwrap();
    let index = es.index().to_owned();
    // What a node above the flood-stage watermark does to its indices (index-level: the other
    // tests sharing this node are not affected).
    let path = format!("/{index}/_settings");
    let _unblock = Unblock {
        url: url.clone(),
        path: path.clone(),
        body: json!({ "index.blocks.read_only_allow_delete": null }),
    };
    let set = node(
        reqwest::Method::PUT,
        &url,
        &path,
        Some(json!({ "index.blocks.read_only_allow_delete": true })),
    )
    .await;
    assert_eq!(set["acknowledged"], true, "{set}");

    let err = es.write(vec![page(1)]).await.unwrap_err().to_string();
    assert!(err.contains("its disk is full"), "{err}");
    assert!(err.contains("flood-stage"), "{err}");

    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(std::sync::Mutex::new(
        connector::Store::open_in_memory().unwrap(),
    ));
    let started = std::time::Instant::now();
    let job = crate::support::run_job(
        connector::JobType::Full,
        &sandbox.config,
        &sandbox.secrets,
        &es,
        &store,
        connector::sync::SyncOptions {
            work_dir: work.path().to_owned(),
            ..connector::sync::SyncOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(job.status, connector::JobStatus::Failed, "{:?}", job.errors);
    let first = &job.errors[0];
    assert!(
        first.message.contains("its disk is full")
            && first.message.contains("Free disk space")
            && first.message.contains("run the sync again"),
        "{first:?}"
    );
    // Not retried for minutes: a block is not a busy cluster.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    drop(_unblock);
    es.delete_index().await.unwrap();
    sandbox.shutdown().await;
}

/// The indices behind alias `name`, sorted.
async fn behind_alias(url: &str, name: &str) -> Vec<String> {
    let answer = node(reqwest::Method::GET, url, &format!("/_alias/{name}"), None).await;
    let mut indices: Vec<String> = answer
        .as_object()
        .filter(|_| answer.get("error").is_none() && answer.get("status").is_none())
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    indices.sort();
    indices
}

/// Every index named `<name>-*`, sorted.
async fn fresh_indices(url: &str, name: &str) -> Vec<String> {
    let answer = node(
        reqwest::Method::GET,
        url,
        &format!("/{name}-*/_alias"),
        None,
    )
    .await;
    let mut indices: Vec<String> = answer
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    indices.sort();
    indices
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alias_swap_rebuilds_full_syncs_behind_the_alias_and_keeps_it_on_failure() {
    use connector::sync::{CancellationToken, Job, SyncOptions};
    use connector::{JobStatus, JobType};

    let Some(url) = search_url() else { return };
    let sandbox = connector_sandbox::Sandbox::start(confluence_sim::SimOptions {
        flavor: confluence_sim::Flavor::Server,
        size: confluence_sim::SiteSize::Tiny,
        seed: 11,
        ..confluence_sim::SimOptions::default()
    })
    .await
    .unwrap();
    let truth = || -> BTreeSet<String> { sandbox.sim.truth().into_iter().map(|t| t.id).collect() };
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(std::sync::Mutex::new(
        connector::Store::open_in_memory().unwrap(),
    ));
    let run = |kind: JobType, es: Arc<EsSink>, cancel: Option<CancellationToken>| {
        let mut job = Job::new(
            kind,
            sandbox.config.clone(),
            sandbox.secrets.clone(),
            es,
            store.clone(),
        )
        .with_options(SyncOptions {
            work_dir: work.path().to_owned(),
            ..SyncOptions::default()
        });
        if let Some(cancel) = cancel {
            job = job.with_cancel(cancel);
        }
        job.run()
    };
    let ids = |index: std::collections::BTreeMap<String, Value>| -> BTreeSet<String> {
        index.into_keys().collect()
    };
    let name = unique_index("it-swap");

    // Today's behaviour first: a concrete index `name`.
    let plain = Arc::new(EsSink::new(&EsOptions::new(&url, &name)).unwrap());
    let first = run(JobType::Full, plain.clone(), None).await.unwrap();
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.errors);

    // The alias swap on: the first full sync writes a fresh index beside it, then deletes the
    // concrete index and puts the alias in its place in one step.
    let mut options = EsOptions::new(&url, &name);
    options.alias_swap = true;
    options.settings.refresh_interval = Some("2s".into());
    options.settings.bulk_refresh_interval = Some("-1".into());
    let swap_sink = || Arc::new(EsSink::new(&options).unwrap());
    let es = swap_sink();
    let second = run(JobType::Full, es.clone(), None).await.unwrap();
    assert_eq!(second.status, JobStatus::Completed, "{:?}", second.errors);
    // A fresh index starts with an empty manifest: everything is written.
    assert_eq!(second.counters.created, truth().len() as u64);
    assert!(
        second.notes.iter().any(|n| n.contains("was an index")),
        "{:?}",
        second.notes
    );
    let live = behind_alias(&url, &name).await;
    assert_eq!(live.len(), 1, "{live:?}");
    assert!(live[0].starts_with(&format!("{name}-")), "{live:?}");
    assert_eq!(ids(crate::support::indexed(&*es).await), truth());
    // Written with no refresh, then given the steady interval before searchers saw it.
    assert_eq!(
        index_setting(&url, &live[0], "refresh_interval").await,
        "2s"
    );

    // An incremental sync writes through the alias: same index, nothing rewritten.
    let incremental = run(JobType::Incremental, swap_sink(), None).await.unwrap();
    assert_eq!(
        incremental.status,
        JobStatus::Completed,
        "{:?}",
        incremental.errors
    );
    assert_eq!(
        incremental.counters.created + incremental.counters.updated,
        0
    );
    assert_eq!(behind_alias(&url, &name).await, live);

    // What a process killed mid-rebuild leaves: an index of ours, not behind the alias.
    let leftover = format!("{name}-20200101000000-deadbeef");
    let created = node(
        reqwest::Method::PUT,
        &url,
        &format!("/{leftover}"),
        Some(json!({ "mappings": { "_meta": { "confluence_connector": { "alias": name } } } })),
    )
    .await;
    assert_eq!(created["acknowledged"], true, "{created}");

    // A page is deleted, but the listings fail midway: the sync is partial, the alias moves
    // to a fresh index that still holds everything of the spaces that could not be listed
    // (carried over from the live index), exactly as an in-place sync keeps them.
    let before = truth();
    let gone = sandbox
        .sim
        .truth()
        .into_iter()
        .find(|t| t.r#type == "page")
        .unwrap();
    sandbox.sim.admin().delete_content(&gone.id).unwrap();
    sandbox
        .sim
        .admin()
        .fail_requests_matching("content/search", 500, 1);
    let es = swap_sink();
    let partial = run(JobType::Full, es.clone(), None).await.unwrap();
    assert_eq!(partial.status, JobStatus::Partial, "{:?}", partial.errors);
    let after_partial = behind_alias(&url, &name).await;
    assert_eq!(after_partial.len(), 1);
    assert_ne!(after_partial, live, "the alias moved");
    assert_eq!(ids(crate::support::indexed(&*es).await), before);
    assert!(
        partial
            .notes
            .iter()
            .any(|n| n.contains("were copied into the fresh index")),
        "{:?}",
        partial.notes
    );
    assert!(
        partial.notes.iter().any(|n| n.contains(&leftover)),
        "{:?}",
        partial.notes
    );
    assert_eq!(
        fresh_indices(&url, &name).await,
        after_partial,
        "the previous index and the leftover are gone"
    );
    sandbox.sim.admin().clear_faults();

    // A cancelled full sync: the alias stays where it was, the half-written index is deleted.
    let cancel = CancellationToken::new();
    cancel.cancel();
    let cancelled = run(JobType::Full, swap_sink(), Some(cancel)).await.unwrap();
    assert_eq!(
        cancelled.status,
        JobStatus::Canceled,
        "{:?}",
        cancelled.errors
    );
    assert!(
        cancelled
            .notes
            .iter()
            .any(|n| n.contains("did not complete")),
        "{:?}",
        cancelled.notes
    );
    assert_eq!(behind_alias(&url, &name).await, after_partial);
    assert_eq!(fresh_indices(&url, &name).await, after_partial);

    // Confluence answers again: the next full sync completes and the deleted page is gone.
    let es = swap_sink();
    let last = run(JobType::Full, es.clone(), None).await.unwrap();
    assert_eq!(last.status, JobStatus::Completed, "{:?}", last.errors);
    assert_eq!(ids(crate::support::indexed(&*es).await), truth());
    assert!(!truth().contains(&gone.id));
    assert_eq!(fresh_indices(&url, &name).await.len(), 1);

    es.delete_index().await.unwrap();
    assert!(fresh_indices(&url, &name).await.is_empty());
    sandbox.shutdown().await;
}
