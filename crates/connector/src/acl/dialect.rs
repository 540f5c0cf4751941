//! The identity dialect of each data source: the prefixed strings content ACLs and identity
//! documents share.

use crate::confluence::{Flavor, Group, User};

/// The identity written when nobody may read a document: no identity document ever holds it,
/// so no user's query matches it, and unlike an empty list it is a value Elasticsearch indexes.
pub const DENY_MARKER: &str = "deny:nobody";

/// How users and groups are named in ACLs and identity documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `account_id:<accountId>` and `group_id:<groupId>` (the reference's Cloud identities).
    Cloud,
    /// `user:<username>` and `group:<group name>`, both lower case (Server and Data Center
    /// compare user and group names without case).
    ServerDc,
}

impl Dialect {
    /// The dialect of a Confluence flavor.
    pub fn of(flavor: Flavor) -> Dialect {
        match flavor {
            Flavor::Cloud => Dialect::Cloud,
            Flavor::Server | Flavor::DataCenter => Dialect::ServerDc,
        }
    }

    /// A user's identity from the user object Confluence embeds in permissions, restrictions
    /// and listings. `None` for anonymous or unknown entries, and on Server/DC for entries that
    /// carry only a user key (the resolver looks those up).
    pub fn user(self, user: &User) -> Option<String> {
        if matches!(user.kind.as_deref(), Some("anonymous" | "unknown")) {
            return None;
        }
        match self {
            Dialect::Cloud => user.account_id.as_deref().map(|id| self.account(id)),
            Dialect::ServerDc => user.username.as_deref().map(|name| self.username(name)),
        }
    }

    /// A group's identity.
    pub fn group(self, group: &Group) -> Option<String> {
        match self {
            Dialect::Cloud => group.id.as_deref().map(|id| self.group_id(id)),
            Dialect::ServerDc => group.name.as_deref().map(|name| self.group_name(name)),
        }
    }

    /// `account_id:<id>` (Cloud).
    pub fn account(self, account_id: &str) -> String {
        format!("account_id:{account_id}")
    }

    /// `user:<username>` (Server/DC), lower case.
    pub fn username(self, username: &str) -> String {
        format!("user:{}", username.to_lowercase())
    }

    /// `group_id:<id>` (Cloud).
    pub fn group_id(self, id: &str) -> String {
        format!("group_id:{id}")
    }

    /// `group:<name>` (Server/DC), lower case.
    pub fn group_name(self, name: &str) -> String {
        format!("group:{}", name.to_lowercase())
    }

    /// Whether an identity names a group rather than a user.
    pub fn is_group(identity: &str) -> bool {
        identity.starts_with("group:") || identity.starts_with("group_id:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_per_data_source() {
        let user: User = serde_json::from_value(serde_json::json!({
            "type": "known", "accountId": "5b10", "username": "Ann.Lee", "userKey": "k1"
        }))
        .unwrap();
        assert_eq!(
            Dialect::Cloud.user(&user).as_deref(),
            Some("account_id:5b10")
        );
        assert_eq!(
            Dialect::ServerDc.user(&user).as_deref(),
            Some("user:ann.lee")
        );
        let group: Group =
            serde_json::from_value(serde_json::json!({"name": "SRE", "id": "9c1"})).unwrap();
        assert_eq!(
            Dialect::Cloud.group(&group).as_deref(),
            Some("group_id:9c1")
        );
        assert_eq!(
            Dialect::ServerDc.group(&group).as_deref(),
            Some("group:sre")
        );
        let anonymous: User =
            serde_json::from_value(serde_json::json!({"type": "anonymous"})).unwrap();
        assert_eq!(Dialect::Cloud.user(&anonymous), None);
        assert!(Dialect::is_group("group:sre") && !Dialect::is_group("user:ann"));
        assert!(!DENY_MARKER.starts_with("user:") && !DENY_MARKER.starts_with("account_id:"));
    }
}
