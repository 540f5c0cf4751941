//! Who the client is signed in as: the current-user endpoint of each flavour, compared with the
//! configured account. A sync runs [`ConfluenceClient::verify_identity`] before listing anything.

use super::error::redact;
use super::{ClientError, ConfluenceClient, Flavor, User};

/// The account Confluence says the client is signed in as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// `known`, `user`, ... (never `anonymous` in an `Ok` of a client with credentials).
    pub kind: Option<String>,
    /// Cloud account id.
    pub account_id: Option<String>,
    /// Cloud email, when the account's privacy settings show it.
    pub email: Option<String>,
    /// Server/Data Center username.
    pub username: Option<String>,
    /// Server/Data Center user key.
    pub user_key: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// The profile time zone Confluence reads this account's CQL date literals in, when it
    /// says (Cloud does).
    pub time_zone: Option<String>,
}

impl Identity {
    fn from_user(user: User) -> Self {
        let keep = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Identity {
            kind: keep(user.kind),
            account_id: keep(user.account_id),
            email: keep(user.email),
            username: keep(user.username),
            user_key: keep(user.user_key),
            display_name: keep(user.display_name.or(user.public_name)),
            time_zone: keep(user.time_zone),
        }
    }

    /// True for Confluence's anonymous user.
    pub fn is_anonymous(&self) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("anonymous"))
    }

    /// The stable name of the account: email or account id on Cloud, username or key on
    /// Server/Data Center.
    pub fn login(&self) -> Option<&str> {
        self.email
            .as_deref()
            .or(self.username.as_deref())
            .or(self.account_id.as_deref())
            .or(self.user_key.as_deref())
    }

    /// For people: `Ann Smith (ann@example.com)`, `bob`, `an anonymous user`.
    pub fn describe(&self) -> String {
        if self.is_anonymous() {
            return "an anonymous user".to_string();
        }
        match (self.display_name.as_deref(), self.login()) {
            (Some(name), Some(login)) if name != login => format!("{name} ({login})"),
            (_, Some(login)) => login.to_string(),
            (Some(name), None) => name.to_string(),
            (None, None) => "an unnamed user".to_string(),
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl ConfluenceClient {
    /// Confirms who the client is signed in as, and that it is the configured account.
    ///
    /// **Callers must run this before listing anything** (each sync, Test connection): a
    /// Confluence site with anonymous access serves a refused (expired, revoked, mistyped)
    /// token as the anonymous user, and a listing made that way is missing every restricted
    /// item, which a sync would then delete.
    ///
    /// `GET rest/api/user/current` (Cloud `/wiki/rest/api/user/current`). Fails with
    /// - [`ClientError::CredentialsRefused`] ("Confluence refused the personal access token (expired or revoked?)", "Confluence refused the password of bob")
    ///   when the answer is the anonymous user, a 401, or carries `X-Seraph-LoginReason:
    ///   AUTHENTICATED_FAILED` / `AUTHENTICATION_DENIED`;
    /// - [`ClientError::CloudLoginRefused`] for Cloud's 403 to a wrong email/API token pair;
    /// - [`ClientError::WrongAccount`] ("signed in as X, not the configured Y") when the account
    ///   differs from the configured one: the email on Cloud (when Confluence shows it), the
    ///   username on Server/Data Center; with a personal access token only "not anonymous" can
    ///   be checked;
    /// - [`ClientError::Decode`] when the answer names nobody.
    ///
    /// Every later request also turns an `X-Seraph-LoginReason` refusal into
    /// [`ClientError::CredentialsRefused`], so a token that expires mid-sync fails the listing
    /// in progress instead of shortening it ([`ClientError::is_auth_failure`]).
    pub async fn verify_identity(&self) -> Result<Identity, ClientError> {
        let url = self.api_url("rest/api/user/current", &[], &[])?;
        let value = match self.get_value(&url).await {
            Ok(value) => value,
            Err(ClientError::Unauthorized { url }) if self.has_credentials() => {
                return Err(self.refused(
                    url,
                    "Confluence answered 401 to the current-user endpoint: it does not accept \
                     the credentials",
                ));
            }
            Err(e) => return Err(e),
        };
        let user: User = serde_json::from_value(value).map_err(|e| ClientError::Decode {
            url: redact(&url),
            message: format!("the current user is not a user object ({e})"),
        })?;
        let identity = Identity::from_user(user);
        if identity.is_anonymous() {
            if !self.has_credentials() {
                return Ok(identity);
            }
            return Err(self.refused(
                redact(&url),
                "Confluence answered as an anonymous user, so it did not accept the credentials",
            ));
        }
        if identity.login().is_none() {
            return Err(ClientError::Decode {
                url: redact(&url),
                message: "the current user has no account id, email, username or key: cannot \
                          confirm who is signed in, so nothing is listed"
                    .to_string(),
            });
        }
        if let Some(expected) = self.configured_account() {
            let (actual, field) = match self.flavor() {
                Flavor::Cloud => (identity.email.as_deref(), "account_email"),
                Flavor::Server => (identity.username.as_deref(), "username"),
                Flavor::DataCenter => (identity.username.as_deref(), "data_center_username"),
            };
            // A hidden email (Cloud privacy settings) cannot be compared; a shown one must match.
            if let Some(actual) = actual
                && !actual.trim().eq_ignore_ascii_case(expected.trim())
            {
                return Err(ClientError::WrongAccount {
                    expected: expected.to_string(),
                    actual: identity.describe(),
                    field: field.to_string(),
                });
            }
        }
        Ok(identity)
    }
}
