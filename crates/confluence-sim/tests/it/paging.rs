//! Pagination, caps and silent clipping.

use confluence_sim::{Flavor, SiteSize};
use serde_json::Value;

use crate::client::{Client, enc, start};

#[tokio::test]
async fn cloud_offset_routes_clip_echo_and_link() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let v = c.ok("/space?limit=1&expand=description.plain").await;
    assert_eq!(v["size"], 1);
    assert_eq!(
        v["_links"]["next"],
        "/rest/api/space?expand=description.plain&next=true&limit=1&start=1"
    );
    assert_eq!(v["_links"]["base"], format!("{}/wiki", sim.base_url()));
    assert_eq!(v["_links"]["context"], "/wiki");
    let all = c.all("/space?limit=1").await;
    assert_eq!(all.len(), 3);
    let v = c.ok("/space?limit=5000").await;
    assert_eq!(v["limit"], 1000);
    let v = c.ok("/space?start=1&limit=1").await;
    assert!(
        v["_links"]["prev"]
            .as_str()
            .unwrap_or("")
            .contains("prev=true&limit=1&start=0")
    );

    let v = c.ok("/content?limit=5000").await;
    assert_eq!(v["limit"], 1000);
    let (s, v) = c.api("/content?start=100001").await;
    assert_eq!(s, 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Start of this size is no longer supported")
    );
    let (s, v) = c.api("/space?start=-1&limit=-1").await;
    assert_eq!(
        (s, v["message"].as_str()),
        (
            400,
            Some("java.lang.IllegalArgumentException: start cannot be less than zero")
        )
    );
    let (s, v) = c.api("/space?limit=abc").await;
    assert_eq!(s, 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("For input string: \"abc\"")
    );

    let page = sim
        .truth()
        .into_iter()
        .find(|d| d.r#type == "page" && !d.labels.is_empty())
        .expect("a labelled page");
    let (s, v) = c.api(&format!("/content/{}/label?limit=0", page.id)).await;
    assert_eq!(
        (s, v["message"].as_str()),
        (400, Some("java.lang.IllegalArgumentException: null"))
    );
    let v = c.ok(&format!("/content/{}/label?limit=999", page.id)).await;
    assert_eq!(v["limit"], 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn cloud_search_is_cursor_only_with_short_pages() {
    let sim = start(Flavor::Cloud, SiteSize::Small).await;
    let c = Client::for_sim(&sim);
    let cql = enc("type = page order by title");
    let first = c.ok(&format!("/content/search?cql={cql}&limit=30")).await;
    let ignored = c
        .ok(&format!("/content/search?cql={cql}&limit=30&start=7"))
        .await;
    assert_eq!(
        first["results"][0]["id"], ignored["results"][0]["id"],
        "start is ignored on Cloud"
    );
    let next = first["_links"]["next"].as_str().expect("next");
    assert!(
        next.starts_with("/rest/api/content/search?next=true&cursor=_f_"),
        "{next}"
    );
    let rows = c.all(&format!("/content/search?cql={cql}&limit=30")).await;
    let expected = sim
        .truth()
        .iter()
        .filter(|d| d.r#type == "page" && d.space_key != "ARCHIVE")
        .count();
    assert_eq!(rows.len(), expected);
    let titles: Vec<String> = rows
        .iter()
        .map(|r| r["title"].as_str().unwrap_or("").to_lowercase())
        .collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted);
    // Some page before the last one is short but still has `next`.
    let mut url = format!(
        "{}/rest/api/search?cql={}&limit=30&excerpt=none",
        c.base,
        enc("type = page")
    );
    let mut short_with_next = false;
    loop {
        let (s, v) = c.json(&url).await;
        assert_eq!(s, 200);
        let n = v["results"].as_array().map_or(0, Vec::len);
        assert_eq!(v["limit"], 30);
        let Some(next) = v["_links"]["next"].as_str() else {
            break;
        };
        assert!(!next.contains("excerpt"), "next drops excerpt: {next}");
        short_with_next |= n < 30;
        url = format!("{}{next}", v["_links"]["base"].as_str().unwrap_or(""));
    }
    assert!(
        short_with_next,
        "expected at least one short page with `next`"
    );
    let (s, v) = c
        .api(&format!("/search?cql={}&cursor=bogus", enc("type = page")))
        .await;
    assert_eq!(s, 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("XP-Search Aggregator API")
    );
    let (s, v) = c
        .api(&format!("/search?cql={}&limit=abc", enc("type = page")))
        .await;
    assert_eq!((s, v), (404, Value::String(String::new())));
    sim.shutdown().await;
}

#[tokio::test]
async fn datacenter_search_caps_depend_on_expansions() {
    let sim = start(Flavor::DataCenter, SiteSize::Small).await;
    let c = Client::for_sim(&sim);
    let cql = enc("type = page");
    let v = c
        .ok(&format!(
            "/content/search?cql={cql}&limit=500&expand=body.storage"
        ))
        .await;
    assert_eq!(
        (v["limit"].as_u64(), v["size"].as_u64()),
        (Some(50), Some(50))
    );
    let v = c
        .ok(&format!(
            "/content/search?cql={cql}&limit=500&expand=version"
        ))
        .await;
    assert_eq!(v["limit"], 200);
    let v = c.ok(&format!("/content/search?cql={cql}&limit=5000")).await;
    assert_eq!(v["limit"], 1000);
    let total = v["totalSize"].as_u64().unwrap_or(0);
    assert_eq!(v["size"].as_u64(), Some(total));
    let v = c
        .ok(&format!("/content/search?cql={cql}&limit=10&start=10"))
        .await;
    assert_eq!(v["start"], 10);
    assert!(
        v["_links"]["next"]
            .as_str()
            .unwrap_or("")
            .ends_with("next=true&limit=10&start=20")
    );
    let rows = c.all(&format!("/content/search?cql={cql}&limit=25")).await;
    assert_eq!(rows.len() as u64, total);
    sim.shutdown().await;
}

#[tokio::test]
async fn user_and_group_routes_cap_as_documented() {
    let sim = start(Flavor::Cloud, SiteSize::Small).await;
    let c = Client::for_sim(&sim);
    let v = c
        .ok(&format!(
            "/search/user?cql={}&limit=500",
            enc("type = user")
        ))
        .await;
    assert_eq!(v["limit"], 500, "search/user echoes the requested limit");
    let n = v["size"].as_u64().unwrap_or(0);
    assert!(n > 0 && n <= 100);
    assert_eq!(v["totalSize"].as_u64(), Some(n));
    assert!(v["_links"]["next"].is_null());
    let groups = c.all("/group?limit=2").await;
    let gid = groups[0]["id"].as_str().unwrap_or("");
    let (s, _) = c
        .api(&format!("/group/{gid}/membersByGroupId?limit=201"))
        .await;
    assert_eq!(s, 400);
    let v = c
        .ok(&format!(
            "/group/member?name={}&limit=500",
            enc("confluence-users")
        ))
        .await;
    assert_eq!(v["limit"], 200);
    sim.shutdown().await;
}
