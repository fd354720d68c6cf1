//! A fetched page, read for what the checks need: its text (visible and hidden apart), its
//! title and meta text, and every link, embedded resource and redirect, each marked hidden when
//! it sits in a block a visitor does not see.
//!
//! "Hidden" is what injections use to show links to search engines but not to people: the
//! `hidden` attribute, inline styles such as `display:none`, `visibility:hidden`, zero size
//! with overflow hidden, zero font size or opacity, far off-screen positions or text indents,
//! and the same declarations in the page's own `<style>` blocks for a class or an id.
//!
//! The tree is walked with an explicit stack, so a hostile page nested a million levels deep
//! costs memory in proportion to its size (which the fetcher bounds), not a stack overflow.

use std::collections::HashSet;

use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::text::squash_spaces;

/// What a resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Script,
    Iframe,
    Embed,
    Image,
    Stylesheet,
    Form,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: Url,
    pub text: String,
    pub hidden: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub kind: ResourceKind,
    pub url: Url,
    pub hidden: bool,
}

/// A page as the checks see it.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The page's address (links are resolved against it, or its `<base href>`).
    pub url: Option<Url>,
    pub title: String,
    /// Meta description and keywords.
    pub meta: String,
    /// What a visitor reads (with images' alternative text), whitespace collapsed.
    pub text: String,
    /// Text inside hidden blocks.
    pub hidden_text: String,
    pub links: Vec<Link>,
    pub resources: Vec<Resource>,
    /// Where `<meta http-equiv=refresh>` or a script's `location = "..."` sends the visitor.
    pub redirects: Vec<Url>,
    /// The page nests deeper than [`MAX_DEPTH`]; only the part before that was read.
    pub too_deep: bool,
}

/// Elements nested deeper than this are not read (browsers stop at 512). The HTML parser's cost
/// grows with depth times the number of tags, so this bounds the time a hostile page can take.
pub const MAX_DEPTH: usize = 1024;

/// Elements whose end tag may be left out (the parser closes them) and void elements: neither
/// nests what follows.
const NOT_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th",
    "thead", "tbody", "tfoot", "colgroup", "rt", "rp", "html", "head", "body",
];

/// Elements whose content is raw text (no tags inside).
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
];

/// The length of the part of `html` nested at most [`MAX_DEPTH`] deep, by a linear scan of its
/// tags (an estimate: the parser's own rules are not applied, but it never undercounts the
/// nesting of well-formed markup by more than the optional end tags above).
fn depth_cut(html: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(off) = memchr(b'<', &bytes[i..]) {
        let at = i + off;
        let rest = &bytes[at + 1..];
        if rest.starts_with(b"!--") {
            i = find(bytes, at + 4, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        if rest.first() == Some(&b'/') {
            depth = depth.saturating_sub(1);
            i = at + 2;
            continue;
        }
        let name_len = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 || !rest[0].is_ascii_alphabetic() {
            i = at + 1;
            continue;
        }
        let name = html[at + 1..at + 1 + name_len].to_ascii_lowercase();
        let Some(close) = memchr(b'>', &bytes[at..]).map(|c| at + c) else {
            break;
        };
        i = close + 1;
        if RAW_TEXT.contains(&name.as_str()) {
            // Skip to its end tag: a script's "<" is not a tag.
            let end = format!("</{name}");
            i = find_ci(html, i, &end).unwrap_or(bytes.len());
            continue;
        }
        if NOT_NESTING.contains(&name.as_str()) || bytes[close - 1] == b'/' {
            continue;
        }
        depth += 1;
        if depth > MAX_DEPTH {
            return Some(at);
        }
    }
    None
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|b| *b == needle)
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn find_ci(hay: &str, from: usize, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    hay.as_bytes()
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// Inline declarations that hide an element (lowercased, without spaces).
fn hides(style: &str) -> bool {
    let s: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    let decl = |name: &str| -> Option<&str> {
        s.split(';')
            .find_map(|d| d.strip_prefix(name)?.strip_prefix(':'))
    };
    let value = |name: &str| decl(name).map(|v| v.trim_end_matches("!important"));
    if value("display") == Some("none") || value("visibility") == Some("hidden") {
        return true;
    }
    if value("opacity").is_some_and(|v| v.parse::<f32>().is_ok_and(|o| o < 0.05)) {
        return true;
    }
    if value("font-size").is_some_and(is_zero_length) {
        return true;
    }
    let clipped = value("overflow") == Some("hidden");
    if clipped
        && (value("height").is_some_and(is_zero_length)
            || value("width").is_some_and(is_zero_length))
    {
        return true;
    }
    for side in ["left", "top", "text-indent", "margin-left", "margin-top"] {
        if value(side).is_some_and(is_far_negative) {
            return true;
        }
    }
    false
}

fn is_zero_length(v: &str) -> bool {
    let digits: String = v
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    !digits.is_empty() && digits.parse::<f32>().is_ok_and(|n| n == 0.0)
}

fn is_far_negative(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('-') else {
        return false;
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse::<u64>().is_ok_and(|n| n >= 999)
}

/// Classes and ids the page's `<style>` blocks hide.
#[derive(Debug, Default)]
struct HiddenSelectors {
    classes: HashSet<String>,
    ids: HashSet<String>,
}

fn hidden_selectors(doc: &Html) -> HiddenSelectors {
    static RULE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let rule = RULE.get_or_init(|| Regex::new(r"([^{}]+)\{([^{}]*)\}").expect("valid regex"));
    let mut out = HiddenSelectors::default();
    let style = Selector::parse("style").expect("valid selector");
    for block in doc.select(&style) {
        let css: String = block.text().collect();
        for caps in rule.captures_iter(&css) {
            if !hides(&caps[2]) {
                continue;
            }
            for selector in caps[1].split(',') {
                // Only the simple ones: `.name`, `#name`, `div.name`.
                let last = selector.split_whitespace().last().unwrap_or("");
                if let Some((_, class)) = last.split_once('.') {
                    out.classes.insert(class.to_string());
                } else if let Some((_, id)) = last.split_once('#') {
                    out.ids.insert(id.to_string());
                }
            }
        }
    }
    out
}

fn redirect_in_script(code: &str) -> Vec<String> {
    static ASSIGN: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let assign = ASSIGN.get_or_init(|| {
        Regex::new(
            r#"(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*(?:=|\.replace\(|\.assign\()\s*["']([^"']+)["']"#,
        )
        .expect("valid regex")
    });
    assign
        .captures_iter(code)
        .map(|c| c[1].to_string())
        .collect()
}

fn refresh_target(content: &str) -> Option<String> {
    let lower = content.to_lowercase();
    let at = lower.find("url=")?;
    let target = content[at + 4..]
        .trim()
        .trim_matches(|c| c == '\'' || c == '"');
    (!target.is_empty()).then(|| target.to_string())
}

impl Page {
    /// Reads `html`, fetched from `url` (links are made absolute against it).
    pub fn parse(html: &str, url: Option<&Url>) -> Page {
        let cut = depth_cut(html);
        let doc = Html::parse_document(cut.map_or(html, |at| &html[..at]));
        let hidden_by_css = hidden_selectors(&doc);
        let base = Selector::parse("base[href]").expect("valid selector");
        let base_url = doc
            .select(&base)
            .next()
            .and_then(|b| b.value().attr("href"))
            .and_then(|href| match url {
                Some(u) => u.join(href).ok(),
                None => Url::parse(href).ok(),
            })
            .or_else(|| url.cloned());
        let resolve = |href: &str| -> Option<Url> {
            let href = href.trim();
            if href.is_empty() || href.starts_with('#') {
                return None;
            }
            let u = match &base_url {
                Some(b) => b.join(href).ok()?,
                None => Url::parse(href).ok()?,
            };
            matches!(u.scheme(), "http" | "https").then_some(u)
        };

        let mut page = Page {
            url: url.cloned(),
            too_deep: cut.is_some(),
            ..Page::default()
        };
        let mut text = String::new();
        let mut hidden_text = String::new();
        let mut meta = String::new();

        // (node, inside a hidden block)
        let mut stack = vec![(doc.tree.root(), false)];
        while let Some((node, hidden_above)) = stack.pop() {
            match node.value() {
                Node::Text(t) => {
                    let out = if hidden_above {
                        &mut hidden_text
                    } else {
                        &mut text
                    };
                    out.push_str(t);
                    out.push(' ');
                }
                Node::Element(el) => {
                    let name = el.name();
                    let hidden = hidden_above
                        || el.attr("hidden").is_some()
                        || el.attr("style").is_some_and(hides)
                        || el.classes().any(|c| hidden_by_css.classes.contains(c))
                        || el.id().is_some_and(|id| hidden_by_css.ids.contains(id));
                    let element = ElementRef::wrap(node).expect("an element node");
                    match name {
                        "title" => {
                            if page.title.is_empty() {
                                page.title = squash_spaces(&element.text().collect::<String>());
                            }
                            continue;
                        }
                        "style" | "template" | "noscript" => continue,
                        "script" => {
                            if let Some(u) = el.attr("src").and_then(resolve) {
                                page.resources.push(Resource {
                                    kind: ResourceKind::Script,
                                    url: u,
                                    hidden,
                                });
                            }
                            let code: String = element.text().collect();
                            page.redirects.extend(
                                redirect_in_script(&code).iter().filter_map(|t| resolve(t)),
                            );
                            continue;
                        }
                        "meta" => {
                            let content = el.attr("content").unwrap_or("");
                            if el
                                .attr("http-equiv")
                                .is_some_and(|h| h.eq_ignore_ascii_case("refresh"))
                            {
                                page.redirects
                                    .extend(refresh_target(content).and_then(|t| resolve(&t)));
                            }
                            if el.attr("name").is_some_and(|n| {
                                n.eq_ignore_ascii_case("description")
                                    || n.eq_ignore_ascii_case("keywords")
                            }) || el.attr("property").is_some_and(|p| {
                                p.eq_ignore_ascii_case("og:title")
                                    || p.eq_ignore_ascii_case("og:description")
                            }) {
                                meta.push_str(content);
                                meta.push(' ');
                            }
                        }
                        "a" | "area" => {
                            if let Some(u) = el.attr("href").and_then(resolve) {
                                page.links.push(Link {
                                    url: u,
                                    text: squash_spaces(&element.text().collect::<String>()),
                                    hidden,
                                });
                            }
                        }
                        "iframe" | "frame" => {
                            if let Some(u) = el.attr("src").and_then(resolve) {
                                page.resources.push(Resource {
                                    kind: ResourceKind::Iframe,
                                    url: u,
                                    hidden,
                                });
                            }
                        }
                        "embed" | "object" => {
                            if let Some(u) = el.attr("src").or(el.attr("data")).and_then(resolve) {
                                page.resources.push(Resource {
                                    kind: ResourceKind::Embed,
                                    url: u,
                                    hidden,
                                });
                            }
                        }
                        "img" => {
                            if let Some(u) = el.attr("src").and_then(resolve) {
                                page.resources.push(Resource {
                                    kind: ResourceKind::Image,
                                    url: u,
                                    hidden,
                                });
                            }
                            if let Some(alt) = el.attr("alt") {
                                let out = if hidden { &mut hidden_text } else { &mut text };
                                out.push_str(alt);
                                out.push(' ');
                            }
                        }
                        "link" => {
                            let stylesheet = el
                                .attr("rel")
                                .is_some_and(|r| r.to_ascii_lowercase().contains("stylesheet"));
                            if stylesheet && let Some(u) = el.attr("href").and_then(resolve) {
                                page.resources.push(Resource {
                                    kind: ResourceKind::Stylesheet,
                                    url: u,
                                    hidden,
                                });
                            }
                        }
                        "form" => {
                            if let Some(u) = el.attr("action").and_then(resolve) {
                                page.resources.push(Resource {
                                    kind: ResourceKind::Form,
                                    url: u,
                                    hidden,
                                });
                            }
                        }
                        _ => {}
                    }
                    // Children in document order: pushed last first.
                    let children: Vec<_> = node.children().collect();
                    for child in children.into_iter().rev() {
                        stack.push((child, hidden));
                    }
                    // Block boundaries separate words ("<p>slot</p><p>gacor</p>" is two words).
                    text.push(' ');
                }
                _ => {
                    let children: Vec<_> = node.children().collect();
                    for child in children.into_iter().rev() {
                        stack.push((child, hidden_above));
                    }
                }
            }
        }
        page.text = squash_spaces(&text);
        page.hidden_text = squash_spaces(&hidden_text);
        page.meta = squash_spaces(&meta);
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(html: &str) -> Page {
        Page::parse(
            html,
            Some(&Url::parse("https://kaltimprov.go.id/berita/").unwrap()),
        )
    }

    #[test]
    fn links_resources_and_text_are_read_and_resolved() {
        let p = page(
            r##"<html><head><title> Berita  Kaltim </title>
               <meta name="description" content="Portal resmi">
               <script src="/js/app.js"></script><link rel="stylesheet" href="https://cdn.example/x.css"></head>
               <body><h1>Banjir</h1><p>Warga <a href="../profil">profil</a> dievakuasi.</p>
               <img src="foto.jpg" alt="Foto banjir"><iframe src="https://www.youtube.com/embed/x"></iframe>
               <a href="mailto:x@y">mail</a><a href="#top">atas</a></body></html>"##,
        );
        assert_eq!(p.title, "Berita Kaltim");
        assert_eq!(p.meta, "Portal resmi");
        assert_eq!(
            p.text,
            "Banjir Warga profil dievakuasi. Foto banjir mail atas"
        );
        assert_eq!(
            p.links.len(),
            1,
            "mailto and fragments are not links to check"
        );
        assert_eq!(p.links[0].url.as_str(), "https://kaltimprov.go.id/profil");
        let kinds: Vec<_> = p
            .resources
            .iter()
            .map(|r| (r.kind, r.url.host_str().unwrap().to_string()))
            .collect();
        assert!(kinds.contains(&(ResourceKind::Script, "kaltimprov.go.id".into())));
        assert!(kinds.contains(&(ResourceKind::Stylesheet, "cdn.example".into())));
        assert!(kinds.contains(&(ResourceKind::Iframe, "www.youtube.com".into())));
        assert!(kinds.contains(&(ResourceKind::Image, "kaltimprov.go.id".into())));
    }

    #[test]
    fn hidden_blocks_are_told_apart_however_they_are_hidden() {
        for hidden in [
            r#"<div style="display: none">"#,
            r#"<div style="visibility:hidden;">"#,
            r#"<div style="position:absolute; left:-9999px">"#,
            r#"<div style="height:0;overflow:hidden">"#,
            r#"<div style="font-size:0px">"#,
            r#"<div style="opacity:0">"#,
            r#"<div style="text-indent:-10000px">"#,
            r#"<div hidden>"#,
            r#"<div class="sp x">"#,
            r#"<div id="seo">"#,
        ] {
            let p = page(&format!(
                r#"<style>.sp {{ position:absolute; top:-5000px }} #seo{{display:none!important}}</style>
                   <p>Berita</p>{hidden}<span><a href="https://slot.example/">slot gacor</a></span></div>"#
            ));
            assert_eq!(p.text, "Berita", "{hidden}");
            assert_eq!(p.hidden_text, "slot gacor", "{hidden}");
            assert!(p.links[0].hidden, "{hidden}");
        }
        let shown = page(
            r#"<div style="display:block;left:-5px"><a href="https://a.example/">a</a></div>"#,
        );
        assert!(!shown.links[0].hidden);
    }

    #[test]
    fn redirects_by_meta_refresh_and_script_are_found() {
        let p = page(
            r#"<meta http-equiv="Refresh" content="0; URL='https://judi.example/'">
               <script>if (bot) { window.location.href = "https://slot.example/masuk"; }</script>"#,
        );
        let hosts: Vec<_> = p.redirects.iter().map(|u| u.host_str().unwrap()).collect();
        assert_eq!(hosts, vec!["judi.example", "slot.example"]);
    }

    #[test]
    fn a_deeply_nested_page_is_read_up_to_the_depth_limit_in_linear_time() {
        // html5ever checks scopes by walking the open elements: quadratic in depth. 200,000
        // nested blocks would take minutes; cut at the limit they take a moment.
        let html = format!(
            "<a href='/atas'>atas</a>{}<a href='/x'>x</a>",
            "<div>".repeat(200_000)
        );
        let p = page(&html);
        assert!(p.too_deep);
        assert_eq!(p.links.len(), 1, "the part before the cut is read");
        // Optional end tags and void elements do not count as nesting.
        let list = format!(
            "<ul>{}</ul><br><img src=a.jpg><a href='/akhir'>akhir</a>",
            "<li>butir <br>".repeat(5_000)
        );
        let p = page(&list);
        assert!(!p.too_deep);
        assert_eq!(p.links.len(), 1);
        let scripts = format!(
            "<script>{}</script><a href='/akhir'>akhir</a>",
            "if (a<b) { x = '<div>'; }".repeat(5_000)
        );
        assert!(!page(&scripts).too_deep);
    }
}
