//! Mutations between syncs: the truth follows them and a fresh crawl still matches it.

use confluence_sim::{Flavor, SiteSize};

use crate::client::{Client, start};
use crate::crawl::{assert_matches_truth, crawl};

#[tokio::test]
async fn mutations_change_truth_and_listings_alike() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let admin = sim.admin();
    let before = sim.truth();
    let find = |t: &str| before.iter().find(|d| d.title == t).expect(t).clone();
    let home = find("Engineering Home");
    let security = find("Security runbooks");
    let arch = find("Architecture overview");

    let id = admin
        .add_page(
            "ENG",
            Some(&home.id),
            "Fresh page",
            "<p>Brand new words here.</p>",
        )
        .expect("add");
    let v = admin
        .update_page(&arch.id, Some("Architecture overview v2"), None)
        .expect("update");
    assert_eq!(v, arch.version + 1);
    admin.move_page(&id, Some(&security.id)).expect("move");
    admin
        .delete_content(&find("Service catalogue").id)
        .expect("delete");
    admin.add_label(&home.id, "fresh").expect("label");
    let eng_users = home.readers.clone();
    admin
        .set_read_restriction(&find("Team calendar archive").id, &[&eng_users[0]], &[])
        .expect("restrict");
    admin
        .remove_group_member(
            "security-team",
            &security
                .readers
                .iter()
                .find(|r| **r != eng_users[0])
                .cloned()
                .unwrap_or_default(),
        )
        .ok();
    admin
        .add_comment(&home.id, "<p>Nice page.</p>", false)
        .expect("comment");
    admin
        .add_attachment(&home.id, "notes.csv", Some(9_000))
        .expect("attachment");

    let after = sim.truth();
    let fresh = after
        .iter()
        .find(|d| d.id == id)
        .expect("fresh page in truth");
    assert_eq!(fresh.parent_id.as_deref(), Some(security.id.as_str()));
    assert_eq!(
        fresh.readers,
        after
            .iter()
            .find(|d| d.id == security.id)
            .map(|d| d.readers.clone())
            .unwrap_or_default()
    );
    assert!(!after.iter().any(|d| d.title == "Service catalogue"));
    // The deleted page's child moved up to its grandparent.
    let deep = after
        .iter()
        .find(|d| d.title == "Search service design")
        .expect("child kept");
    assert_eq!(deep.parent_id.as_deref(), Some(arch.id.as_str()));
    assert!(
        after
            .iter()
            .any(|d| d.title == "Architecture overview v2" && d.version == arch.version + 1)
    );
    assert!(after.iter().any(|d| d.id == home.id
        && d.labels.contains(&"fresh".to_owned())
        && d.version == home.version));

    let c = Client::for_sim(&sim);
    let found = crawl(&c, Flavor::Cloud, true).await;
    assert_matches_truth(&found, &after, true);
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_http_routes_mirror_the_api() {
    let sim = start(Flavor::Server, SiteSize::Tiny).await;
    let http = reqwest::Client::new();
    let host = format!("http://127.0.0.1:{}", sim.port());
    let info: serde_json::Value = http
        .get(format!("{host}/__sim/info"))
        .send()
        .await
        .expect("info")
        .json()
        .await
        .expect("json");
    assert_eq!(info["base_url"], sim.base_url());
    assert_eq!(info["username"], "svc-search");
    let r = http
        .post(format!("{host}/__sim/pages"))
        .json(
            &serde_json::json!({"space_key": "DOCS", "title": "Via HTTP", "body": "<p>hello</p>"}),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 200);
    let id = r.json::<serde_json::Value>().await.expect("json")["id"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let lines = http
        .get(format!("{host}/__sim/truth"))
        .send()
        .await
        .expect("truth")
        .text()
        .await
        .expect("text");
    assert_eq!(lines.lines().count(), sim.truth().len());
    assert!(lines.contains(&format!("\"id\":\"{id}\"")));
    let r = http
        .delete(format!("{host}/__sim/content/{id}"))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status().as_u16(), 200);
    let r = http
        .post(format!("{host}/__sim/content/999999999/update"))
        .json(&serde_json::json!({"title": "x"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 404);
    let r = http
        .post(format!("{host}/__sim/faults/plan"))
        .json(&serde_json::json!({"spec": "429=1"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 200);
    let c = Client::for_sim(&sim);
    assert_eq!(c.api("/space").await.0, 429);
    http.delete(format!("{host}/__sim/faults"))
        .send()
        .await
        .expect("clear");
    assert_eq!(c.api("/space").await.0, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn new_content_reaches_search_after_the_index_lag() {
    use std::time::Duration;
    let opts = confluence_sim::SimOptions {
        index_lag: Some(Duration::from_millis(400)),
        ..confluence_sim::SimOptions::default()
    };
    let sim = confluence_sim::start(opts).await.expect("start");
    let id = sim
        .admin()
        .add_page("ENG", None, "Lagging page", "<p>later</p>")
        .expect("add");
    let c = Client::for_sim(&sim);
    let cql = crate::client::enc("title = \"Lagging page\"");
    assert_eq!(c.ok(&format!("/content/search?cql={cql}")).await["size"], 0);
    assert_eq!(
        c.api(&format!("/content/{id}")).await.0,
        200,
        "direct reads see it at once"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(c.ok(&format!("/content/search?cql={cql}")).await["size"], 1);
    sim.shutdown().await;
}
