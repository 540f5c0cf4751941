//! Cloud responses checked against Atlassian's v1 OpenAPI description: required properties
//! present and every described property of the right JSON type, recursively.

use confluence_sim::{Flavor, SiteSize};
use serde_json::Value;

use crate::client::{Client, enc, start};

struct Checker {
    schemas: Value,
    errors: Vec<String>,
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
