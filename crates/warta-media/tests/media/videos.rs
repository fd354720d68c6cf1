//! Videos: container probing from hand-made files (including 3 GB sparse ones, to prove
//! nothing is read whole), and, where ffmpeg is installed, real encoded videos.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use warta_media::{
    Container, MediaError, VideoInfo, ffmpeg_available, poster_frame, probe_video,
    probe_video_from, transcode_web,
};

// ---------- ISO-BMFF (MP4/MOV) by hand ----------

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

fn full(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    bx(kind, &[&[0, 0, 0, 0], body].concat())
}

fn u32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

const IDENTITY: [u32; 9] = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000];
const ROTATE_90: [u32; 9] = [0, 0x10000, 0, 0xffff_0000, 0, 0, 0, 0, 0x4000_0000];

fn mvhd(timescale: u32, duration: u32) -> Vec<u8> {
    let mut b = u32s(&[0, 0, timescale, duration, 0x10000]);
    b.extend_from_slice(&[1, 0]);
    b.extend_from_slice(&[0; 10]);
    b.extend_from_slice(&u32s(&IDENTITY));
    b.extend_from_slice(&[0; 24]);
    b.extend_from_slice(&u32s(&[3]));
    full(b"mvhd", &b)
}

fn tkhd(width: u32, height: u32, matrix: [u32; 9]) -> Vec<u8> {
    let mut b = u32s(&[0, 0, 1, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(&u32s(&matrix));
    b.extend_from_slice(&u32s(&[width << 16, height << 16]));
    full(b"tkhd", &b)
}

fn visual_entry(format: &[u8; 4], width: u16, height: u16) -> Vec<u8> {
    let mut b = vec![0; 6];
    b.extend_from_slice(&[0, 1]);
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&u32s(&[0x48_0000, 0x48_0000, 0]));
    b.extend_from_slice(&[0, 1]);
    b.extend_from_slice(&[0; 32]);
    b.extend_from_slice(&[0, 0x18, 0xff, 0xff]);
    bx(format, &b)
}

/// An `mp4a` entry whose `esds` names MPEG-4 object type `object_type` (0x40 AAC, 0x6b MP3).
fn mp4a_entry(object_type: u8) -> Vec<u8> {
    let mut b = vec![0; 6];
    b.extend_from_slice(&[0, 1]);
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&[0, 2, 0, 16, 0, 0, 0, 0]);
    b.extend_from_slice(&u32s(&[44100 << 16]));
    let decoder = [object_type, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut es = vec![0x03, 3 + 2 + decoder.len() as u8, 0, 1, 0];
    es.extend_from_slice(&[0x04, decoder.len() as u8]);
    es.extend_from_slice(&decoder);
    b.extend_from_slice(&full(b"esds", &es));
    bx(b"mp4a", &b)
}

fn trak(
    handler: &[u8; 4],
    tkhd_box: Vec<u8>,
    entry: Vec<u8>,
    timescale: u32,
    duration: u32,
) -> Vec<u8> {
    let mdhd = full(
        b"mdhd",
        &[u32s(&[0, 0, timescale, duration]), vec![0x55, 0xc4, 0, 0]].concat(),
    );
    let hdlr = full(
        b"hdlr",
        &[u32s(&[0]), handler.to_vec(), vec![0; 13]].concat(),
    );
    let stsd = full(b"stsd", &[u32s(&[1]), entry].concat());
    // A sample table of the size real ones have, which the probe must skip, not read.
    let stsz = full(b"stsz", &[u32s(&[0, 2000]), vec![0x11; 8000]].concat());
    let stbl = bx(b"stbl", &[stsd, stsz].concat());
    let minf = bx(b"minf", &stbl);
    let mdia = bx(b"mdia", &[mdhd, hdlr, minf].concat());
    bx(b"trak", &[tkhd_box, mdia].concat())
}

/// `moov` of a 2.5 s movie: 640×360 H.264 and AAC (or whatever is given).
fn moov_with(video: Vec<u8>, audio: Option<Vec<u8>>) -> Vec<u8> {
    let mut body = mvhd(1000, 2500);
    body.extend_from_slice(&video);
    if let Some(a) = audio {
        body.extend_from_slice(&a);
    }
    bx(b"moov", &body)
}

fn video_trak(matrix: [u32; 9]) -> Vec<u8> {
    trak(
        b"vide",
        tkhd(640, 360, matrix),
        visual_entry(b"avc1", 640, 360),
        12800,
        32000,
    )
}

fn audio_trak(object_type: u8) -> Vec<u8> {
    trak(
        b"soun",
        tkhd(0, 0, IDENTITY),
        mp4a_entry(object_type),
        44100,
        110250,
    )
}

fn moov() -> Vec<u8> {
    moov_with(video_trak(IDENTITY), Some(audio_trak(0x40)))
}

fn ftyp_box(brand: &[u8; 4]) -> Vec<u8> {
    bx(
        b"ftyp",
        &[
            brand.to_vec(),
            vec![0, 0, 2, 0],
            brand.to_vec(),
            b"mp41".to_vec(),
        ]
        .concat(),
    )
}

fn small_mp4() -> Vec<u8> {
    [ftyp_box(b"isom"), moov(), bx(b"mdat", &[0xab; 300])].concat()
}

fn expected_mp4() -> VideoInfo {
    VideoInfo {
        container: Container::Mp4,
        duration_ms: Some(2500),
        width: Some(640),
        height: Some(360),
        video_codec: Some("h264".into()),
        audio_codec: Some("aac".into()),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn damaged(result: Result<VideoInfo, MediaError>) -> String {
    match result {
        Err(MediaError::Damaged { reason }) => reason,
        other => panic!("expected Damaged, got {other:?}"),
    }
}

#[test]
fn probes_a_hand_made_mp4() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.mp4", &small_mp4());
    let info = probe_video(&path).unwrap();
    assert_eq!(info, expected_mp4());
    assert_eq!(info.codecs().as_deref(), Some("h264 / aac"));
    assert_eq!(info.container.to_string(), "mp4");
}

#[test]
fn probes_mov_rotation_mp3_and_silent_videos() {
    // QuickTime brand, upright phone video (pixels stored sideways), MP3 audio.
    let mov = [
        ftyp_box(b"qt  "),
        bx(b"wide", &[]),
        bx(b"mdat", &[0; 64]),
        moov_with(video_trak(ROTATE_90), Some(audio_trak(0x6b))),
    ]
    .concat();
    let info = probe_video_from(std::io::Cursor::new(mov)).unwrap();
    assert_eq!(info.container, Container::Mov);
    assert_eq!((info.width, info.height), (Some(360), Some(640)));
    assert_eq!(info.audio_codec.as_deref(), Some("mp3"));

    // Sound only (an .m4a renamed .mp4): probed, but no poster or web copy is attempted.
    let dir = tempfile::tempdir().unwrap();
    let sound = [ftyp_box(b"M4A "), moov_with(audio_trak(0x40), None)].concat();
    let sound = write(dir.path(), "sound.mp4", &sound);
    let info = probe_video(&sound).unwrap();
    assert_eq!((info.width, info.codecs().as_deref()), (None, Some("aac")));
    let poster = dir.path().join("p.jpg");
    let reason = damaged(poster_frame(&sound, &poster, 100).map(|()| info.clone()));
    assert_eq!(reason, "the file has no picture track, only sound");

    let silent = [ftyp_box(b"mp42"), moov_with(video_trak(IDENTITY), None)].concat();
    let info = probe_video_from(std::io::Cursor::new(silent)).unwrap();
    assert_eq!(
        (info.audio_codec.clone(), info.codecs()),
        (None, Some("h264".into()))
    );
}

#[test]
fn truncated_mp4s_are_damaged_with_a_clear_reason() {
    let whole = small_mp4();
    // Cut inside the media data (an interrupted copy from the card).
    let reason = damaged(probe_video_from(std::io::Cursor::new(
        &whole[..whole.len() - 100],
    )));
    assert!(reason.contains("copy was probably interrupted"), "{reason}");
    // Cut inside the index.
    let ftyp_len = ftyp_box(b"isom").len();
    let reason = damaged(probe_video_from(std::io::Cursor::new(
        &whole[..ftyp_len + 200],
    )));
    assert!(reason.contains("interrupted"), "{reason}");
    // A recording never finished: media data but no index.
    let no_moov = [ftyp_box(b"isom"), bx(b"mdat", &[0; 100])].concat();
    let reason = damaged(probe_video_from(std::io::Cursor::new(no_moov)));
    assert!(reason.contains("no index"), "{reason}");
    // A box that runs past its parent, and one with an impossible size.
    let mut bad = small_mp4();
    let trak_at = bad.windows(4).position(|w| w == b"trak").unwrap() - 4;
    bad[trak_at..trak_at + 4].copy_from_slice(&0x7fff_0000u32.to_be_bytes());
    let reason = damaged(probe_video_from(std::io::Cursor::new(bad)));
    assert!(reason.contains("runs past"), "{reason}");
    let mut bad = small_mp4();
    bad[ftyp_len..ftyp_len + 4].copy_from_slice(&3u32.to_be_bytes());
    let reason = damaged(probe_video_from(std::io::Cursor::new(bad)));
    assert!(reason.contains("impossible size"), "{reason}");
    // Every prefix of a valid file: an answer or a clear error, never a panic.
    for cut in 0..whole.len() {
        let _ = probe_video_from(std::io::Cursor::new(&whole[..cut]));
    }
}

#[test]
fn what_is_not_a_video_is_refused() {
    for bytes in [b"%PDF-1.4\n".as_slice(), b"", super::PNG] {
        match probe_video_from(std::io::Cursor::new(bytes)) {
            Err(MediaError::RefusedType { reason, .. }) => {
                assert_eq!(reason, "this is not an MP4, MOV, MKV or WebM video")
            }
            other => panic!("{other:?}"),
        }
    }
}

// ---------- Matroska / WebM by hand ----------

/// An EBML element with an 8-byte size (or "unknown size" when `size` is `None`).
fn el_sized(id: u32, body: &[u8], size: Option<u64>) -> Vec<u8> {
    let mut b: Vec<u8> = id
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    match size {
        Some(s) => {
            b.push(0x01);
            b.extend_from_slice(&s.to_be_bytes()[1..]);
        }
        None => b.extend_from_slice(&[0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    }
    b.extend_from_slice(body);
    b
}

fn el(id: u32, body: &[u8]) -> Vec<u8> {
    el_sized(id, body, Some(body.len() as u64))
}

fn uint(id: u32, v: u64) -> Vec<u8> {
    el(id, &v.to_be_bytes())
}

fn ebml_header(doctype: &str) -> Vec<u8> {
    el(
        0x1a45dfa3,
        &[uint(0x4286, 1), el(0x4282, doctype.as_bytes())].concat(),
    )
}

fn info_el(duration: f64) -> Vec<u8> {
    el(
        0x1549a966,
        &[
            uint(0x2ad7b1, 1_000_000),
            el(0x4489, &duration.to_be_bytes()),
        ]
        .concat(),
    )
}

fn tracks_el(video: &str, audio: &str) -> Vec<u8> {
    let v = el(
        0xae,
        &[
            uint(0xd7, 1),
            uint(0x83, 1),
            el(0x86, video.as_bytes()),
            el(0xe0, &[uint(0xb0, 1280), uint(0xba, 720)].concat()),
        ]
        .concat(),
    );
    let a = el(
        0xae,
        &[uint(0xd7, 2), uint(0x83, 2), el(0x86, audio.as_bytes())].concat(),
    );
    el(0x1654ae6b, &[v, a].concat())
}

#[test]
fn probes_a_live_recorded_webm() {
    // As browsers record: Segment and Cluster of unknown size, no Duration.
    let tracks = tracks_el("V_VP9", "A_OPUS");
    let info = el(0x1549a966, &uint(0x2ad7b1, 1_000_000));
    let cluster = el_sized(
        0x1f43b675,
        &[uint(0xe7, 0), vec![0xa3, 0x84, 1, 2, 3, 4]].concat(),
        None,
    );
    let webm = [
        ebml_header("webm"),
        el_sized(0x18538067, &[info, tracks, cluster].concat(), None),
    ]
    .concat();
    let got = probe_video_from(std::io::Cursor::new(webm)).unwrap();
    assert_eq!(
        got,
        VideoInfo {
            container: Container::Webm,
            duration_ms: None,
            width: Some(1280),
            height: Some(720),
            video_codec: Some("vp9".into()),
            audio_codec: Some("opus".into()),
        }
    );
}

#[test]
fn probes_an_mkv_whose_tracks_come_after_an_unsized_cluster_through_its_seek_head() {
    let info = info_el(61_500.0);
    let cluster = el_sized(0x1f43b675, &[0xe7, 0x81, 0x00], None);
    let tracks = tracks_el("V_MPEG4/ISO/AVC", "A_AAC");
    // SeekHead with fixed-width positions, so its own size does not depend on them.
    let seek_head = |tracks_at: u64| {
        el(
            0x114d9b74,
            &el(
                0x4dbb,
                &[
                    el(0x53ab, &[0x16, 0x54, 0xae, 0x6b]),
                    uint(0x53ac, tracks_at),
                ]
                .concat(),
            ),
        )
    };
    let head_len = seek_head(0).len();
    let tracks_at = (head_len + info.len() + cluster.len()) as u64;
    let body = [seek_head(tracks_at), info, cluster, tracks].concat();
    let mkv = [ebml_header("matroska"), el(0x18538067, &body)].concat();
    let got = probe_video_from(std::io::Cursor::new(mkv)).unwrap();
    assert_eq!(got.container, Container::Mkv);
    assert_eq!(got.duration_ms, Some(61_500));
    assert_eq!(got.codecs().as_deref(), Some("h264 / aac"));
    assert_eq!((got.width, got.height), (Some(1280), Some(720)));
}

#[test]
fn broken_matroska_is_damaged_not_a_panic() {
    let header_only = ebml_header("webm");
    assert!(matches!(
        probe_video_from(std::io::Cursor::new(&header_only)),
        Err(MediaError::Damaged { .. })
    ));
    let whole = [
        ebml_header("webm"),
        el(
            0x18538067,
            &[info_el(1000.0), tracks_el("V_VP8", "A_VORBIS")].concat(),
        ),
    ]
    .concat();
    assert_eq!(
        probe_video_from(std::io::Cursor::new(&whole))
            .unwrap()
            .codecs()
            .as_deref(),
        Some("vp8 / vorbis")
    );
    let reason = damaged(probe_video_from(std::io::Cursor::new(
        &whole[..whole.len() - 5],
    )));
    assert!(reason.contains("interrupted"), "{reason}");
    for cut in 0..whole.len() {
        let _ = probe_video_from(std::io::Cursor::new(&whole[..cut]));
    }
    let mut no_segment = whole.clone();
    no_segment[ebml_header("webm").len()] = 0;
    let reason = damaged(probe_video_from(std::io::Cursor::new(no_segment)));
    assert_eq!(reason, "the video's structure is broken");
}

// ---------- 3 GB sparse files: bounded reads and memory ----------

const SPARSE_LEN: u64 = 3 * 1024 * 1024 * 1024;

/// Counts the bytes actually read through it.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Probes `path` through a counting reader; checks few bytes were read and memory stayed low.
fn probe_bounded(path: &Path) -> VideoInfo {
    assert_eq!(std::fs::metadata(path).unwrap().len(), SPARSE_LEN);
    let before = peak_rss_kib();
    let mut reader = Counting {
        inner: File::open(path).unwrap(),
        read: 0,
    };
    let info = probe_video_from(&mut reader).unwrap();
    let grown_kib = peak_rss_kib() - before;
    assert!(
        reader.read < 64 * 1024,
        "read {} bytes of a 3 GB file",
        reader.read
    );
    assert!(grown_kib < 50 * 1024, "peak memory grew by {grown_kib} KiB");
    // And through the path-based entry point.
    assert_eq!(probe_video(path).unwrap(), info);
    info
}

#[test]
fn a_3gb_sparse_mp4_with_the_index_first_is_probed_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mp4");
    let mut f = File::create(&path).unwrap();
    let head = [ftyp_box(b"isom"), moov()].concat();
    f.write_all(&head).unwrap();
    let mdat_len = SPARSE_LEN - head.len() as u64;
    f.write_all(&(mdat_len as u32).to_be_bytes()).unwrap();
    f.write_all(b"mdat").unwrap();
    f.set_len(SPARSE_LEN).unwrap();
    drop(f);
    assert_eq!(probe_bounded(&path), expected_mp4());
}

#[test]
fn a_3gb_sparse_mp4_with_the_index_last_is_probed_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mp4");
    let mut f = File::create(&path).unwrap();
    let ftyp = ftyp_box(b"isom");
    let moov = moov();
    f.write_all(&ftyp).unwrap();
    // A 64-bit size, as cameras write for large media data.
    let mdat_len = SPARSE_LEN - (ftyp.len() + moov.len()) as u64;
    f.write_all(&1u32.to_be_bytes()).unwrap();
    f.write_all(b"mdat").unwrap();
    f.write_all(&mdat_len.to_be_bytes()).unwrap();
    f.seek(SeekFrom::Start(ftyp.len() as u64 + mdat_len))
        .unwrap();
    f.write_all(&moov).unwrap();
    drop(f);
    assert_eq!(probe_bounded(&path), expected_mp4());
}

#[test]
fn a_3gb_sparse_mkv_with_tracks_after_a_huge_cluster_is_probed_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mkv");
    let mut f = File::create(&path).unwrap();
    let header = ebml_header("matroska");
    let info = info_el(3_600_000.0);
    let tracks = tracks_el("V_MPEGH/ISO/HEVC", "A_AC3");
    // header | Segment head (12) | Info | Cluster head (12) + body | Tracks
    let segment_body_len = SPARSE_LEN - header.len() as u64 - 12;
    let cluster_body_len = segment_body_len - info.len() as u64 - 12 - tracks.len() as u64;
    f.write_all(&header).unwrap();
    f.write_all(&el_sized(0x18538067, &[], Some(segment_body_len)))
        .unwrap();
    f.write_all(&info).unwrap();
    f.write_all(&el_sized(0x1f43b675, &[], Some(cluster_body_len)))
        .unwrap();
    f.seek(SeekFrom::Start(SPARSE_LEN - tracks.len() as u64))
        .unwrap();
    f.write_all(&tracks).unwrap();
    drop(f);
    let info = probe_bounded(&path);
    assert_eq!(info.container, Container::Mkv);
    assert_eq!(info.duration_ms, Some(3_600_000));
    assert_eq!(info.codecs().as_deref(), Some("hevc / ac3"));
}

// ---------- real videos, where ffmpeg is installed ----------

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 2-second 320×240 test picture with a tone, encoded as asked.
fn make_video(dir: &Path, name: &str, codecs: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=2:size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=2",
        "-shortest",
    ];
    args.extend_from_slice(codecs);
    args.push(path.to_str().unwrap());
    ffmpeg(&args);
    path
}

fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..2], b"\xff\xd8");
    let mut i = 2;
    while i + 9 < bytes.len() {
        assert_eq!(bytes[i], 0xff);
        let marker = bytes[i + 1];
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        if matches!(marker, 0xc0..=0xc3) {
            let h = u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]);
            let w = u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]);
            return (u32::from(w), u32::from(h));
        }
        i += 2 + len;
    }
    panic!("no frame header in the JPEG");
}

fn top_level_boxes(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        out.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        if size < 8 {
            break;
        }
        at += size;
    }
    out
}

fn near(ms: Option<u64>, want: u64) -> bool {
    ms.is_some_and(|ms| ms.abs_diff(want) <= 100)
}

#[test]
fn real_videos_probe_poster_and_transcode() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("poster.jpg");
    if !ffmpeg_available() {
        println!(
            "note: ffmpeg is not installed; real-video checks skipped, missing-tool error checked"
        );
        let path = write(dir.path(), "a.mp4", &small_mp4());
        let err = poster_frame(&path, &out, 160).unwrap_err();
        assert!(
            matches!(err, MediaError::ToolMissing { tool: "ffmpeg", .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "ffmpeg is not installed; install ffmpeg for video poster frames and web copies"
        );
        let err = transcode_web(&path, &dir.path().join("web.mp4"), 120).unwrap_err();
        assert!(matches!(err, MediaError::ToolMissing { .. }), "{err:?}");
        assert!(!out.exists());
        return;
    }

    let mp4 = make_video(
        dir.path(),
        "a.mp4",
        &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    );
    let info = probe_video(&mp4).unwrap();
    assert_eq!(info.container, Container::Mp4);
    assert!(near(info.duration_ms, 2000), "{info:?}");
    assert_eq!((info.width, info.height), (Some(320), Some(240)));
    assert_eq!(info.codecs().as_deref(), Some("h264 / aac"));

    let webm = make_video(
        dir.path(),
        "a.webm",
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-c:a",
            "libopus",
        ],
    );
    let info = probe_video(&webm).unwrap();
    assert_eq!(info.container, Container::Webm);
    assert!(near(info.duration_ms, 2000), "{info:?}");
    assert_eq!((info.width, info.height), (Some(320), Some(240)));
    assert_eq!(info.codecs().as_deref(), Some("vp9 / opus"));

    let mkv = make_video(dir.path(), "a.mkv", &["-c:v", "libx264", "-c:a", "flac"]);
    let info = probe_video(&mkv).unwrap();
    assert_eq!(info.container, Container::Mkv);
    assert!(near(info.duration_ms, 2000), "{info:?}");
    assert_eq!(info.codecs().as_deref(), Some("h264 / flac"));

    // An upright phone video: stored 320×240 with a 90° turn in the track header.
    // ffmpeg 5 has no option for it, so the matrix is written the way a phone writes it.
    let mov = make_video(dir.path(), "a.mov", &["-c:v", "libx264", "-c:a", "aac"]);
    let mut bytes = std::fs::read(&mov).unwrap();
    let tkhd = bytes.windows(4).position(|w| w == b"tkhd").unwrap();
    assert_eq!(bytes[tkhd + 4], 0, "version 0 track header");
    let matrix = tkhd + 4 + 4 + 20 + 16;
    bytes[matrix..matrix + 36].copy_from_slice(&u32s(&ROTATE_90));
    std::fs::write(&mov, bytes).unwrap();
    let info = probe_video(&mov).unwrap();
    assert_eq!(info.container, Container::Mov);
    assert_eq!((info.width, info.height), (Some(240), Some(320)));

    poster_frame(&mp4, &out, 160).unwrap();
    assert_eq!(jpeg_size(&std::fs::read(&out).unwrap()), (160, 120));
    poster_frame(&webm, &out, 1000).unwrap();
    assert_eq!(
        jpeg_size(&std::fs::read(&out).unwrap()),
        (320, 240),
        "never enlarged"
    );
    poster_frame(&mov, &out, 160).unwrap();
    assert_eq!(
        jpeg_size(&std::fs::read(&out).unwrap()),
        (120, 160),
        "turned upright"
    );

    let web = dir.path().join("web.mp4");
    transcode_web(&webm, &web, 120).unwrap();
    let info = probe_video(&web).unwrap();
    assert_eq!(info.container, Container::Mp4);
    assert_eq!((info.width, info.height), (Some(160), Some(120)));
    assert_eq!(info.codecs().as_deref(), Some("h264 / aac"));
    assert!(near(info.duration_ms, 2000), "{info:?}");
    let boxes = top_level_boxes(&std::fs::read(&web).unwrap());
    let pos = |k: &str| boxes.iter().position(|b| b == k).unwrap();
    assert!(pos("moov") < pos("mdat"), "faststart: {boxes:?}");

    // A file ffmpeg cannot decode: a clear failure and no output.
    let broken = write(dir.path(), "broken.mp4", &small_mp4());
    let out2 = dir.path().join("broken.jpg");
    match poster_frame(&broken, &out2, 160) {
        Err(MediaError::ToolFailed {
            tool: "ffmpeg",
            reason,
        }) => assert!(!reason.is_empty()),
        other => panic!("{other:?}"),
    }
    assert!(!out2.exists());
}
