//! Any page a watched site might serve, hostile ones included: reading it and running every
//! page check must not panic or hang (nesting is cut at warta-guard's MAX_DEPTH), every link
//! and resource found is an absolute http(s) address, and the checks give the same answer twice.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use url::Url;
use warta_guard::checks::check_page;
use warta_guard::{Page, Policy, Vocabulary};

fn vocab() -> &'static Vocabulary {
    static VOCAB: OnceLock<Vocabulary> = OnceLock::new();
    VOCAB.get_or_init(Vocabulary::built_in)
}

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let url = Url::parse("https://kaltimprov.go.id/berita/").unwrap();
    let page = Page::parse(&html, Some(&url));
    for u in page
        .links
        .iter()
        .map(|l| &l.url)
        .chain(page.resources.iter().map(|r| &r.url))
        .chain(page.redirects.iter())
    {
        assert!(matches!(u.scheme(), "http" | "https"), "not http(s): {u}");
    }
    let policy = Policy {
        allowed_domains: vec!["go.id".into()],
    };
    let first = check_page(&page, vocab(), &policy);
    let again = check_page(&Page::parse(&html, Some(&url)), vocab(), &policy);
    assert_eq!(first, again, "not deterministic for {html:?}");
});
