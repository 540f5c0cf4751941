//! Crawl every listing of a generated site in each flavor and compare with the ground truth.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use confluence_sim::{DcAuth, Flavor, RunningSim, SimOptions, SiteSize, TruthDoc};
use serde_json::Value;

use crate::client::{Client, enc};

/// What the crawler found for one document (the truth's fields, compared one by one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub space_key: String,
    pub readers: Vec<String>,
    pub parent_id: Option<String>,
    pub ancestor_ids: Vec<String>,
    pub labels: Vec<String>,
    pub version: u32,
    /// Body text (plain) or downloaded file bytes (lossy UTF-8).
    pub content: String,
    pub file_size: Option<u64>,
}

struct Identity {
    /// Active users, by the flavor's listing identifier.
    active: BTreeSet<String>,
    /// DC user key → user name.
    keys: HashMap<String, String>,
    groups: HashMap<String, BTreeSet<String>>,
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut rest = s;
    while !rest.is_empty() {
        if !in_tag && rest.starts_with("<![CDATA[") {
            let end = rest.find("]]>").unwrap_or(rest.len());
            out.push_str(&rest[9..end]);
            rest = rest.get(end + 3..).unwrap_or("");
            continue;
        }
        let ch = rest.chars().next().unwrap_or(' ');
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
        rest = &rest[ch.len_utf8()..];
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

async fn identities(c: &Client, flavor: Flavor) -> Identity {
    let mut id = Identity {
        active: BTreeSet::new(),
        keys: HashMap::new(),
        groups: HashMap::new(),
    };
    match flavor {
        Flavor::Cloud => {
            let mut start = 0;
            loop {
                let (s, v) = c
                    .json(&format!(
                        "{}/rest/api/3/users/search?startAt={start}&maxResults=50",
                        c.host
                    ))
                    .await;
                assert_eq!(s, 200);
                let rows = v.as_array().cloned().unwrap_or_default();
                if rows.is_empty() {
                    break;
                }
                start += rows.len();
                for u in rows {
                    if u["active"] == true {
                        id.active
                            .insert(u["accountId"].as_str().unwrap_or("").to_owned());
                    }
                }
            }
        }
        Flavor::DataCenter => {
            for u in c.all("/user/list?limit=200").await {
                id.keys.insert(
                    u["userKey"].as_str().unwrap_or("").into(),
                    u["username"].as_str().unwrap_or("").into(),
                );
            }
            for u in c.all("/admin/users/list/active?limit=200").await {
                id.active
                    .insert(u["username"].as_str().unwrap_or("").into());
            }
        }
        Flavor::Server => {
            let mut start = 0;
            loop {
                let (s, v) = c.json(&format!("{}/rest/extender/1.0/user/getUsersWithConfluenceAccess?showExtendedDetails=true&startAt={start}&maxResults=1000", c.base)).await;
                assert_eq!(s, 200);
                let rows = v["users"].as_array().cloned().unwrap_or_default();
                if rows.is_empty() {
                    break;
                }
                start += rows.len();
                for u in rows {
                    if u["hasAccessToUseConfluence"] == true {
                        id.active.insert(u["name"].as_str().unwrap_or("").into());
                    }
                }
            }
        }
    }
    id
}

async fn members(c: &Client, flavor: Flavor, ids: &mut Identity, group: &str) -> BTreeSet<String> {
    if let Some(m) = ids.groups.get(group) {
        return m.clone();
    }
    let rows = if flavor == Flavor::Cloud {
        c.all(&format!("/group/{}/membersByGroupId?limit=200", group))
            .await
    } else {
        c.all(&format!(
            "/group/{}/member?limit=200",
            enc(group).replace('+', "%20")
        ))
        .await
    };
    let key = if flavor == Flavor::Cloud {
        "accountId"
    } else {
        "username"
    };
    let m: BTreeSet<String> = rows
        .iter()
        .map(|u| u[key].as_str().unwrap_or("").to_owned())
        .collect();
    ids.groups.insert(group.to_owned(), m.clone());
    m
}

async fn space_readers(
    c: &Client,
    flavor: Flavor,
    ids: &mut Identity,
    key: &str,
) -> BTreeSet<String> {
    let mut users = BTreeSet::new();
    let mut groups = Vec::new();
    let mut anonymous = false;
    match flavor {
        Flavor::Cloud => {
            let v = c
                .ok(&format!("/space/{}?expand=permissions", enc(key)))
                .await;
            for p in v["permissions"].as_array().cloned().unwrap_or_default() {
                if p["operation"]["operation"] != "read" || p["operation"]["targetType"] != "space"
                {
                    continue;
                }
                anonymous |= p["anonymousAccess"] == true;
                for u in p["subjects"]["user"]["results"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                {
                    users.insert(u["accountId"].as_str().unwrap_or("").to_owned());
                }
                for g in p["subjects"]["group"]["results"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                {
                    groups.push(g["id"].as_str().unwrap_or("").to_owned());
                }
            }
        }
        Flavor::DataCenter => {
            let v = c.ok(&format!("/space/{}/permissions", enc(key))).await;
            for p in v.as_array().cloned().unwrap_or_default() {
                if p["operation"]["operationKey"] != "read" {
                    continue;
                }
                match p["subject"]["type"].as_str() {
                    Some("user") => {
                        let k = p["subject"]["userKey"].as_str().unwrap_or("");
                        users.insert(ids.keys.get(k).cloned().unwrap_or_default());
                    }
                    Some("group") => {
                        groups.push(p["subject"]["name"].as_str().unwrap_or("").to_owned())
                    }
                    _ => {}
                }
            }
            let anon = c
                .ok(&format!("/space/{}/permissions/anonymous", enc(key)))
                .await;
            anonymous = anon.as_array().is_some_and(|a| !a.is_empty());
        }
        Flavor::Server => {
            let (s, v) = c
                .json(&format!(
                    "{}/rest/extender/1.0/permission/space/{}/getSpacePermissionActors/VIEWSPACE",
                    c.base,
                    enc(key)
                ))
                .await;
            assert_eq!(s, 200);
            let p = &v["permissions"]["VIEWSPACE"];
            anonymous = p["anonymousAccess"] == true;
            for u in p["users"].as_array().cloned().unwrap_or_default() {
                users.insert(u.as_str().unwrap_or("").to_owned());
            }
            for g in p["groups"].as_array().cloned().unwrap_or_default() {
                groups.push(g.as_str().unwrap_or("").to_owned());
            }
        }
    }
    if anonymous {
        return ids.active.clone();
    }
    for g in groups {
        users.extend(members(c, flavor, ids, &g).await);
    }
    users.intersection(&ids.active).cloned().collect()
}

/// A read restriction: (user identifiers, group identifiers for member listings).
type Restriction = (Vec<String>, Vec<String>);

fn restriction_of(flavor: Flavor, v: &Value) -> Restriction {
    let r = &v["restrictions"]["read"]["restrictions"];
    let ukey = if flavor == Flavor::Cloud {
        "accountId"
    } else {
        "username"
    };
    let gkey = if flavor == Flavor::Cloud {
        "id"
    } else {
        "name"
    };
    let users = r["user"]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|u| u[ukey].as_str().unwrap_or("").to_owned())
        .collect();
    let groups = r["group"]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|g| g[gkey].as_str().unwrap_or("").to_owned())
        .collect();
    (users, groups)
}

async fn apply_layers(
    c: &Client,
    flavor: Flavor,
    ids: &mut Identity,
    base: &BTreeSet<String>,
    layers: &[&Restriction],
) -> Vec<String> {
    let mut out = base.clone();
    for (users, groups) in layers {
        if users.is_empty() && groups.is_empty() {
            continue;
        }
        let mut allowed: BTreeSet<String> = users.iter().cloned().collect();
        for g in groups {
            allowed.extend(members(c, flavor, ids, g).await);
        }
        out = out.intersection(&allowed).cloned().collect();
    }
    out.into_iter().collect()
}

/// Crawls the whole site the way a connector would, using only documented routes.
pub async fn crawl(c: &Client, flavor: Flavor, download: bool) -> Vec<Found> {
    let mut ids = identities(c, flavor).await;
    let mut out = Vec::new();
    let spaces = c.all("/space?limit=100").await;
    let expand = "ancestors,version,metadata.labels,restrictions.read.restrictions.user,restrictions.read.restrictions.group,body.storage";
    for sp in spaces {
        let key = sp["key"].as_str().unwrap_or("").to_owned();
        let readers = space_readers(c, flavor, &mut ids, &key).await;
        let desc = c
            .ok(&format!("/space/{}?expand=description.plain", enc(&key)))
            .await;
        out.push(Found {
            id: sp["id"].to_string(),
            kind: "space".into(),
            title: sp["name"].as_str().unwrap_or("").into(),
            space_key: key.clone(),
            readers: readers.iter().cloned().collect(),
            parent_id: None,
            ancestor_ids: Vec::new(),
            labels: Vec::new(),
            version: 1,
            content: desc["description"]["plain"]["value"]
                .as_str()
                .unwrap_or("")
                .into(),
            file_size: None,
        });
        let mut items = Vec::new();
        for ty in ["page", "blogpost"] {
            let cql = format!("space = \"{key}\" and type = {ty}");
            items.extend(
                c.all(&format!(
                    "/content/search?cql={}&expand={expand}&limit=50",
                    enc(&cql)
                ))
                .await,
            );
        }
        let restrictions: HashMap<String, Restriction> = items
            .iter()
            .map(|v| {
                (
                    v["id"].as_str().unwrap_or("").to_owned(),
                    restriction_of(flavor, v),
                )
            })
            .collect();
        for v in &items {
            let id = v["id"].as_str().unwrap_or("").to_owned();
            let ancestors: Vec<String> = v["ancestors"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|a| a["id"].as_str().unwrap_or("").to_owned())
                .collect();
            let mut layers: Vec<&Restriction> = ancestors
                .iter()
                .filter_map(|a| restrictions.get(a))
                .collect();
            layers.push(&restrictions[&id]);
            let readers = apply_layers(c, flavor, &mut ids, &readers, &layers).await;
            let mut labels: Vec<String> = v["metadata"]["labels"]["results"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|l| l["name"].as_str().unwrap_or("").to_owned())
                .collect();
            labels.sort();
            out.push(Found {
                id: id.clone(),
                kind: v["type"].as_str().unwrap_or("").into(),
                title: v["title"].as_str().unwrap_or("").into(),
                space_key: key.clone(),
                readers: readers.clone(),
                parent_id: ancestors.last().cloned(),
                ancestor_ids: ancestors.clone(),
                labels,
                version: v["version"]["number"].as_u64().unwrap_or(0) as u32,
                content: strip_tags(v["body"]["storage"]["value"].as_str().unwrap_or("")),
                file_size: None,
            });
            let mut container_anc = ancestors.clone();
            container_anc.push(id.clone());
            for a in c
                .all(&format!(
                    "/content/{id}/child/attachment?limit=100&expand=version"
                ))
                .await
            {
                let size = a["extensions"]["fileSize"].as_u64();
                let mut content = String::new();
                if download {
                    let url = format!(
                        "{}{}",
                        c.base,
                        a["_links"]["download"].as_str().unwrap_or("")
                    );
                    let r = c.raw(&url).await;
                    assert_eq!(r.status().as_u16(), 200, "download {url}");
                    let bytes = r.bytes().await.expect("bytes");
                    assert_eq!(Some(bytes.len() as u64), size, "size of {url}");
                    content = String::from_utf8_lossy(&bytes).into_owned();
                }
                out.push(Found {
                    id: a["id"].as_str().unwrap_or("").into(),
                    kind: "attachment".into(),
                    title: a["title"].as_str().unwrap_or("").into(),
                    space_key: key.clone(),
                    readers: readers.clone(),
                    parent_id: Some(id.clone()),
                    ancestor_ids: container_anc.clone(),
                    labels: Vec::new(),
                    version: a["version"]["number"].as_u64().unwrap_or(0) as u32,
                    content,
                    file_size: size,
                });
            }
            for cm in c
                .all(&format!(
                    "/content/{id}/child/comment?depth=all&limit=100&expand=body.storage,version"
                ))
                .await
            {
                out.push(Found {
                    id: cm["id"].as_str().unwrap_or("").into(),
                    kind: "comment".into(),
                    title: cm["title"].as_str().unwrap_or("").into(),
                    space_key: key.clone(),
                    readers: readers.clone(),
                    parent_id: Some(id.clone()),
                    ancestor_ids: container_anc.clone(),
                    labels: Vec::new(),
                    version: cm["version"]["number"].as_u64().unwrap_or(0) as u32,
                    content: strip_tags(cm["body"]["storage"]["value"].as_str().unwrap_or("")),
                    file_size: None,
                });
            }
        }
    }
    out
}

/// Asserts that a crawl found exactly the truth.
pub fn assert_matches_truth(found: &[Found], truth: &[TruthDoc], downloaded: bool) {
    let f: BTreeMap<&str, &Found> = found.iter().map(|d| (d.id.as_str(), d)).collect();
    let t: BTreeMap<&str, &TruthDoc> = truth.iter().map(|d| (d.id.as_str(), d)).collect();
    assert_eq!(f.len(), found.len(), "duplicate ids in the crawl");
    let missing: Vec<_> = t.keys().filter(|k| !f.contains_key(*k)).collect();
    let extra: Vec<_> = f.keys().filter(|k| !t.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    for (id, td) in &t {
        let fd = f[id];
        assert_eq!(fd.kind, td.r#type, "{id}");
        assert_eq!(fd.title, td.title, "{id}");
        assert_eq!(fd.space_key, td.space_key, "{id}");
        assert_eq!(fd.readers, td.readers, "readers of {id} ({})", td.title);
        assert_eq!(fd.parent_id, td.parent_id, "parent of {id}");
        assert_eq!(fd.ancestor_ids, td.ancestor_ids, "ancestors of {id}");
        assert_eq!(fd.labels, td.labels, "labels of {id}");
        assert_eq!(fd.version, td.version, "version of {id}");
        assert_eq!(fd.file_size, td.file_size, "size of {id}");
        if let Some(text) = &td.text
            && (td.r#type != "attachment" || downloaded)
        {
            let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                norm(&fd.content).contains(&norm(text)),
                "{id} ({}) lacks {text:?}",
                td.r#type
            );
        }
    }
}

async fn crawl_and_compare(opts: SimOptions, download: bool) -> RunningSim {
    let sim = confluence_sim::start(opts).await.expect("start");
    let c = Client::for_sim(&sim);
    let found = crawl(&c, sim.flavor(), download).await;
    let truth = sim.truth();
    assert_eq!(sim.document_count(), truth.len());
    assert!(
        truth.iter().any(|d| d.r#type == "attachment")
            && truth.iter().any(|d| d.r#type == "comment")
    );
    assert_matches_truth(&found, &truth, download);
    sim
}

#[tokio::test]
async fn cloud_tiny_crawl_matches_truth() {
    let sim = crawl_and_compare(
        SimOptions {
            flavor: Flavor::Cloud,
            ..SimOptions::default()
        },
        true,
    )
    .await;
    sim.shutdown().await;
}

#[tokio::test]
async fn server_tiny_crawl_with_context_path_matches_truth() {
    let opts = SimOptions {
        flavor: Flavor::Server,
        context_path: Some("/confluence".into()),
        ..SimOptions::default()
    };
    let sim = crawl_and_compare(opts, true).await;
    assert!(sim.base_url().ends_with("/confluence"));
    sim.shutdown().await;
}

#[tokio::test]
async fn datacenter_tiny_crawl_with_pat_matches_truth() {
    let opts = SimOptions {
        flavor: Flavor::DataCenter,
        data_center_auth: DcAuth::Pat,
        ..SimOptions::default()
    };
    let sim = crawl_and_compare(opts, true).await;
    assert!(sim.credentials().personal_access_token.is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn datacenter_small_crawl_with_basic_matches_truth() {
    let opts = SimOptions {
        flavor: Flavor::DataCenter,
        size: SiteSize::Small,
        seed: 3,
        ..SimOptions::default()
    };
    let sim = crawl_and_compare(opts, false).await;
    let truth = sim.truth();
    // The small site has an archived space, a space and a page the crawler cannot see.
    assert!(!truth.iter().any(|d| d.space_key == "BOARD"));
    assert!(truth.iter().any(|d| d.space_key == "ARCHIVE"));
    assert!(!truth.iter().any(|d| d.title == "Private draft"));
    sim.shutdown().await;
}

#[tokio::test]
async fn cloud_small_crawl_downloads_the_big_file() {
    let opts = SimOptions {
        flavor: Flavor::Cloud,
        size: SiteSize::Small,
        seed: 5,
        ..SimOptions::default()
    };
    let sim = crawl_and_compare(opts, true).await;
    assert!(
        sim.truth()
            .iter()
            .any(|d| d.file_size.unwrap_or(0) > 10 * 1024 * 1024)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn cloud_tiny_crawl_with_api_download_links_matches_truth() {
    let opts = SimOptions {
        flavor: Flavor::Cloud,
        api_download_links: true,
        ..SimOptions::default()
    };
    let sim = crawl_and_compare(opts, true).await;
    sim.shutdown().await;
}
