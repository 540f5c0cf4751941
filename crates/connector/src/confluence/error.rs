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
    /// No answer in time.
    #[error("timed out after {timeout:?} waiting for `{url}`")]
    Timeout {
        /// The request URL (redacted).
        url: String,
        /// The timeout that expired.
        timeout: Duration,
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
            ClientError::Server { status, .. } | ClientError::Status { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
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
