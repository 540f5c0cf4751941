//! Words, names, titles, distinctive sentences and storage-format bodies.
//!
//! Bodies are never stored: `storage_body` rebuilds one from the seed, the content id and the
//! version, so the same request always returns the same XHTML.

use crate::model::{Kind, Site};
use crate::options::Flavor;
use crate::rng::Rng;

pub(crate) const FIRST: &[&str] = &[
    "Ann", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara",
    "Liam", "Maya", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wei", "Ximena", "Yusuf", "Zoe", "Amal", "Bruno", "Carla", "Diego",
];
pub(crate) const LAST: &[&str] = &[
    "Smith", "Garcia", "Okafor", "Ivanova", "Tanaka", "Muller", "Rossi", "Silva", "Kowalski",
    "Nguyen", "Haddad", "Larsen", "Moreau", "Patel", "Cohen", "Dubois", "Fischer", "Kim", "Lopez",
    "Novak", "Olsen", "Park", "Reyes", "Sato", "Weber", "Young", "Zhang", "Ahmed", "Berg", "Costa",
];
const ADJ: &[&str] = &[
    "amber", "brisk", "candid", "dusty", "eager", "frosty", "gentle", "hollow", "ivory", "jolly",
    "keen", "lucid", "mellow", "nimble", "opal", "placid", "quiet", "rapid", "silver", "tidy",
    "urban", "vivid", "woolly", "young", "zesty", "crimson", "golden", "hidden", "lunar", "polar",
];
const NOUN: &[&str] = &[
    "falcon",
    "turbine",
    "harbor",
    "lantern",
    "glacier",
    "meadow",
    "compass",
    "orchard",
    "beacon",
    "canyon",
    "ledger",
    "pipeline",
    "cluster",
    "gateway",
    "reactor",
    "archive",
    "sensor",
    "satellite",
    "monsoon",
    "kestrel",
    "quarry",
    "tundra",
    "citadel",
    "prism",
    "vessel",
    "bridge",
    "anvil",
    "summit",
    "delta",
    "spindle",
];
const VERB: &[&str] = &[
    "calibrates",
    "inspects",
    "reroutes",
    "archives",
    "monitors",
    "rebuilds",
    "audits",
    "tunes",
    "migrates",
    "balances",
    "indexes",
    "restores",
    "validates",
    "schedules",
    "mirrors",
    "patches",
];
const PLACE: &[&str] = &[
    "Lisbon", "Oslo", "Nairobi", "Osaka", "Quito", "Tallinn", "Perth", "Recife", "Lyon", "Hanoi",
    "Cusco", "Bergen", "Dakar", "Kyoto", "Tromso", "Malmo",
];
pub(crate) const TOPICS: &[&str] = &[
    "Runbook",
    "Architecture",
    "Onboarding",
    "Postmortem",
    "Roadmap",
    "Release notes",
    "Meeting notes",
    "How-to",
    "FAQ",
    "Design review",
    "Retrospective",
    "Checklist",
    "Policy",
    "Budget",
    "Incident report",
    "Test plan",
    "Style guide",
    "Glossary",
    "Requirements",
    "Decision log",
];
pub(crate) const SPACE_WORDS: &[(&str, &str)] = &[
    ("ENG", "Engineering"),
    ("OPS", "Operations"),
    ("HR", "People Team"),
    ("MKT", "Marketing"),
    ("FIN", "Finance"),
    ("SALES", "Sales"),
    ("SUP", "Support"),
    ("LEGAL", "Legal"),
    ("DES", "Design"),
    ("DATA", "Data Platform"),
    ("SEC", "Security"),
    ("PM", "Product Management"),
    ("QA", "Quality"),
    ("IT", "IT Services"),
    ("RND", "Research"),
];
pub(crate) const LABELS: &[&str] = &[
    "runbook",
    "howto",
    "architecture",
    "onboarding",
    "meeting-notes",
    "decision",
    "draft",
    "archived-info",
    "q1",
    "q2",
    "q3",
    "q4",
    "customer",
    "internal",
    "security",
    "incident",
    "release",
    "roadmap",
    "faq",
    "policy",
    "template",
    "kb",
    "team",
    "okr",
    "api",
    "infra",
    "frontend",
    "backend",
    "data",
    "legal",
];

/// A lower-case word for a seed stream.
pub(crate) fn word(r: &mut Rng) -> &'static str {
    if r.chance(0.5) {
        r.pick::<&str>(ADJ)
    } else {
        r.pick::<&str>(NOUN)
    }
}

/// The distinctive sentence of an item: unique per (id, version) and easy to find in a
/// crawler's extracted text.
pub(crate) fn sentence(seed: u64, id: u64, version: u32) -> String {
    let mut r = Rng::new(seed, &[0x5E17, id, u64::from(version)]);
    let adj = r.pick(ADJ);
    let noun = r.pick(NOUN);
    let verb = r.pick(VERB);
    let n = r.range(2, 97);
    let adj2 = r.pick(ADJ);
    let noun2 = r.pick(NOUN);
    let place = r.pick(PLACE);
    let mut s = format!("The {adj} {noun} {verb} {n} {adj2} {noun2}s near {place}");
    s.push_str(&format!(" under reference {id}v{version}."));
    let mut chars = s.chars();
    match chars.next() {
        Some(f) => f.to_uppercase().collect::<String>() + chars.as_str(),
        None => s,
    }
}

/// A filler sentence (not distinctive).
pub(crate) fn filler(r: &mut Rng) -> String {
    format!(
        "The {} {} {} the {} {} before the {} review.",
        r.pick(ADJ),
        r.pick(NOUN),
        r.pick(VERB),
        r.pick(ADJ),
        r.pick(NOUN),
        r.pick(ADJ)
    )
}

/// A page title (not yet made unique).
pub(crate) fn page_title(r: &mut Rng) -> String {
    let topic = r.pick(TOPICS);
    let a = r.pick(ADJ);
    let n = r.pick(NOUN);
    let mut t = format!("{topic}: {a} {n}");
    if r.chance(0.15) {
        t.push_str(" & friends");
    }
    t
}

/// A blog post title (not yet made unique).
pub(crate) fn blog_title(r: &mut Rng) -> String {
    let kinds = [
        "Weekly update",
        "Announcing",
        "Lessons from",
        "A look at",
        "Notes on",
    ];
    format!("{} the {} {}", r.pick(&kinds), r.pick(ADJ), r.pick(NOUN))
}

/// Escapes text for XHTML.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// The storage-format body of a page, blog post or comment.
pub(crate) fn storage_body(site: &Site, idx: u32) -> String {
    let c = site.c(idx);
    if let Some(b) = &c.body {
        return b.to_string();
    }
    let mut r = Rng::new(site.seed, &[0xB0D7, c.id, u64::from(c.version)]);
    let sent = sentence(site.seed, c.id, c.version);
    if c.kind == Kind::Comment {
        let mut s = format!("<p>{}</p>", xml_escape(&sent));
        if r.chance(0.5) {
            s.push_str(&format!("<p>{}</p>", xml_escape(&filler(&mut r))));
        }
        return s;
    }
    let mut out = String::with_capacity(2048);
    out.push_str(&format!("<h1>{}</h1>", xml_escape(&c.title)));
    out.push_str(&format!("<p>{}</p>", xml_escape(&sent)));
    let blocks = 2 + r.index(5);
    for b in 0..blocks {
        match (r.index(8) + b) % 8 {
            0 => {
                let langs = ["python", "rust", "bash", "java", "sql"];
                out.push_str(&format!(
                    "<ac:structured-macro ac:name=\"code\" ac:schema-version=\"1\" ac:macro-id=\"{}\">\
<ac:parameter ac:name=\"language\">{}</ac:parameter><ac:parameter ac:name=\"title\">Example {}</ac:parameter>\
<ac:plain-text-body><![CDATA[if a < b && b > c:\n    print(\"{} <tag> & more\")\n]]></ac:plain-text-body></ac:structured-macro>",
                    r.hex(8),
                    r.pick(&langs),
                    b,
                    r.pick(NOUN)
                ));
            }
            1 => {
                let kinds = ["info", "note", "warning", "tip", "panel"];
                out.push_str(&format!(
                    "<ac:structured-macro ac:name=\"{}\" ac:schema-version=\"1\"><ac:parameter ac:name=\"title\">Heads up</ac:parameter>\
<ac:rich-text-body><p>{}</p></ac:rich-text-body></ac:structured-macro>",
                    r.pick(&kinds),
                    xml_escape(&filler(&mut r))
                ));
            }
            2 => {
                out.push_str(&format!(
                    "<ac:structured-macro ac:name=\"expand\" ac:schema-version=\"1\"><ac:parameter ac:name=\"title\">Details</ac:parameter>\
<ac:rich-text-body><p>{}</p></ac:rich-text-body></ac:structured-macro>",
                    xml_escape(&filler(&mut r))
                ));
            }
            3 => {
                // A link to another page of the same space, by title.
                let space = &site.spaces[c.space as usize];
                let pages: Vec<u32> = space
                    .contents
                    .iter()
                    .copied()
                    .filter(|&i| site.c(i).kind == Kind::Page && site.c(i).live() && i != idx)
                    .take(64)
                    .collect();
                if let Some(&p) = pages.get(r.index(pages.len().max(1))) {
                    out.push_str(&format!(
                        "<p>See <ac:link><ri:page ri:space-key=\"{}\" ri:content-title=\"{}\" /><ac:plain-text-link-body><![CDATA[{}]]></ac:plain-text-link-body></ac:link>.</p>",
                        xml_escape(&space.key),
                        xml_escape(&site.c(p).title),
                        xml_escape(&site.c(p).title)
                    ));
                }
            }
            4 => {
                let u = 2 + r.index(site.users.len().saturating_sub(2).max(1));
                let u = u.min(site.users.len() - 1);
                let user = &site.users[u];
                let attr = match site.flavor {
                    Flavor::Cloud => format!("ri:account-id=\"{}\"", user.account_id),
                    _ => format!("ri:userkey=\"{}\"", user.user_key),
                };
                out.push_str(&format!(
                    "<p>Owner: <ac:link><ri:user {attr} /></ac:link> — {}</p>",
                    xml_escape(&filler(&mut r))
                ));
            }
            5 => {
                out.push_str("<table><tbody><tr><th>Item</th><th>Status</th></tr>");
                for _ in 0..(2 + r.index(3)) {
                    out.push_str(&format!(
                        "<tr><td>{} {}</td><td><ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"colour\">Green</ac:parameter><ac:parameter ac:name=\"title\">DONE</ac:parameter></ac:structured-macro></td></tr>",
                        r.pick(ADJ),
                        r.pick(NOUN)
                    ));
                }
                out.push_str("</tbody></table>");
            }
            6 => {
                out.push_str(&format!(
                    "<ac:task-list><ac:task><ac:task-id>{}</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>{}</ac:task-body></ac:task></ac:task-list>",
                    b + 1,
                    xml_escape(&filler(&mut r))
                ));
            }
            _ => {
                out.push_str(&format!(
                    "<h2>{} {}</h2><p>{} <strong>{}</strong> {}</p>",
                    r.pick(ADJ),
                    r.pick(NOUN),
                    xml_escape(&filler(&mut r)),
                    r.pick(NOUN),
                    xml_escape(&filler(&mut r))
                ));
            }
        }
    }
    out
}

/// Rough `view` rendering of storage: macros flattened into HTML, CDATA escaped.
pub(crate) fn view_body(storage: &str) -> String {
    let mut out = String::with_capacity(storage.len());
    let mut rest = storage;
    while let Some(start) = rest.find("<![CDATA[") {
        out.push_str(&strip_ac(&rest[..start]));
        let after = &rest[start + 9..];
        let end = after.find("]]>").unwrap_or(after.len());
        out.push_str("<pre>");
        out.push_str(&xml_escape(&after[..end]));
        out.push_str("</pre>");
        rest = after.get(end + 3..).unwrap_or("");
    }
    out.push_str(&strip_ac(rest));
    out
}

/// Removes `ac:`/`ri:` tags (keeping their text) and macro parameters.
fn strip_ac(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let tag_end = rest[lt..].find('>').map_or(rest.len(), |e| lt + e + 1);
        let tag = &rest[lt..tag_end];
        let name = tag.trim_start_matches(['<', '/']);
        if name.starts_with("ac:parameter") && !tag.starts_with("</") {
            // Skip parameter values entirely.
            let close = rest[tag_end..]
                .find("</ac:parameter>")
                .map_or(rest.len(), |e| tag_end + e + 15);
            rest = &rest[close..];
            continue;
        }
        if !(name.starts_with("ac:") || name.starts_with("ri:")) {
            out.push_str(tag);
        }
        rest = &rest[tag_end..];
    }
    out.push_str(rest);
    out
}

/// Plain text of storage or HTML: tags removed, CDATA kept, entities decoded, whitespace
/// collapsed.
pub(crate) fn plain_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        if rest[lt..].starts_with("<![CDATA[") {
            let after = &rest[lt + 9..];
            let end = after.find("]]>").unwrap_or(after.len());
            out.push(' ');
            out.push_str(&after[..end]);
            out.push(' ');
            rest = after.get(end + 3..).unwrap_or("");
            continue;
        }
        let end = rest[lt..].find('>').map_or(rest.len(), |e| lt + e + 1);
        out.push(' ');
        rest = &rest[end..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_distinct_and_stable() {
        assert_eq!(sentence(7, 10, 1), sentence(7, 10, 1));
        assert_ne!(sentence(7, 10, 1), sentence(7, 10, 2));
        assert!(sentence(7, 10, 1).ends_with("under reference 10v1."));
    }

    #[test]
    fn plain_text_keeps_cdata_and_decodes() {
        let t = plain_text(
            "<p>a &amp; b</p><ac:plain-text-body><![CDATA[x < y]]></ac:plain-text-body>",
        );
        assert_eq!(t, "a & b x < y");
        let v = view_body(
            "<ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">py</ac:parameter><ac:plain-text-body><![CDATA[a<b]]></ac:plain-text-body></ac:structured-macro>",
        );
        assert_eq!(v, "<pre>a&lt;b</pre>");
    }
}
