//! The XSS corpus (`payloads.txt`) through every way into the sanitiser, each output parsed
//! again by a real HTML5 parser (`warta_render::inert`) and required to be inert and stable.

use warta_render::inert::{article_violations, page_violations};
use warta_render::{
    IndexEntry, Page, PageAttachment, index_html, page_html, render_markdown, sanitise_html,
};

const PAYLOADS: &str = include_str!("payloads.txt");

/// Categories the corpus must cover, each with at least [`MIN_PER_SECTION`] payloads.
const SECTIONS: &[&str] = &[
    "script",
    "event-handlers",
    "javascript-urls",
    "data-urls",
    "other-schemes",
    "svg",
    "mathml",
    "embedding",
    "css",
    "mutation",
    "forms-meta-base",
    "dom-clobbering",
    "markdown",
    "polyglot",
    "encoding",
];
const MIN_PER_SECTION: usize = 15;

struct Payload {
    section: String,
    line: usize,
    text: String,
}

fn payloads() -> Vec<Payload> {
    let mut out = Vec::new();
    let mut section = String::from("(none)");
    for (index, line) in PAYLOADS.lines().enumerate() {
        if let Some(comment) = line.strip_prefix("#!") {
            if let Some(name) = comment.trim().strip_prefix("section ") {
                section = name.trim().to_owned();
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        out.push(Payload {
            section: section.clone(),
            line: index + 1,
            text: unescape(line),
        });
    }
    out
}

/// `\n`, `\r`, `\t`, `\0`, `\\` and `\u{HEX}`; any other backslash stays as it is, since
/// payloads use backslashes of their own (CSS escapes, JavaScript escapes).
fn unescape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (decoded, used) = match after.chars().next() {
            Some('n') => ('\n', 1),
            Some('r') => ('\r', 1),
            Some('t') => ('\t', 1),
            Some('0') => ('\0', 1),
            Some('\\') => ('\\', 1),
            Some('u') if after.starts_with("u{") => {
                let end = after.find('}').expect("\\u{ without }");
                let code = u32::from_str_radix(&after[2..end], 16).expect("\\u{HEX}");
                (char::from_u32(code).expect("a Unicode scalar"), end + 1)
            }
            _ => ('\\', 0),
        };
        out.push(decoded);
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

/// The payload as it would appear in the different places of a Markdown article.
fn markdown_variants(payload: &str) -> Vec<String> {
    let indented = payload.replace('\n', "\n  ");
    let quoted = payload.replace('\n', "\n> ");
    let mut variants = vec![
        payload.to_owned(),
        format!("Paragraf pembuka.\n\n{payload}\n\nParagraf penutup."),
        format!("- satu\n- {indented}\n- tiga"),
        format!("1. satu\n2. {indented}"),
        format!("> {quoted}"),
        format!("Catatan[^1].\n\n[^1]: {indented}"),
    ];
    if !payload.contains('\n') {
        variants.push(format!("| Kolom | Isi |\n|---|---|\n| a | {payload} |"));
        variants.push(format!("[{payload}](https://contoh.go.id)"));
        variants.push(format!("*{payload}* **{payload}**"));
    }
    variants
}

/// The payload as HTML handed straight to `sanitise_html` (a webhook or WordPress body
/// that did not come from Markdown).
fn html_variants(payload: &str) -> Vec<String> {
    vec![
        payload.to_owned(),
        format!("<ul><li>{payload}</li></ul>"),
        format!("<table><tr><td>{payload}</td></tr></table>"),
        format!("<p>{payload}"),
        format!("{payload}</p><p>sesudah"),
    ]
}

/// Checks one sanitised output; returns a description of what is wrong, if anything.
fn problems(route: &str, input: &str, output: &str) -> Option<String> {
    let violations = article_violations(output);
    let again = sanitise_html(output);
    if violations.is_empty() && again == output {
        return None;
    }
    let mut text = format!("{route}\n    input:  {input:?}\n    output: {output:?}\n");
    for v in &violations {
        text.push_str(&format!("    violation: {v}\n"));
    }
    if again != output {
        text.push_str(&format!("    not idempotent, again: {again:?}\n"));
    }
    Some(text)
}

fn fail_with(failures: &[String]) {
    if !failures.is_empty() {
        let shown: Vec<&str> = failures.iter().take(20).map(String::as_str).collect();
        panic!(
            "{} failure(s); the first {}:\n{}",
            failures.len(),
            shown.len(),
            shown.join("\n")
        );
    }
}

#[test]
fn corpus_covers_every_category() {
    let all = payloads();
    assert!(all.len() >= 500, "only {} payloads", all.len());
    for section in SECTIONS {
        let n = all.iter().filter(|p| p.section == *section).count();
        assert!(
            n >= MIN_PER_SECTION,
            "section {section} has {n} payloads, fewer than {MIN_PER_SECTION}"
        );
    }
    for p in &all {
        assert!(
            SECTIONS.contains(&p.section.as_str()),
            "line {}: unknown section {}",
            p.line,
            p.section
        );
    }
    let mut seen = std::collections::HashSet::new();
    for p in &all {
        assert!(seen.insert(&p.text), "line {}: duplicate payload", p.line);
    }
}

#[test]
fn corpus_is_inert_through_render_markdown() {
    let mut failures = Vec::new();
    for p in payloads() {
        for md in markdown_variants(&p.text) {
            let html = render_markdown(&md);
            let route = format!("render_markdown, line {} ({})", p.line, p.section);
            failures.extend(problems(&route, &md, &html));
        }
    }
    fail_with(&failures);
}

#[test]
fn corpus_is_inert_through_sanitise_html() {
    let mut failures = Vec::new();
    for p in payloads() {
        for html in html_variants(&p.text) {
            let clean = sanitise_html(&html);
            let route = format!("sanitise_html, line {} ({})", p.line, p.section);
            failures.extend(problems(&route, &html, &clean));
        }
    }
    fail_with(&failures);
}

#[test]
fn corpus_is_inert_in_whole_pages() {
    let mut failures = Vec::new();
    for p in payloads() {
        let text = p.text.as_str();
        let tags = vec![text.to_owned()];
        let attachments = [
            PageAttachment {
                href: text,
                filename: text,
                kind: "photo",
                mime: text,
                alt: text,
                caption: text,
            },
            PageAttachment {
                href: text,
                filename: text,
                kind: "video",
                mime: text,
                alt: text,
                caption: text,
            },
            PageAttachment {
                href: text,
                filename: text,
                kind: "document",
                mime: text,
                alt: text,
                caption: text,
            },
        ];
        let rendered = render_markdown(text);
        // The body as it should arrive (rendered), and as a careless caller might pass it.
        for body in [rendered.as_str(), text] {
            let page = Page {
                site_title: text,
                title: text,
                summary: text,
                body_html: body,
                category: text,
                tags: &tags,
                unit: text,
                published_at: Some(text),
                attachments: &attachments,
                lang: text,
            };
            let html = page_html(&page);
            let violations = page_violations(&html);
            if !violations.is_empty() {
                failures.push(format!(
                    "page_html, line {} ({}): {violations:#?}\n    input: {text:?}",
                    p.line, p.section
                ));
            }
        }
        let entries = [IndexEntry {
            href: text,
            title: text,
            summary: text,
            published_at: text,
            unit: text,
        }];
        let violations = page_violations(&index_html(text, &entries, text));
        if !violations.is_empty() {
            failures.push(format!(
                "index_html, line {} ({}): {violations:#?}\n    input: {text:?}",
                p.line, p.section
            ));
        }
    }
    fail_with(&failures);
}

/// The checker is not blind: the raw payloads, unsanitised, are mostly flagged. (Not all:
/// some are inert as a browser parses them inside a `<div>`, e.g. `<body onload=…>`, whose
/// tag a fragment parser ignores, or `<img/src=x/onerror=…>`, all one `src` value.)
#[test]
fn checker_flags_raw_payloads() {
    let all = payloads();
    let html_sections = ["script", "event-handlers", "svg", "mathml", "embedding"];
    let raw: Vec<&Payload> = all
        .iter()
        .filter(|p| html_sections.contains(&p.section.as_str()))
        .collect();
    let flagged = raw
        .iter()
        .filter(|p| !article_violations(&p.text).is_empty())
        .count();
    assert!(
        flagged * 100 >= raw.len() * 90,
        "only {flagged} of {} raw payloads flagged",
        raw.len()
    );
}

// --- The sanitiser is not "strip everything" --------------------------------------------------

const ARTICLE: &str = "\
# Pemkab Salurkan Bantuan Banjir

Pemerintah Kabupaten Contoh menyalurkan **bantuan logistik** kepada *warga terdampak* banjir
di tiga kecamatan, Senin (3/3). Data lengkap ada di [situs BPBD](https://bpbd.contoh.go.id/data \"Data BPBD\")
dan [halaman sebelumnya](/berita/banjir-2026). Pertanyaan: [humas@contoh.go.id](mailto:humas@contoh.go.id).

![Bupati meninjau posko](foto/posko.jpg \"Posko Utara\")

## Rincian bantuan

| Kecamatan | Paket | Keterangan |
|:--|--:|:-:|
| Utara | 120 | ~~100~~ ditambah |
| Selatan | 85 | `terkirim` |

1. Beras 10 kg
2. Minyak goreng
   - 2 liter
   - kemasan pouch

> \"Kami pastikan semua posko mendapat bantuan,\" kata Bupati.

Sumber data[^bps].

[^bps]: Badan Pusat Statistik, 2026.

---

<figure><img src=\"https://cdn.contoh.go.id/a.jpg\" alt=\"Penyaluran\"><figcaption>Penyaluran di <em>Utara</em></figcaption></figure>
";

#[test]
fn an_ordinary_article_keeps_its_structure() {
    let html = render_markdown(ARTICLE);
    assert_eq!(
        article_violations(&html),
        Vec::new(),
        "the checker must accept an ordinary article"
    );
    assert_eq!(sanitise_html(&html), html);
    for expected in [
        "<h1>Pemkab Salurkan Bantuan Banjir</h1>",
        "<h2>Rincian bantuan</h2>",
        "<strong>bantuan logistik</strong>",
        "<em>warga terdampak</em>",
        "<a href=\"https://bpbd.contoh.go.id/data\" title=\"Data BPBD\" rel=\"noopener noreferrer\">situs BPBD</a>",
        "<a href=\"/berita/banjir-2026\" rel=\"noopener noreferrer\">",
        "<a href=\"mailto:humas@contoh.go.id\" rel=\"noopener noreferrer\">",
        "<img src=\"foto/posko.jpg\" alt=\"Bupati meninjau posko\" title=\"Posko Utara\">",
        "<table><thead><tr><th>Kecamatan</th><th>Paket</th><th>Keterangan</th></tr></thead><tbody>",
        "<td><del>100</del> ditambah</td>",
        "<code>terkirim</code>",
        "<ol>\n<li>Beras 10 kg</li>",
        "<ul>\n<li>2 liter</li>",
        "<blockquote>\n<p>\"Kami pastikan semua posko mendapat bantuan,\" kata Bupati.</p>\n</blockquote>",
        "<sup class=\"footnote-reference\"><a href=\"#fn-bps\" rel=\"noopener noreferrer\">1</a></sup>",
        "<div class=\"footnote-definition\" id=\"fn-bps\">",
        "<hr>",
        "<figure><img src=\"https://cdn.contoh.go.id/a.jpg\" alt=\"Penyaluran\"><figcaption>Penyaluran di <em>Utara</em></figcaption></figure>",
    ] {
        assert!(html.contains(expected), "missing {expected:?} in\n{html}");
    }
}

#[test]
fn safe_parts_of_hostile_markup_survive() {
    // The attack goes, the reporter's words and the safe markup around them stay.
    for (input, kept) in [
        (
            "<p onclick=alert(1)>Rapat <strong>koordinasi</strong></p>",
            "<p>Rapat <strong>koordinasi</strong></p>",
        ),
        (
            "[laporan](javascript:alert(1)) dan [situs](https://contoh.go.id)",
            "<a href=\"https://contoh.go.id\" rel=\"noopener noreferrer\">situs</a>",
        ),
        (
            "<img src=\"foto/1.jpg\" alt=\"Rapat\" onerror=alert(1)>",
            "<img src=\"foto/1.jpg\" alt=\"Rapat\">",
        ),
        (
            "| a |\n|---|\n| <em>miring</em><script>alert(1)</script> |",
            "<td><em>miring</em></td>",
        ),
        ("<span style=\"color:red\">merah</span>", "merah"),
    ] {
        let html = render_markdown(input);
        assert!(html.contains(kept), "{input:?} gave {html:?}");
    }
}

#[test]
fn unescape_reads_the_corpus_escapes() {
    assert_eq!(unescape(r"a\nb\tc\\d\u{0}e\u{1F600}"), "a\nb\tc\\d\0e😀");
    assert_eq!(unescape(r"w\idth \x3c"), r"w\idth \x3c");
}
