//! `HubClient::upload_resumable` against a real hub on loopback, through a TCP proxy in the
//! test that cuts connections mid-chunk, damages a chunk, or goes away entirely.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use warta_api::{ErrorCode, ItemContent, NewUser, Role};
use warta_client::{HubClient, MemoryUploadState, UploadOptions, UploadProgress, UploadState};
use warta_hub::{HubConfig, RunningHub, SystemClock};

const PASSWORD: &str = "kata-sandi-uji-123";

/// How the proxy treats what the client sends.
#[derive(Default)]
struct Faults {
    /// Cut each connection after this many client bytes (a new draw per connection), from a
    /// seeded generator; 0 = never.
    cut_below: AtomicUsize,
    rng: Mutex<u64>,
    /// Flip one byte in the body of the next PATCH.
    damage_next_patch: AtomicBool,
    /// Refuse every connection (the network is gone).
    down: AtomicBool,
    /// Client bytes forwarded in all.
    forwarded: AtomicU64,
}

impl Faults {
    fn draw(&self) -> Option<usize> {
        let below = self.cut_below.load(Ordering::SeqCst);
        if below == 0 {
            return None;
        }
        let mut x = self.rng.lock().unwrap();
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        Some((*x % below as u64) as usize + 1)
    }
}

/// A proxy on 127.0.0.1 in front of `upstream`; its base URL.
async fn proxy(upstream: std::net::SocketAddr, faults: Arc<Faults>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            if faults.down.load(Ordering::SeqCst) {
                drop(client);
                continue;
            }
            let faults = faults.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let cut = faults.draw();
                let up = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut total = 0usize;
                    // Everything this connection carried, while a PATCH body is to be damaged.
                    let mut seen = Vec::new();
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if faults.down.load(Ordering::SeqCst) {
                            return;
                        }
                        let mut data = buf[..n].to_vec();
                        if faults.damage_next_patch.load(Ordering::SeqCst) {
                            seen.extend_from_slice(&data);
                            if let Some(target) = patch_body_byte(&seen, 100)
                                && (total..total + data.len()).contains(&target)
                                && faults.damage_next_patch.swap(false, Ordering::SeqCst)
                            {
                                data[target - total] ^= 0x55;
                            }
                        }
                        if let Some(limit) = cut
                            && total + data.len() >= limit
                        {
                            let keep = limit - total;
                            let _ = sw.write_all(&data[..keep]).await;
                            faults.forwarded.fetch_add(keep as u64, Ordering::SeqCst);
                            return;
                        }
                        total += data.len();
                        if sw.write_all(&data).await.is_err() {
                            return;
                        }
                        faults
                            .forwarded
                            .fetch_add(data.len() as u64, Ordering::SeqCst);
                    }
                };
                let down = async {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                };
                // Either side ending ends the connection, both ways.
                tokio::select! {
                    () = up => {}
                    () = down => {}
                }
            });
        }
    });
    format!("http://{addr}")
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Where, in the bytes a connection carried, byte `n` of the first PATCH's body is.
fn patch_body_byte(seen: &[u8], n: usize) -> Option<usize> {
    let start = find(seen, b"PATCH ")?;
    let end = find(&seen[start..], b"\r\n\r\n")?;
    Some(start + end + 4 + n)
}

struct Setup {
    hub: RunningHub,
    token: String,
    item: i64,
    dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let hub = warta_hub::start(
        HubConfig::solo(dir.path().join("hub")),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let office = hub.office().clone();
    tokio::task::spawn_blocking(move || {
        office
            .add_user(
                None,
                NewUser {
                    username: "rina".into(),
                    display_name: "Rina".into(),
                    password: PASSWORD.into(),
                    roles: vec![Role::Reporter],
                    unit: "Diskominfo".into(),
                },
            )
            .unwrap()
    })
    .await
    .unwrap();
    let client = HubClient::new(hub.base_url());
    let token = client.login("rina", PASSWORD).await.unwrap().token;
    let item = client
        .with_token(token.clone())
        .create_item(&ItemContent {
            title: "Video banjir".into(),
            summary: String::new(),
            body: String::new(),
            category: "berita".into(),
            tags: vec![],
            unit: "Diskominfo".into(),
        })
        .await
        .unwrap()
        .id;
    Setup {
        hub,
        token,
        item,
        dir,
    }
}

/// A file of `len` deterministic, non-repeating bytes; its SHA-256.
fn write_file(path: &Path, len: usize, seed: u64) -> String {
    let mut x = seed | 1;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(path, &bytes).unwrap();
    hex::encode(Sha256::digest(&bytes))
}

fn quick(chunk: usize, max_failures: u32) -> UploadOptions {
    UploadOptions {
        chunk_size: chunk,
        max_failures,
        first_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(20),
        pause_between_chunks: Duration::ZERO,
    }
}

fn blob(s: &Setup, sha: &str) -> std::path::PathBuf {
    s.dir
        .path()
        .join("hub/blobs")
        .join(&sha[..2])
        .join(&sha[2..])
}

/// Records every progress report; checks they only ever go up.
#[derive(Default)]
struct Reports(Mutex<Vec<UploadProgress>>);

impl Reports {
    fn push(&self, p: UploadProgress) {
        let mut v = self.0.lock().unwrap();
        if let Some(last) = v.last() {
            assert!(p.confirmed >= last.confirmed, "{p:?} after {last:?}");
        }
        v.push(p);
    }

    fn last(&self) -> UploadProgress {
        *self.0.lock().unwrap().last().unwrap()
    }
}

#[tokio::test]
async fn a_file_goes_up_through_a_network_that_keeps_dropping() {
    let s = setup().await;
    let path = s.dir.path().join("banjir.bin");
    let len = 2 * 1024 * 1024 + 4321;
    let sha = write_file(&path, len, 1);
    let faults = Arc::new(Faults {
        cut_below: AtomicUsize::new(400 * 1024),
        rng: Mutex::new(0x2545_f491_4f6c_dd1d),
        ..Faults::default()
    });
    let base = proxy(s.hub.addr(), faults.clone()).await;
    let client = HubClient::new(base).with_token(&s.token);
    let state = MemoryUploadState::default();
    let reports = Reports::default();
    let report = client
        .upload_resumable_with(
            &path,
            &sha,
            &state,
            &|p| reports.push(p),
            &quick(128 * 1024, 60),
        )
        .await
        .unwrap();
    assert_eq!(
        reports.last(),
        UploadProgress {
            confirmed: len as u64,
            total: len as u64
        }
    );
    assert_eq!(report.resumed_from, 0);
    assert_eq!(
        report.bytes_sent, len as u64,
        "each confirmed byte counted once"
    );
    assert!(
        faults.forwarded.load(Ordering::SeqCst) > len as u64,
        "connections were cut mid-chunk and chunks sent again"
    );
    assert_eq!(state.load().as_deref(), Some(report.location.as_str()));
    let stored = std::fs::read(blob(&s, &sha)).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&stored)), sha);

    // Attached as the original it is (an unknown type is refused by its bytes, so only the
    // upload's ownership is checked here: another digest is a missing blob).
    let direct = HubClient::new(s.hub.base_url()).with_token(&s.token);
    let e = direct
        .attach_blob(s.item, &"ab".repeat(32), "x.bin")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::MissingBlob));
    let e = direct
        .attach_blob(s.item, &sha, "banjir.bin")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::RefusedType), "{e}");
}

#[tokio::test]
async fn a_damaged_chunk_is_sent_again() {
    let s = setup().await;
    let path = s.dir.path().join("a.bin");
    let len = 700_000;
    let sha = write_file(&path, len, 2);
    let faults = Arc::new(Faults::default());
    faults.damage_next_patch.store(true, Ordering::SeqCst);
    let base = proxy(s.hub.addr(), faults.clone()).await;
    let client = HubClient::new(base).with_token(&s.token);
    let report = client
        .upload_resumable_with(
            &path,
            &sha,
            &MemoryUploadState::default(),
            &|_| {},
            &quick(256 * 1024, 3),
        )
        .await
        .unwrap();
    assert!(
        !faults.damage_next_patch.load(Ordering::SeqCst),
        "a chunk was damaged"
    );
    assert_eq!(report.bytes_sent, len as u64);
    // The damaged chunk travelled twice; the hub kept it once.
    assert!(faults.forwarded.load(Ordering::SeqCst) > (len + 256 * 1024) as u64);
    assert_eq!(
        hex::encode(Sha256::digest(std::fs::read(blob(&s, &sha)).unwrap())),
        sha
    );
}

#[tokio::test]
async fn a_run_that_lost_the_network_is_resumed_by_the_next_from_its_saved_address() {
    let s = setup().await;
    let path = s.dir.path().join("b.bin");
    let len = 1_500_000;
    let sha = write_file(&path, len, 3);
    let faults = Arc::new(Faults::default());
    let base = proxy(s.hub.addr(), faults.clone()).await;
    let state = MemoryUploadState::default();
    {
        let client = HubClient::new(base).with_token(&s.token);
        // The network goes away once the hub has confirmed some chunks.
        let down = &faults.down;
        let err = client
            .upload_resumable_with(
                &path,
                &sha,
                &state,
                &|p| {
                    if p.confirmed >= 400_000 {
                        down.store(true, Ordering::SeqCst);
                    }
                },
                &quick(200_000, 4),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, warta_client::ClientError::Network(_)),
            "{err}"
        );
    }
    let saved = state.load().expect("the upload's address was kept");
    // The next run (the network is back: straight to the hub) carries on where the hub is.
    let client = HubClient::new(s.hub.base_url()).with_token(&s.token);
    let reports = Reports::default();
    let report = client
        .upload_resumable_with(
            &path,
            &sha,
            &state,
            &|p| reports.push(p),
            &quick(200_000, 4),
        )
        .await
        .unwrap();
    assert_eq!(report.location, saved);
    assert!(report.resumed_from >= 400_000, "{report:?}");
    assert_eq!(report.bytes_sent, len as u64 - report.resumed_from);
    assert_eq!(reports.0.lock().unwrap()[0].confirmed, report.resumed_from);
    assert_eq!(
        hex::encode(Sha256::digest(std::fs::read(blob(&s, &sha)).unwrap())),
        sha
    );

    // An address the hub no longer knows (expired, cancelled) starts a new upload.
    let other = s.dir.path().join("c.bin");
    let sha2 = write_file(&other, 300_000, 4);
    state
        .save(Some("/api/v1/uploads/0123456789abcdef0123456789abcdef"))
        .unwrap();
    let report = client
        .upload_resumable_with(&other, &sha2, &state, &|_| {}, &quick(100_000, 2))
        .await
        .unwrap();
    assert_eq!(report.resumed_from, 0);
    assert_ne!(
        report.location,
        "/api/v1/uploads/0123456789abcdef0123456789abcdef"
    );
    assert!(blob(&s, &sha2).is_file());

    // A file that changed since it was hashed: refused as a whole, the address forgotten.
    let e = client
        .upload_resumable_with(&other, &sha, &state, &|_| {}, &quick(100_000, 2))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::Validation), "{e}");
    assert_eq!(state.load(), None);
}
