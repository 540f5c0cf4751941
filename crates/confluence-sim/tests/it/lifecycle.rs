//! What an incremental sync meets between two crawls: trash, purge and restore, moves, edits
//! and re-uploads, permission changes without version bumps, CQL dates in the caller's time
//! zone, the Cloud search lag, and the per-endpoint request counts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use confluence_sim::{AdminError, Flavor, RunningSim, SimOptions, SiteSize, TruthDoc};
use serde_json::Value;

use crate::client::{Client, enc, start};
use crate::crawl::{assert_matches_truth, crawl};

// Tiny site (seed 7) items the tests use.
const ENG_HOME: &str = "98305";
const ARCH: &str = "98306";
const CATALOGUE: &str = "98309";
const DESIGN: &str = "98310";
const SECURITY: &str = "98311";
const CONTACTS: &str = "98312";
const CALENDAR: &str = "98314";
const WEEKLY: &str = "98315";
const NOTES_BLOG: &str = "98318";
const DOCS_HOME: &str = "98321";
const GETTING_STARTED: &str = "98323";
const ARCH_COMMENT: &str = "98350";
const WEEKLY_COMMENT: &str = "98355";

/// A Cloud attachment id (`att` + digits) or a Server/DC one (digits).
fn att(flavor: Flavor, digits: &str) -> String {
    if flavor == Flavor::Cloud {
        format!("att{digits}")
    } else {
        digits.to_owned()
    }
}

fn doc<'a>(truth: &'a [TruthDoc], id: &str) -> Option<&'a TruthDoc> {
    truth.iter().find(|d| d.id == id)
}

/// `(version.number, version.when)` of a content item, read through the API.
async fn version_of(c: &Client, id: &str) -> (u64, String) {
    let v = c.ok(&format!("/content/{id}?expand=version")).await;
    (
        v["version"]["number"].as_u64().unwrap_or(0),
        v["version"]["when"].as_str().unwrap_or("").to_owned(),
    )
}

/// Ids a CQL content search returns (every page).
async fn search_ids(c: &Client, cql: &str) -> Vec<String> {
    c.all(&format!("/content/search?cql={}&limit=100", enc(cql)))
        .await
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect()
}

async fn ids_of(c: &Client, path: &str) -> Vec<String> {
    c.all(path)
        .await
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect()
}

fn ancestor_ids(v: &Value) -> Vec<String> {
    v["ancestors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn assert_crawl_matches(sim: &RunningSim, download: bool) {
    let c = Client::for_sim(sim);
    let found = crawl(&c, sim.flavor(), download).await;
    assert_matches_truth(&found, &sim.truth(), download);
}

#[tokio::test]
async fn trash_hides_content_and_restore_brings_it_back_unchanged() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let admin = sim.admin();
    let c = Client::for_sim(&sim);
    let (att_docx, att_xlsx) = (att(Flavor::Cloud, "98335"), att(Flavor::Cloud, "98336"));
    let before = version_of(&c, CATALOGUE).await;
    let att_before = version_of(&c, &att_docx).await;

    admin.delete_content(CATALOGUE).expect("trash");
    assert_eq!(c.api(&format!("/content/{CATALOGUE}")).await.0, 404);
    let trashed = c
        .ok(&format!(
            "/content/{CATALOGUE}?status=trashed&expand=version"
        ))
        .await;
    assert_eq!(trashed["status"], "trashed");
    assert_eq!(trashed["version"]["number"].as_u64(), Some(before.0));
    assert_eq!(
        c.api(&format!("/content/{CATALOGUE}?status=any")).await.0,
        200
    );
    assert_eq!(
        c.api(&format!("/content/{CATALOGUE}?status=current"))
            .await
            .0,
        404
    );
    assert_eq!(
        ids_of(&c, "/content?type=page&spaceKey=ENG&status=trashed").await,
        vec![CATALOGUE]
    );
    assert!(
        !ids_of(&c, "/content?type=page&spaceKey=ENG")
            .await
            .contains(&CATALOGUE.to_owned())
    );
    assert!(
        !ids_of(&c, "/space/ENG/content/page")
            .await
            .contains(&CATALOGUE.to_owned())
    );
    // Its child page moved up to its parent; its attachments went to the trash with it.
    let arch_children = ids_of(&c, &format!("/content/{ARCH}/child/page")).await;
    assert!(!arch_children.contains(&CATALOGUE.to_owned()));
    assert!(arch_children.contains(&DESIGN.to_owned()));
    assert_eq!(
        c.api(&format!("/content/{CATALOGUE}/child/attachment"))
            .await
            .0,
        404
    );
    assert_eq!(c.api(&format!("/content/{att_docx}")).await.0, 404);
    assert!(
        search_ids(&c, "title = \"Service catalogue\"")
            .await
            .is_empty()
    );
    assert!(
        search_ids(&c, &format!("container = {CATALOGUE}"))
            .await
            .is_empty()
    );
    let truth = sim.truth();
    for gone in [CATALOGUE, att_docx.as_str(), att_xlsx.as_str()] {
        assert!(doc(&truth, gone).is_none(), "{gone} still in the truth");
    }
    assert_eq!(
        doc(&truth, DESIGN).and_then(|d| d.parent_id.clone()),
        Some(ARCH.to_owned())
    );
    assert!(matches!(
        admin.restore_content(&att_docx),
        Err(AdminError::Invalid(_))
    ));
    assert!(matches!(
        admin.restore_content(ARCH),
        Err(AdminError::Invalid(_))
    ));
    assert_crawl_matches(&sim, false).await;

    admin.restore_content(CATALOGUE).expect("restore");
    // Back under its old parent, with the same version and last-modified time.
    let back = c
        .ok(&format!("/content/{CATALOGUE}?expand=version,ancestors"))
        .await;
    assert_eq!(back["status"], "current");
    assert_eq!(
        (
            back["version"]["number"].as_u64().unwrap_or(0),
            back["version"]["when"].as_str().unwrap_or("").to_owned()
        ),
        before
    );
    assert_eq!(ancestor_ids(&back), vec![ENG_HOME, ARCH]);
    assert_eq!(version_of(&c, &att_docx).await, att_before);
    let atts = ids_of(&c, &format!("/content/{CATALOGUE}/child/attachment")).await;
    assert_eq!(atts, vec![att_docx.clone(), att_xlsx.clone()]);
    assert_eq!(
        search_ids(&c, "title = \"Service catalogue\"").await,
        vec![CATALOGUE]
    );
    let truth = sim.truth();
    assert!(doc(&truth, CATALOGUE).is_some() && doc(&truth, &att_xlsx).is_some());
    // The child page that moved up stays where it went.
    assert_eq!(
        doc(&truth, DESIGN).and_then(|d| d.parent_id.clone()),
        Some(ARCH.to_owned())
    );
    assert!(matches!(
        admin.restore_content(CATALOGUE),
        Err(AdminError::Invalid(_))
    ));
    assert_crawl_matches(&sim, true).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn purge_is_for_good_and_restore_falls_back_to_the_top_of_the_space() {
    let flavor = Flavor::Server;
    let sim = start(flavor, SiteSize::Tiny).await;
    let admin = sim.admin();
    let c = Client::for_sim(&sim);

    // A trashed page whose old parent is purged comes back at the top of its space.
    admin.delete_content(DESIGN).expect("trash design");
    admin
        .purge_content(CATALOGUE)
        .expect("purge a current page");
    for status in ["any", "trashed", "current"] {
        assert_eq!(
            c.api(&format!("/content/{CATALOGUE}?status={status}"))
                .await
                .0,
            404
        );
    }
    assert_eq!(
        c.api(&format!("/content/{}?status=any", att(flavor, "98335")))
            .await
            .0,
        404,
        "attachments are purged with their page"
    );
    assert!(matches!(
        admin.restore_content(CATALOGUE),
        Err(AdminError::NotFound(_))
    ));
    admin.restore_content(DESIGN).expect("restore design");
    let design = c.ok(&format!("/content/{DESIGN}?expand=ancestors")).await;
    assert!(ancestor_ids(&design).is_empty(), "{design}");
    assert!(
        ids_of(&c, "/space/ENG/content/page?depth=root")
            .await
            .contains(&DESIGN.to_owned())
    );

    // A trashed page whose trashed parent is restored first returns under it.
    admin.delete_content(CONTACTS).expect("trash contacts");
    admin.delete_content(SECURITY).expect("trash security");
    admin.restore_content(SECURITY).expect("restore security");
    admin.restore_content(CONTACTS).expect("restore contacts");
    let contacts = c.ok(&format!("/content/{CONTACTS}?expand=ancestors")).await;
    assert_eq!(ancestor_ids(&contacts), vec![ENG_HOME, SECURITY]);

    // An attachment goes to the trash on its own and comes back; purged, it is gone.
    let pdf = att(flavor, "98334");
    admin.delete_content(&pdf).expect("trash attachment");
    assert!(
        !ids_of(&c, &format!("/content/{ARCH}/child/attachment"))
            .await
            .contains(&pdf)
    );
    assert_eq!(
        c.ok(&format!("/content/{pdf}?status=trashed")).await["status"],
        "trashed"
    );
    admin.restore_content(&pdf).expect("restore attachment");
    assert!(
        ids_of(&c, &format!("/content/{ARCH}/child/attachment"))
            .await
            .contains(&pdf)
    );
    admin.delete_content(&pdf).expect("trash attachment again");
    admin.purge_content(&pdf).expect("purge attachment");
    assert!(matches!(
        admin.restore_content(&pdf),
        Err(AdminError::NotFound(_))
    ));

    // Comments are deleted for good, as in Confluence.
    admin.delete_content(ARCH_COMMENT).expect("delete comment");
    assert_eq!(
        c.api(&format!("/content/{ARCH_COMMENT}?status=any"))
            .await
            .0,
        404
    );
    assert!(matches!(
        admin.restore_content(ARCH_COMMENT),
        Err(AdminError::NotFound(_))
    ));

    // A blog post takes its comments to the trash and back.
    admin.delete_content(WEEKLY).expect("trash blog post");
    assert_eq!(c.api(&format!("/content/{WEEKLY_COMMENT}")).await.0, 404);
    admin.restore_content(WEEKLY).expect("restore blog post");
    assert_eq!(
        ids_of(&c, &format!("/content/{WEEKLY}/child/comment")).await,
        vec![WEEKLY_COMMENT]
    );

    // A page cannot come back while another page holds its title.
    admin.delete_content(CALENDAR).expect("trash");
    admin
        .add_page("ENG", None, "Team calendar archive", "<p>new</p>")
        .expect("reuse the title");
    assert!(matches!(
        admin.restore_content(CALENDAR),
        Err(AdminError::Invalid(_))
    ));

    let truth = sim.truth();
    for gone in [CATALOGUE, ARCH_COMMENT, CALENDAR, pdf.as_str()] {
        assert!(doc(&truth, gone).is_none(), "{gone} still in the truth");
    }
    assert_eq!(doc(&truth, DESIGN).map(|d| d.parent_id.clone()), Some(None));
    assert_crawl_matches(&sim, true).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn moves_keep_versions_and_carry_the_subtree_across_spaces() {
    let flavor = Flavor::Cloud;
    let sim = start(flavor, SiteSize::Tiny).await;
    let admin = sim.admin();
    let c = Client::for_sim(&sim);
    let docx = att(flavor, "98335");
    let watched = [CATALOGUE, DESIGN, docx.as_str()];
    let mut before = Vec::new();
    for id in watched {
        before.push(version_of(&c, id).await);
    }

    // Under a page of another space: the subtree follows, every ancestor list changes.
    admin
        .move_page(CATALOGUE, Some(GETTING_STARTED))
        .expect("move across spaces");
    for (id, b) in watched.iter().zip(&before) {
        assert_eq!(&version_of(&c, id).await, b, "{id} changed version");
    }
    let design = c
        .ok(&format!("/content/{DESIGN}?expand=ancestors,space"))
        .await;
    assert_eq!(
        ancestor_ids(&design),
        vec![DOCS_HOME, GETTING_STARTED, CATALOGUE]
    );
    assert_eq!(design["space"]["key"], "DOCS");
    let found = search_ids(
        &c,
        &format!("space = DOCS and ancestor = {GETTING_STARTED}"),
    )
    .await;
    for id in watched {
        assert!(found.contains(&id.to_owned()), "{id} not found in DOCS");
    }
    assert!(
        search_ids(&c, &format!("type = page and ancestor = {ARCH}"))
            .await
            .is_empty()
    );
    let truth = sim.truth();
    let d = doc(&truth, &docx).expect("attachment");
    assert_eq!(d.space_key, "DOCS");
    assert_eq!(d.ancestor_ids, vec![DOCS_HOME, GETTING_STARTED, CATALOGUE]);

    // Blog posts have no parent; pages do not go under blog posts.
    assert!(matches!(
        admin.move_page(WEEKLY, Some(ENG_HOME)),
        Err(AdminError::Invalid(_))
    ));
    assert!(matches!(
        admin.move_page(SECURITY, Some(NOTES_BLOG)),
        Err(AdminError::Invalid(_))
    ));
    assert!(matches!(
        admin.move_page(CATALOGUE, Some(DESIGN)),
        Err(AdminError::Invalid(_))
    ));
    // A title clash in the target space refuses the move and changes nothing.
    let clash = admin
        .add_page(
            "ENG",
            None,
            "API reference",
            "<p>same title as a DOCS page</p>",
        )
        .expect("add");
    assert!(matches!(
        admin.move_page(&clash, Some(DOCS_HOME)),
        Err(AdminError::Invalid(_))
    ));
    let clash_doc = c
        .ok(&format!("/content/{clash}?expand=ancestors,space"))
        .await;
    assert!(ancestor_ids(&clash_doc).is_empty());
    assert_eq!(clash_doc["space"]["key"], "ENG");

    // To the top of its (new) space.
    admin.move_page(DESIGN, None).expect("move to the top");
    let design = c
        .ok(&format!("/content/{DESIGN}?expand=ancestors,space"))
        .await;
    assert!(ancestor_ids(&design).is_empty());
    assert_eq!(design["space"]["key"], "DOCS");
    assert_eq!(version_of(&c, DESIGN).await, before[1]);
    assert_crawl_matches(&sim, true).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn edits_bump_versions_and_reuploads_change_the_file() {
    let flavor = Flavor::Server;
    let sim = start(flavor, SiteSize::Tiny).await;
    let admin = sim.admin();
    let c = Client::for_sim(&sim);

    let (n, when) = version_of(&c, ARCH).await;
    let v = admin
        .update_page(ARCH, None, Some("<p>Rewritten overview.</p>"))
        .expect("edit");
    assert_eq!(u64::from(v), n + 1);
    let (n2, when2) = version_of(&c, ARCH).await;
    assert_eq!(n2, n + 1);
    assert!(when2 > when, "{when2} <= {when}");
    assert!(
        search_ids(&c, "lastmodified >= now(\"-5m\")")
            .await
            .contains(&ARCH.to_owned())
    );

    let (n, when) = version_of(&c, ARCH_COMMENT).await;
    admin
        .update_page(ARCH_COMMENT, None, Some("<p>Edited comment.</p>"))
        .expect("edit comment");
    let (n2, when2) = version_of(&c, ARCH_COMMENT).await;
    assert_eq!(n2, n + 1);
    assert!(when2 > when);

    // Re-upload: same id, new version, new bytes whose text names the new version.
    let csv = att(flavor, "98339");
    let download = |id: String| {
        let c = &c;
        async move {
            let v = c.ok(&format!("/content/{id}?expand=version")).await;
            let link = v["_links"]["download"].as_str().unwrap_or("").to_owned();
            let r = c.raw(&format!("{}{link}", c.base)).await;
            assert_eq!(r.status().as_u16(), 200, "download {link}");
            r.bytes().await.expect("bytes").to_vec()
        }
    };
    let old_text = doc(&sim.truth(), &csv)
        .and_then(|d| d.text.clone())
        .expect("text");
    let old_bytes = download(csv.clone()).await;
    assert!(String::from_utf8_lossy(&old_bytes).contains(&old_text));
    let (n, when) = version_of(&c, &csv).await;
    let v = admin.update_attachment(&csv, None).expect("re-upload");
    assert_eq!(u64::from(v), n + 1);
    let (n2, when2) = version_of(&c, &csv).await;
    assert_eq!(n2, n + 1);
    assert!(when2 > when);
    let new_text = doc(&sim.truth(), &csv)
        .and_then(|d| d.text.clone())
        .expect("text");
    assert_ne!(new_text, old_text);
    let new_bytes = download(csv.clone()).await;
    assert_ne!(new_bytes, old_bytes);
    assert_eq!(new_bytes.len(), old_bytes.len(), "same size unless asked");
    let new_s = String::from_utf8_lossy(&new_bytes);
    assert!(new_s.contains(&new_text) && !new_s.contains(&old_text));
    assert_crawl_matches(&sim, true).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn permission_changes_leave_versions_and_lastmodified_alone() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let admin = sim.admin();
    let c = Client::for_sim(&sim);
    let truth = sim.truth();
    let cursor = (DateTime::<Utc>::from(std::time::SystemTime::now())
        - chrono::Duration::minutes(1))
    .format("%Y-%m-%d %H:%M")
    .to_string();
    let delta = format!("lastmodified >= \"{cursor}\"");
    assert!(search_ids(&c, &delta).await.is_empty());
    let mut before = Vec::new();
    for id in [ARCH, SECURITY, GETTING_STARTED] {
        before.push(version_of(&c, id).await);
    }
    let crawler = c.ok("/user/current").await["accountId"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let someone = doc(&truth, ARCH)
        .and_then(|d| d.readers.iter().find(|r| r.as_str() != crawler).cloned())
        .expect("a reader");

    admin
        .set_read_restriction(ARCH, &[&crawler, &someone], &[])
        .expect("restrict");
    admin
        .set_read_restriction(SECURITY, &[&crawler], &["engineering"])
        .expect("restrict by group");
    admin
        .set_space_permission("DOCS", &[&crawler], &["engineering"], false)
        .expect("space permission");
    admin
        .add_group_member("security-team", &someone)
        .expect("join");
    admin
        .remove_group_member("engineering", &someone)
        .expect("leave");
    admin.add_label(GETTING_STARTED, "reviewed").expect("label");

    assert!(
        search_ids(&c, &delta).await.is_empty(),
        "permission changes must not show in a lastmodified delta"
    );
    for (id, b) in [ARCH, SECURITY, GETTING_STARTED].iter().zip(&before) {
        assert_eq!(&version_of(&c, id).await, b, "{id}");
    }
    let after = sim.truth();
    for d in &after {
        if let Some(old) = doc(&truth, &d.id) {
            assert_eq!(d.version, old.version, "version of {}", d.id);
        }
    }
    assert_ne!(
        doc(&after, ARCH).map(|d| d.readers.clone()),
        doc(&truth, ARCH).map(|d| d.readers.clone()),
        "the readers did change"
    );
    // The control: an edit does show.
    admin.update_page(ARCH, None, None).expect("edit");
    assert_eq!(search_ids(&c, &delta).await, vec![ARCH]);
    assert_crawl_matches(&sim, false).await;
    sim.shutdown().await;
}

/// The wall-clock minute of an ISO instant in a zone, as a CQL literal.
fn local_minute(iso: &str, tz: &str, plus_minutes: i64) -> String {
    let tz: chrono_tz::Tz = tz.parse().expect("zone");
    let t: DateTime<Utc> = iso.parse().expect("ISO instant");
    (t + chrono::Duration::minutes(plus_minutes))
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[tokio::test]
async fn cql_dates_follow_the_callers_time_zone() {
    let sim = confluence_sim::start(SimOptions {
        time_zone: "Asia/Kolkata".into(),
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let admin = sim.admin();
    let c = Client::for_sim(&sim);
    let me = c.ok("/user/current").await;
    assert_eq!(me["timeZone"], "Asia/Kolkata");
    let account = me["accountId"].as_str().unwrap_or("").to_owned();
    assert_eq!(
        c.ok(&format!("/user?accountId={account}")).await["timeZone"],
        "Asia/Kolkata"
    );

    let id = admin
        .add_page("ENG", None, "Zoned page", "<p>zones</p>")
        .expect("add");
    let (_, when) = version_of(&c, &id).await;
    assert!(when.ends_with('Z'), "timestamps stay UTC: {when}");
    let query = |lit: &str| format!("title = \"Zoned page\" and lastmodified >= \"{lit}\"");
    let kolkata = local_minute(&when, "Asia/Kolkata", 0);
    let utc = local_minute(&when, "UTC", 0);
    assert_eq!(search_ids(&c, &query(&kolkata)).await, vec![id.clone()]);
    assert!(
        search_ids(&c, &query(&local_minute(&when, "Asia/Kolkata", 1)))
            .await
            .is_empty()
    );
    // Read as UTC, the Kolkata wall time is 5 h 30 min in the future.
    admin
        .set_user_time_zone(&account, Some("UTC"))
        .expect("set zone");
    assert_eq!(c.ok("/user/current").await["timeZone"], "UTC");
    assert!(search_ids(&c, &query(&kolkata)).await.is_empty());
    assert_eq!(search_ids(&c, &query(&utc)).await, vec![id.clone()]);
    // Another user's zone.
    admin
        .set_user_time_zone(&account, Some("America/Los_Angeles"))
        .expect("set zone");
    assert_eq!(
        search_ids(&c, &query(&local_minute(&when, "America/Los_Angeles", 0))).await,
        vec![id.clone()]
    );
    assert!(
        search_ids(&c, &query(&local_minute(&when, "America/Los_Angeles", 1)))
            .await
            .is_empty()
    );
    // Back to the site default.
    admin.set_user_time_zone(&account, None).expect("reset");
    assert_eq!(
        admin.user_time_zone(&account).expect("zone"),
        "Asia/Kolkata"
    );
    assert_eq!(search_ids(&c, &query(&kolkata)).await, vec![id.clone()]);
    admin
        .set_default_time_zone("Europe/Berlin")
        .expect("site zone");
    assert_eq!(c.ok("/user/current").await["timeZone"], "Europe/Berlin");
    assert!(matches!(
        admin.set_user_time_zone(&account, Some("Mars/Olympus")),
        Err(AdminError::Invalid(_))
    ));
    assert!(matches!(
        admin.set_default_time_zone("Nowhere"),
        Err(AdminError::Invalid(_))
    ));
    sim.shutdown().await;
    assert!(
        confluence_sim::start(SimOptions {
            time_zone: "Mars/Olympus".into(),
            ..SimOptions::default()
        })
        .await
        .is_err()
    );
}

#[tokio::test]
async fn server_user_objects_carry_no_time_zone_but_cql_uses_it() {
    let sim = confluence_sim::start(SimOptions {
        flavor: Flavor::DataCenter,
        time_zone: "Asia/Kolkata".into(),
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let c = Client::for_sim(&sim);
    let me = c.ok("/user/current").await;
    assert!(me.get("timeZone").is_none(), "{me}");
    let id = sim
        .admin()
        .add_page("ENG", None, "Zoned page", "<p>zones</p>")
        .expect("add");
    let (_, when) = version_of(&c, &id).await;
    let query = |lit: &str| format!("title = \"Zoned page\" and lastmodified >= \"{lit}\"");
    assert_eq!(
        search_ids(&c, &query(&local_minute(&when, "Asia/Kolkata", 0))).await,
        vec![id.clone()]
    );
    assert!(
        search_ids(&c, &query(&local_minute(&when, "Asia/Kolkata", 1)))
            .await
            .is_empty()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn search_lag_hides_changes_from_search_but_not_from_listings() {
    let lag = Duration::from_millis(1500);
    let flavor = Flavor::Cloud;
    let sim = confluence_sim::start(SimOptions {
        search_lag_ms: lag.as_millis() as u64,
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let admin = sim.admin();
    let c = Client::for_sim(&sim);
    let pdf = att(flavor, "98334");
    // Generated content changed long ago: searchable.
    assert_eq!(search_ids(&c, &format!("id = {ARCH}")).await, vec![ARCH]);

    let fresh = admin
        .add_page("ENG", Some(ENG_HOME), "Lagging page", "<p>later</p>")
        .expect("add");
    admin.update_page(ARCH, None, None).expect("edit");
    admin.move_page(CONTACTS, Some(ENG_HOME)).expect("move");
    admin.update_attachment(&pdf, None).expect("re-upload");
    admin.delete_content(CALENDAR).expect("trash");
    admin.restore_content(CALENDAR).expect("restore");
    let changed = [fresh.as_str(), ARCH, CONTACTS, pdf.as_str(), CALENDAR];
    let in_search = |id: &str| {
        let c = &c;
        let id = id.to_owned();
        async move {
            let cql = enc(&format!("id = {id}"));
            let a = search_ids(c, &format!("id = {id}")).await;
            let (_, b) = c.api(&format!("/search?cql={cql}")).await;
            let b = b["results"].as_array().map_or(0, Vec::len);
            assert_eq!(a.len(), b, "both search routes agree on {id}");
            !a.is_empty()
        }
    };
    for id in changed {
        assert!(
            !in_search(id).await,
            "{id} visible to search within the lag"
        );
    }
    assert!(
        in_search(SECURITY).await,
        "unchanged content stays searchable"
    );
    // Listings see every change at once.
    assert!(ids_of(&c, "/space/ENG/content/page").await.contains(&fresh));
    assert!(
        ids_of(
            &c,
            &format!(
                "/content?type=page&spaceKey=ENG&title={}",
                enc("Lagging page")
            )
        )
        .await
        .contains(&fresh)
    );
    let home_children = ids_of(&c, &format!("/content/{ENG_HOME}/child/page")).await;
    assert!(home_children.contains(&fresh) && home_children.contains(&CONTACTS.to_owned()));
    assert!(
        ids_of(&c, &format!("/content/{ARCH}/child/attachment"))
            .await
            .contains(&pdf)
    );
    assert_eq!(c.api(&format!("/content/{fresh}")).await.0, 200);

    tokio::time::sleep(lag + Duration::from_millis(100)).await;
    for id in changed {
        assert!(in_search(id).await, "{id} not searchable after the lag");
    }

    // The lag can be changed at run time (here over HTTP).
    let http = reqwest::Client::new();
    let host = format!("http://127.0.0.1:{}", sim.port());
    let r: Value = http
        .post(format!("{host}/__sim/search-lag"))
        .json(&serde_json::json!({"ms": 0}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(r["ms"], 0);
    assert_eq!(admin.search_lag_ms(), 0);
    let now = admin
        .add_page("ENG", None, "Indexed at once", "<p>now</p>")
        .expect("add");
    assert!(in_search(&now).await);
    admin.set_search_lag_ms(60_000);
    admin.update_page(&now, None, None).expect("edit");
    assert!(!in_search(&now).await);
    assert!(in_search(SECURITY).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn request_counts_per_endpoint_with_bytes() {
    let sim = confluence_sim::start(SimOptions {
        flavor: Flavor::Server,
        context_path: Some("/confluence".into()),
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let admin = sim.admin();
    let c = Client::for_sim(&sim);
    let _ = c.ok("/space").await;
    assert!(!admin.request_counts().is_empty());
    admin.reset_request_counts();
    assert!(admin.request_counts().is_empty());

    let mut bytes = std::collections::BTreeMap::<&str, (u64, u64)>::new();
    let mut get = async |key: &'static str, path: String| {
        let r = c.raw(&format!("{}/rest/api{path}", c.base)).await;
        let n = r.bytes().await.expect("body").len() as u64;
        let e = bytes.entry(key).or_default();
        e.0 += 1;
        e.1 += n;
    };
    get("GET /rest/api/space", "/space".into()).await;
    get("GET /rest/api/space", "/space?limit=1".into()).await;
    get(
        "GET /rest/api/content/{id}/child/attachment",
        format!("/content/{ARCH}/child/attachment"),
    )
    .await;
    get(
        "GET /rest/api/content/{id}/child/attachment",
        format!("/content/{CATALOGUE}/child/attachment?limit=1"),
    )
    .await;
    get(
        "GET /rest/api/content/search",
        format!("/content/search?cql={}", enc("type = page")),
    )
    .await;
    get(
        "GET /rest/api/space/{key}/content/{type}",
        "/space/ENG/content/page".into(),
    )
    .await;
    get("GET /rest/api/content/{id}", "/content/999999".into()).await;
    get(
        "GET /rest/api/group/{name}/member",
        "/group/confluence-users/member".into(),
    )
    .await;
    // Admin routes are not counted.
    let host = format!("http://127.0.0.1:{}", sim.port());
    let http = reqwest::Client::new();
    let listed: Value = http
        .get(format!("{host}/__sim/requests"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let counts = admin.request_counts();
    let mut expected: std::collections::BTreeMap<String, (u64, u64)> =
        bytes.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    // `space/{key}/content/{type}` keeps the literal type.
    if let Some(v) = expected.remove("GET /rest/api/space/{key}/content/{type}") {
        expected.insert("GET /rest/api/space/{key}/content/page".into(), v);
    }
    let got: std::collections::BTreeMap<String, (u64, u64)> = counts
        .iter()
        .map(|(k, v)| (k.clone(), (v.requests, v.bytes)))
        .collect();
    assert_eq!(got, expected);
    assert!(got.values().all(|&(_, b)| b > 0));
    for (k, v) in &counts {
        assert_eq!(
            listed["endpoints"][k]["requests"].as_u64(),
            Some(v.requests)
        );
        assert_eq!(listed["endpoints"][k]["bytes"].as_u64(), Some(v.bytes));
    }
    assert!(listed["count"].as_u64().unwrap_or(0) >= 9);
    let r = http
        .delete(format!("{host}/__sim/requests"))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status().as_u16(), 200);
    assert!(admin.request_counts().is_empty());
    sim.shutdown().await;

    // Cloud: the `/wiki` prefix goes, attachment ids and downloads are templated.
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let pdf = att(Flavor::Cloud, "98334");
    let v = c.ok(&format!("/content/{pdf}")).await;
    let link = v["_links"]["download"].as_str().unwrap_or("").to_owned();
    let r = c.raw(&format!("{}{link}", c.base)).await;
    assert_eq!(r.status().as_u16(), 200);
    let file = r.bytes().await.expect("file").len() as u64;
    let _ = c.api(&format!("/search?cql={}", enc("type = page"))).await;
    let _ = c
        .api("/group/00000000-0000-0000-0000-000000000000/membersByGroupId")
        .await;
    let counts = sim.admin().request_counts();
    let keys: Vec<&str> = counts.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec![
            "GET /__media/file/{id}/{version}/binary",
            "GET /download/attachments/{id}/{filename}",
            "GET /rest/api/content/{id}",
            "GET /rest/api/group/{id}/membersByGroupId",
            "GET /rest/api/search",
        ]
    );
    assert_eq!(
        counts["GET /__media/file/{id}/{version}/binary"].bytes,
        file
    );
    assert_eq!(counts["GET /download/attachments/{id}/{filename}"].bytes, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_http_routes_for_trash_restore_purge_and_time_zones() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let http = reqwest::Client::new();
    let host = format!("http://127.0.0.1:{}", sim.port());
    let c = Client::for_sim(&sim);
    let post = |path: String, body: Value| {
        let http = &http;
        let host = &host;
        async move {
            let r = http
                .post(format!("{host}/__sim/{path}"))
                .json(&body)
                .send()
                .await
                .expect("post");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let none = serde_json::json!({});
    assert_eq!(
        post(format!("content/{CALENDAR}/trash"), none.clone())
            .await
            .0,
        200
    );
    assert_eq!(c.api(&format!("/content/{CALENDAR}")).await.0, 404);
    assert_eq!(
        post(format!("content/{CALENDAR}/restore"), none.clone())
            .await
            .0,
        200
    );
    assert_eq!(c.api(&format!("/content/{CALENDAR}")).await.0, 200);
    assert_eq!(
        post(format!("content/{CALENDAR}/restore"), none.clone())
            .await
            .0,
        400
    );
    assert_eq!(
        post(format!("content/{CALENDAR}/purge"), none.clone())
            .await
            .0,
        200
    );
    assert_eq!(
        c.api(&format!("/content/{CALENDAR}?status=any")).await.0,
        404
    );
    assert_eq!(
        post(format!("content/{CALENDAR}/restore"), none.clone())
            .await
            .0,
        404
    );
    let r = http
        .delete(format!("{host}/__sim/content/{NOTES_BLOG}"))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        c.ok(&format!("/content/{NOTES_BLOG}?status=trashed")).await["status"],
        "trashed"
    );
    let r = http
        .delete(format!("{host}/__sim/content/{NOTES_BLOG}?purge=true"))
        .send()
        .await
        .expect("purge");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        c.api(&format!("/content/{NOTES_BLOG}?status=any")).await.0,
        404
    );

    let account = c.ok("/user/current").await["accountId"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let (s, v) = post(
        format!("user/{account}/time-zone"),
        serde_json::json!({"time_zone": "Asia/Tokyo"}),
    )
    .await;
    assert_eq!((s, v["time_zone"].as_str()), (200, Some("Asia/Tokyo")));
    assert_eq!(c.ok("/user/current").await["timeZone"], "Asia/Tokyo");
    let (s, _) = post(
        format!("user/{account}/time-zone"),
        serde_json::json!({"time_zone": "Asia/Nowhere"}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = post(
        "time-zone".into(),
        serde_json::json!({"time_zone": "Europe/Paris"}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = post(
        format!("user/{account}/time-zone"),
        serde_json::json!({"time_zone": null}),
    )
    .await;
    assert_eq!((s, v["time_zone"].as_str()), (200, Some("Europe/Paris")));
    let v: Value = http
        .get(format!("{host}/__sim/user/svc-search/time-zone"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(v["time_zone"], "Europe/Paris");
    sim.shutdown().await;
}

#[tokio::test]
async fn serve_takes_the_time_zone_and_the_search_lag() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_confluence-sim"))
        .args([
            "serve",
            "--flavor",
            "cloud",
            "--time-zone",
            "Asia/Kolkata",
            "--search-lag-ms",
            "60000",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("line");
    let info: Value = serde_json::from_str(&line).expect("JSON first line");
    let base = info["base_url"].as_str().unwrap_or("").to_owned();
    let http = reqwest::Client::new();
    let me: Value = http
        .get(format!("{base}/wiki/rest/api/user/current"))
        .basic_auth(
            info["email"].as_str().unwrap_or(""),
            info["api_token"].as_str(),
        )
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(me["timeZone"], "Asia/Kolkata");
    let lag: Value = http
        .get(format!("{base}/__sim/search-lag"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(lag["ms"], 60000);
    child.kill().expect("kill");
    let _ = child.wait();

    let out = Command::new(env!("CARGO_BIN_EXE_confluence-sim"))
        .args(["serve", "--time-zone", "Mars/Olympus"])
        .output()
        .expect("run");
    assert!(!out.status.success());
}
