//! Cloud responses checked against Atlassian's OpenAPI descriptions (v1 and v2): required
//! properties present, every described property of the right JSON type and within its
//! enumeration, recursively. v2 objects are also checked for properties the description does
//! not have (`strict`), since the simulator writes each of them by hand.

use confluence_sim::{Flavor, SiteSize};
use serde_json::Value;

use crate::client::{Client, enc, start};

struct Checker {
    schemas: Value,
    errors: Vec<String>,
    /// Report properties the schema does not describe (objects with `properties` only).
    strict: bool,
}

impl Checker {
    fn resolve<'a>(&'a self, s: &'a Value) -> &'a Value {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => self.resolve(&self.schemas[r.trim_start_matches("#/components/schemas/")]),
            None => s,
        }
    }

    fn check(&mut self, schema: &Value, v: &Value, path: &str, depth: usize) {
        if depth > 12 {
            return;
        }
        let schema = self.resolve(schema).clone();
        if v.is_null() {
            return; // Nullable or absent-as-null: Confluence is loose here and so is the check.
        }
        if let Some(alts) = schema
            .get("oneOf")
            .or(schema.get("anyOf"))
            .and_then(Value::as_array)
        {
            let before = self.errors.len();
            for alt in alts {
                let mut sub = Checker {
                    schemas: self.schemas.clone(),
                    errors: Vec::new(),
                    strict: self.strict,
                };
                sub.check(alt, v, path, depth + 1);
                if sub.errors.is_empty() {
                    self.errors.truncate(before);
                    return;
                }
            }
            self.errors
                .push(format!("{path}: matches none of the alternatives"));
            return;
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            // Every part applies; in strict mode a property is undescribed only when no part
            // describes it.
            let described: Vec<String> = parts
                .iter()
                .flat_map(|p| {
                    self.resolve(p)
                        .get("properties")
                        .and_then(Value::as_object)
                        .map(|o| o.keys().cloned().collect::<Vec<_>>())
                        .unwrap_or_default()
                })
                .collect();
            let strict = self.strict;
            self.strict = false;
            for part in parts {
                self.check(part, v, path, depth + 1);
            }
            self.strict = strict;
            if strict && let Some(obj) = v.as_object() {
                for k in obj.keys().filter(|k| !described.contains(k)) {
                    self.errors
                        .push(format!("{path}: undescribed property `{k}`"));
                }
            }
            return;
        }
        if let (Some(allowed), Some(s)) = (schema.get("enum").and_then(Value::as_array), v.as_str())
            && !allowed.iter().any(|a| a.as_str() == Some(s))
        {
            self.errors.push(format!(
                "{path}: `{s}` is not one of {}",
                Value::Array(allowed.clone())
            ));
        }
        let ty = schema.get("type").and_then(Value::as_str).unwrap_or(
            if schema.get("properties").is_some() {
                "object"
            } else {
                ""
            },
        );
        let ok = match ty {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            _ => true,
        };
        if !ok {
            self.errors.push(format!("{path}: expected {ty}, got {v}"));
            return;
        }
        if let (Some(props), Some(obj)) = (
            schema.get("properties").and_then(Value::as_object),
            v.as_object(),
        ) {
            for r in schema
                .get("required")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let r = r.as_str().unwrap_or("");
                if !obj.contains_key(r) {
                    self.errors.push(format!("{path}: missing required `{r}`"));
                }
            }
            for (k, val) in obj {
                if let Some(ps) = props.get(k) {
                    self.check(ps, val, &format!("{path}.{k}"), depth + 1);
                } else if self.strict {
                    self.errors
                        .push(format!("{path}: undescribed property `{k}`"));
                }
            }
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
            for (i, x) in arr.iter().enumerate().take(5) {
                self.check(items, x, &format!("{path}[{i}]"), depth + 1);
            }
        }
    }
}

#[tokio::test]
async fn cloud_responses_follow_the_v1_openapi_description() {
    let spec_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/spec/openapi/confluence-cloud-v1.json"
    );
    let Ok(text) = std::fs::read_to_string(spec_path) else {
        eprintln!("skipping: {spec_path} is not present");
        return;
    };
    let spec: Value = serde_json::from_str(&text).expect("OpenAPI JSON");
    let mut checker = Checker {
        schemas: spec["components"]["schemas"].clone(),
        errors: Vec::new(),
        strict: false,
    };
    // The checker itself notices a wrong type and missing required properties.
    checker.check(
        &serde_json::json!({"$ref": "#/components/schemas/Content"}),
        &serde_json::json!({"id": 5}),
        "self-test",
        0,
    );
    assert_eq!(checker.errors.len(), 3, "{:?}", checker.errors);
    checker.errors.clear();
    let sim = start(Flavor::Cloud, SiteSize::Tiny).await;
    let c = Client::for_sim(&sim);
    let truth = sim.truth();
    let page = truth
        .iter()
        .find(|d| d.title == "Architecture overview")
        .expect("page");
    let account = sim
        .truth()
        .iter()
        .find(|d| d.r#type == "space")
        .map(|d| d.readers[0].clone())
        .unwrap_or_default();
    let group = c.ok("/group").await["results"][0]["id"]
        .as_str()
        .expect("a group id")
        .to_owned();
    let expand = "space,history.lastUpdated,version,ancestors,children.attachment,children.comment,metadata.labels,restrictions.read.restrictions.user,restrictions.read.restrictions.group,body.storage,body.view,container,descendants.comment";
    let cases = [
        (
            "/space?expand=permissions,description.plain,homepage,history,icon".to_owned(),
            "SpaceArray",
        ),
        (
            "/space/ENG?expand=permissions,description.plain,homepage".to_owned(),
            "Space",
        ),
        (format!("/content/{}?expand={expand}", page.id), "Content"),
        (
            format!("/content?type=page&expand={expand}"),
            "ContentArray",
        ),
        (
            format!("/content/search?cql={}&expand={expand}", enc("type = page")),
            "ContentArray",
        ),
        (
            format!(
                "/search?cql={}&expand=content.space,content.version",
                enc("type in (page, space)")
            ),
            "SearchPageResponseSearchResult",
        ),
        (
            format!("/content/{}/child/attachment?expand=version", page.id),
            "ContentArray",
        ),
        (
            format!(
                "/content/{}/child/comment?expand=body.storage,version",
                page.id
            ),
            "ContentArray",
        ),
        (format!("/content/{}/label", page.id), "LabelArray"),
        (
            format!(
                "/content/{}/restriction/byOperation/read?expand=restrictions.user,restrictions.group",
                page.id
            ),
            "ContentRestriction",
        ),
        (format!("/user?accountId={account}"), "User"),
        (
            format!("/user/memberof?accountId={account}"),
            "GroupArrayWithLinks",
        ),
        ("/group".to_owned(), "GroupArrayWithLinks"),
        (format!("/group/by-id?id={group}"), "Group"),
        (format!("/group/{group}/membersByGroupId"), "UserArray"),
        (
            format!("/search/user?cql={}", enc("type = user")),
            "SearchPageResponseSearchResult",
        ),
    ];
    for (path, schema) in cases {
        let v = c.ok(&path).await;
        let s = serde_json::json!({"$ref": format!("#/components/schemas/{schema}")});
        checker.check(&s, &v, &format!("{schema} {path}"), 0);
    }
    assert!(checker.errors.is_empty(), "{}", checker.errors.join("\n"));
    sim.shutdown().await;
}

/// The first row of a v2 listing whose `field` is set, and that field.
fn first_with(rows: &[Value], field: &str) -> (Value, String) {
    rows.iter()
        .find_map(|r| r[field].as_str().map(|f| (r.clone(), f.to_owned())))
        .unwrap_or_else(|| panic!("a row with `{field}`"))
}

#[tokio::test]
async fn cloud_v2_responses_follow_the_v2_openapi_description() {
    let spec_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/spec/openapi/confluence-cloud-v2.json"
    );
    let Ok(text) = std::fs::read_to_string(spec_path) else {
        eprintln!("skipping: {spec_path} is not present");
        return;
    };
    let spec: Value = serde_json::from_str(&text).expect("OpenAPI JSON");
    let mut checker = Checker {
        schemas: spec["components"]["schemas"].clone(),
        errors: Vec::new(),
        strict: true,
    };
    // The checker notices a wrong type, a value outside an enumeration and an invented field.
    checker.check(
        &serde_json::json!({"$ref": "#/components/schemas/PageBulk"}),
        &serde_json::json!({"id": 5, "status": "gone", "spaceKey": "ENG"}),
        "self-test",
        0,
    );
    assert_eq!(checker.errors.len(), 3, "{:?}", checker.errors);
    checker.errors.clear();

    let sim = start(Flavor::Cloud, SiteSize::Small).await;
    let c = Client::for_sim(&sim);
    // Ids to address, found through the site-wide listings.
    let spaces = c.v2("/spaces?limit=250").await["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let space = spaces.iter().find(|s| s["key"] == "ENG").expect("ENG")["id"]
        .as_str()
        .expect("space id")
        .to_owned();
    let pages = c.v2_all("/pages?limit=250").await;
    let (row, _) = first_with(&pages, "parentId");
    let child = row["id"].as_str().expect("page id").to_owned();
    let blogs = c.v2_all("/blogposts?limit=250").await;
    // A reply, so that comment children and `parentCommentId` have something to show.
    let first_footer = c.v2("/footer-comments?limit=1").await["results"][0]["id"]
        .as_str()
        .expect("a footer comment")
        .to_owned();
    sim.admin()
        .add_reply(&first_footer, "<p>Agreed.</p>")
        .expect("reply");
    let footer = c.v2_all("/footer-comments?limit=250").await;
    let inline = c.v2_all("/inline-comments?limit=250").await;
    let attachments = c.v2_all("/attachments?limit=250").await;
    let (_, page_with_footer) = first_with(&footer, "pageId");
    let (_, blog_with_footer) = first_with(&footer, "blogPostId");
    let (_, replied) = first_with(&footer, "parentCommentId");
    let (_, page_with_inline) = first_with(&inline, "pageId");
    let blog_with_inline = inline
        .iter()
        .find_map(|r| r["blogPostId"].as_str())
        .unwrap_or(&blog_with_footer)
        .to_owned();
    let (_, page_with_att) = first_with(&attachments, "pageId");
    let (_, blog_with_att) = first_with(&attachments, "blogPostId");
    let labelled = sim
        .truth()
        .into_iter()
        .find(|d| d.r#type == "page" && !d.labels.is_empty())
        .expect("a labelled page")
        .id;
    let labelled_blog = sim
        .truth()
        .into_iter()
        .find(|d| d.r#type == "blogpost")
        .expect("a blog post")
        .id;
    sim.admin()
        .add_label(&labelled_blog, "release-notes")
        .expect("label");
    let footer_id = footer[0]["id"].as_str().expect("comment id").to_owned();
    let inline_id = inline[0]["id"].as_str().expect("comment id").to_owned();
    let att_id = attachments[0]["id"]
        .as_str()
        .expect("attachment id")
        .to_owned();
    assert!(!blogs.is_empty());
    // Label ids for the label routes: a page's first label, and one on a blog post and an
    // attachment.
    sim.admin()
        .add_label(&att_id, "release-notes")
        .expect("label");
    let page_label = c.v2(&format!("/pages/{labelled}/labels")).await["results"][0]["id"]
        .as_str()
        .expect("label id")
        .to_owned();
    let labelled_space = c.v2(&format!("/pages/{labelled}")).await["spaceId"]
        .as_str()
        .expect("space id")
        .to_owned();
    let release_notes = c.v2("/labels?limit=250").await["results"]
        .as_array()
        .expect("labels")
        .iter()
        .find(|l| l["name"] == "release-notes")
        .and_then(|l| l["id"].as_str())
        .expect("release-notes")
        .to_owned();

    let single = "include-labels=true&include-properties=true&include-operations=true&include-likes=true&include-favorited-by-current-user-status=true";
    let cases: Vec<(String, &str)> = vec![
        (
            "/spaces?description-format=plain&include-icon=true".into(),
            "/spaces",
        ),
        (
            format!(
                "/spaces/{space}?description-format=view&include-icon=true&include-permissions=true&include-labels=true&include-operations=true&include-properties=true"
            ),
            "/spaces/{id}",
        ),
        (
            format!("/spaces/{space}/pages?body-format=storage&limit=5"),
            "/spaces/{id}/pages",
        ),
        (
            format!("/spaces/{space}/blogposts?body-format=atlas_doc_format&limit=5"),
            "/spaces/{id}/blogposts",
        ),
        (
            format!("/spaces/{space}/permissions"),
            "/spaces/{id}/permissions",
        ),
        ("/pages?body-format=storage&limit=5".into(), "/pages"),
        (
            format!("/pages/{child}?body-format=view&{single}"),
            "/pages/{id}",
        ),
        (
            format!("/pages/{labelled}?body-format=storage&include-version=false"),
            "/pages/{id}",
        ),
        (
            "/blogposts?body-format=storage&limit=5".into(),
            "/blogposts",
        ),
        (
            format!("/blogposts/{labelled_blog}?body-format=atlas_doc_format&{single}"),
            "/blogposts/{id}",
        ),
        (
            format!("/pages/{labelled}/children"),
            "/pages/{id}/children",
        ),
        (format!("/pages/{child}/ancestors"), "/pages/{id}/ancestors"),
        (format!("/pages/{labelled}/labels"), "/pages/{id}/labels"),
        (
            format!("/blogposts/{labelled_blog}/labels"),
            "/blogposts/{id}/labels",
        ),
        (
            format!("/pages/{page_with_footer}/footer-comments?body-format=storage"),
            "/pages/{id}/footer-comments",
        ),
        (
            format!("/pages/{page_with_inline}/inline-comments?body-format=storage"),
            "/pages/{id}/inline-comments",
        ),
        (
            format!("/blogposts/{blog_with_footer}/footer-comments?body-format=atlas_doc_format"),
            "/blogposts/{id}/footer-comments",
        ),
        (
            format!("/blogposts/{blog_with_inline}/inline-comments?body-format=storage"),
            "/blogposts/{id}/inline-comments",
        ),
        (
            format!("/footer-comments/{replied}/children?body-format=storage"),
            "/footer-comments/{id}/children",
        ),
        (
            "/footer-comments?body-format=storage&limit=50".into(),
            "/footer-comments",
        ),
        (
            "/inline-comments?body-format=storage&limit=50".into(),
            "/inline-comments",
        ),
        (
            format!("/footer-comments/{footer_id}?body-format=storage"),
            "/footer-comments/{comment-id}",
        ),
        (
            format!("/inline-comments/{inline_id}?body-format=storage"),
            "/inline-comments/{comment-id}",
        ),
        (
            format!("/pages/{page_with_att}/attachments"),
            "/pages/{id}/attachments",
        ),
        (
            format!("/blogposts/{blog_with_att}/attachments"),
            "/blogposts/{id}/attachments",
        ),
        ("/attachments?limit=100".into(), "/attachments"),
        (format!("/attachments/{att_id}"), "/attachments/{id}"),
        ("/labels?sort=-name&limit=5".into(), "/labels"),
        (
            format!("/labels?label-id={page_label},{release_notes}&prefix=global"),
            "/labels",
        ),
        (
            format!("/spaces/{labelled_space}/content/labels?sort=name&limit=5"),
            "/spaces/{id}/content/labels",
        ),
        (
            format!("/labels/{page_label}/pages?space-id={labelled_space}&body-format=storage"),
            "/labels/{id}/pages",
        ),
        (
            format!("/labels/{release_notes}/blogposts?body-format=atlas_doc_format&sort=-id"),
            "/labels/{id}/blogposts",
        ),
        (
            format!("/labels/{release_notes}/attachments?sort=created-date"),
            "/labels/{id}/attachments",
        ),
    ];
    for (path, route) in cases {
        let (status, v, link) = c.v2_raw(&path).await;
        assert_eq!(status, 200, "GET v2 {path}: {v}");
        let op = &spec["paths"][route]["get"];
        assert!(op.is_object(), "{route} is not in the v2 description");
        let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{route}: no 200 schema");
        checker.check(schema, &v, &format!("{route} {path}"), 0);
        if let Some(rows) = v["results"].as_array() {
            assert!(!rows.is_empty(), "{path}: an empty listing checks nothing");
            // The Link header and the body's next link name the same page.
            let next = v["_links"]["next"].as_str();
            let base = v["_links"]["base"].as_str().expect("_links.base");
            assert_eq!(
                link,
                next.map(|n| format!("<{n}>; rel=\"next\", <{base}>; rel=\"base\"")),
                "{path}"
            );
        }
    }
    // The one POST route: a bulk user lookup.
    let account = c.ok("/user/current").await["accountId"]
        .as_str()
        .expect("the crawler's account id")
        .to_owned();
    let (status, v, link) = c
        .v2_post("/users-bulk", &serde_json::json!({"accountIds": [account]}))
        .await;
    assert_eq!(status, 200, "POST v2 /users-bulk: {v}");
    let op = &spec["paths"]["/users-bulk"]["post"];
    let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "/users-bulk: no 200 schema");
    checker.check(schema, &v, "/users-bulk", 0);
    assert_eq!(v["results"].as_array().map(Vec::len), Some(1), "{v}");
    let base = v["_links"]["base"].as_str().expect("_links.base");
    assert_eq!(link, Some(format!("<{base}>; rel=\"base\"")));
    // Errors have the documented envelope.
    for path in [
        "/pages/1",
        "/pages/abc",
        "/pages?limit=abc",
        "/spaces?sort=size",
        "/labels/1/pages",
        "/labels/abc/pages",
        "/labels?label-id=x",
    ] {
        let (status, v, _) = c.v2_raw(path).await;
        assert!(status == 400 || status == 404, "{path}: {status}");
        let e = &v["errors"][0];
        assert_eq!(e["status"], status, "{path}: {v}");
        assert!(
            e["code"].is_string() && e["title"].is_string(),
            "{path}: {v}"
        );
        assert!(e["detail"].is_null(), "{path}: {v}");
    }
    assert!(checker.errors.is_empty(), "{}", checker.errors.join("\n"));
    sim.shutdown().await;
}
