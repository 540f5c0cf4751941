//! CQL over HTTP: Confluence's 400 bodies and the evaluator.

use confluence_sim::{Flavor, SiteSize};

use crate::client::{Client, enc, start};

#[tokio::test]
async fn cql_errors_carry_confluence_messages() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let cases = [
        ("", "cql query parameter is required"),
        (
            "type = page and status = current",
            "No field exists with the name: 'status' Did you mean one of : ",
        ),
        (
            "type = bogustype",
            "Unsupported value for type, got : bogustype, expected one of : [space, user, page",
        ),
        (
            "type = page and (",
            "Could not parse cql : type = page and (",
        ),
        (
            "NOT type = page",
            "A negative expression cannot be the first clause",
        ),
        (
            "created > \"2026-05-12T09:00:00.000Z\"",
            "Unable to parse date",
        ),
        ("label > x", "is not supported by the 'label' field"),
    ];
    for (q, msg) in cases {
        for route in ["/search", "/content/search"] {
            let (s, v) = c.api(&format!("{route}?cql={}", enc(q))).await;
            assert_eq!(s, 400, "{route} {q}: {v}");
            assert!(
                v["message"].as_str().unwrap_or("").contains(msg),
                "{route} {q}: {v}"
            );
            assert_eq!(v["statusCode"], 400);
        }
    }
    let (s, v) = c
        .api(&format!("/search?cql={}", enc("siteSearch ~ \"\"")))
        .await;
    assert_eq!(s, 500, "{v}");
    // Unknown space: Cloud answers 0 rows.
    let v = c
        .ok(&format!("/content/search?cql={}", enc("space = NOPE")))
        .await;
    assert_eq!(v["size"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn datacenter_refuses_unknown_space_keys() {
    let sim = start(Flavor::DataCenter, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let (s, v) = c
        .api(&format!(
            "/content/search?cql={}",
            enc("space = NOPE and type = page")
        ))
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["message"], "parameters should not be empty");
    assert_eq!(v["reason"], "Bad Request");
    sim.shutdown().await;
}

#[tokio::test]
async fn cql_evaluates_fields_functions_and_order() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let truth = sim.truth();
    let count = |q: &str| {
        let c = &c;
        let q = q.to_owned();
        async move {
            c.all(&format!("/content/search?cql={}&limit=100", enc(&q)))
                .await
                .len()
        }
    };
    let pages = truth.iter().filter(|d| d.r#type == "page").count();
    assert_eq!(count("type = page").await, pages);
    assert_eq!(
        count("type in (page, blogpost) and space = ENG").await,
        truth
            .iter()
            .filter(|d| d.space_key == "ENG" && (d.r#type == "page" || d.r#type == "blogpost"))
            .count()
    );
    assert_eq!(
        count("created > now(\"-100y\") and type = page").await,
        pages
    );
    assert_eq!(count("created > startOfYear(\"+1y\")").await, 0);
    assert_eq!(
        count("lastmodified >= 2000/01/01 and type = attachment").await,
        truth.iter().filter(|d| d.r#type == "attachment").count()
    );
    let home = truth
        .iter()
        .find(|d| d.title == "Engineering Home")
        .expect("home");
    let under = truth
        .iter()
        .filter(|d| d.ancestor_ids.contains(&home.id))
        .count();
    assert_eq!(count(&format!("ancestor = {}", home.id)).await, under);
    let labelled = truth
        .iter()
        .find(|d| !d.labels.is_empty())
        .expect("labelled");
    let with_label = truth
        .iter()
        .filter(|d| d.labels.contains(&labelled.labels[0]))
        .count();
    assert_eq!(
        count(&format!("label = \"{}\"", labelled.labels[0])).await,
        with_label
    );
    assert_eq!(count("title = \"architecture OVERVIEW\"").await, 1);
    assert!(count("title ~ \"architec*\"").await >= 1);
    let text = truth
        .iter()
        .find(|d| d.r#type == "page")
        .and_then(|d| d.text.clone())
        .unwrap_or_default();
    let word = text
        .split_whitespace()
        .last()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_owned();
    assert!(count(&format!("text ~ \"{word}\"")).await >= 1, "{word}");
    let rows = c
        .all(&format!("/search?cql={}&limit=100", enc("type = space")))
        .await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["entityType"] == "space" && r["content"].is_null())
    );
    let rows = c
        .all(&format!(
            "/content/search?cql={}&limit=100",
            enc("type = page order by created desc")
        ))
        .await;
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(ids.len(), pages);
    sim.shutdown().await;
}
