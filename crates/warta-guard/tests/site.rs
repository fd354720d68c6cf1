//! The guard against a test site on loopback: a clean page, an injected one, a defaced one, one
//! that cloaks for search engines, a redirect away, a 20 MB answer and one that never ends.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Utc;
use url::Url;
use warta_guard::{
    Agent, Cut, FetchError, Fetcher, FindingKind, Limits, Policy, Vocabulary, check_url,
};

const CLEAN: &str = r#"<!doctype html><html><head><title>Portal Resmi Provinsi</title></head>
<body><nav><a href="/berita">Berita</a><ul class="sub" style="display:none"><li><a href="/berita/daerah">Daerah</a></li></ul></nav>
<h1>Selamat datang</h1><p>Diskominfo memblokir 1.000 situs judi online bulan ini.</p>
<p>Foto gelar budaya di Samarinda.</p><a href="https://www.kominfo.go.id/">Kominfo</a></body></html>"#;

fn injected() -> String {
    CLEAN.replace(
        "</body>",
        r#"<div style="position:absolute;left:-9999px"><a href="https://gacor88.example/">SLOT GACOR maxwin</a>
           <a href="https://toto.example/">bandar togel</a></div></body>"#,
    )
}

const DEFACED: &str = "<html><head><title>Hacked by Sh4d0w</title></head><body><h1>HACKED BY SH4D0W</h1><p>greetz to all</p></body></html>";

async fn cloaked(headers: HeaderMap) -> Response {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ua.contains("Googlebot") {
        axum::response::Html(injected().replace("position:absolute;left:-9999px", ""))
            .into_response()
    } else {
        axum::response::Html(CLEAN).into_response()
    }
}

/// 20 MB of page.
async fn huge() -> Response {
    let chunk = "<p>isi berita yang sangat panjang</p>\n".repeat(1000);
    let chunks = (0..(20 * 1024 * 1024 / chunk.len()) + 1)
        .map(move |_| Ok::<_, std::io::Error>(chunk.clone()));
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap()
}

/// A page that never finishes: a line every 50 ms, forever.
async fn endless() -> Response {
    let lines = futures_util::stream::unfold(0u64, |n| async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Some((
            Ok::<_, std::io::Error>(format!("<p>baris {n}</p>\n")),
            n + 1,
        ))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html")
        .body(Body::from_stream(lines))
        .unwrap()
}

async fn site() -> SocketAddr {
    let app = Router::new()
        .route("/", get(|| async { axum::response::Html(CLEAN) }))
        .route(
            "/berita",
            get(|| async { axum::response::Html(injected()) }),
        )
        .route("/defaced", get(|| async { axum::response::Html(DEFACED) }))
        .route("/cloaked", get(cloaked))
        .route(
            "/away",
            get(|| async { Redirect::temporary("https://judi.example/masuk") }),
        )
        .route("/inside", get(|| async { Redirect::temporary("/") }))
        .route(
            "/gone",
            get(|| async { (StatusCode::NOT_FOUND, "tidak ada") }),
        )
        .route("/huge", get(huge))
        .route("/endless", get(endless));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn fetcher(limits: Limits) -> Fetcher {
    // The test site is on loopback, which the guard refuses unless the office's site lives there.
    Fetcher::allow_private(vec!["127.0.0.1".into()], limits)
}

async fn kinds(addr: SocketAddr, path: &str, policy: &Policy) -> Vec<FindingKind> {
    let url = Url::parse(&format!("http://{addr}{path}")).unwrap();
    let report = check_url(
        &fetcher(Limits::default()),
        &url,
        &Vocabulary::built_in(),
        policy,
        None,
        Utc::now(),
    )
    .await;
    report.findings.iter().map(|f| f.kind).collect()
}

#[tokio::test]
async fn injections_defacement_cloaking_and_redirects_are_found_and_a_clean_page_is_clean() {
    let addr = site().await;
    let none = Policy::default();
    assert_eq!(
        kinds(addr, "/", &none).await,
        vec![],
        "news about blocking gambling sites is not an injection"
    );
    assert_eq!(
        kinds(addr, "/inside", &none).await,
        vec![],
        "a redirect within the site is followed"
    );
    assert_eq!(
        kinds(addr, "/berita", &none).await,
        vec![FindingKind::Gambling, FindingKind::HiddenLinks]
    );
    assert_eq!(
        kinds(addr, "/defaced", &none).await,
        vec![FindingKind::Defacement]
    );
    assert_eq!(
        kinds(addr, "/cloaked", &none).await,
        vec![FindingKind::Cloaking]
    );
    assert_eq!(
        kinds(addr, "/away", &none).await,
        vec![FindingKind::ForeignRedirect, FindingKind::Unreachable]
    );
    assert_eq!(
        kinds(addr, "/gone", &none).await,
        vec![FindingKind::Unreachable]
    );

    // With an allowed list, the link to kominfo.go.id is outbound unless listed.
    let strict = Policy {
        allowed_domains: vec!["go.id".into()],
    };
    assert_eq!(kinds(addr, "/", &strict).await, vec![]);
    let stricter = Policy {
        allowed_domains: vec!["kaltimprov.go.id".into()],
    };
    assert_eq!(
        kinds(addr, "/", &stricter).await,
        vec![FindingKind::ForeignLinks]
    );
}

#[tokio::test]
async fn a_huge_or_endless_answer_is_cut_off_cleanly() {
    let addr = site().await;
    let limits = Limits {
        max_bytes: 2 * 1024 * 1024,
        timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let f = fetcher(limits);
    let huge = f
        .fetch(
            &Url::parse(&format!("http://{addr}/huge")).unwrap(),
            Agent::Browser,
        )
        .await
        .unwrap();
    assert_eq!(huge.cut, Some(Cut::Size));
    assert_eq!(huge.body.len(), 2 * 1024 * 1024);
    let endless = f
        .fetch(
            &Url::parse(&format!("http://{addr}/endless")).unwrap(),
            Agent::Browser,
        )
        .await
        .unwrap();
    assert_eq!(endless.cut, Some(Cut::Time));
    assert!(
        endless.body.contains("<p>baris 0</p>"),
        "what came in time is kept"
    );
}

#[tokio::test]
async fn internal_addresses_and_other_hosts_are_refused() {
    let addr = site().await;
    let guarded = Fetcher::new(vec![], Limits::default());
    let loopback = Url::parse(&format!("http://{addr}/")).unwrap();
    assert!(matches!(
        guarded.fetch(&loopback, Agent::Browser).await,
        Err(FetchError::Internal(_))
    ));
    // A name that resolves to loopback is refused by the resolver, not only numbers.
    let named = Url::parse(&format!("http://localhost:{}/", addr.port())).unwrap();
    let err = guarded.fetch(&named, Agent::Browser).await.unwrap_err();
    assert!(err.to_string().contains("internal address"), "{err}");

    let only_ours = Fetcher::allow_private(vec!["kaltimprov.go.id".into()], Limits::default());
    assert!(matches!(
        only_ours.fetch(&loopback, Agent::Browser).await,
        Err(FetchError::HostNotAllowed(_))
    ));
    let ftp = Url::parse("ftp://kaltimprov.go.id/").unwrap();
    assert!(matches!(
        only_ours.fetch(&ftp, Agent::Browser).await,
        Err(FetchError::NotHttp(_))
    ));
}
