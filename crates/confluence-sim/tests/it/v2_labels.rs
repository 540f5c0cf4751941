//! Cloud REST v2 label routes (`labels`, `spaces/{id}/content/labels`,
//! `labels/{id}/pages|blogposts|attachments`) and `POST /users-bulk`: permissions, filters,
//! cursor walks, body validation, and the shared machinery (counts, faults, credentials).

use std::collections::BTreeSet;

use confluence_sim::{Flavor, SimOptions, SiteSize};
use serde_json::{Value, json};

use crate::client::{Client, auth_header, start};

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().expect("string id").to_owned())
        .collect()
}

fn names(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["name"].as_str().expect("label name").to_owned())
        .collect()
}

/// The id of the label called `name`, from `GET /labels`.
async fn label_id(c: &Client, name: &str) -> String {
    c.v2_all("/labels?limit=250")
        .await
        .iter()
        .find(|l| l["name"] == name)
        .and_then(|l| l["id"].as_str())
        .unwrap_or_else(|| panic!("label {name}"))
        .to_owned()
}

/// The v2 id of a space.
async fn space_id(c: &Client, key: &str) -> String {
    let v = c.v2(&format!("/spaces?keys={key}")).await;
    v["results"][0]["id"].as_str().expect("space id").to_owned()
}

#[tokio::test]
async fn labels_of_content_the_caller_cannot_read_stay_hidden() {
    let sim = start(Flavor::Cloud, SiteSize::Small).await;
    let c = Client::for_sim(&sim);
    let crawler = c.ok("/user/current").await["accountId"]
        .as_str()
        .expect("account id")
        .to_owned();
    // A page another account can read too, and that account's client.
    let truth = sim.truth();
    let mut chosen = None;
    'pages: for d in truth.iter().filter(|d| d.r#type == "page") {
        for r in d.readers.iter().filter(|r| **r != crawler) {
            let Some(creds) = sim.user_credentials(r) else {
                continue;
            };
            let other = Client::with_auth(&sim, Some(auth_header(&creds)));
            if other.api("/user/current").await.0 == 200 {
                chosen = Some((d.clone(), r.clone(), other));
                break 'pages;
            }
        }
    }
    let (page, reader, other) = chosen.expect("a page two accounts read");
    let admin = sim.admin();
    admin.add_label(&page.id, "secret-plan").expect("label");
    admin
        .set_read_restriction(&page.id, &[reader.as_str()], &[])
        .expect("restrict");
    let sid = space_id(&c, &page.space_key).await;

    // The crawler's view: the labels of what the truth (its view) holds in the space, each
    // once, walked through the cursor.
    let expected: BTreeSet<String> = sim
        .truth()
        .iter()
        .filter(|d| d.space_key == page.space_key && d.r#type != "space")
        .flat_map(|d| d.labels.clone())
        .collect();
    assert!(!expected.is_empty() && !expected.contains("secret-plan"));
    let rows = c
        .v2_all(&format!("/spaces/{sid}/content/labels?limit=3"))
        .await;
    let got = names(&rows);
    let unique: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(got.len(), unique.len(), "a label served twice: {got:?}");
    assert_eq!(unique, expected);
    // The label itself is no secret; what carries it is.
    let secret = label_id(&c, "secret-plan").await;
    let v = c.v2(&format!("/labels/{secret}/pages")).await;
    assert_eq!(v["results"], json!([]), "{v}");
    assert!(v["_links"].get("next").is_none());

    // The reader the restriction names sees the page and its label.
    let v = other.v2(&format!("/labels/{secret}/pages")).await;
    assert_eq!(
        ids(v["results"].as_array().expect("rows")),
        vec![page.id.clone()]
    );
    let theirs = names(
        &other
            .v2_all(&format!("/spaces/{sid}/content/labels?limit=250"))
            .await,
    );
    assert!(theirs.iter().any(|n| n == "secret-plan"), "{theirs:?}");

    // Sorted by name, both ways.
    let by_name = names(
        &c.v2_all(&format!("/spaces/{sid}/content/labels?sort=name&limit=2"))
            .await,
    );
    assert!(by_name.windows(2).all(|w| w[0] < w[1]), "{by_name:?}");
    let desc = names(
        &c.v2_all(&format!("/spaces/{sid}/content/labels?sort=-name"))
            .await,
    );
    assert!(desc.windows(2).all(|w| w[0] > w[1]), "{desc:?}");

    // `prefix` takes the description's values only; model labels are all global.
    let v = c
        .v2(&format!("/spaces/{sid}/content/labels?prefix=team"))
        .await;
    assert_eq!(v["results"], json!([]));
    let (s, v, _) = c
        .v2_raw(&format!("/spaces/{sid}/content/labels?prefix=global"))
        .await;
    assert_eq!((s, v["errors"][0]["status"].as_u64()), (400, Some(400)));
    // An unknown space: the 404 of the other space routes.
    let (s, v, _) = c.v2_raw("/spaces/1/content/labels").await;
    assert_eq!(
        (s, v["errors"][0]["title"].as_str()),
        (404, Some("Cannot find space with id [1]"))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn label_listings_filter_by_space_and_walk_every_row_once() {
    let sim = confluence_sim::start(SimOptions {
        flavor: Flavor::Cloud,
        size: SiteSize::Custom {
            spaces: 2,
            pages_per_space: 70,
            blogposts_per_space: 6,
            attachments_per_page: 0.3,
            comments_per_page: 0.0,
            users: 4,
            groups: 0,
        },
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let c = Client::for_sim(&sim);
    let admin = sim.admin();
    let truth = sim.truth();
    // Everything the crawler reads carries the label `walk`.
    let mut pages = BTreeSet::new();
    let mut blogs = BTreeSet::new();
    let mut files = BTreeSet::new();
    let mut by_space = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
    for d in &truth {
        let set = match d.r#type.as_str() {
            "page" => &mut pages,
            "blogpost" => &mut blogs,
            "attachment" => &mut files,
            _ => continue,
        };
        admin.add_label(&d.id, "walk").expect("label");
        set.insert(d.id.clone());
        if d.r#type == "page" {
            by_space
                .entry(d.space_key.clone())
                .or_default()
                .insert(d.id.clone());
        }
    }
    assert!(pages.len() >= 140 && !blogs.is_empty() && !files.is_empty());
    let walk = label_id(&c, "walk").await;

    // Cursor walks: every row once, in the asked-for order.
    let rows = c.v2_all(&format!("/labels/{walk}/pages?limit=7")).await;
    let got = ids(&rows);
    let numeric: Vec<u64> = got.iter().map(|i| i.parse().expect("numeric")).collect();
    assert!(
        numeric.windows(2).all(|w| w[0] < w[1]),
        "id order, no repeat"
    );
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), pages);
    let rows = c
        .v2_all(&format!("/labels/{walk}/pages?limit=11&sort=-title"))
        .await;
    assert_eq!(rows.len(), pages.len());
    let titles: Vec<String> = rows
        .iter()
        .map(|r| r["title"].as_str().unwrap_or("").to_lowercase())
        .collect();
    assert!(titles.windows(2).all(|w| w[0] >= w[1]), "descending titles");
    let rows = c
        .v2_all(&format!(
            "/labels/{walk}/blogposts?limit=2&sort=modified-date"
        ))
        .await;
    assert_eq!(ids(&rows).len(), blogs.len());
    assert_eq!(ids(&rows).into_iter().collect::<BTreeSet<_>>(), blogs);
    let rows = c
        .v2_all(&format!("/labels/{walk}/attachments?limit=3"))
        .await;
    assert_eq!(ids(&rows).len(), files.len());
    assert_eq!(ids(&rows).into_iter().collect::<BTreeSet<_>>(), files);
    // Defaults and caps: 25 rows, at most 250; title sorting only for pages.
    let v = c.v2(&format!("/labels/{walk}/pages")).await;
    assert_eq!(v["results"].as_array().map(Vec::len), Some(25));
    let v = c
        .v2(&format!(
            "/labels/{walk}/pages?limit=1000&body-format=storage"
        ))
        .await;
    assert_eq!(
        v["results"].as_array().map(Vec::len),
        Some(pages.len().min(250))
    );
    assert!(v["results"][0]["body"]["storage"]["value"].is_string());
    for bad in [
        format!("/labels/{walk}/blogposts?sort=title"),
        format!("/labels/{walk}/pages?body-format=view"),
        format!("/labels/{walk}/pages?space-id=ENG"),
        format!(
            "/labels/{walk}/pages?space-id={}",
            (1..=101)
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
        format!("/labels/{walk}/attachments?sort=id"),
    ] {
        let (s, v, _) = c.v2_raw(&bad).await;
        assert_eq!(s, 400, "{bad}: {v}");
        assert_eq!(v["errors"][0]["code"], "INVALID_REQUEST_PARAMETER", "{bad}");
    }
    // An unknown label: 404 naming it.
    let (s, v, _) = c.v2_raw("/labels/999999/pages").await;
    assert_eq!(
        (s, v["errors"][0]["title"].as_str()),
        (404, Some("Cannot find label with id [999999]"))
    );

    // `space-id`: one space, a comma-separated list, a repeated parameter.
    let keys: Vec<String> = by_space.keys().cloned().collect();
    let (a, b) = (space_id(&c, &keys[0]).await, space_id(&c, &keys[1]).await);
    let rows = c
        .v2_all(&format!("/labels/{walk}/pages?space-id={a}&limit=9"))
        .await;
    assert!(rows.iter().all(|r| r["spaceId"] == a.as_str()));
    assert_eq!(
        ids(&rows).into_iter().collect::<BTreeSet<_>>(),
        by_space[&keys[0]]
    );
    for query in [
        format!("space-id={a},{b}"),
        format!("space-id={a}&space-id={b}"),
    ] {
        let rows = c
            .v2_all(&format!("/labels/{walk}/pages?{query}&limit=50"))
            .await;
        let want: BTreeSet<String> = by_space[&keys[0]]
            .union(&by_space[&keys[1]])
            .cloned()
            .collect();
        assert_eq!(
            ids(&rows).into_iter().collect::<BTreeSet<_>>(),
            want,
            "{query}"
        );
    }
    let v = c.v2(&format!("/labels/{walk}/pages?space-id=1")).await;
    assert_eq!(v["results"], json!([]));

    // Every label of the site once, and its filters.
    let mut all_labels: BTreeSet<String> = truth.iter().flat_map(|d| d.labels.clone()).collect();
    all_labels.insert("walk".into());
    let rows = c.v2_all("/labels?limit=2").await;
    let got = names(&rows);
    assert_eq!(
        got.len(),
        got.iter().collect::<BTreeSet<_>>().len(),
        "{got:?}"
    );
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), all_labels);
    let v = c.v2(&format!("/labels?label-id={walk}")).await;
    assert_eq!(names(v["results"].as_array().expect("rows")), vec!["walk"]);
    let v = c.v2("/labels?prefix=my,team").await;
    assert_eq!(v["results"], json!([]));
    let v = c.v2("/labels?prefix=team&prefix=global&limit=250").await;
    assert_eq!(
        v["results"].as_array().map(Vec::len),
        Some(all_labels.len())
    );
    sim.shutdown().await;
}

/// POSTs `body` (raw bytes) to `/wiki/api/v2{path}`.
async fn post_raw(c: &Client, path: &str, body: &'static str) -> (u16, Value) {
    let mut rb = c
        .http
        .post(format!("{}/api/v2{path}", c.base))
        .header("content-type", "application/json")
        .body(body);
    if let Some(a) = &c.auth {
        rb = rb.header("authorization", a);
    }
    let r = rb.send().await.expect("POST");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn users_bulk_finds_known_accounts_and_leaves_the_rest_out() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let admin = sim.admin();
    let me = c.ok("/user/current").await;
    let crawler = me["accountId"].as_str().expect("account id").to_owned();
    let other = sim
        .truth()
        .into_iter()
        .flat_map(|d| d.readers)
        .find(|r| *r != crawler)
        .expect("another account");
    let other_name = c.ok(&format!("/user?accountId={other}")).await["displayName"].clone();
    admin.reset_request_counts();

    let (s, v, _) = c
        .v2_post(
            "/users-bulk",
            &json!({"accountIds": [other, "557058:no-such-account", crawler, other]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let rows = v["results"].as_array().expect("results");
    let found: Vec<(&str, &Value)> = rows
        .iter()
        .map(|r| (r["accountId"].as_str().unwrap_or(""), &r["displayName"]))
        .collect();
    assert_eq!(
        found,
        vec![
            (other.as_str(), &other_name),
            (crawler.as_str(), &me["displayName"])
        ]
    );
    assert_eq!(rows[1]["publicName"], me["displayName"]);
    assert_eq!(rows[1]["accountType"], "atlassian");
    assert_eq!(rows[1]["accountStatus"], "active");
    let (s, v, _) = c
        .v2_post("/users-bulk", &json!({"accountIds": ["nobody"]}))
        .await;
    assert_eq!((s, &v["results"]), (200, &json!([])));

    // Bodies that are not `{"accountIds": [1..250 strings]}`.
    let many = json!({"accountIds": vec![crawler.clone(); 251]});
    let (s, v, _) = c.v2_post("/users-bulk", &many).await;
    assert_eq!(
        (s, v["errors"][0]["status"].as_u64()),
        (400, Some(400)),
        "{v}"
    );
    for body in [
        "",
        "not json",
        "{}",
        r#"{"accountIds": []}"#,
        r#"{"accountIds": "abc"}"#,
        r#"{"accountIds": [7]}"#,
    ] {
        let (s, v) = post_raw(&c, "/users-bulk", body).await;
        assert_eq!(s, 400, "{body:?}: {v}");
        assert_eq!(
            v["errors"][0]["code"], "INVALID_REQUEST_PARAMETER",
            "{body:?}"
        );
    }
    // The route is POST only; the read routes stay read only.
    let (s, v, _) = c.v2_raw("/users-bulk").await;
    assert_eq!((s, v["errors"][0]["status"].as_u64()), (405, Some(405)));
    let (s, v) = post_raw(&c, "/pages", "{}").await;
    assert_eq!((s, v["errors"][0]["status"].as_u64()), (405, Some(405)));

    // The same credentials, faults and counts as the read routes.
    let anonymous = Client::with_auth(&sim, None);
    let (s, v, _) = anonymous
        .v2_post("/users-bulk", &json!({"accountIds": [crawler]}))
        .await;
    assert_eq!(
        (s, v["errors"][0]["title"].as_str()),
        (404, Some("Not Found"))
    );
    admin.fail_requests_matching("/users-bulk", 500, 0);
    let (s, v, _) = c
        .v2_post("/users-bulk", &json!({"accountIds": [crawler]}))
        .await;
    assert_eq!(
        (s, v["errors"][0]["code"].as_str()),
        (500, Some("INTERNAL_SERVER_ERROR"))
    );
    admin.clear_faults();
    let label = c.v2("/labels?limit=1").await["results"][0]["id"]
        .as_str()
        .expect("a label")
        .to_owned();
    let sid = c.v2("/spaces?limit=1").await["results"][0]["id"]
        .as_str()
        .expect("a space")
        .to_owned();
    c.v2(&format!("/labels/{label}/pages")).await;
    c.v2(&format!("/labels/{label}/blogposts")).await;
    c.v2(&format!("/labels/{label}/attachments")).await;
    c.v2(&format!("/spaces/{sid}/content/labels")).await;
    let counts: Vec<(String, u64)> = admin
        .request_counts()
        .into_iter()
        .map(|(k, v)| (k, v.requests))
        .collect();
    let want: Vec<(String, u64)> = [
        ("GET /api/v2/labels", 1),
        ("GET /api/v2/labels/{id}/attachments", 1),
        ("GET /api/v2/labels/{id}/blogposts", 1),
        ("GET /api/v2/labels/{id}/pages", 1),
        ("GET /api/v2/spaces", 1),
        ("GET /api/v2/spaces/{id}/content/labels", 1),
        ("GET /api/v2/users-bulk", 1),
        ("POST /api/v2/pages", 1),
        ("POST /api/v2/users-bulk", 11),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_owned(), n))
    .collect();
    assert_eq!(counts, want);
    sim.shutdown().await;
}
