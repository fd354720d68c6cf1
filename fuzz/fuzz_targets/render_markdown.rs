//! Any Markdown a reporter can type: the rendered article must be inert as a browser parses
//! it, and sanitising it again (as `page_html` does) must change nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warta_render::inert::assert_article_inert;
use warta_render::{render_markdown, sanitise_html};

fuzz_target!(|data: &[u8]| {
    let markdown = String::from_utf8_lossy(data);
    let html = render_markdown(&markdown);
    assert_article_inert(&markdown, &html);
    let again = sanitise_html(&html);
    assert!(
        again == html,
        "not idempotent\ninput: {markdown:?}\nonce:  {html:?}\ntwice: {again:?}"
    );
});
