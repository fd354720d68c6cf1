//! The webhook target against a real receiver: an axum server on 127.0.0.1 that verifies
//! signatures exactly as the module documentation tells a CMS developer to, deduplicates by
//! idempotency key, and serves the pages it creates. Faults are real too: a TCP proxy in front
//! of it drops the connection after the receiver answered, or changes bytes in transit.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use warta_publish::webhook::{self, Webhook};
use warta_publish::{MediaFile, Publication, PublishError, PublishTarget, RemoteRef};

const KEY: &str = "kunci-rahasia-diskominfo-2026";

/// What the receiver does with the next requests, besides verifying them.
#[derive(Clone)]
enum Mode {
    /// Create/update/unpublish and answer `{"id", "url"}` (deduplicated by key).
    Normal,
    /// Answer this status and body without processing.
    Fail(u16, &'static str),
    /// Process, then answer 204 with no body.
    Empty,
    /// Answer 200 with an HTML page, as a wrong URL would.
    Html,
    /// Process, but answer this URL.
    AnswerUrl(&'static str),
    /// Wait this long before processing.
    Delay(Duration),
}

/// One request whose signature checked out.
#[derive(Clone, Debug)]
struct Delivery {
    idempotency_key: Option<String>,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

struct ReceiverState {
    key: Vec<u8>,
    base: String,
    mode: Mode,
    deliveries: Vec<Delivery>,
    refused: usize,
    /// id → the item as received (the CMS's table of pages).
    records: BTreeMap<String, Value>,
    /// idempotency key → the answer given (the CMS's table of deliveries).
    answers: HashMap<String, Value>,
    next_id: u64,
}

type Shared = Arc<Mutex<ReceiverState>>;

/// The documented check: `sha256=` + hex HMAC-SHA256 of `"{timestamp}.{body}"`, timestamp
/// within five minutes.
fn verify(key: &[u8], timestamp: &str, signature: &str, body: &[u8]) -> bool {
    let Ok(ts) = timestamp.parse::<i64>() else {
        return false;
    };
    if !timestamp.bytes().all(|b| b.is_ascii_digit())
        || (chrono::Utc::now().timestamp() - ts).abs() > 300
    {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let Some(hex_sig) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    mac.verify_slice(&given).is_ok()
}

fn header_str(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

async fn hook(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let timestamp = header_str(&headers, "x-warta-timestamp");
    let signature = header_str(&headers, "x-warta-signature");
    let mode = {
        let mut s = state.lock().unwrap();
        if !verify(&s.key, &timestamp, &signature, &body) {
            s.refused += 1;
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"message": "invalid signature"})),
            )
                .into_response();
        }
        s.deliveries.push(Delivery {
            idempotency_key: headers
                .get("idempotency-key")
                .map(|v| v.to_str().unwrap().to_string()),
            timestamp,
            signature,
            body: body.to_vec(),
        });
        s.mode.clone()
    };
    match mode {
        Mode::Fail(code, text) => {
            let content_type = if text.starts_with('{') {
                "application/json"
            } else {
                "text/html"
            };
            return (
                StatusCode::from_u16(code).unwrap(),
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::LOCATION, "https://elsewhere.example/hook"),
                ],
                text,
            )
                .into_response();
        }
        Mode::Html => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body><h1>Selamat datang</h1></body></html>",
            )
                .into_response();
        }
        Mode::Delay(d) => tokio::time::sleep(d).await,
        _ => {}
    }
    let item: Value = serde_json::from_slice(&body).unwrap();
    let mut s = state.lock().unwrap();
    let answer = match item["action"].as_str().unwrap() {
        "unpublish" => {
            s.records.remove(item["id"].as_str().unwrap());
            json!({})
        }
        "publish" | "update" => {
            // The documented rule: a key seen before creates nothing and gets the same answer.
            let key = item["idempotency_key"].as_str().unwrap().to_string();
            assert_eq!(
                headers.get("idempotency-key").unwrap().to_str().unwrap(),
                key,
                "header and signed body carry the same key"
            );
            if let Some(answer) = s.answers.get(&key) {
                answer.clone()
            } else {
                let id = match item["previous"]["id"].as_str() {
                    Some(id) => id.to_string(),
                    None => {
                        s.next_id += 1;
                        format!("cms-{}", s.next_id)
                    }
                };
                let answer = json!({"id": id, "url": format!("{}/pages/{id}", s.base)});
                s.records.insert(id, item.clone());
                s.answers.insert(key, answer.clone());
                answer
            }
        }
        other => panic!("unknown action {other}"),
    };
    match s.mode {
        Mode::Empty => StatusCode::NO_CONTENT.into_response(),
        Mode::AnswerUrl(url) => (
            StatusCode::CREATED,
            axum::Json(json!({"id": answer["id"], "url": url})),
        )
            .into_response(),
        _ => (StatusCode::CREATED, axum::Json(answer)).into_response(),
    }
}

/// The CMS's public page: its own layout around the body it stored, written its own way.
async fn page(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let s = state.lock().unwrap();
    let Some(item) = s.records.get(&id) else {
        return (StatusCode::NOT_FOUND, "<h1>Tidak ditemukan</h1>").into_response();
    };
    let body = item["body_html"]
        .as_str()
        .unwrap()
        .replace("</p>", "</p>\n\n    ");
    let html = format!(
        "<!DOCTYPE html><html><head><title>{t}</title><style>body{{margin:0}}</style></head>\
         <body><header><nav><a href=\"/\">Beranda</a> | <a href=\"/berita\">Berita</a></nav></header>\
         <main><h1>{t}</h1><div class=\"entry-content\">\n    {body}</div></main>\
         <footer>&copy; 2026 Diskominfo</footer><script>console.log('<p>x</p>')</script></body></html>",
        t = item["title"].as_str().unwrap()
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// Faults the proxy injects.
#[derive(Default)]
struct Faults {
    /// How many answers to drop: the receiver has answered, the client never hears it.
    drop_answers: AtomicUsize,
    /// Change "Banjir" into "Banjar" in requests.
    tamper: AtomicBool,
}

async fn proxy(listener: TcpListener, upstream: SocketAddr, faults: Arc<Faults>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let faults = faults.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            let up_faults = faults.clone();
            let up = tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match client_read.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if up_faults.tamper.load(Ordering::SeqCst) {
                        for i in 0..n.saturating_sub(5) {
                            if &buf[i..i + 6] == b"Banjir" {
                                buf[i + 4] = b'a';
                            }
                        }
                    }
                    if server_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match server_read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let drop_it = faults
                    .drop_answers
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if drop_it {
                    // The receiver has processed the request and started answering:
                    // close the client's connection without a byte of the answer.
                    break;
                }
                if client_write.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            up.abort();
        });
    }
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    state: Shared,
    faults: Arc<Faults>,
    /// The receiver itself.
    direct: String,
    /// The receiver behind the fault-injecting proxy.
    proxied: String,
}

impl Harness {
    fn start() -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let faults = Arc::new(Faults::default());
        let (state, direct, proxied) = runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let base = format!("http://{addr}");
            let state: Shared = Arc::new(Mutex::new(ReceiverState {
                key: KEY.as_bytes().to_vec(),
                base: base.clone(),
                mode: Mode::Normal,
                deliveries: Vec::new(),
                refused: 0,
                records: BTreeMap::new(),
                answers: HashMap::new(),
                next_id: 0,
            }));
            let app = Router::new()
                .route("/hook", post(hook))
                .route("/pages/{id}", get(page))
                .with_state(state.clone());
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            let proxy_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let proxy_addr = proxy_listener.local_addr().unwrap();
            tokio::spawn(proxy(proxy_listener, addr, faults.clone()));
            (
                state,
                format!("{base}/hook"),
                format!("http://{proxy_addr}/hook"),
            )
        });
        Harness {
            runtime,
            state,
            faults,
            direct,
            proxied,
        }
    }

    fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.state.lock().unwrap().deliveries.clone()
    }

    fn records(&self) -> BTreeMap<String, Value> {
        self.state.lock().unwrap().records.clone()
    }

    fn target(&self) -> Webhook {
        Webhook::with_timeouts(
            &self.direct,
            KEY,
            Duration::from_secs(2),
            Duration::from_secs(5),
        )
        .unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Leave sleeping handlers behind instead of waiting for them.
        let runtime = std::mem::replace(
            &mut self.runtime,
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        );
        runtime.shutdown_background();
    }
}

fn publication(version: i64, key: &str) -> Publication {
    let dir = std::env::temp_dir();
    Publication {
        item_id: 42,
        version,
        idempotency_key: key.to_string(),
        slug: "banjir-di-samarinda".into(),
        title: "Banjir di Samarinda".into(),
        summary: "Hujan deras sejak Senin malam.".into(),
        body_html: warta_render::render_markdown(&format!(
            "Banjir setinggi **1 meter** merendam tiga kecamatan (versi {version}).\n\n\
             Warga & relawan \"bergotong royong\" <membersihkan> lumpur."
        )),
        category: "Berita Daerah".into(),
        tags: vec!["banjir".into(), "samarinda".into()],
        unit: "Bidang IKP".into(),
        author: "Siti Rahma".into(),
        scheduled_at: None,
        featured: Some(1),
        media: vec![
            MediaFile {
                attachment_id: 7,
                filename: "laporan.pdf".into(),
                mime: "application/pdf".into(),
                path: dir.join("unused-7"),
                sha256: "a".repeat(64),
                public_url: "https://warta.example.go.id/site/media/aaaa.pdf".into(),
                alt: String::new(),
                caption: "Laporan BPBD".into(),
            },
            MediaFile {
                attachment_id: 8,
                filename: "banjir-1.jpg".into(),
                mime: "image/jpeg".into(),
                path: dir.join("unused-8"),
                sha256: "b".repeat(64),
                public_url: "https://warta.example.go.id/site/media/bbbb.jpg".into(),
                alt: "Warga menyeberangi jalan yang tergenang".into(),
                caption: "Jalan Pahlawan, Selasa pagi".into(),
            },
        ],
    }
}

#[test]
fn publish_sends_a_signed_json_item_that_the_documented_check_accepts() {
    let h = Harness::start();
    let mut p = publication(1, "k-0001-publish");
    // A caller that forgot to sanitise still sends nothing unsafe.
    p.body_html
        .push_str("<script>alert(1)</script><img src=x onerror=alert(2)>");
    let remote = h.target().publish(&p, None).unwrap();

    let deliveries = h.deliveries();
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(d.idempotency_key.as_deref(), Some("k-0001-publish"));
    assert!(verify(KEY.as_bytes(), &d.timestamp, &d.signature, &d.body));
    assert!(d.signature.starts_with("sha256=") && d.signature.len() == 7 + 64);

    let sent: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(sent["action"], "publish");
    assert_eq!(sent["idempotency_key"], "k-0001-publish");
    assert_eq!(sent["item_id"], 42);
    assert_eq!(sent["version"], 1);
    assert_eq!(sent["previous"], Value::Null);
    assert_eq!(sent["title"], "Banjir di Samarinda");
    assert_eq!(sent["summary"], "Hujan deras sejak Senin malam.");
    assert_eq!(sent["category"], "Berita Daerah");
    assert_eq!(sent["tags"], json!(["banjir", "samarinda"]));
    assert_eq!(sent["unit"], "Bidang IKP");
    assert_eq!(sent["author"], "Siti Rahma");
    assert_eq!(sent["scheduled_at"], Value::Null);
    let body_html = sent["body_html"].as_str().unwrap();
    assert!(
        body_html.contains("<strong>1 meter</strong>"),
        "{body_html}"
    );
    assert!(
        !body_html.contains("<script") && !body_html.contains("onerror"),
        "{body_html}"
    );
    assert_eq!(
        sent["media"],
        json!([
            {"attachment_id": 7, "filename": "laporan.pdf", "mime": "application/pdf",
             "url": "https://warta.example.go.id/site/media/aaaa.pdf", "sha256": "a".repeat(64),
             "alt": "", "caption": "Laporan BPBD", "featured": false},
            {"attachment_id": 8, "filename": "banjir-1.jpg", "mime": "image/jpeg",
             "url": "https://warta.example.go.id/site/media/bbbb.jpg", "sha256": "b".repeat(64),
             "alt": "Warga menyeberangi jalan yang tergenang", "caption": "Jalan Pahlawan, Selasa pagi",
             "featured": true}
        ])
    );

    let records = h.records();
    assert_eq!(records.len(), 1);
    assert_eq!(remote.remote_id, "cms-1");
    assert_eq!(
        remote.url,
        format!("{}/pages/cms-1", h.direct.trim_end_matches("/hook"))
    );
    assert_eq!(remote.status, "publish");
    assert_eq!(remote.media.len(), 2);
    assert_eq!(remote.media[1].attachment_id, 8);
    assert_eq!(
        remote.media[1].url,
        "https://warta.example.go.id/site/media/bbbb.jpg"
    );
}

#[test]
fn an_answer_lost_after_processing_is_retried_into_exactly_one_record() {
    let h = Harness::start();
    let target = Webhook::with_timeouts(
        &h.proxied,
        KEY,
        Duration::from_secs(2),
        Duration::from_secs(5),
    )
    .unwrap();
    let p = publication(1, "k-0002-lost-answer");

    h.faults.drop_answers.store(1, Ordering::SeqCst);
    let err = target.publish(&p, None).unwrap_err();
    assert!(matches!(err, PublishError::Unavailable(_)), "{err:?}");
    assert!(err.is_transient());
    // The receiver did create the page: only the answer was lost.
    assert_eq!(h.records().len(), 1);

    let remote = target.publish(&p, None).unwrap();
    let remote_again = target.publish(&p, None).unwrap();
    assert_eq!(remote, remote_again);
    assert_eq!(remote.remote_id, "cms-1");
    assert_eq!(h.records().len(), 1, "exactly one page after the retries");

    let deliveries = h.deliveries();
    assert_eq!(deliveries.len(), 3);
    let expected = target.delivery_body(&p, None).unwrap();
    for d in &deliveries {
        assert_eq!(d.body, expected, "every attempt sends the same bytes");
        assert_eq!(d.idempotency_key.as_deref(), Some("k-0002-lost-answer"));
    }
}

#[test]
fn a_wrong_key_is_unauthorized_and_never_shown() {
    let h = Harness::start();
    let wrong_key = "kunci-yang-salah-sekali";
    let target = Webhook::new(&h.direct, wrong_key).unwrap();
    let err = target
        .publish(&publication(1, "k-0003-wrong-key"), None)
        .unwrap_err();
    assert!(matches!(err, PublishError::Unauthorized(_)), "{err:?}");
    assert!(err.to_string().contains("invalid signature"), "{err}");
    assert!(!err.is_transient());
    for shown in [err.to_string(), format!("{err:?}"), format!("{target:?}")] {
        assert!(
            !shown.contains(wrong_key) && !shown.contains(KEY),
            "{shown}"
        );
    }
    assert!(format!("{target:?}").contains("[redacted]"));
    assert!(h.records().is_empty());
    assert_eq!(h.state.lock().unwrap().refused, 1);
}

#[test]
fn a_body_changed_in_transit_fails_the_signature() {
    let h = Harness::start();
    let target = Webhook::new(&h.proxied, KEY).unwrap();
    h.faults.tamper.store(true, Ordering::SeqCst);
    let err = target
        .publish(&publication(1, "k-0004-tampered"), None)
        .unwrap_err();
    assert!(matches!(err, PublishError::Unauthorized(_)), "{err:?}");
    assert!(h.records().is_empty());
    assert_eq!(h.state.lock().unwrap().refused, 1);

    h.faults.tamper.store(false, Ordering::SeqCst);
    target
        .publish(&publication(1, "k-0004-tampered"), None)
        .unwrap();
    assert_eq!(h.records().len(), 1);
}

#[test]
fn a_replayed_delivery_creates_nothing_and_a_moved_timestamp_fails() {
    let h = Harness::start();
    let p = publication(1, "k-0005-replay");
    h.target().publish(&p, None).unwrap();
    let captured = h.deliveries().remove(0);
    let client = reqwest::blocking::Client::new();
    let send = |timestamp: &str| {
        client
            .post(&h.direct)
            .header("Content-Type", "application/json")
            .header("X-Warta-Timestamp", timestamp)
            .header("X-Warta-Signature", &captured.signature)
            .header(
                "Idempotency-Key",
                captured.idempotency_key.as_deref().unwrap(),
            )
            .body(captured.body.clone())
            .send()
            .unwrap()
    };
    // Within the window, a replay is deduplicated by the key.
    let replay = send(&captured.timestamp);
    assert_eq!(replay.status(), 201);
    let answer: Value = replay.json().unwrap();
    assert_eq!(answer["id"], "cms-1");
    assert_eq!(h.records().len(), 1);
    // The timestamp is signed: moving it breaks the signature.
    let moved = (captured.timestamp.parse::<i64>().unwrap() + 1).to_string();
    assert_eq!(send(&moved).status(), 401);
}

#[test]
fn answers_are_classified() {
    let h = Harness::start();
    let target = h.target();
    let p = publication(1, "k-0006-classified");

    h.set_mode(Mode::Fail(
        500,
        "<html><body><h1>Internal Server Error</h1></body></html>",
    ));
    let err = target.publish(&p, None).unwrap_err();
    assert!(
        matches!(&err, PublishError::Unavailable(m) if m.contains("500") && m.contains("Internal Server Error")),
        "{err:?}"
    );

    h.set_mode(Mode::Fail(429, r#"{"message": "pelan-pelan"}"#));
    let err = target.publish(&p, None).unwrap_err();
    assert!(
        matches!(&err, PublishError::Unavailable(m) if m.contains("429")),
        "{err:?}"
    );

    h.set_mode(Mode::Fail(
        422,
        r#"{"message": "Kategori 'Berita Daerah' tidak dikenal"}"#,
    ));
    let err = target.publish(&p, None).unwrap_err();
    assert!(
        matches!(&err, PublishError::Rejected(m) if m.contains("422") && m.contains("Kategori 'Berita Daerah' tidak dikenal")),
        "{err:?}"
    );
    assert!(!err.is_transient());

    h.set_mode(Mode::Fail(403, r#"{"error": "IP tidak diizinkan"}"#));
    let err = target.publish(&p, None).unwrap_err();
    assert!(
        matches!(&err, PublishError::Unauthorized(m) if m.contains("IP tidak diizinkan")),
        "{err:?}"
    );

    h.set_mode(Mode::Fail(404, "<h1>Not Found</h1>"));
    let err = target.publish(&p, None).unwrap_err();
    assert!(
        matches!(&err, PublishError::Rejected(m) if m.contains("404") && m.contains("Not Found")),
        "{err:?}"
    );

    h.set_mode(Mode::Fail(308, ""));
    let err = target.publish(&p, None).unwrap_err();
    assert!(
        matches!(&err, PublishError::Rejected(m) if m.contains("redirects")),
        "{err:?}"
    );

    // A 200 that is an ordinary web page is not a receipt.
    h.set_mode(Mode::Html);
    let err = target.publish(&p, None).unwrap_err();
    assert!(
        matches!(&err, PublishError::Rejected(m) if m.contains("Selamat datang")),
        "{err:?}"
    );

    // A URL the hub would show as a link must be http(s).
    h.set_mode(Mode::AnswerUrl("javascript:alert(1)"));
    let err = target.publish(&p, None).unwrap_err();
    assert!(matches!(err, PublishError::Rejected(_)), "{err:?}");

    // Nothing was created by the failures that did not process; the last one did, once.
    assert_eq!(h.records().len(), 1);
}

#[test]
fn a_refused_connection_is_unavailable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let target = Webhook::new(&format!("http://127.0.0.1:{port}/hook"), KEY).unwrap();
    let err = target
        .publish(&publication(1, "k-0007-refused"), None)
        .unwrap_err();
    assert!(
        matches!(&err, PublishError::Unavailable(m) if m.contains("could not connect")),
        "{err:?}"
    );
}

#[test]
fn a_receiver_that_does_not_answer_is_given_up_on_in_time() {
    let h = Harness::start();
    h.set_mode(Mode::Delay(Duration::from_secs(30)));
    let target = Webhook::with_timeouts(
        &h.direct,
        KEY,
        Duration::from_secs(1),
        Duration::from_secs(1),
    )
    .unwrap();
    let started = Instant::now();
    let err = target
        .publish(&publication(1, "k-0008-slow"), None)
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(&err, PublishError::Unavailable(m) if m.contains("within 1 s")),
        "{err:?}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[test]
fn an_empty_2xx_is_accepted_with_no_url() {
    let h = Harness::start();
    h.set_mode(Mode::Empty);
    let target = h.target();
    let p = publication(1, "k-0009-empty");
    let remote = target.publish(&p, None).unwrap();
    assert_eq!(remote.remote_id, "k-0009-empty");
    assert_eq!(remote.url, "");
    let check = target.check_live(&p, &remote).unwrap();
    assert!(!check.matches);
    assert_eq!(check.http_status, 0);
    assert_eq!(check.found_hash, None);
}

#[test]
fn update_check_live_and_unpublish() {
    let h = Harness::start();
    let target = h.target();
    let v1 = publication(1, "k-0010-v1");
    let remote = target.publish(&v1, None).unwrap();

    let live = target.check_live(&v1, &remote).unwrap();
    assert!(live.matches, "{live:?}");
    assert_eq!(live.http_status, 200);
    assert_eq!(
        live.found_hash.as_deref(),
        Some(live.expected_hash.as_str())
    );
    assert_eq!(live.expected_hash.len(), 64);

    // Someone edits the page in the CMS: the check notices.
    h.state.lock().unwrap().records.get_mut("cms-1").unwrap()["body_html"] =
        json!("<p>Banjir setinggi 2 meter.</p>");
    let edited = target.check_live(&v1, &remote).unwrap();
    assert!(!edited.matches);
    assert!(
        edited.found_hash.is_some()
            && edited.found_hash.as_deref() != Some(edited.expected_hash.as_str())
    );

    // A correction updates the same page.
    let v2 = publication(2, "k-0010-v2");
    let updated = target.publish(&v2, Some(&remote)).unwrap();
    assert_eq!(updated.remote_id, "cms-1");
    let sent: Value = serde_json::from_slice(&h.deliveries().last().unwrap().body).unwrap();
    assert_eq!(sent["action"], "update");
    assert_eq!(sent["previous"], json!({"id": "cms-1", "url": remote.url}));
    assert_eq!(h.records().len(), 1);
    assert!(target.check_live(&v2, &updated).unwrap().matches);
    assert!(!target.check_live(&v1, &updated).unwrap().matches);

    target.unpublish(42, &updated).unwrap();
    let d = h.deliveries().last().unwrap().clone();
    assert_eq!(d.idempotency_key, None);
    let sent: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(
        sent,
        json!({"action": "unpublish", "item_id": 42, "id": "cms-1", "url": updated.url})
    );
    assert!(h.records().is_empty());
    let gone = target.check_live(&v2, &updated).unwrap();
    assert_eq!(gone.http_status, 404);
    assert!(!gone.matches);
    // Unpublishing what is already gone succeeds.
    target.unpublish(42, &updated).unwrap();
}

#[test]
fn relative_urls_are_resolved_and_scheduled_items_are_future() {
    let h = Harness::start();
    h.set_mode(Mode::AnswerUrl("/berita/banjir-di-samarinda"));
    let mut p = publication(1, "k-0011-scheduled");
    p.scheduled_at = Some(chrono::Utc::now() + chrono::Duration::days(2));
    let remote: RemoteRef = h.target().publish(&p, None).unwrap();
    assert_eq!(
        remote.url,
        format!(
            "{}/berita/banjir-di-samarinda",
            h.direct.trim_end_matches("/hook")
        )
    );
    assert_eq!(remote.status, "future");
    let sent: Value = serde_json::from_slice(&h.deliveries()[0].body).unwrap();
    assert!(sent["scheduled_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn the_documented_signature_is_what_is_sent() {
    // The helper the docs describe agrees with the receiver's independent check.
    let body = br#"{"action":"publish"}"#;
    let ts = chrono::Utc::now().timestamp();
    let sig = webhook::signature(KEY.as_bytes(), ts, body);
    assert!(verify(KEY.as_bytes(), &ts.to_string(), &sig, body));
    assert!(!verify(
        KEY.as_bytes(),
        &ts.to_string(),
        &sig,
        br#"{"action":"publish" }"#
    ));
    assert!(!verify(b"another key", &ts.to_string(), &sig, body));
}

/// A PHP receiver, when PHP is installed, whose check is the snippet in the module
/// documentation, read from the source so that the two cannot drift apart.
#[test]
fn the_documented_php_check_accepts_our_deliveries_and_refuses_a_wrong_key() {
    let php_ok = std::process::Command::new("php")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !php_ok {
        eprintln!("SKIPPED: php is not installed");
        return;
    }
    let source = include_str!("../src/webhook.rs");
    let start = source
        .find("//! ```php\n")
        .expect("a PHP example in the docs")
        + 11;
    let end = start + source[start..].find("//! ```").unwrap();
    let check: String = source[start..end]
        .lines()
        .map(|l| l.trim_start_matches("//!").strip_prefix(' ').unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        check.contains("hash_hmac") && check.lines().count() <= 5,
        "{check}"
    );
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "<?php\n{check}\n\
         $item = json_decode($body, true);\n\
         $store = __DIR__ . '/deliveries.json';\n\
         $seen = file_exists($store) ? json_decode(file_get_contents($store), true) : [];\n\
         header('Content-Type: application/json');\n\
         if ($item['action'] === 'unpublish') {{ echo '{{}}'; exit; }}\n\
         $key = $item['idempotency_key'];\n\
         if (!isset($seen[$key])) {{\n\
             $seen[$key] = ['id' => 'php-' . (count($seen) + 1), 'url' => ''];\n\
             file_put_contents($store, json_encode($seen));\n\
         }}\n\
         echo json_encode($seen[$key]);\n"
    );
    std::fs::write(dir.path().join("hook.php"), script).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Server(
        std::process::Command::new("php")
            .args(["-S", &format!("127.0.0.1:{port}"), "-t"])
            .arg(dir.path())
            .env("WARTA_WEBHOOK_KEY", KEY)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "php -S did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}/hook.php");

    let target = Webhook::new(&url, KEY).unwrap();
    let p = publication(1, "k-0012-php");
    let remote = target.publish(&p, None).unwrap();
    assert_eq!(remote.remote_id, "php-1");
    assert_eq!(
        target.publish(&p, None).unwrap(),
        remote,
        "deduplicated by key"
    );
    let other = target
        .publish(&publication(2, "k-0012-php-v2"), Some(&remote))
        .unwrap();
    assert_eq!(other.remote_id, "php-2");
    target.unpublish(42, &remote).unwrap();

    let wrong = Webhook::new(&url, "kunci-lain").unwrap();
    let err = wrong.publish(&p, None).unwrap_err();
    assert!(matches!(err, PublishError::Unauthorized(_)), "{err:?}");
}
