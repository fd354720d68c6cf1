//! The certificate check against real HTTPS sites on loopback: a certificate authority made for
//! the test signs a certificate ending in 3 days (reported), one ending in 90 days (not), and one
//! that has already ended (the site is unreachable, and the guard says why).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use chrono::{Datelike, Duration, Utc};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, date_time_ymd};
use url::Url;
use warta_guard::{Fetcher, FindingKind, Limits, Policy, Vocabulary, check_url};

const PAGE: &str =
    "<html><head><title>Portal</title></head><body><p>Berita hari ini.</p></body></html>";

struct Authority {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn authority() -> Authority {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Warta test authority");
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Authority {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// An HTTPS site on loopback whose certificate (for `localhost`) ends `ends_in` from now.
async fn site(ca: &Authority, ends_in: Duration) -> SocketAddr {
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let start = Utc::now() - Duration::days(30);
    let end = Utc::now() + ends_in;
    params.not_before = date_time_ymd(start.year(), start.month() as u8, start.day() as u8);
    params.not_after = date_time_ymd(end.year(), end.month() as u8, end.day() as u8);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
    let app = Router::new().route("/", get(|| async { axum::response::Html(PAGE) }));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
    tokio::spawn(async move {
        axum_server::from_tcp_rustls(listener, tls)
            .unwrap()
            .serve(app.into_make_service())
            .await
            .unwrap()
    });
    addr
}

async fn check(ca: &Authority, addr: SocketAddr) -> Vec<(FindingKind, String)> {
    let fetcher = Fetcher::allow_private(vec!["localhost".into()], Limits::default())
        .trusting(ca.pem.as_bytes())
        .unwrap();
    let url = Url::parse(&format!("https://localhost:{}/", addr.port())).unwrap();
    let report = check_url(
        &fetcher,
        &url,
        &Vocabulary::built_in(),
        &Policy::default(),
        None,
        Utc::now(),
    )
    .await;
    report
        .findings
        .iter()
        .map(|f| (f.kind, f.message.clone()))
        .collect()
}

#[tokio::test]
async fn a_certificate_ending_within_two_weeks_is_reported_and_a_fresh_one_is_not() {
    let ca = authority();
    let soon = site(&ca, Duration::days(3)).await;
    let found = check(&ca, soon).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, FindingKind::CertificateExpiring);
    assert!(
        found[0].1.contains("ends in 2 day(s)") || found[0].1.contains("ends in 3 day(s)"),
        "{found:?}"
    );

    let fresh = site(&ca, Duration::days(90)).await;
    assert_eq!(check(&ca, fresh).await, vec![], "90 days left is fine");
}

#[tokio::test]
async fn an_ended_certificate_makes_the_site_unreachable_with_the_reason() {
    let ca = authority();
    let ended = site(&ca, Duration::days(-2)).await;
    let found = check(&ca, ended).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, FindingKind::Unreachable);
    assert!(found[0].1.to_lowercase().contains("expired"), "{found:?}");
}

#[tokio::test]
async fn an_unknown_authority_is_refused_and_a_bad_file_is_a_plain_error() {
    let ca = authority();
    let addr = site(&ca, Duration::days(90)).await;
    // Without trusting the office's authority the page is not fetched.
    let fetcher = Fetcher::allow_private(vec!["localhost".into()], Limits::default());
    let url = Url::parse(&format!("https://localhost:{}/", addr.port())).unwrap();
    let report = check_url(
        &fetcher,
        &url,
        &Vocabulary::built_in(),
        &Policy::default(),
        None,
        Utc::now(),
    )
    .await;
    assert_eq!(
        report.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
        vec![FindingKind::Unreachable]
    );
    let bad = Fetcher::allow_private(vec![], Limits::default()).trusting(b"not a certificate");
    assert!(bad.is_err());
}
