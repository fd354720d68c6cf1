//! Webhooks for in-house CMSs: a signed JSON POST per publish.
//!
//! Many Indonesian government units run a CMS written in house (often PHP). Rather than
//! teaching Warta every one of them, the office gives Warta a URL and a shared key, and the
//! CMS's developer writes one endpoint that receives items. This module is the sending side;
//! what follows is the whole contract the receiving side implements.
//!
//! # The request
//!
//! `POST <webhook URL>` with these headers:
//!
//! | header | value |
//! | --- | --- |
//! | `Content-Type` | `application/json` |
//! | `X-Warta-Timestamp` | when this attempt was sent: Unix time in seconds, decimal digits, e.g. `1767225600` |
//! | `X-Warta-Signature` | `sha256=` followed by the lowercase hex HMAC-SHA256 of the *signed material*, keyed with the shared key |
//! | `Idempotency-Key` | the publication's idempotency key (publish and update only); the same on every retry |
//!
//! The **signed material** is the timestamp header's value, one full stop, and the exact bytes
//! of the request body: `"{timestamp}.{body}"`. The key is the UTF-8 bytes of the shared key
//! string as configured on both sides. Signing the timestamp stops replays: the receiver
//! refuses a timestamp more than five minutes from its own clock, so a captured request is
//! worthless after that, and within that window the idempotency key makes a replay harmless.
//!
//! Verifying it in PHP (compare with `hash_equals`, never `==`):
//!
//! ```php
//! $body = file_get_contents('php://input');
//! $ts   = $_SERVER['HTTP_X_WARTA_TIMESTAMP'] ?? '';
//! $mac  = 'sha256=' . hash_hmac('sha256', $ts . '.' . $body, getenv('WARTA_WEBHOOK_KEY'));
//! if (!ctype_digit($ts) || abs(time() - (int) $ts) > 300
//!     || !hash_equals($mac, $_SERVER['HTTP_X_WARTA_SIGNATURE'] ?? '')) { http_response_code(401); exit; }
//! ```
//!
//! Only after that check is `json_decode($body, true)` trusted.
//!
//! # The body of a publish or an update
//!
//! A JSON object, UTF-8, fields in this order (the body of a given publication is always the
//! same bytes: a retry re-sends the identical body with a fresh timestamp and signature):
//!
//! ```json
//! {
//!   "action": "publish",               // "update" when Warta published this item before
//!   "idempotency_key": "9f1c-…",       // same as the Idempotency-Key header; signed
//!   "item_id": 42,
//!   "version": 3,                      // a correction is a new version with a new key
//!   "previous": null,                  // on "update": {"id": "...", "url": "..."} you answered last time
//!   "slug": "banjir-di-samarinda",
//!   "title": "Banjir di Samarinda",
//!   "summary": "plain text",
//!   "body_html": "<p>…</p>",           // sanitised by Warta's one allowlist; safe to print as is
//!   "category": "Berita",
//!   "tags": ["banjir", "samarinda"],
//!   "unit": "Bidang IKP",
//!   "author": "Siti Rahma",
//!   "scheduled_at": null,              // or "2026-01-05T01:00:00Z": publish then, not now
//!   "media": [
//!     {"attachment_id": 7, "filename": "banjir-1.jpg", "mime": "image/jpeg",
//!      "url": "https://…/media/<sha256>.jpg", "sha256": "<hex>", "alt": "…", "caption": "…",
//!      "featured": true}
//!   ]
//! }
//! ```
//!
//! Media are linked, not uploaded: `url` is where Warta's own site serves the bytes; a
//! receiver that wants copies downloads them and can check `sha256`.
//!
//! # The answer
//!
//! Any `2xx` means "done". Its body should be
//! `{"id": "<your id of the page>", "url": "<public URL of the page>"}`; `id` may be a string
//! or a number, `url` may be absolute or relative to the webhook URL's host, and an optional
//! `"status": "publish" | "future"` and
//! `"media": [{"attachment_id": 7, "id": "...", "url": "..."}]` are read when present. An empty
//! `2xx` body is accepted too: the id recorded is then the idempotency key and the URL is
//! empty (so [`Webhook::check_live`] has nothing to fetch). A non-empty `2xx` body that is not
//! such a JSON object is refused, since that is what a wrong URL pointing at an ordinary web
//! page looks like.
//!
//! # Exactly once: what the receiver must do
//!
//! A webhook cannot be asked "did you already get this?", so the receiver deduplicates:
//! it stores `idempotency_key` together with the answer it gave, in the same transaction as
//! the page it creates, and when a request arrives with a key it has seen it creates nothing
//! and answers the stored `{"id", "url"}` again. Warta retries after any failure, including
//! "the request arrived but the answer was lost"; with that rule the retry ends with exactly
//! one page. On `"action": "update"` the receiver updates the page named by `previous.id`.
//! A receiver that is still processing the same key may answer `409`; Warta retries later.
//!
//! # Unpublishing
//!
//! A signed POST (same headers, no `Idempotency-Key`) with the body
//! `{"action": "unpublish", "item_id": 42, "id": "<your id>", "url": "<its URL>"}`.
//! Unpublishing is idempotent by nature: the receiver answers `2xx` even when the page is
//! already gone. A `404` is *not* taken as success, because a mistyped webhook URL answers
//! `404` too and the page would stay online.
//!
//! # How answers are classified
//!
//! | answer | [`PublishError`] |
//! | --- | --- |
//! | connection refused, DNS or TLS failure, timeout, connection dropped before the answer | `Unavailable` (retried) |
//! | `5xx`, `429`, `408`, `409`, `425` | `Unavailable` (retried) |
//! | `401`, `403` | `Unauthorized`: the key is wrong or the receiver's clock is off |
//! | any other `4xx`, a redirect, a `2xx` with a body that is not the JSON above | `Rejected`, with the receiver's message (`message` or `error` of a JSON body, else its text) |
//!
//! Redirects are not followed: a `POST` turned into a `GET` by a redirect would lose the item.
//!
//! # `check_live`
//!
//! Fetches the URL the receiver returned (following redirects) and looks for the body's
//! visible text on the page: both sides go through [`visible_text`] (tags stripped, entities
//! decoded, whitespace collapsed), and the page matches when its text contains the body's.
//! `expected_hash` is the SHA-256 of the body's text; `found_hash` is the same hash when the
//! page contains it, otherwise the hash of the page's whole text. With no URL there is no
//! page: the check answers `matches: false`, `http_status: 0` and no `found_hash`.

use std::fmt;
use std::io::Read;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use reqwest::Url;
use reqwest::blocking::Client;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{LiveCheck, Publication, PublishError, PublishTarget, RemoteMedia, RemoteRef};

/// Header carrying `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Warta-Signature";
/// Header carrying the Unix time (seconds) that is part of the signed material.
pub const TIMESTAMP_HEADER: &str = "X-Warta-Timestamp";
/// Header carrying the publication's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// How long connecting may take unless configured otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request (connect, send, answer) may take unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The most of an answer that is read: receipts and error messages are small.
const MAX_ANSWER_BYTES: u64 = 1024 * 1024;
/// The most of a public page that [`Webhook::check_live`] reads.
const MAX_PAGE_BYTES: u64 = 16 * 1024 * 1024;
/// How much of a receiver's message goes into an error.
const MAX_MESSAGE_CHARS: usize = 300;

type HmacSha256 = Hmac<Sha256>;

/// The value of [`SIGNATURE_HEADER`] for a body sent at `timestamp` (Unix seconds):
/// `sha256=` and the lowercase hex HMAC-SHA256 of `"{timestamp}.{body}"` under `key`.
pub fn signature(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A webhook receiver: its URL, the shared key, and the HTTP clients to reach it.
pub struct Webhook {
    url: Url,
    key: Vec<u8>,
    /// For deliveries: no redirects, connect and total timeouts.
    client: Client,
    /// For reading the public page in `check_live`: follows a few redirects.
    page_client: Client,
    connect_timeout: Duration,
    timeout: Duration,
}

impl fmt::Debug for Webhook {
    /// Shows where deliveries go, never the key (nor a password or query in the URL).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &display_url(&self.url))
            .field("key", &"[redacted]")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Scheme, host, port and path of a URL: what can be shown in a log or a message.
fn display_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

/// One media file as the receiver sees it.
#[derive(Serialize)]
struct DeliveryMedia<'a> {
    attachment_id: i64,
    filename: &'a str,
    mime: &'a str,
    url: &'a str,
    sha256: &'a str,
    alt: &'a str,
    caption: &'a str,
    featured: bool,
}

#[derive(Serialize)]
struct Previous<'a> {
    id: &'a str,
    url: &'a str,
}

/// The body of a publish or update; field order is the wire order.
#[derive(Serialize)]
struct Delivery<'a> {
    action: &'static str,
    idempotency_key: &'a str,
    item_id: i64,
    version: i64,
    previous: Option<Previous<'a>>,
    slug: &'a str,
    title: &'a str,
    summary: &'a str,
    body_html: String,
    category: &'a str,
    tags: &'a [String],
    unit: &'a str,
    author: &'a str,
    scheduled_at: Option<String>,
    media: Vec<DeliveryMedia<'a>>,
}

#[derive(Serialize)]
struct Unpublish<'a> {
    action: &'static str,
    item_id: i64,
    id: &'a str,
    url: &'a str,
}

/// What a receiver answers on success (every field optional).
#[derive(Deserialize)]
struct Receipt {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    media: Vec<ReceiptMedia>,
}

#[derive(Deserialize)]
struct ReceiptMedia {
    attachment_id: i64,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    url: Option<String>,
}

impl Webhook {
    /// A webhook with the default timeouts (10 s to connect, 60 s in all).
    pub fn new(url: &str, key: &str) -> Result<Webhook, PublishError> {
        Webhook::with_timeouts(url, key, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT)
    }

    /// A webhook whose requests give up connecting after `connect_timeout` and give up
    /// altogether (connect, send, wait for and read the answer) after `timeout`.
    pub fn with_timeouts(
        url: &str,
        key: &str,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<Webhook, PublishError> {
        let url = Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                PublishError::Local("the webhook URL is not an http:// or https:// URL".into())
            })?;
        if key.is_empty() {
            return Err(PublishError::Local("the webhook key is empty".into()));
        }
        let build = |redirects: reqwest::redirect::Policy| {
            Client::builder()
                .connect_timeout(connect_timeout)
                .timeout(timeout)
                .redirect(redirects)
                .user_agent(concat!("Warta/", env!("CARGO_PKG_VERSION"), " (webhook)"))
                .build()
                .map_err(|e| {
                    PublishError::Local(format!("could not set up the HTTP client: {}", chain(&e)))
                })
        };
        Ok(Webhook {
            client: build(reqwest::redirect::Policy::none())?,
            page_client: build(reqwest::redirect::Policy::limited(5))?,
            url,
            key: key.as_bytes().to_vec(),
            connect_timeout,
            timeout,
        })
    }

    /// The exact body sent for `publication` (the same bytes on every retry).
    pub fn delivery_body(
        &self,
        publication: &Publication,
        previous: Option<&RemoteRef>,
    ) -> Result<Vec<u8>, PublishError> {
        let p = publication;
        let delivery = Delivery {
            action: if previous.is_some() {
                "update"
            } else {
                "publish"
            },
            idempotency_key: &p.idempotency_key,
            item_id: p.item_id,
            version: p.version,
            previous: previous.map(|r| Previous {
                id: &r.remote_id,
                url: &r.url,
            }),
            slug: &p.slug,
            title: &p.title,
            summary: &p.summary,
            // Sanitising is idempotent: an already sanitised body comes out unchanged, and a
            // caller that forgot cannot send anything unsafe.
            body_html: warta_render::sanitise_html(&p.body_html),
            category: &p.category,
            tags: &p.tags,
            unit: &p.unit,
            author: &p.author,
            scheduled_at: p
                .scheduled_at
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            media: p
                .media
                .iter()
                .enumerate()
                .map(|(i, m)| DeliveryMedia {
                    attachment_id: m.attachment_id,
                    filename: &m.filename,
                    mime: &m.mime,
                    url: &m.public_url,
                    sha256: &m.sha256,
                    alt: &m.alt,
                    caption: &m.caption,
                    featured: p.featured == Some(i),
                })
                .collect(),
        };
        serde_json::to_vec(&delivery)
            .map_err(|e| PublishError::Local(format!("could not encode the item as JSON: {e}")))
    }

    /// Sends one signed POST and returns the body of a `2xx` answer.
    fn deliver(
        &self,
        body: Vec<u8>,
        idempotency_key: Option<&str>,
    ) -> Result<Vec<u8>, PublishError> {
        let timestamp = Utc::now().timestamp();
        let mut request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature(&self.key, timestamp, &body));
        if let Some(key) = idempotency_key {
            request = request.header(IDEMPOTENCY_HEADER, key);
        }
        let response = request
            .body(body)
            .send()
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut answer = Vec::new();
        response
            .take(MAX_ANSWER_BYTES)
            .read_to_end(&mut answer)
            .map_err(|e| {
                self.scrubbed(PublishError::Unavailable(format!(
                    "the connection broke while reading the receiver's answer: {e}"
                )))
            })?;
        let code = status.as_u16();
        if status.is_success() {
            return Ok(answer);
        }
        let message = receiver_message(&answer);
        let described = if message.is_empty() {
            format!("HTTP {code}")
        } else {
            format!("HTTP {code}: {message}")
        };
        Err(self.scrubbed(match code {
            401 | 403 => PublishError::Unauthorized(format!(
                "{described} (check the webhook key on both sides, and the receiver's clock)"
            )),
            429 => PublishError::Unavailable(match retry_after {
                Some(after) => format!("{described} (too many requests; retry after {after})"),
                None => format!("{described} (too many requests)"),
            }),
            408 | 409 | 425 => PublishError::Unavailable(described),
            300..=399 => PublishError::Rejected(format!(
                "the webhook URL redirects (HTTP {code}{}); configure the final URL",
                location.map(|l| format!(" to {l}")).unwrap_or_default()
            )),
            400..=499 => PublishError::Rejected(described),
            _ => PublishError::Unavailable(described),
        }))
    }

    /// A failure to get any answer: always worth retrying, except a request we could not build.
    fn transport_error(&self, e: &reqwest::Error) -> PublishError {
        let what = if e.is_timeout() {
            format!(
                "no answer from {} within {} s",
                display_url(&self.url),
                self.timeout.as_secs_f32()
            )
        } else if e.is_connect() {
            format!("could not connect to {}", display_url(&self.url))
        } else {
            format!("the request to {} failed", display_url(&self.url))
        };
        let detail = chain(e);
        let error = if e.is_builder() {
            PublishError::Local(format!("{what}: {detail}"))
        } else {
            PublishError::Unavailable(format!("{what}: {detail}"))
        };
        self.scrubbed(error)
    }

    /// Replaces the key, should it ever appear in a message, with `[redacted]`.
    fn scrubbed(&self, error: PublishError) -> PublishError {
        let key = String::from_utf8_lossy(&self.key).into_owned();
        let scrub = |s: String| {
            if key.len() >= 4 && s.contains(&key) {
                s.replace(&key, "[redacted]")
            } else {
                s
            }
        };
        match error {
            PublishError::Unavailable(s) => PublishError::Unavailable(scrub(s)),
            PublishError::Unauthorized(s) => PublishError::Unauthorized(scrub(s)),
            PublishError::Rejected(s) => PublishError::Rejected(scrub(s)),
            PublishError::Local(s) => PublishError::Local(scrub(s)),
        }
    }

    /// An absolute http(s) URL from what the receiver answered (relative URLs are taken
    /// relative to the webhook URL); empty stays empty.
    fn receiver_url(&self, raw: Option<&str>) -> Result<String, PublishError> {
        let raw = raw.map(str::trim).unwrap_or("");
        if raw.is_empty() {
            return Ok(String::new());
        }
        match self.url.join(raw) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u.to_string()),
            _ => Err(self.scrubbed(PublishError::Rejected(format!(
                "the receiver answered a page URL that is not an http(s) URL: {}",
                clip(raw)
            )))),
        }
    }

    fn receipt(&self, p: &Publication, answer: &[u8]) -> Result<RemoteRef, PublishError> {
        let text = String::from_utf8_lossy(answer);
        let receipt = if text.trim().is_empty() {
            Receipt {
                id: None,
                url: None,
                status: None,
                media: Vec::new(),
            }
        } else {
            serde_json::from_str::<Receipt>(&text).map_err(|_| {
                self.scrubbed(PublishError::Rejected(format!(
                    "the receiver answered 2xx, but not with the JSON object {{\"id\", \"url\"}} \
                     a Warta webhook answers (is the URL right?): {}",
                    receiver_message(answer)
                )))
            })?
        };
        let remote_id = json_id(receipt.id.as_ref())
            .map_err(|()| {
                PublishError::Rejected(
                    "the receiver answered an \"id\" that is not a string or a number".into(),
                )
            })?
            .unwrap_or_else(|| p.idempotency_key.clone());
        let url = self.receiver_url(receipt.url.as_deref())?;
        let status = match receipt.status.as_deref() {
            Some(s @ ("publish" | "future")) => s.to_string(),
            _ if p.scheduled_at.is_some_and(|t| t > Utc::now()) => "future".into(),
            _ => "publish".into(),
        };
        let mut media = Vec::with_capacity(p.media.len());
        for m in &p.media {
            let theirs = receipt
                .media
                .iter()
                .find(|r| r.attachment_id == m.attachment_id);
            let (remote_id, url) = match theirs {
                Some(r) => (
                    json_id(r.id.as_ref()).ok().flatten().unwrap_or_default(),
                    match self.receiver_url(r.url.as_deref())? {
                        u if u.is_empty() => m.public_url.clone(),
                        u => u,
                    },
                ),
                None => (String::new(), m.public_url.clone()),
            };
            media.push(RemoteMedia {
                attachment_id: m.attachment_id,
                remote_id,
                url,
            });
        }
        Ok(RemoteRef {
            remote_id,
            url,
            media,
            status,
        })
    }
}

/// A receiver's `id`: a string, or a number written as decimal; `Ok(None)` when absent.
fn json_id(value: Option<&serde_json::Value>) -> Result<Option<String>, ()> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(()),
    }
}

/// The message in a receiver's error answer: `message` or `error` of a JSON object, else the
/// visible text of the body; one line, at most a few hundred characters.
fn receiver_message(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text) {
        for field in ["message", "error", "detail", "title"] {
            match map.get(field) {
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => return clip(s),
                Some(serde_json::Value::Object(inner)) => {
                    if let Some(serde_json::Value::String(s)) = inner.get("message") {
                        return clip(s);
                    }
                }
                _ => {}
            }
        }
        return clip(&text);
    }
    clip(&visible_text(&text))
}

/// One line of at most [`MAX_MESSAGE_CHARS`] characters.
fn clip(s: &str) -> String {
    let one_line: String = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if one_line.chars().count() > MAX_MESSAGE_CHARS {
        let cut: String = one_line.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// An error and its sources, without the URL (which may carry a token in its query).
fn chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    let top = match e.url() {
        Some(_) => {
            // reqwest's Display appends " for url (…)"; describe the kind instead.
            if e.is_timeout() {
                "operation timed out".to_string()
            } else if e.is_connect() {
                "connection failed".to_string()
            } else if e.is_body() || e.is_decode() {
                "the answer could not be read".to_string()
            } else if e.is_redirect() {
                "too many redirects".to_string()
            } else {
                "request failed".to_string()
            }
        }
        None => e.to_string(),
    };
    parts.push(top);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p == &text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Only what fits in a header, a slug and a file name.
fn check_key(key: &str) -> Result<(), PublishError> {
    let ok = !key.is_empty()
        && key.len() <= 128
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(PublishError::Local(
            "the idempotency key must be letters, digits and dashes".into(),
        ))
    }
}

impl PublishTarget for Webhook {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn publish(
        &self,
        publication: &Publication,
        previous: Option<&RemoteRef>,
    ) -> Result<RemoteRef, PublishError> {
        check_key(&publication.idempotency_key)?;
        let body = self.delivery_body(publication, previous)?;
        let answer = self.deliver(body, Some(&publication.idempotency_key))?;
        self.receipt(publication, &answer)
    }

    fn unpublish(&self, item_id: i64, remote: &RemoteRef) -> Result<(), PublishError> {
        let body = serde_json::to_vec(&Unpublish {
            action: "unpublish",
            item_id,
            id: &remote.remote_id,
            url: &remote.url,
        })
        .map_err(|e| PublishError::Local(format!("could not encode the request as JSON: {e}")))?;
        self.deliver(body, None).map(|_| ())
    }

    fn check_live(
        &self,
        publication: &Publication,
        remote: &RemoteRef,
    ) -> Result<LiveCheck, PublishError> {
        let expected_text = visible_text(&warta_render::sanitise_html(&publication.body_html));
        let expected_hash = text_hash(&expected_text);
        if remote.url.is_empty() {
            return Ok(LiveCheck {
                matches: false,
                expected_hash,
                found_hash: None,
                http_status: 0,
            });
        }
        let url = Url::parse(&remote.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| PublishError::Local("the page URL is not an http(s) URL".into()))?;
        let response = self
            .page_client
            .get(url)
            .send()
            .map_err(|e| self.transport_error(&e))?;
        let http_status = response.status().as_u16();
        let success = response.status().is_success();
        let mut page = Vec::new();
        response
            .take(MAX_PAGE_BYTES)
            .read_to_end(&mut page)
            .map_err(|e| {
                PublishError::Unavailable(format!(
                    "the connection broke while reading the page: {e}"
                ))
            })?;
        if !success {
            return Ok(LiveCheck {
                matches: false,
                expected_hash,
                found_hash: None,
                http_status,
            });
        }
        let page_text = visible_text(&String::from_utf8_lossy(&page));
        let matches = page_text.contains(&expected_text);
        Ok(LiveCheck {
            matches,
            found_hash: Some(if matches {
                expected_hash.clone()
            } else {
                text_hash(&page_text)
            }),
            expected_hash,
            http_status,
        })
    }
}

/// SHA-256 (lowercase hex) of a normalised text.
pub fn text_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Elements whose content is never shown as text.
const HIDDEN_CONTENT: &[&str] = &[
    "script", "style", "template", "noscript", "title", "head", "svg", "math", "iframe", "object",
    "textarea", "select",
];

/// Elements that separate words: replaced by a space (inline elements by nothing).
const BLOCK_ELEMENTS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "html",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// The visible text of an HTML fragment or page, normalised so that what a CMS typically
/// rewrites does not matter: tags removed (block elements become a space, inline ones
/// nothing), the content of `script`, `style`, `head` and the like dropped, comments dropped,
/// character references decoded, and every run of whitespace (including no-break spaces)
/// collapsed to one space, trimmed.
pub fn visible_text(html: &str) -> String {
    let mut raw = String::with_capacity(html.len());
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        if let Some(after) = rest.strip_prefix("<!--") {
            i += 4 + after.find("-->").map_or(after.len(), |end| end + 3);
            continue;
        }
        if rest.starts_with('<')
            && let Some(tag) = parse_tag(rest)
        {
            i += tag.len;
            if !tag.closing && HIDDEN_CONTENT.contains(&tag.name.as_str()) && !tag.self_closing {
                let close = format!("</{}", tag.name);
                i += find_ascii_ci(&html[i..], &close).unwrap_or(html.len() - i);
            }
            if BLOCK_ELEMENTS.contains(&tag.name.as_str()) {
                raw.push(' ');
            }
            continue;
        }
        if rest.starts_with('&')
            && let Some((decoded, len)) = decode_reference(rest)
        {
            raw.push_str(&decoded);
            i += len;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        raw.push(c);
        i += c.len_utf8();
    }
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
    len: usize,
}

/// A tag (or `<!…>`/`<?…>` declaration) at the start of `s`, or `None` when the `<` is text.
fn parse_tag(s: &str) -> Option<Tag> {
    let bytes = s.as_bytes();
    let (closing, name_start) = match bytes.get(1)? {
        b'/' => (true, 2),
        b'!' | b'?' => {
            let len = s.find('>').map_or(s.len(), |e| e + 1);
            return Some(Tag {
                name: String::new(),
                closing: false,
                self_closing: true,
                len,
            });
        }
        _ => (false, 1),
    };
    if !bytes.get(name_start)?.is_ascii_alphabetic() {
        return None;
    }
    let name_len = bytes[name_start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
        .count();
    let name = s[name_start..name_start + name_len].to_ascii_lowercase();
    let mut quote: Option<u8> = None;
    let mut end = None;
    for (j, &b) in bytes.iter().enumerate().skip(name_start + name_len) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => {
                end = Some(j);
                break;
            }
            None => {}
        }
    }
    let len = end.map_or(s.len(), |e| e + 1);
    let self_closing = end.is_some_and(|e| e > 0 && bytes[e - 1] == b'/');
    Some(Tag {
        name,
        closing,
        self_closing,
        len,
    })
}

/// Byte offset of `needle` (ASCII) in `hay`, ignoring ASCII case.
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    hay.as_bytes()
        .windows(n.len())
        .position(|w| w.eq_ignore_ascii_case(n))
}

/// Decodes a character reference at the start of `s` (`&amp;`, `&#233;`, `&#xE9;` …):
/// the text and how many bytes it took.
fn decode_reference(s: &str) -> Option<(String, usize)> {
    let body = &s[1..];
    if let Some(num) = body.strip_prefix('#') {
        let (digits, radix, prefix) = match num.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 2),
            None => (num, 10, 1),
        };
        let count = digits
            .chars()
            .take_while(|c| c.is_digit(radix))
            .take(8)
            .count();
        if count == 0 {
            return None;
        }
        let value = u32::from_str_radix(&digits[..count], radix).ok()?;
        let c = match value {
            0 => '\u{FFFD}',
            v => char::from_u32(v).unwrap_or('\u{FFFD}'),
        };
        let semicolon = usize::from(digits[count..].starts_with(';'));
        return Some((c.to_string(), 1 + prefix + count + semicolon));
    }
    let name_len = body
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .take(10)
        .count();
    if !body[name_len..].starts_with(';') {
        return None;
    }
    let text = match &body[..name_len] {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => "\u{a0}",
        "shy" => "",
        "hellip" => "…",
        "mdash" => "—",
        "ndash" => "–",
        "lsquo" => "‘",
        "rsquo" => "’",
        "sbquo" => "‚",
        "ldquo" => "“",
        "rdquo" => "”",
        "bdquo" => "„",
        "laquo" => "«",
        "raquo" => "»",
        "middot" => "·",
        "bull" => "•",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "deg" => "°",
        "times" => "×",
        "divide" => "÷",
        "euro" => "€",
        "plusmn" => "±",
        "frac12" => "½",
        "sup2" => "²",
        "eacute" => "é",
        "egrave" => "è",
        "agrave" => "à",
        "aacute" => "á",
        "ccedil" => "ç",
        _ => return None,
    };
    Some((text.to_string(), 1 + name_len + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_text_ignores_markup_and_entities() {
        let body =
            "<p>Banjir &amp; longsor di <em>Samarinda</em></p>\n<p>Warga&nbsp;mengungsi.</p>";
        let page = "<!doctype html><html><head><title>X</title><style>p{}</style></head>\
                    <body><nav>Menu</nav><article>\n  <p>Banjir &#38; longsor   di <span>Samarinda</span></p>\
                    <p>Warga mengungsi.</p></article><script>var a = '<p>';</script></body></html>";
        let expected = visible_text(body);
        assert_eq!(expected, "Banjir & longsor di Samarinda Warga mengungsi.");
        assert!(visible_text(page).contains(&expected));
        assert_eq!(
            visible_text(page),
            "Menu Banjir & longsor di Samarinda Warga mengungsi."
        );
    }

    #[test]
    fn visible_text_keeps_a_lone_angle_bracket_and_unknown_entities() {
        assert_eq!(
            visible_text("a < b &unknown; c &#x41;"),
            "a < b &unknown; c A"
        );
        assert_eq!(visible_text("x<!-- hidden -->y"), "xy");
        assert_eq!(visible_text("<p title='a>b'>t</p>"), "t");
    }

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: Python's
        // hmac.new(b"rahasia-kantor", b'1767225600.{"title":"Banjir"}', hashlib.sha256).
        assert_eq!(
            signature(b"rahasia-kantor", 1_767_225_600, br#"{"title":"Banjir"}"#),
            "sha256=2debcea60a2dfaa256ca4891a5323c05ddefff483434ae134ea6934cc5bc7130"
        );
    }
}
