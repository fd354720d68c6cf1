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
