//! Offline validation of a configuration: every problem, each tied to its field.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{
    ConnectionEnvSecrets, ConnectorConfig, DataCenterAuthMethod, DataSource, EsAuthMethod,
    ExtractionServiceKind, SecretField, Secrets, Target,
};

/// How bad a [`FieldError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Severity {
    /// The configuration cannot be used as it is.
    Error,
    /// It can be used, but the user should know (e.g. TLS verification is off).
    Warning,
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldError {
    /// The field key, as in [`super::fields`] and [`super::target_fields`].
    pub field: String,
    /// What is wrong and what is expected instead.
    pub message: String,
    /// Error or warning.
    pub severity: Severity,
}

impl FieldError {
    fn error(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    fn warning(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
            severity: Severity::Warning,
        }
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// True when `problems` holds at least one error (warnings do not count).
pub fn has_errors(problems: &[FieldError]) -> bool {
    problems.iter().any(FieldError::is_error)
}

/// Checks `config` and `secrets` and returns every problem found (empty when all is well).
///
/// Credentials are checked only for the selected data source (and auth method), as in the
/// reference; `ssl_ca` only when `ssl_enabled` (a certificate left there while `ssl_enabled` is
/// off is a warning: it is not used).
pub fn validate(config: &ConnectorConfig, secrets: &Secrets) -> Vec<FieldError> {
    let mut out = Vec::new();
    check_secret_source(config, &mut out);
    check_credentials(config, secrets, &mut out);
    let example = match config.data_source {
        DataSource::ConfluenceCloud => "https://your-site.atlassian.net",
        _ => "https://confluence.acme.local:8090",
    };
    check_http_url(
        "confluence_url",
        "The Confluence URL",
        &config.confluence_url,
        example,
        &mut out,
    );
    check_spaces(config, &mut out);
    if config.ssl_enabled {
        check_pem("ssl_ca", &config.ssl_ca, true, &mut out);
    } else if !config.ssl_ca.trim().is_empty() {
        out.push(FieldError::warning(
            "ssl_ca",
            "This certificate is not used because \"Enable SSL\" is off, so only the system's \
             trusted certificates are: turn Enable SSL on to trust it, or clear the certificate",
        ));
    }
    if config.tls_insecure_skip_verify {
        out.push(FieldError::warning(
            "tls_insecure_skip_verify",
            "TLS certificate verification is OFF: anyone between this machine and Confluence can \
             read the credentials and the content. Turn Enable SSL on and paste the server's CA \
             certificate under \"SSL certificate\" instead",
        ));
    }
    if config.retry_count > 20 {
        out.push(FieldError::error(
            "retry_count",
            format!(
                "expected at most 20 retries per request, got {}",
                config.retry_count
            ),
        ));
    }
    if !(1..51).contains(&config.concurrent_downloads) {
        out.push(FieldError::error(
            "concurrent_downloads",
            format!(
                "expected a number from 1 to 50 (less than 51), got {}",
                config.concurrent_downloads
            ),
        ));
    }
    if config.deletion_threshold_percent > 100 {
        out.push(FieldError::error(
            "deletion_threshold_percent",
            format!(
                "expected a percentage from 0 to 100 (the share of the index a sync may delete \
                 without a confirmed scope change), got {}",
                config.deletion_threshold_percent
            ),
        ));
    }
    check_http_settings(config, &mut out);
    check_extraction_service(config, &mut out);
    check_target(config, secrets, &mut out);
    out
}

fn required(field: &str, value: &str, what: &str, out: &mut Vec<FieldError>) {
    if value.trim().is_empty() {
        out.push(FieldError::error(
            field,
            format!("{} is required", sentence(what)),
        ));
    }
}

/// `text` with its first letter upper case.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A secret the configuration needs: typed in the form (the keyring's), or, for a connection
/// that reads its secrets from the environment, its variable (reported on `secrets_env_name`,
/// since the form shows no secret input then).
fn required_secret(
    config: &ConnectorConfig,
    secrets: &Secrets,
    field: SecretField,
    out: &mut Vec<FieldError>,
) {
    if secrets.get(field).is_some() {
        return;
    }
    match ConnectionEnvSecrets::for_config(config) {
        // Without a name there are no variables: check_secret_source says so once.
        Some(env) if env.name().is_empty() => {}
        Some(env) => out.push(FieldError::error(
            "secrets_env_name",
            format!(
                "{} is not set: set the environment variable {} to it and start the app again \
                 (this connection reads its secrets from environment variables)",
                sentence(field.label()),
                env.var(field)
            ),
        )),
        None => out.push(FieldError::error(
            field.key(),
            format!(
                "{} is required: enter it (the command line also reads it from the environment \
                 variable {})",
                sentence(field.label()),
                field.env_var()
            ),
        )),
    }
}

/// A connection that reads its secrets from the environment needs a name for its variables.
fn check_secret_source(config: &ConnectorConfig, out: &mut Vec<FieldError>) {
    if config.secrets_from_env && super::env_name(&config.secrets_env_name).is_empty() {
        out.push(FieldError::error(
            "secrets_env_name",
            "Enter the name of this connection in its environment variables: letters and \
             digits, e.g. ENGINEERING_WIKI for CONFLUENCE_CONNECTOR_ENGINEERING_WIKI_API_TOKEN",
        ));
    }
}

fn check_credentials(config: &ConnectorConfig, secrets: &Secrets, out: &mut Vec<FieldError>) {
    match config.data_source {
        DataSource::ConfluenceServer => {
            required(
                "username",
                &config.username,
                "the Confluence Server username",
                out,
            );
            required_secret(config, secrets, SecretField::Password, out);
        }
        DataSource::ConfluenceDataCenter => match config.data_center_auth_method {
            DataCenterAuthMethod::Basic => {
                required(
                    "data_center_username",
                    &config.data_center_username,
                    "the Confluence Data Center username",
                    out,
                );
                required_secret(config, secrets, SecretField::DataCenterPassword, out);
            }
            DataCenterAuthMethod::PersonalAccessToken => required_secret(
                config,
                secrets,
                SecretField::DataCenterPersonalAccessToken,
                out,
            ),
        },
        DataSource::ConfluenceCloud => {
            let email = config.account_email.trim();
            if email.is_empty() {
                out.push(FieldError::error(
                    "account_email",
                    "The Atlassian account email is required",
                ));
            } else if !email.contains('@') {
                out.push(FieldError::error(
                    "account_email",
                    format!(
                        "The account email must be an email address such as ann@example.com, \
                         not \"{email}\""
                    ),
                ));
            }
            required_secret(config, secrets, SecretField::ApiToken, out);
        }
    }
}

/// A web address: `what` names it in messages ("The Confluence URL"), `example` shows one.
fn check_http_url(field: &str, what: &str, value: &str, example: &str, out: &mut Vec<FieldError>) {
    let value = value.trim();
    if value.is_empty() {
        out.push(FieldError::error(
            field,
            format!("{what} is required, for example {example}"),
        ));
        return;
    }
    if let Some(message) = url_problem(what, value, example) {
        out.push(FieldError::error(field, message));
    }
}

/// What is wrong with `value` as an http(s) address, in an admin's words, with the fix.
fn url_problem(what: &str, value: &str, example: &str) -> Option<String> {
    let must_start = |example: &str| {
        format!("{what} must start with https:// or http://, for example {example}")
    };
    if !value.contains("://") {
        // `host:8090` parses as the scheme `host`, `host` alone as a relative URL: both are an
        // address typed without its scheme. One that looks like a host name or a port is shown
        // with the example's scheme in front.
        let scheme = if example.starts_with("http://") {
            "http"
        } else {
            "https"
        };
        let guess = format!("{scheme}://{value}");
        let looks_like_host = value.contains(['.', ':']) && !value.contains(char::is_whitespace);
        return Some(match url::Url::parse(&guess) {
            Ok(u) if looks_like_host && u.host_str().is_some_and(|h| !h.is_empty()) => {
                must_start(guess.trim_end_matches('/'))
            }
            _ => must_start(example),
        });
    }
    let u = match url::Url::parse(value) {
        Ok(u) => u,
        Err(e) => {
            use url::ParseError as P;
            return Some(match e {
                P::EmptyHost => {
                    format!("{what} has no server name after the ://, for example {example}")
                }
                P::InvalidPort => format!(
                    "The port in {} must be a number from 1 to 65535, for example {example}",
                    lower(what)
                ),
                P::InvalidIpv4Address | P::InvalidIpv6Address => format!(
                    "The IP address in {} is not valid, for example {example}",
                    lower(what)
                ),
                P::InvalidDomainCharacter | P::IdnaError => format!(
                    "The server name in {} holds characters a server name cannot have (such as \
                     spaces), for example {example}",
                    lower(what)
                ),
                _ => format!(
                    "\"{value}\" is not a web address: {} looks like {example}",
                    lower(what)
                ),
            });
        }
    };
    if !matches!(u.scheme(), "http" | "https") {
        return Some(format!(
            "{what} must start with https:// or http://, not {}://, for example {example}",
            u.scheme()
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Some(format!(
            "{what} has no server name after the ://, for example {example}"
        ));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Some(format!(
            "Remove the user name and password from {}: enter them in their own fields",
            lower(what)
        ));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Some(format!(
            "Remove the part after ? or # from {}, for example {example}",
            lower(what)
        ));
    }
    None
}

/// "The Confluence URL" → "the Confluence URL".
fn lower(what: &str) -> String {
    match what.strip_prefix("The ") {
        Some(rest) => format!("the {rest}"),
        None => what.to_owned(),
    }
}

fn check_spaces(config: &ConnectorConfig, out: &mut Vec<FieldError>) {
    let spaces = &config.spaces;
    if spaces.is_empty() {
        out.push(FieldError::error(
            "spaces",
            "List at least one space key (comma-separated), or * for all spaces",
        ));
    } else if spaces.len() > 1 && spaces.iter().any(|s| s == "*") {
        out.push(FieldError::error(
            "spaces",
            "* selects all spaces and must stand alone: remove it or the other keys",
        ));
    } else if let Some(bad) = spaces.iter().find(|s| s.chars().any(char::is_whitespace)) {
        out.push(FieldError::error(
            "spaces",
            format!("Space keys contain no spaces (\"{bad}\"): separate keys with commas"),
        ));
    }
}

fn check_pem(field: &str, pem: &str, required: bool, out: &mut Vec<FieldError>) {
    if pem.trim().is_empty() {
        if required {
            out.push(FieldError::error(
                field,
                "a PEM certificate is required when SSL is enabled \
                 (text starting with -----BEGIN CERTIFICATE-----)",
            ));
        }
        return;
    }
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        out.push(FieldError::error(
            field,
            "expected a PEM certificate starting with -----BEGIN CERTIFICATE-----",
        ));
        return;
    }
    match reqwest::Certificate::from_pem_bundle(pem.trim().as_bytes()) {
        Ok(certs) if !certs.is_empty() => {}
        Ok(_) => out.push(FieldError::error(
            field,
            "no certificate found in the PEM text",
        )),
        Err(e) => out.push(FieldError::error(
            field,
            format!("the PEM certificate could not be read ({e}); paste the whole file"),
        )),
    }
}

fn check_http_settings(config: &ConnectorConfig, out: &mut Vec<FieldError>) {
    let h = &config.http;
    for (field, value) in [
        ("http.connect_timeout_secs", h.connect_timeout_secs),
        ("http.request_timeout_secs", h.request_timeout_secs),
        ("http.read_timeout_secs", h.read_timeout_secs),
        ("http.max_concurrent_requests", h.max_concurrent_requests),
    ] {
        if value == 0 {
            out.push(FieldError::error(field, "expected a number greater than 0"));
        }
    }
    if let Some(rps) = h.max_requests_per_second
        && !(rps.is_finite() && rps > 0.0)
    {
        out.push(FieldError::error(
            "http.max_requests_per_second",
            "expected a positive number of requests per second, or no cap",
        ));
    }
}

/// The extraction service's fields, when `use_text_extraction_service` is on (they are not used
/// otherwise).
fn check_extraction_service(config: &ConnectorConfig, out: &mut Vec<FieldError>) {
    if !config.use_text_extraction_service {
        return;
    }
    let e = &config.extraction;
    let example = match e.service_kind {
        ExtractionServiceKind::Tika => "http://127.0.0.1:9998 (an Apache Tika server)",
        ExtractionServiceKind::Elastic => {
            "http://127.0.0.1:8090 (Elastic's data extraction service)"
        }
    };
    check_http_url(
        "extraction_service_url",
        "The text extraction service URL",
        &e.service_url,
        example,
        out,
    );
    if e.service_timeout_secs == 0 {
        out.push(FieldError::error(
            "extraction.service_timeout_secs",
            "expected the seconds the extraction service may take per file, greater than 0",
        ));
    }
    if !e.use_file_pointers {
        return;
    }
    if e.service_kind == ExtractionServiceKind::Tika {
        out.push(FieldError::warning(
            "extraction_service_use_file_pointers",
            "Sending file paths is a mode of Elastic's data extraction service: an Apache Tika \
             server receives each file in the request, so this is ignored (choose Elastic's \
             service as the text extraction service, or turn this off)",
        ));
        return;
    }
    let field = "extraction_service_shared_volume_dir";
    let dir = e.shared_volume_dir.trim();
    if dir.is_empty() {
        out.push(FieldError::error(
            field,
            "a directory shared with the extraction service is required when file paths are \
             sent, e.g. /app/files",
        ));
    } else if !std::path::Path::new(dir).is_absolute() {
        out.push(FieldError::error(
            field,
            format!("Enter an absolute path such as /app/files (the service reads files by their full path), not \"{dir}\""),
        ));
    } else if !std::path::Path::new(dir).is_dir() {
        out.push(FieldError::warning(
            field,
            format!(
                "The folder {dir} does not exist on this machine: create it and share it with \
                 the extraction service (mount it in the service's container), or syncs will \
                 note that attachments could not be handed to the service"
            ),
        ));
    }
    let service_dir = e.shared_volume_service_dir.trim();
    if !service_dir.is_empty() && !is_absolute_anywhere(service_dir) {
        out.push(FieldError::error(
            "extraction_service_shared_volume_service_dir",
            format!(
                "Enter the absolute path at which the service mounts the shared directory \
                 (e.g. /app/files), or nothing when it is the same path, not \"{service_dir}\""
            ),
        ));
    }
}

/// An absolute path on a Unix or a Windows machine (the service may run on either).
fn is_absolute_anywhere(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/')
        || path.starts_with("\\\\")
        || (b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'\\' | b'/'))
}

fn check_index_name(name: &str, out: &mut Vec<FieldError>) {
    let field = "index_name";
    let problem = if name.is_empty() {
        Some("An index name is required, e.g. search-confluence".to_string())
    } else if name != name.to_lowercase() {
        Some(format!(
            "Index names are lower case: try {}",
            name.to_lowercase()
        ))
    } else if name.starts_with(['-', '_', '+']) {
        Some("An index name cannot start with -, _ or +".to_string())
    } else if name == "." || name == ".." {
        Some("An index name cannot be . or ..".to_string())
    } else if let Some(c) = name.chars().find(|c| r#"\/*?"<>| ,#:"#.contains(*c)) {
        Some(format!("An index name cannot contain {}", shown_char(c)))
    } else if name.len() > 255 {
        Some("An index name is at most 255 bytes long".to_string())
    } else {
        None
    };
    if let Some(message) = problem {
        out.push(FieldError::error(field, message));
    }
}

fn check_target(config: &ConnectorConfig, secrets: &Secrets, out: &mut Vec<FieldError>) {
    let target = &config.target;
    check_index_name(target.index_name(), out);
    let Target::Elasticsearch(es) = target else {
        return;
    };
    check_http_url(
        "es_url",
        "The Elasticsearch URL",
        &es.url,
        "https://localhost:9200",
        out,
    );
    match es.auth_method {
        EsAuthMethod::ApiKey => required_secret(config, secrets, SecretField::EsApiKey, out),
        EsAuthMethod::Basic => {
            required(
                "es_username",
                &es.username,
                "the Elasticsearch username",
                out,
            );
            required_secret(config, secrets, SecretField::EsPassword, out);
        }
    }
    check_pem("es_ca_certificate", &es.ca_certificate, false, out);
    check_index_settings(es, out);
}

/// Shards, replicas, refresh intervals, the pipeline name and the alias swap of an
/// Elasticsearch target.
fn check_index_settings(es: &crate::config::ElasticsearchTarget, out: &mut Vec<FieldError>) {
    if let Some(shards) = es.number_of_shards
        && !(1..=1024).contains(&shards)
    {
        out.push(FieldError::error(
            "es_number_of_shards",
            format!(
                "expected 1 to 1024 primary shards (Elasticsearch's limit per index), or nothing \
                 for the cluster's default; got {shards}"
            ),
        ));
    }
    if let Some(replicas) = es.number_of_replicas
        && replicas > 99
    {
        out.push(FieldError::error(
            "es_number_of_replicas",
            format!(
                "expected 0 to 99 replicas (each needs a node of its own), or nothing for the \
                 cluster's default; got {replicas}"
            ),
        ));
    }
    for (field, value, what) in [
        (
            "es_refresh_interval",
            &es.refresh_interval,
            "refresh interval",
        ),
        (
            "es_bulk_refresh_interval",
            &es.bulk_refresh_interval,
            "refresh interval during full syncs",
        ),
    ] {
        let value = value.trim();
        if !value.is_empty() && !is_time_value(value) {
            out.push(FieldError::error(
                field,
                format!(
                    "Enter a {what} such as 1s, 30s, 500ms or -1 (no refresh), or nothing; \
                     \"{value}\" is not one"
                ),
            ));
        }
    }
    let pipeline = es.pipeline.trim();
    if let Some(c) = pipeline
        .chars()
        .find(|c| c.is_whitespace() || r#"/\?#,*"<>|"#.contains(*c))
    {
        out.push(FieldError::error(
            "es_pipeline",
            format!(
                "An ingest pipeline name cannot contain {}: \"{pipeline}\"",
                shown_char(c)
            ),
        ));
    } else if pipeline.len() > 512 {
        out.push(FieldError::error(
            "es_pipeline",
            "An ingest pipeline name is at most 512 characters long",
        ));
    }
    // `<name>-<14-digit time>-<8 characters of the job>` must still be a valid index name.
    if es.alias_swap && es.index_name.len() > 255 - 24 {
        out.push(FieldError::error(
            "index_name",
            "With the alias swap, the index name is at most 231 bytes long (the fresh indices \
             add -<time>-<job> to it)",
        ));
    }
}

/// A character for messages: "spaces", or the character in quotes.
fn shown_char(c: char) -> String {
    if c.is_whitespace() {
        "spaces".to_owned()
    } else {
        format!("\"{c}\"")
    }
}

/// An Elasticsearch time value as `index.refresh_interval` takes it: `-1`, `0`, or a whole
/// number with a unit (`d`, `h`, `m`, `s`, `ms`, `micros`, `nanos`).
fn is_time_value(value: &str) -> bool {
    if value == "-1" || value == "0" {
        return true;
    }
    let digits = value.chars().take_while(char::is_ascii_digit).count();
    digits > 0
        && matches!(
            &value[digits..],
            "d" | "h" | "m" | "s" | "ms" | "micros" | "nanos"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ElasticsearchTarget;

    fn server() -> (ConnectorConfig, Secrets) {
        let cfg = ConnectorConfig {
            username: "admin".into(),
            confluence_url: "http://127.0.0.1:9696".into(),
            ..Default::default()
        };
        (cfg, Secrets::new().with(SecretField::Password, "abc@123"))
    }

    fn fields_of(errs: &[FieldError]) -> Vec<&str> {
        errs.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn valid_server_config_passes() {
        let (cfg, s) = server();
        assert_eq!(validate(&cfg, &s), vec![]);
    }

    #[test]
    fn the_deletion_threshold_is_a_percentage() {
        let (mut cfg, s) = server();
        for ok in [0, 50, 100] {
            cfg.deletion_threshold_percent = ok;
            assert_eq!(validate(&cfg, &s), vec![], "{ok}");
        }
        cfg.deletion_threshold_percent = 101;
        let errs = validate(&cfg, &s);
        assert_eq!(fields_of(&errs), ["deletion_threshold_percent"]);
        assert!(
            errs[0].message.contains("from 0 to 100"),
            "{}",
            errs[0].message
        );
        assert!(errs[0].message.contains("got 101"), "{}", errs[0].message);
    }

    #[test]
    fn missing_server_credentials_fail() {
        let (mut cfg, _) = server();
        cfg.username.clear();
        let errs = validate(&cfg, &Secrets::new());
        assert_eq!(fields_of(&errs), ["username", "password"]);
        assert!(errs[1].message.contains("CONFLUENCE_PASSWORD"));
    }

    #[test]
    fn other_sources_blank_credentials_are_fine() {
        // Server selected; Cloud and DC credentials blank.
        let (cfg, s) = server();
        assert!(cfg.account_email.is_empty() && cfg.data_center_username.is_empty());
        assert!(validate(&cfg, &s).is_empty());
        // Cloud selected with its credentials; Server ones blank.
        let cfg = ConnectorConfig {
            data_source: DataSource::ConfluenceCloud,
            account_email: "ann@example.com".into(),
            confluence_url: "https://acme.atlassian.net".into(),
            ..Default::default()
        };
        let s = Secrets::new().with(SecretField::ApiToken, "t");
        assert!(validate(&cfg, &s).is_empty());
    }

    #[test]
    fn data_center_basic_and_pat() {
        let mut cfg = ConnectorConfig {
            data_source: DataSource::ConfluenceDataCenter,
            confluence_url: "https://dc.example.com/confluence".into(),
            ..Default::default()
        };
        let errs = validate(&cfg, &Secrets::new());
        assert_eq!(
            fields_of(&errs),
            ["data_center_username", "data_center_password"]
        );
        cfg.data_center_auth_method = DataCenterAuthMethod::PersonalAccessToken;
        let errs = validate(&cfg, &Secrets::new());
        assert_eq!(fields_of(&errs), ["data_center_personal_access_token"]);
        let s = Secrets::new().with(SecretField::DataCenterPersonalAccessToken, "pat");
        assert!(validate(&cfg, &s).is_empty());
    }

    #[test]
    fn cloud_missing_token_fails() {
        let cfg = ConnectorConfig {
            data_source: DataSource::ConfluenceCloud,
            confluence_url: "https://acme.atlassian.net".into(),
            ..Default::default()
        };
        let errs = validate(&cfg, &Secrets::new());
        assert_eq!(fields_of(&errs), ["account_email", "api_token"]);
    }

    #[test]
    fn urls_must_be_http_and_parse() {
        let (mut cfg, s) = server();
        for bad in [
            "",
            "not a url",
            "ftp://host",
            "https://u:p@host",
            "https://h/?x=1",
        ] {
            cfg.confluence_url = bad.into();
            let errs = validate(&cfg, &s);
            assert_eq!(fields_of(&errs), ["confluence_url"], "{bad}: {errs:?}");
        }
    }

    /// The message of the single problem of `url` as the Confluence URL.
    fn url_message(url: &str) -> String {
        let (mut cfg, s) = server();
        cfg.confluence_url = url.into();
        let errs = validate(&cfg, &s);
        assert_eq!(fields_of(&errs), ["confluence_url"], "{url}: {errs:?}");
        errs[0].message.clone()
    }

    #[test]
    fn url_problems_are_told_in_an_admins_words() {
        // A host and port without the scheme: not "got scheme `confluence.acme.local`".
        assert_eq!(
            url_message("confluence.acme.local:8090"),
            "The Confluence URL must start with https:// or http://, for example \
             https://confluence.acme.local:8090"
        );
        assert_eq!(
            url_message("host:8090"),
            "The Confluence URL must start with https:// or http://, for example https://host:8090"
        );
        // A bare name: not "relative URL without a base".
        assert_eq!(
            url_message("confluence"),
            "The Confluence URL must start with https:// or http://, for example \
             https://confluence.acme.local:8090"
        );
        assert_eq!(
            url_message("wiki.acme.local/confluence"),
            "The Confluence URL must start with https:// or http://, for example \
             https://wiki.acme.local/confluence"
        );
        assert_eq!(
            url_message("not a url"),
            "The Confluence URL must start with https:// or http://, for example \
             https://confluence.acme.local:8090"
        );
        assert_eq!(
            url_message("ftp://host"),
            "The Confluence URL must start with https:// or http://, not ftp://, for example \
             https://confluence.acme.local:8090"
        );
        assert!(
            url_message("https://host:99999")
                .starts_with("The port in the Confluence URL must be a number from 1 to 65535")
        );
        assert!(url_message("https://").starts_with("The Confluence URL has no server name"));
        assert!(
            url_message("https://my host").starts_with("The server name in the Confluence URL")
        );
        assert!(url_message("https://u:p@host").starts_with("Remove the user name and password"));
        assert!(url_message("https://h/?x=1").starts_with("Remove the part after ? or #"));
        assert_eq!(
            url_message(""),
            "The Confluence URL is required, for example https://confluence.acme.local:8090"
        );
        for url in ["host:8090", "garbage", "https://h/?x=1", "ftp://h"] {
            let message = url_message(url);
            assert!(
                !message.contains('`') && !message.contains("scheme"),
                "{message}"
            );
        }
        // The other addresses name themselves.
        let (mut cfg, s) = server();
        cfg.target = Target::Elasticsearch(ElasticsearchTarget {
            url: "es.acme.local:9200".into(),
            ..Default::default()
        });
        let s = s.with(SecretField::EsApiKey, "k");
        let errs = validate(&cfg, &s);
        assert_eq!(
            errs[0].message,
            "The Elasticsearch URL must start with https:// or http://, for example \
             https://es.acme.local:9200"
        );
    }

    #[test]
    fn secrets_from_the_environment_are_asked_for_by_their_variable() {
        let (mut cfg, _) = server();
        cfg.secrets_from_env = true;
        cfg.secrets_env_name = "WIKI".into();
        let errs = validate(&cfg, &Secrets::new());
        assert_eq!(fields_of(&errs), ["secrets_env_name"]);
        assert_eq!(
            errs[0].message,
            "The Confluence Server password is not set: set the environment variable \
             CONFLUENCE_CONNECTOR_WIKI_PASSWORD to it and start the app again (this connection \
             reads its secrets from environment variables)"
        );
        cfg.secrets_env_name = "  ".into();
        let errs = validate(&cfg, &Secrets::new());
        assert_eq!(fields_of(&errs), ["secrets_env_name"]);
        assert!(errs[0].message.starts_with("Enter the name"), "{errs:?}");
        // A keyring connection asks for the value itself.
        cfg.secrets_from_env = false;
        let errs = validate(&cfg, &Secrets::new());
        assert_eq!(fields_of(&errs), ["password"]);
        assert!(
            errs[0]
                .message
                .starts_with("The Confluence Server password is required: enter it"),
            "{errs:?}"
        );
    }

    #[test]
    fn concurrent_downloads_limit() {
        let (mut cfg, s) = server();
        cfg.concurrent_downloads = 100_000;
        let errs = validate(&cfg, &s);
        assert_eq!(fields_of(&errs), ["concurrent_downloads"]);
        assert!(errs[0].message.contains("less than 51"));
        cfg.concurrent_downloads = 50;
        assert!(validate(&cfg, &s).is_empty());
    }

    #[test]
    fn ssl_ca_only_checked_when_enabled() {
        let (mut cfg, s) = server();
        cfg.ssl_ca = String::new();
        assert!(validate(&cfg, &s).is_empty());
        cfg.ssl_enabled = true;
        assert_eq!(fields_of(&validate(&cfg, &s)), ["ssl_ca"]);
        cfg.ssl_ca = "garbage".into();
        assert_eq!(fields_of(&validate(&cfg, &s)), ["ssl_ca"]);
    }

    #[test]
    fn ssl_ca_without_ssl_enabled_is_not_ignored_silently() {
        let (mut cfg, s) = server();
        cfg.ssl_enabled = false;
        cfg.ssl_ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----".into();
        let problems = validate(&cfg, &s);
        assert_eq!(fields_of(&problems), ["ssl_ca"]);
        assert_eq!(problems[0].severity, Severity::Warning);
        assert!(
            problems[0].message.contains("turn Enable SSL on"),
            "{problems:?}"
        );
        assert!(!has_errors(&problems));
    }

    #[test]
    fn insecure_tls_is_a_loud_warning() {
        let (mut cfg, s) = server();
        cfg.tls_insecure_skip_verify = true;
        let errs = validate(&cfg, &s);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].severity, Severity::Warning);
        assert!(errs[0].message.contains("OFF"));
        assert!(!has_errors(&errs));
    }

    #[test]
    fn spaces_rules() {
        let (mut cfg, s) = server();
        cfg.spaces = vec![];
        assert_eq!(fields_of(&validate(&cfg, &s)), ["spaces"]);
        cfg.spaces = vec!["*".into(), "DEV".into()];
        assert_eq!(fields_of(&validate(&cfg, &s)), ["spaces"]);
        cfg.spaces = vec!["DEV".into(), "OPS".into()];
        assert!(validate(&cfg, &s).is_empty());
    }

    #[test]
    fn the_extraction_service_is_checked_only_when_used() {
        let (mut cfg, s) = server();
        cfg.extraction.service_url = "nonsense".into();
        cfg.extraction.shared_volume_dir = "relative".into();
        assert!(
            validate(&cfg, &s).is_empty(),
            "unused settings are not checked"
        );
        cfg.use_text_extraction_service = true;
        let errs = validate(&cfg, &s);
        assert_eq!(fields_of(&errs), ["extraction_service_url"]);
        assert!(errs[0].message.contains("9998"), "{}", errs[0].message);
        cfg.extraction.service_kind = ExtractionServiceKind::Elastic;
        cfg.extraction.service_url = "http://127.0.0.1:8090".into();
        assert!(validate(&cfg, &s).is_empty());
        cfg.extraction.use_file_pointers = true;
        let errs = validate(&cfg, &s);
        assert_eq!(fields_of(&errs), ["extraction_service_shared_volume_dir"]);
        assert!(errs[0].message.contains("absolute"), "{}", errs[0].message);
        let dir = tempfile::tempdir().unwrap();
        cfg.extraction.shared_volume_dir = dir.path().display().to_string();
        cfg.extraction.shared_volume_service_dir = "files".into();
        let errs = validate(&cfg, &s);
        assert_eq!(
            fields_of(&errs),
            ["extraction_service_shared_volume_service_dir"]
        );
        for ok in ["/app/files", "C:\\extraction", ""] {
            cfg.extraction.shared_volume_service_dir = ok.into();
            assert!(validate(&cfg, &s).is_empty(), "{ok}");
        }
        cfg.extraction.shared_volume_dir = dir.path().join("missing").display().to_string();
        let errs = validate(&cfg, &s);
        assert_eq!(fields_of(&errs), ["extraction_service_shared_volume_dir"]);
        assert_eq!(errs[0].severity, Severity::Warning);
        // File paths are a mode of Elastic's service only.
        cfg.extraction.service_kind = ExtractionServiceKind::Tika;
        cfg.extraction.service_url = "http://127.0.0.1:9998".into();
        let errs = validate(&cfg, &s);
        assert_eq!(fields_of(&errs), ["extraction_service_use_file_pointers"]);
        assert!(!has_errors(&errs));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let cfg = ConnectorConfig {
            concurrent_downloads: 0,
            spaces: vec![],
            target: Target::Elasticsearch(ElasticsearchTarget {
                index_name: "Bad Name".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let errs = validate(&cfg, &Secrets::new());
        assert_eq!(
            fields_of(&errs),
            [
                "username",
                "password",
                "confluence_url",
                "spaces",
                "concurrent_downloads",
                "index_name",
                "es_url",
                "es_api_key"
            ]
        );
    }

    #[test]
    fn index_settings_are_checked_per_field() {
        let (mut cfg, s) = server();
        let mut es = ElasticsearchTarget {
            url: "https://es:9200".into(),
            auth_method: EsAuthMethod::Basic,
            username: "elastic".into(),
            number_of_shards: Some(2),
            number_of_replicas: Some(1),
            refresh_interval: "30s".into(),
            bulk_refresh_interval: "-1".into(),
            pipeline: "search-default-ingestion".into(),
            alias_swap: true,
            ..ElasticsearchTarget::default()
        };
        let s = s.with(SecretField::EsPassword, "pw");
        cfg.target = Target::Elasticsearch(es.clone());
        assert_eq!(validate(&cfg, &s), vec![]);

        es.number_of_shards = Some(0);
        es.number_of_replicas = Some(500);
        es.refresh_interval = "5".into();
        es.bulk_refresh_interval = "soon".into();
        es.pipeline = "my pipeline".into();
        cfg.target = Target::Elasticsearch(es);
        let errs = validate(&cfg, &s);
        assert_eq!(
            fields_of(&errs),
            [
                "es_number_of_shards",
                "es_number_of_replicas",
                "es_refresh_interval",
                "es_bulk_refresh_interval",
                "es_pipeline"
            ]
        );
        assert!(errs[2].message.contains("\"5\""), "{}", errs[2].message);
        assert!(errs[2].message.contains("-1"), "{}", errs[2].message);
        assert!(
            errs[4].message.contains("cannot contain spaces"),
            "{}",
            errs[4].message
        );
        assert!(is_time_value("500ms") && is_time_value("-1") && !is_time_value("1.5s"));
    }
}
