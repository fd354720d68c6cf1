//! Resumable uploads (tus 1.0 under /api/v1/uploads) against a real hub on 127.0.0.1: chunks
//! with checksums, connections dropped mid-chunk (raw TCP), a hub restarted mid-upload, damaged
//! chunks, wrong offsets, other users, limits, whole-file hash checks and expiry.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use warta_api::{NewUser, Role};
use warta_hub::{FixedClock, HubConfig, RunningHub};

const PW: &str = "password-123";
const TUS: &str = "1.0.0";

struct TestHub {
    hub: Option<RunningHub>,
    clock: Arc<FixedClock>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl TestHub {
    async fn start() -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap(),
        ));
        let hub = warta_hub::start(HubConfig::solo(dir.path()), clock.clone())
            .await
            .unwrap();
        let office = hub.office().clone();
        tokio::task::spawn_blocking(move || {
            for (name, roles) in [
                ("rina", vec![Role::Reporter]),
                ("rudi", vec![Role::Reporter]),
                ("ibu", vec![Role::Official]),
                ("admin", vec![Role::Admin]),
            ] {
                office
                    .add_user(
                        None,
                        NewUser {
                            username: name.into(),
                            display_name: name.into(),
                            password: PW.into(),
                            roles,
                            unit: "Bidang IKP".into(),
                        },
                    )
                    .unwrap();
            }
        })
        .await
        .unwrap();
        TestHub {
            hub: Some(hub),
            clock,
            dir,
            http: reqwest::Client::new(),
        }
    }

    /// Stops the hub and starts another on the same data directory (and clock).
    async fn restart(&mut self) {
        self.hub.take().unwrap().shutdown().await;
        let hub = warta_hub::start(HubConfig::solo(self.dir.path()), self.clock.clone())
            .await
            .unwrap();
        self.hub = Some(hub);
    }

    fn base(&self) -> String {
        self.hub.as_ref().unwrap().base_url()
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.hub.as_ref().unwrap().addr()
    }

    async fn login(&self, user: &str) -> String {
        let r = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base()))
            .json(&json!({"username": user, "password": PW}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {user}");
        let v: Value = r.json().await.unwrap();
        v["token"].as_str().unwrap().to_string()
    }

    fn req(&self, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base()))
            .bearer_auth(token)
            .header("Tus-Resumable", TUS)
    }

    fn part(&self, location: &str) -> PathBuf {
        let id = location.rsplit('/').next().unwrap();
        self.dir.path().join("uploads").join(format!("{id}.part"))
    }

    fn blob(&self, sha: &str) -> PathBuf {
        self.dir
            .path()
            .join("blobs")
            .join(&sha[..2])
            .join(&sha[2..])
    }

    /// `POST /uploads` for `len` bytes declared to hash to `sha`; the Location.
    async fn create(&self, token: &str, len: u64, sha: &str, filename: &str) -> String {
        let r = self.create_raw(token, len, sha, filename).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
        assert_eq!(r.headers()["tus-resumable"], TUS);
        assert_eq!(r.headers()["upload-offset"], "0");
        r.headers()["location"].to_str().unwrap().to_string()
    }

    async fn create_raw(
        &self,
        token: &str,
        len: u64,
        sha: &str,
        filename: &str,
    ) -> reqwest::Response {
        let meta = format!(
            "filename {},sha256 {}",
            BASE64.encode(filename),
            BASE64.encode(sha)
        );
        self.req(Method::POST, "/api/v1/uploads", token)
            .header("Upload-Length", len)
            .header("Upload-Metadata", meta)
            .send()
            .await
            .unwrap()
    }

    /// `HEAD` → Upload-Offset (or the status when it is not 200).
    async fn offset(&self, token: &str, location: &str) -> Result<u64, StatusCode> {
        let r = self
            .req(Method::HEAD, location, token)
            .send()
            .await
            .unwrap();
        if r.status() != StatusCode::OK {
            return Err(r.status());
        }
        assert_eq!(r.headers()["cache-control"], "no-store");
        Ok(r.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap())
    }

    /// `PATCH` with the chunk's sha256 checksum.
    async fn patch(
        &self,
        token: &str,
        location: &str,
        offset: u64,
        bytes: &[u8],
    ) -> reqwest::Response {
        self.patch_with(token, location, offset, bytes, &checksum(bytes))
            .await
    }

    async fn patch_with(
        &self,
        token: &str,
        location: &str,
        offset: u64,
        bytes: &[u8],
        checksum: &str,
    ) -> reqwest::Response {
        self.req(Method::PATCH, location, token)
            .header("Upload-Offset", offset)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Checksum", checksum)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// Sends the headers of a PATCH for `full` and only `sent` bytes of its body, then closes
    /// the connection: a network that dropped mid-chunk.
    async fn patch_cut_short(
        &self,
        token: &str,
        location: &str,
        offset: u64,
        full: &[u8],
        sent: usize,
    ) {
        let mut tcp = tokio::net::TcpStream::connect(self.addr()).await.unwrap();
        let head = format!(
            "PATCH {location} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Tus-Resumable: {TUS}\r\nUpload-Offset: {offset}\r\n\
             Content-Type: application/offset+octet-stream\r\nUpload-Checksum: {}\r\n\
             Content-Length: {}\r\n\r\n",
            self.addr(),
            checksum(full),
            full.len()
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        tcp.write_all(&full[..sent]).await.unwrap();
        tcp.flush().await.unwrap();
        // Closed without the rest: the hub sees the body end early.
        drop(tcp);
    }
}

fn checksum(bytes: &[u8]) -> String {
    format!("sha256 {}", BASE64.encode(Sha256::digest(bytes)))
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic bytes that are not a repeating pattern (a chunk sent twice would show).
fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

async fn error_code(r: reqwest::Response) -> String {
    let v: Value = r.json().await.unwrap();
    v["code"].as_str().unwrap_or_default().to_string()
}

/// A one-page PDF that `warta-media` accepts as a document, padded with a comment so that it
/// takes several chunks.
fn pdf() -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%".to_vec();
    out.extend(content(300_000, 3).iter().map(|b| b'a' + b % 26));
    out.push(b'\n');
    let mut offsets = Vec::new();
    for o in [
        "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n",
        "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n",
        "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n",
    ] {
        offsets.push(out.len());
        out.extend_from_slice(o.as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 4\n0000000000 65535 f \n");
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer << /Size 4 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

#[tokio::test]
async fn a_file_goes_up_in_checked_chunks_and_is_attached_like_an_original() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let item: Value = t
        .req(Method::POST, "/api/v1/items", &rina)
        .json(
            &json!({"title": "Rapat", "summary": "", "body": "", "category": "berita",
                      "tags": [], "unit": "Bidang IKP"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item_id = item["id"].as_i64().unwrap();

    let doc = pdf();
    let sha = sha_hex(&doc);
    let r = t
        .create_raw(&rina, doc.len() as u64, &sha, "laporan.pdf")
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["tus-version"], TUS);
    assert!(
        r.headers()["tus-extension"]
            .to_str()
            .unwrap()
            .contains("checksum")
    );
    assert_eq!(r.headers()["tus-checksum-algorithm"], "sha256");
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("/api/v1/uploads/"), "{loc}");
    assert_eq!(t.offset(&rina, &loc).await, Ok(0));

    let mut offset = 0usize;
    for piece in doc.chunks(64 * 1024) {
        let r = t.patch(&rina, &loc, offset as u64, piece).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
        offset += piece.len();
        assert_eq!(r.headers()["upload-offset"], offset.to_string().as_str());
        if offset < doc.len() {
            // Exactly the confirmed bytes are on disk after each chunk.
            assert_eq!(file_len(&t.part(&loc)), offset as u64);
        }
    }
    // Complete: in the blob store, hashing to its name; the part file is gone.
    assert_eq!(std::fs::read(t.blob(&sha)).unwrap(), doc);
    assert!(!t.part(&loc).exists());
    assert_eq!(t.offset(&rina, &loc).await, Ok(doc.len() as u64));

    let r = t
        .req(
            Method::POST,
            &format!("/api/v1/items/{item_id}/attachments/blob"),
            &rina,
        )
        .json(&json!({"sha256": sha, "filename": "laporan.pdf"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["sha256"], sha.as_str());
    assert_eq!(a["kind"], "document");
    assert_eq!(a["mime"], "application/pdf");
    assert_eq!(a["pages"], 1);
    assert_eq!(a["size"], doc.len() as u64);
}

#[tokio::test]
async fn connections_dropped_mid_chunk_at_random_offsets_resume_and_store_nothing_twice() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let data = content(3 * 1024 * 1024 + 777, 42);
    let sha = sha_hex(&data);
    let loc = t.create(&rina, data.len() as u64, &sha, "video.mp4").await;
    let chunk = 256 * 1024;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    let mut drops = 0;
    let mut accepted = 0u64;
    // Bounded: every round confirms one chunk.
    for _round in 0..100 {
        let offset = t.offset(&rina, &loc).await.unwrap();
        if offset == data.len() as u64 {
            break;
        }
        let end = (offset as usize + chunk).min(data.len());
        let piece = &data[offset as usize..end];
        // Most chunks are first cut short at a random byte, then the client comes back.
        if next(4) != 0 {
            t.patch_cut_short(&rina, &loc, offset, piece, next(piece.len()))
                .await;
            drops += 1;
            // HEAD after the drop: still the confirmed offset, never a partial chunk.
            assert_eq!(t.offset(&rina, &loc).await, Ok(offset));
        }
        // The dropped request may still be starting on the hub: if it comes in after this one,
        // it takes the upload over (423) and then lets go as its body is cut; the client tries
        // again, as a real one does.
        let mut r = t.patch(&rina, &loc, offset, piece).await;
        for _retry in 0..5 {
            if r.status() != StatusCode::LOCKED {
                break;
            }
            assert_eq!(t.offset(&rina, &loc).await, Ok(offset));
            r = t.patch(&rina, &loc, offset, piece).await;
        }
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
        accepted += piece.len() as u64;
        if (end as u64) < data.len() as u64 {
            assert_eq!(
                file_len(&t.part(&loc)),
                end as u64,
                "the part file holds exactly the confirmed bytes"
            );
        }
    }
    assert!(drops > 3, "the test dropped connections ({drops})");
    assert_eq!(accepted, data.len() as u64, "each byte was accepted once");
    assert_eq!(t.offset(&rina, &loc).await, Ok(data.len() as u64));
    let stored = std::fs::read(t.blob(&sha)).unwrap();
    assert_eq!(sha_hex(&stored), sha);
}

#[tokio::test]
async fn a_stalled_chunk_gives_way_to_the_client_that_comes_back() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let data = content(200_000, 7);
    let sha = sha_hex(&data);
    let loc = t.create(&rina, data.len() as u64, &sha, "a.bin").await;
    // A connection that sent half a chunk and then went silent, without closing.
    let mut stalled = tokio::net::TcpStream::connect(t.addr()).await.unwrap();
    let head = format!(
        "PATCH {loc} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {rina}\r\nTus-Resumable: {TUS}\r\n\
         Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n\
         Content-Length: {}\r\n\r\n",
        data.len()
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    stalled.write_all(&data[..50_000]).await.unwrap();
    stalled.flush().await.unwrap();
    // Once the hub is writing that chunk (it holds the upload):
    let part = t.part(&loc);
    for _ in 0..1000 {
        if file_len(&part) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(file_len(&part) > 0, "the stalled chunk never started");
    // The client comes back on a new connection: it takes the upload over at once (the hub does
    // not wait for the silent connection to time out), from the confirmed offset.
    assert_eq!(t.offset(&rina, &loc).await, Ok(0));
    let r = t.patch(&rina, &loc, 0, &data).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    assert_eq!(std::fs::read(t.blob(&sha)).unwrap(), data);
    // The stalled request was answered and ended.
    let mut answer = Vec::new();
    let _ = stalled.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 423"), "{answer}");
}

#[tokio::test]
async fn the_hub_restarted_mid_upload_resumes_from_the_confirmed_offset() {
    let mut t = TestHub::start().await;
    let rina = t.login("rina").await;
    let data = content(1_000_000, 9);
    let sha = sha_hex(&data);
    let loc = t.create(&rina, data.len() as u64, &sha, "b.bin").await;
    let r = t.patch(&rina, &loc, 0, &data[..300_000]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // A hub killed while writing the next chunk leaves bytes past the confirmed offset.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(t.part(&loc))
            .unwrap();
        f.write_all(&data[300_000..420_000]).unwrap();
    }
    t.restart().await;
    // The session and the upload survive; the offset is the confirmed one.
    assert_eq!(t.offset(&rina, &loc).await, Ok(300_000));
    let r = t.patch(&rina, &loc, 300_000, &data[300_000..700_000]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(file_len(&t.part(&loc)), 700_000);
    let r = t.patch(&rina, &loc, 700_000, &data[700_000..]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(std::fs::read(t.blob(&sha)).unwrap(), data);
}

#[tokio::test]
async fn a_damaged_chunk_or_a_wrong_offset_is_refused_and_nothing_is_written() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let data = content(100_000, 11);
    let loc = t
        .create(&rina, data.len() as u64, &sha_hex(&data), "c.bin")
        .await;
    let r = t.patch(&rina, &loc, 0, &data[..40_000]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // Damaged on the way: the checksum is of the bytes the client meant to send.
    let mut damaged = data[40_000..80_000].to_vec();
    damaged[1234] ^= 0x40;
    let r = t
        .patch_with(
            &rina,
            &loc,
            40_000,
            &damaged,
            &checksum(&data[40_000..80_000]),
        )
        .await;
    assert_eq!(r.status().as_u16(), 460);
    assert_eq!(error_code(r).await, "checksum_mismatch");
    assert_eq!(t.offset(&rina, &loc).await, Ok(40_000));
    assert_eq!(file_len(&t.part(&loc)), 40_000);

    // A chunk sent again (its answer was lost) or ahead of time: 409 with the real offset.
    for wrong in [0, 20_000, 60_000] {
        let r = t.patch(&rina, &loc, wrong, &data[..1000]).await;
        assert_eq!(r.status(), StatusCode::CONFLICT, "offset {wrong}");
        assert_eq!(r.headers()["upload-offset"], "40000");
        assert_eq!(error_code(r).await, "offset_mismatch");
    }
    assert_eq!(file_len(&t.part(&loc)), 40_000);

    // More bytes than the upload has room for.
    let r = t.patch(&rina, &loc, 40_000, &content(60_001, 1)).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(t.offset(&rina, &loc).await, Ok(40_000));
    assert_eq!(file_len(&t.part(&loc)), 40_000);

    // Protocol mistakes are plain 4xx answers.
    let r = t
        .http
        .patch(format!("{}{loc}", t.base()))
        .bearer_auth(&rina)
        .header("Upload-Offset", 40_000)
        .header("Content-Type", "application/offset+octet-stream")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(r).await, "validation");
    let r = t
        .http
        .patch(format!("{}{loc}", t.base()))
        .bearer_auth(&rina)
        .header("Tus-Resumable", "0.2.2")
        .header("Upload-Offset", 40_000)
        .header("Content-Type", "application/offset+octet-stream")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.headers()["tus-version"], TUS);
    let r = t
        .req(Method::PATCH, &loc, &rina)
        .header("Upload-Offset", 40_000)
        .header("Content-Type", "text/plain")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = t
        .patch_with(
            &rina,
            &loc,
            40_000,
            &[1u8; 10],
            "md5 XUFAKrxLKna5cZ2REBfFkg==",
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(r).await, "validation");
    let r = t
        .req(Method::PATCH, &loc, &rina)
        .header("Upload-Offset", "soon")
        .header("Content-Type", "application/offset+octet-stream")
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(t.offset(&rina, &loc).await, Ok(40_000));
    assert_eq!(file_len(&t.part(&loc)), 40_000);
}

#[tokio::test]
async fn an_upload_belongs_to_its_creator() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let rudi = t.login("rudi").await;
    let data = content(50_000, 5);
    let sha = sha_hex(&data);
    let loc = t.create(&rina, data.len() as u64, &sha, "d.bin").await;
    assert_eq!(t.offset(&rudi, &loc).await, Err(StatusCode::NOT_FOUND));
    let r = t.patch(&rudi, &loc, 0, &data).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t.req(Method::DELETE, &loc, &rudi).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(file_len(&t.part(&loc)), 0);
    let r = t.patch(&rina, &loc, 0, &data).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // Knowing the digest is not enough to attach (and so download) someone else's file.
    let item: Value = t
        .req(Method::POST, "/api/v1/items", &rudi)
        .json(
            &json!({"title": "x", "summary": "", "body": "", "category": "berita",
                      "tags": [], "unit": "Bidang IKP"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = t
        .req(
            Method::POST,
            &format!("/api/v1/items/{}/attachments/blob", item["id"]),
            &rudi,
        )
        .json(&json!({"sha256": sha, "filename": "d.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(r).await, "missing_blob");

    // Only reporters and editors upload; without a session, nobody.
    let ibu = t.login("ibu").await;
    let r = t.create_raw(&ibu, 10, &sha, "e.bin").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .http
        .post(format!("{}/api/v1/uploads", t.base()))
        .header("Tus-Resumable", TUS)
        .header("Upload-Length", 10)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The owner cancels: the bytes are gone.
    let loc2 = t.create(&rina, 10, &sha_hex(b"0123456789"), "f.bin").await;
    let r = t.patch(&rina, &loc2, 0, b"01234").await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = t.req(Method::DELETE, &loc2, &rina).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(!t.part(&loc2).exists());
    assert_eq!(t.offset(&rina, &loc2).await, Err(StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_before_any_byte() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let sha = sha_hex(b"x");
    let r = t
        .create_raw(&rina, 2 * 1024 * 1024 * 1024 + 1, &sha, "huge.mp4")
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(r).await, "too_large");
    let parts = std::fs::read_dir(t.dir.path().join("uploads"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(parts, 0);

    // Creation needs a length and the whole file's digest.
    let r = t
        .req(Method::POST, "/api/v1/uploads", &rina)
        .header("Upload-Metadata", format!("sha256 {}", BASE64.encode(&sha)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = t
        .req(Method::POST, "/api/v1/uploads", &rina)
        .header("Upload-Length", 10)
        .header("Upload-Metadata", "filename YS5iaW4=")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["field"], "Upload-Metadata");
    let r = t.create_raw(&rina, 10, &sha, "../etc/passwd").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_file_that_does_not_hash_to_its_declared_digest_is_refused_and_not_stored() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let data = content(120_000, 13);
    let declared = sha_hex(b"something else");
    let loc = t.create(&rina, data.len() as u64, &declared, "g.bin").await;
    let r = t.patch(&rina, &loc, 0, &data[..60_000]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Each chunk is intact, but the whole is not the file that was announced.
    let r = t.patch(&rina, &loc, 60_000, &data[60_000..]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "validation");
    assert_eq!(v["field"], "sha256");
    assert!(!t.blob(&sha_hex(&data)).exists());
    assert!(!t.blob(&declared).exists());
    assert!(!t.part(&loc).exists());
    assert_eq!(t.offset(&rina, &loc).await, Err(StatusCode::NOT_FOUND));
    let blobs = walk(&t.dir.path().join("blobs"));
    assert!(blobs.is_empty(), "{blobs:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn abandoned_uploads_expire_and_their_bytes_are_removed() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let data = content(10_000, 17);
    let loc = t
        .create(&rina, data.len() as u64, &sha_hex(&data), "h.bin")
        .await;
    let r = t.patch(&rina, &loc, 0, &data[..5000]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Each chunk moves the expiry: six days later it is still there.
    t.clock.advance(chrono::Duration::days(6));
    let rina = t.login("rina").await;
    assert_eq!(t.offset(&rina, &loc).await, Ok(5000));
    t.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    let rina = t.login("rina").await;
    assert_eq!(t.offset(&rina, &loc).await, Err(StatusCode::NOT_FOUND));
    let r = t.patch(&rina, &loc, 5000, &data[5000..]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        t.part(&loc).exists(),
        "removed by the next sweep, not before"
    );
    // Creating an upload sweeps the expired ones.
    t.create(&rina, 3, &sha_hex(b"abc"), "i.bin").await;
    assert!(!t.part(&loc).exists());
}
