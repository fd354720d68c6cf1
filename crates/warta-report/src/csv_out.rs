//! The tables of a [`Document`] as CSV (UTF-8 with a byte-order mark, so spreadsheet programs
//! read Indonesian text right).
//!
//! A document with one table is written as that table: the header row, then the rows. With
//! several tables, each is preceded by a row holding only its caption. Cells a spreadsheet
//! would run as a formula (starting with `=`, `+`, `@`, a tab, a carriage return, or `-` not
//! followed by a digit) are written with a leading `'`, so a title typed by a user cannot
//! become a formula on the desk of whoever opens the export.

use crate::{Document, ReportError, Table};

/// Writes the document's tables as CSV.
pub fn write(doc: &Document) -> Result<Vec<u8>, ReportError> {
    let tables: Vec<&Table> = doc.tables().collect();
    let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
    {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut out);
        let several = tables.len() > 1;
        for table in tables {
            if several {
                w.write_record([defuse(&table.caption)])?;
            }
            w.write_record(table.columns.iter().map(|c| defuse(&c.header)))?;
            for i in 0..table.rows.len() {
                w.write_record((0..table.columns.len()).map(|c| defuse(table.cell(i, c))))?;
            }
        }
        w.flush().map_err(csv::Error::from)?;
    }
    Ok(out)
}

/// The cell as it is written: formulas made inert with a leading `'`.
pub fn defuse(cell: &str) -> String {
    let mut chars = cell.chars();
    let risky = match chars.next() {
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        Some('-') => chars.next().is_some_and(|c| !c.is_ascii_digit()),
        _ => false,
    };
    if risky {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}
