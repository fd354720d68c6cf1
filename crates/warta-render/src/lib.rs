#![forbid(unsafe_code)]
//! Markdown to sanitised HTML, and the HTML pages of a Warta site.
//!
//! Architecture Invariant: this crate is the only place where article HTML is produced.
//! The editor's live preview, the official's review screen, the static site and later
//! publishing targets all call [`render_markdown`] and [`page_html`], so what an official
//! approves is byte for byte what the public sees.
//!
//! Architecture Invariant: nothing this crate emits can run script. Article bodies pass
//! through an explicit allowlist (see [`render_markdown`]), every other field is escaped, and
//! full pages carry a Content-Security-Policy that forbids scripts as a second line of defence.
//! The feature `inert-check` adds `inert`, which parses output again with a real HTML5
//! parser and reports anything active; the XSS corpus in `tests/xss/` and the fuzz targets in
//! the repository's `fuzz/` hold every output to it.

#[cfg(feature = "inert-check")]
pub mod inert;
mod markdown;
mod page;

pub use markdown::{render_markdown, sanitise_html};
pub use page::{IndexEntry, Page, PageAttachment, escape_html, index_html, page_html};
