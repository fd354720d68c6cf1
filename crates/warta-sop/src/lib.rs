//! SOP workflow definitions as data, their validation, and the SLA calendar.
//!
//! The four SOPs the product runs live in `sops/*.toml` at the repository root and are
//! compiled in ([`builtin`]); a deployment may also load its own with [`load_file`].
//! Public holidays come from `sops/holidays.toml` ([`Holidays::builtin`]), which the admin edits.
//!
//! Architecture Invariant: this crate does no IO except reading files and never reads the
//! clock; instants are passed in.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;
use std::path::Path;

mod calendar;
mod definition;
mod standard;

pub use calendar::{Calendar, CalendarSpec, Holidays, OpenHours};
pub use definition::{Action, Definition, RoleDef, Step, Text, parse};
pub use standard::{BadStandardTime, Span, StandardTime};

pub(crate) const BUILTIN_HOLIDAYS: &str = include_str!("../../../sops/holidays.toml");

const BUILTIN: [(&str, &str); 4] = [
    ("sops/sop-a.toml", include_str!("../../../sops/sop-a.toml")),
    ("sops/sop-b.toml", include_str!("../../../sops/sop-b.toml")),
    ("sops/sop-c.toml", include_str!("../../../sops/sop-c.toml")),
    ("sops/sop-d.toml", include_str!("../../../sops/sop-d.toml")),
];

/// The four SOPs shipped with the product, in order A–D.
///
/// # Panics
/// Never in practice: the files are compiled in and their validity is tested.
pub fn builtin() -> Vec<Definition> {
    BUILTIN
        .iter()
        .map(|(source, text)| parse(source, text).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// SOP-A (website content publishing), the workflow the hub runs.
pub fn builtin_sop_a() -> Definition {
    let (source, text) = BUILTIN[0];
    parse(source, text).unwrap_or_else(|e| panic!("{e}"))
}

/// Reads and validates a definition file; messages name the file as given.
pub fn load_file(path: impl AsRef<Path>) -> Result<Definition, SopError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SopError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&file, &text)
}

/// What kind of problem a definition has; lets callers and tests tell problems apart without
/// matching message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// The calendar table is unusable (zone, hours, or conflicting keys).
    BadCalendar,
    /// Two roles share an id.
    DuplicateRole,
    /// Two steps share an id.
    DuplicateStep,
    /// `start` names no step.
    UnknownStart,
    /// A non-final step has no actor.
    MissingActor,
    /// A step's actor is not a role of the SOP.
    UnknownRole,
    /// A final step names an actor.
    FinalWithActor,
    /// A final step has a standard time.
    FinalWithTime,
    /// A final step has actions.
    FinalWithActions,
    /// A non-final step has no `time` key.
    MissingTime,
    /// A `time` value does not parse.
    BadTime,
    /// An action leads to a step that does not exist.
    UnknownTarget,
    /// Two actions of one step share an id.
    DuplicateAction,
    /// A non-final step has no actions.
    DeadEnd,
    /// A step cannot be reached from the start step.
    Unreachable,
    /// An action requires an assignee but leads to a step where nobody acts.
    AssigneeWithoutActor,
}

/// One problem of a definition file. Displays as `file: step "id": message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File the definition came from.
    pub file: String,
    /// Step concerned, if the problem belongs to one.
    pub step: Option<String>,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// Plain-English explanation.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.step {
            Some(step) => write!(f, "{}: step \"{step}\": {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Why a definition or holidays file was refused.
#[derive(Debug, thiserror::Error)]
pub enum SopError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// Path as given.
        file: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not have the expected shape.
    #[error("{file}: line {line}, column {column}: {message}")]
    Toml {
        /// File name.
        file: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's explanation.
        message: String,
    },
    /// The definition parsed but breaks the rules; one line per problem.
    #[error("{}", join_lines(.0))]
    Invalid(Vec<Problem>),
    /// A holidays entry is wrong.
    #[error("{file}: {message}")]
    Holidays {
        /// File name.
        file: String,
        /// What is wrong, naming the entry.
        message: String,
    },
}

fn join_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl SopError {
    /// The problems of an [`SopError::Invalid`] error; empty for other errors.
    pub fn problems(&self) -> &[Problem] {
        match self {
            SopError::Invalid(p) => p,
            _ => &[],
        }
    }

    pub(crate) fn from_toml(file: &str, text: &str, e: &toml::de::Error) -> SopError {
        let at = e.span().map_or(0, |s| s.start).min(text.len());
        let before = text.get(..at).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before
            .rfind('\n')
            .map_or(before, |i| &before[i + 1..])
            .chars()
            .count()
            + 1;
        SopError::Toml {
            file: file.to_owned(),
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    }
}
