//! Batch import against a real hub on 127.0.0.1:0: a folder of photos, a PDF and a text file;
//! the office's originals policy; cancelling; and a job killed midway (in a child process) and
//! resumed.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tempfile::TempDir;
use warta_api::{
    ImportProblem, ImportProblemCode, ItemDetail, MediaSettings, NewUser, Role, SendOriginals,
};
use warta_client::HubClient;
use warta_hub::{HubConfig, RunningHub, SystemClock};
use warta_import::{
    FileState, ImportEvent, ImportEvents, ImportJob, ImportQueue, ImportState, RunOptions,
};

const PASSWORD: &str = "kata-sandi-uji-123";

struct Office {
    hub: RunningHub,
    dir: TempDir,
    reporter: HubClient,
    editor: HubClient,
    admin: HubClient,
    item_id: i64,
}

async fn office() -> Office {
    let dir = tempfile::tempdir().unwrap();
    let hub = warta_hub::start(
        HubConfig::solo(dir.path().join("hub")),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    for (name, role) in [
        ("rina", Role::Reporter),
        ("eko", Role::Editor),
        ("admin", Role::Admin),
    ] {
        hub.office()
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
    let login = |name: &'static str| {
        let url = hub.base_url();
        async move {
            let client = HubClient::new(url);
            let token = client.login(name, PASSWORD).await.unwrap().token;
            client.with_token(token)
        }
    };
    let reporter = login("rina").await;
    let editor = login("eko").await;
    let admin = login("admin").await;
    let item: ItemDetail = reqwest::Client::new()
        .post(format!("{}/api/v1/items", hub.base_url()))
        .bearer_auth(reporter.token().unwrap())
        .json(&serde_json::json!({
            "title": "Banjir di Kecamatan Sukamaju",
            "summary": "Foto lapangan",
            "body": "Isi berita.",
            "category": "berita",
            "tags": [],
            "unit": "Diskominfo",
        }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    Office {
        hub,
        dir,
        reporter,
        editor,
        admin,
        item_id: item.id,
    }
}

impl Office {
    async fn set_send_originals(&self, send: SendOriginals) {
        self.media_settings(|s| s.send_originals = send).await;
    }

    /// Changes the office's media settings as its admin.
    async fn media_settings(&self, change: impl FnOnce(&mut MediaSettings)) {
        let mut s: MediaSettings = self.admin.media_settings().await.unwrap();
        change(&mut s);
        reqwest::Client::new()
            .put(format!("{}/api/v1/settings/media", self.hub.base_url()))
            .bearer_auth(self.admin.token().unwrap())
            .json(&s)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    }

    fn queue(&self) -> ImportQueue {
        ImportQueue::open(&self.dir.path().join("import.db")).unwrap()
    }
}

/// Records every event.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<ImportEvent>>,
    /// Set on the first `FileDone`, when given.
    cancel_on_first_done: Option<Arc<AtomicBool>>,
}

impl ImportEvents for Recorder {
    fn emit(&self, ev: ImportEvent) {
        if let (ImportEvent::FileDone { .. }, Some(flag)) = (&ev, &self.cancel_on_first_done) {
            flag.store(true, Ordering::Relaxed);
        }
        self.events.lock().unwrap().push(ev);
    }
}

impl Recorder {
    fn done_paths(&self) -> BTreeSet<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                ImportEvent::FileDone { path, .. } => Some(path.clone()),
                _ => None,
            })
            .collect()
    }

    fn skipped(&self) -> HashMap<String, ImportProblem> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                ImportEvent::FileSkipped { path, problem, .. } => {
                    Some((path.clone(), problem.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn finished(&self) -> Vec<ImportJob> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                ImportEvent::Finished(job) => Some(job.clone()),
                _ => None,
            })
            .collect()
    }
}

// ---------------------------------------------------------------- fixtures

/// A 640×480 JPEG that looks different for each `seed`; with GPS EXIF when `gps`.
fn photo(seed: u32, gps: bool) -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        let band = (x / (40 + seed * 7) + y / (30 + seed * 5)) % 2;
        image::Rgb([
            ((x * (seed + 1)) % 256) as u8,
            ((y * 3 + seed * 40) % 256) as u8,
            if band == 0 { 30 } else { 220 },
        ])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&img)
        .unwrap();
    if gps {
        // Right after SOI: an APP1 Exif segment whose IFD0 points to a GPS IFD (latitude ref S).
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&1u16.to_le_bytes()); // IFD0: one entry
        tiff.extend_from_slice(&0x8825u16.to_le_bytes()); // GPSInfo
        tiff.extend_from_slice(&4u16.to_le_bytes()); // LONG
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&26u32.to_le_bytes()); // GPS IFD offset
        tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
        tiff.extend_from_slice(&1u16.to_le_bytes()); // GPS IFD: one entry
        tiff.extend_from_slice(&1u16.to_le_bytes()); // GPSLatitudeRef
        tiff.extend_from_slice(&2u16.to_le_bytes()); // ASCII
        tiff.extend_from_slice(&2u32.to_le_bytes());
        tiff.extend_from_slice(b"S\0\0\0");
        tiff.extend_from_slice(&0u32.to_le_bytes());
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut seg = vec![0xFF, 0xE1];
        seg.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        seg.extend_from_slice(&app1);
        jpeg.splice(2..2, seg);
    }
    jpeg
}

/// A well-formed one-page PDF.
fn pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
    ];
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A memory card: `photos` JPEGs under `DCIM/100CANON/` (the first two with GPS EXIF), a PDF,
/// a text file, and hidden files that must not even be listed.
fn card(root: &Path, photos: u32) -> PathBuf {
    let card = root.join("card");
    let dcim = card.join("DCIM/100CANON");
    std::fs::create_dir_all(&dcim).unwrap();
    for i in 0..photos {
        std::fs::write(dcim.join(format!("IMG_{:04}.JPG", i + 1)), photo(i, i < 2)).unwrap();
    }
    std::fs::write(card.join("undangan.pdf"), pdf()).unwrap();
    std::fs::write(
        card.join("catatan.txt"),
        "Catatan lapangan, bukan lampiran.\n",
    )
    .unwrap();
    std::fs::write(dcim.join("._IMG_0001.JPG"), photo(99, false)).unwrap();
    std::fs::create_dir_all(card.join(".Trashes")).unwrap();
    std::fs::write(card.join(".Trashes/old.jpg"), photo(98, false)).unwrap();
    card
}

async fn attachments(client: &HubClient, item_id: i64) -> Vec<warta_api::Attachment> {
    client.item(item_id).await.unwrap().attachments
}

/// Every attached file appears exactly once.
fn one_per_file(atts: &[warta_api::Attachment], expected: usize) {
    let mut per_sha: HashMap<&str, usize> = HashMap::new();
    for a in atts {
        *per_sha.entry(&a.sha256).or_default() += 1;
    }
    assert_eq!(per_sha.len(), expected, "distinct files attached");
    assert!(
        per_sha.values().all(|&n| n == 1),
        "a file was attached twice: {per_sha:?}"
    );
}

async fn get_bytes(url: &str) -> Vec<u8> {
    reqwest::get(url)
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

// ---------------------------------------------------------------- tests

/// The desktop shell spawns `run` on its async runtime, which needs a `Send` future.
#[allow(dead_code)]
fn run_is_send(q: &ImportQueue, c: &HubClient, e: &dyn ImportEvents, cancel: &AtomicBool) {
    fn send<T: Send>(_: T) {}
    send(warta_import::run(q, 1, c, e, cancel, RunOptions::default()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_is_attached_once_and_a_second_import_skips_everything() {
    let o = office().await;
    // Renditions smaller than the 640×480 test photos, as 1600 px is of a camera's.
    o.media_settings(|s| {
        s.send_originals = SendOriginals::Never;
        s.web_max = 320;
        s.thumb_max = 64;
    })
    .await;
    let folder = card(o.dir.path(), 12);
    let queue = o.queue();

    let job = queue.enqueue(o.item_id, &folder).unwrap();
    assert_eq!(job.state, ImportState::Queued);
    assert_eq!(
        job.total, 14,
        "12 photos, a PDF and a text file; no hidden files"
    );
    assert_eq!(queue.pending_jobs().unwrap(), vec![job.clone()]);

    let events = Recorder::default();
    let cancel = AtomicBool::new(false);
    let job = warta_import::run(
        &queue,
        job.id,
        &o.reporter,
        &events,
        &cancel,
        RunOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        job.state,
        ImportState::Done,
        "{:?}",
        events.events.lock().unwrap()
    );
    assert_eq!((job.done, job.skipped, job.failed), (13, 1, 0));
    let text = &events.skipped()["catatan.txt"];
    assert_eq!(text.code, ImportProblemCode::Unsupported, "{text:?}");
    assert!(text.message.contains("cannot be attached"), "{text:?}");
    assert_eq!(events.finished(), vec![job.clone()]);
    assert!(queue.pending_jobs().unwrap().is_empty());
    assert!(
        queue
            .files(job.id)
            .unwrap()
            .iter()
            .all(|f| f.sha256.is_some())
    );

    let atts = attachments(&o.editor, o.item_id).await;
    one_per_file(&atts, 13);
    let photos: Vec<_> = atts.iter().filter(|a| a.kind == "photo").collect();
    assert_eq!(photos.len(), 12);
    let originals: u64 = photos.iter().map(|a| a.size as u64).sum();
    assert!(
        job.bytes_sent < originals,
        "only renditions travel: sent {} of {originals} bytes of originals",
        job.bytes_sent
    );
    for a in &photos {
        assert_eq!(a.original_url, None, "the original was not sent: {a:?}");
        assert_eq!(
            (a.width, a.height),
            (Some(320), Some(240)),
            "the web rendition's size"
        );
        let thumb = get_bytes(a.thumb_url.as_deref().expect("a thumbnail")).await;
        assert!(thumb.starts_with(&[0xFF, 0xD8]), "thumbnail is a JPEG");
    }
    let with_gps = photos
        .iter()
        .find(|a| a.filename == "IMG_0001.JPG")
        .unwrap();
    let web = get_bytes(&with_gps.url).await;
    assert!(
        !web.windows(4).any(|w| w == b"Exif"),
        "the web rendition carries no EXIF"
    );
    let doc = atts.iter().find(|a| a.filename == "undangan.pdf").unwrap();
    assert_eq!((doc.kind.as_str(), doc.pages), ("document", Some(1)));

    // The same card again: a new job, nothing travels.
    let again = queue.enqueue(o.item_id, &folder).unwrap();
    let events = Recorder::default();
    let again = warta_import::run(
        &queue,
        again.id,
        &o.reporter,
        &events,
        &cancel,
        RunOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(again.state, ImportState::Done);
    assert_eq!((again.done, again.skipped, again.failed), (0, 14, 0));
    assert_eq!(again.bytes_sent, 0);
    let again_photo = &events.skipped()["DCIM/100CANON/IMG_0003.JPG"];
    assert_eq!(again_photo.code, ImportProblemCode::AlreadyAttached);
    assert_eq!(again_photo.other.as_deref(), Some("IMG_0003.JPG"));
    assert!(
        again_photo.message.contains("already attached"),
        "{again_photo:?}"
    );
    assert_eq!(attachments(&o.editor, o.item_id).await.len(), 13);

    // A done job run again only reports that it is done.
    let events = Recorder::default();
    let same = warta_import::run(
        &queue,
        job.id,
        &o.reporter,
        &events,
        &cancel,
        RunOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(same, job);
    assert_eq!(events.finished(), vec![job]);
    o.hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn originals_travel_when_the_office_says_always() {
    let o = office().await;
    o.set_send_originals(SendOriginals::Always).await;
    let folder = card(o.dir.path(), 2);
    let queue = o.queue();
    let job = queue.enqueue(o.item_id, &folder).unwrap();
    let job = warta_import::run(
        &queue,
        job.id,
        &o.reporter,
        &(),
        &AtomicBool::new(false),
        RunOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!((job.state, job.done), (ImportState::Done, 3));
    let atts = attachments(&o.editor, o.item_id).await;
    let photo = atts.iter().find(|a| a.filename == "IMG_0002.JPG").unwrap();
    let original = get_bytes(photo.original_url.as_deref().expect("original kept")).await;
    assert_eq!(
        original,
        photo_bytes(o.dir.path(), "card/DCIM/100CANON/IMG_0002.JPG")
    );
    o.hub.shutdown().await;
}

/// Files over `resumable_above` go as resumable uploads in chunks: progress is reported per file,
/// the hub gets the same bytes, and no upload address is left on the queue afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_travel_in_chunks_with_progress() {
    let o = office().await;
    o.set_send_originals(SendOriginals::Always).await;
    let folder = card(o.dir.path(), 2);
    let queue = o.queue();
    let job = queue.enqueue(o.item_id, &folder).unwrap();
    let events = Recorder::default();
    let options = RunOptions {
        resumable_above: 100,
        upload: warta_client::UploadOptions {
            chunk_size: 4096,
            ..Default::default()
        },
        ..RunOptions::default()
    };
    let job = warta_import::run(
        &queue,
        job.id,
        &o.reporter,
        &events,
        &AtomicBool::new(false),
        options,
    )
    .await
    .unwrap();
    assert_eq!((job.state, job.done), (ImportState::Done, 3));
    let mut last: HashMap<String, (u64, u64)> = HashMap::new();
    for e in events.events.lock().unwrap().iter() {
        if let ImportEvent::FileProgress {
            path, sent, total, ..
        } = e
        {
            let before = last.insert(path.clone(), (*sent, *total));
            assert!(
                before.is_none_or(|(s, _)| s <= *sent),
                "{path}: {before:?} then {sent}"
            );
        }
    }
    let pdf_len = pdf().len() as u64;
    assert_eq!(last["undangan.pdf"], (pdf_len, pdf_len));
    let original_len = photo_bytes(o.dir.path(), "card/DCIM/100CANON/IMG_0002.JPG").len() as u64;
    assert!(original_len > 4096);
    assert_eq!(
        last["DCIM/100CANON/IMG_0002.JPG"],
        (original_len, original_len)
    );
    let atts = attachments(&o.editor, o.item_id).await;
    let doc = atts.iter().find(|a| a.filename == "undangan.pdf").unwrap();
    assert_eq!((doc.kind.as_str(), doc.pages), ("document", Some(1)));
    let photo = atts.iter().find(|a| a.filename == "IMG_0002.JPG").unwrap();
    let original = get_bytes(photo.original_url.as_deref().expect("original kept")).await;
    assert_eq!(
        original,
        photo_bytes(o.dir.path(), "card/DCIM/100CANON/IMG_0002.JPG")
    );
    let left: i64 = rusqlite::Connection::open(o.dir.path().join("import.db"))
        .unwrap()
        .query_row(
            "SELECT count(*) FROM files WHERE upload_url IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0, "finished files keep no upload address");
    o.hub.shutdown().await;
}

fn photo_bytes(root: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(root.join(rel)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_between_files_and_the_job_resumes() {
    let o = office().await;
    o.set_send_originals(SendOriginals::Never).await;
    let folder = card(o.dir.path(), 6);
    let queue = o.queue();
    let job = queue.enqueue(o.item_id, &folder).unwrap();

    let cancel = Arc::new(AtomicBool::new(false));
    let events = Recorder {
        cancel_on_first_done: Some(cancel.clone()),
        ..Recorder::default()
    };
    let options = RunOptions {
        workers: 1,
        ..RunOptions::default()
    };
    let stopped = warta_import::run(
        &queue,
        job.id,
        &o.reporter,
        &events,
        &cancel,
        options.clone(),
    )
    .await
    .unwrap();
    assert_eq!(stopped.state, ImportState::Cancelled);
    assert!(
        stopped.done >= 1 && stopped.done + stopped.skipped < stopped.total,
        "{stopped:?}"
    );
    let first = events.done_paths();
    assert_eq!(first.len() as u32, stopped.done);
    let pending = queue
        .files(job.id)
        .unwrap()
        .iter()
        .filter(|f| f.state == FileState::Pending)
        .count() as u32;
    assert_eq!(pending, stopped.total - stopped.done - stopped.skipped);
    assert!(
        queue.pending_jobs().unwrap().is_empty(),
        "a cancelled job is not resumed at start-up"
    );

    let events = Recorder::default();
    let resumed = warta_import::run(
        &queue,
        job.id,
        &o.reporter,
        &events,
        &AtomicBool::new(false),
        options,
    )
    .await
    .unwrap();
    assert_eq!(resumed.state, ImportState::Done);
    assert_eq!((resumed.done, resumed.skipped), (7, 1));
    assert!(
        events.done_paths().is_disjoint(&first),
        "finished files are not redone"
    );
    one_per_file(&attachments(&o.reporter, o.item_id).await, 7);
    o.hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_queued_job_and_an_unknown_one() {
    let o = office().await;
    let folder = card(o.dir.path(), 1);
    let queue = o.queue();
    let job = queue.enqueue(o.item_id, &folder).unwrap();
    assert_eq!(
        queue.unfinished_job(o.item_id, &folder).unwrap(),
        Some(job.clone())
    );
    assert_eq!(queue.cancel(job.id).unwrap().state, ImportState::Cancelled);
    assert_eq!(queue.jobs().unwrap()[0].state, ImportState::Cancelled);
    assert!(matches!(
        queue.cancel(999),
        Err(warta_import::ImportError::JobNotFound(999))
    ));
    assert!(
        queue
            .enqueue(o.item_id, &o.dir.path().join("no-such-card"))
            .is_err()
    );
    o.hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_hub_fails_the_job_and_leaves_files_pending() {
    let o = office().await;
    let folder = card(o.dir.path(), 2);
    let queue = o.queue();
    let job = queue.enqueue(o.item_id, &folder).unwrap();
    let client = o.reporter.clone();
    let item_id = o.item_id;
    o.hub.shutdown().await;
    let events = Recorder::default();
    let err = warta_import::run(
        &queue,
        job.id,
        &client,
        &events,
        &AtomicBool::new(false),
        RunOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            warta_import::ImportError::Hub(warta_client::ClientError::Network(_))
        ),
        "{err}"
    );
    let job = queue.job(job.id).unwrap().unwrap();
    assert_eq!(
        (job.state, job.done, job.failed),
        (ImportState::Failed, 0, 0)
    );
    assert_eq!(events.finished(), vec![job.clone()]);
    assert_eq!(job.item_id, item_id);
}

// ------------------------------------------------------- killed and resumed

/// Set in the child process of [`a_killed_import_resumes_without_redoing_files`].
const CHILD: &str = "WARTA_IMPORT_TEST_CHILD";

/// Not a test of its own: the child process that [`a_killed_import_resumes_without_redoing_files`]
/// starts (this test binary again, running only this function) and kills. Prints `done PATH`
/// per attached file. Does nothing when run normally.
#[test]
fn child_process_runs_one_job() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let [url, token, queue_path, job_id]: [&str; 4] =
        spec.split('\n').collect::<Vec<_>>().try_into().unwrap();
    let pause: u64 = std::env::var("WARTA_IMPORT_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);

    struct Lines;
    impl ImportEvents for Lines {
        fn emit(&self, ev: ImportEvent) {
            if let ImportEvent::FileDone { path, .. } = ev {
                let mut out = std::io::stdout().lock();
                writeln!(out, "done {path}").unwrap();
                out.flush().unwrap();
            }
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let queue = ImportQueue::open(Path::new(queue_path)).unwrap();
    let client = HubClient::new(url).with_token(token);
    rt.block_on(warta_import::run(
        &queue,
        job_id.parse().unwrap(),
        &client,
        &Lines,
        &AtomicBool::new(false),
        RunOptions {
            workers: 1,
            pause_between_files: Duration::from_millis(pause),
            ..RunOptions::default()
        },
    ))
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_import_resumes_without_redoing_files() {
    let o = office().await;
    o.set_send_originals(SendOriginals::Never).await;
    let folder = card(o.dir.path(), 12);
    let queue_path = o.dir.path().join("import.db");
    let queue = o.queue();
    let job = queue.enqueue(o.item_id, &folder).unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_process_runs_one_job",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD,
            format!(
                "{}\n{}\n{}\n{}",
                o.hub.base_url(),
                o.reporter.token().unwrap(),
                queue_path.display(),
                job.id
            ),
        )
        .env("WARTA_IMPORT_PAUSE_MS", "400")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reported = tokio::task::spawn_blocking(move || {
        let mut done = Vec::new();
        for line in BufReader::new(stdout).lines() {
            if let Some(path) = line.unwrap().strip_prefix("done ") {
                done.push(path.to_string());
                if done.len() == 3 {
                    break;
                }
            }
        }
        // SIGKILL: no chance to clean up. (A no-op if the child already ended.)
        let _ = child.kill();
        child.wait().unwrap();
        done
    })
    .await
    .unwrap();
    assert_eq!(
        reported.len(),
        3,
        "the child reported three files before it was killed"
    );

    let killed = queue.job(job.id).unwrap().unwrap();
    assert_eq!(killed.state, ImportState::Running, "killed mid-run");
    assert!(killed.done >= 3 && killed.done < 13, "{killed:?}");
    assert_eq!(
        queue.pending_jobs().unwrap(),
        vec![killed.clone()],
        "resumed at start-up"
    );
    let done_before: BTreeSet<String> = queue
        .files(job.id)
        .unwrap()
        .into_iter()
        .filter(|f| f.state == FileState::Done)
        .map(|f| f.path)
        .collect();
    assert!(reported.iter().all(|p| done_before.contains(p)));

    let events = Recorder::default();
    let resumed = warta_import::run(
        &queue,
        job.id,
        &o.reporter,
        &events,
        &AtomicBool::new(false),
        RunOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(resumed.state, ImportState::Done);
    // A file the hub confirmed in the instant before the kill, unrecorded, is found on the
    // item and skipped: still attached once.
    assert_eq!(resumed.done + resumed.skipped, 14);
    assert_eq!(resumed.failed, 0);
    assert!(
        events.done_paths().is_disjoint(&done_before),
        "files done before the kill were not uploaded again"
    );
    one_per_file(&attachments(&o.editor, o.item_id).await, 13);
    o.hub.shutdown().await;
}
