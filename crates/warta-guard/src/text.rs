//! Folding text for matching, and the vocabulary matcher.
//!
//! Injected gambling text is written to slip past filters: `ＳＬＯＴ ＧＡＣＯＲ`, `𝐬𝐥𝐨𝐭`,
//! `s.l.o.t g-a-c-o-r`, `g4c0r`. [`fold`] maps look-alike letters to plain lowercase ones and
//! drops accents; a [`Matcher`] lets any run of up to three separators stand between the letters
//! of a term, requires word boundaries around it, and also reads the text with digits taken as
//! the letters they imitate.

use regex::{Regex, RegexSet};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lowercase, compatibility-normalised (fullwidth and mathematical letters become plain ones),
/// without accents, with Cyrillic and Greek look-alikes of Latin letters taken as those.
pub fn fold(s: &str) -> String {
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'а' | 'α' => 'a',
            'в' | 'β' => 'b',
            'с' | 'ϲ' => 'c',
            'е' | 'ε' => 'e',
            'һ' => 'h',
            'і' | 'ι' => 'i',
            'ј' => 'j',
            'к' | 'κ' => 'k',
            'м' => 'm',
            'н' | 'η' => 'n',
            'о' | 'ο' => 'o',
            'р' | 'ρ' => 'p',
            'ѕ' => 's',
            'т' | 'τ' => 't',
            'у' | 'υ' => 'y',
            'х' | 'χ' => 'x',
            other => other,
        })
        .collect()
}

/// What the matcher reads: [`fold`]ed, every run of anything but `a-z` and `0-9` one space.
fn words_only(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len() + 2);
    out.push(' ');
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// Digits and symbols read as the letters they stand for in "leet" spelling.
pub fn unleet(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' => 'a',
            '5' => 's',
            '7' => 't',
            '@' => 'a',
            '$' => 's',
            other => other,
        })
        .collect()
}

/// Whitespace collapsed to single spaces, trimmed.
pub fn squash_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Finds which of a list of terms occur in a text: the text is read as lowercase ASCII words
/// ([`fold`], anything else a space), and a term's letters may be run together or spaced out.
#[derive(Debug, Clone)]
pub struct Matcher {
    terms: Vec<String>,
    set: RegexSet,
}

impl Matcher {
    /// A matcher for `terms` (as written in the vocabulary; folded here).
    pub fn new(terms: &[String]) -> Result<Self, regex::Error> {
        let mut patterns = Vec::with_capacity(terms.len());
        let mut kept = Vec::with_capacity(terms.len());
        for term in terms {
            let letters: Vec<char> = fold(term)
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect();
            if letters.is_empty() {
                continue;
            }
            let body = letters
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" ?");
            // The text starts and ends with a space and has one between words.
            patterns.push(format!("(?-u) {body} "));
            kept.push(term.trim().to_string());
        }
        let set = RegexSet::new(&patterns)?;
        // Catch a pattern too big for the default limits now, not on the first page.
        for p in &patterns {
            Regex::new(p)?;
        }
        Ok(Matcher { terms: kept, set })
    }

    /// The terms found in `text`, in vocabulary order, each once.
    pub fn find(&self, text: &str) -> Vec<String> {
        if text.is_empty() {
            return Vec::new();
        }
        let folded = words_only(&fold(text));
        let unleeted = words_only(&unleet(&fold(text)));
        let mut hits: Vec<usize> = self.set.matches(&folded).into_iter().collect();
        if unleeted != folded {
            hits.extend(self.set.matches(&unleeted));
            hits.sort_unstable();
            hits.dedup();
        }
        hits.into_iter().map(|i| self.terms[i].clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(terms: &[&str]) -> Matcher {
        Matcher::new(&terms.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn disguised_spellings_are_found() {
        let m = matcher(&["slot gacor", "togel", "maxwin"]);
        for text in [
            "Daftar SLOT GACOR hari ini",
            "ＳＬＯＴ ＧＡＣＯＲ",
            "𝐬𝐥𝐨𝐭 𝐠𝐚𝐜𝐨𝐫 terpercaya",
            "s.l.o.t g-a-c-o-r",
            "slotgacor",
            "sl0t g4c0r",
            "Slöt Gácor",
            "ѕlоt gасоr", // Cyrillic look-alikes
            "s . l . o . t   g_a_c_o_r",
        ] {
            assert_eq!(m.find(text), vec!["slot gacor"], "{text}");
        }
        assert_eq!(
            m.find("bandar TOGEL dan m a x w i n"),
            vec!["togel", "maxwin"]
        );
    }

    #[test]
    fn words_that_only_contain_a_term_are_not_found() {
        let m = matcher(&["togel", "slot", "toto"]);
        assert!(m.find("Foto gelar budaya di Samarinda").is_empty());
        assert!(m.find("Slotting jadwal rapat; totonya").is_empty());
        assert!(m.find("").is_empty());
        assert!(m.find("slo tting").is_empty());
    }
}
