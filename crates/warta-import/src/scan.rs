//! Finding the files of a folder or memory card (camera cards nest them: `DCIM/100CANON/`).

use std::path::Path;

use crate::ImportError;

/// A regular file found under the job's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoundFile {
    /// Relative to the folder, `/`-separated.
    pub path: String,
    pub size: u64,
    pub mtime_ns: i64,
}

/// Folders a card or a Windows disk carries that never hold material.
const SYSTEM_FOLDERS: &[&str] = &["System Volume Information", "$RECYCLE.BIN"];

/// Every regular file under `root`, sorted by path. Hidden files and folders (name starting
/// with `.`, e.g. macOS `._IMG_0001.JPG` resource forks) and symbolic links are left out, so a
/// link cannot pull in files from elsewhere. A sub-folder that cannot be read is left out with
/// a warning; `root` itself must be readable.
pub(crate) fn scan(root: &Path) -> Result<Vec<FoundFile>, ImportError> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(source) if prefix.is_empty() => {
                return Err(ImportError::Io { path: dir, source });
            }
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "folder left out of the import: {e}");
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || SYSTEM_FOLDERS.contains(&name.as_str()) {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                continue;
            };
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if meta.is_dir() {
                stack.push((entry.path(), rel));
            } else if meta.is_file() {
                out.push(FoundFile {
                    path: rel,
                    size: meta.len(),
                    mtime_ns: mtime_ns(&meta),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

pub(crate) fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}
