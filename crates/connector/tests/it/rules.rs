//! Sync rules end to end against the simulator: advanced (CQL) rules index exactly what the
//! simulator's own CQL evaluation returns, with Cloud cursor paging and Data Center offset
//! paging, and the same documents as the standard path; basic rules filter, count and delete;
//! preview and remote validation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use confluence_sim::{DcAuth, Flavor, SimOptions, SiteSize};
use connector::confluence::ConfluenceClient;
use connector::rules::{
    self, AdvancedRule, BasicOp, BasicRule, Policy, PreviewOptions, RuleKind, RuleSet,
};
use connector::sink::{EsOptions, EsSink, LocalIndex, Sink};
use connector::sync::SyncOptions;
use connector::{JobRecord, JobStatus, JobType, Store};
use connector_sandbox::Sandbox;
use serde_json::Value;

use crate::support::indexed;
use crate::support::{search_url, unique_index};

async fn sandbox(flavor: Flavor, size: SiteSize) -> Sandbox {
    Sandbox::start(SimOptions {
        flavor,
        size,
        seed: 21,
        data_center_auth: DcAuth::Basic,
        ..SimOptions::default()
    })
    .await
    .unwrap()
}

async fn sync<S: Sink + connector::acl::AclStore + 'static>(
    sandbox: &Sandbox,
    sink: &Arc<S>,
    store: &Arc<Mutex<Store>>,
    work: &std::path::Path,
    rules: Option<RuleSet>,
) -> JobRecord {
    let options = SyncOptions {
        work_dir: work.to_owned(),
        trigger: "test".into(),
        rules,
        max_deletion_ratio: Some(1.0),
        ..SyncOptions::default()
    };
    crate::support::run_job(
        JobType::Full,
        &sandbox.config,
        &sandbox.secrets,
        sink,
        store,
        options.clone(),
    )
    .await
    .unwrap()
}

/// The ids the simulator's own CQL evaluation returns for `cql`, read straight from its search
/// route (large pages, its own paging), not through the engine.
async fn oracle(sandbox: &Sandbox, cql: &str) -> BTreeSet<String> {
    let api = sandbox.sim.info()["api_base"].as_str().unwrap().to_owned();
    let creds = sandbox.sim.credentials();
    let (user, pass) = match sandbox.sim.flavor() {
        Flavor::Cloud => (creds.email.unwrap(), creds.api_token.unwrap()),
        _ => (creds.username.unwrap(), creds.password.unwrap()),
    };
    let http = reqwest::Client::new();
    let mut ids = BTreeSet::new();
    let mut url = reqwest::Url::parse_with_params(
        &format!("{api}/search"),
        &[("cql", cql), ("limit", "1000")],
    )
    .unwrap();
    let mut start = 0usize;
    loop {
        let page: Value = http
            .get(url.clone())
            .basic_auth(&user, Some(&pass))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let rows = page["results"].as_array().cloned().unwrap_or_default();
        for row in &rows {
            let id = row["content"]["id"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| {
                    row["space"]["id"]
                        .as_u64()
                        .map(|n| n.to_string())
                        .or_else(|| row["space"]["id"].as_str().map(str::to_owned))
                });
            ids.insert(id.unwrap_or_else(|| panic!("row without id: {row}")));
        }
        match (sandbox.sim.flavor(), page["_links"]["next"].as_str()) {
            (Flavor::Cloud, Some(next)) => {
                let base = page["_links"]["base"].as_str().unwrap();
                url = reqwest::Url::parse(&format!("{base}{next}")).unwrap();
            }
            (Flavor::Cloud, None) => break,
            _ if rows.is_empty() => break,
            _ => {
                start += rows.len();
                url = reqwest::Url::parse_with_params(
                    &format!("{api}/search"),
                    &[
                        ("cql", cql),
                        ("limit", "1000"),
                        ("start", &start.to_string()),
                    ],
                )
                .unwrap();
            }
        }
    }
    ids
}

fn advanced(queries: &[&str]) -> RuleSet {
    RuleSet {
        basic: Vec::new(),
        advanced: queries
            .iter()
            .map(|q| AdvancedRule {
                query: (*q).to_owned(),
            })
            .collect(),
    }
}

/// Fields the two paths may legitimately differ on: none but these.
fn comparable(mut v: Value) -> Value {
    if let Value::Object(o) = &mut v {
        // Attachment text extraction notes can depend on download timing.
        o.remove("extraction_note");
    }
    v
}

async fn advanced_rules_index_exactly_the_simulators_results(flavor: Flavor, dls: bool) {
    let size = if dls { SiteSize::Tiny } else { SiteSize::Small };
    let mut sandbox = sandbox(flavor, size).await;
    sandbox.config.use_document_level_security = dls;
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    // Overlapping queries: every type, one space twice, labels, dates, ordering.
    let spaces: Vec<String> = sandbox
        .sim
        .truth()
        .iter()
        .filter(|t| t.r#type == "space")
        .map(|t| t.space_key.clone())
        .collect();
    let label = sandbox
        .sim
        .truth()
        .iter()
        .find_map(|t| t.labels.first().cloned())
        .unwrap();
    let queries = [
        format!("type in (page, blogpost) and space = \"{}\"", spaces[0]),
        format!(
            "space = \"{}\" and type in (comment, attachment)",
            spaces[0]
        ),
        format!("type = page and label = \"{label}\" order by title"),
        "type = space".to_owned(),
        format!(
            "space in (\"{}\", \"{}\") and created > 2000-01-01",
            spaces[0], spaces[1]
        ),
    ];
    let query_refs: Vec<&str> = queries.iter().map(String::as_str).collect();
    let set = advanced(&query_refs);
    assert!(rules::validate_offline(&set, connector::confluence::Flavor::Cloud).valid);
    let mut expected = BTreeSet::new();
    let mut sum = 0;
    for q in &queries {
        let ids = oracle(&sandbox, q).await;
        assert!(!ids.is_empty(), "{q} matches nothing");
        sum += ids.len();
        expected.extend(ids);
    }
    assert!(sum > expected.len(), "the queries overlap");
    let enough = if dls { 20 } else { 100 };
    assert!(
        expected.len() > enough,
        "too few rows to page: {}",
        expected.len()
    );

    let standard = Arc::new(LocalIndex::open(work.path().join("standard.sqlite")).unwrap());
    let job = sync(&sandbox, &standard, &store, work.path(), None).await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
    let standard = indexed(&*standard).await;

    let check = |got: &BTreeMap<String, Value>, job: &JobRecord| {
        let ids: BTreeSet<String> = got.keys().cloned().collect();
        let missing: Vec<_> = expected.difference(&ids).collect();
        let extra: Vec<_> = ids.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing {missing:?}, unexpected {extra:?}"
        );
        assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
        assert_eq!(job.counters.indexed_document_count, expected.len() as u64);
        assert_eq!(job.rules, set.recorded());
        // The same documents as the standard path, field for field, bodies included.
        for (id, doc) in got {
            assert_eq!(
                comparable(doc.clone()),
                comparable(standard[id].clone()),
                "document {id} differs from the standard path"
            );
        }
        if dls {
            let with_acl = got
                .values()
                .filter(|d| d["_allow_access_control"].is_array())
                .count();
            // Public spaces have no ACL, on both paths; the equality above covers the rest.
            assert!(
                with_acl > got.len() / 2,
                "{with_acl} of {} with an ACL",
                got.len()
            );
        }
        let bodies = got
            .values()
            .filter(|d| d["body"].as_str().is_some_and(|b| b.len() > 20))
            .count();
        assert!(bodies > if dls { 5 } else { 20 }, "only {bodies} bodies");
    };
    match search_url() {
        Some(url) => {
            let sink = Arc::new(EsSink::new(&EsOptions::new(url, unique_index("rules"))).unwrap());
            let job = sync(&sandbox, &sink, &store, work.path(), Some(set.clone())).await;
            check(&indexed(&*sink).await, &job);
        }
        None => {
            let sink = Arc::new(LocalIndex::open(work.path().join("advanced.sqlite")).unwrap());
            let job = sync(&sandbox, &sink, &store, work.path(), Some(set.clone())).await;
            check(&indexed(&*sink).await, &job);
        }
    }
    // Every job records its rules.
    let jobs = store.lock().unwrap().list_jobs(None, 10).unwrap();
    assert!(jobs.iter().any(|j| j.rules == set.recorded()));
    assert!(jobs.iter().any(|j| j.rules == Value::Null));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_advanced_rules_page_by_cursor_and_index_exactly_the_cql_results() {
    advanced_rules_index_exactly_the_simulators_results(Flavor::Cloud, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_center_advanced_rules_page_by_offset_and_index_exactly_the_cql_results() {
    advanced_rules_index_exactly_the_simulators_results(Flavor::DataCenter, false).await;
}

/// With document-level security on, the advanced-rules path writes the same
/// `_allow_access_control` as the standard path (the comparison covers every field).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advanced_rules_with_dls_get_the_same_acls_as_the_standard_path() {
    advanced_rules_index_exactly_the_simulators_results(Flavor::Cloud, true).await;
    advanced_rules_index_exactly_the_simulators_results(Flavor::DataCenter, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_to_narrower_rules_deletes_what_they_no_longer_select() {
    let sandbox = sandbox(Flavor::Server, SiteSize::Tiny).await;
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let sink = Arc::new(LocalIndex::open(work.path().join("local.sqlite")).unwrap());
    let first = sync(&sandbox, &sink, &store, work.path(), None).await;
    assert_eq!(first.status, JobStatus::Completed);
    let all = indexed(&*sink).await.len();

    let set = advanced(&["type = page"]);
    let pages = oracle(&sandbox, "type = page").await;
    let job = sync(&sandbox, &sink, &store, work.path(), Some(set)).await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
    let now: BTreeSet<String> = indexed(&*sink).await.into_keys().collect();
    assert_eq!(now, pages);
    assert_eq!(
        job.counters.deleted_document_count,
        (all - pages.len()) as u64
    );

    // A query Confluence refuses at sync time deletes nothing (Server refuses unknown spaces).
    let job = sync(
        &sandbox,
        &sink,
        &store,
        work.path(),
        Some(advanced(&["type = blogpost", "space = NOSUCHSPACE"])),
    )
    .await;
    assert_eq!(job.status, JobStatus::Partial, "{:?}", job.errors);
    assert_eq!(job.counters.deleted_document_count, 0);
    assert!(
        job.errors
            .iter()
            .any(|e| e.context.contains("advanced rule 2")),
        "{:?}",
        job.errors
    );

    // An invalid rule set fails the job before anything is crawled.
    let job = sync(
        &sandbox,
        &sink,
        &store,
        work.path(),
        Some(advanced(&["type = page and status = current"])),
    )
    .await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.errors[0]
            .message
            .contains("No field exists with the name: 'status'"),
        "{:?}",
        job.errors
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_rules_filter_count_and_delete_at_the_next_full_sync() {
    let sandbox = sandbox(Flavor::Cloud, SiteSize::Tiny).await;
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let sink = Arc::new(LocalIndex::open(work.path().join("local.sqlite")).unwrap());
    let first = sync(&sandbox, &sink, &store, work.path(), None).await;
    assert_eq!(first.status, JobStatus::Completed);
    let before = indexed(&*sink).await;
    let comments = before.values().filter(|d| d["type"] == "comment").count() as u64;
    assert!(comments > 0);

    let rule = |id: &str, order: f64, policy, field: &str, op, value: &str| BasicRule {
        id: id.into(),
        order,
        policy,
        field: field.into(),
        rule: op,
        value: value.into(),
    };
    let set = RuleSet {
        basic: vec![
            BasicRule::default_rule(),
            rule(
                "no-comments",
                2.0,
                Policy::Exclude,
                "type",
                BasicOp::Equals,
                "comment",
            ),
            // Ordered first, so it wins for the comments it matches... but none exist with
            // this title, so every comment goes.
            rule(
                "keep-nothing-special",
                1.0,
                Policy::Include,
                "title",
                BasicOp::Equals,
                "no such title",
            ),
        ],
        advanced: Vec::new(),
    };
    let job = sync(&sandbox, &sink, &store, work.path(), Some(set.clone())).await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
    assert_eq!(job.counters.skipped, comments);
    assert_eq!(job.counters.deleted_document_count, comments);
    let after = indexed(&*sink).await;
    assert!(after.values().all(|d| d["type"] != "comment"));
    assert_eq!(after.len() as u64, before.len() as u64 - comments);
    let recorded = store.lock().unwrap().get_job(&job.id).unwrap().unwrap();
    assert_eq!(recorded.rules, set.recorded());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_the_rules_exclude_are_not_downloaded() {
    let sandbox = sandbox(Flavor::Cloud, SiteSize::Tiny).await;
    let rule = |id: &str, order: f64, policy, field: &str, value: &str| BasicRule {
        id: id.into(),
        order,
        policy,
        field: field.into(),
        rule: BasicOp::Equals,
        value: value.into(),
    };
    let no_attachments = rule("no-files", 1.0, Policy::Exclude, "type", "attachment");
    // Runs a fresh full sync under `rules`; returns its record, the files downloaded and the
    // attachments indexed.
    let run = |rules: Vec<BasicRule>| {
        let sandbox = &sandbox;
        async move {
            let work = tempfile::tempdir().unwrap();
            let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
            let sink = Arc::new(LocalIndex::open(work.path().join("local.sqlite")).unwrap());
            let mut basic = vec![BasicRule::default_rule()];
            basic.extend(rules);
            let set = RuleSet {
                basic,
                advanced: Vec::new(),
            };
            sandbox.sim.admin().reset_request_counts();
            let job = sync(sandbox, &sink, &store, work.path(), Some(set)).await;
            assert_eq!(job.status, JobStatus::Completed, "{:?}", job.errors);
            let downloads = crate::support::requests_to(sandbox, |e| {
                e.contains("/download/") || e.contains("/__media/")
            });
            let attachments = indexed(&*sink)
                .await
                .values()
                .filter(|d| d["type"] == "attachment")
                .count();
            (job, downloads, attachments)
        }
    };
    let (all, downloads, attachments) = run(Vec::new()).await;
    assert!(downloads > 0 && attachments > 0, "the site has files");
    // Excluded on a field the listing gives: nothing downloaded, every file counted skipped.
    let (job, downloads, indexed_files) = run(vec![no_attachments.clone()]).await;
    assert_eq!(downloads, 0, "an excluded attachment was downloaded");
    assert_eq!(indexed_files, 0);
    assert_eq!(job.counters.skipped, attachments as u64);
    assert_eq!(
        job.counters.indexed_document_count,
        all.counters.indexed_document_count - attachments as u64
    );
    // A rule on the extracted text ordered first: the files must be read to decide.
    let mut on_text = rule("text", 0.5, Policy::Include, "body", "no such text");
    on_text.rule = BasicOp::Contains;
    let (job, downloads, indexed_files) = run(vec![on_text, no_attachments]).await;
    assert!(downloads > 0, "a rule on `body` needs the file's text");
    assert_eq!(indexed_files, 0);
    assert_eq!(job.counters.skipped, attachments as u64);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_counts_and_lists_quickly_with_a_breakdown_per_rule() {
    for flavor in [Flavor::DataCenter, Flavor::Cloud] {
        let sandbox = sandbox(flavor, SiteSize::Small).await;
        let client = ConfluenceClient::from_config(&sandbox.config, &sandbox.secrets).unwrap();
        let set = advanced(&[
            "type = page",
            "type = blogpost and created > 2000-01-01",
            "type = pgae",
        ]);
        let started = Instant::now();
        let preview =
            rules::preview(&client, &sandbox.config, &set, &PreviewOptions::default()).await;
        let elapsed = started.elapsed();
        eprintln!(
            "preview ({flavor:?}, 3 rules, small site): {elapsed:?}, reported {} ms",
            preview.elapsed_ms
        );
        assert!(elapsed.as_millis() < 2000, "{elapsed:?}");
        let pages = oracle(&sandbox, "type = page").await.len() as u64;
        let blogs = oracle(&sandbox, "type = blogpost").await.len() as u64;
        assert_eq!(preview.rules.len(), 3);
        assert_eq!(preview.rules[0].items.len(), 10);
        assert!(
            preview.rules[0]
                .items
                .iter()
                .all(|i| i.kind == "page" && i.url.is_some() && i.last_modified.is_some())
        );
        assert!(
            preview.rules[2]
                .error
                .as_deref()
                .unwrap()
                .contains("Unsupported value for type")
        );
        assert_eq!(preview.items.len(), 10);
        if flavor == Flavor::DataCenter {
            assert_eq!(preview.rules[0].total, Some(pages));
            assert_eq!(preview.rules[1].total, Some(blogs));
            assert!(preview.rules[0].exact);
        } else {
            // Cloud's totalSize is an estimate, within a few rows.
            let t = preview.rules[0].total.unwrap();
            assert!(t.abs_diff(pages) <= 3, "{t} vs {pages}");
            assert!(!preview.exact);
        }
        assert!(preview.total >= pages + blogs);

        // Basic rules over a sample of the standard scope.
        let basic = RuleSet {
            basic: vec![BasicRule {
                id: "only-pages".into(),
                order: 1.0,
                policy: Policy::Exclude,
                field: "type".into(),
                rule: BasicOp::Regex,
                value: "(?:comment|attachment|blogpost|space)$".into(),
            }],
            advanced: Vec::new(),
        };
        let started = Instant::now();
        let preview = rules::preview(
            &client,
            &sandbox.config,
            &basic,
            &PreviewOptions {
                limit: 5,
                sample_size: 200,
            },
        )
        .await;
        eprintln!(
            "basic preview ({flavor:?}, sample 200): {:?}",
            started.elapsed()
        );
        assert_eq!(preview.sampled, 200);
        assert!(
            preview.items.iter().all(|i| i.kind == "page"),
            "{:?}",
            preview.items
        );
        assert_eq!(preview.items.len(), 5);
        assert_eq!(preview.rules.len(), 1);
        assert_eq!(preview.rules[0].kind, RuleKind::Basic);
        assert_eq!(preview.rules[0].total, Some(200 - u64::from(preview.kept)));
        assert!(!preview.exact);
        sandbox.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_validation_reports_what_confluence_refuses() {
    let sandbox = sandbox(Flavor::DataCenter, SiteSize::Tiny).await;
    let client = ConfluenceClient::from_config(&sandbox.config, &sandbox.secrets).unwrap();
    let set = advanced(&["type = page", "space = NOSUCHSPACE", "type = bogus"]);
    let v = rules::validate_remote(&set, &client).await.unwrap();
    assert!(!v.valid);
    let by_rule: Vec<(Option<u32>, bool)> = v
        .problems
        .iter()
        .map(|p| {
            (
                p.index,
                p.cql
                    .as_ref()
                    .is_some_and(|c| c.kind == rules::cql::ProblemKind::Remote),
            )
        })
        .collect();
    // Rule 2 is valid offline but refused by Data Center; rule 3 never leaves the machine.
    assert_eq!(by_rule, [(Some(1), true), (Some(2), false)]);
    assert!(
        v.problems[0]
            .message
            .contains("parameters should not be empty"),
        "{}",
        v.problems[0].message
    );

    // Editor context: spaces and labels of the site.
    let ctx = rules::editor_context(&client).await.unwrap();
    assert!(ctx.spaces.len() >= 2);
    assert!(!ctx.labels.is_empty());
    sandbox.shutdown().await;
}

#[test]
fn draft_and_active_rules_per_connection() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .add_connection("c1", "Docs", "confluence_cloud")
        .unwrap();
    store
        .save_draft_rules("c1", &advanced(&["type = page and status = x"]))
        .unwrap();
    let err =
        rules::activate_draft(&mut store, "c1", connector::confluence::Flavor::Cloud).unwrap_err();
    assert!(err.to_string().contains("status"), "{err}");
    store
        .save_draft_rules("c1", &advanced(&["type = page"]))
        .unwrap();
    let active =
        rules::activate_draft(&mut store, "c1", connector::confluence::Flavor::Cloud).unwrap();
    assert_eq!(active.version, 1);
    assert_eq!(
        store
            .rules("c1", connector::RuleState::Active)
            .unwrap()
            .unwrap()
            .rules,
        advanced(&["type = page"])
    );
}
