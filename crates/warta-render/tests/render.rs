//! The one integration-test binary of warta-render.

mod xss;

use expect_test::{Expect, expect};
use warta_render::{
    IndexEntry, Page, PageAttachment, escape_html, index_html, page_html, render_markdown,
    sanitise_html,
};

/// Payloads a hostile or careless author might put in an article body.
const XSS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)//",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<a href=\"javascript:alert(1)\">klik</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">klik</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">klik</a>",
    "<a href=\"&#x6A;avascript&colon;alert(1)\">klik</a>",
    "<a href=\"  javascript:alert(1)\">klik</a>",
    "<a href=\"java\tscript:alert(1)\">klik</a>",
    "<a href=\"vbscript:msgbox(1)\">klik</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">klik</a>",
    "<img src=\"javascript:alert(1)\">",
    "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
    "<img src=\"mailto:a@b.c\" alt=\"m\">",
    "![gambar](javascript:alert(1))",
    "![gambar](data:image/png;base64,iVBORw0KGgo=)",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1) \"judul\")",
    "[x](&#106;avascript:alert(1))",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<math href=\"javascript:alert(1)\">CLICK</math>",
    "<p style=\"background:url(javascript:alert(1))\">gaya</p>",
    "<div style=\"width: expression(alert(1))\">gaya</div>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<!-- <script>alert(1)</script> -->komentar",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<form action=\"https://evil.example\"><input name=q><button>kirim</button></form>",
    "<details open ontoggle=alert(1)>x</details>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\" onmouseover=alert(2)>ok</a>",
    "<p onclick=\"alert(1)\" id=\"x\" class=\"admin-banner\">teks</p>",
    "<body onload=alert(1)>",
    "<video><source onerror=\"alert(1)\"></video>",
    "<a href=\"https://ok.example\" target=\"_blank\" rel=\"opener\">ok</a>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<template><script>alert(1)</script></template>",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "```html\n<script>alert(1)</script>\n```",
    "<img src=\"x\" alt=\"\" title=\"\" onerror=\"alert(1)\"/>",
    "<a href=\"jav&#x09;ascript:alert(1)\">tab</a>",
];

/// Elements that must never appear in an article body.
const FORBIDDEN_TAGS: &[&str] = &[
    "script", "iframe", "object", "embed", "svg", "math", "style", "base", "meta", "form", "input",
    "button", "link", "body", "html", "video", "source", "template", "noscript", "details",
];

/// The attributes the allowlist may keep, by element.
fn allowed_attribute(tag: &str, attr: &str) -> bool {
    matches!(
        (tag, attr),
        ("a", "href" | "title" | "rel")
            | ("img", "src" | "alt" | "title")
            | ("ol", "start")
            | ("code", "class")
            | ("sup" | "div", "class" | "id")
    )
}

/// A tag as serialised by the sanitiser: its name and its attributes (values still escaped).
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

/// Reads every tag of a serialised fragment. The sanitiser escapes `<` in text, so every `<`
/// left in its output opens real markup.
fn tags(html: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let rest_trimmed = rest.trim_start_matches('/');
        let name_len = rest_trimmed
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest_trimmed.len());
        assert!(name_len > 0, "a bare `<` in sanitised output: {html}");
        let name = rest_trimmed[..name_len].to_ascii_lowercase();
        let mut body = &rest_trimmed[name_len..];
        let mut attrs = Vec::new();
        loop {
            body = body.trim_start();
            if body.starts_with('>') || body.starts_with("/>") || body.is_empty() {
                break;
            }
            let key_len = body.find(['=', ' ', '>', '/']).unwrap_or(body.len());
            let key = body[..key_len].to_ascii_lowercase();
            body = &body[key_len..];
            let mut value = String::new();
            if let Some(after) = body.strip_prefix("=\"") {
                let end = after.find('"').expect("attribute values are double-quoted");
                value = after[..end].to_owned();
                body = &after[end + 1..];
            }
            attrs.push((key, value));
        }
        out.push(Tag { name, attrs });
        rest = body;
    }
    out
}

fn decode_entities(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// The scheme a browser would see, or `None` when relative.
fn scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let end = cleaned.find([':', '/', '?', '#'])?;
    cleaned[end..]
        .starts_with(':')
        .then(|| cleaned[..end].to_ascii_lowercase())
}

/// Everything that makes an article body unable to run script or leave the page.
///
/// The checks read markup, not text: an author's words such as `onerror=` or `javascript:`
/// may appear as escaped text (the autolink `<javascript:alert(1)>` shows its text, unlinked),
/// which is inert because every `<` in text is escaped.
fn assert_inert(input: &str, html: &str) {
    let lower = html.to_ascii_lowercase();
    for tag in FORBIDDEN_TAGS {
        assert!(
            !lower.contains(&format!("<{tag}")),
            "<{tag} survived\ninput: {input}\noutput: {html}"
        );
    }
    assert!(!lower.contains("<!--"), "a comment survived: {html}");
    assert!(!lower.contains("<![cdata["), "CDATA survived: {html}");
    for tag in tags(html) {
        for (attr, value) in &tag.attrs {
            assert!(
                !attr.starts_with("on"),
                "handler `{attr}` on <{}>\ninput: {input}\noutput: {html}",
                tag.name
            );
            assert!(
                allowed_attribute(&tag.name, attr),
                "attribute `{attr}` on <{}> is not in the allowlist\ninput: {input}\noutput: {html}",
                tag.name
            );
            let value = decode_entities(value);
            let lowered = value.to_ascii_lowercase();
            for bad in ["javascript:", "vbscript:", "data:"] {
                assert!(
                    !lowered.contains(bad),
                    "`{bad}` in {attr}=\"{value}\"\ninput: {input}\noutput: {html}"
                );
            }
            if matches!(attr.as_str(), "href" | "src") {
                let s = scheme(&value);
                let ok = matches!(
                    (tag.name.as_str(), s.as_deref()),
                    (_, None | Some("http" | "https")) | ("a", Some("mailto"))
                );
                assert!(ok, "URL {value:?} kept\ninput: {input}\noutput: {html}");
            }
        }
        if tag.name == "a" && tag.attrs.iter().any(|(k, _)| k == "href") {
            assert!(
                tag.attrs
                    .iter()
                    .any(|(k, v)| k == "rel" && v == "noopener noreferrer"),
                "link without rel=noopener noreferrer: {html}"
            );
        }
    }
}

#[test]
fn xss_corpus_is_inert() {
    assert!(XSS.len() >= 25);
    for input in XSS {
        let html = render_markdown(input);
        assert_inert(input, &html);
        // The page re-sanitises its body; doing so must change nothing.
        assert_eq!(sanitise_html(&html), html, "not idempotent for {input}");
    }
}

#[test]
fn sanitise_html_alone_is_inert_too() {
    // For callers that hand `page_html` HTML that never went through Markdown.
    for input in XSS {
        assert_inert(input, &sanitise_html(input));
    }
}

#[test]
fn xss_corpus_snapshot() {
    let mut all = String::new();
    for input in XSS {
        all.push_str(&format!(
            "{input:?}\n=> {}\n",
            render_markdown(input).trim_end()
        ));
    }
    expect![[r#"
        "<script>alert(1)</script>"
        => 
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>"
        => 
        "<img src=x onerror=alert(1)>"
        => <img src="x">
        "<img src=x onerror=alert(1)//"
        => <p>&lt;img src=x onerror=alert(1)//</p>
        "<svg onload=alert(1)><circle r=1 /></svg>"
        => <p></p>
        "<svg><script>alert(1)</script></svg>"
        => <p></p>
        "<a href=\"javascript:alert(1)\">klik</a>"
        => <p><a rel="noopener noreferrer">klik</a></p>
        "<a href=\"JaVaScRiPt:alert(1)\">klik</a>"
        => <p><a rel="noopener noreferrer">klik</a></p>
        "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">klik</a>"
        => <p><a rel="noopener noreferrer">klik</a></p>
        "<a href=\"&#x6A;avascript&colon;alert(1)\">klik</a>"
        => <p><a rel="noopener noreferrer">klik</a></p>
        "<a href=\"  javascript:alert(1)\">klik</a>"
        => <p><a rel="noopener noreferrer">klik</a></p>
        "<a href=\"java\tscript:alert(1)\">klik</a>"
        => <p><a rel="noopener noreferrer">klik</a></p>
        "<a href=\"vbscript:msgbox(1)\">klik</a>"
        => <p><a rel="noopener noreferrer">klik</a></p>
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">klik</a>"
        => <p><a rel="noopener noreferrer">klik</a></p>
        "<img src=\"javascript:alert(1)\">"
        => <img>
        "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">"
        => <img>
        "<img src=\"mailto:a@b.c\" alt=\"m\">"
        => <img alt="m">
        "![gambar](javascript:alert(1))"
        => <p><img alt="gambar"></p>
        "![gambar](data:image/png;base64,iVBORw0KGgo=)"
        => <p><img alt="gambar"></p>
        "[x](javascript:alert(1))"
        => <p><a rel="noopener noreferrer">x</a></p>
        "[x](JAVASCRIPT:alert(1) \"judul\")"
        => <p><a title="judul" rel="noopener noreferrer">x</a></p>
        "[x](&#106;avascript:alert(1))"
        => <p><a rel="noopener noreferrer">x</a></p>
        "[ref]\n\n[ref]: javascript:alert(1)"
        => <p><a rel="noopener noreferrer">ref</a></p>
        "<javascript:alert(1)>"
        => <p><a rel="noopener noreferrer">javascript:alert(1)</a></p>
        "<iframe src=\"https://evil.example\"></iframe>"
        => 
        "<object data=\"x.swf\"></object><embed src=\"x.swf\">"
        => <p></p>
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"
        => <p></p>
        "<math href=\"javascript:alert(1)\">CLICK</math>"
        => <p></p>
        "<p style=\"background:url(javascript:alert(1))\">gaya</p>"
        => <p>gaya</p>
        "<div style=\"width: expression(alert(1))\">gaya</div>"
        => <div>gaya</div>
        "<style>body{background:url(javascript:alert(1))}</style>"
        => 
        "<scr<script>ipt>alert(1)</scr</script>ipt>"
        => <p>&lt;script&gt;</p>
        "<<script>script>alert(1)<</script>/script>"
        => <p>&lt;/script&gt;</p>
        "<!-- <script>alert(1)</script> -->komentar"
        => komentar
        "<![CDATA[<script>alert(1)</script>]]>"
        => alert(1)]]&gt;
        "<base href=\"https://evil.example/\">"
        => 
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">"
        => 
        "<form action=\"https://evil.example\"><input name=q><button>kirim</button></form>"
        => kirim
        "<details open ontoggle=alert(1)>x</details>"
        => x
        "<a href=\"https://ok.example\" onclick=\"alert(1)\" onmouseover=alert(2)>ok</a>"
        => <p><a href="https://ok.example" rel="noopener noreferrer">ok</a></p>
        "<p onclick=\"alert(1)\" id=\"x\" class=\"admin-banner\">teks</p>"
        => <p>teks</p>
        "<body onload=alert(1)>"
        => 
        "<video><source onerror=\"alert(1)\"></video>"
        => <p></p>
        "<a href=\"https://ok.example\" target=\"_blank\" rel=\"opener\">ok</a>"
        => <p><a href="https://ok.example" rel="noopener noreferrer">ok</a></p>
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>"
        => <p><img src="x">"&gt;</p>
        "<template><script>alert(1)</script></template>"
        => <p></p>
        "<link rel=stylesheet href=\"https://evil.example/x.css\">"
        => 
        "```html\n<script>alert(1)</script>\n```"
        => <pre><code class="language-html">&lt;script&gt;alert(1)&lt;/script&gt;
        </code></pre>
        "<img src=\"x\" alt=\"\" title=\"\" onerror=\"alert(1)\"/>"
        => <img src="x" alt="" title="">
        "<a href=\"jav&#x09;ascript:alert(1)\">tab</a>"
        => <p><a rel="noopener noreferrer">tab</a></p>
    "#]]
    .assert_eq(&all);
}

fn check(md: &str, expected: Expect) {
    expected.assert_eq(&render_markdown(md));
}

#[test]
fn headings_emphasis_and_lists() {
    check(
        "# Judul\n\n## Sub\n\nTeks *miring*, **tebal**, ~~coret~~ dan `kode`.\n\n- satu\n- dua\n\n3. tiga\n4. empat\n\n> kutipan\n\n---\n\nbaris  \nbaru\n",
        expect![[r#"
            <h1>Judul</h1>
            <h2>Sub</h2>
            <p>Teks <em>miring</em>, <strong>tebal</strong>, <del>coret</del> dan <code>kode</code>.</p>
            <ul>
            <li>satu</li>
            <li>dua</li>
            </ul>
            <ol start="3">
            <li>tiga</li>
            <li>empat</li>
            </ol>
            <blockquote>
            <p>kutipan</p>
            </blockquote>
            <hr>
            <p>baris<br>
            baru</p>
        "#]],
    );
}

#[test]
fn links_and_images() {
    check(
        "[Situs](https://contoh.go.id \"Judul\") [relatif](/berita/1) [surel](mailto:humas@contoh.go.id) <https://contoh.go.id/a>\n\n![Bupati meresmikan](foto/1.jpg \"Peresmian\") ![luar](https://cdn.contoh.go.id/x.png)\n",
        expect![[r#"
            <p><a href="https://contoh.go.id" title="Judul" rel="noopener noreferrer">Situs</a> <a href="/berita/1" rel="noopener noreferrer">relatif</a> <a href="mailto:humas@contoh.go.id" rel="noopener noreferrer">surel</a> <a href="https://contoh.go.id/a" rel="noopener noreferrer">https://contoh.go.id/a</a></p>
            <p><img src="foto/1.jpg" alt="Bupati meresmikan" title="Peresmian"> <img src="https://cdn.contoh.go.id/x.png" alt="luar"></p>
        "#]],
    );
}

#[test]
fn tables_tasks_footnotes_code_and_figures() {
    check(
        "| Kecamatan | Jumlah |\n|:--|--:|\n| Utara | 12 |\n| Selatan | 7 |\n\n- [x] rapat\n- [ ] laporan\n\nCatatan[^1].\n\n[^1]: Sumber: BPS.\n\n```rust\nfn main() {}\n```\n\n<figure><img src=\"foto/2.jpg\" alt=\"Banjir\"><figcaption>Banjir di <em>Utara</em></figcaption></figure>\n",
        expect![[r##"
            <table><thead><tr><th>Kecamatan</th><th>Jumlah</th></tr></thead><tbody>
            <tr><td>Utara</td><td>12</td></tr>
            <tr><td>Selatan</td><td>7</td></tr>
            </tbody></table>
            <ul>
            <li>☑ rapat</li>
            <li>☐ laporan</li>
            </ul>
            <p>Catatan<sup class="footnote-reference"><a href="#fn-1" rel="noopener noreferrer">1</a></sup>.</p>
            <div class="footnote-definition" id="fn-1"><sup class="footnote-definition-label">1</sup>
            <p>Sumber: BPS.</p>
            </div>
            <pre><code class="language-rust">fn main() {}
            </code></pre>
            <figure><img src="foto/2.jpg" alt="Banjir"><figcaption>Banjir di <em>Utara</em></figcaption></figure>
        "##]],
    );
}

#[test]
fn page_escapes_every_text_field() {
    let hostile = "<b>\"x\"&</b>";
    let tags = vec![hostile.to_owned()];
    let attachments = [PageAttachment {
        href: "/lampiran/1",
        filename: hostile,
        kind: "document",
        mime: hostile,
        alt: hostile,
        caption: hostile,
    }];
    let page = Page {
        site_title: hostile,
        title: hostile,
        summary: hostile,
        body_html: "<p>isi</p>",
        category: hostile,
        tags: &tags,
        unit: hostile,
        published_at: Some(hostile),
        attachments: &attachments,
        lang: "id",
    };
    let html = page_html(&page);
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        html.contains("<h1>&lt;b&gt;&quot;x&quot;&amp;&lt;/b&gt;</h1>"),
        "{html}"
    );
    assert_eq!(
        escape_html(hostile),
        "&lt;b&gt;&quot;x&quot;&amp;&lt;/b&gt;"
    );
}

#[test]
fn page_resanitises_body_and_refuses_bad_attachment_urls() {
    let attachments = [
        PageAttachment {
            href: "javascript:alert(1)",
            filename: "a.jpg",
            kind: "photo",
            mime: "image/jpeg",
            alt: "",
            caption: "",
        },
        PageAttachment {
            href: "data:text/html,x",
            filename: "b.pdf",
            kind: "document",
            mime: "application/pdf",
            alt: "",
            caption: "",
        },
    ];
    let page = Page {
        site_title: "S",
        title: "T",
        summary: "",
        body_html: "<script>alert(1)</script><p onclick=x>ok</p>",
        category: "",
        tags: &[],
        unit: "",
        published_at: None,
        attachments: &attachments,
        lang: "en",
    };
    let html = page_html(&page);
    let body = &html[html.find("<body>").unwrap()..];
    assert!(!body.contains("<script"), "{html}");
    assert!(!body.contains("onclick"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(!html.contains("data:"), "{html}");
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("script-src") || html.contains("default-src 'none'"));
}

#[test]
fn full_page_snapshot() {
    let tags = vec!["banjir".to_owned(), "bantuan sosial".to_owned()];
    let attachments = [
        PageAttachment {
            href: "/lampiran/ab12.jpg",
            filename: "posko-utara.jpg",
            kind: "photo",
            mime: "image/jpeg",
            alt: "",
            caption: "",
        },
        PageAttachment {
            href: "/lampiran/cd34.mp4",
            filename: "penyaluran.mp4",
            kind: "video",
            mime: "video/mp4",
            alt: "",
            caption: "",
        },
        PageAttachment {
            href: "/lampiran/ef56.pdf",
            filename: "data-penerima.pdf",
            kind: "document",
            mime: "application/pdf",
            alt: "",
            caption: "",
        },
    ];
    let body = render_markdown("Bantuan disalurkan ke **12** posko.");
    let page = Page {
        site_title: "Diskominfo Kabupaten Contoh",
        title: "Bantuan banjir disalurkan",
        summary: "Pemerintah kabupaten menyalurkan bantuan ke 12 posko.",
        body_html: &body,
        category: "Sosial",
        tags: &tags,
        unit: "Dinas Sosial",
        published_at: Some("3 Maret 2026 09.00 WIB"),
        attachments: &attachments,
        lang: "id",
    };
    let html = page_html(&page);
    let after_head = &html[html.find("</head>").unwrap()..];
    expect![[r##"
        </head>
        <body>
        <a class="skip" href="#isi">Langsung ke isi</a>
        <header class="site"><p class="site-title">Diskominfo Kabupaten Contoh</p></header>
        <main id="isi">
        <article>
        <header>
        <p class="category">Sosial</p>
        <h1>Bantuan banjir disalurkan</h1>
        <p class="summary">Pemerintah kabupaten menyalurkan bantuan ke 12 posko.</p>
        <p class="meta"><span>Dinas Sosial</span> · <span>Diterbitkan 3 Maret 2026 09.00 WIB</span></p>
        </header>
        <div class="body">
        <p>Bantuan disalurkan ke <strong>12</strong> posko.</p>
        </div>
        <section class="attachments" aria-labelledby="lampiran">
        <h2 id="lampiran">Lampiran</h2>
        <figure><img src="/lampiran/ab12.jpg" alt="Foto: posko-utara.jpg" loading="lazy"><figcaption>posko-utara.jpg</figcaption></figure>
        <figure><video controls preload="metadata"><source src="/lampiran/cd34.mp4" type="video/mp4"><a href="/lampiran/cd34.mp4" download>Unduh penyaluran.mp4</a></video><figcaption>penyaluran.mp4</figcaption></figure>
        <h3>Dokumen</h3>
        <ul class="documents">
        <li><a href="/lampiran/ef56.pdf" download>data-penerima.pdf</a> <span class="type">(PDF)</span></li>
        </ul>
        </section>
        <footer>
        <h2 class="visually-hidden">Tag</h2>
        <ul class="tags"><li>banjir</li><li>bantuan sosial</li></ul>
        </footer>
        </article>
        </main>
        <footer class="site"><p>Diskominfo Kabupaten Contoh</p></footer>
        </body>
        </html>
    "##]]
    .assert_eq(after_head);
}

#[test]
fn index_snapshot() {
    let entries = [
        IndexEntry {
            href: "berita/2.html",
            title: "Jalan <baru>",
            summary: "Ringkas & jelas",
            published_at: "4 Maret 2026",
            unit: "Dinas PU",
        },
        IndexEntry {
            href: "javascript:alert(1)",
            title: "Tanpa tautan",
            summary: "",
            published_at: "3 Maret 2026",
            unit: "",
        },
    ];
    let html = index_html("Situs", &entries, "id");
    let after_head = &html[html.find("</head>").unwrap()..];
    expect![[r##"
        </head>
        <body>
        <a class="skip" href="#isi">Langsung ke isi</a>
        <header class="site"><h1 class="site-title">Situs</h1></header>
        <main id="isi">
        <h2>Berita terbaru</h2>
        <ol class="index">
        <li><article>
        <h3><a href="berita/2.html">Jalan &lt;baru&gt;</a></h3>
        <p class="summary">Ringkas &amp; jelas</p>
        <p class="meta"><span>Dinas PU</span> · <span>Diterbitkan 4 Maret 2026</span></p>
        </article></li>
        <li><article>
        <h3>Tanpa tautan</h3>
        <p class="meta"><span>Diterbitkan 3 Maret 2026</span></p>
        </article></li>
        </ol>
        </main>
        <footer class="site"><p>Situs</p></footer>
        </body>
        </html>
    "##]]
    .assert_eq(after_head);
    let empty = index_html("Site", &[], "en");
    assert!(empty.contains("No news yet."));
}

#[test]
fn a_photo_shows_its_alt_text_and_caption_escaped() {
    let tags = vec![];
    let attachments = [PageAttachment {
        href: "/lampiran/ab12.jpg",
        filename: "IMG_0001.jpg",
        kind: "photo",
        mime: "image/jpeg",
        alt: "Warga menerima paket \"sembako\" <di> posko",
        caption: "Penyaluran di posko utara, Senin pagi",
    }];
    let page = Page {
        site_title: "Diskominfo",
        title: "Bantuan",
        summary: "",
        body_html: "",
        category: "",
        tags: &tags,
        unit: "",
        published_at: None,
        attachments: &attachments,
        lang: "id",
    };
    let html = page_html(&page);
    assert!(
        html.contains("alt=\"Warga menerima paket &quot;sembako&quot; &lt;di&gt; posko\""),
        "{html}"
    );
    assert!(
        html.contains("<figcaption>Penyaluran di posko utara, Senin pagi</figcaption>"),
        "{html}"
    );
    assert!(
        !html.contains("IMG_0001"),
        "the file name is not the caption: {html}"
    );
}
