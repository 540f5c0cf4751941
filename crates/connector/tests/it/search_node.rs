//! The Elasticsearch sink against a real node: mapping, bulk through `BulkWriter`, created versus
//! updated, item failures, scan, delete, search with access control, identity documents.

use std::collections::BTreeSet;
use std::sync::Arc;

use connector::sink::{
    BulkOptions, BulkWriter, EsOptions, EsSink, IndexDoc, PrivilegeCheck, SearchRequest, Sink,
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
    assert_eq!(
        check.privileges,
        PrivilegeCheck::NotChecked("no security plugin: privileges not checked".into())
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
