//! Any HTML a publishing target or a careless caller might hand over: the sanitised fragment
//! must be inert and stable, and a whole page built around the raw HTML (which `page_html`
//! sanitises itself) must be inert too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warta_render::inert::{assert_article_inert, page_violations};
use warta_render::{Page, page_html, sanitise_html};

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let html = sanitise_html(&input);
    assert_article_inert(&input, &html);
    let again = sanitise_html(&html);
    assert!(
        again == html,
        "not idempotent\ninput: {input:?}\nonce:  {html:?}\ntwice: {again:?}"
    );

    let page = page_html(&Page {
        site_title: "Situs",
        title: "Judul",
        summary: "",
        body_html: &input,
        category: "",
        tags: &[],
        unit: "",
        published_at: None,
        attachments: &[],
        lang: "id",
    });
    let violations = page_violations(&page);
    assert!(
        violations.is_empty(),
        "page not inert: {violations:#?}\ninput: {input:?}\npage: {page}"
    );
});
