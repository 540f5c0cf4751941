//! `spaces`, `spaces/{id}` and `spaces/{id}/permissions`.

use serde_json::{Value, json};

use super::paging::{self, Entry, Key, Order, Spec};
use super::{Res, error, flag, int_list, list_param, one_of, optional_field, path_id, shape};
use crate::api::Call;
use crate::http::Resp;
use crate::render::{Grantee, space_grants};

/// Spaces are not a content listing: the listing quirks leave them alone.
const SPACES: Spec = Spec {
    default_limit: 25,
    max_limit: 250,
    content: false,
};

/// A space the caller may view, by its id in the path.
pub(super) fn visible(c: &Call<'_>, raw: &str) -> Result<u32, Resp> {
    let id = path_id(raw)?;
    c.site
        .spaces
        .iter()
        .position(|s| s.id == id)
        .map(|s| s as u32)
        .filter(|&s| c.site.can_view_space(c.caller, s))
        .ok_or_else(|| error(404, &format!("Cannot find space with id [{raw}]")))
}

/// `GET /spaces`: every space the caller may view, by id unless sorted otherwise.
pub(super) fn list(c: &Call<'_>) -> Res {
    let ids = int_list(c, "ids")?;
    let keys = list_param(c, "keys");
    let ty = one_of(
        c,
        "type",
        &["global", "collaboration", "knowledge_base", "personal"],
    )?;
    let status = one_of(c, "status", &["current", "archived"])?;
    let description = one_of(c, "description-format", &["plain", "view"])?;
    let icon = flag(c, "include-icon", false)?;
    let order = Order::parse(c, &["id", "key", "name"], "id")?;
    // Spaces carry no labels and nobody has favourited one: those filters match nothing.
    let unmatched = !list_param(c, "labels").is_empty()
        || c.q().get("favorited-by").is_some_and(|f| !f.is_empty());
    let site = c.site;
    let entries: Vec<Entry> = (0..site.spaces.len() as u32)
        .filter(|&s| {
            let sp = &site.spaces[s as usize];
            !unmatched
                && site.can_view_space(c.caller, s)
                && (ids.is_empty() || ids.contains(&sp.id))
                && (keys.is_empty() || keys.iter().any(|k| k.eq_ignore_ascii_case(&sp.key)))
                && ty.is_none_or(|t| t == if sp.personal { "personal" } else { "global" })
                && status.is_none_or(|st| st == if sp.archived { "archived" } else { "current" })
        })
        .map(|s| {
            let sp = &site.spaces[s as usize];
            let key = match order.field {
                "key" => Key::Str(sp.key.to_lowercase()),
                "name" => Key::Str(sp.name.to_lowercase()),
                _ => Key::Num(sp.id as i64),
            };
            Entry {
                key,
                id: sp.id,
                item: s,
            }
        })
        .collect();
    paging::respond(c, entries, order, SPACES, |s| {
        shape::space(c, s, description, icon)
    })
}

/// `GET /spaces/{id}`, with the `include-*` fields the model can answer.
pub(super) fn one(c: &Call<'_>, raw: &str) -> Res {
    let s = visible(c, raw)?;
    let description = one_of(c, "description-format", &["plain", "view"])?;
    let icon = flag(c, "include-icon", false)?;
    let mut v = shape::space(c, s, description, icon);
    let link = |what: &str| format!("/wiki/api/v2/spaces/{raw}/{what}");
    if flag(c, "include-permissions", false)? {
        let all = grants(c, s);
        let mut field = optional_field(
            all.iter().map(|(_, v)| v.clone()).collect(),
            link("permissions"),
        );
        if all.len() > 50 {
            let entries = grant_entries(&all);
            if let Some(cur) = paging::cursor_after(&entries, ORDER, 49) {
                field["meta"]["cursor"] = json!(cur);
            }
        }
        v["permissions"] = field;
    }
    if flag(c, "include-labels", false)? {
        v["labels"] = optional_field(Vec::new(), link("labels"));
    }
    if flag(c, "include-properties", false)? {
        v["properties"] = optional_field(Vec::new(), link("properties"));
    }
    if flag(c, "include-operations", false)? {
        v["operations"] = optional_field(
            vec![json!({"operation": "read", "targetType": "space"})],
            link("operations"),
        );
    }
    Ok(Resp::json(200, &super::with_base(c, v)))
}

const ORDER: Order = Order {
    field: "id",
    desc: false,
};

/// The space's permission assignments (`SpacePermissionAssignment`), with their ids, in id
/// order: the grants v1's `expand=permissions` lists.
fn grants(c: &Call<'_>, s: u32) -> Vec<(u64, Value)> {
    let site = c.site;
    let mut out: Vec<(u64, Value)> = space_grants(site, s)
        .into_iter()
        .map(|g| {
            let principal = match g.grantee {
                Grantee::User(u) => {
                    json!({"type": "user", "id": site.users[u as usize].account_id})
                }
                Grantee::Group(gr) => json!({"type": "group", "id": site.groups[gr as usize].id}),
                Grantee::Anonymous => json!({"type": "role", "id": "anonymous"}),
            };
            (
                g.id,
                json!({
                    "id": g.id.to_string(),
                    "principal": principal,
                    "operation": {"key": g.operation, "targetType": g.target}
                }),
            )
        })
        .collect();
    out.sort_by_key(|(id, _)| *id);
    out
}

fn grant_entries(all: &[(u64, Value)]) -> Vec<Entry> {
    all.iter()
        .enumerate()
        .map(|(n, (id, _))| Entry {
            key: Key::Num(*id as i64),
            id: *id,
            item: n as u32,
        })
        .collect()
}

/// `GET /spaces/{id}/permissions`.
pub(super) fn permissions(c: &Call<'_>, raw: &str) -> Res {
    let s = visible(c, raw)?;
    let all = grants(c, s);
    let entries = grant_entries(&all);
    paging::respond(c, entries, ORDER, SPACES, |n| {
        all.get(n as usize).map_or(Value::Null, |(_, v)| v.clone())
    })
}
