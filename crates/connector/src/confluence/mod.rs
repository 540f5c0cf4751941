//! The Confluence REST client (Cloud, Server and Data Center, REST v1).
//!
//! [`ConfluenceClient`] owns one HTTP connection pool and everything every request shares:
//!
//! - **Base URLs.** Cloud calls go to `<site>/wiki/rest/api/...`; Server and Data Center calls to
//!   `<url>/rest/api/...`, keeping a context path such as `/confluence`.
//! - **Auth.** Basic (Cloud email + API token, Server/DC username + password) or, for a Data
//!   Center personal access token, `Authorization: Bearer`. Secrets never reach `Display`.
//! - **TLS** is verified by default; `ssl_ca` adds trust, only `tls_insecure_skip_verify` removes it.
//! - **Timeouts** on connect, on idle reads and on every whole request.
//! - **Retries** ([`ClientOptions::retry_count`] exactly) with exponential backoff and full
//!   jitter on 429, 500, 502, 503, 504, transport errors, timeouts and truncated or unparsable
//!   JSON; never on 400, 401, 403 or 404.
//! - **Rate limits.** A 429 pauses *every* request of the client (a shared "not before" instant)
//!   for its `Retry-After`, or without one for a backoff from about a second, doubling with
//!   jitter up to 30 s; `X-RateLimit-NearLimit: true` adds a short pause; an optional
//!   requests-per-second cap and a concurrency limit apply to all callers. [`ClientStats`]
//!   counts requests, retries and waits.
//! - **Identity.** [`ConfluenceClient::verify_identity`] confirms the signed-in account before a
//!   sync or Test connection lists anything; `X-Seraph-LoginReason` refusals on any response
//!   are [`ClientError::CredentialsRefused`], never an anonymous listing.
//! - **Pagination** through [`Pager`]: pages are fetched one at a time (`next_page`) or as a
//!   stream, following `_links.next` against `_links.base` (context path kept), or offsets where
//!   Server/DC `next` links are unreliable. A failed page is an error, never a short listing; a
//!   page of rows already seen, or more pages than the reported size allows, ends the listing
//!   with an error ([`ClientError::RepeatedPage`], [`ClientError::TooManyPages`]).

mod client;
mod endpoints;
mod error;
mod gate;
mod identity;
mod model;
mod options;
mod paging;
mod retry;
mod v2;

#[cfg(test)]
mod tests;

pub use client::{ConfluenceClient, Download};
pub(crate) use endpoints::v2_refused;
pub use endpoints::{ContentType, UserRef, cql_quote, cql_spaces};
pub use error::ClientError;
pub use gate::ClientStats;
pub use identity::Identity;
pub use model::{
    Attachment, Body, Children, CloudGroup, CloudItems, CloudRole, CloudUser, CloudUserDetail,
    Comment, Content, ContentRef, ContentRestriction, DcSpacePermission, DcSubject, ExtenderActors,
    ExtenderSpacePermissions, ExtenderUser, Extensions, Group, History, Label, Links, Listing,
    PermissionOperation, PermissionSubjects, RestrictionSubjects, Restrictions, SearchResult,
    Space, SpacePermission, SpacePermissions, Storage, User, Version,
};
pub use options::{ClientOptions, Credentials, Flavor};
pub use paging::{Page, Pager};
pub use v2::{
    Names, USERS_PER_LOOKUP, V2Attachment, V2Body, V2Comment, V2Content, V2Label, V2Version,
    v2_units,
};
