//! Cloud REST v2 around the happy path: credentials, statuses and 404s, attachment downloads,
//! Server/DC (no v2), and the shared machinery (request counts, latency, faults, quirks).

use std::time::{Duration, Instant};

use base64::Engine;
use confluence_sim::{Flavor, Latency, Quirks, RunningSim, SimOptions, SiteSize};
use serde_json::Value;

use crate::client::{Client, start};

fn basic(u: &str, p: &str) -> Option<String> {
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
    ))
}

const NOT_FOUND: &str =
    r#"{"errors":[{"code":"NOT_FOUND","detail":null,"status":404,"title":"Not Found"}]}"#;

fn unnamed_404(v: &Value) -> bool {
    *v == serde_json::from_str::<Value>(NOT_FOUND).expect("json")
}

/// A page of the space with the most pages, with child pages, and its space's v2 id.
async fn busy_page(c: &Client, sim: &RunningSim) -> (String, String) {
    let page = sim
        .truth()
        .into_iter()
        .find(|d| d.title == "Architecture overview")
        .expect("page");
    let v = c.v2(&format!("/pages/{}", page.id)).await;
    (page.id, v["spaceId"].as_str().expect("space id").to_owned())
}

#[tokio::test]
async fn refused_credentials_answer_a_404_that_names_nothing() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let page = sim
        .truth()
        .into_iter()
        .find(|d| d.r#type == "page")
        .expect("page");
    for auth in [None, basic("svc-search@example.com", "wrong")] {
        let c = Client::with_auth(&sim, auth);
        for path in ["/spaces", &format!("/pages/{}", page.id)] {
            let (s, v, _) = c.v2_raw(path).await;
            assert_eq!(s, 404, "{path}");
            assert!(unnamed_404(&v), "{v}");
        }
    }
    // An unparseable header is refused in front of the API, as on v1.
    let garbled = Client::with_auth(&sim, Some("Basic %%%not-base64".into()));
    assert_eq!(garbled.v2_raw("/spaces").await.0, 401);
    // Expired credentials are refused credentials.
    let c = Client::for_sim(&sim);
    assert_eq!(c.v2_raw("/spaces").await.0, 200);
    sim.admin().set_quirks(Quirks {
        expired_credentials: true,
        ..Quirks::none()
    });
    let (s, v, _) = c.v2_raw("/spaces").await;
    assert!(s == 404 && unnamed_404(&v), "{s} {v}");
    sim.shutdown().await;
}

#[tokio::test]
async fn statuses_trash_and_purge_as_confluence_does() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let (page, sid) = busy_page(&c, &sim).await;
    // Unknown ids, ids of another type, malformed ids.
    let (s, v, _) = c.v2_raw("/pages/1").await;
    assert_eq!(
        (s, v["errors"][0]["title"].as_str()),
        (404, Some("Cannot find a page with id [1]"))
    );
    let blog = sim
        .truth()
        .into_iter()
        .find(|d| d.r#type == "blogpost")
        .expect("blog post");
    assert_eq!(c.v2_raw(&format!("/pages/{}", blog.id)).await.0, 404);
    assert_eq!(c.v2_raw(&format!("/blogposts/{}", blog.id)).await.0, 200);
    let (s, v, _) = c.v2_raw("/pages/abc").await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (400, Some("INVALID_REQUEST_PARAMETER"))
    );
    assert_eq!(c.v2_raw("/spaces/1").await.0, 404);
    assert_eq!(c.v2_raw("/pages?status=draft").await.0, 400);
    assert_eq!(c.v2_raw("/blogposts?status=archived").await.0, 400);
    // A path that is no route: an HTML error page, not JSON.
    let (s, v, _) = c.v2_raw("/folders/1/children").await;
    assert_eq!(s, 404);
    assert!(v.as_str().is_some_and(|t| t.contains("<html>")), "{v}");

    // Trash: gone from listings and from a plain read, which still names the page.
    let leaf = c.v2(&format!("/pages/{page}/children")).await["results"][0]["id"]
        .as_str()
        .expect("child")
        .to_owned();
    let atts = c.v2(&format!("/pages/{leaf}/attachments")).await;
    sim.admin().delete_content(&leaf).expect("trash");
    let (s, v, _) = c.v2_raw(&format!("/pages/{leaf}")).await;
    assert_eq!(
        (s, v["errors"][0]["title"].as_str()),
        (
            404,
            Some(format!("Cannot find a page with id [{leaf}]").as_str())
        )
    );
    let v = c.v2(&format!("/pages/{leaf}?status=trashed")).await;
    assert_eq!(v["status"], "trashed");
    assert_eq!(v["_links"]["base"], format!("{}/wiki", sim.base_url()));
    let listed = |rows: &[Value]| rows.iter().any(|r| r["id"] == leaf.as_str());
    let current = c.v2_all(&format!("/spaces/{sid}/pages")).await;
    assert!(!listed(&current));
    let trashed = c
        .v2_all(&format!("/spaces/{sid}/pages?status=trashed"))
        .await;
    assert!(listed(&trashed) && trashed.iter().all(|r| r["status"] == "trashed"));
    assert!(listed(&c.v2_all("/pages?status=current,trashed").await));
    assert!(
        !c.v2_all(&format!("/pages/{page}/children"))
            .await
            .iter()
            .any(|r| r["id"] == leaf.as_str())
    );
    // Its attachments went to the trash with it.
    if let Some(att) = atts["results"][0]["id"].as_str() {
        let trashed = c.v2_all("/attachments?status=trashed").await;
        assert!(trashed.iter().any(|a| a["id"] == att));
        assert!(
            !c.v2_all("/attachments")
                .await
                .iter()
                .any(|a| a["id"] == att)
        );
    }
    // Purged: the 404 names nothing.
    sim.admin().purge_content(&leaf).expect("purge");
    let (s, v, _) = c.v2_raw(&format!("/pages/{leaf}?status=trashed")).await;
    assert!(s == 404 && unnamed_404(&v), "{v}");
    sim.shutdown().await;
}

#[tokio::test]
async fn single_reads_and_download_links_work() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let (page, _) = busy_page(&c, &sim).await;
    let v = c.v2(&format!("/pages/{page}")).await;
    assert_eq!(v["body"], serde_json::json!({}));
    assert!(v["version"]["number"].as_u64().is_some());
    let v = c
        .v2(&format!(
            "/pages/{page}?include-version=false&include-labels=true&body-format=atlas_doc_format"
        ))
        .await;
    assert!(v.get("version").is_none());
    let adf: Value = serde_json::from_str(
        v["body"]["atlas_doc_format"]["value"]
            .as_str()
            .expect("adf"),
    )
    .expect("ADF is JSON");
    assert_eq!(adf["type"], "doc");
    let truth_labels: Vec<String> = sim
        .truth()
        .into_iter()
        .find(|d| d.id == page)
        .expect("doc")
        .labels;
    let names: Vec<String> = v["labels"]["results"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|l| l["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(names.len(), truth_labels.len());
    assert_eq!(v["labels"]["meta"]["hasMore"], false);

    // Every attachment downloads through its `downloadLink`, to its announced size.
    let atts = c.v2_all("/attachments").await;
    assert!(!atts.is_empty());
    for a in atts.iter().take(4) {
        assert_eq!(a["downloadLink"], a["_links"]["download"]);
        let url = format!("{}{}", c.base, a["downloadLink"].as_str().expect("link"));
        let r = c.raw(&url).await;
        assert_eq!(r.status().as_u16(), 200, "{url}");
        let bytes = r.bytes().await.expect("bytes");
        assert_eq!(Some(bytes.len() as u64), a["fileSize"].as_u64(), "{url}");
        let id = a["id"].as_str().expect("id");
        assert_eq!(
            c.v2(&format!("/attachments/{id}")).await["fileSize"],
            a["fileSize"]
        );
    }
    // Ancestors: top-down, the nearest ones when limited, no cursor.
    let deep = sim
        .truth()
        .into_iter()
        .filter(|d| d.r#type == "page")
        .max_by_key(|d| d.ancestor_ids.len())
        .expect("page");
    assert!(deep.ancestor_ids.len() >= 2);
    let v = c.v2(&format!("/pages/{}/ancestors", deep.id)).await;
    let got: Vec<&str> = v["results"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(got, deep.ancestor_ids);
    let v = c.v2(&format!("/pages/{}/ancestors?limit=1", deep.id)).await;
    assert_eq!(
        v["results"][0]["id"],
        deep.ancestor_ids.last().expect("parent").as_str()
    );
    assert!(v["_links"].get("next").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn server_and_data_center_have_no_v2() {
    for (flavor, ctx) in [
        (Flavor::Server, Some("/confluence")),
        (Flavor::DataCenter, None),
    ] {
        let sim = confluence_sim::start(SimOptions {
            flavor,
            size: SiteSize::Tiny,
            context_path: ctx.map(str::to_owned),
            ..SimOptions::default()
        })
        .await
        .expect("start");
        let c = Client::for_sim(&sim);
        assert_eq!(c.api("/space").await.0, 200);
        for path in [
            "/wiki/api/v2/spaces",
            "/api/v2/spaces",
            "/confluence/api/v2/pages",
        ] {
            let r = c.raw(&format!("{}{path}", c.host)).await;
            assert_eq!(r.status().as_u16(), 404, "{flavor:?} {path}");
        }
        assert_eq!(c.v2_raw("/spaces").await.0, 404);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn v2_requests_are_counted_slowed_and_faulted_like_v1() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let admin = sim.admin();
    let (page, sid) = busy_page(&c, &sim).await;
    admin.reset_request_counts();
    let mut sent = std::collections::BTreeMap::<&str, (u64, u64)>::new();
    for (key, path) in [
        ("GET /api/v2/spaces", "/spaces".to_owned()),
        ("GET /api/v2/spaces", "/spaces?limit=1".to_owned()),
        (
            "GET /api/v2/spaces/{id}/pages",
            format!("/spaces/{sid}/pages"),
        ),
        (
            "GET /api/v2/pages/{id}/children",
            format!("/pages/{page}/children"),
        ),
        (
            "GET /api/v2/pages/{id}/footer-comments",
            format!("/pages/{page}/footer-comments"),
        ),
        ("GET /api/v2/attachments", "/attachments".to_owned()),
        ("GET /api/v2/pages/{id}", "/pages/1".to_owned()),
    ] {
        let r = c.raw(&format!("{}/api/v2{path}", c.base)).await;
        let n = r.bytes().await.expect("body").len() as u64;
        let e = sent.entry(key).or_default();
        e.0 += 1;
        e.1 += n;
    }
    let got: std::collections::BTreeMap<String, (u64, u64)> = admin
        .request_counts()
        .into_iter()
        .map(|(k, v)| (k, (v.requests, v.bytes)))
        .collect();
    let expected: std::collections::BTreeMap<String, (u64, u64)> =
        sent.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    assert_eq!(got, expected);

    // Latency.
    admin.set_latency(Some(Latency::Fixed(Duration::from_millis(150))));
    let t = Instant::now();
    assert_eq!(c.v2_raw("/spaces").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    admin.set_latency(None);

    // Fault rules: Confluence's 500 in v2's shape, the edge's 429 and 503 as on v1.
    admin.fail_requests_matching("/api/v2/pages", 500, 0);
    let (s, v, _) = c.v2_raw(&format!("/pages/{page}")).await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (500, Some("INTERNAL_SERVER_ERROR"))
    );
    assert_eq!(c.v2_raw("/spaces").await.0, 200);
    admin.clear_faults();
    admin.fail_requests_matching("/children", 429, 0);
    let r = c
        .raw(&format!("{}/api/v2/pages/{page}/children", c.base))
        .await;
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().contains_key("x-ratelimit-limit"));
    admin.clear_faults();
    admin.set_fault_plan("5xx=1,statuses=503".parse().expect("plan"));
    assert_eq!(c.v2_raw("/spaces").await.0, 503);
    admin.set_fault_plan("5xx=1,statuses=500,paths=/api/v2/".parse().expect("plan"));
    let (s, v, _) = c.v2_raw("/spaces").await;
    assert_eq!((s, v["errors"][0]["status"].as_u64()), (500, Some(500)));
    assert_eq!(c.api("/space").await.0, 200);
    admin.clear_faults();
    assert_eq!(c.v2_raw("/spaces").await.0, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn path_quirks_and_listing_quirks_reach_v2() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let admin = sim.admin();
    let (page, sid) = busy_page(&c, &sim).await;
    let all = c.v2_all(&format!("/spaces/{sid}/pages?limit=2")).await;
    assert!(all.len() > 4);
    let all_ids: Vec<Value> = all.iter().map(|r| r["id"].clone()).collect();

    // A server without one route: the HTML page of a path that is no route.
    admin.set_quirks("missing-route=/footer-comments".parse().expect("quirks"));
    let (s, v, _) = c.v2_raw(&format!("/pages/{page}/footer-comments")).await;
    assert_eq!(s, 404);
    assert!(
        v.as_str().is_some_and(|t| t.contains("Page Not Found")),
        "{v}"
    );
    assert_eq!(
        c.v2_raw(&format!("/pages/{page}/inline-comments")).await.0,
        200
    );
    admin.set_quirks(
        "missing-route=/footer-comments,missing-status=501"
            .parse()
            .expect("quirks"),
    );
    let (s, v, _) = c.v2_raw("/footer-comments").await;
    assert_eq!((s, v["errors"][0]["status"].as_u64()), (501, Some(501)));

    // No next link, in the body or the header.
    admin.set_quirks(Quirks {
        omit_next: true,
        ..Quirks::none()
    });
    let (s, v, link) = c.v2_raw(&format!("/spaces/{sid}/pages?limit=2")).await;
    assert_eq!(s, 200);
    assert_eq!(v["results"].as_array().map(Vec::len), Some(2));
    assert!(v["_links"].get("next").is_none() && link.is_none());

    // The cursor ignored: the next link leads to the first page again.
    admin.set_quirks(Quirks {
        ignore_start: true,
        ..Quirks::none()
    });
    let first = c.v2(&format!("/spaces/{sid}/pages?limit=2")).await;
    let next = first["_links"]["next"].as_str().expect("next");
    let again = c.json(&format!("{}{next}", c.host)).await.1;
    assert_eq!(first["results"], again["results"]);

    // Every page served twice.
    admin.set_quirks(Quirks {
        repeat_pages: true,
        ..Quirks::none()
    });
    let twice: Vec<Value> = c
        .v2_all(&format!("/spaces/{sid}/pages?limit=2"))
        .await
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    let doubled: Vec<Value> = all_ids
        .chunks(2)
        .flat_map(|ch| ch.iter().chain(ch.iter()).cloned())
        .collect();
    assert_eq!(twice, doubled);

    // Shuffled pages: rows of the listing, in some order.
    admin.set_quirks(Quirks {
        shuffle_pages: true,
        ..Quirks::none()
    });
    let shuffled = c.v2_all(&format!("/spaces/{sid}/pages?limit=2")).await;
    assert!(shuffled.iter().all(|r| all_ids.contains(&r["id"])));

    // Trimmed content objects.
    admin.set_quirks(Quirks {
        trim_fields: true,
        ..Quirks::none()
    });
    let v = c.v2(&format!("/spaces/{sid}/pages")).await;
    let row = &v["results"][0];
    assert!(
        row.get("version").is_none() && row["_links"].get("webui").is_none(),
        "{row}"
    );
    assert!(row["spaceId"].is_string());

    // A login page in front of one route.
    admin.set_quirks("html-login=/api/v2/pages".parse().expect("quirks"));
    let r = c.raw(&format!("{}/api/v2/pages", c.base)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap_or_default().contains("loginform"));
    admin.set_quirks(Quirks::none());
    assert_eq!(
        c.v2_all(&format!("/spaces/{sid}/pages?limit=2"))
            .await
            .len(),
        all.len()
    );
    sim.shutdown().await;
}
