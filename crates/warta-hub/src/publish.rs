//! Publishing targets. The embedded default is a static website folder the hub serves
//! at `/site/`; real CMS targets (WordPress, webhooks) implement the same trait later.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use warta_api::Attachment;

/// Title of the embedded site.
pub const SITE_TITLE: &str = "Warta";

/// An attachment of a page: its metadata and the file the page shows (a photo's web
/// rendition, otherwise the file itself).
#[derive(Debug, Clone)]
pub struct SiteAttachment {
    pub meta: Attachment,
    pub path: PathBuf,
    pub sha256: String,
    pub mime: String,
    /// The name the file is published under: the attachment's, with `.mp4` for a video's
    /// web copy.
    pub filename: String,
    /// For the review preview, which cannot send credentials: a signed hub URL of the bytes.
    pub preview_href: Option<String>,
}

/// Everything a target needs to publish one item version.
#[derive(Debug, Clone)]
pub struct PublishedPage {
    pub item_id: i64,
    pub title: String,
    pub summary: String,
    /// Already sanitised by `warta_render::render_markdown`.
    pub body_html: String,
    pub category: String,
    pub tags: Vec<String>,
    pub unit: String,
    pub published_at: Option<DateTime<Utc>>,
    pub attachments: Vec<SiteAttachment>,
}

/// Where a target put the page.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishReceipt {
    /// Path of the page relative to the site root, e.g. `items/3-banjir-di-samarinda.html`.
    pub path: String,
}

/// A place approved items are published to.
pub trait PublishTarget: Send + Sync {
    /// Publishes (or republishes) the page; idempotent for the same item.
    fn publish(&self, page: &PublishedPage) -> anyhow::Result<PublishReceipt>;
    /// Removes the item's page.
    fn unpublish(&self, item_id: i64) -> anyhow::Result<()>;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct IndexRecord {
    item_id: i64,
    path: String,
    title: String,
    summary: String,
    unit: String,
    published_at: DateTime<Utc>,
}

/// The static website folder: `index.html`, `items/<id>-<slug>.html`, `media/<sha256>.<ext>`.
pub struct StaticSite {
    root: PathBuf,
    /// Serialises publishes so the index is never written by two at once.
    write: std::sync::Mutex<()>,
}

/// URL-safe slug of a title: lowercase ASCII letters and digits joined by dashes.
pub fn slug(title: &str) -> String {
    let mut s = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
        if s.len() >= 60 {
            break;
        }
    }
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() { "item".into() } else { s }
}

pub fn extension_for(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "image/tiff" => "tif",
        "image/heic" | "image/heif" => "heic",
        "application/pdf" => "pdf",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/webm" => "webm",
        "video/x-matroska" => "mkv",
        m if m.contains("wordprocessingml") => "docx",
        m if m.contains("spreadsheetml") => "xlsx",
        m if m.contains("presentationml") => "pptx",
        "application/vnd.oasis.opendocument.text" => "odt",
        "application/vnd.oasis.opendocument.spreadsheet" => "ods",
        "application/vnd.oasis.opendocument.presentation" => "odp",
        _ => "bin",
    }
}

/// Display form of a publication time, in WITA.
pub fn display_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Makassar)
        .format("%d-%m-%Y %H:%M WITA")
        .to_string()
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("path has a parent")?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

impl StaticSite {
    pub fn open(root: PathBuf) -> anyhow::Result<StaticSite> {
        std::fs::create_dir_all(root.join("items"))?;
        std::fs::create_dir_all(root.join("media"))?;
        let site = StaticSite {
            root,
            write: std::sync::Mutex::new(()),
        };
        if !site.root.join("index.html").exists() {
            site.write_index(&[])?;
        }
        Ok(site)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn page_path(page_id: i64, title: &str) -> String {
        format!("items/{page_id}-{}.html", slug(title))
    }

    /// The complete HTML document of a page. `preview` links attachments through their signed
    /// hub URLs instead of the site's media folder.
    pub fn render_page(
        &self,
        page: &PublishedPage,
        now: DateTime<Utc>,
        preview: bool,
    ) -> anyhow::Result<String> {
        let mut hrefs = Vec::new();
        for a in &page.attachments {
            let href = if preview {
                a.preview_href.clone().unwrap_or_else(|| "#".into())
            } else {
                format!("../media/{}.{}", a.sha256, extension_for(&a.mime))
            };
            hrefs.push(href);
        }
        let atts: Vec<warta_render::PageAttachment> = page
            .attachments
            .iter()
            .zip(&hrefs)
            .map(|(a, href)| warta_render::PageAttachment {
                href,
                filename: &a.filename,
                kind: &a.meta.kind,
                mime: &a.mime,
                alt: &a.meta.alt_text,
                caption: &a.meta.caption,
            })
            .collect();
        let when = display_time(page.published_at.unwrap_or(now));
        let html = warta_render::page_html(&warta_render::Page {
            site_title: SITE_TITLE,
            title: &page.title,
            summary: &page.summary,
            body_html: &page.body_html,
            category: &page.category,
            tags: &page.tags,
            unit: &page.unit,
            published_at: Some(&when),
            attachments: &atts,
            lang: "id",
        });
        Ok(html)
    }

    fn manifest(&self) -> anyhow::Result<Vec<IndexRecord>> {
        let p = self.root.join(".published.json");
        if !p.exists() {
            return Ok(vec![]);
        }
        serde_json::from_slice(&std::fs::read(&p)?).context("reading the site manifest")
    }

    fn write_index(&self, records: &[IndexRecord]) -> anyhow::Result<()> {
        let mut sorted: Vec<&IndexRecord> = records.iter().collect();
        sorted.sort_by_key(|r| std::cmp::Reverse(r.published_at));
        let times: Vec<String> = sorted
            .iter()
            .map(|r| display_time(r.published_at))
            .collect();
        let entries: Vec<warta_render::IndexEntry> = sorted
            .iter()
            .zip(&times)
            .map(|(r, t)| warta_render::IndexEntry {
                href: &r.path,
                title: &r.title,
                summary: &r.summary,
                published_at: t,
                unit: &r.unit,
            })
            .collect();
        write_atomically(
            &self.root.join("index.html"),
            warta_render::index_html(SITE_TITLE, &entries, "id").as_bytes(),
        )?;
        write_atomically(
            &self.root.join(".published.json"),
            &serde_json::to_vec_pretty(records)?,
        )
    }
}

impl PublishTarget for StaticSite {
    fn publish(&self, page: &PublishedPage) -> anyhow::Result<PublishReceipt> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let published_at = page.published_at.unwrap_or_else(Utc::now);
        for a in &page.attachments {
            let dest =
                self.root
                    .join("media")
                    .join(format!("{}.{}", a.sha256, extension_for(&a.mime)));
            if !dest.exists() {
                let tmp = dest.with_extension("part");
                std::fs::copy(&a.path, &tmp)
                    .with_context(|| format!("copying {}", a.meta.filename))?;
                std::fs::rename(&tmp, &dest)?;
            }
        }
        let path = Self::page_path(page.item_id, &page.title);
        let html = self.render_page(page, published_at, false)?;
        write_atomically(&self.root.join(&path), html.as_bytes())?;
        let mut records = self.manifest()?;
        if let Some(old) = records.iter().find(|r| r.item_id == page.item_id)
            && old.path != path
        {
            let _ = std::fs::remove_file(self.root.join(&old.path));
        }
        records.retain(|r| r.item_id != page.item_id);
        records.push(IndexRecord {
            item_id: page.item_id,
            path: path.clone(),
            title: page.title.clone(),
            summary: page.summary.clone(),
            unit: page.unit.clone(),
            published_at,
        });
        self.write_index(&records)?;
        Ok(PublishReceipt { path })
    }

    fn unpublish(&self, item_id: i64) -> anyhow::Result<()> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut records = self.manifest()?;
        for r in records.iter().filter(|r| r.item_id == item_id) {
            let _ = std::fs::remove_file(self.root.join(&r.path));
        }
        records.retain(|r| r.item_id != item_id);
        self.write_index(&records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(
            slug("Banjir di Samarinda, 24 Nov!"),
            "banjir-di-samarinda-24-nov"
        );
        assert_eq!(slug("  ??? "), "item");
        assert_eq!(slug("Ürün çalışma"), "r-n-al-ma");
        assert!(slug(&"a".repeat(200)).len() <= 60);
    }
}
