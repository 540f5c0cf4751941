//! `POST /users-bulk`: the v2 user lookup, ids in a JSON body.

use serde_json::{Map, Value, json};

use super::{Res, error};
use crate::api::Call;
use crate::http::Resp;

/// At most this many account ids per request (`BulkUsersRequest`'s `maxItems`).
const MAX_IDS: usize = 250;

/// A user (`User`): v1's Cloud user fields that v2 describes, `profilePicture` as an `Icon`
/// (`path`, `isDefault`), and `personalSpaceId` (null without a personal space).
fn user(c: &Call<'_>, u: u32) -> Value {
    let site = c.site;
    let mut v = c.r.user(u);
    let personal = site
        .spaces
        .iter()
        .find(|s| s.personal && s.admins.contains(&u))
        .map(|s| s.id.to_string());
    let mut o = Map::new();
    for k in [
        "accountId",
        "accountType",
        "accountStatus",
        "email",
        "publicName",
        "displayName",
        "timeZone",
        "isExternalCollaborator",
    ] {
        o.insert(k.into(), v[k].take());
    }
    o.insert(
        "profilePicture".into(),
        json!({"path": v["profilePicture"]["path"], "isDefault": v["profilePicture"]["isDefault"]}),
    );
    o.insert("personalSpaceId".into(), json!(personal));
    Value::Object(o)
}

/// The account ids of the request body, or the 400 Confluence sends for a body that is not
/// `{"accountIds": [...]}` with 1 to 250 strings.
fn account_ids(c: &Call<'_>) -> Result<Vec<String>, Resp> {
    let bad = |why: &str| error(400, why);
    let body: Value = serde_json::from_slice(&c.req.body)
        .map_err(|_| bad("The request body is missing or is not valid JSON"))?;
    let ids = body
        .get("accountIds")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("'accountIds' is required and must be a list of account ids"))?;
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(bad(&format!(
            "'accountIds' must name between 1 and {MAX_IDS} account ids"
        )));
    }
    ids.iter()
        .map(|id| {
            id.as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad("'accountIds' must be a list of strings"))
        })
        .collect()
}

/// `POST /users-bulk` `{"accountIds": [...]}`: the accounts found, in the order asked, each
/// once; unknown ids are left out (no error). Deactivated and app accounts are found too, as
/// v1's `user?accountId=` finds them. No paging: `_links` has only `base`, and the `Link`
/// header names only the base.
pub(super) fn bulk(c: &Call<'_>) -> Res {
    let ids = account_ids(c)?;
    let site = c.site;
    let mut found: Vec<u32> = Vec::new();
    for id in &ids {
        if let Some(u) = site.users.iter().position(|x| x.account_id == *id)
            && !found.contains(&(u as u32))
        {
            found.push(u as u32);
        }
    }
    let results: Vec<Value> = found.iter().map(|&u| user(c, u)).collect();
    let base = c.sh.base();
    Ok(
        Resp::json(200, &json!({"results": results, "_links": {"base": base}}))
            .header("Link", format!("<{base}>; rel=\"base\"")),
    )
}
