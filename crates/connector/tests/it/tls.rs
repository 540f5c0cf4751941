//! TLS as an admin meets it: a server whose certificate was issued by a private CA, made by the
//! test (rcgen) and served over rustls. Without trust the Confluence client and the search
//! cluster client refuse it, saying which host and the two fixes; with the CA in `ssl_ca` (or
//! the target's CA certificate) they connect; and with the CA in the operating system's trust
//! store they connect with nothing configured.
//!
//! The system store is not touched: rustls-native-certs, which reads it, takes `SSL_CERT_FILE`
//! instead when that is set, on every platform. The environment cannot be changed safely inside
//! this multi-threaded test process, so that case runs in a child process of this same test
//! binary, with `SSL_CERT_FILE` set to a bundle that holds the test CA (and, as the control, to
//! an empty file).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::serve::Listener;
use connector::config::{ConnectorConfig, DataSource, SecretField, Secrets};
use connector::confluence::ConfluenceClient;
use connector::sink::{EsOptions, EsSink};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The names of the server's certificate.
const SERVER_NAMES: &[&str] = &["localhost", "127.0.0.1"];
const EMAIL: &str = "admin@example.com";
const TOKEN: &str = "tls-test-api-token";
/// Set in the child process: the server's URL.
const CHILD_URL: &str = "CONNECTOR_TLS_CHILD_URL";
/// Set in the child process: `trusted` or `refused`, what the child must see.
const CHILD_EXPECT: &str = "CONNECTOR_TLS_CHILD_EXPECT";

/// A CA named `ca_name` and a server certificate it issued for `names`.
struct Pki {
    ca_pem: String,
    server: Arc<ServerConfig>,
}

fn make_pki(ca_name: &str, names: &[&str]) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut leaf = CertificateParams::new(names).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf.signed_by(&key, &issuer).unwrap();

    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        server: Arc::new(server),
    }
}

/// TCP plus the TLS handshake; a client that refuses the certificate is counted and skipped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    refused: Arc<AtomicUsize>,
}

impl Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            match self.acceptor.accept(stream).await {
                Ok(tls) => return (tls, addr),
                Err(_) => {
                    self.refused.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// The HTTPS server: Confluence Cloud's current user and an Elasticsearch root.
struct Server {
    url: String,
    host: String,
    /// `METHOD /path` of every request that got through the handshake.
    requests: Arc<Mutex<Vec<String>>>,
    /// Handshakes the client broke off (it refused the certificate).
    refused: Arc<AtomicUsize>,
}

impl Server {
    /// Waits until the server has seen `expected` refused handshakes in all (it notices one a
    /// moment after the client gave up), then checks that no more come.
    async fn refused_handshakes(&self, expected: usize) {
        for _ in 0..500 {
            if self.refused.load(Ordering::SeqCst) >= expected {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(self.refused.load(Ordering::SeqCst), expected);
    }

    fn served(&self, request: &str) -> bool {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .any(|seen| seen == request)
    }
}

async fn start(server: Arc<ServerConfig>) -> Server {
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let refused = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(server),
        refused: refused.clone(),
    };
    let app = Router::new().fallback(answer).with_state(requests.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        url: format!("https://127.0.0.1:{}", addr.port()),
        host: format!("127.0.0.1:{}", addr.port()),
        requests,
        refused,
    }
}

async fn answer(
    State(requests): State<Arc<Mutex<Vec<String>>>>,
    method: Method,
    uri: Uri,
) -> Response {
    requests
        .lock()
        .unwrap()
        .push(format!("{method} {}", uri.path()));
    match uri.path() {
        // As Confluence Cloud answers it (the simulator's shape).
        "/wiki/rest/api/user/current" => axum::Json(json!({
            "type": "known",
            "accountId": "5b10ac8d82e05b22cc7d4ef5",
            "accountType": "atlassian",
            "email": EMAIL,
            "publicName": "Site Admin",
            "profilePicture": {"path": "/wiki/aa-avatar/5b10ac8d82e05b22cc7d4ef5", "width": 48, "height": 48, "isDefault": false},
            "displayName": "Site Admin",
            "timeZone": "Europe/Berlin",
            "isExternalCollaborator": false,
            "isGuest": false,
            "locale": "en_US",
            "accountStatus": "active",
            "_expandable": {"operations": "", "personalSpace": ""},
            "_links": {"self": "/wiki/rest/api/user?accountId=5b10ac8d82e05b22cc7d4ef5"}
        }))
        .into_response(),
        "/" => axum::Json(json!({
            "name": "node-1",
            "cluster_name": "tls-test",
            "version": {"number": "8.15.0", "build_flavor": "default"},
            "tagline": "You Know, for Search"
        }))
        .into_response(),
        path => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({
                "error": {"type": "index_not_found_exception", "reason": format!("no such index [{path}]")},
                "status": 404
            })),
        )
            .into_response(),
    }
}

/// A Confluence Cloud configuration for `url`, with `ssl_ca` when given.
fn cloud(url: &str, ssl_ca: Option<&str>) -> (ConnectorConfig, Secrets) {
    let config = ConnectorConfig {
        data_source: DataSource::ConfluenceCloud,
        confluence_url: url.to_owned(),
        account_email: EMAIL.to_owned(),
        ssl_enabled: ssl_ca.is_some(),
        ssl_ca: ssl_ca.unwrap_or_default().to_owned(),
        ..ConnectorConfig::default()
    };
    let mut secrets = Secrets::new();
    secrets.set(SecretField::ApiToken, TOKEN);
    (config, secrets)
}

fn es(url: &str, ca: Option<&str>) -> EsSink {
    let mut options = EsOptions::new(url, "search-tls");
    options.ca_certificate_pem = ca.map(str::to_owned);
    EsSink::new(&options).unwrap()
}

#[tokio::test]
async fn a_private_ca_is_refused_with_the_host_and_both_fixes_until_trusted() {
    let pki = make_pki("Connector Test Private CA", SERVER_NAMES);
    let server = start(pki.server.clone()).await;

    // (a) Nothing trusts the CA: refused, once (a certificate is not retried), and explained.
    let (config, secrets) = cloud(&server.url, None);
    let client = ConfluenceClient::from_config(&config, &secrets).unwrap();
    let err = client.verify_identity().await.unwrap_err().to_string();
    let expected = format!(
        "Could not connect securely to {}: the TLS certificate \
         that {} presented is not trusted (UnknownIssuer): no CA this connector trusts issued \
         it, neither in the operating system's trust store nor among the Mozilla roots built \
         in. It is self-signed, issued by a private CA, or the server does not send its \
         intermediate certificate. Trust the CA that issued it in one of two ways: add it to the \
         operating system's trust store (",
        server.host, server.host
    );
    assert!(err.starts_with(&expected), "{err}");
    assert!(
        err.ends_with(
            "; or paste its PEM text (from `-----BEGIN CERTIFICATE-----` to \
             `-----END CERTIFICATE-----`) into `ssl_ca` and set `ssl_enabled: true`"
        ),
        "{err}"
    );
    assert!(!err.contains(TOKEN) && !err.contains(EMAIL), "{err}");
    // One handshake: a refused certificate is not retried.
    server.refused_handshakes(1).await;
    assert!(server.requests.lock().unwrap().is_empty());

    // The search cluster's client says the same, with its own field.
    let check = es(&server.url, None).check().await;
    let err = check
        .expect_err("an untrusted cluster is refused")
        .to_string();
    assert!(
        err.contains(&format!(
            "Could not connect securely to {0}: the TLS certificate that {0} presented is not \
             trusted (UnknownIssuer)",
            server.host
        )),
        "{err}"
    );
    assert!(
        err.contains("add it to the operating system's trust store"),
        "{err}"
    );
    assert!(err.contains("into `es_ca_certificate`"), "{err}");
    server.refused_handshakes(2).await;

    // (b) The CA's PEM in `ssl_ca`: connected, and signed in as the configured account.
    let (config, secrets) = cloud(&server.url, Some(&pki.ca_pem));
    let client = ConfluenceClient::from_config(&config, &secrets).unwrap();
    let identity = client.verify_identity().await.unwrap();
    assert_eq!(identity.email.as_deref(), Some(EMAIL));
    assert!(server.served("GET /wiki/rest/api/user/current"));

    // And the target's CA certificate for the search cluster.
    let check = es(&server.url, Some(&pki.ca_pem)).check().await;
    assert!(server.served("GET /"), "the cluster client got through TLS");
    match check {
        Ok(cluster) => assert_eq!(cluster.cluster_name, "tls-test"),
        Err(err) => assert!(!err.to_string().contains("certificate"), "{err}"),
    }
    server.refused_handshakes(2).await;

    // Another CA in `ssl_ca` is named as not the issuer.
    let other = make_pki("Another Private CA", SERVER_NAMES);
    let (config, secrets) = cloud(&server.url, Some(&other.ca_pem));
    let client = ConfluenceClient::from_config(&config, &secrets).unwrap();
    let err = client.verify_identity().await.unwrap_err().to_string();
    assert!(
        err.contains("nor the certificate in `ssl_ca`, which is not the CA that issued it"),
        "{err}"
    );
    // A CA of the same name with another key (re-created) is told apart.
    let recreated = make_pki("Connector Test Private CA", SERVER_NAMES);
    let (config, secrets) = cloud(&server.url, Some(&recreated.ca_pem));
    let client = ConfluenceClient::from_config(&config, &secrets).unwrap();
    let err = client.verify_identity().await.unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "the TLS certificate that {} presented does not verify (BadSignature): a CA this \
             connector trusts has the name of its issuer but did not sign it",
            server.host
        )),
        "{err}"
    );
    assert!(err.contains("perhaps the one in `ssl_ca`"), "{err}");

    // A certificate for other names says which names it holds (rustls's own error is read).
    let named = make_pki("Connector Test Private CA", &["localhost", "wiki.test"]);
    let elsewhere = start(named.server.clone()).await;
    let (config, secrets) = cloud(&elsewhere.url, Some(&named.ca_pem));
    let client = ConfluenceClient::from_config(&config, &secrets).unwrap();
    let err = client.verify_identity().await.unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "the TLS certificate that {} presented is not valid for the name `127.0.0.1` \
             (NotValidForName). It is valid for `localhost`, `wiki.test` only. Use the host \
             name the certificate was issued for in `confluence_url`",
            elsewhere.host
        )),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operating_system_trust_store_is_trusted() {
    let pki = make_pki("Connector Test Private CA", SERVER_NAMES);
    let server = start(pki.server.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("ca-bundle.pem");
    std::fs::write(&bundle, &pki.ca_pem).unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();

    // (c) The system store holds the CA (SSL_CERT_FILE stands for it): nothing else is needed.
    run_child(&server.url, &bundle, "trusted").await;
    assert!(server.served("GET /wiki/rest/api/user/current"));
    assert!(server.served("GET /"));
    // The control: the same child with a system store that lacks the CA is refused.
    run_child(&server.url, &empty, "refused").await;
    server.refused_handshakes(2).await;
}

/// Runs [`system_store_child`] in a child process with `SSL_CERT_FILE=cert_file`.
async fn run_child(url: &str, cert_file: &std::path::Path, expect: &str) {
    const NAME: &str = "tls::system_store_child";
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_URL, url)
        .env(CHILD_EXPECT, expect)
        .env("SSL_CERT_FILE", cert_file)
        .env_remove("SSL_CERT_DIR");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(&format!("test {NAME} ... ok")),
        "child ({expect}) failed:\n{stdout}\n{stderr}"
    );
}

/// The child side of [`the_operating_system_trust_store_is_trusted`]; does nothing unless that
/// test started it.
#[tokio::test]
async fn system_store_child() {
    let (Ok(url), Ok(expect)) = (std::env::var(CHILD_URL), std::env::var(CHILD_EXPECT)) else {
        return;
    };
    let (config, secrets) = cloud(&url, None);
    assert!(!config.ssl_enabled && config.ssl_ca.is_empty());
    let client = ConfluenceClient::from_config(&config, &secrets).unwrap();
    let confluence = client.verify_identity().await;
    let cluster = es(&url, None).check().await;
    match expect.as_str() {
        "trusted" => {
            assert_eq!(confluence.unwrap().email.as_deref(), Some(EMAIL));
            if let Err(err) = cluster {
                assert!(!err.to_string().contains("certificate"), "{err}");
            }
        }
        _ => {
            let err = confluence.unwrap_err().to_string();
            assert!(err.contains("is not trusted (UnknownIssuer)"), "{err}");
            let err = cluster.expect_err("refused").to_string();
            assert!(err.contains("is not trusted (UnknownIssuer)"), "{err}");
        }
    }
}
