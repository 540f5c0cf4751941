//! The client's error type.

use std::time::Duration;

/// What a Confluence request can end with. `Display` never contains credentials: URLs are shown
/// without user info and with token-like query values masked. It is written for the admin who
/// reads it in the app: what happened, and what to check or change.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// 401: the credentials were refused.
    #[error(
        "Confluence refused the credentials (401 on {url}): check the user name (or email) and the password, API token or personal access token"
    )]
    Unauthorized {
        /// The request URL (redacted).
        url: String,
    },
    /// 403: authenticated but not allowed (Cloud also answers 403 to bad credentials).
    #[error("Confluence refused access (403 on {url}): {message}")]
    Forbidden {
        /// The request URL (redacted).
        url: String,
        /// Confluence's message, if any.
        message: String,
    },
    /// 404: no such object, or not visible to this user.
    #[error("Confluence found nothing at {url} (404)")]
    NotFound {
        /// The request URL (redacted).
        url: String,
    },
    /// 400: Confluence refused the request (e.g. a CQL syntax error).
    #[error("Confluence refused the request (400 on {url}): {message}")]
    BadRequest {
        /// The request URL (redacted).
        url: String,
        /// Confluence's message.
        message: String,
    },
    /// 429 on every attempt.
    #[error(
        "Confluence kept refusing requests because of its rate limit ({attempts} attempts on {url}): try again later, or lower the requests per second"
    )]
    RateLimited {
        /// The request URL (redacted).
        url: String,
        /// Attempts made.
        attempts: u32,
    },
    /// 5xx on every attempt.
    #[error(
        "Confluence answered with a server error ({status}) {attempts} times on {url}: check that Confluence is healthy, then try again"
    )]
    Server {
        /// The request URL (redacted).
        url: String,
        /// The last HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// Another non-success status, not retried (e.g. 405, 410, 501).
    #[error("Confluence answered {status} on {url}: {message}")]
    Status {
        /// The request URL (redacted).
        url: String,
        /// The HTTP status.
        status: u16,
        /// Confluence's message, if any.
        message: String,
    },
    /// The connection failed or broke. `Display` tells the cause in an admin's words (the name
    /// does not resolve, the connection was refused, no route, cut off) and what to check.
    #[error("{}", ClientError::unreachable(&host_of_shown(url), "the Confluence URL", message))]
    Transport {
        /// The request URL (redacted).
        url: String,
        /// The cause.
        message: String,
    },
    /// The TLS handshake failed; the message says why and what to put in `ssl_ca`.
    #[error("Could not connect securely to {}: {message}", host_of_shown(url))]
    Tls {
        /// The request URL (redacted).
        url: String,
        /// The cause and the fix.
        message: String,
    },
    /// No answer in time: on connect, between two reads, or for the whole request.
    #[error(
        "No answer from {host} within {} s: check the Confluence URL, that Confluence is up, and your network or proxy",
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
    #[error("Confluence refused {secret}: {detail} ({url}); {fix}")]
    CredentialsRefused {
        /// The request URL (redacted).
        url: String,
        /// What was refused: "the password of bob", "the personal access token (expired or
        /// revoked?)".
        secret: String,
        /// What showed it.
        detail: String,
        /// What to do about it.
        fix: String,
    },
    /// Cloud's 403 "caller cannot access Confluence": the email and API token pair was refused.
    #[error(
        "Confluence Cloud refused the email and API token (403 on {url}: {message}): check that \
         the account email is the Atlassian account's email and the API token a token of that \
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
         account; fix {} or the secret so that both name the same account",
        field_label(field)
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
        "the server returned the same results again for {url}: it may ignore the start \
         parameter; the listing was stopped and nothing it covers is deleted"
    )]
    RepeatedPage {
        /// The URL of the repeated page (redacted).
        url: String,
    },
    /// A listing went on for more pages than its reported size allows (or than any real
    /// listing has). The listing is stopped as failed.
    #[error(
        "the listing {url} did not end after {pages} pages{}: it was stopped and nothing it \
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
    #[error(
        "the answer on {url} is not the JSON Confluence sends ({message}): check that the Confluence URL points at Confluence itself, not at a proxy or a login page"
    )]
    Decode {
        /// The request URL (redacted).
        url: String,
        /// What did not parse.
        message: String,
    },
    /// A download is larger than the configured cap.
    #[error("{url} is larger than the download limit of {limit} bytes")]
    TooLarge {
        /// The request URL (redacted).
        url: String,
        /// The cap in bytes.
        limit: u64,
    },
    /// A URL could not be built, or pointed at another host than the configured site.
    #[error("invalid address: {0}")]
    InvalidUrl(String),
    /// The client could not be set up (e.g. an unreadable CA certificate).
    #[error("the connection to Confluence could not be set up: {0}")]
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

impl ClientError {
    /// Why `host` (`host[:port]`) could not be reached, in an admin's words, from the HTTP
    /// client's error chain `cause`: the name does not resolve, the connection was refused, no
    /// route, the connection was cut off; then what to check, `address` naming the setting ("the
    /// Confluence URL"). The Elasticsearch client says it the same way.
    pub(crate) fn unreachable(host: &str, address: &str, cause: &str) -> String {
        let lower = cause.to_ascii_lowercase();
        let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
        let name = host_without_port(host);
        if has(&[
            "dns error",
            "failed to lookup address",
            "name or service not known",
            "nodename nor servname",
            "no such host",
            "name resolution",
            "no address associated",
        ]) {
            format!(
                "Could not reach {name}: the name does not resolve. Check {address} and your \
                 network or proxy."
            )
        } else if has(&[
            "connection refused",
            "os error 111",
            "os error 61)",
            "os error 10061",
        ]) {
            format!(
                "Could not reach {host}: the connection was refused, nothing answers on that \
                 port. Check the port in {address} and that the server is running."
            )
        } else if has(&[
            "network is unreachable",
            "no route to host",
            "host is unreachable",
            "os error 101",
            "os error 113",
        ]) {
            format!(
                "Could not reach {host}: there is no network route to it. Check {address}, \
                 your network, VPN or proxy."
            )
        } else if has(&["too many redirects"]) {
            format!(
                "{host} redirected the request too many times. Check {address}: use the \
                 address the browser ends up at."
            )
        } else if has(&["body broke off", "error decoding response body"]) {
            format!(
                "The answer from {host} broke off before it was complete. Try again; if it \
                 happens again, check your network or proxy."
            )
        } else if has(&[
            "connection reset",
            "connection closed",
            "broken pipe",
            "unexpected eof",
            "connection aborted",
        ]) {
            format!(
                "The connection to {host} was cut off before an answer came. Try again; if it \
                 happens again, check your proxy or firewall."
            )
        } else {
            format!("Could not reach {host} ({cause}). Check {address} and your network or proxy.")
        }
    }
}

/// `host[:port]` of a URL as errors show it (`the server` when it has none).
fn host_of_shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => "the server".to_owned(),
        },
        Err(_) => "the server".to_owned(),
    }
}

/// `host` without its `:port` (IPv6 addresses keep their brackets).
fn host_without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// The configuration field `key` as the form labels it, for messages.
fn field_label(key: &str) -> &str {
    match key {
        "account_email" => "the account email",
        "username" => "the Confluence Server username",
        "data_center_username" => "the Confluence Data Center username",
        "data_center_personal_access_token" => "the personal access token",
        other => other,
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

    fn transport(url: &str, message: &str) -> String {
        ClientError::Transport {
            url: url.to_owned(),
            message: message.to_owned(),
        }
        .to_string()
    }

    #[test]
    fn unreachable_hosts_are_told_in_an_admins_words() {
        // What reqwest and hyper say, as the client records it.
        let dns = transport(
            "https://confluence.acme.local:8090/rest/api/user/current",
            "connection failed: client error (Connect): dns error: failed to lookup address \
             information: Name or service not known",
        );
        assert_eq!(
            dns,
            "Could not reach confluence.acme.local: the name does not resolve. Check the \
             Confluence URL and your network or proxy."
        );
        let refused = transport(
            "http://127.0.0.1:9/rest/api/space",
            "connection failed: client error (Connect): tcp connect error: Connection refused \
             (os error 111)",
        );
        assert_eq!(
            refused,
            "Could not reach 127.0.0.1:9: the connection was refused, nothing answers on that \
             port. Check the port in the Confluence URL and that the server is running."
        );
        let route = transport(
            "https://wiki.example/",
            "connection failed: client error (Connect): tcp connect error: No route to host (os \
             error 113)",
        );
        assert!(route.contains("no network route"), "{route}");
        let cut = transport(
            "https://wiki.example/x",
            "request failed: client error (SendRequest): connection closed before message \
             completed",
        );
        assert!(
            cut.starts_with("The connection to wiki.example was cut off"),
            "{cut}"
        );
        let other = transport("https://wiki.example/x", "request failed: something odd");
        assert!(other.contains("something odd"), "{other}");
        for text in [&dns, &refused, &route, &cut, &other] {
            assert!(
                !text.contains('`') && !text.contains("client error"),
                "{text}"
            );
        }
        let timeout = ClientError::Timeout {
            url: "https://wiki.example/x".into(),
            host: "wiki.example".into(),
            timeout: Duration::from_secs(10),
        }
        .to_string();
        assert_eq!(
            timeout,
            "No answer from wiki.example within 10 s: check the Confluence URL, that \
             Confluence is up, and your network or proxy"
        );
        let tls = ClientError::Tls {
            url: "https://wiki.example:8443/rest/api/space".into(),
            message: "the TLS certificate is not trusted".into(),
        }
        .to_string();
        assert_eq!(
            tls,
            "Could not connect securely to wiki.example:8443: the TLS certificate is not trusted"
        );
        assert_eq!(host_without_port("[::1]:8090"), "[::1]");
        assert_eq!(host_without_port("wiki"), "wiki");
    }

    #[test]
    fn redact_masks_tokens_and_userinfo() {
        let u = url::Url::parse("https://ann:pw@media.example/file?token=abc&version=2&key=u1")
            .unwrap();
        let shown = redact(&u);
        assert!(!shown.contains("abc") && !shown.contains("pw"), "{shown}");
        assert!(shown.contains("version=2") && shown.contains("key=u1"));
    }
}
