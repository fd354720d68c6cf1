//! Reading a whole WordPress site back (for the hub's site backups) and putting posts, pages,
//! terms and files back (for restores), through the same REST API v2 and application password
//! as publishing.
//!
//! What a backup keeps of each object is a plain, deterministic record ([`SitePost`],
//! [`SiteTerm`], [`SiteMedia`]): raw content (`context=edit`), no counters or rendered HTML, so
//! an object that did not change serialises to the same bytes and the hub's content-addressed
//! store keeps it once.
//!
//! Files are downloaded only from the site's own host (a media address elsewhere, which a
//! compromised site could point anywhere, is not fetched; redirects are not followed), streamed
//! to the caller's writer and cut at a size limit.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{ALL_STATUSES, ApiError, WordPress, plain_text};
use crate::PublishError;

/// Objects read per request.
const PAGE_SIZE: usize = 100;
/// Pages of a listing read at most (100 × 500 = 50,000 objects of a kind).
const MAX_PAGES: usize = 500;

/// A post or a page as a backup keeps it: what is needed to put it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SitePost {
    pub id: i64,
    /// `post` or `page`.
    pub kind: String,
    pub slug: String,
    pub status: String,
    pub date_gmt: Option<String>,
    pub modified_gmt: Option<String>,
    /// Raw title, content and excerpt (as edited, not as displayed).
    pub title: String,
    pub content: String,
    pub excerpt: String,
    pub author: i64,
    pub featured_media: i64,
    pub parent: i64,
    pub menu_order: i64,
    pub comment_status: String,
    pub ping_status: String,
    pub sticky: bool,
    pub template: String,
    pub format: String,
    /// The post's own password (a protected post), not a credential of ours.
    pub password: String,
    pub categories: Vec<i64>,
    pub tags: Vec<i64>,
    /// Registered post meta, as the REST API shows it.
    pub meta: Value,
    /// Public address when it was read.
    pub link: String,
}

/// A category or tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteTerm {
    /// `category` or `post_tag`.
    pub taxonomy: String,
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub parent: i64,
}

/// A file of the media library, without its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteMedia {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub alt_text: String,
    pub caption: String,
    pub description: String,
    /// The post it is attached to.
    pub post: Option<i64>,
    pub mime_type: String,
    pub source_url: String,
    pub date_gmt: Option<String>,
}

/// Which listing: posts or pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    Post,
    Page,
}

impl PostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PostKind::Post => "post",
            PostKind::Page => "page",
        }
    }

    pub fn parse(s: &str) -> Option<PostKind> {
        match s {
            "post" => Some(PostKind::Post),
            "page" => Some(PostKind::Page),
            _ => None,
        }
    }

    fn endpoint(self) -> &'static str {
        match self {
            PostKind::Post => "posts",
            PostKind::Page => "pages",
        }
    }
}

fn raw(v: &Value, field: &str) -> String {
    match &v[field] {
        Value::String(s) => s.clone(),
        o => o["raw"].as_str().unwrap_or_default().to_string(),
    }
}

fn ids(v: &Value) -> Vec<i64> {
    let mut out: Vec<i64> = v
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    out.sort_unstable();
    out
}

fn text(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_default().to_string()
}

/// Meta as an object with sorted keys (an empty list, as WordPress writes "no meta", is `{}`).
fn meta_of(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: std::collections::BTreeMap<String, Value> = m.clone().into_iter().collect();
            Value::Object(sorted.into_iter().collect::<Map<_, _>>())
        }
        _ => Value::Object(Map::new()),
    }
}

impl SitePost {
    fn from_wp(kind: PostKind, v: &Value) -> SitePost {
        SitePost {
            id: v["id"].as_i64().unwrap_or_default(),
            kind: kind.as_str().to_string(),
            slug: text(v, "slug"),
            status: text(v, "status"),
            date_gmt: v["date_gmt"].as_str().map(str::to_string),
            modified_gmt: v["modified_gmt"].as_str().map(str::to_string),
            title: raw(v, "title"),
            content: raw(v, "content"),
            excerpt: raw(v, "excerpt"),
            author: v["author"].as_i64().unwrap_or_default(),
            featured_media: v["featured_media"].as_i64().unwrap_or_default(),
            parent: v["parent"].as_i64().unwrap_or_default(),
            menu_order: v["menu_order"].as_i64().unwrap_or_default(),
            comment_status: text(v, "comment_status"),
            ping_status: text(v, "ping_status"),
            sticky: v["sticky"].as_bool().unwrap_or(false),
            template: text(v, "template"),
            format: text(v, "format"),
            password: text(v, "password"),
            categories: ids(&v["categories"]),
            tags: ids(&v["tags"]),
            meta: meta_of(&v["meta"]),
            link: text(v, "link"),
        }
    }

    /// Whether the editable content equals `other`'s (ignoring the id, dates WordPress sets
    /// by itself, and the address).
    pub fn same_content(&self, other: &SitePost) -> bool {
        self.title == other.title
            && self.content == other.content
            && self.excerpt == other.excerpt
            && self.status == other.status
            && self.slug.trim_end_matches("__trashed") == other.slug.trim_end_matches("__trashed")
            && self.featured_media == other.featured_media
            && self.categories == other.categories
            && self.tags == other.tags
            && self.password == other.password
    }
}

impl WordPress {
    /// Every object of a listing (`posts`, `pages`, `media`, `categories`, `tags`), page by
    /// page, in id order.
    fn list_all(
        &self,
        doing: &str,
        path: &str,
        with_status: bool,
    ) -> Result<Vec<Value>, PublishError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let mut query = vec![
                ("context", "edit".to_string()),
                ("per_page", PAGE_SIZE.to_string()),
                ("page", page.to_string()),
                ("orderby", "id".to_string()),
                ("order", "asc".to_string()),
            ];
            if with_status {
                query.push(("status", ALL_STATUSES.to_string()));
            }
            let v = match self.call(Method::GET, path, &query, None) {
                Ok(v) => v,
                // Asking for a page past the end.
                Err(ApiError::Status {
                    status: 400, code, ..
                }) if code == "rest_post_invalid_page_number" => {
                    break;
                }
                Err(e) => return Err(self.fail(doing, e)),
            };
            let Value::Array(items) = v else {
                return Err(PublishError::Rejected(format!(
                    "{doing}: WordPress answered in an unexpected form (not a list)"
                )));
            };
            let n = items.len();
            out.extend(items);
            if n < PAGE_SIZE {
                break;
            }
        }
        Ok(out)
    }

    /// Every post or page this account may edit, in any status (the trash included).
    pub fn list_posts(&self, kind: PostKind) -> Result<Vec<SitePost>, PublishError> {
        let doing = format!("reading the {}s", kind.as_str());
        Ok(self
            .list_all(&doing, kind.endpoint(), true)?
            .iter()
            .map(|v| SitePost::from_wp(kind, v))
            .collect())
    }

    /// Every category (`categories`) or tag (`tags`).
    pub fn list_terms(&self, endpoint: &str) -> Result<Vec<SiteTerm>, PublishError> {
        let taxonomy = if endpoint == "categories" {
            "category"
        } else {
            "post_tag"
        };
        let doing = format!("reading the {endpoint}");
        let mut terms: Vec<SiteTerm> = self
            .list_all(&doing, endpoint, false)?
            .iter()
            .map(|v| SiteTerm {
                taxonomy: taxonomy.into(),
                id: v["id"].as_i64().unwrap_or_default(),
                name: plain_text(v["name"].as_str().unwrap_or_default()),
                slug: text(v, "slug"),
                description: text(v, "description"),
                parent: v["parent"].as_i64().unwrap_or_default(),
            })
            .collect();
        terms.sort_by_key(|t| t.id);
        Ok(terms)
    }

    fn media_from(v: &Value) -> SiteMedia {
        SiteMedia {
            id: v["id"].as_i64().unwrap_or_default(),
            slug: text(v, "slug"),
            title: raw(v, "title"),
            alt_text: text(v, "alt_text"),
            caption: raw(v, "caption"),
            description: raw(v, "description"),
            post: v["post"].as_i64(),
            mime_type: text(v, "mime_type"),
            source_url: text(v, "source_url"),
            date_gmt: v["date_gmt"].as_str().map(str::to_string),
        }
    }

    /// Every file of the media library (its metadata).
    pub fn list_media(&self) -> Result<Vec<SiteMedia>, PublishError> {
        Ok(self
            .list_all("reading the media library", "media", false)?
            .iter()
            .map(Self::media_from)
            .collect())
    }

    /// Whether `url` is on the site's own host (and http(s)).
    pub fn on_site(&self, url: &str) -> bool {
        let (Ok(u), Ok(site)) = (
            reqwest::Url::parse(url),
            reqwest::Url::parse(&self.settings.site_url),
        ) else {
            return false;
        };
        matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some()
            && u.host_str() == site.host_str()
            && u.port_or_known_default() == site.port_or_known_default()
    }

    /// Downloads a file of the media library into `out`, at most `max_bytes`; a bigger file
    /// fails without reading the rest. Only from the site's own host.
    pub fn download_media(
        &self,
        media: &SiteMedia,
        out: &mut dyn Write,
        max_bytes: u64,
    ) -> Result<u64, PublishError> {
        let doing = format!("downloading the file \"{}\"", media.slug);
        if !self.on_site(&media.source_url) {
            return Err(PublishError::Rejected(format!(
                "{doing}: its address {} is not on the site's own host, so it is not fetched",
                media.source_url
            )));
        }
        let resp = self
            .api
            .get(&media.source_url)
            .timeout(self.settings.request_timeout + Duration::from_secs(600))
            .send()
            .map_err(|e| self.fail(&doing, ApiError::transport(e)))?;
        let status = resp.status();
        if !status.is_success() {
            let err = if status.is_server_error() {
                PublishError::Unavailable(format!("{doing}: the site answered {status}"))
            } else {
                PublishError::Rejected(format!("{doing}: the site answered {status}"))
            };
            return Err(err);
        }
        if resp.content_length().is_some_and(|n| n > max_bytes) {
            return Err(PublishError::Rejected(format!(
                "{doing}: the file is larger than the backup's limit of {max_bytes} bytes"
            )));
        }
        let mut limited = resp.take(max_bytes + 1);
        let mut buf = vec![0u8; 64 * 1024];
        let mut total: u64 = 0;
        loop {
            let n = limited
                .read(&mut buf)
                .map_err(|e| PublishError::Unavailable(format!("{doing}: {e}")))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > max_bytes {
                return Err(PublishError::Rejected(format!(
                    "{doing}: the file is larger than the backup's limit of {max_bytes} bytes"
                )));
            }
            out.write_all(&buf[..n])
                .map_err(|e| PublishError::Local(format!("{doing}: {e}")))?;
        }
        Ok(total)
    }

    /// The post or page `id` as it is now (`None` when it was deleted for good).
    pub fn read_post(&self, kind: PostKind, id: i64) -> Result<Option<SitePost>, PublishError> {
        let doing = format!("reading the {} {id}", kind.as_str());
        match self.call(
            Method::GET,
            &format!("{}/{id}", kind.endpoint()),
            &[("context", "edit".into())],
            None,
        ) {
            Ok(v) => Ok(Some(SitePost::from_wp(kind, &v))),
            Err(ApiError::Status {
                status: 404 | 410, ..
            }) => Ok(None),
            Err(e) => Err(self.fail(&doing, e)),
        }
    }

    /// The file `id` of the media library as it is now (`None` when it was deleted).
    pub fn read_media(&self, id: i64) -> Result<Option<SiteMedia>, PublishError> {
        match self.call(
            Method::GET,
            &format!("media/{id}"),
            &[("context", "edit".into())],
            None,
        ) {
            Ok(v) => Ok(Some(Self::media_from(&v))),
            Err(ApiError::Status {
                status: 404 | 410, ..
            }) => Ok(None),
            Err(e) => Err(self.fail("reading a file of the media library", e)),
        }
    }

    /// Writes `post` back: onto the post with its id when `existing` (also out of the trash),
    /// or as a new post when it was deleted for good. Returns the post as WordPress now has it
    /// (a new id when re-created).
    pub fn write_post(&self, post: &SitePost, existing: bool) -> Result<SitePost, PublishError> {
        let kind = PostKind::parse(&post.kind).unwrap_or(PostKind::Post);
        let mut body = json!({
            "title": post.title,
            "content": post.content,
            "excerpt": post.excerpt,
            "slug": post.slug.trim_end_matches("__trashed"),
            "status": post.status,
            "comment_status": post.comment_status,
            "ping_status": post.ping_status,
            "featured_media": post.featured_media,
            "password": post.password,
        });
        if let Some(date) = &post.date_gmt {
            body["date_gmt"] = json!(date);
        }
        if !post.template.is_empty() {
            body["template"] = json!(post.template);
        }
        if post.author > 0 {
            body["author"] = json!(post.author);
        }
        if post.meta.as_object().is_some_and(|m| !m.is_empty()) {
            body["meta"] = post.meta.clone();
        }
        match kind {
            PostKind::Post => {
                body["categories"] = json!(post.categories);
                body["tags"] = json!(post.tags);
                body["sticky"] = json!(post.sticky);
                if !post.format.is_empty() {
                    body["format"] = json!(post.format);
                }
            }
            PostKind::Page => {
                body["parent"] = json!(post.parent);
                body["menu_order"] = json!(post.menu_order);
            }
        }
        let (path, doing) = if existing {
            (
                format!("{}/{}", kind.endpoint(), post.id),
                format!("restoring the {} {}", kind.as_str(), post.id),
            )
        } else {
            (
                kind.endpoint().to_string(),
                format!("re-creating the deleted {} {}", kind.as_str(), post.id),
            )
        };
        let v = match self.call(Method::POST, &path, &[], Some(body.clone())) {
            Ok(v) => v,
            // The author is gone (or this account may not give posts to others): the post
            // comes back as this account's.
            Err(ApiError::Status { code, .. })
                if code == "rest_invalid_author" || code == "rest_cannot_edit_others" =>
            {
                if let Some(o) = body.as_object_mut() {
                    o.remove("author");
                }
                self.call(Method::POST, &path, &[], Some(body))
                    .map_err(|e| self.fail(&doing, e))?
            }
            Err(e) => return Err(self.fail(&doing, e)),
        };
        Ok(SitePost::from_wp(kind, &v))
    }

    /// The id of the term on the site now: the same id when it still exists, else one of the
    /// same name (found or created).
    pub fn ensure_term(&self, term: &SiteTerm) -> Result<i64, PublishError> {
        let endpoint = if term.taxonomy == "category" {
            "categories"
        } else {
            "tags"
        };
        match self.call(Method::GET, &format!("{endpoint}/{}", term.id), &[], None) {
            Ok(_) => Ok(term.id),
            Err(ApiError::Status {
                status: 404 | 410, ..
            }) => self.term_id(endpoint, &term.name),
            Err(e) => Err(self.fail("reading a category or tag", e)),
        }
    }

    /// Uploads a file kept by a backup to the media library again, with its metadata.
    pub fn upload_media_file(
        &self,
        path: &Path,
        media: &SiteMedia,
        post: Option<i64>,
    ) -> Result<SiteMedia, PublishError> {
        let name = media
            .source_url
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or(&media.slug);
        let filename = super::upload_filename(name, &media.mime_type);
        let doing = format!("uploading {filename} again");
        let f = std::fs::File::open(path)
            .map_err(|e| PublishError::Local(format!("{doing}: cannot read it: {e}")))?;
        let len = f
            .metadata()
            .map_err(|e| PublishError::Local(format!("{doing}: {e}")))?
            .len();
        let mut query = vec![
            ("slug", media.slug.clone()),
            ("alt_text", media.alt_text.clone()),
            ("caption", media.caption.clone()),
            ("description", media.description.clone()),
            ("title", media.title.clone()),
        ];
        if let Some(p) = post.filter(|p| *p > 0) {
            query.push(("post", p.to_string()));
        }
        let url = self.endpoint("media", &query)?;
        let timeout = self.settings.request_timeout + Duration::from_secs(len / 50_000);
        let req = self
            .api
            .post(url)
            .basic_auth(&self.settings.username, Some(&self.app_password))
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, media.mime_type.as_str())
            .header(
                reqwest::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            )
            .timeout(timeout)
            .body(reqwest::blocking::Body::sized(f, len));
        let v = self.execute(req).map_err(|e| self.fail(&doing, e))?;
        Ok(Self::media_from(&v))
    }

    /// The site's address (no trailing `/`).
    pub fn site_url(&self) -> &str {
        &self.settings.site_url
    }
}
