//! The guard's vocabulary: gambling words and defacement signatures, from `guard/vocabulary.toml`
//! (built in) or an office's own file of the same shape.

use std::path::Path;

use serde::Deserialize;

use crate::GuardError;
use crate::text::Matcher;

/// The vocabulary shipped with Warta.
pub const BUILT_IN: &str = include_str!("../../../guard/vocabulary.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    gambling_jargon: Vec<String>,
    gambling_topic: Vec<String>,
    defacement_strong: Vec<String>,
    defacement_weak: Vec<String>,
}

/// The compiled vocabulary.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    /// Gambling-trade words: an alert wherever they are.
    pub jargon: Matcher,
    /// Words news about gambling uses too: an alert only where injections put them.
    pub topic: Matcher,
    pub defacement_strong: Matcher,
    pub defacement_weak: Matcher,
}

impl Vocabulary {
    /// The vocabulary shipped with Warta.
    pub fn built_in() -> Self {
        Self::parse(BUILT_IN, "guard/vocabulary.toml").expect("the built-in vocabulary is valid")
    }

    /// Reads an office's vocabulary file.
    pub fn load(path: &Path) -> Result<Self, GuardError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| GuardError::Vocabulary(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, name: &str) -> Result<Self, GuardError> {
        let file: File =
            toml::from_str(text).map_err(|e| GuardError::Vocabulary(format!("{name}: {e}")))?;
        let compile = |list: &[String], field: &str| {
            Matcher::new(list).map_err(|e| GuardError::Vocabulary(format!("{name}: {field}: {e}")))
        };
        Ok(Vocabulary {
            jargon: compile(&file.gambling_jargon, "gambling_jargon")?,
            topic: compile(&file.gambling_topic, "gambling_topic")?,
            defacement_strong: compile(&file.defacement_strong, "defacement_strong")?,
            defacement_weak: compile(&file.defacement_weak, "defacement_weak")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_vocabulary_loads_and_a_bad_file_is_refused_by_name() {
        let v = Vocabulary::built_in();
        assert_eq!(v.jargon.find("RTP LIVE hari ini"), vec!["rtp live"]);
        let err = Vocabulary::parse("gambling_jargon = 3", "kantor.toml").unwrap_err();
        assert!(err.to_string().contains("kantor.toml"), "{err}");
        let unknown = Vocabulary::parse(
            "gambling_jargon=[]\ngambling_topic=[]\ndefacement_strong=[]\ndefacement_weak=[]\nextra=[]",
            "kantor.toml",
        );
        assert!(unknown.is_err());
    }
}
