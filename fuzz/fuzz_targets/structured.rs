//! Grammar-guided input: the fuzzer's bytes choose tags, attributes, values, quoting and
//! Markdown pieces from lists of the ones that matter, so a bounded run tries many more
//! element × attribute × URL combinations than byte mutations reach (the sanitiser's
//! allowlist is a set of table lookups, which coverage feedback cannot steer towards).
//! Each document goes through render_markdown and sanitise_html; both outputs must be inert
//! and stable.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use warta_render::inert::assert_article_inert;
use warta_render::{render_markdown, sanitise_html};

#[rustfmt::skip]
const TAGS: &[&str] = &[
    "p", "a", "img", "div", "sup", "code", "pre", "ol", "ul", "li", "table", "thead", "tbody",
    "tr", "td", "th", "caption", "colgroup", "figure", "figcaption", "blockquote", "h1", "h6",
    "em", "strong", "del", "br", "hr", "span", "font", "b", "select", "option", "textarea",
    "noscript", "noembed", "noframes", "xmp", "title", "plaintext", "listing", "style", "script",
    "template", "iframe", "object", "embed", "form", "input", "button", "base", "meta", "link",
    "svg", "math", "mtext", "mi", "mglyph", "malignmark", "maction", "annotation-xml",
    "foreignObject", "desc", "animate", "set", "use", "image", "details", "body", "frameset",
];

#[rustfmt::skip]
const ATTRIBUTES: &[&str] = &[
    "href", "src", "style", "onerror", "onclick", "onload", "id", "class", "title", "alt",
    "start", "rel", "target", "srcset", "xlink:href", "formaction", "action", "data", "srcdoc",
    "name", "encoding", "attributeName", "values", "to", "from", "background", "poster",
    "http-equiv", "content", "lang", "is", "popover",
];

const VALUES: &[&str] = &[
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    " \u{1}javascript:alert(1)",
    "&#106;avascript&colon;alert(1)",
    "&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)",
    "jav&Tab;ascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:image/png;base64,AAAA",
    "https://contoh.go.id/a?b=c#d",
    "http://contoh.go.id",
    "//evil.example/x",
    "/berita/1",
    "foto.jpg",
    "#isi",
    "#fn-1",
    "mailto:humas@contoh.go.id",
    "x",
    "",
    "footnote-definition",
    "footnote-reference",
    "footnote-definition-label",
    "language-rust",
    "language-x y",
    "fn-1",
    "text/html",
    "1",
    "color:red",
    "width:expression(alert(1))",
    "background:url(javascript:alert(1))",
    "</p><img src=x onerror=alert(1)>",
    "\"><script>alert(1)</script>",
    "x\" onerror=\"alert(1)",
    "</style><img src=x onerror=alert(1)>",
    "--><img src=x onerror=alert(1)>",
    "noopener",
    "alert(1)",
];

const TEXTS: &[&str] = &[
    "teks",
    "<",
    ">",
    "&",
    "&lt;",
    "&amp;",
    "&#",
    "\"",
    "'",
    "`",
    "\n",
    "\n\n",
    "<!--",
    "-->",
    "--!>",
    "<![CDATA[",
    "]]>",
    "<?",
    "*",
    "**",
    "~~",
    "\\",
    "[a](javascript:alert(1))",
    "[a](https://contoh.go.id \"t\")",
    "![a](javascript:alert(1) \"t\")",
    "![a](foto.jpg \"\\\" onerror=\\\"alert(1)\")",
    "<javascript:alert(1)>",
    "<https://contoh.go.id>",
    "[r]",
    "\n\n[r]: javascript:alert(1)\n",
    "\n| a | b |\n|---|:-:|\n| ",
    " | ",
    "\n- ",
    "\n1. ",
    "\n> ",
    "\n    ",
    "\n```\n",
    "\n```html\n",
    "[^1]",
    "\n\n[^1]: ",
    "\n# ",
    "\n---\n",
    "- [x] ",
];

fn piece(u: &mut Unstructured<'_>, out: &mut String) -> Result<()> {
    match u.int_in_range(0..=9u8)? {
        0..=3 => {
            let tag = *u.choose(TAGS)?;
            out.push('<');
            push_name(u, tag, out)?;
            for _ in 0..u.int_in_range(0..=3u8)? {
                out.push_str(u.choose(&[" ", "\n", "/", "\t"])?);
                let attribute = *u.choose(ATTRIBUTES)?;
                push_name(u, attribute, out)?;
                if u.ratio(7, 8)? {
                    let value = *u.choose(VALUES)?;
                    match u.int_in_range(0..=2u8)? {
                        0 => {
                            out.push_str("=\"");
                            out.push_str(&value.replace('"', "&quot;"));
                            out.push('"');
                        }
                        1 => {
                            out.push_str("='");
                            out.push_str(value);
                            out.push('\'');
                        }
                        _ => {
                            out.push('=');
                            out.push_str(value);
                        }
                    }
                }
            }
            out.push_str(u.choose(&[">", "/>", " >", ""])?);
        }
        4 | 5 => {
            out.push_str("</");
            let tag = *u.choose(TAGS)?;
            push_name(u, tag, out)?;
            out.push('>');
        }
        _ => out.push_str(u.choose(TEXTS)?),
    }
    Ok(())
}

/// A tag or attribute name, sometimes in mixed case as browsers accept it.
fn push_name(u: &mut Unstructured<'_>, name: &str, out: &mut String) -> Result<()> {
    if u.ratio(1, 6)? {
        for (i, c) in name.chars().enumerate() {
            if i % 2 == 0 {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
        }
    } else {
        out.push_str(name);
    }
    Ok(())
}

fn document(u: &mut Unstructured<'_>) -> Result<String> {
    let mut out = String::new();
    for _ in 0..64 {
        if u.is_empty() {
            break;
        }
        piece(u, &mut out)?;
    }
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = document(&mut Unstructured::new(data)) else {
        return;
    };
    for (route, html) in [
        ("render_markdown", render_markdown(&input)),
        ("sanitise_html", sanitise_html(&input)),
    ] {
        assert_article_inert(&input, &html);
        let again = sanitise_html(&html);
        assert!(
            again == html,
            "{route}: not idempotent\ninput: {input:?}\nonce:  {html:?}\ntwice: {again:?}"
        );
    }
});
