//! Saving a report the window downloaded from the hub. The shell asks where with the system's
//! save dialog itself, so the webview never names a path on the disk.

use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;

use crate::imports::{Code, CommandError};

/// A file name without folders or characters file systems refuse; `report` when nothing is left.
pub(crate) fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "report".into()
    } else {
        cleaned
    }
}

/// Asks where to save `bytes` (proposing `name`) and writes them there; `None` when the user
/// closes the dialog, else the path written.
#[tauri::command]
pub async fn save_report(
    app: AppHandle,
    name: String,
    bytes: Vec<u8>,
) -> Result<Option<String>, CommandError> {
    let name = safe_file_name(&name);
    tauri::async_runtime::spawn_blocking(move || {
        let Some(picked) = app
            .dialog()
            .file()
            .set_file_name(&name)
            .blocking_save_file()
        else {
            return Ok(None);
        };
        let path = picked.into_path().map_err(|e| {
            CommandError::new(
                Code::UnwritableFile,
                format!("not a file on this computer: {e}"),
            )
        })?;
        std::fs::write(&path, &bytes).map_err(|e| {
            CommandError::new(
                Code::UnwritableFile,
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
        Ok(Some(path.display().to_string()))
    })
    .await
    .map_err(|e| CommandError::new(Code::Internal, e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::safe_file_name;

    #[test]
    fn file_names_lose_folders_and_forbidden_characters() {
        assert_eq!(
            safe_file_name("laporan-kegiatan-2026-11-01-2026-11-30.pdf"),
            "laporan-kegiatan-2026-11-01-2026-11-30.pdf"
        );
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name("a:b?.docx"), "a_b_.docx");
        assert_eq!(safe_file_name("..."), "report");
        assert_eq!(safe_file_name(""), "report");
    }
}
