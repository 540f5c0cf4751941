//! Certificate trust, and certificate failures explained with their fixes.
//!
//! Every HTTP client of the engine is reqwest over rustls, and trusts three sets of CAs: the
//! Mozilla roots built into the binary (webpki-roots), the operating system's trust store (read
//! by rustls-native-certs each time a client is built: the system bundle and directory on Linux
//! and the BSDs, the keychains on macOS, the certificate stores on Windows; `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` replace it when set), and the PEM certificates the configuration adds (`ssl_ca`
//! for Confluence, the target's `es_ca_certificate` for the search cluster). Certificates are
//! always verified; only `tls_insecure_skip_verify` turns that off, for Confluence.
//!
//! When a handshake fails on the server's certificate, rustls says why (an unknown issuer, a
//! name or date mismatch), but never which certificate it was: it names neither its subject nor
//! its issuer. [`certificate_problem`] finds that reason in an error's chain and
//! [`CertProblem::explain`] turns it into a sentence that names the host, what rustls told
//! (the names the certificate is valid for, its expiry), and the fixes.

use std::error::Error as StdError;

use rustls::CertificateError;

/// The configuration fields a certificate explanation points to: one set per HTTP side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrustFields {
    /// The field that holds extra CA certificates (PEM).
    pub ca_field: &'static str,
    /// What else the CA field needs to be used, e.g. "and set `ssl_enabled: true`"; may be empty.
    pub ca_switch: &'static str,
    /// The field that holds the server's address.
    pub url_field: &'static str,
    /// Whether the CA field holds a certificate in force now.
    pub ca_given: bool,
}

impl TrustFields {
    /// Confluence: `ssl_ca`, used when `ssl_enabled`; the address is `confluence_url`.
    pub fn confluence(ca_given: bool) -> TrustFields {
        TrustFields {
            ca_field: "ssl_ca",
            ca_switch: " and set `ssl_enabled: true`",
            url_field: "confluence_url",
            ca_given,
        }
    }

    /// The search cluster: the target's CA certificate and URL.
    pub fn search_cluster(ca_given: bool) -> TrustFields {
        TrustFields {
            ca_field: "es_ca_certificate",
            ca_switch: "",
            url_field: "es_url",
            ca_given,
        }
    }

    /// "paste its PEM text (...) into `ssl_ca` and set `ssl_enabled: true`".
    fn paste(&self, whose: &str) -> String {
        format!(
            "paste {whose} PEM text (from `-----BEGIN CERTIFICATE-----` to \
             `-----END CERTIFICATE-----`) into `{}`{}",
            self.ca_field, self.ca_switch
        )
    }
}

/// Why rustls refused the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CertProblem {
    /// No trusted CA issued it: self-signed, a private CA, or an incomplete chain.
    UnknownIssuer,
    /// The server presents a CA certificate as its own.
    CaUsedAsEndEntity,
    /// The certificate does not name the host. rustls says which names it holds, when it can.
    NotValidForName {
        /// The name asked for.
        expected: Option<String>,
        /// The names the certificate is valid for (empty when unknown).
        presented: Vec<String>,
    },
    /// The certificate has expired (`not_after`, seconds since the epoch, when known).
    Expired { not_after: Option<u64> },
    /// The certificate is not valid yet (`not_before`, seconds since the epoch, when known).
    NotValidYet { not_before: Option<u64> },
    /// Its CA revoked it.
    Revoked,
    /// A trusted CA has the name of its issuer but did not sign it: a re-created CA, or an old
    /// copy of it.
    BadSignature,
    /// Anything else rustls refused, in its words.
    Other(String),
}

/// The certificate failure in `error` or its sources, if that is what failed.
///
/// reqwest and the `elasticsearch` crate wrap rustls's error in an `io::Error` several levels
/// down; the error is looked for there first, and in the chain's text otherwise.
pub(crate) fn certificate_problem(error: &(dyn StdError + 'static)) -> Option<CertProblem> {
    let mut text = String::new();
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(rustls_error) = rustls_error(e) {
            return match rustls_error {
                rustls::Error::InvalidCertificate(cert) => Some(classify(cert)),
                _ => None,
            };
        }
        text.push_str(": ");
        text.push_str(&e.to_string());
        current = e.source();
    }
    problem_in_text(&text)
}

/// rustls's error, as `e` or inside `e` when it is an `io::Error` (reqwest's connector wraps
/// tokio-rustls's `io::Error` in another one). `io::Error::source` skips what it wraps, so the
/// wrapped errors are opened here.
fn rustls_error<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    if let Some(found) = e.downcast_ref::<rustls::Error>() {
        return Some(found);
    }
    let mut io = e.downcast_ref::<std::io::Error>()?;
    loop {
        let inner = io.get_ref()?;
        if let Some(found) = inner.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        io = inner.downcast_ref::<std::io::Error>()?;
    }
}

fn classify(cert: &CertificateError) -> CertProblem {
    match cert {
        CertificateError::UnknownIssuer => CertProblem::UnknownIssuer,
        CertificateError::NotValidForName => CertProblem::NotValidForName {
            expected: None,
            presented: Vec::new(),
        },
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => CertProblem::NotValidForName {
            expected: Some(expected.to_str().into_owned()),
            presented: presented.iter().map(|name| unquote(name)).collect(),
        },
        CertificateError::Expired => CertProblem::Expired { not_after: None },
        CertificateError::ExpiredContext { not_after, .. } => CertProblem::Expired {
            not_after: Some(not_after.as_secs()),
        },
        CertificateError::NotValidYet => CertProblem::NotValidYet { not_before: None },
        CertificateError::NotValidYetContext { not_before, .. } => CertProblem::NotValidYet {
            not_before: Some(not_before.as_secs()),
        },
        CertificateError::Revoked => CertProblem::Revoked,
        CertificateError::BadSignature => CertProblem::BadSignature,
        other if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            CertProblem::CaUsedAsEndEntity
        }
        other => CertProblem::Other(other.to_string()),
    }
}

/// `DnsName("wiki.corp")` and `IpAddress(10.0.0.1)` (how rustls shows the names a certificate
/// holds) as `wiki.corp` and `10.0.0.1`; other kinds of name as rustls shows them.
fn unquote(name: &str) -> String {
    if let Some(dns) = name.strip_prefix("DnsName(\"") {
        dns.trim_end_matches("\")").to_owned()
    } else if let Some(ip) = name.strip_prefix("IpAddress(") {
        ip.trim_end_matches(')').to_owned()
    } else {
        name.to_owned()
    }
}

/// The problem named in an error chain's text, for errors that do not carry rustls's type.
pub(crate) fn problem_in_text(chain: &str) -> Option<CertProblem> {
    if chain.contains("CaUsedAsEndEntity") {
        Some(CertProblem::CaUsedAsEndEntity)
    } else if chain.contains("UnknownIssuer") {
        Some(CertProblem::UnknownIssuer)
    } else if chain.contains("NotValidForName") || chain.contains("not valid for name") {
        Some(CertProblem::NotValidForName {
            expected: None,
            presented: Vec::new(),
        })
    } else if chain.contains("certificate expired")
        || (chain.contains("Expired") && chain.contains("certificate"))
    {
        Some(CertProblem::Expired { not_after: None })
    } else if chain.contains("invalid peer certificate: BadSignature") {
        Some(CertProblem::BadSignature)
    } else if chain.contains("certificate not valid yet") || chain.contains("NotValidYet") {
        Some(CertProblem::NotValidYet { not_before: None })
    } else if let Some((_, detail)) = chain.split_once("invalid peer certificate: ") {
        Some(CertProblem::Other(
            detail.split(": ").next().unwrap_or(detail).to_owned(),
        ))
    } else {
        None
    }
}

impl CertProblem {
    /// What went wrong with the certificate `host` (`name[:port]`) presented, and the fixes,
    /// naming the configuration fields of `fields`.
    pub fn explain(&self, host: &str, fields: &TrustFields) -> String {
        let name = host_name(host);
        let which = format!("the TLS certificate that {host} presented");
        let trust_store = "add it to the operating system's trust store (Debian, Ubuntu: copy \
             it to /usr/local/share/ca-certificates/ as a .crt file and run \
             `update-ca-certificates`; RHEL, Fedora: /etc/pki/ca-trust/source/anchors/ and \
             `update-ca-trust`; macOS: the System keychain, set to Always Trust; Windows: Trusted \
             Root Certification Authorities of the local computer)";
        match self {
            CertProblem::UnknownIssuer => {
                let given = if fields.ca_given {
                    format!(
                        ", nor the certificate in `{}`, which is not the CA that issued it",
                        fields.ca_field
                    )
                } else {
                    String::new()
                };
                format!(
                    "{which} is not trusted (UnknownIssuer): no CA this connector trusts issued \
                     it, neither in the operating system's trust store nor among the Mozilla \
                     roots built in{given}. It is self-signed, issued by a private CA, or the \
                     server does not send its intermediate certificate. Trust the CA that \
                     issued it in one of two ways: {trust_store}; or {}",
                    fields.paste("its")
                )
            }
            CertProblem::CaUsedAsEndEntity => format!(
                "{host} presents a CA certificate as its own server certificate \
                 (CaUsedAsEndEntity): TLS refuses that even when the certificate is trusted (in \
                 `{ca}` or the operating system's trust store). Usually it is a self-signed \
                 certificate made with `basicConstraints=CA:TRUE`. Either give the server a \
                 certificate issued by a CA (with `basicConstraints=CA:FALSE` and the host name \
                 in subjectAltName) and trust that CA: {trust_store}, or {paste}; or re-create \
                 the self-signed server certificate with \
                 `-addext basicConstraints=critical,CA:FALSE` and trust it the same way",
                ca = fields.ca_field,
                paste = fields.paste("its"),
            ),
            CertProblem::NotValidForName {
                expected,
                presented,
            } => {
                let expected = expected.as_deref().unwrap_or(name);
                let holds = match presented.as_slice() {
                    [] if expected == name => String::new(),
                    [] => " It names no host in subjectAltName.".to_owned(),
                    names => format!(
                        " It is valid for {} only.",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                format!(
                    "{which} is not valid for the name `{expected}` (NotValidForName).{holds} \
                     Use the host name the certificate was issued for in `{url}`, or re-issue \
                     the certificate with `{expected}` in subjectAltName",
                    url = fields.url_field,
                )
            }
            CertProblem::Expired { not_after } => format!(
                "{which} has expired{} (Expired): renew it on the server, or check this \
                 machine's clock",
                when(" on", *not_after)
            ),
            CertProblem::NotValidYet { not_before } => format!(
                "{which} is not valid yet{} (NotValidYet): check this machine's clock, or the \
                 dates of the server's certificate",
                when(" before", *not_before)
            ),
            CertProblem::BadSignature => format!(
                "{which} does not verify (BadSignature): a CA this connector trusts has the \
                 name of its issuer but did not sign it, so the trusted copy is another CA of \
                 the same name (re-created, or an old copy{given}). Trust the CA that issued the \
                 server's certificate now: replace the old one in the operating system's trust \
                 store, or {paste}",
                given = if fields.ca_given {
                    format!(", perhaps the one in `{}`", fields.ca_field)
                } else {
                    String::new()
                },
                paste = fields.paste("its"),
            ),
            CertProblem::Revoked => format!(
                "{which} was revoked by the CA that issued it (Revoked): the server needs a new \
                 certificate"
            ),
            CertProblem::Other(detail) => format!(
                "{which} was refused ({detail}): check the server's certificate. If a private \
                 CA issued it, trust that CA: {trust_store}; or {}",
                fields.paste("its")
            ),
        }
    }
}

/// `host` without its port.
fn host_name(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.ends_with(':') => {
            name
        }
        _ => host,
    }
}

/// " on 2024-05-01 12:00 UTC", or nothing when unknown.
fn when(preposition: &str, secs: Option<u64>) -> String {
    secs.and_then(|s| chrono::DateTime::from_timestamp(i64::try_from(s).ok()?, 0))
        .map(|t| format!("{preposition} {}", t.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::fmt;
    use std::time::Duration;

    use rustls::pki_types::{ServerName, UnixTime};

    use super::*;

    /// An error whose source wraps rustls's error, as reqwest's do.
    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("error sending request")
        }
    }

    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    /// As reqwest 0.12 wraps it: `io::Error(Other, io::Error(InvalidData, rustls::Error))`.
    fn wrapped(cert: CertificateError) -> Outer {
        Outer(std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(cert),
        )))
    }

    #[test]
    fn finds_rustls_errors_inside_io_errors() {
        let problem = certificate_problem(&wrapped(CertificateError::UnknownIssuer));
        assert_eq!(problem, Some(CertProblem::UnknownIssuer));
        let name = certificate_problem(&wrapped(CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("wiki.corp").unwrap(),
            presented: vec![
                "DnsName(\"localhost\")".to_owned(),
                "IpAddress(127.0.0.1)".to_owned(),
            ],
        }))
        .unwrap();
        assert_eq!(
            name,
            CertProblem::NotValidForName {
                expected: Some("wiki.corp".into()),
                presented: vec!["localhost".into(), "127.0.0.1".into()],
            }
        );
        let text = name.explain("wiki.corp:8443", &TrustFields::confluence(false));
        assert!(
            text.starts_with("the TLS certificate that wiki.corp:8443 presented is not valid for the name `wiki.corp`"),
            "{text}"
        );
        assert!(text.contains("valid for `localhost`"), "{text}");
        assert!(text.contains("`confluence_url`"), "{text}");
        let other = std::io::Error::other("connection refused");
        assert_eq!(certificate_problem(&other), None);
    }

    #[test]
    fn expiry_names_the_date() {
        let expired = certificate_problem(&wrapped(CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(Duration::from_secs(1_800_000_000)),
            not_after: UnixTime::since_unix_epoch(Duration::from_secs(1_700_000_000)),
        }))
        .unwrap();
        let text = expired.explain("es.corp:9200", &TrustFields::search_cluster(false));
        assert!(
            text.contains("es.corp:9200 presented has expired on 2023-11-14 22:13 UTC"),
            "{text}"
        );
    }

    #[test]
    fn unknown_issuer_gives_both_fixes_with_the_side_s_field() {
        let es =
            CertProblem::UnknownIssuer.explain("es.corp:9200", &TrustFields::search_cluster(true));
        assert!(
            es.contains("that es.corp:9200 presented is not trusted"),
            "{es}"
        );
        assert!(
            es.contains("operating system's trust store (Debian"),
            "{es}"
        );
        assert!(es.contains("into `es_ca_certificate`"), "{es}");
        assert!(
            es.contains("nor the certificate in `es_ca_certificate`"),
            "{es}"
        );
        assert!(!es.contains("ssl_enabled"), "{es}");
    }

    #[test]
    fn host_name_drops_the_port() {
        assert_eq!(host_name("wiki.corp:8443"), "wiki.corp");
        assert_eq!(host_name("wiki.corp"), "wiki.corp");
        assert_eq!(host_name("[::1]:443"), "[::1]");
    }
}
