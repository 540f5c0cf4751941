//! Authentication failures and per-caller visibility.

use base64::Engine;
use confluence_sim::{DcAuth, Flavor, SimOptions, SiteSize};

use crate::client::{Client, auth_header, start};

fn basic(u: &str, p: &str) -> Option<String> {
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
    ))
}

#[tokio::test]
async fn cloud_refuses_with_its_own_bodies() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let none = Client::with_auth(&sim, None);
    let (s, v) = none.api("/space").await;
    assert_eq!(s, 403);
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("Request rejected because caller cannot access Confluence")
    );
    let wrong = Client::with_auth(&sim, basic("svc-search@example.com", "nope"));
    assert_eq!(wrong.api("/content/search?cql=type%3Dpage").await.0, 403);
    let (s, v) = wrong.api("/search/user?cql=type%3Duser").await;
    assert_eq!(
        (s, v["message"].as_str()),
        (403, Some("Current user not permitted to use Confluence"))
    );
    let garbled = Client::with_auth(&sim, Some("Basic %%%not-base64".into()));
    let r = garbled
        .raw(&format!("{}/rest/api/space", garbled.base))
        .await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        r.headers()
            .get("www-authenticate")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
            .starts_with("OAuth realm=")
    );
    let bearer = Client::with_auth(&sim, Some("Bearer abc".into()));
    assert_eq!(bearer.api("/space").await.0, 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn server_answers_401_and_serves_anonymous_spaces() {
    let sim = start(Flavor::Server, SiteSize::Tiny).await;
    let wrong = Client::with_auth(&sim, basic("svc-search", "wrong"));
    let r = wrong.raw(&format!("{}/rest/api/space", wrong.base)).await;
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers()
            .get("x-seraph-loginreason")
            .and_then(|h| h.to_str().ok()),
        Some("AUTHENTICATED_FAILED")
    );
    let v: serde_json::Value = r.json().await.unwrap_or_default();
    assert_eq!(v["statusCode"], 401);
    // No credentials: anonymous, who sees only the anonymous space.
    let anon = Client::with_auth(&sim, None);
    let spaces = anon.all("/space").await;
    let keys: Vec<&str> = spaces.iter().filter_map(|s| s["key"].as_str()).collect();
    assert_eq!(keys, vec!["DOCS"]);
    // PATs are a Data Center feature.
    let bearer = Client::with_auth(&sim, Some("Bearer abc".into()));
    assert_eq!(bearer.api("/space").await.0, 401);
    // Server/DC `expand=permissions` fails for non-administrators (CONFSERVER-99908).
    let c = Client::for_sim(&sim);
    assert_eq!(c.api("/space?expand=permissions").await.0, 500);
    let admin = Client::with_auth(
        &sim,
        Some(auth_header(&sim.user_credentials("admin").expect("admin"))),
    );
    assert_eq!(admin.api("/space?expand=permissions").await.0, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn datacenter_pats_and_the_wrong_token_quirk() {
    let sim = confluence_sim::start(SimOptions {
        flavor: Flavor::DataCenter,
        data_center_auth: DcAuth::Pat,
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let c = Client::for_sim(&sim);
    assert_eq!(c.all("/space").await.len(), 3);
    // CONFSERVER-98199: a wrong PAT is treated as anonymous when anonymous access is on.
    let wrong = Client::with_auth(&sim, Some("Bearer not-a-token".into()));
    assert_eq!(wrong.all("/space").await.len(), 1);
    let v = wrong.ok("/user/current").await;
    assert_eq!(v["type"], "anonymous");
    sim.shutdown().await;
}

#[tokio::test]
async fn restricted_pages_are_404_to_other_users() {
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let truth = sim.truth();
    let secret = truth
        .iter()
        .find(|d| d.title == "Incident contacts")
        .expect("restricted page");
    let eng_home = truth
        .iter()
        .find(|d| d.title == "Engineering Home")
        .expect("home");
    let outsider = eng_home
        .readers
        .iter()
        .find(|r| !secret.readers.contains(r))
        .expect("an outsider");
    let creds = sim.user_credentials(outsider).expect("credentials");
    let c = Client::with_auth(&sim, Some(auth_header(&creds)));
    let (s, v) = c.api(&format!("/content/{}", secret.id)).await;
    assert_eq!(s, 404, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("No content found with id")
    );
    assert_eq!(c.api(&format!("/content/{}", eng_home.id)).await.0, 200);
    let insider = secret
        .readers
        .iter()
        .find(|r| r.as_str() != sim.credentials().email.as_deref().unwrap_or(""))
        .expect("insider");
    let ic = Client::with_auth(
        &sim,
        Some(auth_header(&sim.user_credentials(insider).expect("creds"))),
    );
    assert_eq!(ic.api(&format!("/content/{}", secret.id)).await.0, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn extender_can_be_switched_off() {
    let sim = confluence_sim::start(SimOptions {
        flavor: Flavor::Server,
        extender: false,
        ..SimOptions::default()
    })
    .await
    .expect("start");
    let c = Client::for_sim(&sim);
    let r = c
        .raw(&format!(
            "{}/rest/extender/1.0/permission/space/ENG/getSpacePermissionActors/VIEWSPACE",
            c.base
        ))
        .await;
    assert_eq!(r.status().as_u16(), 404);
    // Native space permissions exist on Data Center only.
    assert_eq!(c.api("/space/ENG/permissions").await.0, 404);
    sim.shutdown().await;
}
