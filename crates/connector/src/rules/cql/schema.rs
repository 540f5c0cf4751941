//! What CQL knows: fields and their types, the operators each type takes, functions, reserved
//! words (`confluence-api.md` section 8).

use super::ast::Op;
use crate::confluence::Flavor;

/// The type of a CQL field, which decides its operators and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    /// A content id: `ancestor`, `parent`, `container`, `content`, `id`.
    Content,
    /// A date: `created`, `lastmodified`.
    Date,
    /// A user: `creator`, `contributor`, `mention`, `watcher`, `favourite`.
    User,
    /// An exact string: `label`, `macro`, `space.category`, `subtype`, content properties.
    Str,
    /// A space key: `space`, `space.key`.
    Space,
    /// Full text: `title` (which also takes `=`), `text`, `space.title`, `space.desc`, `siteSearch`.
    Text,
    /// The content type.
    Type,
    /// `space.type`.
    SpaceType,
    /// `user`, `user.fullname`, `user.accountid`: only in `rest/api/search/user`.
    UserSearch,
}

impl FieldType {
    pub(crate) fn label(self) -> &'static str {
        match self {
            FieldType::Content => "content id",
            FieldType::Date => "date",
            FieldType::User => "user",
            FieldType::Str => "string",
            FieldType::Space => "space key",
            FieldType::Text => "text",
            FieldType::Type => "content type",
            FieldType::SpaceType => "space type",
            FieldType::UserSearch => "user (user search only)",
        }
    }
}

/// A field: its canonical (lower-case) name, how Confluence spells it, its type, a description.
pub(crate) struct Field {
    pub name: &'static str,
    pub display: &'static str,
    pub ty: FieldType,
    pub doc: &'static str,
}

const fn f(name: &'static str, display: &'static str, ty: FieldType, doc: &'static str) -> Field {
    Field {
        name,
        display,
        ty,
        doc,
    }
}

/// Every field, in the order completion offers them.
pub(crate) const FIELDS: &[Field] = &[
    f(
        "type",
        "type",
        FieldType::Type,
        "content type: page, blogpost, attachment, comment, space, ...",
    ),
    f("space", "space", FieldType::Space, "space key"),
    f("space.key", "space.key", FieldType::Space, "space key"),
    f(
        "title",
        "title",
        FieldType::Text,
        "title: `=` exact, `~` words",
    ),
    f("text", "text", FieldType::Text, "title, body and labels"),
    f("label", "label", FieldType::Str, "label name"),
    f("created", "created", FieldType::Date, "creation date"),
    f(
        "lastmodified",
        "lastmodified",
        FieldType::Date,
        "last modification date",
    ),
    f(
        "creator",
        "creator",
        FieldType::User,
        "the user who created it",
    ),
    f(
        "contributor",
        "contributor",
        FieldType::User,
        "a user who created or edited it",
    ),
    f(
        "ancestor",
        "ancestor",
        FieldType::Content,
        "any page above it (id)",
    ),
    f(
        "parent",
        "parent",
        FieldType::Content,
        "its parent page (id)",
    ),
    f(
        "container",
        "container",
        FieldType::Content,
        "the page or blog post holding it (id)",
    ),
    f("content", "content", FieldType::Content, "content id"),
    f("id", "id", FieldType::Content, "content id"),
    f(
        "mention",
        "mention",
        FieldType::User,
        "a user mentioned in it",
    ),
    f("watcher", "watcher", FieldType::User, "a user watching it"),
    f(
        "favourite",
        "favourite",
        FieldType::User,
        "a user who saved it",
    ),
    f(
        "favorite",
        "favorite",
        FieldType::User,
        "a user who saved it",
    ),
    f("macro", "macro", FieldType::Str, "a macro used in the body"),
    f("space.title", "space.title", FieldType::Text, "space name"),
    f(
        "space.desc",
        "space.desc",
        FieldType::Text,
        "space description",
    ),
    f(
        "space.type",
        "space.type",
        FieldType::SpaceType,
        "global, personal or favourite",
    ),
    f(
        "space.category",
        "space.category",
        FieldType::Str,
        "space category",
    ),
    f(
        "subtype",
        "subtype",
        FieldType::Str,
        "content subtype (Cloud, undocumented)",
    ),
    f(
        "sitesearch",
        "siteSearch",
        FieldType::Text,
        "ranked like the search page (Cloud)",
    ),
    f("user", "user", FieldType::UserSearch, "user search only"),
    f(
        "user.fullname",
        "user.fullname",
        FieldType::UserSearch,
        "user search only",
    ),
    f(
        "user.accountid",
        "user.accountid",
        FieldType::UserSearch,
        "user search only",
    ),
];

/// The field named `name` (any case), or a content property (`content.property[x].y`).
pub(crate) fn field(name: &str) -> Option<FieldInfo> {
    let lower = name.to_ascii_lowercase();
    if let Some(known) = FIELDS.iter().find(|f| f.name == lower) {
        return Some(FieldInfo {
            name: known.name.to_owned(),
            ty: known.ty,
        });
    }
    if !lower.starts_with("content.property") {
        return None;
    }
    Some(FieldInfo {
        name: lower,
        ty: FieldType::Str,
    })
}

/// A resolved field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldInfo {
    pub name: String,
    pub ty: FieldType,
}

/// The operators a field type takes; `title` is text that also takes `=` and `IN`.
pub(crate) fn operators(field: &str, ty: FieldType) -> &'static [Op] {
    const EQ: &[Op] = &[Op::Eq, Op::Ne, Op::In, Op::NotIn];
    const DATE: &[Op] = &[Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le];
    const TITLE: &[Op] = &[
        Op::Eq,
        Op::Ne,
        Op::Contains,
        Op::NotContains,
        Op::In,
        Op::NotIn,
    ];
    const TEXT: &[Op] = &[Op::Contains, Op::NotContains];
    const USER_SEARCH: &[Op] = &[Op::Eq, Op::Contains, Op::In];
    match ty {
        FieldType::Content
        | FieldType::Str
        | FieldType::Space
        | FieldType::Type
        | FieldType::SpaceType
        | FieldType::User => EQ,
        FieldType::Date => DATE,
        FieldType::Text if field == "title" => TITLE,
        FieldType::Text => TEXT,
        FieldType::UserSearch => USER_SEARCH,
    }
}

/// Fields `ORDER BY` accepts.
pub(crate) const ORDERABLE: &[&str] = &[
    "created",
    "lastmodified",
    "title",
    "id",
    "type",
    "space",
    "space.key",
];

/// The values `type` accepts (Confluence's message lists them in this order).
pub const CONTENT_TYPES: &[&str] = &[
    "space",
    "user",
    "page",
    "blogpost",
    "comment",
    "attachment",
    "database",
    "whiteboard",
    "slide",
    "embed",
    "folder",
];

/// The documented values of `space.type`.
pub(crate) const SPACE_TYPES: &[&str] = &["global", "personal", "favourite"];

/// Words that must be quoted when used as values.
pub(crate) const RESERVED: &[&str] = &[
    "after", "and", "as", "avg", "before", "begin", "by", "commit", "contains", "count",
    "distinct", "else", "empty", "end", "explain", "from", "having", "if", "in", "inner", "insert",
    "into", "is", "isnull", "left", "like", "limit", "max", "min", "not", "null", "or", "order",
    "outer", "right", "select", "sum", "then", "was", "where", "update",
];

pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// What a function's arguments are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Args {
    /// None.
    None,
    /// At most one date increment, e.g. `"-4w"`.
    Increment,
    /// At most `n` whole numbers.
    Numbers(usize),
}

/// A CQL function.
pub(crate) struct Function {
    pub name: &'static str,
    pub types: &'static [FieldType],
    /// Operators it may follow on Cloud; `dc_ops` adds those Server/Data Center also take.
    pub ops: &'static [Op],
    pub dc_ops: &'static [Op],
    pub args: Args,
    pub dc_only: bool,
    pub doc: &'static str,
}

const DATE_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le];
const LIST_OPS: &[Op] = &[Op::In, Op::NotIn];

const fn date_fn(name: &'static str, doc: &'static str) -> Function {
    Function {
        name,
        types: &[FieldType::Date],
        ops: DATE_OPS,
        dc_ops: &[],
        args: Args::Increment,
        dc_only: false,
        doc,
    }
}

/// Every function, as Confluence spells them.
pub(crate) const FUNCTIONS: &[Function] = &[
    date_fn("now", "now, optionally shifted: now(\"-4w\")"),
    date_fn("startOfDay", "start of today"),
    date_fn("endOfDay", "end of today"),
    date_fn("startOfWeek", "start of this week"),
    date_fn("endOfWeek", "end of this week"),
    date_fn("startOfMonth", "start of this month"),
    date_fn("endOfMonth", "end of this month"),
    date_fn("startOfYear", "start of this year"),
    date_fn("endOfYear", "end of this year"),
    Function {
        name: "currentUser",
        types: &[FieldType::User],
        ops: &[Op::Eq, Op::Ne],
        dc_ops: LIST_OPS,
        args: Args::None,
        dc_only: false,
        doc: "the user running the search (the crawler's account)",
    },
    Function {
        name: "favouriteSpaces",
        types: &[FieldType::Space],
        ops: LIST_OPS,
        dc_ops: &[],
        args: Args::None,
        dc_only: false,
        doc: "spaces the user saved",
    },
    Function {
        name: "favoriteSpaces",
        types: &[FieldType::Space],
        ops: LIST_OPS,
        dc_ops: &[],
        args: Args::None,
        dc_only: false,
        doc: "spaces the user saved",
    },
    Function {
        name: "recentlyViewedSpaces",
        types: &[FieldType::Space],
        ops: LIST_OPS,
        dc_ops: &[],
        args: Args::Numbers(1),
        dc_only: false,
        doc: "spaces the user viewed lately: recentlyViewedSpaces(limit)",
    },
    Function {
        name: "currentSpace",
        types: &[FieldType::Space],
        ops: &[Op::Eq, Op::Ne, Op::In, Op::NotIn],
        dc_ops: &[],
        args: Args::None,
        dc_only: true,
        doc: "the space of the search context (Server/Data Center)",
    },
    Function {
        name: "recentlyViewedContent",
        types: &[FieldType::Content],
        ops: LIST_OPS,
        dc_ops: &[],
        args: Args::Numbers(2),
        dc_only: false,
        doc: "content the user viewed lately: recentlyViewedContent(limit, fromDays)",
    },
];

pub(crate) fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

impl Function {
    pub(crate) fn allows(&self, op: Op, flavor: Flavor) -> bool {
        self.ops.contains(&op) || (flavor != Flavor::Cloud && self.dc_ops.contains(&op))
    }
}

/// Parses a date increment `(+|-)nn(y|M|w|d|h|m)`.
pub(crate) fn parse_increment(s: &str) -> Option<(i64, char)> {
    let s = s.trim();
    let unit = s.chars().last()?;
    if !matches!(unit, 'y' | 'M' | 'w' | 'd' | 'h' | 'm') {
        return None;
    }
    let num = &s[..s.len() - 1];
    let (sign, digits) = match num.strip_prefix('-') {
        Some(d) => (-1, d),
        None => (1, num.strip_prefix('+').unwrap_or(num)),
    };
    if digits.is_empty() || digits.len() > 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((sign * digits.parse::<i64>().ok()?, unit))
}

/// The date literal formats CQL accepts.
pub(crate) const DATE_FORMATS: &str =
    "\"yyyy/MM/dd HH:mm\", \"yyyy-MM-dd HH:mm\", \"yyyy/MM/dd\", \"yyyy-MM-dd\"";

/// Whether `s` is a CQL date literal.
pub(crate) fn is_date_literal(s: &str) -> bool {
    let s = s.trim();
    let (date, time) = match s.split_once(' ') {
        Some((d, t)) => (d, Some(t.trim())),
        None => (s, None),
    };
    let sep = if date.contains('/') { '/' } else { '-' };
    let parts: Vec<&str> = date.split(sep).collect();
    let num = |p: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit())
    };
    let date_ok = parts.len() == 3
        && num(parts[0], 4..=4)
        && num(parts[1], 1..=2)
        && num(parts[2], 1..=2)
        && (1..=12).contains(&parts[1].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&parts[2].parse::<u32>().unwrap_or(0));
    let time_ok = match time {
        None => true,
        Some(t) => match t.split_once(':') {
            Some((h, m)) => {
                num(h, 1..=2)
                    && num(m, 2..=2)
                    && h.parse::<u32>().unwrap_or(99) < 24
                    && m.parse::<u32>().unwrap_or(99) < 60
            }
            None => false,
        },
    };
    date_ok && time_ok
}

/// An ISO-8601 timestamp rewritten in the `yyyy-MM-dd HH:mm` form CQL takes, if `s` is one.
pub(crate) fn iso_to_cql(s: &str) -> Option<String> {
    let s = s.trim();
    let (date, rest) = s.split_once('T')?;
    if !is_date_literal(date) {
        return None;
    }
    let hm: String = rest.chars().take(5).collect();
    let candidate = format!("{date} {hm}");
    is_date_literal(&candidate).then_some(candidate)
}

/// Edit distance (Levenshtein), for suggestions.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let v = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            cur.push(v);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The `n` candidates nearest to `word`: edit distance, with a bonus for a shared start.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let lower = word.to_ascii_lowercase();
    let mut scored: Vec<(usize, usize, &str)> = candidates
        .enumerate()
        .map(|(i, c)| {
            let cl = c.to_ascii_lowercase();
            let shared = lower
                .chars()
                .zip(cl.chars())
                .take_while(|(a, b)| a == b)
                .count();
            let contains = !lower.is_empty() && (cl.contains(&lower) || lower.contains(&cl));
            let score =
                distance(&lower, &cl).saturating_sub(shared.min(3) + 2 * usize::from(contains));
            (score, i, c)
        })
        .collect();
    scored.sort();
    scored.into_iter().take(n).map(|(_, _, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_literals() {
        for ok in [
            "2014/09/01",
            "2014-09-01",
            "2014/09/01 10:30",
            "2024-1-2 9:05",
        ] {
            assert!(is_date_literal(ok), "{ok}");
        }
        for bad in [
            "2026-05-12T09:00:00.000Z",
            "2014.09.01",
            "14/09/01",
            "2014-13-01",
            "2014-01-01 25:00",
            "",
        ] {
            assert!(!is_date_literal(bad), "{bad}");
        }
        assert_eq!(
            iso_to_cql("2026-05-12T09:00:00.000Z").as_deref(),
            Some("2026-05-12 09:00")
        );
    }

    #[test]
    fn increments() {
        assert_eq!(parse_increment("-4w"), Some((-4, 'w')));
        assert_eq!(parse_increment("1M"), Some((1, 'M')));
        assert_eq!(parse_increment("+2d"), Some((2, 'd')));
        assert_eq!(parse_increment("4q"), None);
        assert_eq!(parse_increment("-w"), None);
        assert_eq!(parse_increment(""), None);
    }

    #[test]
    fn status_suggests_space_fields_first() {
        let names = FIELDS.iter().map(|f| f.display);
        let near = nearest("status", names, 5);
        assert!(near.contains(&"space"), "{near:?}");
        assert_eq!(
            nearest("titel", FIELDS.iter().map(|f| f.display), 1),
            ["title"]
        );
        assert_eq!(
            nearest("lastmodifed", FIELDS.iter().map(|f| f.display), 1),
            ["lastmodified"]
        );
    }
}
