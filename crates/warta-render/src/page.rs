//! Whole HTML documents: an article page and the site index.

use std::fmt::Write as _;

use crate::markdown::{sanitise_html, url_scheme};

/// One attachment shown on an article page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageAttachment<'a> {
    /// Where the file is served from: `http:`, `https:` or a relative URL. Any other URL is
    /// not linked.
    pub href: &'a str,
    /// The reporter's file name, shown to readers.
    pub filename: &'a str,
    /// `photo`, `document` or `video`; anything else is shown as a download.
    pub kind: &'a str,
    /// Detected from the bytes, e.g. `video/mp4`.
    pub mime: &'a str,
    /// A photo's alternative text for screen readers; empty falls back to "Photo <file name>".
    pub alt: &'a str,
    /// A photo's or video's caption; empty falls back to the file name.
    pub caption: &'a str,
}

/// Everything an article page shows. Every field except `body_html` is plain text and is
/// escaped here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<'a> {
    /// Name of the site, e.g. "Diskominfo Kabupaten Contoh".
    pub site_title: &'a str,
    /// Headline.
    pub title: &'a str,
    /// Lead paragraph, also used as the page's meta description.
    pub summary: &'a str,
    /// Output of [`crate::render_markdown`]. It is passed through the same allowlist again,
    /// so unsanitised HTML here cannot make an unsafe page.
    pub body_html: &'a str,
    /// Category of the news item.
    pub category: &'a str,
    /// Tags of the news item.
    pub tags: &'a [String],
    /// The unit that produced the material.
    pub unit: &'a str,
    /// Display form of the publication time; `None` while not yet published.
    pub published_at: Option<&'a str>,
    /// Photos, documents and videos, in the order to show them.
    pub attachments: &'a [PageAttachment<'a>],
    /// `"id"` or `"en"`; anything else is treated as `"id"`.
    pub lang: &'a str,
}

/// One article in the site index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry<'a> {
    /// Link to the article page (`http:`, `https:` or relative).
    pub href: &'a str,
    /// Headline.
    pub title: &'a str,
    /// Lead paragraph.
    pub summary: &'a str,
    /// Display form of the publication time.
    pub published_at: &'a str,
    /// The unit that produced the material.
    pub unit: &'a str,
}

/// Escapes text for use in HTML content and in quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders a complete, script-free HTML5 document for one article.
///
/// The official's review preview and the published site both call this, so they cannot
/// differ. Photos are shown as `<img>`, videos as `<video controls>`, documents (and anything
/// of an unknown kind) as download links.
pub fn page_html(page: &Page<'_>) -> String {
    let t = Labels::for_lang(page.lang);
    let e = escape_html;
    let mut h = String::with_capacity(page.body_html.len() + 4096);

    head(
        &mut h,
        t,
        &format!("{} — {}", page.title, page.site_title),
        page.summary,
    );
    let _ = write!(
        h,
        "<a class=\"skip\" href=\"#isi\">{skip}</a>\n\
         <header class=\"site\"><p class=\"site-title\">{site}</p></header>\n\
         <main id=\"isi\">\n<article>\n<header>\n",
        skip = t.skip,
        site = e(page.site_title),
    );
    if !page.category.trim().is_empty() {
        let _ = writeln!(h, "<p class=\"category\">{}</p>", e(page.category));
    }
    let _ = writeln!(h, "<h1>{}</h1>", e(page.title));
    if !page.summary.trim().is_empty() {
        let _ = writeln!(h, "<p class=\"summary\">{}</p>", e(page.summary));
    }
    let published = match page.published_at {
        Some(at) => format!("{} {}", t.published, e(at)),
        None => t.not_published.to_owned(),
    };
    h.push_str("<p class=\"meta\">");
    if !page.unit.trim().is_empty() {
        let _ = write!(h, "<span>{}</span> · ", e(page.unit));
    }
    let _ = writeln!(h, "<span>{published}</span></p>\n</header>");

    let _ = writeln!(
        h,
        "<div class=\"body\">\n{}\n</div>",
        sanitise_html(page.body_html).trim_end()
    );
    attachments(&mut h, t, page.attachments);

    if !page.tags.is_empty() {
        let _ = write!(
            h,
            "<footer>\n<h2 class=\"visually-hidden\">{}</h2>\n<ul class=\"tags\">",
            t.tags
        );
        for tag in page.tags {
            let _ = write!(h, "<li>{}</li>", e(tag));
        }
        h.push_str("</ul>\n</footer>\n");
    }
    h.push_str("</article>\n</main>\n");
    foot(&mut h, page.site_title);
    h
}

/// Renders the site index: the newest articles first, in the order given.
pub fn index_html(site_title: &str, entries: &[IndexEntry<'_>], lang: &str) -> String {
    let t = Labels::for_lang(lang);
    let e = escape_html;
    let mut h = String::with_capacity(2048 + entries.len() * 512);
    head(&mut h, t, site_title, "");
    let _ = write!(
        h,
        "<a class=\"skip\" href=\"#isi\">{skip}</a>\n\
         <header class=\"site\"><h1 class=\"site-title\">{site}</h1></header>\n\
         <main id=\"isi\">\n<h2>{latest}</h2>\n",
        skip = t.skip,
        site = e(site_title),
        latest = t.latest,
    );
    if entries.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", t.no_news);
    } else {
        h.push_str("<ol class=\"index\">\n");
        for entry in entries {
            h.push_str("<li><article>\n<h3>");
            link_or_text(&mut h, entry.href, entry.title, "");
            h.push_str("</h3>\n");
            if !entry.summary.trim().is_empty() {
                let _ = writeln!(h, "<p class=\"summary\">{}</p>", e(entry.summary));
            }
            h.push_str("<p class=\"meta\">");
            if !entry.unit.trim().is_empty() {
                let _ = write!(h, "<span>{}</span> · ", e(entry.unit));
            }
            let _ = writeln!(
                h,
                "<span>{} {}</span></p>\n</article></li>",
                t.published,
                e(entry.published_at)
            );
        }
        h.push_str("</ol>\n");
    }
    h.push_str("</main>\n");
    foot(&mut h, site_title);
    h
}

fn attachments(h: &mut String, t: &Labels, items: &[PageAttachment<'_>]) {
    if items.is_empty() {
        return;
    }
    let e = escape_html;
    let _ = writeln!(
        h,
        "<section class=\"attachments\" aria-labelledby=\"lampiran\">\n<h2 id=\"lampiran\">{}</h2>",
        t.attachments
    );
    let mut documents = Vec::new();
    for item in items {
        let href = safe_href(item.href);
        match (item.kind, href) {
            ("photo", Some(src)) => {
                let alt = if item.alt.trim().is_empty() {
                    format!("{} {}", t.photo, item.filename)
                } else {
                    item.alt.trim().to_string()
                };
                let _ = writeln!(
                    h,
                    "<figure><img src=\"{src}\" alt=\"{alt}\" loading=\"lazy\">\
                     <figcaption>{caption}</figcaption></figure>",
                    src = e(src),
                    alt = e(&alt),
                    caption = e(caption_of(item)),
                );
            }
            ("video", Some(src)) => {
                let _ = writeln!(
                    h,
                    "<figure><video controls preload=\"metadata\">\
                     <source src=\"{src}\" type=\"{mime}\">\
                     <a href=\"{src}\" download>{download} {name}</a></video>\
                     <figcaption>{caption}</figcaption></figure>",
                    src = e(src),
                    mime = e(item.mime),
                    download = t.download,
                    name = e(item.filename),
                    caption = e(caption_of(item)),
                );
            }
            _ => documents.push(item),
        }
    }
    if !documents.is_empty() {
        let _ = write!(h, "<h3>{}</h3>\n<ul class=\"documents\">\n", t.documents);
        for item in documents {
            h.push_str("<li>");
            link_or_text(h, item.href, item.filename, " download");
            let _ = writeln!(
                h,
                " <span class=\"type\">({})</span></li>",
                e(&type_label(item.mime))
            );
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</section>\n");
}

/// An `<a>` when `href` is a URL we are willing to link, otherwise just the text.
fn link_or_text(h: &mut String, href: &str, text: &str, extra_attrs: &str) {
    match safe_href(href) {
        Some(href) => {
            let _ = write!(
                h,
                "<a href=\"{}\"{extra_attrs}>{}</a>",
                escape_html(href),
                escape_html(text)
            );
        }
        None => h.push_str(&escape_html(text)),
    }
}

/// `href` if it is relative or `http(s):`, else `None`.
fn safe_href(href: &str) -> Option<&str> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    match url_scheme(href).as_deref() {
        None | Some("http") | Some("https") => Some(href),
        Some(_) => None,
    }
}

fn type_label(mime: &str) -> String {
    let label = match mime {
        "application/pdf" => "PDF",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "Word",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "Excel",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "PowerPoint",
        "application/vnd.oasis.opendocument.text" => "ODT",
        "application/vnd.oasis.opendocument.spreadsheet" => "ODS",
        "application/vnd.oasis.opendocument.presentation" => "ODP",
        other => return other.to_owned(),
    };
    label.to_owned()
}

/// Scripts are forbidden outright; images and media may come from the site itself or from
/// any http(s) host (the hub serves attachments); nothing may be framed or submitted.
const CSP: &str = "default-src 'none'; img-src 'self' http: https:; media-src 'self' http: https:; \
                   style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

const CSS: &str = "\
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--muted:#555;--accent:#0b5cad;--line:#d0d0d0}\
@media (prefers-color-scheme:dark){:root{--fg:#eee;--bg:#121212;--muted:#b0b0b0;--accent:#8cc4ff;--line:#444}}\
*{box-sizing:border-box}\
body{margin:0;background:var(--bg);color:var(--fg);font:1.0625rem/1.6 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif}\
main,header.site,footer.site{max-width:44rem;margin:0 auto;padding:0 1rem}\
header.site{border-bottom:1px solid var(--line);padding-block:.75rem}\
.site-title{margin:0;font-weight:700;font-size:1.1rem}\
footer.site{border-top:1px solid var(--line);margin-top:3rem;padding-block:1rem;color:var(--muted);font-size:.9rem}\
a{color:var(--accent)}\
a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}\
.skip{position:absolute;left:-999px}\
.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem;z-index:1}\
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
h1{font-size:2rem;line-height:1.25;margin:.5rem 0}\
.category{text-transform:uppercase;letter-spacing:.05em;font-size:.8rem;color:var(--muted);margin:1.5rem 0 0}\
.summary{font-size:1.15rem;color:var(--muted)}\
.meta{font-size:.9rem;color:var(--muted)}\
img,video{max-width:100%;height:auto}\
figure{margin:1.5rem 0}\
figcaption{font-size:.9rem;color:var(--muted)}\
blockquote{margin:1rem 0;padding-left:1rem;border-left:4px solid var(--line)}\
pre{overflow-x:auto;padding:.75rem;border:1px solid var(--line)}\
table{border-collapse:collapse;display:block;overflow-x:auto}\
th,td{border:1px solid var(--line);padding:.35rem .6rem;text-align:left}\
.tags{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}\
.tags li{border:1px solid var(--line);border-radius:1rem;padding:0 .6rem;font-size:.85rem}\
ol.index{list-style:none;padding:0}\
ol.index li{border-bottom:1px solid var(--line)}\
ol.index h3{margin-bottom:0}";

fn head(h: &mut String, t: &Labels, title: &str, description: &str) {
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"referrer\" content=\"strict-origin-when-cross-origin\">\n",
        lang = t.lang,
    );
    if !description.trim().is_empty() {
        let _ = writeln!(
            h,
            "<meta name=\"description\" content=\"{}\">",
            escape_html(description)
        );
    }
    let _ = write!(
        h,
        "<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape_html(title)
    );
}

fn foot(h: &mut String, site_title: &str) {
    let _ = write!(
        h,
        "<footer class=\"site\"><p>{}</p></footer>\n</body>\n</html>\n",
        escape_html(site_title)
    );
}

/// The fixed words of a page. Indonesian first; these are HTML-safe literals.
struct Labels {
    lang: &'static str,
    skip: &'static str,
    published: &'static str,
    not_published: &'static str,
    attachments: &'static str,
    documents: &'static str,
    photo: &'static str,
    download: &'static str,
    tags: &'static str,
    latest: &'static str,
    no_news: &'static str,
}

const ID: Labels = Labels {
    lang: "id",
    skip: "Langsung ke isi",
    published: "Diterbitkan",
    not_published: "Belum diterbitkan",
    attachments: "Lampiran",
    documents: "Dokumen",
    photo: "Foto:",
    download: "Unduh",
    tags: "Tag",
    latest: "Berita terbaru",
    no_news: "Belum ada berita.",
};

const EN: Labels = Labels {
    lang: "en",
    skip: "Skip to content",
    published: "Published",
    not_published: "Not yet published",
    attachments: "Attachments",
    documents: "Documents",
    photo: "Photo:",
    download: "Download",
    tags: "Tags",
    latest: "Latest news",
    no_news: "No news yet.",
};

impl Labels {
    fn for_lang(lang: &str) -> &'static Labels {
        if lang.eq_ignore_ascii_case("en") {
            &EN
        } else {
            &ID
        }
    }
}

fn caption_of<'a>(item: &PageAttachment<'a>) -> &'a str {
    if item.caption.trim().is_empty() {
        item.filename
    } else {
        item.caption.trim()
    }
}
