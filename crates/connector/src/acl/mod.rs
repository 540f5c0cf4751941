//! Document-level security: who may read each document, the identity documents that let a
//! search layer filter by user, and an inspector that explains both.
//!
//! - [`AclResolver`] computes a document's [`Access`] during a sync: the space's view permission
//!   ([`PermissionSource`]: Cloud's expansion, Data Center's native API or the Extender app)
//!   intersected with the read restrictions of the item and of every ancestor, group membership
//!   resolved through the REST APIs. Space permissions, restrictions and group members are cached
//!   for the whole sync. Attachments and comments take their container's access.
//! - Failing closed never leaks: when access cannot be computed, or nobody is left after the
//!   intersection, the document gets [`DENY_MARKER`], an identity no user holds. It never gets an
//!   empty list, which Elasticsearch reads as a missing field and the reference's template as
//!   "public".
//! - [`Dialect`]: one prefixed identity vocabulary per data source, shared by content ACLs and
//!   identity documents (`account_id:` / `group_id:` on Cloud, `user:` / `group:` on Server and
//!   Data Center), so a user who may read a document matches it.
//! - The access-control sync (`sync::access_control`) writes the identity documents in `.search-acl-filter-<index>` (or the local
//!   index's identity table), one per active human user, with the reference's shape.
//! - [`inspect`]: [`explain_doc`], [`user_access`] and [`diff`] for the CLI and the desktop UI.

mod dialect;
pub(crate) mod fetch;
pub(crate) mod identity;
pub mod inspect;
mod intersect;
pub mod prereq;
mod resolve;
mod store;

pub use dialect::{DENY_MARKER, Dialect};
pub use identity::{IdentityDoc, SEARCH_TEMPLATE, identity_doc_body};
pub use inspect::{
    AccessChange, AccessDiff, DocExplanation, UserAccess, diff, explain_doc, user_access,
};
pub use intersect::Grant;
pub use prereq::PermissionSource;
pub use resolve::{Access, AclRecorder, AclResolver, Derivation, LayerInfo, SpaceGrantInfo};
pub use store::AclStore;

/// What can go wrong with document-level security before a sync can start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AclError {
    /// Server or Data Center offers no way to read space permissions.
    #[error(
        "document-level security needs the space permissions of Confluence {flavor}, but neither \
         the Data Center 9.1+ API (`rest/api/space/{{key}}/permissions`) nor the Extender for \
         Confluence app (`rest/extender/1.0/...`) answered at `{url}`: upgrade to Data Center \
         9.1+, install the Extender app, or turn `use_document_level_security` off"
    )]
    NoPermissionApi {
        /// `Server` or `Data Center`.
        flavor: String,
        /// The Confluence URL.
        url: String,
    },
    /// Cloud: the account lacks a right document-level security needs.
    #[error("document-level security: {what} ({detail}); {fix}")]
    MissingRight {
        /// What could not be read, e.g. "the permissions of space `ENG` could not be read".
        what: String,
        /// What Confluence answered.
        detail: String,
        /// The right to grant, in an admin's words.
        fix: String,
    },
    /// No space is visible, so the permission API could not be probed.
    #[error("document-level security: no space is visible to probe the space permission API")]
    NothingToProbe,
}
