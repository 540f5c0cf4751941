//! `/search` and `/content/search`: CQL with cursor paging on Cloud, offsets on Server/DC.

use base64::Engine;
use serde_json::{Value, json};

use super::{Call, Paging, Res, evaluate};
use crate::cql::{self, CqlError, Expr, Hit, Value as CqlValue};
use crate::http::Resp;
use crate::model::Kind;
use crate::render::Expand;
use crate::rng;
use crate::text::{plain_text, storage_body, xml_escape};
use crate::time::{friendly, iso};

fn cql_error(c: &Call<'_>, e: &CqlError) -> Resp {
    if c.flavor().is_server_like() {
        if let CqlError::Unsupported(m) = e
            && m == "parameters should not be empty"
        {
            return Resp::json(
                400,
                &json!({"statusCode": 400, "message": m, "reason": "Bad Request"}),
            );
        }
        Resp::json(
            400,
            &json!({
                "statusCode": 400,
                "data": {"authorized": true, "valid": true, "allowedInReadOnlyMode": true, "errors": [], "successful": true},
                "message": e.to_string(),
                "reason": "Bad Request"
            }),
        )
    } else {
        Resp::json(
            400,
            &json!({
                "statusCode": 400,
                "data": {"authorized": true, "valid": true, "errors": [], "successful": true},
                "message": e.to_string()
            }),
        )
    }
}

fn has_empty_sitesearch(e: &Expr) -> bool {
    match e {
        Expr::And(l, r) | Expr::Or(l, r) => has_empty_sitesearch(l) || has_empty_sitesearch(r),
        Expr::Not(x) => has_empty_sitesearch(x),
        Expr::Clause { field, values, .. } => {
            field == "sitesearch"
                && values
                    .iter()
                    .any(|v| matches!(v, CqlValue::Lit(s) if s.trim().is_empty()))
        }
    }
}

fn text_terms(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::And(l, r) | Expr::Or(l, r) => {
            text_terms(l, out);
            text_terms(r, out);
        }
        Expr::Not(_) => {}
        Expr::Clause {
            field,
            op: cql::Op::Contains,
            values,
        } if matches!(field.as_str(), "text" | "title" | "sitesearch") => {
            for v in values {
                if let CqlValue::Lit(s) = v {
                    out.extend(
                        s.split(|ch: char| !ch.is_alphanumeric())
                            .filter(|w| !w.is_empty())
                            .map(str::to_lowercase),
                    );
                }
            }
        }
        _ => {}
    }
}

fn highlight(text: &str, terms: &[String]) -> String {
    if terms.is_empty() {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            let lw = word.to_lowercase();
            if terms.iter().any(|t| lw.starts_with(t.as_str())) {
                out.push_str(&format!("@@@hl@@@{word}@@@endhl@@@"));
            } else {
                out.push_str(word);
            }
            word.clear();
        }
    };
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

struct Prepared {
    query: cql::Query,
    cql: String,
    qhash: u64,
}

fn prepare(c: &Call<'_>) -> Result<Prepared, Resp> {
    let cql_text = c.q().get("cql").unwrap_or("").to_owned();
    let query = cql::parse(&cql_text, c.flavor()).map_err(|e| cql_error(c, &e))?;
    if query.expr.as_ref().is_some_and(has_empty_sitesearch) {
        return Err(Resp::json(
            500,
            &json!({"statusCode": 500, "message": "java.lang.NullPointerException: query parameter is required."}),
        ));
    }
    Ok(Prepared {
        qhash: rng::hash_str(&cql_text),
        cql: cql_text,
        query,
    })
}

fn encode_cursor(pos: usize, qhash: u64) -> String {
    let b = base64::engine::general_purpose::STANDARD;
    format!(
        "_f_{}_sa_{}",
        b.encode(pos.to_string()),
        b.encode(format!("[\"{qhash:x}\"]"))
    )
}

fn decode_cursor(s: &str, qhash: u64) -> Option<usize> {
    let b = base64::engine::general_purpose::STANDARD;
    let rest = s.strip_prefix("_f_")?;
    let (pos, tag) = rest.split_once("_sa_")?;
    let pos: usize = String::from_utf8(b.decode(pos).ok()?).ok()?.parse().ok()?;
    let tag = String::from_utf8(b.decode(tag).ok()?).ok()?;
    (tag == format!("[\"{qhash:x}\"]")).then_some(pos)
}

/// The per-request cap: 50 with a body expansion, 200 with other expansions, 1000 without.
fn cap_for(exp: &Expand) -> usize {
    if exp.mentions("body") {
        50
    } else if !exp.is_empty() {
        200
    } else {
        1000
    }
}

/// Cloud cursor window: position, page size (jittered short pages) and the `next` cursor.
fn cursor_window(
    c: &Call<'_>,
    p: &Prepared,
    total: usize,
    limit: usize,
) -> Result<(usize, usize, Option<String>), Resp> {
    let pos = match c.q().get("cursor") {
        None | Some("") => 0,
        // A sloppy server that ignores where the crawler is: always the first page.
        Some(_) if c.quirks.ignore_start && c.is_content_listing() => 0,
        Some(cur) => decode_cursor(cur, p.qhash).ok_or_else(|| {
            Resp::json(400, &json!({"statusCode": 400, "message": "com.atlassian.confluence.api.service.exceptions.BadRequestException: Invalid cursor: XP-Search Aggregator API returned an error"}))
        })?,
    };
    let mut n = limit.min(total.saturating_sub(pos));
    if pos + n < total && n > 1 {
        let jitter =
            (rng::hash(c.site.seed, &[p.qhash, pos as u64]) % (limit as u64 / 25 + 1)) as usize;
        n = (n - jitter.min(n - 1)).max(1);
    }
    let next = (pos + n < total && n > 0).then(|| encode_cursor(pos + n, p.qhash));
    Ok((pos, n, next))
}

fn cursor_links(
    c: &Call<'_>,
    api_path: &str,
    p: &Prepared,
    limit: usize,
    next: Option<String>,
    drop: &[&str],
) -> Value {
    let mut links = json!({
        "base": c.sh.base(),
        "context": c.sh.context(),
        "self": format!("{}{api_path}?{}", c.sh.base(), form_urlencoded::Serializer::new(String::new()).append_pair("cql", &p.cql).finish()),
    });
    if let Some(cur) = next.filter(|_| !c.quirks.omit_next) {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("next", "true");
        s.append_pair("cursor", &cur);
        for (k, v) in &c.req.query {
            if !matches!(
                k.as_str(),
                "cql" | "cursor" | "next" | "prev" | "limit" | "start"
            ) && !drop.contains(&k.as_str())
            {
                s.append_pair(k, v);
            }
        }
        s.append_pair("limit", &limit.to_string());
        s.append_pair("cql", &p.cql);
        links["next"] = json!(format!("{api_path}?{}", s.finish()));
    }
    links
}

/// `GET /rest/api/content/search`.
pub(super) fn content_search(c: &Call<'_>) -> Res {
    let prepared = prepare(c)?;
    let exp = c.expand("");
    if c.flavor().is_server_like() && exp.mentions("permissions") && !c.is_admin() {
        return Ok(crate::http::server_error(500));
    }
    let cap = cap_for(&exp);
    let p = c.paging(25, Some(cap))?;
    let hits = evaluate(c, &prepared.query, false).map_err(|e| cql_error(c, &e))?;
    let items: Vec<u32> = hits
        .iter()
        .filter_map(|h| {
            if let Hit::Content(i) = h {
                Some(*i)
            } else {
                None
            }
        })
        .collect();
    if c.cloud() {
        let items = c.listing_order(items, p.limit);
        let (pos, n, next) = cursor_window(c, &prepared, items.len(), p.limit)?;
        let rows: Vec<Value> = items[pos.min(items.len())..(pos + n).min(items.len())]
            .iter()
            .map(|&i| c.r.content(i, &exp))
            .collect();
        let links = cursor_links(
            c,
            "/rest/api/content/search",
            &prepared,
            p.requested,
            next,
            &[],
        );
        let v = c.r.collection(rows, pos, p.requested, links);
        return Ok(Resp::json(200, &v));
    }
    let mut v = c.offset_collection(
        "/rest/api/content/search",
        &items,
        p,
        |i| c.r.content(i, &exp),
        false,
    );
    v["totalSize"] = json!(items.len());
    Ok(Resp::json(200, &v))
}

fn search_row(c: &Call<'_>, h: Hit, exp: &Expand, terms: &[String], excerpt_mode: &str) -> Value {
    let site = c.site;
    match h {
        Hit::Content(i) => {
            let x = site.c(i);
            let sp = &site.spaces[x.space as usize];
            let excerpt = if excerpt_mode == "none" || x.kind == Kind::Attachment {
                String::new()
            } else {
                let text = plain_text(&storage_body(site, i));
                let short: String = text
                    .split_whitespace()
                    .take(30)
                    .collect::<Vec<_>>()
                    .join(" ");
                if excerpt_mode.starts_with("highlight") || excerpt_mode.starts_with("indexed") {
                    highlight(&xml_escape(&short), terms)
                } else {
                    short
                }
            };
            json!({
                "content": c.r.content(i, &exp.sub("content")),
                "title": highlight(&xml_escape(&x.title), terms),
                "excerpt": excerpt,
                "url": c.r.webui(i),
                "resultGlobalContainer": {"title": sp.name, "displayUrl": c.r.space_webui(x.space)},
                "breadcrumbs": [],
                "entityType": "content",
                "iconCssClass": format!("aui-icon content-type-{}", x.kind.as_str()),
                "lastModified": iso(x.modified),
                "friendlyLastModified": friendly(x.modified),
                "score": 0.0
            })
        }
        Hit::Space(s) => {
            let sp = &site.spaces[s as usize];
            json!({
                "space": c.r.space(s, &exp.sub("space")),
                "title": highlight(&xml_escape(&sp.name), terms),
                "excerpt": "",
                "url": c.r.space_webui(s),
                "breadcrumbs": [],
                "entityType": "space",
                "iconCssClass": "aui-icon space-avatar",
                "lastModified": iso(sp.created),
                "friendlyLastModified": friendly(sp.created),
                "score": 0.0
            })
        }
    }
}

/// `GET /rest/api/search`.
pub(super) fn search(c: &Call<'_>) -> Res {
    let q = c.q();
    if c.cloud() {
        // Non-integer paging parameters are refused by JAX-RS with a bodiless 404.
        for k in ["limit", "start"] {
            if q.get(k).is_some_and(|v| v.trim().parse::<i64>().is_err()) {
                return Err(Resp::empty(404));
            }
        }
    }
    let prepared = prepare(c)?;
    let exp = c.expand("");
    let include_archived = q.get("includeArchivedSpaces") == Some("true");
    let excerpt_mode = q.get("excerpt").unwrap_or("highlight").to_owned();
    let mut terms = Vec::new();
    if let Some(e) = &prepared.query.expr {
        text_terms(e, &mut terms);
    }
    let hits = evaluate(c, &prepared.query, include_archived).map_err(|e| cql_error(c, &e))?;
    let started = std::time::Instant::now();
    if c.cloud() {
        let p = c.paging(25, Some(1000))?;
        let (pos, n, next) = cursor_window(c, &prepared, hits.len(), p.limit)?;
        let estimate = if next.is_some() {
            hits.len() + (rng::hash(c.site.seed, &[prepared.qhash, pos as u64, 7]) % 3) as usize
        } else {
            hits.len()
        };
        let rows: Vec<Value> = hits[pos.min(hits.len())..(pos + n).min(hits.len())]
            .iter()
            .map(|&h| search_row(c, h, &exp, &terms, &excerpt_mode))
            .collect();
        let links = cursor_links(
            c,
            "/rest/api/search",
            &prepared,
            p.requested,
            next,
            &["excerpt"],
        );
        let mut v = c.r.collection(rows, pos, p.requested, links);
        v["totalSize"] = json!(estimate);
        v["cqlQuery"] = json!(prepared.cql);
        v["searchDuration"] = json!(started.elapsed().as_millis() as u64 + 12);
        v["archivedResultCount"] = json!(0);
        return Ok(Resp::json(200, &v));
    }
    let cap = if exp.mentions("body") {
        50
    } else if exp.is_empty() {
        1000
    } else {
        200
    };
    let p: Paging = c.paging(25, Some(cap))?;
    let end = (p.start + p.limit).min(hits.len());
    let rows: Vec<Value> = hits
        .get(p.start..end)
        .unwrap_or(&[])
        .iter()
        .map(|&h| search_row(c, h, &exp, &terms, &excerpt_mode))
        .collect();
    let links = c.offset_links("/rest/api/search", p, rows.len(), end < hits.len());
    let mut v = c.r.collection(rows, p.start, p.limit, links);
    v["totalSize"] = json!(hits.len());
    v["cqlQuery"] = json!(prepared.cql);
    v["searchDuration"] = json!(started.elapsed().as_millis() as u64 + 5);
    Ok(Resp::json(200, &v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bind_to_the_query() {
        let c = encode_cursor(25, 99);
        assert!(c.starts_with("_f_"));
        assert_eq!(decode_cursor(&c, 99), Some(25));
        assert_eq!(decode_cursor(&c, 98), None);
        assert_eq!(decode_cursor("garbage", 99), None);
        assert_eq!(
            highlight("Deploy runbook", &["runbook".into()]),
            "Deploy @@@hl@@@runbook@@@endhl@@@"
        );
    }
}
