//! Sloppy-server quirks and hostile attachments: each one switched on through the admin API and
//! observed the way a crawler would meet it.

use confluence_sim::{DcAuth, Flavor, Quirks, RunningSim, SimOptions, SiteSize};
use serde_json::Value;

use crate::client::{Client, auth_header, enc, start};

/// The space with the most pages, and its page count.
fn busiest_space(sim: &RunningSim) -> (String, usize) {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for d in sim.truth() {
        if d.r#type == "page" {
            *counts.entry(d.space_key).or_default() += 1;
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn pages_query(key: &str) -> String {
    format!(
        "/content/search?cql={}&expand=space,version",
        enc(&format!("space = \"{key}\" and type = page"))
    )
}

#[tokio::test]
async fn ignore_start_serves_the_first_page_for_every_offset_and_cursor() {
    for flavor in [Flavor::DataCenter, Flavor::Cloud] {
        let sim = start(flavor, SiteSize::Tiny).await;
        let c = Client::for_sim(&sim);
        let (key, n) = busiest_space(&sim);
        assert!(n > 3, "{n}");
        let q = pages_query(&key);
        let first = c.ok(&format!("{q}&limit=3")).await;
        sim.admin().set_quirks(Quirks {
            ignore_start: true,
            ..Quirks::none()
        });
        // Offsets and cursors alike: the first page again, with a `next` link that leads back.
        let again = c.ok(&format!("{q}&limit=3&start=3")).await;
        let next = again["_links"]["next"].as_str().expect("still a next link");
        let after = c
            .json(&format!(
                "{}{next}",
                again["_links"]["base"].as_str().unwrap()
            ))
            .await
            .1;
        if flavor == Flavor::Cloud {
            // Cloud ignores `start` anyway; the quirk ignores the cursor too.
            assert_eq!(ids(&after), ids(&first), "{flavor}");
        } else {
            assert_eq!(ids(&again), ids(&first), "{flavor}");
            assert_eq!(ids(&after), ids(&first), "{flavor}");
        }
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn omit_next_drops_the_link_while_more_pages_exist() {
    for flavor in [Flavor::Server, Flavor::Cloud] {
        let sim = start(flavor, SiteSize::Tiny).await;
        let c = Client::for_sim(&sim);
        let (key, n) = busiest_space(&sim);
        let q = format!("{}&limit=2", pages_query(&key));
        assert!(c.ok(&q).await["_links"]["next"].is_string());
        sim.admin().set_quirks("omit-next".parse().unwrap());
        let v = c.ok(&q).await;
        assert!(
            v["_links"].get("next").is_none(),
            "{flavor}: {}",
            v["_links"]
        );
        assert!(ids(&v).len() < n);
        // Every collection, not only content.
        assert!(c.ok("/space?limit=1").await["_links"].get("next").is_none());
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn repeated_and_shuffled_pages() {
    let sim = start(Flavor::DataCenter, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let (key, n) = busiest_space(&sim);
    let q = pages_query(&key);
    sim.admin().set_quirks("repeat-pages".parse().unwrap());
    let p1 = c.ok(&format!("{q}&limit=3&start=0")).await;
    let p2 = c.ok(&format!("{q}&limit=3&start=3")).await;
    let p3 = c.ok(&format!("{q}&limit=3&start=6")).await;
    assert_eq!(ids(&p1), ids(&p2), "page 2 repeats page 1");
    assert_ne!(ids(&p1), ids(&p3));
    assert_eq!(p1["totalSize"].as_u64(), Some(n as u64), "the real total");

    sim.admin().set_quirks("shuffle-pages".parse().unwrap());
    let mut orders = std::collections::BTreeSet::new();
    for _ in 0..5 {
        orders.insert(ids(&c.ok(&format!("{q}&limit={n}")).await));
    }
    assert!(orders.len() > 1, "a new order on every request");
    assert!(orders.iter().all(|o| o.len() == n), "the same items");
    sim.shutdown().await;
}

#[tokio::test]
async fn trim_fields_removes_optional_fields_from_content_only() {
    for flavor in [Flavor::Cloud, Flavor::Server] {
        let sim = start(flavor, SiteSize::Tiny).await;
        let c = Client::for_sim(&sim);
        let (key, _) = busiest_space(&sim);
        sim.admin().set_quirks("trim-fields".parse().unwrap());
        let v = c.ok(&format!("{}&limit=5", pages_query(&key))).await;
        for row in v["results"].as_array().unwrap() {
            assert!(row["space"].is_object(), "{row}");
            assert!(row["space"].get("key").is_none(), "{row}");
            assert!(row.get("version").is_none(), "{row}");
            assert!(row["_links"].get("webui").is_none(), "{row}");
            assert!(row["id"].is_string() && row["title"].is_string());
        }
        let spaces = c.ok("/space").await;
        assert!(
            spaces["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["key"].is_string()),
            "spaces keep their keys"
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn html_login_page_with_200_redirect_and_missing_routes() {
    let sim = start(Flavor::DataCenter, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let page = sim
        .truth()
        .into_iter()
        .find(|d| d.r#type == "page")
        .unwrap()
        .id;
    let comments = format!("/content/{page}/child/comment");
    let labels = format!("/content/{page}/label");
    sim.admin().set_quirks(Quirks {
        html_login: Some("/child/comment".into()),
        ..Quirks::none()
    });
    let r = c.raw(&format!("{}/rest/api{comments}", c.base)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("loginform"));
    assert_eq!(c.api(&labels).await.0, 200, "other routes answer");

    for (spec, status) in [
        ("missing-route=/child/comment", 404),
        ("missing-route=/child/comment,missing-status=501", 501),
    ] {
        sim.admin().set_quirks(spec.parse().unwrap());
        assert_eq!(c.api(&comments).await.0, status, "{spec}");
        assert_eq!(c.api(&labels).await.0, 200, "{spec}");
    }

    // A redirect to another host name: the client drops Authorization, the server sees an
    // anonymous caller and serves what anonymous users may read.
    sim.admin()
        .set_quirks("redirect=/rest/api/space".parse().unwrap());
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let auth = auth_header(&sim.credentials());
    let r = no_follow
        .get(format!("{}/rest/api/space?limit=50", c.base))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("http://localhost:{}/", sim.port())),
        "{location}"
    );
    assert!(location.contains("limit=50"), "{location}");
    let followed: Value = c
        .http
        .get(&location)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all = sim.truth().iter().filter(|d| d.r#type == "space").count();
    let anonymous = followed["results"].as_array().unwrap().len();
    assert!(
        anonymous < all,
        "anonymous sees fewer spaces: {anonymous} of {all}"
    );

    // Over HTTP too.
    let r = c
        .http
        .post(format!("http://127.0.0.1:{}/__sim/quirks", sim.port()))
        .json(&serde_json::json!({"spec": "omit-next"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(sim.admin().quirks().omit_next && sim.admin().quirks().redirect_host.is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn changing_results_shift_offsets_under_the_crawler() {
    let sim = start(Flavor::Server, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let (key, n) = busiest_space(&sim);
    let q = pages_query(&key);
    let before = ids(&c.ok(&format!("{q}&limit={n}")).await);
    sim.admin().set_quirks("changing-results".parse().unwrap());
    let p1 = ids(&c.ok(&format!("{q}&limit=3&start=0")).await);
    assert_eq!(p1, before[..3], "the first page is not churned");
    let p2 = ids(&c.ok(&format!("{q}&limit=3&start=3")).await);
    // The first item went away before page 2 was answered: everything moved up by one, and
    // the item that was fourth is on no page the crawler asked for.
    assert_eq!(p2, before[4..7]);
    let truth: Vec<String> = sim.truth().into_iter().map(|d| d.id).collect();
    assert!(!truth.contains(&before[0]), "deleted");
    assert!(truth.contains(&before[3]), "skipped but still there");
    let added = sim
        .truth()
        .into_iter()
        .filter(|d| d.title.starts_with("Added while a listing was paged"))
        .count();
    assert_eq!(added, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn refused_credentials_are_served_as_anonymous_with_the_login_reason() {
    for auth in [DcAuth::Basic, DcAuth::Pat] {
        let sim = confluence_sim::start(SimOptions {
            flavor: Flavor::DataCenter,
            data_center_auth: auth,
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let c = Client::for_sim(&sim);
        let r = c.raw(&format!("{}/rest/api/user/current", c.base)).await;
        assert_eq!(
            r.headers()["x-seraph-loginreason"].to_str().unwrap(),
            "OK",
            "{auth:?}"
        );
        let me: Value = r.json().await.unwrap();
        assert_eq!(me["username"], "svc-search", "{auth:?}: {me}");
        let all_spaces = c.ok("/space").await["results"].as_array().unwrap().len();

        // Expired: refused outright (401) without the fallback, except a PAT on DC
        // (CONFSERVER-98199), which is always served as anonymous.
        sim.admin()
            .set_quirks("expired-credentials".parse().unwrap());
        let r = c.raw(&format!("{}/rest/api/space", c.base)).await;
        let expected = if auth == DcAuth::Pat { 200 } else { 401 };
        assert_eq!(r.status().as_u16(), expected, "{auth:?}");

        sim.admin()
            .set_quirks("expired-credentials,anonymous-fallback".parse().unwrap());
        let r = c.raw(&format!("{}/rest/api/space", c.base)).await;
        assert_eq!(r.status().as_u16(), 200, "{auth:?}");
        assert_eq!(
            r.headers()["x-seraph-loginreason"].to_str().unwrap(),
            "AUTHENTICATED_FAILED"
        );
        assert_eq!(r.headers()["x-ausername"].to_str().unwrap(), "anonymous");
        let v: Value = r.json().await.unwrap();
        assert!(v["results"].as_array().unwrap().len() < all_spaces);
        let (s, me) = c.api("/user/current").await;
        assert_eq!((s, me["type"].as_str()), (200, Some("anonymous")), "{me}");
        sim.shutdown().await;
    }

    // Cloud: a refused token stays a 403; `user/current` without credentials is anonymous.
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    sim.admin()
        .set_quirks("expired-credentials".parse().unwrap());
    assert_eq!(Client::for_sim(&sim).api("/space").await.0, 403);
    let (s, me) = Client::with_auth(&sim, None).api("/user/current").await;
    assert_eq!((s, me["type"].as_str()), (200, Some("anonymous")), "{me}");
    sim.shutdown().await;
}

#[tokio::test]
async fn bomb_attachments_are_small_files_without_text() {
    for flavor in [Flavor::Cloud, Flavor::Server] {
        let sim = confluence_sim::start(SimOptions {
            flavor,
            bomb_attachments: true,
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let c = Client::for_sim(&sim);
        let bombs: Vec<_> = sim
            .truth()
            .into_iter()
            .filter(|d| d.title.starts_with("bomb-"))
            .collect();
        assert_eq!(bombs.len(), 2, "{flavor}");
        for b in &bombs {
            assert_eq!(b.text, None, "the truth: no text");
            let size = b.file_size.unwrap();
            assert!(size < 3 << 20, "{size}");
            let parent = b.parent_id.clone().unwrap();
            let rows = c.all(&format!("/content/{parent}/child/attachment")).await;
            let row = rows
                .iter()
                .find(|r| r["title"] == b.title.as_str())
                .unwrap();
            assert_eq!(row["extensions"]["fileSize"].as_u64(), Some(size));
            let link = row["_links"]["download"].as_str().unwrap();
            let bytes = c
                .raw(&format!("{}{link}", c.base))
                .await
                .bytes()
                .await
                .unwrap();
            assert_eq!(bytes.len() as u64, size, "{flavor} {}", b.title);
            let magic: &[u8] = if b.title.ends_with(".pdf") {
                b"%PDF"
            } else {
                b"PK"
            };
            assert!(bytes.starts_with(magic));
        }
        // More can be added to any page, over HTTP too.
        let page = sim
            .truth()
            .into_iter()
            .filter(|d| d.r#type == "page")
            .nth(1)
            .unwrap()
            .id;
        let r = c
            .http
            .post(format!("http://127.0.0.1:{}/__sim/bombs", sim.port()))
            .json(&serde_json::json!({"container_id": page}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            sim.truth()
                .iter()
                .filter(|d| d.title.starts_with("bomb-"))
                .count(),
            4
        );
        sim.shutdown().await;
    }
}
