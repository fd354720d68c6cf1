//! [`Document`] as PDF through `printpdf`: A4 (landscape when the document asks), 15 mm
//! margins, DejaVu Sans Condensed embedded (subset to the glyphs used, with `allsorts`) so
//! Indonesian and other Latin text shows and can be searched and copied on any reader.
//!
//! Layout is done here, not by a rendering engine: text is wrapped at word boundaries by the
//! font's own advance widths (a word wider than its column is cut between characters), and a
//! table's rows go on the next page when they do not fit, its header row repeated at the top;
//! a row taller than a whole page is split between pages line by line. Every page carries
//! "page N / M" at its foot.
//!
//! The font is compiled in (about 1.3 MB for the two faces): reports must look the same on
//! Windows and macOS desktops, which do not ship DejaVu, and on servers with no fonts at all.

use std::collections::BTreeSet;

use printpdf::{
    Color, FontId, Greyscale, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rect, TextItem,
};

use crate::{Block, Document, Orientation, ReportError, Table};

const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSansCondensed.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSansCondensed-Bold.ttf");

/// A4 in points.
const A4_SHORT: f32 = 595.28;
const A4_LONG: f32 = 841.89;
/// 15 mm.
const MARGIN: f32 = 42.52;

const TITLE_SIZE: f32 = 15.0;
const HEADING_SIZE: f32 = 11.5;
const BODY_SIZE: f32 = 9.5;
const TABLE_SIZE: f32 = 8.0;
const CELL_PAD: f32 = 3.0;
const LEADING: f32 = 1.25;

struct Face {
    font: ParsedFont,
    id: FontId,
}

impl Face {
    /// The font cut down to the glyphs of `chars` (and `.notdef`), added to `doc`. Advance
    /// widths are the same as the whole font's; should subsetting fail, the whole font goes in.
    fn load(
        doc: &mut PdfDocument,
        bytes: &[u8],
        name: &str,
        chars: &BTreeSet<char>,
    ) -> Result<Face, ReportError> {
        let parse = |b: &[u8]| ParsedFont::from_bytes(b, 0, &mut Vec::new());
        let whole = parse(bytes)
            .ok_or_else(|| ReportError::Pdf(format!("the embedded font {name} cannot be read")))?;
        let font = subset(bytes, &whole, chars)
            .and_then(|b| parse(&b))
            .unwrap_or(whole);
        let id = doc.add_font(&font);
        Ok(Face { font, id })
    }

    /// Width of `text` at `size` points, from the font's advance widths.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units = f32::from(self.font.units_per_em.max(1));
        let total: u32 = text
            .chars()
            .map(|c| {
                let gid = self.font.lookup_glyph_index(c as u32).unwrap_or(0);
                u32::from(self.font.get_glyph_width(gid).unwrap_or(units as u16 / 2))
            })
            .sum();
        total as f32 * size / units
    }
}

/// The subset of `bytes` holding the glyphs of `chars`, with a Unicode cmap.
fn subset(bytes: &[u8], whole: &ParsedFont, chars: &BTreeSet<char>) -> Option<Vec<u8>> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile};
    let glyphs: BTreeSet<u16> = chars
        .iter()
        .filter_map(|&c| whole.lookup_glyph_index(c as u32))
        .filter(|&g| g != 0)
        .collect();
    // `.notdef` first, as the subsetter requires.
    let ids: Vec<u16> = std::iter::once(0).chain(glyphs).collect();
    let data = ReadScope::new(bytes).read::<FontData<'_>>().ok()?;
    let provider = data.table_provider(0).ok()?;
    allsorts::subset::subset(&provider, &ids, &SubsetProfile::Pdf, CmapTarget::Unicode).ok()
}

/// Every character the document can draw: its texts, and the page numbers' "0-9 /".
fn characters(doc: &Document) -> BTreeSet<char> {
    let mut texts: Vec<&str> = vec![&doc.title, "0123456789 /: "];
    for (label, value) in &doc.meta {
        texts.push(label);
        texts.push(value);
    }
    for block in &doc.blocks {
        match block {
            Block::Heading(t) | Block::Paragraph(t) => texts.push(t),
            Block::Table(t) => {
                texts.extend(t.columns.iter().map(|c| c.header.as_str()));
                texts.extend(t.rows.iter().flatten().map(String::as_str));
            }
        }
    }
    texts.iter().flat_map(|t| t.chars()).collect()
}

/// Writes the document as PDF.
pub fn write(doc: &Document) -> Result<Vec<u8>, ReportError> {
    let mut pdf = PdfDocument::new(&doc.title);
    let chars = characters(doc);
    let regular = Face::load(&mut pdf, REGULAR, "DejaVuSansCondensed", &chars)?;
    let bold = Face::load(&mut pdf, BOLD, "DejaVuSansCondensed-Bold", &chars)?;
    let (w, h) = match doc.orientation {
        Orientation::Portrait => (A4_SHORT, A4_LONG),
        Orientation::Landscape => (A4_LONG, A4_SHORT),
    };
    let mut layout = Layout {
        regular: &regular,
        bold: &bold,
        width: w,
        height: h,
        pages: Vec::new(),
        ops: Vec::new(),
        y: h - MARGIN,
    };
    layout.title(&doc.title);
    for (label, value) in &doc.meta {
        layout.paragraph(&format!("{label}: {value}"), BODY_SIZE, false);
    }
    layout.gap(6.0);
    for block in &doc.blocks {
        match block {
            Block::Heading(text) => layout.heading(text),
            Block::Paragraph(text) => {
                layout.paragraph(text, BODY_SIZE, false);
                layout.gap(4.0);
            }
            Block::Table(t) => {
                layout.table(t);
                layout.gap(8.0);
            }
        }
    }
    let pages = layout.finish();
    let total = pages.len();
    let pages = pages
        .into_iter()
        .enumerate()
        .map(|(i, mut ops)| {
            let label = format!("{} / {total}", i + 1);
            let x = w - MARGIN - regular.width(&label, TABLE_SIZE);
            text_ops(&mut ops, &regular.id, TABLE_SIZE, x, MARGIN / 2.0, &label);
            PdfPage::new(Mm::from(Pt(w)), Mm::from(Pt(h)), ops)
        })
        .collect();
    let mut warnings = Vec::new();
    Ok(pdf
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings))
}

fn text_ops(ops: &mut Vec<Op>, font: &FontId, size: f32, x: f32, y: f32, text: &str) {
    ops.push(Op::StartTextSection);
    ops.push(Op::SetFont {
        font: PdfFontHandle::External(font.clone()),
        size: Pt(size),
    });
    ops.push(Op::SetTextCursor {
        pos: Point { x: Pt(x), y: Pt(y) },
    });
    ops.push(Op::ShowText {
        items: vec![TextItem::Text(text.to_owned())],
    });
    ops.push(Op::EndTextSection);
}

struct Layout<'a> {
    regular: &'a Face,
    bold: &'a Face,
    width: f32,
    height: f32,
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    /// The top of the free space on the current page.
    y: f32,
}

impl Layout<'_> {
    fn face(&self, bold: bool) -> &Face {
        if bold { self.bold } else { self.regular }
    }

    fn bottom(&self) -> f32 {
        MARGIN
    }

    fn new_page(&mut self) {
        self.pages.push(std::mem::take(&mut self.ops));
        self.y = self.height - MARGIN;
    }

    fn on_fresh_page(&self) -> bool {
        self.y >= self.height - MARGIN - 0.01
    }

    fn finish(mut self) -> Vec<Vec<Op>> {
        if !self.ops.is_empty() || self.pages.is_empty() {
            self.new_page();
        }
        self.pages
    }

    fn gap(&mut self, pt: f32) {
        self.y -= pt;
    }

    fn text(&mut self, x: f32, baseline: f32, text: &str, size: f32, bold: bool) {
        let id = self.face(bold).id.clone();
        text_ops(&mut self.ops, &id, size, x, baseline, text);
    }

    /// Lines of at most `width` points; explicit newlines are kept.
    fn wrap(&self, text: &str, width: f32, size: f32, bold: bool) -> Vec<String> {
        let face = self.face(bold);
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if face.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // The word alone: cut it between characters while it is too wide.
                for c in word.chars() {
                    let mut longer = line.clone();
                    longer.push(c);
                    if !line.is_empty() && face.width(&longer, size) > width {
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    } else {
                        line = longer;
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    fn lines(&mut self, lines: &[String], x: f32, size: f32, bold: bool) {
        let lh = size * LEADING;
        for line in lines {
            if self.y - lh < self.bottom() {
                self.new_page();
            }
            self.text(x, self.y - size, line, size, bold);
            self.y -= lh;
        }
    }

    fn title(&mut self, title: &str) {
        let width = self.width - 2.0 * MARGIN;
        let lines = self.wrap(title, width, TITLE_SIZE, true);
        self.lines(&lines, MARGIN, TITLE_SIZE, true);
        self.gap(4.0);
    }

    fn heading(&mut self, text: &str) {
        let width = self.width - 2.0 * MARGIN;
        let lines = self.wrap(text, width, HEADING_SIZE, true);
        // Keep a heading with at least three lines of what follows.
        let need = (lines.len() as f32 + 3.0) * HEADING_SIZE * LEADING + 6.0;
        if self.y - need < self.bottom() && !self.on_fresh_page() {
            self.new_page();
        }
        self.gap(6.0);
        self.lines(&lines, MARGIN, HEADING_SIZE, true);
        self.gap(2.0);
    }

    fn paragraph(&mut self, text: &str, size: f32, bold: bool) {
        let width = self.width - 2.0 * MARGIN;
        let lines = self.wrap(text, width, size, bold);
        self.lines(&lines, MARGIN, size, bold);
    }

    fn table(&mut self, t: &Table) {
        let usable = self.width - 2.0 * MARGIN;
        let total: f32 = t
            .columns
            .iter()
            .map(|c| f32::from(c.width))
            .sum::<f32>()
            .max(1.0);
        let widths: Vec<f32> = t
            .columns
            .iter()
            .map(|c| usable * f32::from(c.width) / total)
            .collect();
        let lh = TABLE_SIZE * LEADING;
        let inner = |w: f32| (w - 2.0 * CELL_PAD).max(TABLE_SIZE);
        let header: Vec<Vec<String>> = t
            .columns
            .iter()
            .zip(&widths)
            .map(|(c, &w)| self.wrap(&c.header, inner(w), TABLE_SIZE, true))
            .collect();
        let header_h = header.iter().map(Vec::len).max().unwrap_or(1) as f32 * lh + 2.0 * CELL_PAD;
        // The header with at least one body line under it, or a new page first.
        if self.y - header_h - lh - 2.0 * CELL_PAD < self.bottom() && !self.on_fresh_page() {
            self.new_page();
        }
        self.row(&widths, &header, true);
        for i in 0..t.rows.len() {
            let mut cells: Vec<Vec<String>> = widths
                .iter()
                .enumerate()
                .map(|(c, &w)| self.wrap(t.cell(i, c), inner(w), TABLE_SIZE, false))
                .collect();
            loop {
                let n = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
                let room = ((self.y - self.bottom() - 2.0 * CELL_PAD) / lh)
                    .floor()
                    .max(0.0) as usize;
                let page_room = ((self.height - 2.0 * MARGIN - header_h - 2.0 * CELL_PAD) / lh)
                    .floor()
                    .max(1.0) as usize;
                if n <= room {
                    self.row(&widths, &cells, false);
                    break;
                }
                if n <= page_room || room == 0 {
                    // Fits on a page of its own (or nothing fits here): next page, header again.
                    self.new_page();
                    self.row(&widths, &header, true);
                    continue;
                }
                // Taller than a page: what fits here, the rest on the next page.
                let (now, later): (Vec<_>, Vec<_>) = cells
                    .into_iter()
                    .map(|mut lines| {
                        let rest = if lines.len() > room {
                            lines.split_off(room)
                        } else {
                            Vec::new()
                        };
                        (lines, rest)
                    })
                    .unzip();
                self.row(&widths, &now, false);
                cells = later;
                self.new_page();
                self.row(&widths, &header, true);
            }
        }
    }

    /// One row at the current position; the caller made sure it fits.
    fn row(&mut self, widths: &[f32], cells: &[Vec<String>], header: bool) {
        let lh = TABLE_SIZE * LEADING;
        let n = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let h = n as f32 * lh + 2.0 * CELL_PAD;
        let top = self.y;
        let mut x = MARGIN;
        for (i, &w) in widths.iter().enumerate() {
            let rect = |mode| Rect {
                x: Pt(x),
                y: Pt(top - h),
                width: Pt(w),
                height: Pt(h),
                mode: Some(mode),
                winding_order: None,
            };
            if header {
                self.ops.push(Op::SetFillColor {
                    col: Color::Greyscale(Greyscale {
                        percent: 0.85,
                        icc_profile: None,
                    }),
                });
                self.ops.push(Op::DrawRectangle {
                    rectangle: rect(PaintMode::Fill),
                });
                self.ops.push(Op::SetFillColor {
                    col: Color::Greyscale(Greyscale {
                        percent: 0.0,
                        icc_profile: None,
                    }),
                });
            }
            self.ops.push(Op::SetOutlineThickness { pt: Pt(0.5) });
            self.ops.push(Op::DrawRectangle {
                rectangle: rect(PaintMode::Stroke),
            });
            for (j, line) in cells.get(i).into_iter().flatten().enumerate() {
                let baseline = top - CELL_PAD - TABLE_SIZE - j as f32 * lh;
                self.text(x + CELL_PAD, baseline, line, TABLE_SIZE, header);
            }
            x += w;
        }
        self.y = top - h;
    }
}
