//! The client's error type.

use std::time::Duration;

/// What a Confluence request can end with. `Display` never contains credentials: URLs are shown
/// without user info and with token-like query values masked.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// 401: the credentials were refused.
    #[error(
        "401 unauthorized from `{url}`: check the user name (or email) and the password, API token or personal access token"
    )]
    Unauthorized {
        /// The request URL (redacted).
        url: String,
    },
    /// 403: authenticated but not allowed (Cloud also answers 403 to bad credentials).
    #[error("403 forbidden from `{url}`: {message}")]
    Forbidden {
        /// The request URL (redacted).
        url: String,
        /// Confluence's message, if any.
        message: String,
    },
    /// 404: no such object, or not visible to this user.
    #[error("404 not found: `{url}`")]
    NotFound {
        /// The request URL (redacted).
        url: String,
    },
    /// 400: Confluence refused the request (e.g. a CQL syntax error).
    #[error("400 bad request from `{url}`: {message}")]
    BadRequest {
        /// The request URL (redacted).
        url: String,
        /// Confluence's message.
        message: String,
    },
    /// 429 on every attempt.
    #[error("rate limited by Confluence on `{url}` after {attempts} attempts")]
    RateLimited {
        /// The request URL (redacted).
        url: String,
        /// Attempts made.
        attempts: u32,
    },
    /// 5xx on every attempt.
    #[error("Confluence answered {status} on `{url}` after {attempts} attempts")]
    Server {
        /// The request URL (redacted).
        url: String,
        /// The last HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// Another non-success status, not retried (e.g. 405, 410, 501).
    #[error("Confluence answered {status} on `{url}`: {message}")]
    Status {
        /// The request URL (redacted).
        url: String,
        /// The HTTP status.
        status: u16,
        /// Confluence's message, if any.
        message: String,
    },
    /// The connection failed or broke.
    #[error("could not reach Confluence at `{url}`: {message}")]
    Transport {
        /// The request URL (redacted).
        url: String,
        /// The cause.
        message: String,
    },
    /// The TLS handshake failed; the message says why and what to put in `ssl_ca`.
    #[error("could not connect securely to `{url}`: {message}")]
    Tls {
        /// The request URL (redacted).
        url: String,
        /// The cause and the fix.
        message: String,
    },
    /// No answer in time: on connect, between two reads, or for the whole request.
    #[error(
        "no answer from {host} for {} s (waiting for `{url}`); check that the address is right and the server is up",
        seconds(*timeout)
    )]
    Timeout {
        /// The request URL (redacted).
        url: String,
        /// The host that did not answer (`host:port` when a port is given).
        host: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// The credentials were refused while Confluence went on answering: `X-Seraph-LoginReason`
    /// said so, the current-user endpoint answered as an anonymous user, or it answered 401.
    /// Anonymous answers are never the crawler's view: nothing listed this way may delete.
    #[error("the token was refused (expired or revoked?): {detail} (`{url}`); {fix}")]
    CredentialsRefused {
        /// The request URL (redacted).
        url: String,
        /// What showed it.
        detail: String,
        /// What to do about it.
        fix: String,
    },
    /// Cloud's 403 "caller cannot access Confluence": the email and API token pair was refused.
    #[error(
        "Confluence Cloud refused the email/API token pair (403 on `{url}`: {message}): check that \
         `account_email` is the Atlassian account's email and `api_token` an API token of that \
         account, not its password (create one at \
         https://id.atlassian.com/manage-profile/security/api-tokens), and that the account may \
         use Confluence"
    )]
    CloudLoginRefused {
        /// The request URL (redacted).
        url: String,
        /// Confluence's message.
        message: String,
    },
    /// Signed in, but as another account than the configured one.
    #[error(
        "signed in as {actual}, not the configured {expected}: the credentials belong to another \
         account; fix `{field}` or the secret so that both name the same account"
    )]
    WrongAccount {
        /// The configured account (email on Cloud, username on Server/Data Center).
        expected: String,
        /// Who Confluence says is signed in.
        actual: String,
        /// The configuration field holding `expected`.
        field: String,
    },
    /// A page of a listing held only rows that listing had returned already: the server
    /// ignores the offset or the cursor. The listing is stopped as failed.
    #[error(
        "the server returned the same results again for `{url}`: it may ignore `start`; the \
         listing was stopped and nothing it covers is deleted"
    )]
    RepeatedPage {
        /// The URL of the repeated page (redacted).
        url: String,
    },
    /// A listing went on for more pages than its reported size allows (or than any real
    /// listing has). The listing is stopped as failed.
    #[error(
        "the listing `{url}` did not end after {pages} pages{}: it was stopped and nothing it \
         covers is deleted",
        match total { Some(t) => format!(" although the server reported {t} results"), None => String::new() }
    )]
    TooManyPages {
        /// The URL of the listing's last page (redacted).
        url: String,
        /// Pages fetched.
        pages: u64,
        /// The size the server reported, if any.
        total: Option<u64>,
    },
    /// The body is not the JSON expected.
    #[error("unexpected response from `{url}`: {message}")]
    Decode {
        /// The request URL (redacted).
        url: String,
        /// What did not parse.
        message: String,
    },
    /// A download is larger than the configured cap.
    #[error("`{url}` is larger than the {limit} byte download limit")]
    TooLarge {
        /// The request URL (redacted).
        url: String,
        /// The cap in bytes.
        limit: u64,
    },
    /// A URL could not be built, or pointed at another host than the configured site.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The client could not be set up (e.g. an unreadable CA certificate).
    #[error("client setup: {0}")]
    Setup(String),
}

impl ClientError {
    /// The HTTP status behind this error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Unauthorized { .. } => Some(401),
            ClientError::Forbidden { .. } => Some(403),
            ClientError::NotFound { .. } => Some(404),
            ClientError::BadRequest { .. } => Some(400),
            ClientError::RateLimited { .. } => Some(429),
            ClientError::CredentialsRefused { .. } => Some(401),
            ClientError::CloudLoginRefused { .. } => Some(403),
            ClientError::Server { status, .. } | ClientError::Status { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }
}

impl ClientError {
    /// True when the credentials were refused or belong to another account: the sync must stop
    /// (and delete nothing) rather than go on with what an anonymous or foreign user sees.
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self,
            ClientError::Unauthorized { .. }
                | ClientError::CredentialsRefused { .. }
                | ClientError::CloudLoginRefused { .. }
                | ClientError::WrongAccount { .. }
        )
    }

    /// True when a listing was stopped because the server did not page properly.
    pub fn is_broken_listing(&self) -> bool {
        matches!(
            self,
            ClientError::RepeatedPage { .. } | ClientError::TooManyPages { .. }
        )
    }
}

/// `d` in seconds for messages: `10`, `0.3`.
pub(crate) fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if d.subsec_millis() == 0 {
        format!("{}", d.as_secs())
    } else if s < 10.0 {
        format!("{s:.1}")
    } else {
        format!("{s:.0}")
    }
}

/// The URL as shown in errors and logs: no user info, token-like query values masked.
pub(crate) fn redact(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let lower = k.to_ascii_lowercase();
                let secret = ["token", "signature", "sig", "jwt", "password", "secret", "key"]
                    .iter()
                    .any(|s| lower == *s || lower.ends_with(&format!("_{s}")))
                    && lower != "key" // Confluence's user `key=` is not a secret
                    || lower == "access_token";
                (
                    k.into_owned(),
                    if secret {
                        "***".to_string()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_masks_tokens_and_userinfo() {
        let u = url::Url::parse("https://ann:pw@media.example/file?token=abc&version=2&key=u1")
            .unwrap();
        let shown = redact(&u);
        assert!(!shown.contains("abc") && !shown.contains("pw"), "{shown}");
        assert!(shown.contains("version=2") && shown.contains("key=u1"));
    }
}
