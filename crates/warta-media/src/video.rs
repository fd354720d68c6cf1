//! Videos: length, frame size and codecs read from the container, and, where `ffmpeg` is
//! installed, a poster frame and a web-size copy.
//!
//! Architecture Invariant: probing never reads a video whole. The container parsers below
//! read box and element headers and seek over everything else (`mdat`, clusters), so the
//! bytes read and the memory used do not grow with the file.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::MediaError;
use crate::tool::{self, FFMPEG};

/// How long `ffmpeg` may take over one poster frame before it is stopped.
pub const POSTER_TIME_LIMIT: Duration = Duration::from_secs(30);

/// How long a web copy may take when the video's length is unknown. With a known length,
/// [`transcode_web`] allows 60 s plus four times that length, and at most 2 hours.
pub const TRANSCODE_TIME_LIMIT: Duration = Duration::from_secs(30 * 60);

/// The video containers we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Container {
    /// ISO MP4 (also 3GP and other ISO-BMFF brands).
    Mp4,
    /// Apple QuickTime.
    Mov,
    /// Matroska.
    Mkv,
    /// WebM (Matroska restricted to web codecs).
    Webm,
}

impl Container {
    /// `mp4`, `mov`, `mkv` or `webm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Mov => "mov",
            Container::Mkv => "mkv",
            Container::Webm => "webm",
        }
    }

    /// The ffmpeg demuxer for this container: naming it stops ffmpeg from guessing the
    /// format on its own and reading the file as something else.
    fn demuxer(self) -> &'static str {
        match self {
            Container::Mp4 | Container::Mov => "mov",
            Container::Mkv | Container::Webm => "matroska",
        }
    }
}

impl fmt::Display for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`probe_video`] read from a video's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoInfo {
    /// The container format.
    pub container: Container,
    /// Length in milliseconds, when the container records it (live recordings such as a
    /// browser's WebM often do not).
    pub duration_ms: Option<u64>,
    /// Frame width in pixels as displayed: a phone video recorded upright reports its
    /// portrait width even though the pixels are stored sideways.
    pub width: Option<u32>,
    /// Frame height in pixels as displayed.
    pub height: Option<u32>,
    /// The first video track's codec in ffmpeg's spelling: `h264`, `hevc`, `vp8`, `vp9`,
    /// `av1`, `mpeg4`, `prores` … (the raw four-character code when unknown).
    pub video_codec: Option<String>,
    /// The first audio track's codec: `aac`, `opus`, `vorbis`, `mp3`, `ac3`, `pcm` …
    pub audio_codec: Option<String>,
}

impl VideoInfo {
    /// The codecs for display, e.g. `h264 / aac`, or just `vp9` for a silent video.
    pub fn codecs(&self) -> Option<String> {
        match (&self.video_codec, &self.audio_codec) {
            (Some(v), Some(a)) => Some(format!("{v} / {a}")),
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            (None, None) => None,
        }
    }
}

/// Reads the container of the video at `path`: MP4/MOV (ISO base media) or MKV/WebM.
/// Only headers are read (a few kilobytes, however large the file); see [`probe_video_from`].
pub fn probe_video(path: &Path) -> Result<VideoInfo, MediaError> {
    probe_video_from(File::open(path)?)
}

/// Like [`probe_video`], from any seekable reader.
///
/// Fails with [`MediaError::RefusedType`] when the bytes are not one of our containers, and
/// with [`MediaError::Damaged`] when the container is broken or cut short: a part that
/// claims to extend past the end of the file (an interrupted copy), or an MP4 without its
/// `moov` index (a recording that was never finished).
pub fn probe_video_from<R: Read + Seek>(mut reader: R) -> Result<VideoInfo, MediaError> {
    let len = reader.seek(SeekFrom::End(0))?;
    let mut head = [0u8; 8];
    reader.seek(SeekFrom::Start(0))?;
    let got = read_up_to(&mut reader, &mut head)?;
    if got >= 4 && head[..4] == EBML_MAGIC {
        return matroska::probe(&mut reader, len);
    }
    if got == 8 && iso::TOP_LEVEL.iter().any(|t| t[..] == head[4..8]) {
        return iso::probe(&mut reader, len);
    }
    Err(MediaError::RefusedType {
        detected: "unknown".to_owned(),
        reason: "this is not an MP4, MOV, MKV or WebM video".to_owned(),
    })
}

/// Whether `ffmpeg` is installed (on `PATH`) and starts. Checked afresh on every call.
pub fn ffmpeg_available() -> bool {
    FFMPEG.available()
}

/// Writes a JPEG poster frame of the video at `path` to `out_jpg`, at most `max_px` pixels
/// on its longer side (never enlarged), taken one second in (the first frame for a video
/// under two seconds). Metadata is not copied into the picture.
///
/// Fails with [`MediaError::ToolMissing`] when `ffmpeg` is not installed, with
/// [`MediaError::ToolFailed`] when it cannot decode the video or runs longer than
/// [`POSTER_TIME_LIMIT`], and as [`probe_video`] does (or with [`MediaError::Damaged`] for a
/// file that has only sound) before ffmpeg is started. `out_jpg` is either the finished
/// picture or untouched.
pub fn poster_frame(path: &Path, out_jpg: &Path, max_px: u32) -> Result<(), MediaError> {
    let info = with_picture(probe_video(path)?)?;
    let max = max_px.max(16);
    let at = match info.duration_ms {
        Some(ms) if ms >= 2000 => "1",
        _ => "0",
    };
    let scratch = tool::scratch_beside(out_jpg)?;
    let made = scratch.path().join("poster.jpg");
    let mut args = ffmpeg_input(path, info.container, &["-ss", at]);
    args.extend(
        [
            "-map",
            "0:v:0",
            "-frames:v",
            "1",
            "-vf",
            &format!(
                "scale=w='min(iw,{max})':h='min(ih,{max})':force_original_aspect_ratio=decrease"
            ),
            "-q:v",
            "3",
            "-map_metadata",
            "-1",
            "-f",
            "image2",
            "-y",
        ]
        .map(tool::os),
    );
    args.push(file_url(&made));
    FFMPEG.run(&args, POSTER_TIME_LIMIT)?;
    tool::finish(FFMPEG, &made, out_jpg)
}

/// Writes a copy of the video at `path` for the web to `out_mp4`: H.264 (yuv420p) and
/// stereo AAC in MP4 with the index at the front (`faststart`, so playback starts before
/// the download ends), at most `max_height` pixels high (never enlarged), first video and
/// audio track only. All metadata, including the location phones record, is dropped.
///
/// Fails like [`poster_frame`]; the time limit is 60 s plus four times the video's length
/// (at most 2 hours), or [`TRANSCODE_TIME_LIMIT`] when the length is unknown.
pub fn transcode_web(path: &Path, out_mp4: &Path, max_height: u32) -> Result<(), MediaError> {
    transcode_web_until(path, out_mp4, max_height, &AtomicBool::new(false))
}

/// Like [`transcode_web`], and stops ffmpeg as soon as `stop` is set (then fails with
/// [`MediaError::Stopped`], leaving `out_mp4` untouched): a hub shutting down does not wait
/// for a long video.
pub fn transcode_web_until(
    path: &Path,
    out_mp4: &Path,
    max_height: u32,
    stop: &AtomicBool,
) -> Result<(), MediaError> {
    let info = with_picture(probe_video(path)?)?;
    let max = max_height.max(16);
    let limit = match info.duration_ms {
        Some(ms) => Duration::from_millis(ms.saturating_mul(4))
            .saturating_add(Duration::from_secs(60))
            .min(Duration::from_secs(2 * 3600)),
        None => TRANSCODE_TIME_LIMIT,
    };
    let scratch = tool::scratch_beside(out_mp4)?;
    let made = scratch.path().join("web.mp4");
    let mut args = ffmpeg_input(path, info.container, &[]);
    args.extend(
        [
            "-map",
            "0:v:0",
            "-map",
            "0:a:0?",
            "-sn",
            "-dn",
            "-map_metadata",
            "-1",
            "-map_chapters",
            "-1",
            "-vf",
            // Even sizes: 4:2:0 H.264 needs them.
            &format!("scale=w=-2:h='trunc(min(ih,{max})/2)*2'"),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-profile:v",
            "high",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-ac",
            "2",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            "-y",
        ]
        .map(tool::os),
    );
    args.push(file_url(&made));
    FFMPEG.run_until(&args, limit, Some(stop))?;
    tool::finish(FFMPEG, &made, out_mp4)
}

/// Refuses a sound-only file before ffmpeg is asked for pictures it cannot make.
fn with_picture(info: VideoInfo) -> Result<VideoInfo, MediaError> {
    if info.video_codec.is_none() {
        return Err(damaged("the file has no picture track, only sound"));
    }
    Ok(info)
}

/// ffmpeg's arguments up to and including the input: no terminal, local files only, the
/// demuxer named, `before_input` (such as a seek) placed where it applies to the input.
fn ffmpeg_input(path: &Path, container: Container, before_input: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file",
    ]
    .map(tool::os)
    .to_vec();
    args.extend(before_input.iter().map(tool::os));
    args.extend(["-f", container.demuxer(), "-i"].map(tool::os));
    args.push(file_url(path));
    args
}

/// `file:PATH`, so no file name is taken for an option or another protocol.
fn file_url(path: &Path) -> OsString {
    let mut url = OsString::from("file:");
    url.push(path.as_os_str());
    url
}

const EBML_MAGIC: [u8; 4] = [0x1a, 0x45, 0xdf, 0xa3];

fn damaged(reason: impl Into<String>) -> MediaError {
    MediaError::Damaged {
        reason: reason.into(),
    }
}

fn cut_short(needed: u64, len: u64) -> MediaError {
    damaged(format!(
        "the video ends after {len} bytes but its contents need {needed}; \
         the copy was probably interrupted, so copy it again from the camera or phone"
    ))
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads `len` bytes at `at`, at most `cap` of them.
fn read_at<R: Read + Seek>(r: &mut R, at: u64, len: u64, cap: usize) -> std::io::Result<Vec<u8>> {
    r.seek(SeekFrom::Start(at))?;
    let want = len.min(cap as u64) as usize;
    let mut buf = vec![0u8; want];
    let got = read_up_to(r, &mut buf)?;
    buf.truncate(got);
    Ok(buf)
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

fn to_ms(duration: u64, units_per_second: u64) -> Option<u64> {
    if units_per_second == 0 || duration == 0 {
        return None;
    }
    u64::try_from(u128::from(duration) * 1000 / u128::from(units_per_second)).ok()
}

/// MP4 and QuickTime: a tree of boxes, `[size: u32][type: 4 bytes]` (+ `u64` size when
/// `size == 1`; to the end of the file when `size == 0`).
mod iso {
    use super::*;

    /// Box types that can open an MP4/MOV file.
    pub(super) const TOP_LEVEL: [&[u8; 4]; 7] = [
        b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot",
    ];

    /// Enough top-level boxes for a fragmented recording of many hours; a file with more is
    /// not worth walking.
    const MAX_TOP_LEVEL_BOXES: u32 = 1_000_000;
    /// Children visited in one box of the `moov` tree.
    const MAX_CHILDREN: u32 = 10_000;

    struct BoxHeader {
        kind: [u8; 4],
        /// Offset of the content, after the header.
        body: u64,
        /// Offset just past the box.
        end: u64,
    }

    fn header<R: Read + Seek>(r: &mut R, at: u64, limit: u64) -> Result<BoxHeader, MediaError> {
        if limit - at < 8 {
            return Err(damaged("a part of the video is too short to be read"));
        }
        let h = read_at(r, at, 16.min(limit - at), 16)?;
        let kind: [u8; 4] = h[4..8].try_into().unwrap_or_default();
        let (size, body) = match be(&h[..4]) {
            0 => (limit - at, at + 8),
            1 if h.len() == 16 => (be(&h[8..16]), at + 16),
            1 => return Err(damaged("a part of the video is too short to be read")),
            size => (size, at + 8),
        };
        if size < body - at {
            return Err(damaged(format!(
                "the part \"{}\" declares an impossible size",
                fourcc(&kind)
            )));
        }
        Ok(BoxHeader {
            kind,
            body,
            end: at.saturating_add(size),
        })
    }

    /// The boxes inside `parent`, checked to lie within it.
    fn children<R: Read + Seek>(
        r: &mut R,
        body: u64,
        end: u64,
        mut each: impl FnMut(&mut R, BoxHeader) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        let mut at = body;
        let mut seen = 0;
        while end.saturating_sub(at) >= 8 && seen < MAX_CHILDREN {
            let b = header(r, at, end)?;
            if b.end > end {
                return Err(damaged(format!(
                    "the part \"{}\" runs past the part that holds it",
                    fourcc(&b.kind)
                )));
            }
            at = b.end;
            seen += 1;
            each(r, b)?;
        }
        Ok(())
    }

    #[derive(Default)]
    struct Movie {
        timescale: u64,
        duration: u64,
        fragment_duration: u64,
        tracks: Vec<Track>,
    }

    #[derive(Default)]
    struct Track {
        handler: [u8; 4],
        display: (u32, u32),
        rotated: bool,
        coded: (u32, u32),
        duration_ms: Option<u64>,
        codec: Option<String>,
    }

    pub(super) fn probe<R: Read + Seek>(r: &mut R, len: u64) -> Result<VideoInfo, MediaError> {
        let mut brand: Option<[u8; 4]> = None;
        let mut first: Option<[u8; 4]> = None;
        let mut movie: Option<Movie> = None;
        let mut at = 0;
        let mut boxes = 0;
        // A few stray bytes after the last box (padding some cameras write) are ignored.
        while len - at >= 8 {
            boxes += 1;
            if boxes > MAX_TOP_LEVEL_BOXES {
                return Err(damaged("the video is made of too many parts to be read"));
            }
            let b = header(r, at, len)?;
            if b.end > len {
                return Err(cut_short(b.end, len));
            }
            first.get_or_insert(b.kind);
            match &b.kind {
                b"ftyp" if brand.is_none() => {
                    let body = read_at(r, b.body, b.end - b.body, 4)?;
                    brand = body.try_into().ok();
                }
                b"moov" if movie.is_none() => movie = Some(read_moov(r, &b)?),
                _ => {}
            }
            at = b.end;
        }
        let Some(movie) = movie else {
            return Err(damaged(
                "the video has no index (\"moov\"); the recording was probably not finished \
                 or the file was cut short",
            ));
        };
        // QuickTime files say `qt  `; old ones have no `ftyp` at all.
        let container = match brand {
            Some(b) if &b == b"qt  " => Container::Mov,
            Some(_) => Container::Mp4,
            None if first.is_some() => Container::Mov,
            None => Container::Mp4,
        };
        let video = movie.tracks.iter().find(|t| &t.handler == b"vide");
        let audio = movie.tracks.iter().find(|t| &t.handler == b"soun");
        let (width, height) = video
            .map(|t| {
                let (w, h) = if t.display.0 > 0 && t.display.1 > 0 {
                    t.display
                } else if t.rotated {
                    (t.coded.1, t.coded.0)
                } else {
                    t.coded
                };
                let nonzero = |v: u32| (v > 0).then_some(v);
                (nonzero(w), nonzero(h))
            })
            .unwrap_or((None, None));
        let duration_ms = to_ms(movie.duration, movie.timescale)
            .or_else(|| to_ms(movie.fragment_duration, movie.timescale))
            .or_else(|| movie.tracks.iter().filter_map(|t| t.duration_ms).max());
        Ok(VideoInfo {
            container,
            duration_ms,
            width,
            height,
            video_codec: video.and_then(|t| t.codec.clone()),
            audio_codec: audio.and_then(|t| t.codec.clone()),
        })
    }

    /// Reads only the small boxes of `moov` that describe the movie and its tracks; the
    /// sample tables (often megabytes) are skipped.
    fn read_moov<R: Read + Seek>(r: &mut R, moov: &BoxHeader) -> Result<Movie, MediaError> {
        let mut movie = Movie::default();
        children(r, moov.body, moov.end, |r, b| {
            match &b.kind {
                b"mvhd" => {
                    let d = read_at(r, b.body, b.end - b.body, 32)?;
                    let (ts, dur) = if d.first() == Some(&1) {
                        (d.get(20..24), d.get(24..32))
                    } else {
                        (d.get(12..16), d.get(16..20))
                    };
                    if let (Some(ts), Some(dur)) = (ts, dur) {
                        movie.timescale = be(ts);
                        movie.duration = unknown_if_all_ones(dur);
                    }
                }
                b"mvex" => children(r, b.body, b.end, |r, b| {
                    if &b.kind == b"mehd" {
                        let d = read_at(r, b.body, b.end - b.body, 12)?;
                        let dur = if d.first() == Some(&1) {
                            d.get(4..12)
                        } else {
                            d.get(4..8)
                        };
                        movie.fragment_duration = dur.map_or(0, unknown_if_all_ones);
                    }
                    Ok(())
                })?,
                b"trak" => movie.tracks.push(read_trak(r, &b)?),
                _ => {}
            }
            Ok(())
        })?;
        Ok(movie)
    }

    fn unknown_if_all_ones(bytes: &[u8]) -> u64 {
        if bytes.iter().all(|b| *b == 0xff) {
            0
        } else {
            be(bytes)
        }
    }

    fn read_trak<R: Read + Seek>(r: &mut R, trak: &BoxHeader) -> Result<Track, MediaError> {
        let mut track = Track::default();
        children(r, trak.body, trak.end, |r, b| {
            match &b.kind {
                b"tkhd" => read_tkhd(&read_at(r, b.body, b.end - b.body, 96)?, &mut track),
                b"mdia" => children(r, b.body, b.end, |r, b| {
                    match &b.kind {
                        b"mdhd" => {
                            let d = read_at(r, b.body, b.end - b.body, 32)?;
                            let (ts, dur) = if d.first() == Some(&1) {
                                (d.get(20..24), d.get(24..32))
                            } else {
                                (d.get(12..16), d.get(16..20))
                            };
                            if let (Some(ts), Some(dur)) = (ts, dur) {
                                track.duration_ms = to_ms(unknown_if_all_ones(dur), be(ts));
                            }
                        }
                        b"hdlr" => {
                            let d = read_at(r, b.body, b.end - b.body, 12)?;
                            if let Some(h) = d.get(8..12) {
                                track.handler = h.try_into().unwrap_or_default();
                            }
                        }
                        b"minf" => children(r, b.body, b.end, |r, b| {
                            if &b.kind == b"stbl" {
                                children(r, b.body, b.end, |r, b| {
                                    if &b.kind == b"stsd" {
                                        let d = read_at(r, b.body, b.end - b.body, 4096)?;
                                        read_stsd(&d, &mut track);
                                    }
                                    Ok(())
                                })?;
                            }
                            Ok(())
                        })?,
                        _ => {}
                    }
                    Ok(())
                })?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(track)
    }

    fn read_tkhd(d: &[u8], track: &mut Track) {
        // After version/flags: times, track id and duration (20 bytes, 32 in version 1),
        // then 16 bytes of layer/volume/reserved, the 3×3 matrix, width and height (16.16).
        let matrix_at = 4 + if d.first() == Some(&1) { 32 } else { 20 } + 16;
        let Some(m) = d.get(matrix_at..matrix_at + 44) else {
            return;
        };
        let (a, b, c, dd) = (be(&m[0..4]), be(&m[4..8]), be(&m[12..16]), be(&m[16..20]));
        track.rotated = a == 0 && dd == 0 && b != 0 && c != 0;
        let (w, h) = ((be(&m[36..40]) >> 16) as u32, (be(&m[40..44]) >> 16) as u32);
        track.display = if track.rotated { (h, w) } else { (w, h) };
    }

    fn read_stsd(d: &[u8], track: &mut Track) {
        // version/flags, entry count, then the first sample entry: size, format, …
        let Some(entry) = d.get(8..) else { return };
        let Some(format) = entry.get(4..8) else {
            return;
        };
        let format: [u8; 4] = format.try_into().unwrap_or_default();
        if let (Some(w), Some(h)) = (entry.get(32..34), entry.get(34..36))
            && &track.handler == b"vide"
        {
            track.coded = (be(w) as u32, be(h) as u32);
        }
        track.codec = Some(codec_name(&format, entry));
    }

    fn codec_name(format: &[u8; 4], entry: &[u8]) -> String {
        let name = match format {
            b"avc1" | b"avc3" => "h264",
            b"hvc1" | b"hev1" => "hevc",
            b"av01" => "av1",
            b"vp08" => "vp8",
            b"vp09" => "vp9",
            b"mp4v" => "mpeg4",
            b"s263" | b"h263" => "h263",
            b"jpeg" | b"mjpa" | b"mjpb" => "mjpeg",
            b"apch" | b"apcn" | b"apcs" | b"apco" | b"ap4h" | b"ap4x" => "prores",
            b"mp4a" => match esds_object_type(entry) {
                Some(0x69 | 0x6b) => "mp3",
                Some(0xa5) => "ac3",
                Some(0xa6) => "eac3",
                Some(0xad) => "opus",
                _ => "aac",
            },
            b"Opus" => "opus",
            b"ac-3" => "ac3",
            b"ec-3" => "eac3",
            b".mp3" => "mp3",
            b"alac" => "alac",
            b"fLaC" => "flac",
            b"samr" => "amr_nb",
            b"sawb" => "amr_wb",
            b"lpcm" | b"sowt" | b"twos" | b"in24" | b"in32" | b"fl32" | b"fl64" | b"raw " => "pcm",
            b"ulaw" => "pcm_mulaw",
            b"alaw" => "pcm_alaw",
            b"encv" | b"enca" => "encrypted",
            other => return fourcc(other),
        };
        name.to_owned()
    }

    /// The MPEG-4 object type in the first `esds` inside a sample entry (it may sit in a
    /// QuickTime `wave` box, hence the search).
    fn esds_object_type(entry: &[u8]) -> Option<u8> {
        let at = entry.windows(4).position(|w| w == b"esds")?;
        let d = entry.get(at + 8..)?; // past the type and version/flags
        let (tag, mut p) = descriptor(d, 0)?;
        if tag != 0x03 {
            return None;
        }
        let flags = *d.get(p + 2)?;
        p += 3;
        if flags & 0x80 != 0 {
            p += 2;
        }
        if flags & 0x40 != 0 {
            p += 1 + usize::from(*d.get(p)?);
        }
        if flags & 0x20 != 0 {
            p += 2;
        }
        let (tag, p) = descriptor(d, p)?;
        (tag == 0x04).then(|| d.get(p).copied())?
    }

    /// A descriptor's tag and where its content starts (the length takes 1–4 bytes).
    fn descriptor(d: &[u8], mut p: usize) -> Option<(u8, usize)> {
        let tag = *d.get(p)?;
        p += 1;
        for _ in 0..4 {
            let b = *d.get(p)?;
            p += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        Some((tag, p))
    }

    pub(super) fn fourcc(kind: &[u8]) -> String {
        let text: String = kind
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() || *b == b' ' {
                    char::from(*b)
                } else {
                    '?'
                }
            })
            .collect();
        text.trim().to_owned()
    }
}

/// Matroska and WebM: EBML elements, `[id: 1–4 bytes][size: 1–8 bytes]`, both
/// variable-length integers. Only the header, `SeekHead`, `Info` and `Tracks` are read.
mod matroska {
    use super::*;

    const EBML: u32 = 0x1a45_dfa3;
    const DOC_TYPE: u32 = 0x4282;
    const SEGMENT: u32 = 0x1853_8067;
    const SEEK_HEAD: u32 = 0x114d_9b74;
    const SEEK: u32 = 0x4dbb;
    const SEEK_ID: u32 = 0x53ab;
    const SEEK_POSITION: u32 = 0x53ac;
    const INFO: u32 = 0x1549_a966;
    const TIMESTAMP_SCALE: u32 = 0x2a_d7b1;
    const DURATION: u32 = 0x4489;
    const TRACKS: u32 = 0x1654_ae6b;
    const TRACK_ENTRY: u32 = 0xae;
    const TRACK_TYPE: u32 = 0x83;
    const CODEC_ID: u32 = 0x86;
    const VIDEO: u32 = 0xe0;
    const PIXEL_WIDTH: u32 = 0xb0;
    const PIXEL_HEIGHT: u32 = 0xba;

    /// Top-level elements walked before giving up on finding `Info` and `Tracks`.
    const MAX_ELEMENTS: u32 = 100_000;
    /// Larger `Info`/`Tracks`/`SeekHead` elements are not believed.
    const MAX_HEADER_ELEMENT: u64 = 16 * 1024 * 1024;

    struct Element {
        id: u32,
        body: u64,
        /// `None`: "unknown size", allowed for a live recording's Segment and Clusters.
        size: Option<u64>,
    }

    /// A variable-length integer: its length is one plus the leading zero bits of the
    /// first byte. IDs keep the marker bit; sizes drop it.
    fn vint(bytes: &[u8], keep_marker: bool) -> Option<(u64, usize, bool)> {
        let first = *bytes.first()?;
        if first == 0 {
            return None;
        }
        let len = first.leading_zeros() as usize + 1;
        let raw = bytes.get(..len)?;
        let value = be(raw);
        let value_bits = 7 * len as u32;
        let mask = (1u64 << value_bits) - 1;
        let all_ones = value & mask == mask;
        Some((
            if keep_marker { value } else { value & mask },
            len,
            all_ones,
        ))
    }

    fn element_at<R: Read + Seek>(r: &mut R, at: u64, len: u64) -> Result<Element, MediaError> {
        let h = read_at(r, at, len.saturating_sub(at), 12)?;
        let broken = || damaged("the video's structure is broken");
        let (id, id_len, _) = vint(&h, true).ok_or_else(broken)?;
        if id_len > 4 {
            return Err(broken());
        }
        let (size, size_len, unknown) = vint(&h[id_len..], false).ok_or_else(broken)?;
        Ok(Element {
            id: id as u32,
            body: at + (id_len + size_len) as u64,
            size: (!unknown).then_some(size),
        })
    }

    /// The elements inside an in-memory element body.
    fn parse(mut body: &[u8]) -> Vec<(u32, &[u8])> {
        let mut out = Vec::new();
        while let Some((id, id_len, _)) = vint(body, true) {
            let Some((size, size_len, unknown)) = body.get(id_len..).and_then(|b| vint(b, false))
            else {
                break;
            };
            let start = id_len + size_len;
            let end = if unknown {
                body.len()
            } else {
                start.saturating_add(size as usize).min(body.len())
            };
            if start > end || id_len > 4 {
                break;
            }
            out.push((id as u32, &body[start..end]));
            body = &body[end..];
        }
        out
    }

    fn uint(d: &[u8]) -> u64 {
        be(&d[..d.len().min(8)])
    }

    fn float(d: &[u8]) -> Option<f64> {
        match d.len() {
            4 => Some(f64::from(f32::from_be_bytes(d.try_into().ok()?))),
            8 => Some(f64::from_be_bytes(d.try_into().ok()?)),
            _ => None,
        }
    }

    #[derive(Default)]
    struct Found {
        duration_ms: Option<u64>,
        info: bool,
        tracks: Option<Vec<TrackEntry>>,
    }

    #[derive(Default)]
    struct TrackEntry {
        kind: u64,
        codec_id: String,
        width: Option<u32>,
        height: Option<u32>,
    }

    pub(super) fn probe<R: Read + Seek>(r: &mut R, len: u64) -> Result<VideoInfo, MediaError> {
        let header = element_at(r, 0, len)?;
        let header_end = match header.size {
            Some(size) if header.id == EBML => header.body + size,
            _ => return Err(damaged("the video's EBML header is broken")),
        };
        if header_end > len {
            return Err(cut_short(header_end, len));
        }
        let head = read_at(r, header.body, header_end - header.body, 4096)?;
        let doc_type = parse(&head)
            .into_iter()
            .find(|(id, _)| *id == DOC_TYPE)
            .map(|(_, d)| String::from_utf8_lossy(d).trim_end_matches('\0').to_owned())
            .unwrap_or_else(|| "matroska".to_owned());
        let container = match doc_type.as_str() {
            "webm" => Container::Webm,
            "matroska" => Container::Mkv,
            other => {
                return Err(MediaError::RefusedType {
                    detected: format!("application/x-ebml; doctype={other}"),
                    reason: "this is not an MKV or WebM video".to_owned(),
                });
            }
        };

        let segment = element_at(r, header_end, len)?;
        if segment.id != SEGMENT {
            return Err(damaged("the video has no Segment after its header"));
        }
        let seg_end = match segment.size {
            Some(size) => segment.body.saturating_add(size),
            None => len,
        };
        if seg_end > len {
            return Err(cut_short(seg_end, len));
        }

        let mut found = Found::default();
        let mut seeks: Vec<(u32, u64)> = Vec::new();
        let mut at = segment.body;
        let mut walked = 0;
        while seg_end.saturating_sub(at) >= 2 && walked < MAX_ELEMENTS {
            walked += 1;
            let e = element_at(r, at, seg_end)?;
            let Some(size) = e.size else {
                // Only a live recording's clusters may have no size; nothing after one can
                // be reached without reading it, so the SeekHead must tell the rest.
                break;
            };
            let end = e.body.saturating_add(size);
            if end > seg_end {
                return Err(cut_short(end, len));
            }
            match e.id {
                SEEK_HEAD => seeks = read_seek_head(r, &e, size)?,
                INFO | TRACKS => read_header_element(r, &e, size, &mut found)?,
                _ => {}
            }
            if found.info && found.tracks.is_some() {
                break;
            }
            at = end;
        }
        for (id, position) in seeks {
            let wanted = match id {
                INFO => !found.info,
                TRACKS => found.tracks.is_none(),
                _ => false,
            };
            let at = segment.body.saturating_add(position);
            if !wanted || at >= seg_end {
                continue;
            }
            let e = element_at(r, at, seg_end)?;
            if e.id == id
                && let Some(size) = e.size
            {
                if e.body.saturating_add(size) > len {
                    return Err(cut_short(e.body.saturating_add(size), len));
                }
                read_header_element(r, &e, size, &mut found)?;
            }
        }

        let Some(tracks) = found.tracks else {
            return Err(damaged(
                "the video has no track list; the file is incomplete or not a real video",
            ));
        };
        let video = tracks.iter().find(|t| t.kind == 1);
        let audio = tracks.iter().find(|t| t.kind == 2);
        Ok(VideoInfo {
            container,
            duration_ms: found.duration_ms,
            width: video.and_then(|t| t.width),
            height: video.and_then(|t| t.height),
            video_codec: video.map(|t| codec_name(&t.codec_id)),
            audio_codec: audio.map(|t| codec_name(&t.codec_id)),
        })
    }

    fn read_body<R: Read + Seek>(r: &mut R, e: &Element, size: u64) -> Result<Vec<u8>, MediaError> {
        if size > MAX_HEADER_ELEMENT {
            return Err(damaged("the video's header claims an implausible size"));
        }
        Ok(read_at(r, e.body, size, size as usize)?)
    }

    fn read_seek_head<R: Read + Seek>(
        r: &mut R,
        e: &Element,
        size: u64,
    ) -> Result<Vec<(u32, u64)>, MediaError> {
        let body = read_body(r, e, size)?;
        Ok(parse(&body)
            .into_iter()
            .filter(|(id, _)| *id == SEEK)
            .filter_map(|(_, seek)| {
                let fields = parse(seek);
                let id = fields.iter().find(|(i, _)| *i == SEEK_ID)?.1;
                let pos = fields.iter().find(|(i, _)| *i == SEEK_POSITION)?.1;
                Some((be(&id[..id.len().min(4)]) as u32, uint(pos)))
            })
            .collect())
    }

    fn read_header_element<R: Read + Seek>(
        r: &mut R,
        e: &Element,
        size: u64,
        found: &mut Found,
    ) -> Result<(), MediaError> {
        let body = read_body(r, e, size)?;
        let fields = parse(&body);
        if e.id == INFO {
            found.info = true;
            let scale = fields
                .iter()
                .find(|(id, _)| *id == TIMESTAMP_SCALE)
                .map_or(1_000_000, |(_, d)| uint(d));
            found.duration_ms = fields
                .iter()
                .find(|(id, _)| *id == DURATION)
                .and_then(|(_, d)| float(d))
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| (d * scale as f64 / 1_000_000.0).round() as u64);
        } else {
            let entries = fields
                .iter()
                .filter(|(id, _)| *id == TRACK_ENTRY)
                .map(|(_, entry)| {
                    let mut t = TrackEntry::default();
                    for (id, d) in parse(entry) {
                        match id {
                            TRACK_TYPE => t.kind = uint(d),
                            CODEC_ID => {
                                t.codec_id =
                                    String::from_utf8_lossy(d).trim_end_matches('\0').to_owned();
                            }
                            VIDEO => {
                                for (id, d) in parse(d) {
                                    let v = u32::try_from(uint(d)).ok().filter(|v| *v > 0);
                                    match id {
                                        PIXEL_WIDTH => t.width = v,
                                        PIXEL_HEIGHT => t.height = v,
                                        _ => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                    t
                })
                .collect();
            found.tracks = Some(entries);
        }
        Ok(())
    }

    fn codec_name(codec_id: &str) -> String {
        let name = match codec_id {
            "V_VP8" => "vp8",
            "V_VP9" => "vp9",
            "V_AV1" => "av1",
            "V_MPEG4/ISO/AVC" => "h264",
            "V_MPEGH/ISO/HEVC" => "hevc",
            "V_THEORA" => "theora",
            "V_MJPEG" => "mjpeg",
            "V_PRORES" => "prores",
            "A_OPUS" => "opus",
            "A_VORBIS" => "vorbis",
            "A_MPEG/L3" => "mp3",
            "A_AC3" => "ac3",
            "A_EAC3" => "eac3",
            "A_FLAC" => "flac",
            id if id.starts_with("V_MPEG4/ISO/") => "mpeg4",
            id if id.starts_with("A_AAC") => "aac",
            id if id.starts_with("A_PCM/") => "pcm",
            other => return iso::fourcc(other.to_ascii_lowercase().as_bytes()),
        };
        name.to_owned()
    }
}
