//! WordPress through its REST API v2 with an Application Password.
//!
//! # What goes where
//! - The body (passed through [`warta_render::sanitise_html`] once more) becomes the post's
//!   content. Photos other than the featured one follow it as `<figure>`s with their caption;
//!   other files (documents, videos) as download links. `[` and `]` are sent as entities, so
//!   text such as `[gallery]` can never run a WordPress shortcode.
//! - Each file is uploaded to the media library (`POST /wp/v2/media`, raw body), with its alt
//!   text and caption, attached to the post. The featured photo becomes the post's featured
//!   image.
//! - The category and the tags are found by name (or created when missing); the author is the
//!   WordPress user whose display name is the item's author when there is one, otherwise the
//!   user of the application password.
//! - `scheduled_at` sends status `future` with `date_gmt`; WordPress publishes it by itself at
//!   that time (through WP-Cron). A time already past publishes at once with that date.
//! - The producing unit is not sent: WordPress has no field for it.
//!
//! # Exactly once
//! WordPress has no idempotency keys, so the key is put where it can be looked up:
//! - the post's slug is `<title slug>-<key>`: before anything is created, the posts with that
//!   slug (any status, the trash included, where WordPress renames it `…__trashed`) are
//!   looked up and adopted;
//! - a new post is first created as a draft carrying everything but its media, so files are
//!   uploaded attached to it, and only then published;
//! - a file's media slug is `warta-<key>-<attachment id>`, looked up (all of the item's at
//!   once) before any upload;
//! - categories and tags are found by name, and WordPress refuses a second term of the same
//!   name (`term_exists`, whose id is then adopted);
//! - every later step (updating the post, alt texts, captions, the featured image) sets
//!   absolute values, so repeating it changes nothing.
//!
//! A publish interrupted anywhere and called again therefore ends with one post and each file
//! once. A correction (`previous` is `Some`) updates the same post, keeping its address and
//! date; files whose attachment was already uploaded are reused, new ones are uploaded under
//! the new key, and files of the post no longer used are deleted. If that post was deleted for
//! good in WordPress meanwhile, the correction is published as a new post under its key (the
//! returned [`RemoteRef`] then has a new id and address); if it is in the trash, it comes back.
//!
//! An attempt that failed for good after creating something (a refused file type, say) leaves
//! a draft and the files uploaded so far under its key, which the next attempt adopts. When the
//! hub gives such a publish up instead (a newer version supersedes it), [`WordPress::discard`]
//! removes them.
//!
//! # Unpublishing
//! The post goes to WordPress's trash (an administrator can still restore it there for 30
//! days); its files are deleted from the media library for good, because WordPress has no
//! trash for media and a file in the library stays publicly reachable at its address. The hub
//! keeps the originals, so publishing again uploads them again.
//!
//! # Checking that it is live
//! [`PublishTarget::check_live`] fetches the public page without credentials and looks, in the
//! post content (the element with class `entry-content` or `wp-block-post-content`, else the
//! whole page), for the visible text of what was sent. Both sides go through
//! [`normalised_text`], which undoes what WordPress does to content on display (curly quotes,
//! dashes, ellipses, `×`, entities, `<p>`/`<br>` from `wpautop`, smilies as emoji), so a
//! genuine page matches and a changed body does not.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::time::Duration;

use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{LiveCheck, Publication, PublishError, PublishTarget, RemoteMedia, RemoteRef};

pub mod site;

/// Every post status a lookup by key must see, the trash included.
const ALL_STATUSES: &str = "publish,future,draft,pending,private,trash";
/// Media slugs we create start with this, which is how our files are told from the ones an
/// editor added in WordPress.
const MEDIA_SLUG_PREFIX: &str = "warta-";
/// The most of a public page [`PublishTarget::check_live`] reads.
const MAX_PAGE_BYTES: u64 = 8 * 1024 * 1024;

/// Where the WordPress site is and how long to wait for it. The application password is
/// given separately to [`WordPress::new`].
#[derive(Debug, Clone)]
pub struct WordPressSettings {
    /// The site's address, e.g. `https://diskominfo.example.go.id` (no trailing `/` needed).
    pub site_url: String,
    /// The WordPress user the application password belongs to.
    pub username: String,
    /// The REST API root; `None` is `<site_url>/wp-json`. Sites with plain permalinks need
    /// `<site_url>/?rest_route=`.
    pub api_root: Option<String>,
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Time for a whole request and its answer; uploads get more in proportion to their size.
    pub request_timeout: Duration,
}

impl WordPressSettings {
    pub fn new(site_url: impl Into<String>, username: impl Into<String>) -> WordPressSettings {
        WordPressSettings {
            site_url: site_url.into(),
            username: username.into(),
            api_root: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// A WordPress site as a publishing target.
pub struct WordPress {
    settings: WordPressSettings,
    api_root: String,
    app_password: String,
    /// Authenticated API calls; redirects are not followed (a redirected POST would silently
    /// turn into a GET).
    api: Client,
    /// Anonymous fetches of public pages, following a few redirects.
    public: Client,
}

impl fmt::Debug for WordPress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WordPress")
            .field("site_url", &self.settings.site_url)
            .field("username", &self.settings.username)
            .field("api_root", &self.api_root)
            .field("app_password", &"[redacted]")
            .finish()
    }
}

impl WordPress {
    /// Builds the target. Nothing is sent until the first publish.
    pub fn new(
        settings: WordPressSettings,
        app_password: String,
    ) -> Result<WordPress, PublishError> {
        let site = settings.site_url.trim().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&site).map_err(|_| {
            PublishError::Local(format!(
                "the WordPress address \"{site}\" is not a web address"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(PublishError::Local(format!(
                "the WordPress address \"{site}\" must start with https:// (or http://)"
            )));
        }
        if settings.username.trim().is_empty() {
            return Err(PublishError::Local(
                "WordPress needs the user name the application password belongs to".into(),
            ));
        }
        if app_password.trim().is_empty() {
            return Err(PublishError::Local(
                "WordPress needs an application password".into(),
            ));
        }
        let api_root = match &settings.api_root {
            Some(root) => root.trim().trim_end_matches('/').to_string(),
            None => format!("{site}/wp-json"),
        };
        let user_agent = concat!("Warta/", env!("CARGO_PKG_VERSION"), " (publishing)");
        let api = Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent)
            .build()
            .map_err(|e| PublishError::Local(format!("cannot set up HTTP: {e}")))?;
        let public = Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(user_agent)
            .build()
            .map_err(|e| PublishError::Local(format!("cannot set up HTTP: {e}")))?;
        Ok(WordPress {
            settings: WordPressSettings {
                site_url: site,
                ..settings
            },
            api_root,
            app_password,
            api,
            public,
        })
    }

    /// The slug the post of `publication` gets: the title's slug, then the idempotency key.
    pub fn post_slug(publication: &Publication) -> String {
        let title = publication.slug.trim_matches('-');
        let key = publication.idempotency_key.trim_matches('-');
        if title.is_empty() {
            key.to_string()
        } else {
            format!("{title}-{key}")
        }
    }

    /// The slug of one file in the media library.
    pub fn media_slug(idempotency_key: &str, attachment_id: i64) -> String {
        format!(
            "{MEDIA_SLUG_PREFIX}{}-{attachment_id}",
            idempotency_key.trim_matches('-')
        )
    }

    /// The post content sent for `publication`, with its files at their WordPress addresses.
    pub fn content_html(publication: &Publication, media: &[RemoteMedia]) -> String {
        let mut html = publication.body_html.clone();
        for (i, file) in publication.media.iter().enumerate() {
            if publication.featured == Some(i) {
                continue;
            }
            let Some(remote) = media.iter().find(|m| m.attachment_id == file.attachment_id) else {
                continue;
            };
            let src = warta_render::escape_html(&remote.url);
            if file.mime.starts_with("image/") {
                html.push_str(&format!(
                    "\n<figure><img src=\"{src}\" alt=\"{}\">",
                    warta_render::escape_html(&file.alt)
                ));
                if !file.caption.trim().is_empty() {
                    html.push_str(&format!(
                        "<figcaption>{}</figcaption>",
                        warta_render::escape_html(file.caption.trim())
                    ));
                }
                html.push_str("</figure>");
            } else {
                let label = if file.caption.trim().is_empty() {
                    &file.filename
                } else {
                    &file.caption
                };
                html.push_str(&format!(
                    "\n<p><a href=\"{src}\">{}</a></p>",
                    warta_render::escape_html(label.trim())
                ));
            }
        }
        // The one sanitiser, again (idempotent), then no shortcode can be formed.
        warta_render::sanitise_html(&html)
            .replace('[', "&#91;")
            .replace(']', "&#93;")
    }

    // ------------------------------------------------------------------ HTTP

    fn endpoint(&self, path: &str, query: &[(&str, String)]) -> Result<reqwest::Url, PublishError> {
        let route = format!("/wp/v2/{}", path.trim_start_matches('/'));
        // `…/wp-json` + route, or `…/?rest_route=` + route: the same concatenation.
        let base = format!("{}{}", self.api_root, route);
        let mut url = reqwest::Url::parse(&base).map_err(|_| {
            PublishError::Local(format!(
                "the WordPress API address \"{}\" is not valid",
                self.api_root
            ))
        })?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Value, ApiError> {
        let url = self.endpoint(path, query).map_err(ApiError::Local)?;
        let mut req = self
            .api
            .request(method, url)
            .basic_auth(&self.settings.username, Some(&self.app_password))
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.execute(req)
    }

    fn execute(&self, req: RequestBuilder) -> Result<Value, ApiError> {
        let resp = req.send().map_err(ApiError::transport)?;
        let status = resp.status();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().map_err(ApiError::transport)?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|_| ApiError::NotRest {
                status: status.as_u16(),
            });
        }
        if status.is_redirection() {
            return Err(ApiError::Redirect {
                status: status.as_u16(),
                location: location.unwrap_or_default(),
            });
        }
        let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let json = parsed["code"].is_string();
        let code = parsed["code"].as_str().unwrap_or_default().to_string();
        let mut message = plain_text(parsed["message"].as_str().unwrap_or_default());
        if message.is_empty() {
            message = status.canonical_reason().unwrap_or("error").to_string();
        }
        // WordPress reports "you may not see drafts" as an invalid parameter when the
        // credentials were not accepted; it is the credentials all the same.
        let nested_auth = parsed["data"]["details"]
            .as_object()
            .map(|d| {
                d.values()
                    .any(|v| matches!(v["data"]["status"].as_u64(), Some(401) | Some(403)))
            })
            .unwrap_or(false);
        Err(ApiError::Status {
            status: status.as_u16(),
            code,
            message,
            data: parsed["data"].clone(),
            nested_auth,
            json,
        })
    }

    /// Turns a failure into the plain words the publisher sees, never with the password.
    fn fail(&self, doing: &str, e: ApiError) -> PublishError {
        let user = &self.settings.username;
        let err = match e {
            ApiError::Local(e) => e,
            ApiError::Transport {
                timeout,
                connect,
                detail,
            } => {
                let what = if timeout {
                    format!(
                        "WordPress at {} did not answer in time ({detail})",
                        self.settings.site_url
                    )
                } else if connect {
                    format!(
                        "could not connect to WordPress at {} ({detail})",
                        self.settings.site_url
                    )
                } else {
                    format!(
                        "the connection to WordPress at {} failed ({detail})",
                        self.settings.site_url
                    )
                };
                PublishError::Unavailable(format!("{doing}: {what}"))
            }
            ApiError::NotRest { status } => PublishError::Rejected(format!(
                "{doing}: {} answered {status} but not as WordPress's REST API; check the \
                 site's address (or, for plain permalinks, set the API root to \
                 {}/?rest_route=)",
                self.api_root, self.settings.site_url
            )),
            ApiError::Redirect { status, location } => PublishError::Rejected(format!(
                "{doing}: WordPress redirected the request ({status}) to {location}; use that \
                 address in this website's settings"
            )),
            ApiError::Status {
                status,
                code,
                message,
                nested_auth,
                json,
                ..
            } => {
                let said = if code.is_empty() {
                    format!("WordPress said: {message}")
                } else {
                    format!("WordPress said: {message} ({code})")
                };
                match status {
                    401 => PublishError::Unauthorized(format!(
                        "{doing}: WordPress did not accept the application password of user \
                         \"{user}\"; it may have been revoked or have expired. Create a new \
                         one in WordPress (Users → Profile → Application Passwords) and save it \
                         in this website's settings. {said}"
                    )),
                    403 => PublishError::Unauthorized(format!(
                        "{doing}: the WordPress user \"{user}\" is not allowed to do this; \
                         give it the Editor or Administrator role, or check the application \
                         password. {said}"
                    )),
                    400 if nested_auth => PublishError::Unauthorized(format!(
                        "{doing}: WordPress did not accept the application password of user \
                         \"{user}\"; it may have been revoked or have expired. Create a new \
                         one in WordPress (Users → Profile → Application Passwords) and save it \
                         in this website's settings. {said}"
                    )),
                    408 | 425 | 429 => PublishError::Unavailable(format!(
                        "{doing}: WordPress is busy ({status}); trying again later. {said}"
                    )),
                    // WordPress reports a file it will not take (a type it does not allow, an
                    // uploads folder it cannot write) as a 500; trying again will not help.
                    500 if code == "rest_upload_sideload_error" => {
                        PublishError::Rejected(format!("{doing}: {said}"))
                    }
                    s if s >= 500 => PublishError::Unavailable(format!(
                        "{doing}: WordPress failed ({status}). {said}"
                    )),
                    _ if !json => PublishError::Rejected(format!(
                        "{doing}: {} answered {status} ({message}) but not as WordPress's REST \
                         API; check the site's address (or, for plain permalinks, set the API \
                         root to {}/?rest_route=)",
                        self.api_root, self.settings.site_url
                    )),
                    _ => PublishError::Rejected(format!("{doing}: {said}")),
                }
            }
        };
        self.redact(err)
    }

    /// Defence in depth: no message leaves with the password in it, spaced or not.
    fn redact(&self, e: PublishError) -> PublishError {
        let clean = |s: String| {
            let mut s = s;
            let compact: String = self
                .app_password
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            for secret in [self.app_password.trim(), compact.as_str()] {
                if secret.len() >= 4 {
                    s = s.replace(secret, "[redacted]");
                }
            }
            s
        };
        match e {
            PublishError::Unavailable(s) => PublishError::Unavailable(clean(s)),
            PublishError::Unauthorized(s) => PublishError::Unauthorized(clean(s)),
            PublishError::Rejected(s) => PublishError::Rejected(clean(s)),
            PublishError::Local(s) => PublishError::Local(clean(s)),
        }
    }

    fn get<T: for<'de> Deserialize<'de>>(
        &self,
        doing: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, PublishError> {
        let v = self
            .call(Method::GET, path, query, None)
            .map_err(|e| self.fail(doing, e))?;
        self.decode(doing, v)
    }

    fn post<T: for<'de> Deserialize<'de>>(
        &self,
        doing: &str,
        path: &str,
        body: Value,
    ) -> Result<T, PublishError> {
        let v = self
            .call(Method::POST, path, &[], Some(body))
            .map_err(|e| self.fail(doing, e))?;
        self.decode(doing, v)
    }

    fn decode<T: for<'de> Deserialize<'de>>(
        &self,
        doing: &str,
        v: Value,
    ) -> Result<T, PublishError> {
        serde_json::from_value(v).map_err(|e| {
            PublishError::Rejected(format!(
                "{doing}: WordPress answered in an unexpected form ({e})"
            ))
        })
    }

    // ------------------------------------------------------------------ steps

    /// Checks the credentials and that the user may publish (and upload, when there are
    /// files), so a revoked password is reported as such before anything else is tried.
    fn check_user(&self, needs_upload: bool) -> Result<(), PublishError> {
        let doing = "checking the WordPress account";
        let me: WpUser = self.get(doing, "users/me", &[("context", "edit".into())])?;
        let may = |cap: &str| {
            me.capabilities
                .get(cap)
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        if !may("publish_posts") || (needs_upload && !may("upload_files")) {
            return Err(PublishError::Unauthorized(format!(
                "the WordPress user \"{}\" may not publish posts{}; give it the Author, Editor or \
                 Administrator role",
                self.settings.username,
                if needs_upload { " with files" } else { "" }
            )));
        }
        Ok(())
    }

    fn get_post(&self, id: i64) -> Result<Option<WpPost>, PublishError> {
        match self.call(
            Method::GET,
            &format!("posts/{id}"),
            &[("context", "edit".into())],
            None,
        ) {
            Ok(v) => self.decode("reading the published post", v).map(Some),
            Err(ApiError::Status {
                status: 404 | 410, ..
            }) => Ok(None),
            Err(e) => Err(self.fail("reading the published post", e)),
        }
    }

    /// The post made under this key before, if any (the one not in the trash first).
    fn find_post_by_key(&self, slug: &str) -> Result<Option<WpPost>, PublishError> {
        let mut found: Vec<WpPost> = self.get(
            "looking up the post by its key",
            "posts",
            &[
                ("slug", format!("{slug},{slug}__trashed")),
                ("status", ALL_STATUSES.into()),
                ("context", "edit".into()),
                ("per_page", "20".into()),
            ],
        )?;
        found.sort_by_key(|p| (p.status == "trash", p.id));
        Ok(found.into_iter().next())
    }

    /// The id of the category or tag called `name`, created when missing.
    fn term_id(&self, taxonomy: &str, name: &str) -> Result<i64, PublishError> {
        let kind = if taxonomy == "categories" {
            "category"
        } else {
            "tag"
        };
        let doing = format!("looking up the {kind} \"{name}\"");
        let wanted = normalise_name(name);
        let found: Vec<WpTerm> = self.get(
            &doing,
            taxonomy,
            &[
                ("search", name.to_string()),
                ("per_page", "100".into()),
                ("hide_empty", "false".into()),
            ],
        )?;
        if let Some(t) = found
            .iter()
            .find(|t| normalise_name(&plain_text(&t.name)) == wanted)
        {
            return Ok(t.id);
        }
        let doing = format!("creating the {kind} \"{name}\"");
        match self.call(Method::POST, taxonomy, &[], Some(json!({ "name": name }))) {
            Ok(v) => self.decode::<WpTerm>(&doing, v).map(|t| t.id),
            // Created meanwhile, or the same name differently written: adopt it.
            Err(ApiError::Status { code, data, .. })
                if code == "term_exists" && data["term_id"].as_i64().is_some() =>
            {
                Ok(data["term_id"].as_i64().unwrap_or_default())
            }
            Err(e) => Err(self.fail(&doing, e)),
        }
    }

    /// The WordPress user whose display name is `author`, if there is exactly one such user
    /// this account may see. Not being allowed to list users is no error (the post is then
    /// the account's own); a failing connection is, so a publish never goes out with the
    /// wrong author because of a timeout.
    fn author_id(&self, author: &str) -> Result<Option<i64>, PublishError> {
        let author = author.trim();
        if author.is_empty() {
            return Ok(None);
        }
        let doing = "looking up the author";
        let v = match self.call(
            Method::GET,
            "users",
            &[("search", author.to_string()), ("per_page", "100".into())],
            None,
        ) {
            Ok(v) => v,
            Err(ApiError::Status {
                status: 400..=403, ..
            }) => return Ok(None),
            Err(e) => return Err(self.fail(doing, e)),
        };
        let users: Vec<WpUser> = self.decode(doing, v)?;
        let wanted = normalise_name(author);
        let mut matching = users
            .iter()
            .filter(|u| normalise_name(&plain_text(&u.name)) == wanted);
        Ok(match (matching.next(), matching.next()) {
            (Some(one), None) => Some(one.id),
            _ => None,
        })
    }

    fn find_media(&self, query: &[(&str, String)]) -> Result<Vec<WpMedia>, PublishError> {
        self.get("looking up the files already uploaded", "media", query)
    }

    fn upload(
        &self,
        publication: &Publication,
        index: usize,
        post_id: i64,
    ) -> Result<WpMedia, PublishError> {
        let file = &publication.media[index];
        let filename = upload_filename(&file.filename, &file.mime);
        let doing = format!("uploading {}", file.filename);
        let f = std::fs::File::open(&file.path).map_err(|e| {
            PublishError::Local(format!("{doing}: cannot read {}: {e}", file.path.display()))
        })?;
        let len = f
            .metadata()
            .map_err(|e| PublishError::Local(format!("{doing}: {e}")))?
            .len();
        let url = self.endpoint(
            "media",
            &[
                (
                    "slug",
                    WordPress::media_slug(&publication.idempotency_key, file.attachment_id),
                ),
                ("post", post_id.to_string()),
                ("alt_text", file.alt.clone()),
                ("caption", warta_render::escape_html(file.caption.trim())),
            ],
        )?;
        // Slow links: one minute plus the time the file takes at 50 kB/s.
        let timeout = self.settings.request_timeout + Duration::from_secs(len / 50_000);
        let req = self
            .api
            .post(url)
            .basic_auth(&self.settings.username, Some(&self.app_password))
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, file.mime.as_str())
            .header(
                reqwest::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            )
            .timeout(timeout)
            .body(reqwest::blocking::Body::sized(f, len));
        let v = self.execute(req).map_err(|e| self.fail(&doing, e))?;
        self.decode(&doing, v)
    }

    /// Makes an adopted or reused file carry this version's alt text and caption and belong
    /// to the post.
    fn settle_media(
        &self,
        media: &WpMedia,
        alt: &str,
        caption: &str,
        post_id: i64,
    ) -> Result<(), PublishError> {
        let caption = warta_render::escape_html(caption.trim());
        let same_alt = collapse_ws(&media.alt_text) == collapse_ws(alt);
        let same_caption = media.caption.raw.as_deref().map(str::trim) == Some(caption.as_str());
        if same_alt && same_caption && media.post == Some(post_id) {
            return Ok(());
        }
        let _: WpMedia = self.post(
            "updating a file's alt text and caption",
            &format!("media/{}", media.id),
            json!({ "alt_text": alt, "caption": caption, "post": post_id }),
        )?;
        Ok(())
    }

    fn delete_media(&self, id: i64) -> Result<(), PublishError> {
        match self.call(
            Method::DELETE,
            &format!("media/{id}"),
            &[("force", "true".into())],
            None,
        ) {
            Ok(_)
            | Err(ApiError::Status {
                status: 404 | 410, ..
            }) => Ok(()),
            Err(e) => Err(self.fail("deleting a file from the media library", e)),
        }
    }

    /// Removes what an attempt under `publication`'s key left without publishing it: a draft
    /// post and the files uploaded under that key. For the hub to call when it gives up a
    /// pending publish for good (superseded by a newer version, target removed); a retry
    /// would otherwise adopt them. Never touches a post that was published or scheduled
    /// (that one is taken down with [`PublishTarget::unpublish`]). Returns whether anything
    /// was removed.
    pub fn discard(&self, publication: &Publication) -> Result<bool, PublishError> {
        let mut removed = false;
        let slugs: Vec<String> = publication
            .media
            .iter()
            .map(|f| WordPress::media_slug(&publication.idempotency_key, f.attachment_id))
            .collect();
        let mut ids: Vec<i64> = Vec::new();
        if !slugs.is_empty() {
            ids.extend(
                self.find_media(&[
                    ("slug", slugs.join(",")),
                    ("context", "edit".into()),
                    ("per_page", "100".into()),
                ])?
                .iter()
                .map(|m| m.id),
            );
        }
        if let Some(post) = self.find_post_by_key(&WordPress::post_slug(publication))?
            && matches!(post.status.as_str(), "draft" | "pending")
        {
            let key_prefix = format!("{MEDIA_SLUG_PREFIX}{}-", publication.idempotency_key);
            ids.extend(
                self.find_media(&[
                    ("parent", post.id.to_string()),
                    ("context", "edit".into()),
                    ("per_page", "100".into()),
                ])?
                .iter()
                .filter(|m| m.slug.starts_with(&key_prefix))
                .map(|m| m.id),
            );
            match self.call(
                Method::DELETE,
                &format!("posts/{}", post.id),
                &[("force", "true".into())],
                None,
            ) {
                Ok(_)
                | Err(ApiError::Status {
                    status: 404 | 410, ..
                }) => removed = true,
                Err(e) => return Err(self.fail("deleting the unpublished draft", e)),
            }
        }
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            self.delete_media(id)?;
            removed = true;
        }
        Ok(removed)
    }

    fn post_url(post: &WpPost) -> String {
        if post.status == "publish" || post.permalink_template.is_none() {
            return post.link.clone();
        }
        // A scheduled post's `link` is `?p=ID` until it goes out; its address will be this.
        let template = post.permalink_template.as_deref().unwrap_or_default();
        let slug = if post.slug.is_empty() {
            post.generated_slug.as_str()
        } else {
            post.slug.as_str()
        };
        if template.contains("%postname%") || template.contains("%pagename%") {
            template
                .replace("%postname%", slug)
                .replace("%pagename%", slug)
        } else {
            post.link.clone()
        }
    }
}

impl PublishTarget for WordPress {
    fn kind(&self) -> &'static str {
        "wordpress"
    }

    fn publish(
        &self,
        publication: &Publication,
        previous: Option<&RemoteRef>,
    ) -> Result<RemoteRef, PublishError> {
        for file in &publication.media {
            if !file.path.is_file() {
                return Err(PublishError::Local(format!(
                    "the file {} of this item is missing from the hub ({})",
                    file.filename,
                    file.path.display()
                )));
            }
        }
        if let Some(i) = publication.featured
            && i >= publication.media.len()
        {
            return Err(PublishError::Local(
                "the featured photo is not among the item's files".into(),
            ));
        }
        self.check_user(!publication.media.is_empty())?;

        // 1. The post: the one published before, else the one made under this key.
        let mut is_correction = false;
        let mut post = None;
        if let Some(prev) = previous
            && let Ok(id) = prev.remote_id.parse::<i64>()
        {
            post = self.get_post(id)?;
            is_correction = post.is_some();
        }
        let slug = WordPress::post_slug(publication);
        if post.is_none() {
            post = self.find_post_by_key(&slug)?;
        }

        // 2. Terms and author.
        let mut categories = Vec::new();
        if !publication.category.trim().is_empty() {
            categories.push(self.term_id("categories", publication.category.trim())?);
        }
        let mut tags: Vec<i64> = Vec::new();
        let mut seen = Vec::new();
        for tag in &publication.tags {
            let tag = tag.trim();
            if tag.is_empty() || seen.contains(&normalise_name(tag)) {
                continue;
            }
            seen.push(normalise_name(tag));
            let id = self.term_id("tags", tag)?;
            if !tags.contains(&id) {
                tags.push(id);
            }
        }
        let author = self.author_id(&publication.author)?;

        let title = warta_render::escape_html(publication.title.trim());
        let excerpt = warta_render::escape_html(publication.summary.trim());
        let mut fields = json!({
            "title": title,
            "excerpt": excerpt,
            "categories": categories,
            "tags": tags,
        });
        if let Some(author) = author {
            fields["author"] = json!(author);
        }

        // 3. A post to attach the files to: a draft with everything but its files.
        let post = match post {
            Some(p) => p,
            None => {
                let mut draft = fields.clone();
                draft["status"] = json!("draft");
                draft["slug"] = json!(slug);
                draft["content"] = json!(WordPress::content_html(publication, &[]));
                self.post("creating the post", "posts", draft)?
            }
        };

        // 4. The files: reused from the previous version, adopted under the key, or uploaded.
        let mut by_attachment: HashMap<i64, WpMedia> = HashMap::new();
        if is_correction && let Some(prev) = previous {
            let wanted: Vec<i64> = prev
                .media
                .iter()
                .filter(|m| {
                    publication
                        .media
                        .iter()
                        .any(|f| f.attachment_id == m.attachment_id)
                })
                .filter_map(|m| m.remote_id.parse().ok())
                .collect();
            if !wanted.is_empty() {
                let ids = wanted
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                for m in self.find_media(&[
                    ("include", ids),
                    ("context", "edit".into()),
                    ("per_page", "100".into()),
                ])? {
                    if let Some(r) = prev.media.iter().find(|r| r.remote_id == m.id.to_string()) {
                        by_attachment.insert(r.attachment_id, m);
                    }
                }
            }
        }
        let missing: Vec<String> = publication
            .media
            .iter()
            .filter(|f| !by_attachment.contains_key(&f.attachment_id))
            .map(|f| WordPress::media_slug(&publication.idempotency_key, f.attachment_id))
            .collect();
        if !missing.is_empty() {
            let found = self.find_media(&[
                ("slug", missing.join(",")),
                ("context", "edit".into()),
                ("per_page", "100".into()),
            ])?;
            for f in &publication.media {
                let s = WordPress::media_slug(&publication.idempotency_key, f.attachment_id);
                if by_attachment.contains_key(&f.attachment_id) {
                    continue;
                }
                if let Some(m) = found.iter().filter(|m| m.slug == s).min_by_key(|m| m.id) {
                    by_attachment.insert(f.attachment_id, m.clone());
                }
            }
        }
        let mut remote_media = Vec::with_capacity(publication.media.len());
        for (i, f) in publication.media.iter().enumerate() {
            let m = match by_attachment.get(&f.attachment_id) {
                Some(m) => {
                    self.settle_media(m, &f.alt, &f.caption, post.id)?;
                    m.clone()
                }
                None => self.upload(publication, i, post.id)?,
            };
            remote_media.push(RemoteMedia {
                attachment_id: f.attachment_id,
                remote_id: m.id.to_string(),
                url: m.source_url.clone(),
            });
        }

        // 5. The post itself, complete, and published (or scheduled).
        let mut update = fields;
        update["content"] = json!(WordPress::content_html(publication, &remote_media));
        update["featured_media"] = json!(
            publication
                .featured
                .and_then(|i| remote_media.get(i))
                .and_then(|m| m.remote_id.parse::<i64>().ok())
                .unwrap_or(0)
        );
        if !is_correction {
            update["slug"] = json!(slug);
        }
        match publication.scheduled_at {
            Some(at) => {
                update["status"] = json!("future");
                update["date_gmt"] = json!(at.format("%Y-%m-%dT%H:%M:%S").to_string());
            }
            None => {
                update["status"] = json!("publish");
                // Was scheduled, now to go out at once: WordPress dates it now.
                if post.status == "future" {
                    update["date_gmt"] = Value::Null;
                }
            }
        }
        let done: WpPost =
            self.post("publishing the post", &format!("posts/{}", post.id), update)?;

        // 6. Files of this post that this version no longer shows.
        let keep: Vec<i64> = remote_media
            .iter()
            .filter_map(|m| m.remote_id.parse().ok())
            .collect();
        let mut stale: Vec<i64> = previous
            .filter(|_| is_correction)
            .map(|p| {
                p.media
                    .iter()
                    .filter_map(|m| m.remote_id.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let attached = self.find_media(&[
            ("parent", post.id.to_string()),
            ("context", "edit".into()),
            ("per_page", "100".into()),
        ])?;
        stale.extend(
            attached
                .iter()
                .filter(|m| m.slug.starts_with(MEDIA_SLUG_PREFIX))
                .map(|m| m.id),
        );
        stale.sort_unstable();
        stale.dedup();
        for id in stale.into_iter().filter(|id| !keep.contains(id)) {
            self.delete_media(id)?;
        }

        Ok(RemoteRef {
            remote_id: done.id.to_string(),
            url: WordPress::post_url(&done),
            media: remote_media,
            status: done.status.clone(),
        })
    }

    fn unpublish(&self, _item_id: i64, remote: &RemoteRef) -> Result<(), PublishError> {
        let id: i64 = remote.remote_id.parse().map_err(|_| {
            PublishError::Local(format!(
                "\"{}\" is not a WordPress post id",
                remote.remote_id
            ))
        })?;
        match self.call(Method::DELETE, &format!("posts/{id}"), &[], None) {
            Ok(_)
            | Err(ApiError::Status {
                status: 404 | 410, ..
            }) => {}
            Err(e) => return Err(self.fail("moving the post to the trash", e)),
        }
        let mut ids: Vec<i64> = remote
            .media
            .iter()
            .filter_map(|m| m.remote_id.parse().ok())
            .collect();
        let attached = self.find_media(&[
            ("parent", id.to_string()),
            ("context", "edit".into()),
            ("per_page", "100".into()),
        ])?;
        ids.extend(
            attached
                .iter()
                .filter(|m| m.slug.starts_with(MEDIA_SLUG_PREFIX))
                .map(|m| m.id),
        );
        ids.sort_unstable();
        ids.dedup();
        for media in ids {
            self.delete_media(media)?;
        }
        Ok(())
    }

    fn check_live(
        &self,
        publication: &Publication,
        remote: &RemoteRef,
    ) -> Result<LiveCheck, PublishError> {
        let expected = normalised_text(&WordPress::content_html(publication, &remote.media));
        let expected_hash = sha256_hex(&expected);
        let doing = "fetching the public page";
        let resp = self
            .public
            .get(&remote.url)
            .header(reqwest::header::ACCEPT, "text/html")
            .send()
            .map_err(|e| self.fail(doing, ApiError::transport(e)))?;
        let status = resp.status().as_u16();
        if status == 429 || status >= 500 {
            return Err(self.redact(PublishError::Unavailable(format!(
                "{doing}: {} answered {status}",
                remote.url
            ))));
        }
        if !resp.status().is_success() {
            return Ok(LiveCheck {
                matches: false,
                expected_hash,
                found_hash: None,
                http_status: status,
            });
        }
        let mut bytes = Vec::new();
        resp.take(MAX_PAGE_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| self.redact(PublishError::Unavailable(format!("{doing}: {e}"))))?;
        let page = String::from_utf8_lossy(&bytes);
        let found = normalised_text(content_region(&page).unwrap_or(&page));
        Ok(LiveCheck {
            matches: !expected.is_empty() && found.contains(&expected),
            expected_hash,
            found_hash: Some(sha256_hex(&found)),
            http_status: status,
        })
    }
}

// ---------------------------------------------------------------------- wire types

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct Rendered {
    raw: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct WpPost {
    id: i64,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    generated_slug: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    link: String,
    #[serde(default)]
    permalink_template: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct WpMedia {
    id: i64,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    source_url: String,
    #[serde(default)]
    alt_text: String,
    #[serde(default)]
    caption: Rendered,
    #[serde(default)]
    post: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
struct WpTerm {
    id: i64,
    #[serde(default)]
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
struct WpUser {
    id: i64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    capabilities: serde_json::Map<String, Value>,
}

/// A failed call before it is put into words.
#[derive(Debug)]
enum ApiError {
    Local(PublishError),
    Transport {
        timeout: bool,
        connect: bool,
        detail: String,
    },
    NotRest {
        status: u16,
    },
    Redirect {
        status: u16,
        location: String,
    },
    Status {
        status: u16,
        code: String,
        message: String,
        data: Value,
        /// An error reported inside a 400 was about the credentials.
        nested_auth: bool,
        /// The answer was a WordPress REST error (not, say, a web server's 404 page).
        json: bool,
    },
}

impl ApiError {
    fn transport(e: reqwest::Error) -> ApiError {
        let e = e.without_url();
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            let s_text = s.to_string();
            if !detail.contains(&s_text) {
                detail.push_str(": ");
                detail.push_str(&s_text);
            }
            source = s.source();
        }
        ApiError::Transport {
            timeout: e.is_timeout(),
            connect: e.is_connect(),
            detail,
        }
    }
}

// ---------------------------------------------------------------------- helpers

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn normalise_name(s: &str) -> String {
    collapse_ws(s).to_lowercase()
}

/// A file name WordPress accepts: ASCII letters, digits, `.`, `-`, `_`, with an extension
/// that matches the type (WordPress decides what it allows by the extension).
fn upload_filename(name: &str, mime: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    out = out.trim_matches(|c| c == '.' || c == '-').to_string();
    if out.is_empty() {
        out = "file".into();
    }
    let ext = match mime {
        "image/jpeg" => &["jpg", "jpeg", "jpe"][..],
        "image/png" => &["png"],
        "image/webp" => &["webp"],
        "image/gif" => &["gif"],
        "application/pdf" => &["pdf"],
        "video/mp4" => &["mp4", "m4v"],
        "video/quicktime" => &["mov"],
        "video/webm" => &["webm"],
        _ => &[][..],
    };
    let has = out
        .rsplit_once('.')
        .map(|(_, e)| ext.iter().any(|x| x.eq_ignore_ascii_case(e)))
        .unwrap_or(false);
    if !has && let Some(e) = ext.first() {
        out.push('.');
        out.push_str(e);
    }
    out
}

/// WordPress messages are HTML (`<strong>Error:</strong> …`, `&#8217;`): plain words.
fn plain_text(html: &str) -> String {
    collapse_ws(&visible_text(html))
}

// ---------------------------------------------------------------------- page text

/// The element holding a post's content on a WordPress page: classic themes use
/// `entry-content`, block themes `wp-block-post-content`. Returns its inner HTML.
pub fn content_region(page: &str) -> Option<&str> {
    let mut pos = 0;
    while let Some(tag) = next_tag(page, pos) {
        pos = tag.stop;
        if tag.end || tag.kind != TagKind::Element {
            continue;
        }
        let Some(class) = attr(tag.attrs, "class") else {
            continue;
        };
        if !class
            .split_whitespace()
            .any(|c| c == "entry-content" || c == "wp-block-post-content")
        {
            continue;
        }
        let name = tag.name.clone();
        let inner_start = tag.stop;
        let mut depth = 1usize;
        let mut p = tag.stop;
        while let Some(t) = next_tag(page, p) {
            p = t.stop;
            if t.kind != TagKind::Element || t.name != name || t.self_closing {
                continue;
            }
            if t.end {
                depth -= 1;
                if depth == 0 {
                    return Some(&page[inner_start..t.start]);
                }
            } else {
                depth += 1;
            }
        }
        return Some(&page[inner_start..]);
    }
    None
}

/// The visible text of an HTML fragment, normalised so that what WordPress does to content on
/// display does not count: `wptexturize`'s curly quotes, dashes, ellipsis and `×`, entities,
/// `wpautop`'s paragraphs and line breaks, smilies turned into emoji or images (their `alt`
/// is the text), `Wordpress` spelt `WordPress`, and all runs of white space.
pub fn normalised_text(html: &str) -> String {
    let text = visible_text(html);
    let mut mapped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => mapped.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
            | '\u{00BB}' => mapped.push('"'),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => mapped.push('-'),
            '\u{2026}' => mapped.push_str("..."),
            '\u{00D7}' => mapped.push('x'),
            '\u{2122}' => mapped.push_str("(tm)"),
            '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            c if c.is_whitespace() => mapped.push(' '),
            c => mapped.push(c),
        }
    }
    let mapped = mapped
        .replace("''", "\"")
        .replace("``", "\"")
        .replace("Wordpress", "WordPress");
    let mut out = String::with_capacity(mapped.len());
    let mut last_dash = false;
    let mut last_space = true;
    for c in mapped.chars() {
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            last_dash = false;
            continue;
        }
        if c == '-' && last_dash {
            continue;
        }
        last_dash = c == '-';
        last_space = false;
        out.push(c);
    }
    // `convert_smilies`: a smiley standing alone becomes its emoji.
    out.trim_end()
        .split(' ')
        .map(|w| smiley_emoji(w).unwrap_or(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The emoji WordPress shows for a smiley written on its own (its default `smilies` table).
fn smiley_emoji(word: &str) -> Option<&'static str> {
    Some(match word {
        ":neutral:" | ":-|" | ":|" => "\u{1F610}",
        ":twisted:" => "\u{1F608}",
        ":arrow:" => "\u{27A1}",
        ":shock:" | "8-O" | "8O" => "\u{1F62F}",
        ":smile:" | ":-)" | ":)" => "\u{1F642}",
        ":???:" | ":-?" | ":?" => "\u{1F615}",
        ":cool:" | "8-)" => "\u{1F60E}",
        ":evil:" => "\u{1F47F}",
        ":grin:" | ":-D" | ":D" => "\u{1F600}",
        ":idea:" => "\u{1F4A1}",
        ":oops:" => "\u{1F633}",
        ":razz:" | ":-P" | ":P" => "\u{1F61B}",
        ":roll:" => "\u{1F644}",
        ":wink:" | ";-)" | ";)" => "\u{1F609}",
        ":cry:" => "\u{1F625}",
        ":eek:" | ":-o" | ":o" => "\u{1F62E}",
        ":lol:" => "\u{1F606}",
        ":mad:" | ":-x" | ":x" => "\u{1F621}",
        ":sad:" | ":-(" | ":(" => "\u{1F641}",
        ":!:" => "\u{2757}",
        ":?:" => "\u{2753}",
        _ => return None,
    })
}

/// Elements whose content is never shown.
const HIDDEN: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "head", "title",
    "textarea", "select",
];
/// Elements that separate words (block-level, line breaks, cells).
const BREAKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "img",
    "video",
    "audio",
];

fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut pos = 0;
    while pos < html.len() {
        match next_tag(html, pos) {
            None => {
                decode_entities_into(&html[pos..], &mut out);
                break;
            }
            Some(tag) => {
                decode_entities_into(&html[pos..tag.start], &mut out);
                pos = tag.stop;
                if tag.kind != TagKind::Element {
                    continue;
                }
                if !tag.end && !tag.self_closing && HIDDEN.contains(&tag.name.as_str()) {
                    // Skip to the matching end tag (these do not nest in practice).
                    let mut p = pos;
                    loop {
                        match next_tag(html, p) {
                            Some(t) if t.end && t.name == tag.name => {
                                pos = t.stop;
                                break;
                            }
                            Some(t) => p = t.stop,
                            None => {
                                pos = html.len();
                                break;
                            }
                        }
                    }
                    continue;
                }
                if BREAKS.contains(&tag.name.as_str()) {
                    out.push(' ');
                }
                if tag.name == "img" && !tag.end {
                    let class = attr(tag.attrs, "class").unwrap_or_default();
                    if class.contains("wp-smiley") || class.contains("emoji") {
                        out.push_str(&attr(tag.attrs, "alt").unwrap_or_default());
                    }
                }
            }
        }
    }
    out
}

#[derive(Debug, PartialEq, Eq)]
enum TagKind {
    Element,
    /// Comments, doctype, processing instructions.
    Other,
}

struct Tag<'a> {
    kind: TagKind,
    name: String,
    end: bool,
    self_closing: bool,
    attrs: &'a str,
    /// Byte offset of `<`.
    start: usize,
    /// Byte offset just past `>`.
    stop: usize,
}

/// The next tag (or comment) at or after `from`; a `<` that starts no tag is text.
fn next_tag(html: &str, from: usize) -> Option<Tag<'_>> {
    let bytes = html.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        let lt = i + html[i..].find('<')?;
        let rest = &html[lt..];
        if rest.starts_with("<!--") {
            let stop = rest.find("-->").map(|e| lt + e + 3).unwrap_or(html.len());
            return Some(Tag {
                kind: TagKind::Other,
                name: String::new(),
                end: false,
                self_closing: false,
                attrs: "",
                start: lt,
                stop,
            });
        }
        let next = bytes.get(lt + 1).copied().unwrap_or(b' ');
        if next == b'!' || next == b'?' {
            let stop = rest.find('>').map(|e| lt + e + 1).unwrap_or(html.len());
            return Some(Tag {
                kind: TagKind::Other,
                name: String::new(),
                end: false,
                self_closing: false,
                attrs: "",
                start: lt,
                stop,
            });
        }
        let (end, name_at) = if next == b'/' {
            (true, lt + 2)
        } else {
            (false, lt + 1)
        };
        if !bytes.get(name_at).is_some_and(|b| b.is_ascii_alphabetic()) {
            i = lt + 1;
            continue;
        }
        let mut j = name_at;
        while j < bytes.len()
            && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-' || bytes[j] == b':')
        {
            j += 1;
        }
        let name = html[name_at..j].to_ascii_lowercase();
        // The attributes run to the first `>` outside quotes.
        let attrs_at = j;
        let mut quote: Option<u8> = None;
        while j < bytes.len() {
            let b = bytes[j];
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None if b == b'"' || b == b'\'' => quote = Some(b),
                None if b == b'>' => break,
                None => {}
            }
            j += 1;
        }
        let attrs = &html[attrs_at..j.min(html.len())];
        let stop = (j + 1).min(html.len());
        let self_closing = attrs.trim_end().ends_with('/')
            || matches!(
                name.as_str(),
                "area"
                    | "base"
                    | "br"
                    | "col"
                    | "embed"
                    | "hr"
                    | "img"
                    | "input"
                    | "link"
                    | "meta"
                    | "source"
                    | "track"
                    | "wbr"
            );
        return Some(Tag {
            kind: TagKind::Element,
            name,
            end,
            self_closing,
            attrs,
            start: lt,
            stop,
        });
    }
    None
}

/// The value of attribute `name` in a tag's attribute text, entities decoded.
fn attr(attrs: &str, name: &str) -> Option<String> {
    let bytes = attrs.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let key_at = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && bytes[i] != b'='
            && bytes[i] != b'/'
        {
            i += 1;
        }
        let key = &attrs[key_at..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let q = bytes[i];
                let start = i + 1;
                i = start;
                while i < bytes.len() && bytes[i] != q {
                    i += 1;
                }
                value = attrs[start..i.min(attrs.len())].to_string();
                i += 1;
            } else {
                let start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = attrs[start..i].to_string();
            }
        }
        if key.eq_ignore_ascii_case(name) {
            let mut decoded = String::new();
            decode_entities_into(&value, &mut decoded);
            return Some(decoded);
        }
        if key.is_empty() {
            i += 1;
        }
    }
    None
}

fn decode_entities_into(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|&e| e > 0 && e <= 10);
        let decoded = end.and_then(|e| decode_entity(&after[..e]));
        match (end, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let n = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(n);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{00A0}',
        "hellip" => '\u{2026}',
        "mdash" => '\u{2014}',
        "ndash" => '\u{2013}',
        "lsquo" => '\u{2018}',
        "rsquo" => '\u{2019}',
        "sbquo" => '\u{201A}',
        "ldquo" => '\u{201C}',
        "rdquo" => '\u{201D}',
        "bdquo" => '\u{201E}',
        "laquo" => '\u{00AB}',
        "raquo" => '\u{00BB}',
        "prime" => '\u{2032}',
        "Prime" => '\u{2033}',
        "times" => '\u{00D7}',
        "minus" => '\u{2212}',
        "trade" => '\u{2122}',
        "copy" => '\u{00A9}',
        "reg" => '\u{00AE}',
        "shy" => '\u{00AD}',
        "thinsp" => '\u{2009}',
        "ensp" => '\u{2002}',
        "emsp" => '\u{2003}',
        "zwj" => '\u{200D}',
        "zwnj" => '\u{200C}',
        "deg" => '\u{00B0}',
        "middot" => '\u{00B7}',
        "bull" => '\u{2022}',
        "euro" => '\u{20AC}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texturized_text_matches_what_was_sent() {
        let sent = "<p>\"Kami siap,\" kata Kepala Dinas -- dan 'tim' sudah 3x4 kali... \
                    Wordpress (tm)</p>\n<ul>\n<li>Satu</li>\n<li>Dua &amp; tiga</li>\n</ul>";
        let shown = "<p>&#8220;Kami siap,&#8221; kata Kepala Dinas &#8212; dan &#8216;tim&#8217; \
                     sudah 3&#215;4 kali&#8230; WordPress &#8482;</p>\n<ul>\n<li>Satu</li>\n\
                     <li>Dua &#038; tiga</li>\n</ul>";
        assert_eq!(normalised_text(sent), normalised_text(shown));
        // A changed word is a different text.
        assert_ne!(
            normalised_text(sent),
            normalised_text(&shown.replace("Satu", "Satu."))
        );
    }

    #[test]
    fn paragraphs_and_breaks_are_white_space() {
        let sent = "<p>Baris satu\nbaris dua</p><p>Paragraf</p>";
        let shown = "<p>Baris satu<br />\nbaris dua</p>\n<p>Paragraf</p>\n";
        assert_eq!(normalised_text(sent), normalised_text(shown));
        assert_eq!(normalised_text(sent), "Baris satu baris dua Paragraf");
    }

    #[test]
    fn smilies_count_as_their_text_and_hidden_content_does_not() {
        let shown = "<p>Hore <img src=\"x.png\" alt=\":)\" class=\"wp-smiley\" /></p>\
                     <script>var x = 1;</script><style>p{}</style>";
        assert_eq!(normalised_text(shown), "Hore \u{1F642}");
        // WordPress's usual way: the emoji itself.
        assert_eq!(
            normalised_text("<p>Hore :)</p>"),
            normalised_text("<p>Hore \u{1F642}</p>")
        );
        assert_eq!(normalised_text("<p>Hore:)</p>"), "Hore:)");
    }

    #[test]
    fn the_post_content_is_found_in_a_page() {
        let page = "<html><body><h1>Judul</h1><div class=\"wp-site-blocks\"><div class=\"has-global-padding entry-content wp-block-post-content\"><div><p>Isi</p></div><p>Lagi</p></div><footer>Kaki</footer></div></body></html>";
        assert_eq!(
            content_region(page),
            Some("<div><p>Isi</p></div><p>Lagi</p>")
        );
        assert_eq!(normalised_text(content_region(page).unwrap()), "Isi Lagi");
        assert_eq!(content_region("<p>nothing</p>"), None);
    }

    #[test]
    fn attributes_and_entities() {
        assert_eq!(
            attr(" class=\"a b\" alt='x &amp; y' data-x=1", "alt").as_deref(),
            Some("x & y")
        );
        assert_eq!(
            attr(" class=\"a b\" data-x=1", "data-x").as_deref(),
            Some("1")
        );
        assert_eq!(attr(" class=\"a b\"", "alt"), None);
        assert_eq!(
            plain_text("<strong>Error:</strong> Sorry, you can&#8217;t"),
            "Error: Sorry, you can\u{2019}t"
        );
        assert_eq!(plain_text("a & b &unknown; &#x41;"), "a & b &unknown; A");
    }

    #[test]
    fn upload_names_have_an_extension_wordpress_accepts() {
        assert_eq!(
            upload_filename("banjir 1.jpg", "image/jpeg"),
            "banjir-1.jpg"
        );
        assert_eq!(upload_filename("foto", "image/jpeg"), "foto.jpg");
        assert_eq!(
            upload_filename("laporan.PDF", "application/pdf"),
            "laporan.PDF"
        );
        assert_eq!(upload_filename("ñ.png", "image/png"), "png.png");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let wp = WordPress::new(
            WordPressSettings::new("https://example.invalid", "editor"),
            "abcd EFGH ijkl MNOP qrst UVWX".into(),
        )
        .unwrap();
        let shown = format!("{wp:?}");
        assert!(
            !shown.contains("abcd") && !shown.contains("UVWX"),
            "{shown}"
        );
        let e = wp.redact(PublishError::Rejected(
            "x abcdEFGHijklMNOPqrstUVWX y".into(),
        ));
        assert_eq!(e, PublishError::Rejected("x [redacted] y".into()));
    }
}
