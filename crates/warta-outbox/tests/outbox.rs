//! The outbox against a real hub on loopback: written while the hub is down, sent once it is
//! back (same port, same data); a create or submit whose answer was lost is not repeated;
//! refusals and unreadable files fail only their own entry.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tempfile::TempDir;
use warta_api::{
    ActionRequest, ItemContent, NewOutboxEntry, NewUser, OutboxEntry, OutboxProblemCode,
    OutboxState, Role,
};
use warta_client::HubClient;
use warta_hub::{HubConfig, RunningHub, SystemClock};
use warta_outbox::{Outbox, OutboxError, OutboxEvents};

const PASSWORD: &str = "kata-sandi-uji-123";

struct Office {
    dir: TempDir,
    listen: SocketAddr,
    hub: Option<RunningHub>,
}

impl Office {
    /// A hub on a fixed loopback port (so it can come back on the same address), with a
    /// reporter and an editor.
    async fn start() -> Office {
        let dir = tempfile::tempdir().unwrap();
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let mut office = Office {
            dir,
            listen: SocketAddr::from(([127, 0, 0, 1], port)),
            hub: None,
        };
        office.up().await;
        for (name, role) in [("rina", Role::Reporter), ("eko", Role::Editor)] {
            office
                .hub()
                .office()
                .add_user(
                    None,
                    NewUser {
                        username: name.into(),
                        display_name: name.into(),
                        password: PASSWORD.into(),
                        roles: vec![role],
                        unit: "Diskominfo".into(),
                    },
                )
                .unwrap();
        }
        office
    }

    async fn up(&mut self) {
        let config = HubConfig {
            listen: self.listen,
            ..HubConfig::solo(self.dir.path().join("hub"))
        };
        self.hub = Some(
            warta_hub::start(config, Arc::new(SystemClock))
                .await
                .unwrap(),
        );
    }

    async fn down(&mut self) {
        self.hub.take().unwrap().shutdown().await;
    }

    fn hub(&self) -> &RunningHub {
        self.hub.as_ref().unwrap()
    }

    fn url(&self) -> String {
        format!("http://{}", self.listen)
    }

    async fn login(&self, name: &str) -> HubClient {
        let client = HubClient::new(self.url());
        let token = client.login(name, PASSWORD).await.unwrap().token;
        client.with_token(token)
    }

    /// Items whose title is `title`, as the hub's database has them.
    fn items_titled(&self, title: &str) -> Vec<(i64, String)> {
        let conn = rusqlite::Connection::open(self.dir.path().join("hub/warta.db")).unwrap();
        let mut st = conn
            .prepare("SELECT id, step FROM items WHERE title = ?1 ORDER BY id")
            .unwrap();
        st.query_map([title], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

fn outbox(dir: &Path) -> Outbox {
    Outbox::open(&dir.join("outbox.db"), &dir.join("outbox-files.db")).unwrap()
}

fn content(title: &str) -> ItemContent {
    ItemContent {
        title: title.into(),
        summary: "Dari lapangan".into(),
        body: "Isi berita dari kecamatan.".into(),
        category: "Berita".into(),
        tags: vec!["banjir".into()],
        unit: "Diskominfo".into(),
    }
}

/// A camera-like JPEG of `w`×`h` pixels.
fn jpeg(path: &Path, w: u32, h: u32, seed: u32) {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            ((x * 7 + seed * 31) % 256) as u8,
            ((y * 3 + x / 5) % 256) as u8,
            ((x ^ y).wrapping_add(seed) % 256) as u8,
        ])
    });
    img.save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

/// Every change the outbox reported.
#[derive(Default)]
struct Seen(Mutex<Vec<OutboxEntry>>);

impl OutboxEvents for Seen {
    fn changed(&self, entry: &OutboxEntry) {
        self.0.lock().unwrap().push(entry.clone());
    }
}

impl Seen {
    fn of(&self, id: i64) -> Vec<OutboxEntry> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.id == id)
            .cloned()
            .collect()
    }
}

fn key_of(dir: &Path, id: i64) -> String {
    rusqlite::Connection::open(dir.join("outbox.db"))
        .unwrap()
        .query_row("SELECT key FROM entries WHERE id = ?1", [id], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_submission_written_while_the_hub_is_down_arrives_once_it_is_back() {
    let mut office = Office::start().await;
    let rina = office.login("rina").await;
    let local = tempfile::tempdir().unwrap();
    let photos: Vec<PathBuf> = (0..3)
        .map(|n| {
            let p = local.path().join(format!("IMG_000{n}.JPG"));
            jpeg(&p, 1800 + n * 40, 1200, n);
            p
        })
        .collect();
    let outbox = outbox(local.path());

    // The district has no connection: the hub is not there.
    office.down().await;
    let entry = outbox
        .add(
            NewOutboxEntry {
                content: content("Banjir di Sukamaju"),
                submit: true,
                files: photos.iter().map(|p| p.display().to_string()).collect(),
            },
            Utc::now(),
        )
        .unwrap();
    assert_eq!(entry.state, OutboxState::Waiting);
    assert_eq!((entry.files, entry.files_sent, entry.percent), (3, 0, 0));
    assert!(outbox.has_pending().unwrap());

    let seen = Seen::default();
    let report = outbox.send_pending(&rina, &seen, Utc::now).await.unwrap();
    assert_eq!(report.stopped, Some(OutboxProblemCode::Offline));
    assert_eq!(report.received, 0);
    let waiting = outbox.entry(entry.id).unwrap();
    assert_eq!(waiting.state, OutboxState::Waiting);
    assert_eq!(waiting.problem.unwrap().code, OutboxProblemCode::Offline);
    assert_eq!(waiting.item_id, None);

    // Back in the office: the same hub, same address, same data.
    office.up().await;
    let report = outbox.send_pending(&rina, &seen, Utc::now).await.unwrap();
    assert_eq!(report.stopped, None);
    assert_eq!(report.received, 1);
    let received = outbox.entry(entry.id).unwrap();
    assert_eq!(received.state, OutboxState::Received, "{received:?}");
    assert_eq!((received.percent, received.files_sent), (100, 3));
    assert!(received.problem.is_none() && received.received_at.is_some());

    // The office has one item, submitted to the editor, with the three photos.
    let items = office.items_titled("Banjir di Sukamaju");
    assert_eq!(items.len(), 1);
    assert_eq!(Some(items[0].0), received.item_id);
    assert_eq!(items[0].1, "handover", "submitted to the editor");
    let eko = office.login("eko").await;
    let item = eko.item(items[0].0).await.unwrap();
    assert_eq!(item.attachments.len(), 3);

    // The window saw it go: sending, then percents that never went back, then received.
    let states: Vec<_> = seen.of(entry.id).iter().map(|e| e.state).collect();
    assert_eq!(states.first(), Some(&OutboxState::Sending));
    assert_eq!(states.last(), Some(&OutboxState::Received));
    let after_restart: Vec<u8> = seen
        .of(entry.id)
        .iter()
        .skip_while(|e| e.state != OutboxState::Sending || e.item_id.is_none())
        .map(|e| e.percent)
        .collect();
    assert!(
        after_restart.windows(2).all(|w| w[0] <= w[1]),
        "{after_restart:?}"
    );
    assert!(
        after_restart.iter().any(|p| *p > 0 && *p < 100),
        "a percent between 0 and 100 was shown: {after_restart:?}"
    );

    // Nothing left: another round sends nothing and makes no copy.
    assert!(!outbox.has_pending().unwrap());
    let report = outbox.send_pending(&rina, &seen, Utc::now).await.unwrap();
    assert_eq!(report.received, 0);
    assert_eq!(office.items_titled("Banjir di Sukamaju").len(), 1);
}

#[tokio::test]
async fn a_create_or_submit_whose_answer_was_lost_is_not_done_twice() {
    let office = Office::start().await;
    let rina = office.login("rina").await;
    let local = tempfile::tempdir().unwrap();
    let outbox = outbox(local.path());

    // The create reached the hub, the answer did not (the app was killed, the network dropped).
    let lost_create = outbox
        .add(
            NewOutboxEntry {
                content: content("Rapat koordinasi"),
                submit: false,
                files: vec![],
            },
            Utc::now(),
        )
        .unwrap();
    let made = rina
        .create_item_once(
            &content("Rapat koordinasi"),
            &key_of(local.path(), lost_create.id),
        )
        .await
        .unwrap();

    // Create and submit both reached the hub, and neither answer came back.
    let lost_submit = outbox
        .add(
            NewOutboxEntry {
                content: content("Vaksinasi keliling"),
                submit: true,
                files: vec![],
            },
            Utc::now(),
        )
        .unwrap();
    let made_too = rina
        .create_item_once(
            &content("Vaksinasi keliling"),
            &key_of(local.path(), lost_submit.id),
        )
        .await
        .unwrap();
    rina.act(made_too.id, "submit", &ActionRequest::default())
        .await
        .unwrap();

    let report = outbox.send_pending(&rina, &(), Utc::now).await.unwrap();
    assert_eq!((report.received, report.failed), (2, 0));
    assert_eq!(outbox.entry(lost_create.id).unwrap().item_id, Some(made.id));
    assert_eq!(
        outbox.entry(lost_submit.id).unwrap().item_id,
        Some(made_too.id)
    );
    assert_eq!(
        office.items_titled("Rapat koordinasi"),
        vec![(made.id, "collect".to_string())]
    );
    assert_eq!(
        office.items_titled("Vaksinasi keliling"),
        vec![(made_too.id, "handover".to_string())]
    );
}

#[tokio::test]
async fn refusals_and_unreadable_files_fail_only_their_entry_and_can_be_retried() {
    let office = Office::start().await;
    let rina = office.login("rina").await;
    let eko = office.login("eko").await;
    let local = tempfile::tempdir().unwrap();
    let outbox = outbox(local.path());

    // Nothing unusable is kept.
    let empty = outbox.add(
        NewOutboxEntry {
            content: content("   "),
            submit: false,
            files: vec![],
        },
        Utc::now(),
    );
    assert!(matches!(empty, Err(OutboxError::EmptyTitle)));
    let missing = outbox.add(
        NewOutboxEntry {
            content: content("Tanpa foto"),
            submit: false,
            files: vec![local.path().join("tidak-ada.jpg").display().to_string()],
        },
        Utc::now(),
    );
    assert!(
        matches!(missing, Err(OutboxError::File { .. })),
        "{missing:?}"
    );
    assert!(outbox.entries(Utc::now()).unwrap().is_empty());

    // A title the hub refuses (too long), a photo removed before sending, and a good entry.
    let refused = outbox
        .add(
            NewOutboxEntry {
                content: content(&"Judul sangat panjang ".repeat(30)),
                submit: false,
                files: vec![],
            },
            Utc::now(),
        )
        .unwrap();
    let photo = local.path().join("DSC_0042.JPG");
    jpeg(&photo, 900, 600, 7);
    let gone = outbox
        .add(
            NewOutboxEntry {
                content: content("Foto yang hilang"),
                submit: true,
                files: vec![photo.display().to_string()],
            },
            Utc::now(),
        )
        .unwrap();
    std::fs::rename(&photo, local.path().join("moved.jpg")).unwrap();
    let fine = outbox
        .add(
            NewOutboxEntry {
                content: content("Berita yang baik"),
                submit: false,
                files: vec![],
            },
            Utc::now(),
        )
        .unwrap();

    let report = outbox.send_pending(&rina, &(), Utc::now).await.unwrap();
    assert_eq!(
        (report.received, report.failed, report.stopped),
        (1, 2, None)
    );
    let refused = outbox.entry(refused.id).unwrap();
    assert_eq!(refused.state, OutboxState::Failed);
    let why = refused.problem.unwrap();
    assert_eq!(why.code, OutboxProblemCode::Refused);
    assert_eq!(why.hub_code, Some(warta_api::ErrorCode::Validation));
    let gone_now = outbox.entry(gone.id).unwrap();
    assert_eq!(gone_now.state, OutboxState::Failed);
    let why = gone_now.problem.unwrap();
    assert_eq!(why.code, OutboxProblemCode::Files);
    assert!(why.message.contains("DSC_0042.JPG"), "{}", why.message);
    // Not submitted without its photo.
    assert_eq!(office.items_titled("Foto yang hilang")[0].1, "collect");
    assert_eq!(outbox.entry(fine.id).unwrap().state, OutboxState::Received);

    // The photo is back: retrying sends it and submits, on the same item.
    std::fs::rename(local.path().join("moved.jpg"), &photo).unwrap();
    assert_eq!(outbox.retry(gone.id).unwrap().state, OutboxState::Waiting);
    let report = outbox.send_pending(&rina, &(), Utc::now).await.unwrap();
    assert_eq!(report.received, 1);
    let items = office.items_titled("Foto yang hilang");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].1, "handover");
    assert_eq!(eko.item(items[0].0).await.unwrap().attachments.len(), 1);

    // An ended session keeps entries waiting (not failed) until the reporter signs in again.
    let again = outbox
        .add(
            NewOutboxEntry {
                content: content("Setelah keluar"),
                submit: false,
                files: vec![],
            },
            Utc::now(),
        )
        .unwrap();
    let signed_out = HubClient::new(office.url()).with_token("sesi-yang-sudah-berakhir");
    let report = outbox
        .send_pending(&signed_out, &(), Utc::now)
        .await
        .unwrap();
    assert_eq!(report.stopped, Some(OutboxProblemCode::SignedOut));
    let waiting = outbox.entry(again.id).unwrap();
    assert_eq!(waiting.state, OutboxState::Waiting);
    assert_eq!(waiting.problem.unwrap().code, OutboxProblemCode::SignedOut);
    assert!(office.items_titled("Setelah keluar").is_empty());

    // Forgetting entries: received or failed ones go; unknown ids are refused.
    outbox.remove(fine.id).unwrap();
    assert!(matches!(
        outbox.remove(fine.id),
        Err(OutboxError::NotFound(_))
    ));
    outbox.remove(refused.id).unwrap();
    let left: Vec<i64> = outbox
        .entries(Utc::now())
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(left, vec![again.id, gone.id]);
}
