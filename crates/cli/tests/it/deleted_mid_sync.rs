//! A page deleted while a sync runs, between the listing that found it and the listing of its
//! comments or attachments (which then answers 404): after that sync the page and what it held
//! are gone from the index, the rest of its space is intact, and the job is `completed`. On
//! Cloud the crawl lists comments site-wide (REST v2), after every page: the page was written
//! already and leaves with the next sync, as any page deleted after it was listed.

use confluence_sim::{Flavor, SiteSize};

use crate::sim_sync::{
    Site, assert_index_is_truth, describe_jobs, indexed, jobs, page_and_children,
    pages_with_children,
};

/// Attachments a content listing expands per page (Confluence's default for expanded children).
const EXPANDED_ATTACHMENTS: usize = 25;

/// `listing` is `comment` or `attachment` (the page gets more attachments than a listing expands,
/// so that the sync lists them); with `indexed_before`, a complete sync ran first, so
/// the page is in the index and this sync must delete it.
async fn page_deleted_when_its_children_are_listed(
    flavor: Flavor,
    listing: &str,
    indexed_before: bool,
) {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::start(flavor, SiteSize::Tiny, 9, dir.path()).await;
    let data = dir.path().join("data");
    let page = pages_with_children(&site.sim.truth())
        .into_iter()
        .next()
        .expect("a page with comments and attachments");
    if listing == "attachment" {
        // Listings expand a page's first 25 attachments: with more, the sync lists the rest.
        // The page then holds half of this tiny site: deleting it is above the default
        // threshold.
        site.set_deletion_threshold(90);
        for n in 0..EXPANDED_ATTACHMENTS {
            site.sim
                .admin()
                .add_attachment(&page.id, &format!("extra-{n}.txt"), Some(600))
                .expect("attaching a file");
        }
    }
    if indexed_before {
        site.sync(&data, "before")
            .await
            .assert_completed("the sync before");
    }
    let truth = site.sim.truth();
    let gone = page_and_children(&truth, &page.id);
    let space_before: Vec<String> = truth
        .iter()
        .filter(|d| d.space_key == page.space_key && !gone.contains(&d.id))
        .map(|d| d.id.clone())
        .collect();

    let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (id, fired) = (page.id.clone(), fired.clone());
        let hook = match flavor {
            Flavor::Cloud => "/api/v2/footer-comments".to_owned(),
            _ => format!("/content/{}/child/{listing}", page.id),
        };
        site.sim
            .admin()
            .on_request_matching(&hook, true, move |admin| {
                admin.delete_content(&id).expect("deleting the page");
                fired.store(true, std::sync::atomic::Ordering::SeqCst);
            });
    }
    let run = site.sync(&data, "during").await;
    assert!(
        fired.load(std::sync::atomic::Ordering::SeqCst),
        "the sync never listed the {listing}s of page {}",
        page.id
    );
    let what = format!(
        "{}: page {} {:?} deleted when its {listing}s were listed",
        site.name(),
        page.id,
        page.title
    );
    let history = jobs(&data);
    assert!(
        run.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}\njobs:\n  {}",
        run.status.code(),
        run.stdout,
        run.stderr,
        describe_jobs(&history)
    );
    let summary = run.summary();
    assert_eq!(
        summary["status"], "completed",
        "{what}: a page deleted mid-sync is normal, not a failed listing: {summary}"
    );
    assert_eq!(history[0]["status"], "completed", "{what}");
    let summary = if flavor == Flavor::Cloud {
        let next = site.sync(&data, "after").await;
        next.assert_completed("the sync after");
        let mut summary = next.summary();
        summary["deleted_document_count"] = serde_json::json!(
            summary["deleted_document_count"]
                .as_u64()
                .unwrap_or_default()
                + run.summary()["deleted_document_count"]
                    .as_u64()
                    .unwrap_or_default()
        );
        summary
    } else {
        summary
    };

    // The page and what it held are gone; the rest of the space (and the site) is intact.
    let index = indexed(&data).await;
    let still: Vec<&String> = gone.iter().filter(|id| index.contains_key(*id)).collect();
    assert!(
        still.is_empty(),
        "{what}: still indexed: {still:?} (page and children: {gone:?})"
    );
    let lost: Vec<&String> = space_before
        .iter()
        .filter(|id| !index.contains_key(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{what}: the rest of space {} lost {lost:?}",
        page.space_key
    );
    assert_index_is_truth(&data, &site.sim, &what).await;
    if indexed_before {
        assert!(
            summary["deleted_document_count"]
                .as_u64()
                .unwrap_or_default()
                >= gone.len() as u64,
            "{what}: deleted {} documents, the page and its children are {}",
            summary["deleted_document_count"],
            gone.len()
        );
    }
    println!("{what}: {summary}");
    site.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_page_deleted_when_its_comments_are_listed_is_removed_and_the_job_completes() {
    page_deleted_when_its_children_are_listed(Flavor::Cloud, "comment", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_center_page_deleted_when_its_attachments_are_listed_is_removed_and_the_job_completes()
{
    page_deleted_when_its_children_are_listed(Flavor::DataCenter, "attachment", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_page_deleted_during_the_first_sync_never_reaches_the_index() {
    page_deleted_when_its_children_are_listed(Flavor::Server, "comment", false).await;
}
