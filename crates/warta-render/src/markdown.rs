//! Markdown → HTML → allowlist.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{Event, Options, Parser};

/// Prefix given to every `id` in an article body (and to in-page `#` links), so an article
/// cannot shadow ids of the page around it.
const ID_PREFIX: &str = "fn-";

/// Renders a reporter's Markdown to HTML that is safe to put in any page.
///
/// Markdown is CommonMark plus tables, ~~strikethrough~~, footnotes and task lists
/// (`- [x]` becomes the text `☑`/`☐`, not a form control). Raw HTML in the Markdown is *not*
/// passed through as is: it goes through the same allowlist as everything else, so
/// `<figure>` survives and `<script>` disappears with its content. There is no other path.
///
/// # The allowlist
///
/// | element | attributes kept |
/// | --- | --- |
/// | `h1`–`h6`, `p`, `br`, `hr`, `blockquote`, `pre`, `em`, `strong`, `del`, `ul`, `li`, `table`, `thead`, `tbody`, `tr`, `th`, `td`, `figure`, `figcaption` | none |
/// | `ol` | `start` (digits only) |
/// | `code` | `class` only as `language-NAME` (fenced code blocks) |
/// | `a` | `href` (`http:`, `https:`, `mailto:` or relative), `title`; `rel="noopener noreferrer"` is always added |
/// | `img` | `src` (`http:`, `https:` or relative — never `data:`), `alt`, `title` |
/// | `sup`, `div` | `class` only as pulldown-cmark's footnote classes; `id` (prefixed `fn-`) |
///
/// Everything else is removed, keeping its text, except `script`, `style`, `template`,
/// `iframe`, `object`, `embed`, `svg`, `math`, `noscript`, `noembed`, `noframes`, `xmp` and
/// `title`, which are removed *with* their content. HTML comments are removed. No `style`
/// attribute and no `on*` handler is ever kept; URLs with any other scheme (`javascript:`,
/// `vbscript:`, `data:`, `file:` …, however encoded or spaced) are dropped. Table column
/// alignment is dropped, since pulldown-cmark expresses it with `style`.
///
/// In-page links (`#x`) and ids are prefixed with `fn-` so footnotes keep working while an
/// article can never reuse an id of the page around it.
pub fn render_markdown(md: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(md, options).map(|event| match event {
        // A checkbox is a form control; the reader only needs to see the state.
        Event::TaskListMarker(true) => Event::Text("☑ ".into()),
        Event::TaskListMarker(false) => Event::Text("☐ ".into()),
        other => other,
    });
    let mut html = String::with_capacity(md.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    sanitise_html(&html)
}

/// Passes an HTML fragment through the article allowlist described on [`render_markdown`].
///
/// Idempotent on its own output, so [`crate::page_html`] applies it again to the body it is
/// given: a caller that forgets to sanitise cannot produce an unsafe page.
///
/// The result is what a browser builds when it reads it back. Removing a disallowed element
/// keeps its children where it stood, which can leave a tree no parser would build (an `<img>`
/// straight in a `<table>` once a `<caption>` is gone, a `<p>` in a `<p>` once a `<select>` is
/// gone); read again, such markup moves (mutation XSS works this way). So the allowlist is
/// applied until its output no longer changes, and markup that still changes after a few
/// rounds is published as plain text.
pub fn sanitise_html(html: &str) -> String {
    let mut current = SANITISER.clean(html).to_string();
    for _ in 0..MAX_PASSES {
        let again = SANITISER.clean(&current).to_string();
        if again == current {
            return current;
        }
        current = again;
    }
    TEXT_ONLY.clean(&current).to_string()
}

/// Rounds of the allowlist after the first before giving up on markup.
const MAX_PASSES: usize = 4;

/// Keeps text only, for markup that would not settle.
static TEXT_ONLY: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::empty();
    builder
        .clean_content_tags(CLEAN_CONTENT_TAGS.iter().copied().collect())
        .strip_comments(true);
    builder
});

/// Removed with their content, not just unwrapped.
const CLEAN_CONTENT_TAGS: &[&str] = &[
    "script", "style", "template", "iframe", "object", "embed", "svg", "math", "noscript",
    "noembed", "noframes", "xmp", "title",
];

static SANITISER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "p",
        "br",
        "hr",
        "blockquote",
        "pre",
        "code",
        "em",
        "strong",
        "del",
        "ul",
        "ol",
        "li",
        "a",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "figure",
        "figcaption",
        "sup",
        "div",
    ]
    .into_iter()
    .collect();
    let tag_attributes: HashMap<&str, HashSet<&str>> = [
        ("a", &["href", "title"][..]),
        ("img", &["src", "alt", "title"][..]),
        ("ol", &["start"][..]),
        ("code", &["class"][..]),
        ("sup", &["class", "id"][..]),
        ("div", &["class", "id"][..]),
    ]
    .into_iter()
    .map(|(tag, attrs)| (tag, attrs.iter().copied().collect()))
    .collect();
    let clean_content_tags: HashSet<&str> = CLEAN_CONTENT_TAGS.iter().copied().collect();

    let mut builder = Builder::empty();
    builder
        .tags(tags)
        .clean_content_tags(clean_content_tags)
        .tag_attributes(tag_attributes)
        .tag_attribute_values(HashMap::new())
        .set_tag_attribute_values(HashMap::new())
        .generic_attributes(HashSet::new())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        .id_prefix(None)
        .attribute_filter(filter_attribute);
    builder
});

/// Runs after ammonia's own allowlist and scheme checks, for rules it cannot express per tag.
fn filter_attribute<'u>(
    element: &str,
    attribute: &str,
    value: &'u str,
) -> Option<std::borrow::Cow<'u, str>> {
    use std::borrow::Cow;
    match (element, attribute) {
        // `mailto:` is fine for a link, meaningless for an image.
        ("img", "src") => match url_scheme(value).as_deref() {
            None | Some("http") | Some("https") => Some(Cow::Borrowed(value)),
            Some(_) => None,
        },
        ("a", "href") => match value.strip_prefix('#') {
            Some(fragment) if !fragment.starts_with(ID_PREFIX) => {
                Some(Cow::Owned(format!("#{ID_PREFIX}{fragment}")))
            }
            _ => Some(Cow::Borrowed(value)),
        },
        (_, "id") if value.starts_with(ID_PREFIX) => Some(Cow::Borrowed(value)),
        (_, "id") => Some(Cow::Owned(format!("{ID_PREFIX}{value}"))),
        ("code", "class") => {
            let name = value.strip_prefix("language-")?;
            let plain = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '#' | '.'));
            plain.then_some(Cow::Borrowed(value))
        }
        // A list's first number (CommonMark allows up to nine digits); nothing else.
        ("ol", "start") => {
            (!value.is_empty() && value.len() <= 9 && value.bytes().all(|b| b.is_ascii_digit()))
                .then_some(Cow::Borrowed(value))
        }
        ("sup", "class") => matches!(value, "footnote-reference" | "footnote-definition-label")
            .then_some(Cow::Borrowed(value)),
        ("div", "class") => (value == "footnote-definition").then_some(Cow::Borrowed(value)),
        _ => Some(Cow::Borrowed(value)),
    }
}

/// The scheme of a URL as a browser would read it (lower case), or `None` when relative.
///
/// Browsers drop leading/trailing C0 controls and spaces and ignore tabs and newlines
/// anywhere, so `" java\tscript:"` has the scheme `javascript`.
pub(crate) fn url_scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let end = cleaned.find([':', '/', '?', '#'])?;
    if !cleaned[end..].starts_with(':') {
        return None;
    }
    let scheme = &cleaned[..end];
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    // Something like `a b:c` is not a scheme for a browser either: it is a relative path.
    valid.then(|| scheme.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::url_scheme;

    #[test]
    fn url_scheme_reads_like_a_browser() {
        assert_eq!(url_scheme("https://x").as_deref(), Some("https"));
        assert_eq!(
            url_scheme(" \u{1}JaVa\tScRiPt:alert(1)").as_deref(),
            Some("javascript")
        );
        assert_eq!(url_scheme("/a:b"), None);
        assert_eq!(url_scheme("a/b:c"), None);
        assert_eq!(url_scheme("foto.jpg"), None);
        assert_eq!(url_scheme("#x:y"), None);
        assert_eq!(
            url_scheme("data:image/png;base64,AA").as_deref(),
            Some("data")
        );
    }
}
