//! Request hooks: a mutation applied the moment a matching request arrives, and what Confluence
//! answers for the child listings of content deleted that way.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use confluence_sim::{Flavor, SimOptions, SiteSize, TruthDoc};
use serde_json::Value;

use crate::client::Client;

/// A page of the site with at least one comment, one attachment and one label.
fn page_with_children(truth: &[TruthDoc]) -> TruthDoc {
    let has = |page: &TruthDoc, ty: &str| {
        truth
            .iter()
            .any(|d| d.r#type == ty && d.parent_id.as_deref() == Some(page.id.as_str()))
    };
    truth
        .iter()
        .find(|d| {
            d.r#type == "page" && !d.labels.is_empty() && has(d, "comment") && has(d, "attachment")
        })
        .expect("a page with comments, attachments and labels")
        .clone()
}

/// The v1 envelope Confluence answers for a content id that is gone (or never readable).
fn assert_content_not_found(status: u16, body: &Value, id: &str, what: &str) {
    assert_eq!(status, 404, "{what}: {body}");
    assert_eq!(body["statusCode"], 404, "{what}: {body}");
    assert_eq!(body["reason"], "Not Found", "{what}: {body}");
    assert_eq!(body["data"]["authorized"], false, "{what}: {body}");
    assert_eq!(
        body["message"],
        format!("No content found with id : ContentId{{id={id}}}"),
        "{what}: {body}"
    );
}

async fn deleted_mid_crawl(flavor: Flavor, listing: &str) {
    let sim = confluence_sim::start(SimOptions {
        flavor,
        size: SiteSize::Tiny,
        seed: 5,
        context_path: (flavor == Flavor::Server).then(|| "/confluence".to_owned()),
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let c = Client::for_sim(&sim);
    let truth = sim.truth();
    let page = page_with_children(&truth);
    let fired = Arc::new(AtomicU64::new(0));
    {
        let fired = fired.clone();
        let id = page.id.clone();
        sim.admin().on_request_matching(
            &format!("/content/{}/child/{listing}", page.id),
            true,
            move |admin| {
                fired.fetch_add(1, Ordering::SeqCst);
                admin.delete_content(&id).expect("delete");
            },
        );
    }

    // Other requests, the page's own included, leave the hook alone.
    let listed = c.ok(&format!("/content/{}", page.id)).await;
    assert_eq!(listed["id"], page.id.as_str());
    assert_eq!(
        c.ok("/space").await["results"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(fired.load(Ordering::SeqCst), 0);

    // The matching request sees the site as the hook left it: the page is gone.
    let (status, body) = c
        .api(&format!("/content/{}/child/{listing}", page.id))
        .await;
    assert_content_not_found(status, &body, &page.id, listing);
    assert_eq!(fired.load(Ordering::SeqCst), 1);

    // Every child listing, the labels and the page itself answer the same 404 now.
    for path in [
        format!("/content/{}/child/comment?expand=body.storage", page.id),
        format!("/content/{}/child/attachment?limit=50", page.id),
        format!("/content/{}/label", page.id),
        format!("/content/{}", page.id),
    ] {
        let (status, body) = c.api(&path).await;
        assert_content_not_found(status, &body, &page.id, &path);
    }
    // A `once` hook ran once.
    assert_eq!(fired.load(Ordering::SeqCst), 1);

    // The truth lost the page with its comments and attachments, nothing else.
    let after = sim.truth();
    let gone: Vec<&TruthDoc> = truth
        .iter()
        .filter(|d| !after.iter().any(|a| a.id == d.id))
        .collect();
    assert!(gone.iter().any(|d| d.id == page.id));
    assert!(gone.iter().all(|d| d.id == page.id
        || (matches!(d.r#type.as_str(), "comment" | "attachment")
            && d.parent_id.as_deref() == Some(page.id.as_str()))));
    assert!(gone.len() >= 3, "{gone:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn cloud_page_deleted_when_its_comments_are_listed() {
    deleted_mid_crawl(Flavor::Cloud, "comment").await;
}

#[tokio::test]
async fn server_page_deleted_when_its_attachments_are_listed() {
    deleted_mid_crawl(Flavor::Server, "attachment").await;
}

#[tokio::test]
async fn data_center_page_deleted_when_its_comments_are_listed() {
    deleted_mid_crawl(Flavor::DataCenter, "comment").await;
}

#[tokio::test]
async fn data_center_page_deleted_when_its_attachments_are_listed() {
    deleted_mid_crawl(Flavor::DataCenter, "attachment").await;
}

#[tokio::test]
async fn repeating_hooks_run_on_every_match_until_cleared_and_never_on_admin_routes() {
    let sim = confluence_sim::start(SimOptions::default())
        .await
        .expect("start");
    let c = Client::for_sim(&sim);
    let runs = Arc::new(AtomicU64::new(0));
    {
        let runs = runs.clone();
        sim.admin()
            .on_request_matching("/rest/api/space", false, move |_| {
                runs.fetch_add(1, Ordering::SeqCst);
            });
    }
    // The query string counts too, as for fault rules.
    {
        let runs = runs.clone();
        sim.admin().on_request_matching("limit=7", false, move |_| {
            runs.fetch_add(100, Ordering::SeqCst);
        });
    }
    c.ok("/space").await;
    c.ok("/space?limit=7").await;
    c.ok("/content?type=page&limit=7").await;
    assert_eq!(runs.load(Ordering::SeqCst), 202);
    let info = c
        .http
        .get(format!("{}/__sim/info", c.host))
        .send()
        .await
        .expect("info");
    assert_eq!(info.status().as_u16(), 200);
    assert_eq!(runs.load(Ordering::SeqCst), 202);

    // A hook may add another hook; it applies from the next request on.
    {
        let runs = runs.clone();
        sim.admin()
            .on_request_matching("/user/current", true, move |admin| {
                let runs = runs.clone();
                admin.on_request_matching("/user/current", true, move |_| {
                    runs.fetch_add(1000, Ordering::SeqCst);
                });
            });
    }
    c.ok("/user/current").await;
    assert_eq!(runs.load(Ordering::SeqCst), 202);
    c.ok("/user/current").await;
    assert_eq!(runs.load(Ordering::SeqCst), 1202);

    sim.admin().clear_request_hooks();
    c.ok("/space?limit=7").await;
    assert_eq!(runs.load(Ordering::SeqCst), 1202);
    sim.shutdown().await;
}
