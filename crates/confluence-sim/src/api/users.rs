//! Users, groups, space permissions (DC 9.x), the Extender app and the Cloud site-root
//! user routes.

use serde_json::{Value, json};

use super::{Call, Res};
use crate::http::Resp;
use crate::render::{Expand, enc};
use crate::time::iso;

fn user_param(c: &Call<'_>) -> Result<u32, Resp> {
    let q = c.q();
    let site = c.site;
    let found = if c.cloud() {
        match q.get("accountId") {
            Some(a) => site.users.iter().position(|u| u.account_id == a),
            None => {
                return Err(c.bare(
                    400,
                    "java.lang.IllegalArgumentException: accountId is required",
                ));
            }
        }
    } else if let Some(name) = q.get("username") {
        site.users
            .iter()
            .position(|u| u.username.eq_ignore_ascii_case(name))
    } else if let Some(key) = q.get("key") {
        site.users.iter().position(|u| u.user_key == key)
    } else {
        return Err(c.error(400, "A username or key must be supplied"));
    };
    found.map(|u| u as u32).ok_or_else(|| {
        let what = q
            .get("accountId")
            .or(q.get("username"))
            .or(q.get("key"))
            .unwrap_or("");
        c.error(404, &format!("No user found with identifier : {what}"))
    })
}

/// `GET /user`.
pub(super) fn user(c: &Call<'_>) -> Res {
    let u = user_param(c)?;
    Ok(Resp::json(200, &c.r.user_expanded(u, &c.expand(""))))
}

/// `GET /user/current`.
pub(super) fn current(c: &Call<'_>) -> Res {
    Ok(Resp::json(
        200,
        &match c.caller {
            Some(u) => c.r.user_expanded(u, &c.expand("")),
            None => {
                json!({"type": "anonymous", "profilePicture": {"path": "/images/icons/profilepics/anonymous.svg", "width": 48, "height": 48, "isDefault": true}, "displayName": "Anonymous", "_links": {}})
            }
        },
    ))
}

/// `GET /user/memberof`.
pub(super) fn memberof(c: &Call<'_>) -> Res {
    let u = user_param(c)?;
    let p = c.paging(200, Some(200))?;
    let groups = c.site.groups_of(u);
    let v = c.offset_collection(
        "/rest/api/user/memberof",
        &groups,
        p,
        |g| c.r.group(g),
        false,
    );
    Ok(Resp::json(200, &v))
}

/// `GET /user/list` (Server/DC 8.4+): every user, inactive ones included.
pub(super) fn user_list(c: &Call<'_>) -> Res {
    let p = c.paging(200, Some(1000))?;
    let exp = c.expand("");
    let all: Vec<u32> = (0..c.site.users.len() as u32).collect();
    let v = c.offset_collection(
        "/rest/api/user/list",
        &all,
        p,
        |u| c.r.user_expanded(u, &exp),
        false,
    );
    Ok(Resp::json(200, &v))
}

/// `GET /admin/users/list/active` (DC 9.x): licensed, active users.
pub(super) fn active_users(c: &Call<'_>) -> Res {
    let p = c.paging(200, Some(1000))?;
    let exp = c.expand("");
    let all: Vec<u32> = (0..c.site.users.len() as u32)
        .filter(|&u| c.site.users[u as usize].active)
        .collect();
    let v = c.offset_collection(
        "/rest/api/admin/users/list/active",
        &all,
        p,
        |u| c.r.user_expanded(u, &exp),
        false,
    );
    Ok(Resp::json(200, &v))
}

fn sorted_groups(c: &Call<'_>) -> Vec<u32> {
    let mut g: Vec<u32> = (0..c.site.groups.len() as u32).collect();
    g.sort_by(|a, b| {
        c.site.groups[*a as usize]
            .name
            .cmp(&c.site.groups[*b as usize].name)
    });
    g
}

/// `GET /group`.
pub(super) fn groups(c: &Call<'_>) -> Res {
    let p = c.paging(200, Some(200))?;
    let g = sorted_groups(c);
    Ok(Resp::json(
        200,
        &c.offset_collection("/rest/api/group", &g, p, |x| c.r.group(x), false),
    ))
}

fn members(c: &Call<'_>, g: u32, api_path: &str, p: crate::api::Paging) -> Resp {
    let exp = c.expand("");
    let m = c.site.groups[g as usize].members.clone();
    Resp::json(
        200,
        &c.offset_collection(api_path, &m, p, |u| c.r.user_expanded(u, &exp), false),
    )
}

/// `GET /group/by-id?id=` (Cloud): one group, 400 without an id, 404 for an unknown one.
pub(super) fn group_by_id(c: &Call<'_>) -> Res {
    let id = c.q().get("id").unwrap_or("").to_owned();
    if id.is_empty() {
        return Err(c.error(400, "groupId is required"));
    }
    let g = c
        .site
        .group_by_id(&id)
        .ok_or_else(|| c.error(404, &format!("No group found with id : {id}")))?;
    Ok(Resp::json(200, &c.r.group(g)))
}

/// `GET /group/member?name=` (Cloud).
pub(super) fn group_member_by_name(c: &Call<'_>) -> Res {
    let name = c.q().get("name").unwrap_or("").to_owned();
    let g = c
        .site
        .group_by_name(&name)
        .ok_or_else(|| c.error(404, &format!("No group found with name : {name}")))?;
    let p = c.paging(200, Some(200))?;
    let mut r = members(c, g, "/rest/api/group/member", p);
    if c.q().get("shouldReturnTotalSize") == Some("true")
        && let Ok(mut v) = serde_json::from_slice::<Value>(&r.body)
    {
        v["totalSize"] = json!(c.site.groups[g as usize].members.len());
        r = Resp::json(200, &v);
    }
    Ok(r)
}

/// `GET /group/{groupId}/membersByGroupId` (Cloud): `limit` above 200 is refused.
pub(super) fn members_by_group_id(c: &Call<'_>, gid: &str) -> Res {
    let g = c
        .site
        .group_by_id(gid)
        .ok_or_else(|| c.error(404, &format!("No group found with id : {gid}")))?;
    let p = c.paging(200, None)?;
    if p.requested > 200 {
        return Err(c.bare(
            400,
            "java.lang.IllegalArgumentException: Limit must be less than or equal to 200",
        ));
    }
    Ok(members(
        c,
        g,
        &format!("/rest/api/group/{gid}/membersByGroupId"),
        p,
    ))
}

/// `GET /group/{name}/member`.
pub(super) fn group_member(c: &Call<'_>, name: &str) -> Res {
    let g = c
        .site
        .group_by_name(name)
        .ok_or_else(|| c.error(404, &format!("No group found with name : {name}")))?;
    let p = c.paging(200, Some(200))?;
    Ok(members(
        c,
        g,
        &format!("/rest/api/group/{}/member", enc(name)),
        p,
    ))
}

/// `GET /search/user?cql=` (Cloud): at most 100 rows while echoing the requested limit, no
/// `next`, `totalSize` = rows on this page, deactivated users left out.
pub(super) fn search_user(c: &Call<'_>) -> Res {
    let q = c.q();
    let cql = q.get("cql").unwrap_or("").trim().to_owned();
    if cql.is_empty() {
        return Err(Resp::json(
            400,
            &json!({"statusCode": 400, "message": "com.atlassian.confluence.api.service.exceptions.api.BadRequestException: cql query parameter is required"}),
        ));
    }
    let p = c.paging(25, Some(100))?;
    let site = c.site;
    let mut matched: Vec<u32> = Vec::new();
    let lower = cql.to_lowercase();
    let clauses: Vec<&str> = split_and(&cql);
    let mut supported = true;
    let mut filters: Vec<Box<dyn Fn(u32) -> bool + '_>> = Vec::new();
    for clause in clauses {
        let cl = clause.trim();
        let cl_l = cl.to_lowercase().replace(' ', "");
        if cl_l == "type=user" {
            continue;
        }
        if let Some(v) = value_after(cl, "~").filter(|_| cl_l.starts_with("user.fullname~")) {
            if v.is_empty() {
                return Ok(Resp::json(
                    500,
                    &json!({"statusCode": 500, "message": "java.lang.NullPointerException"}),
                ));
            }
            let words: Vec<String> = v
                .to_lowercase()
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            filters.push(Box::new(move |u| {
                let name: Vec<String> = site.users[u as usize]
                    .display_name
                    .to_lowercase()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
                // Ordered word-prefix match.
                let mut k = 0;
                for w in &name {
                    if k < words.len() && w.starts_with(words[k].as_str()) {
                        k += 1;
                    }
                }
                k == words.len()
            }));
        } else if cl_l.starts_with("user.accountid=") || cl_l.starts_with("user=") {
            let v = value_after(cl, "=").unwrap_or_default();
            filters.push(Box::new(move |u| site.users[u as usize].account_id == v));
        } else if cl_l.starts_with("userin(") {
            let inner = cl
                .split_once('(')
                .map(|x| x.1)
                .unwrap_or("")
                .trim_end_matches(')');
            let ids: Vec<String> = inner
                .split(',')
                .map(|s| s.trim().trim_matches(['"', '\'']).to_owned())
                .collect();
            filters.push(Box::new(move |u| {
                ids.contains(&site.users[u as usize].account_id)
            }));
        } else {
            supported = false;
        }
    }
    let _ = lower;
    if supported {
        matched = (0..site.users.len() as u32)
            .filter(|&u| site.users[u as usize].active && filters.iter().all(|f| f(u)))
            .collect();
    }
    let end = (p.start + p.limit).min(matched.len());
    let rows: Vec<Value> = matched
        .get(p.start..end)
        .unwrap_or(&[])
        .iter()
        .map(|&u| {
            let user = &site.users[u as usize];
            json!({
                "user": c.r.user(u),
                "title": user.display_name,
                "excerpt": "",
                "url": format!("/people/{}", user.account_id),
                "breadcrumbs": [],
                "entityType": "user",
                "iconCssClass": "aui-icon content-type-profile",
                "lastModified": iso(crate::generate::site_epoch()),
                "score": 0.0
            })
        })
        .collect();
    let n = rows.len();
    Ok(Resp::json(
        200,
        &json!({
            "results": rows,
            "start": p.start,
            "limit": p.requested,
            "size": n,
            "totalSize": n,
            "cqlQuery": cql,
            "searchDuration": 8,
            "_links": {"base": c.sh.base(), "context": c.sh.context()}
        }),
    ))
}

fn split_and(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let lower = s.to_lowercase();
    let mut last = 0;
    let mut i = 0;
    let mut quote: Option<char> = None;
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    while i < chars.len() {
        let (pos, ch) = chars[i];
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '"' || ch == '\'' => quote = Some(ch),
            None if lower[pos..].starts_with(" and ") => {
                out.push(&s[last..pos]);
                last = pos + 5;
            }
            None => {}
        }
        i += 1;
    }
    out.push(&s[last..]);
    out
}

fn value_after(clause: &str, op: &str) -> Option<String> {
    let (_, v) = clause.split_once(op)?;
    Some(v.trim().trim_matches(['"', '\'']).to_owned())
}

/// DC 9.x `GET /space/{key}/permissions` and `/permissions/anonymous`.
pub(super) fn dc_space_permissions(c: &Call<'_>, key: &str, anonymous: bool) -> Res {
    let site = c.site;
    let s = site
        .space_by_key(key)
        .filter(|&s| site.can_view_space(c.caller, s))
        .ok_or_else(|| c.error(404, &format!("No space with key : {key}")))?;
    let sp = &site.spaces[s as usize];
    let entry = |op: &str, subject: Value| {
        json!({
            "operation": {"targetType": "space", "operationKey": op},
            "subject": subject,
            "spaceKey": sp.key,
            "spaceId": sp.id
        })
    };
    let mut out = Vec::new();
    if anonymous {
        if sp.anonymous {
            out.push(entry("read", json!({"type": "anonymous"})));
        }
        return Ok(Resp::json(200, &Value::Array(out)));
    }
    let mut readers = sp.read_users.clone();
    for a in &sp.admins {
        if !readers.contains(a) {
            readers.push(*a);
        }
    }
    for &u in &readers {
        out.push(entry(
            "read",
            json!({"type": "user", "userKey": site.users[u as usize].user_key}),
        ));
    }
    for &u in &sp.admins {
        out.push(entry(
            "administer",
            json!({"type": "user", "userKey": site.users[u as usize].user_key}),
        ));
    }
    for &g in &sp.read_groups {
        for op in [
            "read",
            "create_page",
            "create_blogpost",
            "comment",
            "create_attachment",
        ] {
            out.push(entry(
                op,
                json!({"type": "group", "name": site.groups[g as usize].name}),
            ));
        }
    }
    Ok(Resp::json(200, &Value::Array(out)))
}

fn extender_user(c: &Call<'_>, u: u32, extended: bool) -> Value {
    let user = &c.site.users[u as usize];
    let mut v = json!({"name": user.username, "key": user.user_key, "fullName": user.display_name, "email": user.email});
    if extended {
        v["hasAccessToUseConfluence"] = json!(user.active);
        v["active"] = json!(user.active);
        v["lastSuccessfulLoginDate"] = json!(iso(crate::generate::site_epoch()));
    }
    v
}

fn ext_page(c: &Call<'_>) -> (usize, usize) {
    let q = c.q();
    let start = q
        .get("startAt")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0usize);
    let max = q
        .get("maxResults")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000usize)
        .min(1000);
    (start, max)
}

const SPACE_PERMS: &[&str] = &[
    "VIEWSPACE",
    "EDITSPACE",
    "EXPORTSPACE",
    "SETSPACEPERMISSIONS",
    "REMOVEPAGE",
    "EDITBLOG",
    "REMOVEBLOG",
    "COMMENT",
    "REMOVECOMMENT",
    "CREATEATTACHMENT",
    "REMOVEATTACHMENT",
    "REMOVEOWNCONTENT",
    "SETPAGEPERMISSIONS",
    "REMOVEMAIL",
];

fn actors(c: &Call<'_>, s: u32, perm: &str) -> Value {
    let sp = &c.site.spaces[s as usize];
    let mut users: Vec<u32> = Vec::new();
    let mut groups: Vec<u32> = Vec::new();
    let admin_only = matches!(
        perm,
        "SETSPACEPERMISSIONS" | "SETPAGEPERMISSIONS" | "REMOVEMAIL" | "EXPORTSPACE"
    );
    for &a in &sp.admins {
        users.push(a);
    }
    if !admin_only {
        for &u in &sp.read_users {
            if !users.contains(&u) && (perm == "VIEWSPACE" || perm == "COMMENT") {
                users.push(u);
            }
        }
        groups.extend(&sp.read_groups);
    }
    json!({
        "anonymousAccess": perm == "VIEWSPACE" && sp.anonymous,
        "groups": groups.iter().map(|&g| c.site.groups[g as usize].name.clone()).collect::<Vec<_>>(),
        "users": users.iter().map(|&u| c.site.users[u as usize].username.clone()).collect::<Vec<_>>()
    })
}

/// The Extender for Confluence app (`/rest/extender/1.0/...`).
pub(super) fn extender(c: &Call<'_>, path: &str) -> Resp {
    let site = c.site;
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let not_found = |m: &str| Resp::json(404, &json!({"message": m, "status-code": 404}));
    match segs.as_slice() {
        ["permission", "space", key, "getSpacePermissionActors", perm] => {
            let Some(s) = site.space_by_key(key) else {
                return not_found("Space not found");
            };
            let sp = &site.spaces[s as usize];
            let mut perms = serde_json::Map::new();
            if *perm == "ALL" {
                for p in SPACE_PERMS {
                    perms.insert((*p).into(), actors(c, s, p));
                }
            } else if SPACE_PERMS.contains(perm) {
                perms.insert((*perm).into(), actors(c, s, perm));
            } else {
                return Resp::json(
                    400,
                    &json!({"message": format!("Unknown permission {perm}"), "status-code": 400}),
                );
            }
            Resp::json(
                200,
                &json!({"name": sp.name, "key": sp.key, "permissions": perms}),
            )
        }
        ["user", "getUsersWithConfluenceAccess"] => {
            let (start, max) = ext_page(c);
            let extended = c.q().get("showExtendedDetails") == Some("true");
            let all: Vec<u32> = (0..site.users.len() as u32)
                .filter(|&u| site.users[u as usize].active)
                .collect();
            let rows: Vec<Value> = all
                .iter()
                .skip(start)
                .take(max)
                .map(|&u| extender_user(c, u, extended))
                .collect();
            Resp::json(
                200,
                &json!({"total": all.len(), "maxResults": max, "startAt": start, "users": rows}),
            )
        }
        ["group", "getGroups"] => {
            let (start, max) = ext_page(c);
            let mut names: Vec<String> = site.groups.iter().map(|g| g.name.clone()).collect();
            names.sort();
            let rows: Vec<String> = names.iter().skip(start).take(max).cloned().collect();
            Resp::json(
                200,
                &json!({"total": names.len(), "maxResults": max, "startAt": start, "groups": rows}),
            )
        }
        ["group", "getUsers", group] => {
            let Some(g) = site.group_by_name(group) else {
                return not_found("Group not found");
            };
            let (start, max) = ext_page(c);
            let m = &site.groups[g as usize].members;
            let rows: Vec<Value> = m
                .iter()
                .skip(start)
                .take(max)
                .map(|&u| extender_user(c, u, true))
                .collect();
            Resp::json(
                200,
                &json!({"total": m.len(), "maxResults": max, "startAt": start, "users": rows}),
            )
        }
        [
            "permission",
            "space",
            key,
            which @ ("allUsersWithAnyPermission" | "allGroupsWithAnyPermission"),
        ] => {
            let Some(s) = site.space_by_key(key) else {
                return not_found("Space not found");
            };
            let sp = &site.spaces[s as usize];
            let (start, max) = ext_page(c);
            if *which == "allUsersWithAnyPermission" {
                let mut users: Vec<u32> = sp.admins.clone();
                for &u in &sp.read_users {
                    if !users.contains(&u) {
                        users.push(u);
                    }
                }
                let rows: Vec<Value> = users
                    .iter()
                    .skip(start)
                    .take(max)
                    .map(|&u| extender_user(c, u, false))
                    .collect();
                Resp::json(
                    200,
                    &json!({"total": users.len(), "maxResults": max, "startAt": start, "users": rows}),
                )
            } else {
                let rows: Vec<String> = sp
                    .read_groups
                    .iter()
                    .skip(start)
                    .take(max)
                    .map(|&g| site.groups[g as usize].name.clone())
                    .collect();
                Resp::json(
                    200,
                    &json!({"total": sp.read_groups.len(), "maxResults": max, "startAt": start, "groups": rows}),
                )
            }
        }
        [
            "permission",
            "user",
            user,
            "getPermissionsForSpace",
            "space",
            key,
        ] => {
            let (Some(s), Some(u)) = (
                site.space_by_key(key),
                site.users
                    .iter()
                    .position(|x| x.username.eq_ignore_ascii_case(user)),
            ) else {
                return not_found("Not found");
            };
            let u = u as u32;
            let sp = &site.spaces[s as usize];
            let mut perms = Vec::new();
            if site.can_view_space(Some(u), s) {
                perms.extend([
                    "VIEWSPACE",
                    "EDITSPACE",
                    "COMMENT",
                    "CREATEATTACHMENT",
                    "EDITBLOG",
                ]);
            }
            if sp.admins.contains(&u) {
                perms.extend([
                    "SETSPACEPERMISSIONS",
                    "SETPAGEPERMISSIONS",
                    "EXPORTSPACE",
                    "REMOVEPAGE",
                ]);
            }
            let x = &site.users[u as usize];
            Resp::json(
                200,
                &json!({"name": x.username, "key": x.user_key, "permissions": perms}),
            )
        }
        _ => not_found("null for uri"),
    }
}

fn jira_user(c: &Call<'_>, u: u32, exp: &Expand) -> Value {
    let user = &c.site.users[u as usize];
    let host = c.sh.host();
    let mut v = json!({
        "self": format!("{host}/rest/api/3/user?accountId={}", user.account_id),
        "accountId": user.account_id,
        "accountType": if user.app { "app" } else { "atlassian" },
        "avatarUrls": {"48x48": format!("{host}/avatar/{}/48", user.account_id)},
        "displayName": user.display_name,
        "active": user.active,
        "timeZone": c.site.zone_of(Some(u)).name(),
        "locale": "en_US"
    });
    if !user.app {
        v["emailAddress"] = json!(user.email);
    }
    if exp.has("groups") {
        let items: Vec<Value> = c.site.groups_of(u).iter().map(|&g| {
            let gr = &c.site.groups[g as usize];
            json!({"name": gr.name, "groupId": gr.id, "self": format!("{host}/rest/api/3/group?groupId={}", gr.id)})
        }).collect();
        v["groups"] = json!({"size": items.len(), "items": items});
    }
    if exp.has("applicationRoles") {
        let items = if user.active && !user.app {
            vec![json!({"key": "confluence", "name": "Confluence"})]
        } else {
            Vec::new()
        };
        v["applicationRoles"] = json!({"size": items.len(), "items": items});
    }
    v
}

/// Cloud site-root user routes (`/rest/api/3/users/search`, `/rest/api/3/user`), which the
/// reference connector's access-control sync calls.
pub(super) fn jira(c: &Call<'_>, path: &str) -> Resp {
    let q = c.q();
    let exp = Expand::parse(&q.joined("expand").unwrap_or_default());
    match path.trim_end_matches('/') {
        "users/search" | "users" => {
            let start = q
                .get("startAt")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0usize);
            let max = q
                .get("maxResults")
                .and_then(|s| s.parse().ok())
                .unwrap_or(50usize)
                .min(1000);
            let rows: Vec<Value> = (0..c.site.users.len() as u32)
                .skip(start)
                .take(max)
                .map(|u| jira_user(c, u, &exp))
                .collect();
            Resp::json(200, &Value::Array(rows))
        }
        "user" => match q
            .get("accountId")
            .and_then(|a| c.site.users.iter().position(|u| u.account_id == a))
        {
            Some(u) => Resp::json(200, &jira_user(c, u as u32, &exp)),
            None => Resp::json(
                404,
                &json!({"errorMessages": ["Specified user does not exist or you do not have required permissions"], "errors": {}}),
            ),
        },
        _ => Resp::json(
            404,
            &json!({"errorMessages": ["null for uri"], "errors": {}}),
        ),
    }
}
