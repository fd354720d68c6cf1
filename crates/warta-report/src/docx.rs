//! [`Document`] as DOCX (Office Open XML) through `docx-rs`: A4, 2 cm margins, the tables at
//! the full width between the margins with their columns in proportion. Opens in Word and
//! LibreOffice (the tests convert it with LibreOffice and read the text back).

use std::io::Cursor;

use docx_rs::{
    AlignmentType, Docx, PageMargin, PageOrientationType, Paragraph, Run, RunFonts, Shading,
    Table as DocxTable, TableCell, TableLayoutType, TableRow, WidthType,
};

use crate::{Block, Document, Orientation, ReportError, Table};

/// A4 in twentieths of a point.
const A4_SHORT: u32 = 11_906;
const A4_LONG: u32 = 16_838;
/// 2 cm.
const MARGIN: i32 = 1_134;

/// Writes the document as a DOCX package.
pub fn write(doc: &Document) -> Result<Vec<u8>, ReportError> {
    let (w, h) = match doc.orientation {
        Orientation::Portrait => (A4_SHORT, A4_LONG),
        Orientation::Landscape => (A4_LONG, A4_SHORT),
    };
    let usable = w as usize - 2 * MARGIN as usize;
    let mut docx = Docx::new()
        .page_size(w, h)
        .page_margin(
            PageMargin::new()
                .top(MARGIN)
                .bottom(MARGIN)
                .left(MARGIN)
                .right(MARGIN)
                .header(567)
                .footer(567),
        )
        .default_fonts(RunFonts::new().ascii("Arial").hi_ansi("Arial").cs("Arial"))
        .default_size(20);
    if doc.orientation == Orientation::Landscape {
        docx = docx.page_orient(PageOrientationType::Landscape);
    }
    docx = docx.add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .add_run(Run::new().add_text(&doc.title).bold().size(30)),
    );
    for (label, value) in &doc.meta {
        docx = docx.add_paragraph(
            Paragraph::new()
                .add_run(Run::new().add_text(format!("{label}: ")).bold())
                .add_run(Run::new().add_text(value)),
        );
    }
    for block in &doc.blocks {
        docx = match block {
            Block::Heading(text) => docx.add_paragraph(
                Paragraph::new()
                    .keep_next(true)
                    .add_run(Run::new().add_text(text).bold().size(24)),
            ),
            Block::Paragraph(text) => {
                let mut p = Paragraph::new();
                for (i, line) in text.split('\n').enumerate() {
                    let mut run = Run::new();
                    if i > 0 {
                        run = run.add_break(docx_rs::BreakType::TextWrapping);
                    }
                    p = p.add_run(run.add_text(line));
                }
                docx.add_paragraph(p)
            }
            Block::Table(t) => docx
                .add_table(table(t, usable))
                .add_paragraph(Paragraph::new()),
        };
    }
    let mut out = Cursor::new(Vec::new());
    docx.build()
        .pack(&mut out)
        .map_err(|e| ReportError::Docx(e.to_string()))?;
    Ok(out.into_inner())
}

fn table(t: &Table, usable: usize) -> DocxTable {
    let total: usize = t
        .columns
        .iter()
        .map(|c| usize::from(c.width))
        .sum::<usize>()
        .max(1);
    let widths: Vec<usize> = t
        .columns
        .iter()
        .map(|c| usable * usize::from(c.width) / total)
        .collect();
    let cell = |text: &str, width: usize, header: bool| {
        let mut p = Paragraph::new();
        for (i, line) in text.split('\n').enumerate() {
            let mut run = Run::new().size(18);
            if header {
                run = run.bold();
            }
            if i > 0 {
                run = run.add_break(docx_rs::BreakType::TextWrapping);
            }
            p = p.add_run(run.add_text(line));
        }
        let c = TableCell::new()
            .width(width, WidthType::Dxa)
            .add_paragraph(p);
        if header {
            c.shading(Shading::new().fill("D9D9D9"))
        } else {
            c
        }
    };
    let mut rows = vec![TableRow::new(
        t.columns
            .iter()
            .zip(&widths)
            .map(|(c, &w)| cell(&c.header, w, true))
            .collect(),
    )];
    for i in 0..t.rows.len() {
        rows.push(TableRow::new(
            widths
                .iter()
                .enumerate()
                .map(|(c, &w)| cell(t.cell(i, c), w, false))
                .collect(),
        ));
    }
    DocxTable::new(rows)
        .set_grid(widths)
        .layout(TableLayoutType::Fixed)
        .width(usable, WidthType::Dxa)
}
