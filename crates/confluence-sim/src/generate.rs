//! The deterministic site generator.

use std::collections::{HashMap, HashSet};

use crate::files::{ALL_KINDS, FileKind, big_size};
use crate::model::{ADMIN, CRAWLER, Content, Group, Kind, Site, Space, Status, User};
use crate::options::{Counts, Flavor, LargeFiles, SiteSize};
use crate::rng::Rng;
use crate::text::{self, FIRST, LABELS, LAST, SPACE_WORDS};
use crate::time::{DAY_MS, ms_from_civil};

/// The fixed "now" of generated history: 2025-06-01T00:00Z. Admin edits use the real clock.
pub(crate) fn site_epoch() -> i64 {
    ms_from_civil(2025, 6, 1, 0, 0)
}

const TEAM_GROUPS: &[&str] = &[
    "engineering",
    "security-team",
    "marketing",
    "finance",
    "support",
    "design",
    "legal",
    "data-platform",
    "sales",
    "operations",
    "people-team",
    "quality",
];

struct Gen {
    site: Site,
    r: Rng,
    titles: HashMap<u32, HashSet<String>>,
    counts: Counts,
    /// Human user indexes, filled once the users exist.
    humans: Vec<u32>,
    /// Every attachment a large HTML, PDF or DOCX file in this range.
    large_files: Option<LargeFiles>,
}

/// Generates the site of a flavor, size and seed.
pub(crate) fn generate(flavor: Flavor, size: SiteSize, seed: u64) -> Site {
    generate_with(flavor, size, seed, None)
}

/// [`generate`], with every attachment a large file when `large_files` is given.
pub(crate) fn generate_with(
    flavor: Flavor,
    size: SiteSize,
    seed: u64,
    large_files: Option<LargeFiles>,
) -> Site {
    let counts = size.counts();
    let mut g = Gen {
        site: Site {
            flavor,
            seed,
            users: Vec::new(),
            groups: Vec::new(),
            spaces: Vec::new(),
            contents: Vec::new(),
            by_id: HashMap::new(),
            labels: Vec::new(),
            next_id: 98_305,
            next_space_id: 32_770,
            default_tz: chrono_tz::Tz::UTC,
        },
        r: Rng::new(seed, &[0x6E4E]),
        titles: HashMap::new(),
        counts,
        humans: Vec::new(),
        large_files,
    };
    g.users();
    g.humans = g.humans();
    g.groups();
    if counts.tiny {
        g.tiny_spaces();
    } else {
        g.spaces();
    }
    g.site
}

impl Gen {
    fn humans(&self) -> Vec<u32> {
        (2..self.site.users.len() as u32)
            .filter(|&u| !self.site.users[u as usize].app)
            .collect()
    }

    fn user(&mut self, username: String, display: String, active: bool, app: bool) {
        let r = &mut self.r;
        let account_id = if app {
            format!(
                "557058:{}-{}-{}-{}-{}",
                r.hex(8),
                r.hex(4),
                r.hex(4),
                r.hex(4),
                r.hex(12)
            )
        } else if r.chance(0.2) {
            format!(
                "712020:{}-{}-{}-{}-{}",
                r.hex(8),
                r.hex(4),
                r.hex(4),
                r.hex(4),
                r.hex(12)
            )
        } else {
            r.hex(24)
        };
        let user_key = format!("8a7f808a{}", r.hex(24));
        let secret = match self.site.flavor {
            Flavor::Cloud => format!("ATATT3xFfGF0{}", r.hex(40)),
            _ => format!("pw-{}", r.hex(12)),
        };
        let email = format!("{username}@example.com");
        self.site.users.push(User {
            username,
            display_name: display,
            email,
            account_id,
            user_key,
            active,
            app,
            secret,
            time_zone: None,
        });
    }

    fn users(&mut self) {
        self.user("svc-search".into(), "Search Crawler".into(), true, false);
        self.user("admin".into(), "Site Admin".into(), true, false);
        let n = self.counts.users.max(4);
        let apps = if self.site.flavor == Flavor::Cloud {
            if n >= 20 { 2 } else { 1 }
        } else {
            0
        };
        let humans = n.saturating_sub(2 + apps);
        let mut seen = HashSet::new();
        for i in 0..humans {
            let first = FIRST[i % FIRST.len()];
            let last = LAST[(i * 7 + (self.site.seed as usize % 5)) % LAST.len()];
            let mut username = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
            let mut k = 2;
            while !seen.insert(username.clone()) {
                username = format!("{}.{}{k}", first.to_lowercase(), last.to_lowercase());
                k += 1;
            }
            // The third and fourth humans are always active (tests rely on a few known users).
            // The first three humans are always active and the fourth never is, so that small
            // sites still show a deactivated account.
            let active = match i {
                0..=2 => true,
                3 => false,
                _ => !self.r.chance(0.08),
            };
            self.user(username, format!("{first} {last}"), active, false);
        }
        let app_names = [
            ("jira-cloud", "Jira Cloud"),
            ("automation", "Automation for Confluence"),
        ];
        for (u, d) in app_names.iter().take(apps) {
            self.user((*u).into(), (*d).into(), true, true);
        }
    }

    fn group(&mut self, name: &str, mut members: Vec<u32>) -> u32 {
        members.sort_unstable();
        members.dedup();
        let r = &mut self.r;
        let id = format!(
            "{}-{}-{}-{}-{}",
            r.hex(8),
            r.hex(4),
            r.hex(4),
            r.hex(4),
            r.hex(12)
        );
        self.site.groups.push(Group {
            name: name.into(),
            id,
            members,
        });
        (self.site.groups.len() - 1) as u32
    }

    fn groups(&mut self) {
        let humans = self.humans();
        let mut all = vec![CRAWLER, ADMIN];
        all.extend(&humans);
        self.group("confluence-users", all);
        self.group("confluence-administrators", vec![ADMIN]);
        let n = if self.counts.tiny {
            2
        } else {
            self.counts.groups.max(2)
        };
        for i in 0..n {
            let name = match TEAM_GROUPS.get(i) {
                Some(n) => (*n).to_owned(),
                None => format!("team-{}-{}", text::word(&mut self.r), i),
            };
            let members: Vec<u32> = if self.counts.tiny {
                // engineering: humans 0..4, security-team: humans 1..3.
                let range = if i == 0 { 0..4 } else { 1..3 };
                humans
                    .iter()
                    .copied()
                    .skip(range.start)
                    .take(range.end - range.start)
                    .collect()
            } else {
                let k = 3 + self.r.index(humans.len().clamp(1, 18));
                (0..k).map(|_| *self.r.pick(&humans)).collect()
            };
            self.group(&name, members);
        }
    }

    fn space(&mut self, key: String, name: String, personal: bool, creator: u32) -> u32 {
        let mut id = self.site.next_space_id;
        self.site.next_space_id += 1 + self.r.below(4) * 32_768;
        // Space and content ids come from one generator in Confluence: never reuse a content id.
        while self.site.content_by_id(id).is_some() {
            id = self.site.next_space_id;
            self.site.next_space_id += 1;
        }
        let created = site_epoch() - (700 + self.r.below(1500) as i64) * DAY_MS;
        let description = format!(
            "{} {}",
            text::sentence(self.site.seed, id, 1),
            text::filler(&mut self.r)
        );
        self.site.spaces.push(Space {
            id,
            key,
            name,
            description,
            personal,
            archived: false,
            homepage: None,
            created,
            creator,
            read_users: Vec::new(),
            read_groups: Vec::new(),
            anonymous: false,
            admins: vec![ADMIN],
            contents: Vec::new(),
        });
        (self.site.spaces.len() - 1) as u32
    }

    fn personal_key(&self, u: u32) -> String {
        let user = &self.site.users[u as usize];
        match self.site.flavor {
            Flavor::Cloud => format!("~{}", user.account_id.replace([':', '-'], "")),
            _ => format!("~{}", user.username),
        }
    }

    fn unique_title(&mut self, space: u32, t: String) -> String {
        let set = self.titles.entry(space).or_default();
        let mut title = t.clone();
        let mut k = 2;
        while !set.insert(title.to_lowercase()) {
            title = format!("{t} ({k})");
            k += 1;
        }
        title
    }

    fn random_human(&mut self) -> u32 {
        if self.humans.is_empty() {
            return ADMIN;
        }
        self.humans[self.r.index(self.humans.len())]
    }

    /// Adds a content item with generated history.
    fn add(
        &mut self,
        kind: Kind,
        space: u32,
        parent: Option<u32>,
        title: String,
        after: i64,
    ) -> u32 {
        let id = self.site.alloc_id();
        let epoch = site_epoch();
        let created = (after
            + DAY_MS
            + self.r.below(((epoch - after) / DAY_MS).max(2) as u64 / 2) as i64 * DAY_MS
            + self.r.below(DAY_MS as u64) as i64)
            .min(epoch - 3_600_000);
        let edits = if self.r.chance(0.4) {
            0
        } else {
            self.r.range(1, 6) as u32
        };
        let modified = if edits == 0 {
            created
        } else {
            (created + self.r.below(((epoch - created) / 1000).max(1) as u64) as i64 * 1000)
                .min(epoch)
        };
        let creator = self.random_human();
        let modifier = if edits == 0 {
            creator
        } else {
            self.random_human()
        };
        let idx = self.site.contents.len() as u32;
        let position = parent.map_or(0, |p| self.site.contents[p as usize].children.len() as u32);
        self.site.contents.push(Content {
            id,
            kind,
            space,
            parent,
            reply_to: None,
            title: title.into_boxed_str(),
            version: 1 + edits,
            created,
            modified,
            creator,
            modifier,
            labels: Vec::new(),
            restrict_users: Vec::new(),
            restrict_groups: Vec::new(),
            children: Vec::new(),
            body: None,
            position,
            status: Status::Current,
            with_container: false,
            changed: modified,
            inline: false,
            file: None,
        });
        self.site.by_id.insert(id, idx);
        self.site.spaces[space as usize].contents.push(idx);
        if let Some(p) = parent {
            self.site.contents[p as usize].children.push(idx);
        }
        idx
    }

    fn page(&mut self, space: u32, parent: Option<u32>, title: Option<String>) -> u32 {
        let t = match title {
            Some(t) => t,
            None => text::page_title(&mut self.r),
        };
        let t = self.unique_title(space, t);
        let after = parent.map_or(self.site.spaces[space as usize].created, |p| {
            self.site.c(p).created
        });
        let idx = self.add(Kind::Page, space, parent, t, after);
        self.labels(idx);
        idx
    }

    fn blog(&mut self, space: u32) -> u32 {
        let t = text::blog_title(&mut self.r);
        let t = self.unique_title(space, t);
        let after = self.site.spaces[space as usize].created;
        let idx = self.add(Kind::BlogPost, space, None, t, after);
        self.labels(idx);
        idx
    }

    fn labels(&mut self, idx: u32) {
        let n = if self.r.chance(0.4) {
            0
        } else {
            1 + self.r.index(3)
        };
        for _ in 0..n {
            let name = *self.r.pick(LABELS);
            let l = self.site.intern_label(name);
            let c = &mut self.site.contents[idx as usize];
            if !c.labels.contains(&l) {
                c.labels.push(l);
            }
        }
    }

    fn attachment(
        &mut self,
        container: u32,
        kind: FileKind,
        size: Option<u64>,
        name: Option<&str>,
    ) -> u32 {
        // A memory benchmark's site: every file not given a size is a large document.
        let (kind, size) = match (self.large_files, size) {
            (Some(range), None) => {
                let kind = *self
                    .r
                    .pick(&[FileKind::Html, FileKind::Pdf, FileKind::Docx]);
                let spread = (range.max_bytes - range.min_bytes) as f64;
                (
                    kind,
                    Some(range.min_bytes + (self.r.unit() * spread) as u64),
                )
            }
            _ => (kind, size),
        };
        let stem = match name {
            Some(n) => n.to_owned(),
            None if self.r.chance(0.15) => {
                format!("{} notes {}", text::word(&mut self.r), self.r.range(1, 9))
            }
            None => format!("{}-{}", text::word(&mut self.r), text::word(&mut self.r)),
        };
        let mut title = format!("{stem}.{}", kind.ext());
        let existing: Vec<String> = self
            .site
            .children_of_kind(container, Kind::Attachment)
            .iter()
            .map(|&a| self.site.c(a).title.to_string())
            .collect();
        let mut k = 2;
        while existing.contains(&title) {
            title = format!("{stem}-{k}.{}", kind.ext());
            k += 1;
        }
        let size = size.unwrap_or_else(|| kind.pick_size(&mut self.r));
        let space = self.site.c(container).space;
        let after = self.site.c(container).created;
        let idx = self.add(Kind::Attachment, space, Some(container), title, after);
        let c = &mut self.site.contents[idx as usize];
        c.file = Some((kind, size));
        idx
    }

    fn comment(&mut self, container: u32, inline: bool, reply_to: Option<u32>) -> u32 {
        let title = format!("Re: {}", self.site.c(container).title);
        let space = self.site.c(container).space;
        let after = reply_to.map_or(self.site.c(container).created, |r| self.site.c(r).created);
        let idx = self.add(Kind::Comment, space, Some(container), title, after);
        let c = &mut self.site.contents[idx as usize];
        c.inline = inline;
        c.reply_to = reply_to;
        idx
    }

    fn restrict(&mut self, idx: u32, users: Vec<u32>, groups: Vec<u32>) {
        let c = &mut self.site.contents[idx as usize];
        c.restrict_users = users;
        c.restrict_groups = groups;
    }

    fn extras_for(&mut self, container: u32, with_replies: bool) {
        let n_att = self.r.around(self.counts.attachments_per_page);
        for _ in 0..n_att {
            let kind = *self.r.pick(&ALL_KINDS);
            self.attachment(container, kind, None, None);
        }
        let n_com = self.r.around(self.counts.comments_per_page);
        let mut last_footer = None;
        for _ in 0..n_com {
            let inline = self.r.chance(0.3);
            let reply = if with_replies && !inline && self.r.chance(0.25) {
                last_footer
            } else {
                None
            };
            let c = self.comment(container, inline, reply);
            if !inline && reply.is_none() {
                last_footer = Some(c);
            }
        }
    }

    fn tiny_spaces(&mut self) {
        let users_group = 0;
        let (eng_g, sec_g) = (2, 3);
        let humans = self.humans();
        let eng = self.space("ENG".into(), "Engineering".into(), false, ADMIN);
        self.site.spaces[eng as usize].read_groups = vec![users_group];
        let docs = self.space("DOCS".into(), "Public Docs".into(), false, ADMIN);
        self.site.spaces[docs as usize].read_groups = vec![users_group];
        self.site.spaces[docs as usize].anonymous = true;
        let owner = humans[0];
        let key = self.personal_key(owner);
        let name = self.site.users[owner as usize].display_name.clone();
        let personal = self.space(key, name.clone(), true, owner);
        {
            let s = &mut self.site.spaces[personal as usize];
            s.read_users = vec![owner];
            s.read_groups = vec![users_group];
            s.admins = vec![owner];
        }
        let _ = eng_g;

        // ENG: a homepage, a tree three levels deep, and a restricted subtree.
        let home = self.page(eng, None, Some("Engineering Home".into()));
        self.site.spaces[eng as usize].homepage = Some(home);
        let arch = self.page(eng, Some(home), Some("Architecture overview".into()));
        let svc = self.page(eng, Some(arch), Some("Service catalogue".into()));
        let _deep = self.page(eng, Some(svc), Some("Search service design".into()));
        let sec = self.page(eng, Some(home), Some("Security runbooks".into()));
        self.restrict(sec, vec![CRAWLER], vec![sec_g]);
        let contacts = self.page(eng, Some(sec), Some("Incident contacts".into()));
        self.restrict(contacts, vec![CRAWLER, humans[1]], vec![]);
        let _root2 = self.page(eng, None, Some("Team calendar archive".into()));
        let b1 = self.blog(eng);
        let _b2 = self.blog(eng);

        // DOCS (anonymous read) and the personal space.
        let dhome = self.page(docs, None, Some("Public Docs Home".into()));
        self.site.spaces[docs as usize].homepage = Some(dhome);
        let guide = self.page(docs, Some(dhome), Some("Getting started guide".into()));
        let faq = self.page(docs, Some(dhome), Some("Frequently asked questions".into()));
        let _api = self.page(docs, Some(guide), Some("API reference".into()));
        let b3 = self.blog(docs);
        let phome = self.page(personal, None, Some(format!("{name} Home")));
        self.site.spaces[personal as usize].homepage = Some(phome);
        let todo = self.page(personal, Some(phome), Some("My notes".into()));

        // One attachment of every kind, spread over the tree (restricted pages included).
        self.attachment(
            arch,
            FileKind::Pdf,
            Some(48_211),
            Some("architecture-overview"),
        );
        self.attachment(svc, FileKind::Docx, Some(21_904), Some("service-catalogue"));
        self.attachment(svc, FileKind::Xlsx, Some(17_330), Some("capacity plan"));
        self.attachment(sec, FileKind::Pptx, Some(61_006), Some("security-briefing"));
        self.attachment(contacts, FileKind::Csv, Some(6_120), Some("on-call rota"));
        self.attachment(guide, FileKind::Txt, Some(3_377), Some("Résumé équipe"));
        self.attachment(faq, FileKind::Html, Some(5_005), Some("faq-export"));
        self.attachment(b3, FileKind::Md, Some(2_718), Some("release-notes"));
        self.attachment(todo, FileKind::Png, Some(171_717), Some("whiteboard photo"));
        // Comments: a footer and an inline one on a page, a footer one on a blog post.
        self.comment(arch, false, None);
        self.comment(arch, true, None);
        self.comment(b1, false, None);
    }

    fn spaces(&mut self) {
        let c = self.counts;
        let n_groups = self.site.groups.len() as u32;
        let mut globals = Vec::new();
        for s in 0..c.spaces {
            let (key, name) = match SPACE_WORDS.get(s) {
                Some((k, n)) => ((*k).to_owned(), (*n).to_owned()),
                None => {
                    let mut k = String::new();
                    let mut v = s;
                    loop {
                        k.push((b'A' + (v % 26) as u8) as char);
                        v /= 26;
                        if v == 0 {
                            break;
                        }
                    }
                    (
                        format!("SP{k}"),
                        format!("Space {} {}", text::word(&mut self.r), s),
                    )
                }
            };
            let sp = self.space(key, name, false, ADMIN);
            let space = &mut self.site.spaces[sp as usize];
            if s % 4 == 3 && n_groups > 2 {
                // A team space: one or two team groups plus the crawler's account.
                space.read_groups = vec![2 + (s as u32 % (n_groups - 2))];
                space.read_users = vec![CRAWLER];
            } else {
                space.read_groups = vec![0];
            }
            space.anonymous = s % 5 == 1;
            globals.push(sp);
        }
        if c.extras {
            let arch = self.space("ARCHIVE".into(), "Old Projects".into(), false, ADMIN);
            self.site.spaces[arch as usize].archived = true;
            self.site.spaces[arch as usize].read_groups = vec![0];
            globals.push(arch);
            // A space the crawler cannot see: nothing of it belongs in the ground truth.
            let hidden = self.space("BOARD".into(), "Board Room".into(), false, ADMIN);
            self.site.spaces[hidden as usize].read_groups = vec![1];
            self.site.spaces[hidden as usize].read_users =
                vec![*self.humans().first().unwrap_or(&ADMIN)];
            globals.push(hidden);
        }
        let personal_count = (c.spaces / 3).max(1);
        let humans = self.humans();
        let mut personals = Vec::new();
        for i in 0..personal_count.min(humans.len()) {
            let owner = humans[i * humans.len() / personal_count.max(1)];
            let key = self.personal_key(owner);
            let name = self.site.users[owner as usize].display_name.clone();
            let sp = self.space(key, name, true, owner);
            let s = &mut self.site.spaces[sp as usize];
            s.read_users = vec![owner];
            s.read_groups = vec![0];
            s.admins = vec![owner];
            personals.push(sp);
        }
        let mut big_done = !c.extras;
        let mut secret_done = !c.extras;
        for (i, &sp) in globals.iter().chain(personals.iter()).enumerate() {
            let personal = self.site.spaces[sp as usize].personal;
            let n_pages = if personal {
                (c.pages_per_space / 5).max(2)
            } else {
                c.pages_per_space
            };
            let n_blogs = if personal {
                c.blogposts_per_space.min(1)
            } else {
                c.blogposts_per_space
            };
            let name = self.site.spaces[sp as usize].name.clone();
            let home = self.page(sp, None, Some(format!("{name} Home")));
            self.site.spaces[sp as usize].homepage = Some(home);
            let mut pages = vec![home];
            for _ in 1..n_pages {
                let parent = if self.r.chance(0.04) {
                    None
                } else if self.r.chance(0.6) {
                    let lo = pages.len().saturating_sub(8);
                    Some(pages[lo + self.r.index(pages.len() - lo)])
                } else {
                    Some(*self.r.pick(&pages))
                };
                let p = self.page(sp, parent, None);
                pages.push(p);
                if !personal && n_groups > 2 {
                    if self.r.chance(0.04) {
                        let g = 2 + self.r.below(u64::from(n_groups - 2)) as u32;
                        self.restrict(p, vec![CRAWLER], vec![g]);
                    } else if self.r.chance(0.015) {
                        let u = self.random_human();
                        self.restrict(p, vec![CRAWLER, u], vec![]);
                    }
                }
            }
            if !secret_done && i == 0 && pages.len() > 3 {
                // A page only its owner may read: invisible to the crawler.
                let owner = *self.humans().first().unwrap_or(&ADMIN);
                let p = self.page(sp, Some(home), Some("Private draft".into()));
                self.restrict(p, vec![owner], vec![]);
                pages.push(p);
                secret_done = true;
            }
            let mut containers = pages.clone();
            for _ in 0..n_blogs {
                containers.push(self.blog(sp));
            }
            for &ct in &containers {
                if !big_done {
                    let big = big_size(&mut self.r);
                    self.attachment(ct, FileKind::Pdf, Some(big), Some("design-archive-full"));
                    big_done = true;
                }
                self.extras_for(ct, true);
            }
            if i == 0 && c.extras {
                self.attachment(home, FileKind::Txt, None, Some("Résumé équipe"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_site_has_the_promised_shape() {
        let site = generate(Flavor::Cloud, SiteSize::Tiny, 7);
        let count = |k: Kind| site.contents.iter().filter(|c| c.kind == k).count();
        assert_eq!(site.spaces.len(), 3);
        assert!(site.spaces.iter().any(|s| s.personal));
        assert!(site.spaces.iter().any(|s| s.anonymous));
        assert_eq!(count(Kind::Attachment), 9);
        assert_eq!(count(Kind::Comment), 3);
        let total = site.contents.len() + site.spaces.len();
        assert!((25..=40).contains(&total), "{total}");
        assert!(site.contents.iter().any(|c| c.restricted()));
        assert!(
            site.contents
                .iter()
                .all(|c| c.file.is_none_or(|(_, s)| s < 10 * 1024 * 1024))
        );
    }

    #[test]
    fn generation_is_deterministic() {
        let a = generate(Flavor::Server, SiteSize::Small, 11);
        let b = generate(Flavor::Server, SiteSize::Small, 11);
        let ta: Vec<_> = a
            .contents
            .iter()
            .map(|c| (c.id, c.title.clone(), c.version))
            .collect();
        let tb: Vec<_> = b
            .contents
            .iter()
            .map(|c| (c.id, c.title.clone(), c.version))
            .collect();
        assert_eq!(ta, tb);
        let n = a.contents.len() + a.spaces.len();
        assert!((350..=800).contains(&n), "{n}");
        assert!(
            a.contents
                .iter()
                .any(|c| c.file.is_some_and(|(_, s)| s > 10 * 1024 * 1024))
        );
        assert!(a.spaces.iter().any(|s| s.archived));
    }

    #[test]
    fn large_files_make_every_attachment_a_large_document() {
        let mib = 1024 * 1024;
        let range = LargeFiles {
            min_bytes: mib,
            max_bytes: 25 * mib,
        };
        let site = generate_with(Flavor::Server, SiteSize::Small, 11, Some(range));
        let files: Vec<(FileKind, u64)> = site.contents.iter().filter_map(|c| c.file).collect();
        assert!(files.len() > 50, "{}", files.len());
        // The site's one big file stays; every other is a large HTML, PDF or DOCX file.
        for (kind, size) in files
            .iter()
            .filter(|(_, s)| !(10 * mib..11 * mib + 800_000).contains(s))
        {
            assert!(
                matches!(kind, FileKind::Html | FileKind::Pdf | FileKind::Docx),
                "{kind:?}"
            );
            assert!((mib..=25 * mib).contains(size), "{size}");
        }
        let kinds: std::collections::HashSet<_> = files.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds.len(), 3, "{kinds:?}");
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    fn docs(size: SiteSize) -> usize {
        let s = generate(Flavor::Cloud, size, 7);
        s.contents.len() + s.spaces.len()
    }

    #[test]
    fn named_sizes_land_near_their_targets() {
        let m = docs(SiteSize::Medium);
        assert!((4000..=6500).contains(&m), "medium {m}");
    }
}
