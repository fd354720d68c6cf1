//! Running the external programs we lean on (`pdftoppm`, `ffmpeg`) with a time limit.
//!
//! They are found on `PATH` when needed, never at start-up, so a program installed while the
//! app runs is used at once. Every output is first written next to its destination under a
//! temporary name and renamed into place only when the program succeeded, so a destination
//! never holds a half-written file.

use std::ffi::{OsStr, OsString};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::MediaError;

/// An external program, with what to tell the operator when it is missing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tool {
    pub name: &'static str,
    pub package: &'static str,
    pub purpose: &'static str,
}

pub(crate) const PDFTOPPM: Tool = Tool {
    name: "pdftoppm",
    package: "poppler-utils",
    purpose: "PDF previews",
};

pub(crate) const FFMPEG: Tool = Tool {
    name: "ffmpeg",
    package: "ffmpeg",
    purpose: "video poster frames and web copies",
};

/// How much of a program's error output is kept for the message.
const STDERR_KEEP: usize = 16 * 1024;

impl Tool {
    fn missing(self) -> MediaError {
        MediaError::ToolMissing {
            tool: self.name,
            package: self.package,
            purpose: self.purpose,
        }
    }

    pub(crate) fn failed(self, reason: impl Into<String>) -> MediaError {
        MediaError::ToolFailed {
            tool: self.name,
            reason: reason.into(),
        }
    }

    /// Whether the program can be started at all (`NAME -version` exits).
    pub(crate) fn available(self) -> bool {
        Command::new(self.name)
            .arg("-version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    }

    /// Runs the program with `args`, killing it once `limit` has passed.
    pub(crate) fn run(self, args: &[OsString], limit: Duration) -> Result<(), MediaError> {
        self.run_until(args, limit, None)
    }

    /// Like [`Self::run`], and kills the program as soon as `stop` is set
    /// ([`MediaError::Stopped`]).
    pub(crate) fn run_until(
        self,
        args: &[OsString],
        limit: Duration,
        stop: Option<&AtomicBool>,
    ) -> Result<(), MediaError> {
        let mut child = match Command::new(self.name)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(self.missing()),
            Err(e) => return Err(self.failed(format!("it could not be started: {e}"))),
        };
        // Read stderr on a thread so a chatty program never blocks on a full pipe.
        let stderr = child.stderr.take().map(|mut pipe| {
            thread::spawn(move || {
                // The end matters: programs say why they failed last.
                let mut kept = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    kept.extend_from_slice(&buf[..n]);
                    if kept.len() > 2 * STDERR_KEEP {
                        kept.drain(..kept.len() - STDERR_KEEP);
                    }
                }
                kept
            })
        });
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(MediaError::Stopped);
            }
            if started.elapsed() >= limit {
                let _ = child.kill();
                let _ = child.wait();
                return Err(self.failed(format!("it took longer than {limit:?} and was stopped")));
            }
            thread::sleep(Duration::from_millis(20));
        };
        let stderr = stderr
            .and_then(|t| t.join().ok())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        if status.success() {
            Ok(())
        } else {
            Err(self.failed(last_words(&stderr, status)))
        }
    }
}

/// The last non-empty line a program printed, or its exit status when it said nothing.
fn last_words(stderr: &str, status: std::process::ExitStatus) -> String {
    let line = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("");
    if line.is_empty() {
        format!("it stopped with {status}")
    } else {
        line.chars().take(300).collect()
    }
}

/// A path as an argument that cannot be taken for an option (`-x.pdf` becomes `./-x.pdf`).
pub(crate) fn path_arg(path: &Path) -> OsString {
    if path.is_relative() {
        Path::new(".").join(path).into_os_string()
    } else {
        path.as_os_str().to_owned()
    }
}

/// A folder next to `dest` for a program's output, removed on drop, so the final rename
/// stays on one file system.
pub(crate) fn scratch_beside(dest: &Path) -> Result<TempDir, MediaError> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(tempfile::Builder::new()
        .prefix(".warta-media-")
        .tempdir_in(parent)?)
}

/// Moves a finished output into place, after checking the program really wrote something.
pub(crate) fn finish(tool: Tool, made: &Path, dest: &Path) -> Result<(), MediaError> {
    match std::fs::metadata(made) {
        Ok(m) if m.len() > 0 => Ok(std::fs::rename(made, dest)?),
        _ => Err(tool.failed("it finished but wrote no output")),
    }
}

pub(crate) fn os(s: impl AsRef<OsStr>) -> OsString {
    s.as_ref().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SH: Tool = Tool {
        name: "sh",
        package: "dash",
        purpose: "tests",
    };

    fn sh(script: &str, limit: Duration) -> Result<(), MediaError> {
        SH.run(&[os("-c"), os(script)], limit)
    }

    #[test]
    fn a_missing_program_is_its_own_error() {
        let absent = Tool {
            name: "warta-no-such-program",
            package: "warta-nothing",
            purpose: "nothing",
        };
        let err = absent.run(&[], Duration::from_secs(5)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "warta-no-such-program is not installed; install warta-nothing for nothing"
        );
        assert!(!absent.available());
    }

    #[test]
    fn failures_carry_the_last_line_the_program_printed() {
        sh("exit 0", Duration::from_secs(5)).unwrap();
        let err = sh(
            "echo one >&2; echo 'bad input file' >&2; echo >&2; exit 3",
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "sh could not process the file: bad input file"
        );
        let err = sh("exit 4", Duration::from_secs(5)).unwrap_err();
        assert!(err.to_string().contains("exit status: 4"), "{err}");
    }

    #[test]
    fn a_program_over_its_time_limit_is_stopped() {
        let started = Instant::now();
        let err = sh("exec sleep 30", Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            err.to_string()
                .contains("took longer than 300ms and was stopped"),
            "{err}"
        );
    }

    #[test]
    fn a_program_is_stopped_when_asked() {
        let stop = AtomicBool::new(false);
        let err = thread::scope(|s| {
            let run = s.spawn(|| {
                SH.run_until(
                    &[os("-c"), os("exec sleep 30")],
                    Duration::from_secs(60),
                    Some(&stop),
                )
            });
            thread::sleep(Duration::from_millis(100));
            stop.store(true, Ordering::Relaxed);
            run.join().expect("no panic")
        })
        .unwrap_err();
        assert!(matches!(err, MediaError::Stopped), "{err:?}");
    }

    #[test]
    fn lots_of_error_output_does_not_block() {
        let err = sh(
            "i=0; while [ $i -lt 20000 ]; do echo 'noise noise noise noise' >&2; i=$((i+1)); done; echo last >&2; exit 1",
            Duration::from_secs(60),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "sh could not process the file: last");
    }

    #[test]
    fn paths_never_look_like_options() {
        assert_eq!(path_arg(Path::new("-x.pdf")), OsString::from("./-x.pdf"));
        assert_eq!(
            path_arg(Path::new("/tmp/-x.pdf")),
            OsString::from("/tmp/-x.pdf")
        );
    }
}
