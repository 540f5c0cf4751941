//! Confluence storage format (XHTML with `ac:` and `ri:` elements) to plain text.
//!
//! # Why quick-xml
//!
//! Storage bodies are XHTML fragments: no root element, no namespace declarations, CDATA
//! sections (code blocks, plain-text link labels) and HTML entities such as `&nbsp;` that XML
//! does not define. An HTML5 parser (html5ever/scraper) would treat `<![CDATA[` as a bogus
//! comment, which is exactly how Elastic's connector loses code (see `reference-connector.md`
//! section 7), and would lower-case and flatten the `ac:`/`ri:` names. quick-xml in its lenient
//! configuration (no end-name checks, unmatched ends allowed, dangling `&` allowed) reports
//! CDATA as CDATA, keeps `ac:structured-macro` as a name, gives each entity reference as its own
//! event (resolved here from an HTML table), and lets us recover from malformed input.
//!
//! # What is kept
//!
//! Text of paragraphs, headings, lists and layouts (one line per block, whitespace collapsed);
//! code and no-format bodies verbatim; link labels (`ac:link-body`, `ac:plain-text-link-body`,
//! else the linked page title, attachment file name or space key); table cells separated by
//! ` | `, one row per line; panel, info, note, warning, tip and expand bodies with their title;
//! `include` and `excerpt-include` macros as placeholders naming the page (`[include: Title]`);
//! user mentions as display names through a [`UserResolver`]; tasks as `[ ]` / `[x]`; image alt
//! text; `<time datetime>` dates.
//!
//! # What is dropped
//!
//! Macro parameters (language, colours, ...), emoticons, image file references, placeholders,
//! task ids, scripts and styles, comments.
//!
//! [`storage_to_text`] never panics, whatever the input: on a syntax error it keeps what it had
//! and reads the rest as text with tags removed.

mod entities;
mod output;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use output::Output;

/// A user mention (`<ri:user .../>`) as the storage format gives it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mention<'a> {
    /// Cloud `ri:account-id`.
    pub account_id: Option<&'a str>,
    /// Server/DC `ri:userkey`.
    pub user_key: Option<&'a str>,
    /// Old `ri:username`.
    pub username: Option<&'a str>,
}

impl Mention<'_> {
    /// What to show when no display name is known: the account id, username or user key.
    pub fn fallback(&self) -> Option<&str> {
        self.account_id.or(self.username).or(self.user_key)
    }
}

/// Turns a mention into a display name (e.g. from a cache filled by the user listing).
pub trait UserResolver {
    /// The display name of `mention`, `None` when unknown.
    fn display_name(&self, mention: &Mention<'_>) -> Option<String>;
}

impl<F> UserResolver for F
where
    F: Fn(&Mention<'_>) -> Option<String>,
{
    fn display_name(&self, mention: &Mention<'_>) -> Option<String> {
        self(mention)
    }
}

/// A resolver that knows nobody: mentions show as account ids or usernames.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoResolver;

impl UserResolver for NoResolver {
    fn display_name(&self, _: &Mention<'_>) -> Option<String> {
        None
    }
}

/// Plain text of a storage-format body; mentions show as account ids or usernames.
pub fn storage_to_text(storage: &str) -> String {
    storage_to_text_with(storage, &NoResolver)
}

/// Plain text of a storage-format body, naming mentioned users through `resolver`.
pub fn storage_to_text_with(storage: &str, resolver: &dyn UserResolver) -> String {
    let mut c = Converter {
        out: Output::default(),
        stack: Vec::new(),
        captures: Vec::new(),
        resolver,
    };
    c.run(storage);
    c.out.finish()
}

/// Macros whose `title` parameter is shown above their body.
const TITLED_MACROS: &[&str] = &[
    "panel", "info", "note", "warning", "tip", "expand", "excerpt", "code", "section",
];

/// Elements that end a line before and after.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "blockquote",
    "dl",
    "dt",
    "dd",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "figcaption",
    "caption",
    "ac:layout",
    "ac:layout-section",
    "ac:layout-cell",
    "ac:rich-text-body",
    "ac:task-list",
    "ac:task",
    "ac:structured-macro",
    "ac:macro",
    "ac:adf-extension",
];

/// Elements whose whole content is dropped.
const DROPPED: &[&str] = &[
    "ac:emoticon",
    "ac:placeholder",
    "ac:task-id",
    "ac:task-uuid",
    "script",
    "style",
    "ac:adf-attribute",
    "ac:adf-fallback",
];

/// HTML elements that never have content.
const VOID: &[&str] = &[
    "br", "hr", "img", "col", "input", "meta", "link", "wbr", "area", "base", "embed", "source",
    "track", "param",
];

#[derive(Debug)]
enum Frame {
    /// Any element without special handling.
    Plain { name: String, block: bool },
    /// Content dropped.
    Skip { name: String },
    /// `ac:link`: label seen so far, and the fallback label.
    Link {
        labeled: bool,
        fallback: Option<String>,
    },
    /// `ac:structured-macro` / `ac:macro`.
    Macro { name: String },
    /// A kept macro parameter (captured, shown as a line).
    Param,
    /// `ac:plain-text-body` or `pre`: captured, shown verbatim.
    Verbatim { name: String },
    /// `ac:task-status`: captured, shown as `[ ]` or `[x]`.
    TaskStatus,
    /// `tr`: cells seen.
    Row { cells: usize },
    /// `td` / `th`.
    Cell { name: String },
    /// `ac:image`: its alt text was shown; content dropped.
    Image,
}

impl Frame {
    fn name(&self) -> &str {
        match self {
            Frame::Plain { name, .. }
            | Frame::Skip { name }
            | Frame::Macro { name }
            | Frame::Verbatim { name }
            | Frame::Cell { name } => name,
            Frame::Link { .. } => "ac:link",
            Frame::Param => "ac:parameter",
            Frame::TaskStatus => "ac:task-status",
            Frame::Row { .. } => "tr",
            Frame::Image => "ac:image",
        }
    }
}

struct Converter<'r> {
    out: Output,
    stack: Vec<Frame>,
    /// Text captured instead of written (code bodies, task status, macro titles).
    captures: Vec<String>,
    resolver: &'r dyn UserResolver,
}

impl Converter<'_> {
    fn run(&mut self, input: &str) {
        let mut reader = Reader::from_str(input);
        {
            let cfg = reader.config_mut();
            cfg.check_end_names = false;
            cfg.allow_unmatched_ends = true;
            cfg.allow_dangling_amp = true;
            cfg.check_comments = false;
            cfg.expand_empty_elements = false;
            cfg.trim_text(false);
        }
        let mut errors = 0u32;
        loop {
            let before = reader.buffer_position();
            match reader.read_event() {
                Ok(Event::Eof) => break,
                Ok(event) => self.event(event),
                Err(_) => {
                    errors += 1;
                    let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
                    if reader.buffer_position() <= before || errors > 100 {
                        // No progress: read the rest as text without tags.
                        if let Some(rest) = input.get(pos.min(input.len())..) {
                            self.text(&strip_tags(rest));
                        }
                        break;
                    }
                }
            }
        }
        while let Some(frame) = self.stack.pop() {
            self.close(frame);
        }
        // Captures left open by truncated input are written as text.
        for captured in std::mem::take(&mut self.captures) {
            self.out.text(&captured);
        }
    }

    fn skipping(&self) -> bool {
        self.stack
            .iter()
            .any(|f| matches!(f, Frame::Skip { .. } | Frame::Image))
    }

    fn in_cell(&self) -> bool {
        self.stack.iter().any(|f| matches!(f, Frame::Cell { .. }))
    }

    fn macro_name(&self) -> Option<&str> {
        self.stack.iter().rev().find_map(|f| match f {
            Frame::Macro { name } => Some(name.as_str()),
            _ => None,
        })
    }

    /// A line break, or a space inside a table cell (a row stays on one line).
    fn block_break(&mut self) {
        if self.captures.is_empty() {
            if self.in_cell() {
                self.out.space();
            } else {
                self.out.newline();
            }
        } else if let Some(c) = self.captures.last_mut() {
            c.push('\n');
        }
    }

    fn text(&mut self, s: &str) {
        if s.is_empty() || self.skipping() {
            return;
        }
        if let Some(capture) = self.captures.last_mut() {
            capture.push_str(s);
            return;
        }
        if self.out.text(s) {
            self.mark_labeled();
        }
    }

    fn mark_labeled(&mut self) {
        for frame in self.stack.iter_mut().rev() {
            if let Frame::Link { labeled, .. } = frame {
                *labeled = true;
                return;
            }
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(e) => self.start(&e, false),
            Event::Empty(e) => self.start(&e, true),
            Event::End(e) => {
                let name = e.name().as_ref().to_ascii_lowercase();
                self.end(&name);
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                self.text(&s);
            }
            Event::CData(t) => {
                let s = t.xml10_content();
                self.text(&s);
            }
            Event::GeneralRef(r) => {
                let name = r.into_inner();
                let resolved = entities::numeric(&name)
                    .map(String::from)
                    .or_else(|| entities::named(&name).map(str::to_string))
                    .unwrap_or_else(|| format!("&{name};"));
                self.text(&resolved);
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Eof => {}
        }
    }

    fn start(&mut self, e: &BytesStart<'_>, empty: bool) {
        let name = e.name().as_ref().to_ascii_lowercase();
        let empty = empty || VOID.contains(&name.as_str());
        if self.skipping() {
            if !empty {
                self.stack.push(Frame::Skip { name });
            }
            return;
        }
        let frame = match name.as_str() {
            "br" => {
                self.block_break();
                None
            }
            n if DROPPED.contains(&n) => Some(Frame::Skip { name }),
            "ac:link" => Some(Frame::Link {
                labeled: false,
                fallback: None,
            }),
            "ri:page" | "ri:blog-post" => {
                self.set_link_fallback(attr(e, "ri:content-title"));
                None
            }
            "ri:attachment" => {
                self.set_link_fallback(attr(e, "ri:filename"));
                None
            }
            "ri:space" => {
                self.set_link_fallback(attr(e, "ri:space-key"));
                None
            }
            "ri:url" => {
                self.set_link_fallback(attr(e, "ri:value"));
                None
            }
            "ri:user" => {
                self.mention(e);
                None
            }
            "ac:structured-macro" | "ac:macro" => {
                self.block_break();
                Some(Frame::Macro {
                    name: attr(e, "ac:name").unwrap_or_default().to_ascii_lowercase(),
                })
            }
            "ac:parameter" => {
                let param = attr(e, "ac:name").unwrap_or_default();
                let keep = match self.macro_name() {
                    Some(m) if TITLED_MACROS.contains(&m) => param == "title",
                    Some("jira") => param == "key",
                    // The included page: shown as a placeholder naming it.
                    Some("include" | "excerpt-include") => param.is_empty() || param == "page",
                    _ => false,
                };
                if keep {
                    self.captures.push(String::new());
                    Some(Frame::Param)
                } else {
                    Some(Frame::Skip { name })
                }
            }
            "ac:plain-text-body" | "pre" => {
                self.captures.push(String::new());
                Some(Frame::Verbatim { name })
            }
            "ac:task-status" => {
                self.captures.push(String::new());
                Some(Frame::TaskStatus)
            }
            "tr" => {
                self.block_break();
                Some(Frame::Row { cells: 0 })
            }
            "td" | "th" => {
                self.start_cell();
                Some(Frame::Cell { name })
            }
            "ac:image" | "img" => {
                if let Some(alt) = attr(e, "ac:alt").or_else(|| attr(e, "alt")) {
                    self.out.space();
                    self.text(&alt);
                    self.out.space();
                }
                Some(Frame::Image)
            }
            "time" => {
                if let Some(date) = attr(e, "datetime") {
                    self.out.space();
                    self.text(&date);
                    self.out.space();
                }
                Some(Frame::Plain { name, block: false })
            }
            _ => {
                let block = BLOCKS.contains(&name.as_str());
                if block {
                    self.block_break();
                }
                Some(Frame::Plain { name, block })
            }
        };
        if let Some(frame) = frame {
            if empty {
                self.close(frame);
            } else {
                self.stack.push(frame);
            }
        }
    }

    fn start_cell(&mut self) {
        let mut first = true;
        for frame in self.stack.iter_mut().rev() {
            if let Frame::Row { cells } = frame {
                first = *cells == 0;
                *cells += 1;
                break;
            }
        }
        if !first {
            self.out.separator(" | ");
        }
    }

    fn set_link_fallback(&mut self, value: Option<String>) {
        for frame in self.stack.iter_mut().rev() {
            if let Frame::Link { fallback, .. } = frame {
                if fallback.is_none() {
                    *fallback = value;
                }
                return;
            }
        }
    }

    fn mention(&mut self, e: &BytesStart<'_>) {
        let account_id = attr(e, "ri:account-id");
        let user_key = attr(e, "ri:userkey");
        let username = attr(e, "ri:username");
        let mention = Mention {
            account_id: account_id.as_deref(),
            user_key: user_key.as_deref(),
            username: username.as_deref(),
        };
        let name = self
            .resolver
            .display_name(&mention)
            .or_else(|| mention.fallback().map(str::to_string));
        if let Some(name) = name {
            let in_link = self.stack.iter().any(|f| matches!(f, Frame::Link { .. }));
            if in_link {
                self.set_link_fallback(Some(name));
            } else {
                self.out.space();
                self.text(&name);
                self.out.space();
            }
        }
    }

    fn end(&mut self, name: &str) {
        let Some(index) = self.stack.iter().rposition(|f| f.name() == name) else {
            return; // a stray end tag
        };
        while self.stack.len() > index {
            match self.stack.pop() {
                Some(frame) => self.close(frame),
                None => break,
            }
        }
    }

    fn close(&mut self, frame: Frame) {
        match frame {
            Frame::Plain { block: true, .. } => self.block_break(),
            Frame::Plain { .. } | Frame::Skip { .. } | Frame::Image => {}
            Frame::Link { labeled, fallback } => {
                if !labeled && let Some(label) = fallback {
                    self.out.space();
                    self.text(&label);
                    self.out.space();
                }
            }
            Frame::Macro { .. } => self.block_break(),
            Frame::Param => {
                let title = self.captures.pop().unwrap_or_default();
                if !title.trim().is_empty() {
                    let title = match self.macro_name() {
                        Some("include") => format!("[include: {}]", title.trim()),
                        Some("excerpt-include") => format!("[excerpt from: {}]", title.trim()),
                        _ => title,
                    };
                    self.block_break();
                    self.text(&title);
                    self.block_break();
                }
            }
            Frame::Verbatim { .. } => {
                let body = self.captures.pop().unwrap_or_default();
                if let Some(outer) = self.captures.last_mut() {
                    outer.push_str(&body);
                } else if !self.skipping() {
                    self.out.verbatim(&body);
                }
            }
            Frame::TaskStatus => {
                let status = self.captures.pop().unwrap_or_default();
                self.block_break();
                let mark = if status.trim().eq_ignore_ascii_case("complete") {
                    "[x]"
                } else {
                    "[ ]"
                };
                self.text(mark);
                self.out.space();
            }
            Frame::Row { .. } => self.block_break(),
            Frame::Cell { .. } => {}
        }
    }
}

/// The unescaped value of attribute `key`, if present.
fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.html_attributes()
        .flatten()
        .find(|a| a.key.as_ref().eq_ignore_ascii_case(key))
        .map(|a| entities::unescape(&a.value))
}

/// Last resort for input the parser gave up on: drop anything between `<` and `>`.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    entities::unescape(&out)
}

#[cfg(test)]
mod tests;
