//! Cloud REST v2: cursor paging over a large space, and the same content, parents, versions
//! and permissions as v1 and the ground truth for a user with restricted access.

use std::collections::{BTreeMap, BTreeSet};

use confluence_sim::{Flavor, RunningSim, SimOptions, SiteSize};
use serde_json::Value;

use crate::client::{Client, auth_header, start};

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().expect("string id").to_owned())
        .collect()
}

/// The v2 id of a space (v1 and v2 share the numeric id; v2 prints it as a string).
async fn space_id(c: &Client, key: &str) -> String {
    let v = c.v2(&format!("/spaces?keys={key}")).await;
    v["results"][0]["id"].as_str().expect("space id").to_owned()
}

#[tokio::test]
async fn cursor_walks_return_every_page_once_with_matching_link_headers() {
    let sim = confluence_sim::start(SimOptions {
        flavor: Flavor::Cloud,
        size: SiteSize::Custom {
            spaces: 1,
            pages_per_space: 600,
            blogposts_per_space: 3,
            attachments_per_page: 0.2,
            comments_per_page: 0.2,
            users: 6,
            groups: 0,
        },
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let c = Client::for_sim(&sim);
    let truth = sim.truth();
    let space = truth.iter().find(|d| d.r#type == "space").expect("a space");
    let sid = space_id(&c, &space.space_key).await;
    assert_eq!(sid, space.id, "v2 space ids are v1's numeric ids");
    let expected: BTreeSet<String> = truth
        .iter()
        .filter(|d| d.r#type == "page" && d.space_key == space.space_key)
        .map(|d| d.id.clone())
        .collect();
    assert!(expected.len() >= 600, "{}", expected.len());

    // A cursor walk (Link header checked against `_links.next` on every page).
    let rows = c.v2_all(&format!("/spaces/{sid}/pages?limit=37")).await;
    let got = ids(&rows);
    let unique: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(got.len(), unique.len(), "a page served twice");
    assert_eq!(unique, expected);
    let numeric: Vec<u64> = got.iter().map(|i| i.parse().expect("numeric")).collect();
    assert!(numeric.windows(2).all(|w| w[0] < w[1]), "id order");

    // Other orders walk the same set, in their order.
    let rows = c
        .v2_all(&format!("/spaces/{sid}/pages?limit=50&sort=-title"))
        .await;
    let titles: Vec<String> = rows
        .iter()
        .map(|r| r["title"].as_str().unwrap_or("").to_lowercase())
        .collect();
    assert!(titles.windows(2).all(|w| w[0] >= w[1]), "descending titles");
    assert_eq!(ids(&rows).into_iter().collect::<BTreeSet<_>>(), expected);
    let rows = c
        .v2_all(&format!(
            "/pages?space-id={sid}&limit=100&sort=modified-date"
        ))
        .await;
    assert_eq!(ids(&rows).into_iter().collect::<BTreeSet<_>>(), expected);

    // Limits: default 25, clipped to 250, refused below 1; the clipped limit travels on.
    let (s, v, link) = c.v2_raw(&format!("/spaces/{sid}/pages")).await;
    assert_eq!((s, v["results"].as_array().map(Vec::len)), (200, Some(25)));
    let next = v["_links"]["next"].as_str().expect("next");
    assert!(
        next.starts_with(&format!("/wiki/api/v2/spaces/{sid}/pages?cursor=")),
        "{next}"
    );
    assert_eq!(
        link.as_deref(),
        Some(
            format!(
                "<{next}>; rel=\"next\", <{}/wiki>; rel=\"base\"",
                sim.base_url()
            )
            .as_str()
        )
    );
    let v = c
        .v2(&format!(
            "/spaces/{sid}/pages?limit=1000&body-format=storage"
        ))
        .await;
    assert_eq!(v["results"].as_array().map(Vec::len), Some(250));
    assert!(v["results"][0]["body"]["storage"]["value"].is_string());
    let next = v["_links"]["next"].as_str().expect("next");
    assert!(
        next.starts_with(&format!(
            "/wiki/api/v2/spaces/{sid}/pages?limit=250&body-format=storage&cursor="
        )),
        "{next}"
    );
    let attachments = c.v2("/attachments").await;
    assert_eq!(attachments["results"].as_array().map(Vec::len), Some(50));
    for bad in [
        "limit=0",
        "limit=-3",
        "limit=abc",
        "cursor=%25%25",
        "sort=size",
    ] {
        let (s, v, _) = c.v2_raw(&format!("/spaces/{sid}/pages?{bad}")).await;
        assert_eq!(s, 400, "{bad}: {v}");
        assert_eq!(v["errors"][0]["code"], "INVALID_REQUEST_PARAMETER", "{bad}");
    }
    // A cursor belongs to its sort.
    let cursor = next.split("cursor=").nth(1).expect("cursor");
    let (s, _, _) = c
        .v2_raw(&format!("/spaces/{sid}/pages?sort=-id&cursor={cursor}"))
        .await;
    assert_eq!(s, 400);

    // Keyset cursors: removing served items or adding new ones between requests neither
    // skips nor repeats the others.
    let first = c.v2(&format!("/spaces/{sid}/pages?limit=10")).await;
    let first_ids = ids(first["results"].as_array().expect("rows"));
    for id in &first_ids[..3] {
        sim.admin().delete_content(id).expect("trash");
    }
    let added = sim
        .admin()
        .add_page(
            &space.space_key,
            None,
            "Written during the walk",
            "<p>new</p>",
        )
        .expect("add");
    let next = first["_links"]["next"].as_str().expect("next");
    let mut rest = Vec::new();
    let mut url = format!("{}{next}", c.host);
    loop {
        let (s, v) = c.json(&url).await;
        assert_eq!(s, 200);
        rest.extend(ids(v["results"].as_array().expect("rows")));
        match v["_links"]["next"].as_str() {
            Some(n) => url = format!("{}{n}", c.host),
            None => break,
        }
    }
    let mut walked: BTreeSet<String> = first_ids.iter().cloned().collect();
    walked.extend(rest.iter().cloned());
    let mut now: BTreeSet<String> = expected.clone();
    now.insert(added.clone());
    assert_eq!(walked, now);
    assert_eq!(rest.last(), Some(&added));
    sim.shutdown().await;
}

/// An account (not the crawler) that can log in and reads some but not all of the crawler's
/// documents, with a client of its own.
async fn restricted_user(sim: &RunningSim) -> (String, Client) {
    let truth = sim.truth();
    let mut counts = BTreeMap::<String, usize>::new();
    for d in &truth {
        for r in &d.readers {
            *counts.entry(r.clone()).or_default() += 1;
        }
    }
    let crawler = sim.credentials().email.expect("email");
    let mut candidates: Vec<(usize, String)> = counts
        .into_iter()
        .filter(|(_, n)| *n > 20 && *n < truth.len())
        .map(|(u, n)| (n, u))
        .collect();
    candidates.sort();
    for (_, user) in candidates {
        let Some(creds) = sim.user_credentials(&user) else {
            continue;
        };
        if creds.email.as_deref() == Some(crawler.as_str()) {
            continue;
        }
        let c = Client::with_auth(sim, Some(auth_header(&creds)));
        if c.api("/user/current").await.0 == 200 && c.api("/space").await.0 == 200 {
            return (user, c);
        }
    }
    panic!("no user with restricted access");
}

/// `(title, parent, version)` of v2 page or blog post rows by id.
fn v2_places(rows: &[Value]) -> BTreeMap<String, (String, Option<String>, u64)> {
    rows.iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or("").to_owned(),
                (
                    r["title"].as_str().unwrap_or("").to_owned(),
                    r["parentId"].as_str().map(str::to_owned),
                    r["version"]["number"].as_u64().unwrap_or(0),
                ),
            )
        })
        .collect()
}

/// The same from v1 rows expanded with `ancestors,version`.
fn v1_places(rows: &[Value]) -> BTreeMap<String, (String, Option<String>, u64)> {
    rows.iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or("").to_owned(),
                (
                    r["title"].as_str().unwrap_or("").to_owned(),
                    r["ancestors"]
                        .as_array()
                        .and_then(|a| a.last())
                        .and_then(|a| a["id"].as_str())
                        .map(str::to_owned),
                    r["version"]["number"].as_u64().unwrap_or(0),
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn v2_shows_a_restricted_user_what_v1_and_the_truth_show() {
    let sim = start(Flavor::Cloud, SiteSize::Small).await;
    let (user, c) = restricted_user(&sim).await;
    let truth = sim.truth();

    // Spaces: the same ids and keys.
    let v1_spaces: BTreeSet<(String, String)> = c
        .all("/space?limit=2")
        .await
        .iter()
        .map(|s| {
            (
                s["id"].as_u64().expect("numeric v1 id").to_string(),
                s["key"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let v2_spaces: BTreeSet<(String, String)> = c
        .v2_all("/spaces?limit=2")
        .await
        .iter()
        .map(|s| {
            (
                s["id"].as_str().expect("string id").to_owned(),
                s["key"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(v1_spaces, v2_spaces);
    assert!(!v2_spaces.is_empty());

    let mut seen = BTreeSet::<String>::new();
    let mut all_pages = BTreeMap::new();
    for (sid, key) in &v2_spaces {
        seen.insert(sid.clone());
        for (v1_type, v2_route) in [("page", "pages"), ("blogpost", "blogposts")] {
            let v1 = c
                .all(&format!(
                    "/space/{key}/content/{v1_type}?limit=40&expand=ancestors,version"
                ))
                .await;
            let v2 = c
                .v2_all(&format!("/spaces/{sid}/{v2_route}?limit=40"))
                .await;
            assert_eq!(v1_places(&v1), v2_places(&v2), "{key} {v1_type}");
            for r in &v2 {
                assert_eq!(r["spaceId"], sid.as_str());
            }
            if v1_type == "page" {
                all_pages.extend(v2_places(&v2));
            }
            seen.extend(ids(&v2));
        }
        // Permissions: v1's grants, in v2's shape.
        let v1 = c.ok(&format!("/space/{key}?expand=permissions")).await;
        let mut v1_grants: Vec<(String, String, String, String)> = v1["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .map(|p| {
                let (ty, id) =
                    if let Some(u) = p["subjects"]["user"]["results"][0]["accountId"].as_str() {
                        ("user", u.to_owned())
                    } else if let Some(g) = p["subjects"]["group"]["results"][0]["id"].as_str() {
                        ("group", g.to_owned())
                    } else {
                        ("role", "anonymous".to_owned())
                    };
                (
                    p["id"].as_u64().expect("id").to_string(),
                    format!("{ty}:{id}"),
                    p["operation"]["operation"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                    p["operation"]["targetType"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                )
            })
            .collect();
        let mut v2_grants: Vec<(String, String, String, String)> = c
            .v2_all(&format!("/spaces/{sid}/permissions?limit=3"))
            .await
            .iter()
            .map(|p| {
                (
                    p["id"].as_str().expect("string id").to_owned(),
                    format!(
                        "{}:{}",
                        p["principal"]["type"].as_str().unwrap_or(""),
                        p["principal"]["id"].as_str().unwrap_or("")
                    ),
                    p["operation"]["key"].as_str().unwrap_or("").to_owned(),
                    p["operation"]["targetType"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                )
            })
            .collect();
        v1_grants.sort();
        v2_grants.sort();
        assert_eq!(v1_grants, v2_grants, "{key} permissions");
    }
    // The site-wide page listing is the union of the spaces'.
    let site_wide = c.v2_all("/pages?limit=250").await;
    assert_eq!(v2_places(&site_wide), all_pages);

    // Per page: child pages in order, ancestors top-down, labels.
    for id in all_pages.keys() {
        let v1: Vec<String> = ids(&c.all(&format!("/content/{id}/child/page?limit=50")).await);
        let v2: Vec<String> = ids(&c.v2_all(&format!("/pages/{id}/children")).await);
        assert_eq!(v1, v2, "children of {id}");
        let v1 = c.ok(&format!("/content/{id}?expand=ancestors")).await;
        let v2 = c.v2(&format!("/pages/{id}/ancestors")).await;
        assert_eq!(
            ids(v1["ancestors"].as_array().expect("ancestors")),
            ids(v2["results"].as_array().expect("rows")),
            "ancestors of {id}"
        );
        let v1: BTreeSet<String> = c
            .all(&format!("/content/{id}/label"))
            .await
            .iter()
            .map(|l| l["name"].as_str().unwrap_or("").to_owned())
            .collect();
        let v2: BTreeSet<String> = c
            .v2_all(&format!("/pages/{id}/labels"))
            .await
            .iter()
            .map(|l| l["name"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(v1, v2, "labels of {id}");
    }

    // Attachments and comments, site-wide, against v1's per-container listings.
    let containers: Vec<(String, &str)> = seen
        .iter()
        .filter(|id| !v2_spaces.iter().any(|(s, _)| s == *id))
        .map(|id| {
            let kind = if all_pages.contains_key(id) {
                "pages"
            } else {
                "blogposts"
            };
            (id.clone(), kind)
        })
        .collect();
    let mut v1_atts = BTreeMap::new();
    let mut v1_comments = BTreeMap::new();
    for (id, _) in &containers {
        for a in c
            .all(&format!(
                "/content/{id}/child/attachment?limit=50&expand=version"
            ))
            .await
        {
            v1_atts.insert(
                a["id"].as_str().unwrap_or("").to_owned(),
                (
                    id.clone(),
                    a["extensions"]["fileSize"].as_u64(),
                    a["extensions"]["mediaType"].clone(),
                    a["version"]["number"].as_u64(),
                ),
            );
        }
        for cm in c
            .all(&format!("/content/{id}/child/comment?limit=50&depth=all"))
            .await
        {
            v1_comments.insert(
                cm["id"].as_str().unwrap_or("").to_owned(),
                (
                    id.clone(),
                    cm["extensions"]["location"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                ),
            );
        }
    }
    let v2_atts: BTreeMap<String, _> = c
        .v2_all("/attachments?limit=60")
        .await
        .iter()
        .map(|a| {
            let container = a["pageId"]
                .as_str()
                .or(a["blogPostId"].as_str())
                .unwrap_or("")
                .to_owned();
            (
                a["id"].as_str().unwrap_or("").to_owned(),
                (
                    container,
                    a["fileSize"].as_u64(),
                    a["mediaType"].clone(),
                    a["version"]["number"].as_u64(),
                ),
            )
        })
        .collect();
    assert_eq!(v1_atts, v2_atts);
    let mut v2_comments = BTreeMap::new();
    for location in ["footer", "inline"] {
        for cm in c.v2_all(&format!("/{location}-comments?limit=30")).await {
            let container = cm["pageId"]
                .as_str()
                .or(cm["blogPostId"].as_str())
                .unwrap_or("")
                .to_owned();
            v2_comments.insert(
                cm["id"].as_str().unwrap_or("").to_owned(),
                (container, location.to_owned()),
            );
        }
    }
    assert_eq!(v1_comments, v2_comments);
    // Per container, the same split.
    for (id, kind) in &containers {
        let mut per = BTreeMap::new();
        for location in ["footer", "inline"] {
            for cm in c.v2_all(&format!("/{kind}/{id}/{location}-comments")).await {
                per.insert(
                    cm["id"].as_str().unwrap_or("").to_owned(),
                    (id.clone(), location.to_owned()),
                );
            }
        }
        let expected: BTreeMap<_, _> = v1_comments
            .iter()
            .filter(|(_, (c, _))| c == id)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(per, expected, "comments of {id}");
        let atts: BTreeSet<String> = ids(&c.v2_all(&format!("/{kind}/{id}/attachments")).await)
            .into_iter()
            .collect();
        let expected: BTreeSet<String> = v1_atts
            .iter()
            .filter(|(_, v)| v.0 == *id)
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(atts, expected, "attachments of {id}");
    }
    seen.extend(v2_atts.keys().cloned());
    seen.extend(v2_comments.keys().cloned());

    // The truth: what the user reads among the crawler's documents, no more, no less; with
    // the truth's titles, parents and versions.
    let crawler_docs: BTreeSet<String> = truth.iter().map(|d| d.id.clone()).collect();
    let expected: BTreeSet<String> = truth
        .iter()
        .filter(|d| d.readers.contains(&user))
        .map(|d| d.id.clone())
        .collect();
    let got: BTreeSet<String> = seen.intersection(&crawler_docs).cloned().collect();
    assert_eq!(got, expected);
    assert!(
        expected.len() < crawler_docs.len(),
        "the user must miss something"
    );
    for d in truth
        .iter()
        .filter(|d| d.r#type == "page" && expected.contains(&d.id))
    {
        let (title, parent, version) = &all_pages[&d.id];
        assert_eq!(
            (title, parent, *version),
            (&d.title, &d.parent_id, u64::from(d.version))
        );
    }
    // What the crawler reads and the user does not answers 404, naming the page.
    let hidden = truth
        .iter()
        .find(|d| d.r#type == "page" && !d.readers.contains(&user))
        .expect("a hidden page");
    let (s, v, _) = c.v2_raw(&format!("/pages/{}", hidden.id)).await;
    assert_eq!(s, 404);
    assert_eq!(
        v["errors"][0]["title"],
        format!("Cannot find a page with id [{}]", hidden.id)
    );
    sim.shutdown().await;
}
