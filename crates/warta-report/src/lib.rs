//! Report documents for the offices: a small neutral document model ([`Document`]) written as
//! DOCX ([`docx`]), PDF ([`pdf`]) or CSV ([`csv_out`]); the SOP printed in its official table
//! layout from its definition ([`sop`]); and per-step statistics of actual against standard
//! working time ([`stats`]).
//!
//! Architecture Invariant: no hub, no `tauri`, no IO and no clock: documents are built from
//! values and written to bytes. The PDF writer's font (DejaVu Sans Condensed, regular and
//! bold) is compiled in, so a report looks the same on every desktop and server.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

pub mod csv_out;
pub mod docx;
pub mod pdf;
pub mod sop;
pub mod stats;

/// A report in the neutral model: a title, metadata lines, then headings, paragraphs and tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document's title (first line, and the file's title property).
    pub title: String,
    /// Lines under the title, e.g. ("Periode", "1–31 Maret 2026").
    pub meta: Vec<(String, String)>,
    /// Page orientation (landscape for wide tables).
    pub orientation: Orientation,
    /// The body, in order.
    pub blocks: Vec<Block>,
}

/// Page orientation of a whole document (A4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    /// 210 × 297 mm.
    Portrait,
    /// 297 × 210 mm.
    Landscape,
}

/// One piece of a document's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading.
    Heading(String),
    /// A paragraph of running text (wrapped by the writer).
    Paragraph(String),
    /// A table.
    Table(Table),
}

/// A table: a header row, then rows of plain text cells (one per column; missing cells are
/// empty, extra cells are dropped).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Name of the table, used as its caption in CSV exports with several tables.
    pub caption: String,
    /// The columns, left to right.
    pub columns: Vec<Column>,
    /// The body rows.
    pub rows: Vec<Vec<String>>,
}

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Header text.
    pub header: String,
    /// Relative width: the writers share the page's width between columns in proportion.
    pub width: u16,
}

impl Column {
    /// A column with this header and relative width.
    pub fn new(header: impl Into<String>, width: u16) -> Self {
        Column {
            header: header.into(),
            width: width.max(1),
        }
    }
}

impl Table {
    /// The cell at (`row`, `col`), empty when the row is short.
    pub fn cell(&self, row: usize, col: usize) -> &str {
        self.rows
            .get(row)
            .and_then(|r| r.get(col))
            .map_or("", String::as_str)
    }
}

impl Document {
    /// An empty portrait document with this title.
    pub fn new(title: impl Into<String>) -> Self {
        Document {
            title: title.into(),
            meta: Vec::new(),
            orientation: Orientation::Portrait,
            blocks: Vec::new(),
        }
    }

    /// The tables of the body, in order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Table(t) => Some(t),
            _ => None,
        })
    }

    /// Writes the document in `format`.
    pub fn write(&self, format: Format) -> Result<Vec<u8>, ReportError> {
        match format {
            Format::Docx => docx::write(self),
            Format::Pdf => pdf::write(self),
            Format::Csv => csv_out::write(self),
        }
    }
}

/// The file formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Office Open XML (Word, LibreOffice).
    Docx,
    /// PDF with the font embedded.
    Pdf,
    /// The tables as comma-separated values (UTF-8).
    Csv,
}

impl Format {
    /// All formats.
    pub const ALL: [Format; 3] = [Format::Docx, Format::Pdf, Format::Csv];

    /// `docx`, `pdf` or `csv`: the file extension and the wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Pdf => "pdf",
            Format::Csv => "csv",
        }
    }

    /// The media type of the written bytes.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Pdf => "application/pdf",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not `docx`, `pdf` or `csv`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format {0:?}: use docx, pdf or csv")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// The language of a report's labels: Indonesian (the default) or English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Bahasa Indonesia.
    #[default]
    Id,
    /// English.
    En,
}

impl Lang {
    /// `id` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// The text of `t` in this language.
    pub fn pick(self, t: &warta_sop::Text) -> &str {
        match self {
            Lang::Id => &t.id,
            Lang::En => &t.en,
        }
    }

    /// `id` when Indonesian, otherwise `en`.
    pub fn tr<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

/// A language name that is not `id` or `en`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report language {0:?}: use id or en")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "id" => Ok(Lang::Id),
            "en" => Ok(Lang::En),
            _ => Err(UnknownLang(s.to_owned())),
        }
    }
}

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The DOCX package could not be assembled.
    #[error("cannot write the DOCX file: {0}")]
    Docx(String),
    /// The PDF could not be laid out or written.
    #[error("cannot write the PDF file: {0}")]
    Pdf(String),
    /// The CSV could not be written.
    #[error("cannot write the CSV file: {0}")]
    Csv(#[from] csv::Error),
}
