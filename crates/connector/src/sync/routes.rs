//! Child routes a server lacks. Some servers and proxies answer 404 (or 501) on every call of a
//! child route (`content/{id}/child/comment`, `.../child/attachment`, `.../label`) while the item
//! itself exists. That is detected once and reported once ("this server does not offer
//! comments"): the route is not called again, what it would have listed is neither indexed nor
//! deleted, and it does not block the deletions of what was listed completely. When the same
//! route works for other items, the misses were failures of those items' listings instead.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Misses, with no success, after which a route counts as missing on this server.
const MISSING_AFTER: usize = 3;

/// A child route of pages and blog posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Route {
    /// `content/{id}/label`.
    Labels,
    /// `content/{id}/child/attachment`.
    Attachments,
    /// `content/{id}/child/comment`.
    Comments,
}

impl Route {
    /// What the route lists, in words.
    pub fn what(self) -> &'static str {
        match self {
            Route::Labels => "labels",
            Route::Attachments => "attachments",
            Route::Comments => "comments",
        }
    }

    /// The path the route is called at.
    pub fn path(self) -> &'static str {
        match self {
            Route::Labels => "content/{id}/label",
            Route::Attachments => "content/{id}/child/attachment",
            Route::Comments => "content/{id}/child/comment",
        }
    }

    /// The `type` of the documents it lists, if it lists documents.
    pub fn kind(self) -> Option<&'static str> {
        match self {
            Route::Labels => None,
            Route::Attachments => Some("attachment"),
            Route::Comments => Some("comment"),
        }
    }
}

/// An item whose child route answered "not found" although the item exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Miss {
    /// The space (or listing) the item was crawled in.
    pub space: String,
    /// The item, in words (`page 123 ('Title')`).
    pub item: String,
}

#[derive(Debug, Default)]
struct State {
    ok: bool,
    missing: bool,
    misses: Vec<Miss>,
}

/// What became of the child routes by the end of a crawl.
#[derive(Debug, Default)]
pub(crate) struct RouteReport {
    /// Routes this server does not offer.
    pub missing: Vec<Route>,
    /// Items whose child listing failed while the route works for others.
    pub failed: Vec<(Route, Miss)>,
}

/// The health of every child route during one crawl.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    state: Mutex<BTreeMap<Route, State>>,
}

impl Routes {
    fn with<T>(&self, route: Route, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(state.entry(route).or_default())
    }

    /// Whether the route was found missing: it is not called any more.
    pub fn is_missing(&self, route: Route) -> bool {
        self.with(route, |s| s.missing)
    }

    /// The route answered.
    pub fn ok(&self, route: Route) {
        self.with(route, |s| s.ok = true);
    }

    /// The route answered "not found" for an item that exists. Returns true when this miss
    /// makes the route count as missing on this server.
    pub fn miss(&self, route: Route, miss: Miss) -> bool {
        self.with(route, |s| {
            s.misses.push(miss);
            if !s.ok && !s.missing && s.misses.len() >= MISSING_AFTER {
                s.missing = true;
                return true;
            }
            false
        })
    }

    /// The routes that are missing (no success, some misses) and the items whose listing
    /// failed on a route that works.
    pub fn report(&self) -> RouteReport {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut report = RouteReport::default();
        for (route, s) in state.iter() {
            if s.misses.is_empty() {
                continue;
            }
            if s.ok {
                report
                    .failed
                    .extend(s.misses.iter().map(|m| (*route, m.clone())));
            } else {
                report.missing.push(*route);
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn miss(i: u32) -> Miss {
        Miss {
            space: "ENG".into(),
            item: format!("page {i}"),
        }
    }

    #[test]
    fn a_route_that_never_answers_is_missing_once_and_stays_so() {
        let routes = Routes::default();
        assert!(!routes.miss(Route::Comments, miss(1)));
        assert!(!routes.miss(Route::Comments, miss(2)));
        assert!(routes.miss(Route::Comments, miss(3)), "declared once");
        assert!(!routes.miss(Route::Comments, miss(4)));
        assert!(routes.is_missing(Route::Comments));
        routes.ok(Route::Attachments);
        let report = routes.report();
        assert_eq!(report.missing, [Route::Comments]);
        assert!(report.failed.is_empty());
    }

    #[test]
    fn misses_on_a_route_that_works_are_failures_of_those_items() {
        let routes = Routes::default();
        routes.ok(Route::Comments);
        assert!(!routes.miss(Route::Comments, miss(1)));
        assert!(!routes.miss(Route::Comments, miss(2)));
        assert!(!routes.miss(Route::Comments, miss(3)));
        assert!(!routes.is_missing(Route::Comments));
        let report = routes.report();
        assert!(report.missing.is_empty());
        assert_eq!(report.failed.len(), 3);
    }
}
