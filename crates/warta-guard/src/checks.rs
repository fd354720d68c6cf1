//! The checks on a page, and the comparisons of two versions of it.

use std::collections::BTreeSet;

use regex::Regex;
use serde::Serialize;
use url::Url;

use crate::page::{Page, ResourceKind};
use crate::text::squash_spaces;
use crate::vocabulary::Vocabulary;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Online-gambling words where an injection puts them.
    Gambling,
    /// A defacement signature ("hacked by ...").
    Defacement,
    /// Links in hidden blocks to other sites.
    HiddenLinks,
    /// Links to domains outside the office's allowed list.
    ForeignLinks,
    /// Scripts, frames, embeds, stylesheets or forms from outside the allowed list.
    ForeignResources,
    /// A redirect (HTTP, meta refresh or script) to another site.
    ForeignRedirect,
    /// Search engines are served something else than visitors.
    Cloaking,
    /// The page no longer matches the version a person approved.
    Changed,
    /// A page the office published no longer shows what it published (text, links or media
    /// missing, or text put inside it).
    Tampered,
    /// A new address in the site's sitemap that the office did not publish.
    UnknownUrl,
    /// The page could not be fetched, or answered with an unexpected status.
    Unreachable,
    /// The answer was cut off at the size or time limit.
    Truncated,
    /// The site's TLS certificate ends soon (or has ended).
    CertificateExpiring,
}

/// One thing a check found, with its evidence (words, domains or addresses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// One English sentence (the UI words it from `kind`).
    pub message: String,
    pub evidence: Vec<String>,
}

impl Finding {
    pub fn new(kind: FindingKind, message: impl Into<String>, evidence: Vec<String>) -> Self {
        Finding {
            kind,
            message: message.into(),
            evidence,
        }
    }
}

/// Which domains are the office's. The page's own host (with or without `www.`) always is.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Further domains links and resources may point to (a domain allows its subdomains).
    /// Empty: outbound links and resources are not checked (hidden ones still are).
    pub allowed_domains: Vec<String>,
}

fn bare(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

fn within(host: &str, domain: &str) -> bool {
    let (host, domain) = (bare(host), bare(domain.trim().trim_start_matches("*.")));
    host.eq_ignore_ascii_case(domain)
        || (host.len() > domain.len()
            && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

impl Policy {
    /// Whether `url` is on the page's own site.
    fn own(page: &Page, url: &Url) -> bool {
        match (page.url.as_ref().and_then(Url::host_str), url.host_str()) {
            (Some(site), Some(host)) => within(host, site),
            _ => false,
        }
    }

    /// Whether `url` is outside the page's site and every allowed domain.
    pub fn foreign(&self, page: &Page, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        !Self::own(page, url) && !self.allowed_domains.iter().any(|d| within(host, d))
    }

    fn checks_outbound(&self) -> bool {
        !self.allowed_domains.is_empty()
    }
}

fn hosts<'a>(urls: impl Iterator<Item = &'a Url>) -> Vec<String> {
    urls.filter_map(|u| u.host_str().map(str::to_string))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Every check that needs nothing but the page: vocabulary, signatures, hidden links, and
/// outbound links, resources and redirects when the policy lists allowed domains.
pub fn check_page(page: &Page, vocab: &Vocabulary, policy: &Policy) -> Vec<Finding> {
    let mut findings = Vec::new();

    // Gambling: trade jargon anywhere; topic words only where injections put them.
    let foreign_link_text: String = page
        .links
        .iter()
        .filter(|l| !Policy::own(page, &l.url))
        .map(|l| format!("{} {} ", l.text, l.url))
        .collect();
    let injected_places = [
        page.hidden_text.as_str(),
        foreign_link_text.as_str(),
        page.title.as_str(),
        page.meta.as_str(),
    ];
    let mut words: BTreeSet<String> = BTreeSet::new();
    for place in [page.text.as_str()].into_iter().chain(injected_places) {
        words.extend(vocab.jargon.find(place));
    }
    for place in injected_places {
        words.extend(vocab.topic.find(place));
    }
    if !words.is_empty() {
        findings.push(Finding::new(
            FindingKind::Gambling,
            "online-gambling words on the page",
            words.into_iter().collect(),
        ));
    }

    // Defacement: a strong signature anywhere; weak ones in the title or two together.
    let all_text = format!("{} {} {}", page.title, page.text, page.hidden_text);
    let mut signs = vocab.defacement_strong.find(&all_text);
    let weak = vocab.defacement_weak.find(&all_text);
    if !vocab.defacement_weak.find(&page.title).is_empty() || weak.len() >= 2 {
        signs.extend(weak);
    }
    if !signs.is_empty() {
        findings.push(Finding::new(
            FindingKind::Defacement,
            "defacement signature on the page",
            signs,
        ));
    }

    // Links hidden from visitors that lead elsewhere: the classic search-engine injection.
    let hidden_out: Vec<&Url> = page
        .links
        .iter()
        .filter(|l| l.hidden && !Policy::own(page, &l.url))
        .map(|l| &l.url)
        .collect();
    if !hidden_out.is_empty() {
        findings.push(Finding::new(
            FindingKind::HiddenLinks,
            format!("{} hidden link(s) to other sites", hidden_out.len()),
            hosts(hidden_out.into_iter()),
        ));
    }

    // Redirects elsewhere are never expected from a government page.
    let away: Vec<&Url> = page
        .redirects
        .iter()
        .filter(|u| policy.foreign(page, u))
        .collect();
    if !away.is_empty() {
        findings.push(Finding::new(
            FindingKind::ForeignRedirect,
            "the page sends visitors to another site",
            hosts(away.into_iter()),
        ));
    }

    if policy.checks_outbound() {
        let out: Vec<&Url> = page
            .links
            .iter()
            .filter(|l| !l.hidden && policy.foreign(page, &l.url))
            .map(|l| &l.url)
            .collect();
        if !out.is_empty() {
            findings.push(Finding::new(
                FindingKind::ForeignLinks,
                "links to domains outside the allowed list",
                hosts(out.into_iter()),
            ));
        }
        let res: Vec<&Url> = page
            .resources
            .iter()
            .filter(|r| r.kind != ResourceKind::Image && policy.foreign(page, &r.url))
            .map(|r| &r.url)
            .collect();
        if !res.is_empty() {
            findings.push(Finding::new(
                FindingKind::ForeignResources,
                "scripts, frames or forms from domains outside the allowed list",
                hosts(res.into_iter()),
            ));
        }
    }
    findings
}

/// Words of a text, for comparing two versions.
fn word_set(text: &str) -> BTreeSet<String> {
    crate::text::fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1)
        .map(str::to_string)
        .collect()
}

/// How alike two texts are by their words (Jaccard index, 1.0 for two empty texts).
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (word_set(a), word_set(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 1.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// Below this word similarity, the crawler's page is another page.
pub const CLOAKING_SIMILARITY: f64 = 0.6;

/// The page as a search crawler got it against the page as a browser got it: gambling words,
/// signatures or links to other sites only the crawler sees, or a different page altogether.
pub fn compare_crawler(
    browser: &Page,
    crawler: &Page,
    vocab: &Vocabulary,
    policy: &Policy,
) -> Option<Finding> {
    let seen_by_browser: BTreeSet<String> = check_page(browser, vocab, policy)
        .into_iter()
        .flat_map(|f| f.evidence)
        .collect();
    let mut evidence: BTreeSet<String> = check_page(crawler, vocab, policy)
        .into_iter()
        .flat_map(|f| f.evidence)
        .filter(|e| !seen_by_browser.contains(e))
        .collect();
    // Topic words too: news the browser shows is not news only the crawler gets.
    let browser_words = vocab.topic.find(&browser.text);
    let crawler_only_words: BTreeSet<String> = vocab
        .topic
        .find(&crawler.text)
        .into_iter()
        .filter(|w| !browser_words.contains(w))
        .collect();
    evidence.extend(crawler_only_words);
    let browser_hosts: BTreeSet<String> = hosts(browser.links.iter().map(|l| &l.url))
        .into_iter()
        .collect();
    evidence.extend(
        hosts(
            crawler
                .links
                .iter()
                .filter(|l| !Policy::own(crawler, &l.url))
                .map(|l| &l.url),
        )
        .into_iter()
        .filter(|h| !browser_hosts.contains(h)),
    );
    let alike = similarity(&browser.text, &crawler.text);
    if evidence.is_empty() && alike >= CLOAKING_SIMILARITY {
        return None;
    }
    if alike < CLOAKING_SIMILARITY {
        evidence.insert(format!("word similarity {alike:.2}"));
    }
    Some(Finding::new(
        FindingKind::Cloaking,
        "search engines are served a different page than visitors",
        evidence.into_iter().collect(),
    ))
}

/// Text with the noise a person marked (dates, counters: regular expressions) taken out.
pub fn without_noise(text: &str, noise: &[Regex]) -> String {
    let mut out = text.to_string();
    for re in noise {
        out = re.replace_all(&out, " ").into_owned();
    }
    squash_spaces(&out)
}

/// Lines of at most this many words are compared between a page and its baseline.
const CHUNK_WORDS: usize = 12;

fn chunks(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.chunks(CHUNK_WORDS).map(|c| c.join(" ")).collect()
}

/// The page against the version a person approved: what text appeared or disappeared (noise
/// taken out), and links to hosts the baseline did not link to.
pub fn compare_baseline(page: &Page, baseline: &Page, noise: &[Regex]) -> Option<Finding> {
    let now = without_noise(&page.text, noise);
    let then = without_noise(&baseline.text, noise);
    let mut evidence = Vec::new();
    if now != then {
        let (before, after) = (chunks(&then), chunks(&now));
        let before: Vec<&str> = before.iter().map(String::as_str).collect();
        let after: Vec<&str> = after.iter().map(String::as_str).collect();
        let diff = similar::TextDiff::from_slices(&before, &after);
        for change in diff.iter_all_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => "-",
                similar::ChangeTag::Insert => "+",
                similar::ChangeTag::Equal => continue,
            };
            if evidence.len() < 20 {
                evidence.push(format!("{sign} {}", change.value()));
            }
        }
    }
    let known: BTreeSet<String> = hosts(baseline.links.iter().map(|l| &l.url))
        .into_iter()
        .collect();
    let new_hosts: Vec<String> = hosts(page.links.iter().map(|l| &l.url))
        .into_iter()
        .filter(|h| !known.contains(h))
        .collect();
    for h in &new_hosts {
        evidence.push(format!("+ link to {h}"));
    }
    if evidence.is_empty() {
        return None;
    }
    Some(Finding::new(
        FindingKind::Changed,
        "the page differs from its approved version",
        evidence,
    ))
}

/// Words of a text in order, folded, for aligning two texts.
fn word_seq(text: &str) -> Vec<String> {
    crate::text::fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// An address without its scheme, `www.`, query and fragment, for finding ours on the live page.
fn address_key(u: &Url) -> String {
    format!(
        "{}{}",
        bare(u.host_str().unwrap_or_default()).to_ascii_lowercase(),
        u.path().trim_end_matches('/')
    )
}

/// A page the office published, on the live site, against what it published (`published`: the
/// HTML the office sent, parsed with the page's address). The live page holds it inside the
/// site's own header, menus and footer, so what counts is that our text is all still there in
/// its order, that nothing was put in between, and that our links and media are still there.
pub fn compare_published(live: &Page, published: &Page) -> Option<Finding> {
    let ours = word_seq(&published.text);
    let theirs = word_seq(&live.text);
    let mut evidence = Vec::new();
    if !ours.is_empty() {
        // Aligned: the stretch of the live page from our first to our last word holds ours.
        let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &ours, &theirs);
        let first = ops
            .iter()
            .position(|o| matches!(o.tag(), similar::DiffTag::Equal));
        let last = ops
            .iter()
            .rposition(|o| matches!(o.tag(), similar::DiffTag::Equal));
        let (mut missing, mut added) = (Vec::new(), Vec::new());
        for (i, op) in ops.iter().enumerate() {
            let inside = first.is_some_and(|f| i > f) && last.is_some_and(|l| i < l);
            let old = op.old_range();
            let new = op.new_range();
            match op.tag() {
                similar::DiffTag::Equal => {}
                similar::DiffTag::Delete => missing.push(ours[old].join(" ")),
                similar::DiffTag::Insert if inside => added.push(theirs[new].join(" ")),
                similar::DiffTag::Insert => {}
                similar::DiffTag::Replace => {
                    missing.push(ours[old].join(" "));
                    if inside {
                        added.push(theirs[new].join(" "));
                    }
                }
            }
        }
        let missing_words: usize = missing.iter().map(|m| m.split(' ').count()).sum();
        if first.is_none() {
            evidence.push("- none of the published text is on the page".to_string());
        } else {
            for m in missing.iter().take(10) {
                evidence.push(format!("- {}", cut_words(m, CHUNK_WORDS)));
            }
            if missing.len() > 10 {
                evidence.push(format!("- … {missing_words} word(s) missing in all"));
            }
        }
        for a in added.iter().take(10) {
            evidence.push(format!("+ {}", cut_words(a, CHUNK_WORDS)));
        }
    }
    let live_links: BTreeSet<String> = live.links.iter().map(|l| address_key(&l.url)).collect();
    for l in &published.links {
        if !live_links.contains(&address_key(&l.url)) {
            evidence.push(format!("- link to {}", l.url));
        }
    }
    // Media: the site may serve our files from its own media library under other names, so
    // count them rather than match addresses.
    let media = |p: &Page| {
        p.resources
            .iter()
            .filter(|r| matches!(r.kind, ResourceKind::Image | ResourceKind::Embed))
            .count()
    };
    let ours_media = media(published);
    let live_media = media(live);
    if live_media < ours_media {
        evidence.push(format!(
            "- {} of {ours_media} published image(s) or media missing",
            ours_media - live_media
        ));
    }
    if evidence.is_empty() {
        return None;
    }
    Some(Finding::new(
        FindingKind::Tampered,
        "the page no longer shows what the office published",
        evidence,
    ))
}

fn cut_words(s: &str, n: usize) -> String {
    let words: Vec<&str> = s.split(' ').collect();
    if words.len() <= n {
        s.to_string()
    } else {
        format!("{} …", words[..n].join(" "))
    }
}

/// The addresses a sitemap lists: pages, and further sitemaps (a sitemap index). Only
/// `<loc>` entries that are http(s) addresses; at most `limit` of each.
pub fn sitemap_urls(xml: &str, limit: usize) -> (Vec<Url>, Vec<Url>) {
    let re = regex::Regex::new(r"(?is)<(sitemap|url)\b[^>]*>.*?<loc>\s*(.*?)\s*</loc>")
        .expect("sitemap pattern");
    let (mut pages, mut maps) = (Vec::new(), Vec::new());
    for c in re.captures_iter(xml) {
        let loc = c[2]
            .trim_start_matches("<![CDATA[")
            .trim_end_matches("]]>")
            .replace("&amp;", "&");
        let Ok(u) = Url::parse(loc.trim()) else {
            continue;
        };
        if !matches!(u.scheme(), "http" | "https") {
            continue;
        }
        let list = if c[1].eq_ignore_ascii_case("sitemap") {
            &mut maps
        } else {
            &mut pages
        };
        if list.len() < limit {
            list.push(u);
        }
    }
    (pages, maps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(html: &str) -> Page {
        Page::parse(
            html,
            Some(&Url::parse("https://www.kaltimprov.go.id/").unwrap()),
        )
    }

    fn kinds(f: &[Finding]) -> Vec<FindingKind> {
        f.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn news_about_gambling_is_not_an_injection_but_hidden_gambling_links_are() {
        let vocab = Vocabulary::built_in();
        let policy = Policy::default();
        let news = page(
            r#"<title>Diskominfo blokir situs judi online</title><h1>Pemprov perangi judi online</h1>
               <p>Sebanyak 1.000 situs judi dan togel diblokir.</p>
               <nav><ul style="display:none"><li><a href="/berita">Berita</a></li></ul></nav>
               <p>Foto gelar budaya. Rapat koordinasi.</p><a href="https://www.kominfo.go.id/">Kominfo</a>"#,
        );
        // The title has topic words: a title is where SEO injections go, so it counts...
        assert_eq!(
            kinds(&check_page(&news, &vocab, &policy)),
            vec![FindingKind::Gambling]
        );
        // ...but the same news in the body, under a neutral title, raises nothing.
        let body_only = page(
            r#"<title>Berita Kaltim</title><p>Sebanyak 1.000 situs judi online dan togel diblokir.</p>
               <ul style="display:none"><li><a href="https://kaltimprov.go.id/berita">Berita</a></li></ul>"#,
        );
        assert!(check_page(&body_only, &vocab, &policy).is_empty());

        let injected = page(
            r#"<title>Berita Kaltim</title><p>Berita hari ini.</p>
               <div style="position:absolute;left:-9999px"><a href="https://gacor.example/">situs judi</a>
               <a href="https://toto.example/daftar">togel</a></div>"#,
        );
        let found = check_page(&injected, &vocab, &policy);
        assert_eq!(
            kinds(&found),
            vec![FindingKind::Gambling, FindingKind::HiddenLinks]
        );
        // From the hidden text and from the links' addresses.
        assert_eq!(
            found[0].evidence,
            vec!["gacor", "situs judi", "togel", "toto"]
        );
        assert_eq!(found[1].evidence, vec!["gacor.example", "toto.example"]);
    }

    #[test]
    fn defacement_needs_a_strong_sign_or_weak_ones_together() {
        let vocab = Vocabulary::built_in();
        let p = |h| check_page(&page(h), &vocab, &Policy::default());
        assert_eq!(
            kinds(&p("<h1>HACKED BY Anon4x</h1>")),
            vec![FindingKind::Defacement]
        );
        assert!(p("<p>Gedung ini owned by Pemprov Kaltim.</p>").is_empty());
        assert_eq!(
            kinds(&p("<title>Owned by ZeroTeam</title>")),
            vec![FindingKind::Defacement]
        );
        assert_eq!(
            kinds(&p("<p>owned by x</p><p>greetz to all cyber army</p>")),
            vec![FindingKind::Defacement]
        );
    }

    #[test]
    fn outbound_links_and_resources_are_checked_against_the_allowed_domains() {
        let vocab = Vocabulary::built_in();
        let html = r#"<a href="https://kaltimprov.go.id/a">a</a><a href="https://bkd.kaltimprov.go.id/">b</a>
            <a href="https://www.youtube.com/x">yt</a><a href="https://evil.example/">e</a>
            <script src="https://cdn.evil.example/x.js"></script><img src="https://img.example/p.jpg">"#;
        assert!(
            check_page(&page(html), &vocab, &Policy::default()).is_empty(),
            "no list, no check"
        );
        let policy = Policy {
            allowed_domains: vec!["youtube.com".into()],
        };
        let found = check_page(&page(html), &vocab, &policy);
        assert_eq!(
            kinds(&found),
            vec![FindingKind::ForeignLinks, FindingKind::ForeignResources]
        );
        assert_eq!(found[0].evidence, vec!["evil.example"]);
        assert_eq!(found[1].evidence, vec!["cdn.evil.example"]);
        let away = page(r#"<meta http-equiv="refresh" content="0;url=https://slot.example/">"#);
        assert_eq!(
            kinds(&check_page(&away, &vocab, &Policy::default())),
            vec![FindingKind::ForeignRedirect]
        );
    }

    #[test]
    fn a_crawler_only_version_is_cloaking_and_an_equal_one_is_not() {
        let vocab = Vocabulary::built_in();
        let policy = Policy::default();
        let browser =
            page("<h1>Berita</h1><p>Gubernur meresmikan jembatan baru di Samarinda hari ini.</p>");
        let same =
            page("<h1>Berita</h1><p>Gubernur meresmikan jembatan baru di Samarinda hari ini.</p>");
        assert!(compare_crawler(&browser, &same, &vocab, &policy).is_none());
        let cloaked = page(
            r#"<h1>Berita</h1><p>Gubernur meresmikan jembatan baru di Samarinda hari ini.</p>
               <p>Bandar togel terpercaya <a href="https://toto.example/">daftar</a></p>"#,
        );
        let f = compare_crawler(&browser, &cloaked, &vocab, &policy).unwrap();
        assert_eq!(f.kind, FindingKind::Cloaking);
        assert!(
            f.evidence.contains(&"bandar togel".to_string()),
            "{:?}",
            f.evidence
        );
        assert!(
            f.evidence.contains(&"toto.example".to_string()),
            "{:?}",
            f.evidence
        );
        let other = page("<h1>SLOT</h1><p>Main sekarang menang besar setiap hari bersama kami</p>");
        let f = compare_crawler(&browser, &other, &vocab, &policy).unwrap();
        assert!(f.evidence.iter().any(|e| e.starts_with("word similarity")));
    }

    #[test]
    fn a_published_page_inside_the_site_chrome_matches_and_an_injection_inside_it_does_not() {
        let ours = page(
            r#"<h1>Jembatan Mahakam diresmikan</h1><p>Gubernur meresmikan jembatan baru di
               Samarinda. Lihat <a href="https://pu.go.id/jembatan">data PU</a>.</p>
               <img src="https://hub.example/site/media/abc.jpg" alt="Jembatan">"#,
        );
        let live = page(
            r#"<header><a href="/">Beranda</a> Portal Resmi</header><article>
               <h1>Jembatan Mahakam diresmikan</h1><p>Gubernur meresmikan jembatan baru di
               Samarinda. Lihat <a href="http://www.pu.go.id/jembatan/">data PU</a>.</p>
               <img src="/wp-content/uploads/abc.jpg" alt="Jembatan"></article>
               <footer>Hak cipta Pemprov</footer>"#,
        );
        assert_eq!(compare_published(&live, &ours), None);

        let injected = page(
            r#"<header>Portal Resmi</header><article><h1>Jembatan Mahakam diresmikan</h1>
               <p>Gubernur meresmikan jembatan baru di Samarinda. Daftar slot gacor sekarang.
               Lihat <a href="https://pu.go.id/jembatan">data PU</a>.</p></article>"#,
        );
        let f = compare_published(&injected, &ours).unwrap();
        assert_eq!(f.kind, FindingKind::Tampered);
        assert!(
            f.evidence
                .contains(&"+ daftar slot gacor sekarang".to_string()),
            "{:?}",
            f.evidence
        );
        assert!(f.evidence.iter().any(|e| e.contains("media missing")));

        let rewritten = page("<h1>Jembatan Mahakam diresmikan</h1><p>Isi lain sama sekali.</p>");
        let f = compare_published(&rewritten, &ours).unwrap();
        assert!(
            f.evidence.iter().any(|e| e.starts_with("- gubernur")),
            "{:?}",
            f.evidence
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.starts_with("- link to https://pu.go.id"))
        );
    }

    #[test]
    fn sitemaps_and_sitemap_indexes_are_read() {
        let index = r#"<?xml version="1.0"?><sitemapindex><sitemap><loc>https://a.go.id/wp-sitemap-posts-post-1.xml</loc></sitemap></sitemapindex>"#;
        let (pages, maps) = sitemap_urls(index, 10);
        assert!(pages.is_empty());
        assert_eq!(
            maps[0].as_str(),
            "https://a.go.id/wp-sitemap-posts-post-1.xml"
        );
        let set = r#"<urlset><url><loc> https://a.go.id/berita?id=1&amp;x=2 </loc><lastmod>2026</lastmod></url>
            <url><loc><![CDATA[https://a.go.id/b]]></loc></url><url><loc>javascript:x</loc></url></urlset>"#;
        let (pages, _) = sitemap_urls(set, 10);
        let pages: Vec<&str> = pages.iter().map(Url::as_str).collect();
        assert_eq!(
            pages,
            vec!["https://a.go.id/berita?id=1&x=2", "https://a.go.id/b"]
        );
        assert_eq!(sitemap_urls(set, 1).0.len(), 1);
    }

    #[test]
    fn baseline_changes_ignore_marked_noise() {
        let base = page(
            "<p>Pengunjung: 1.204</p><p>Selamat datang di portal resmi.</p><p>Diperbarui 23/11/2026</p>",
        );
        let noise = vec![
            Regex::new(r"Pengunjung: [\d.]+").unwrap(),
            Regex::new(r"\d{2}/\d{2}/\d{4}").unwrap(),
        ];
        let today = page(
            "<p>Pengunjung: 1.377</p><p>Selamat datang di portal resmi.</p><p>Diperbarui 24/11/2026</p>",
        );
        assert!(compare_baseline(&today, &base, &noise).is_none());
        assert!(
            compare_baseline(&today, &base, &[]).is_some(),
            "without the noise marked it differs"
        );
        let defaced = page(
            r#"<p>Pengunjung: 1.377</p><p>Selamat datang di portal resmi.</p><p>Diperbarui 24/11/2026</p>
               <a href="https://judi.example/">klik</a>"#,
        );
        let f = compare_baseline(&defaced, &base, &noise).unwrap();
        assert!(
            f.evidence.contains(&"+ link to judi.example".to_string()),
            "{:?}",
            f.evidence
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.starts_with("+ ") && e.contains("klik"))
        );
    }
}
