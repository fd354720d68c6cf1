//! The three writers read back: our PDF with pdftotext, the DOCX through LibreOffice, the CSV
//! with a CSV parser.

mod common;

use common::{assert_has, docx_text, pdf_info, pdf_text};
use warta_report::{Block, Column, Document, Format, Lang, Orientation, Table};

fn sample(rows: usize) -> Document {
    Document {
        title: "Laporan Kegiatan Pengelolaan Website".into(),
        meta: vec![("Periode".into(), "1 Maret 2026 – 31 Maret 2026".into())],
        orientation: Orientation::Portrait,
        blocks: vec![
            Block::Heading("Ringkasan".into()),
            Block::Paragraph(
                "Diskominfo Prov. Kaltim menerbitkan berita di Samarinda — café, naïve, Rp 1.500.000."
                    .into(),
            ),
            Block::Table(Table {
                caption: "Berita per unit".into(),
                columns: vec![
                    Column::new("No", 4),
                    Column::new("Unit kerja", 20),
                    Column::new("Keterangan", 40),
                ],
                rows: (1..=rows)
                    .map(|i| {
                        vec![
                            i.to_string(),
                            format!("Bidang Informasi dan Komunikasi Publik nomor {i}"),
                            format!(
                                "Baris {i}: penanganan gangguan keamanan jaringan sudah \
                                 diverifikasi oleh Kepala Seksi dan dilaporkan kembali kepada \
                                 Pemeriksa Teknologi Informasi akhir{i}"
                            ),
                        ]
                    })
                    .collect(),
            }),
        ],
    }
}

#[test]
fn pdf_text_reads_back_with_non_ascii_and_wrapped_cells() {
    let doc = sample(3);
    let pdf = doc.write(Format::Pdf).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // Only the glyphs used are embedded: the two whole faces alone are about 1.3 MB.
    assert!(pdf.len() < 150_000, "fonts not subset: {} bytes", pdf.len());
    let text = pdf_text(&pdf);
    assert_has(&text, "Laporan Kegiatan Pengelolaan Website", "title");
    assert_has(&text, "Periode: 1 Maret 2026 – 31 Maret 2026", "meta line");
    assert_has(
        &text,
        "Diskominfo Prov. Kaltim menerbitkan berita di Samarinda — café, naïve, Rp 1.500.000.",
        "paragraph with non-ASCII letters",
    );
    for i in 1..=3 {
        // The long cell wraps over several lines of its column, and reads back whole.
        assert_has(
            &text,
            &format!(
                "Baris {i}: penanganan gangguan keamanan jaringan sudah diverifikasi oleh Kepala \
                 Seksi dan dilaporkan kembali kepada Pemeriksa Teknologi Informasi akhir{i}"
            ),
            "wrapped cell",
        );
    }
    let (pages, size) = pdf_info(&pdf);
    assert_eq!(pages, 1);
    assert!(size.starts_with("595.28 x 841.89"), "portrait A4: {size}");
}

#[test]
fn pdf_table_breaks_across_pages_with_its_header_repeated_and_landscape() {
    let mut doc = sample(120);
    doc.orientation = Orientation::Landscape;
    let pdf = doc.write(Format::Pdf).unwrap();
    let (pages, size) = pdf_info(&pdf);
    assert!(size.starts_with("841.89"), "landscape A4: {size}");
    assert!(
        pages >= 4,
        "120 three-line rows need several pages, got {pages}"
    );
    let text = pdf_text(&pdf);
    for i in 1..=120 {
        assert_has(
            &text,
            &format!("Pemeriksa Teknologi Informasi akhir{i}"),
            "every row",
        );
    }
    // The header row starts every page the table runs over.
    assert_eq!(text.matches("No Unit kerja Keterangan").count(), pages);
    assert_has(&text, &format!("1 / {pages}"), "page number");
    assert_has(&text, &format!("{pages} / {pages}"), "last page number");
}

#[test]
fn pdf_row_taller_than_a_page_is_split_not_lost() {
    let long: String = (1..=1500).map(|i| format!("kata{i} ")).collect();
    let doc = Document {
        title: "Panjang".into(),
        meta: vec![],
        orientation: Orientation::Portrait,
        blocks: vec![Block::Table(Table {
            caption: "t".into(),
            columns: vec![Column::new("A", 1), Column::new("B", 1)],
            rows: vec![vec![long.clone(), "pendek".into()]],
        })],
    };
    let pdf = doc.write(Format::Pdf).unwrap();
    let (pages, _) = pdf_info(&pdf);
    assert!(
        pages >= 2,
        "a 1500-word cell in half a page's width spans pages"
    );
    let text = pdf_text(&pdf);
    for i in 1..=1500 {
        assert!(
            text.contains(&format!("kata{i} ")) || text.ends_with(&format!("kata{i}")),
            "kata{i} lost"
        );
    }
}

#[test]
fn docx_opens_in_libreoffice_with_its_text() {
    let doc = sample(3);
    let docx = doc.write(Format::Docx).unwrap();
    assert!(docx.starts_with(b"PK"), "a zip package");
    let text = docx_text(&docx);
    assert_has(&text, "Laporan Kegiatan Pengelolaan Website", "title");
    assert_has(&text, "1 Maret 2026 – 31 Maret 2026", "meta");
    assert_has(&text, "café, naïve, Rp 1.500.000.", "non-ASCII paragraph");
    assert_has(&text, "Unit kerja", "table header");
    assert_has(
        &text,
        "Bidang Informasi dan Komunikasi Publik nomor 2",
        "a cell",
    );
}

#[test]
fn csv_parses_back_to_the_same_cells_and_defuses_formulas() {
    let mut doc = sample(2);
    if let Block::Table(t) = &mut doc.blocks[2] {
        t.rows[1][1] = "=HYPERLINK(\"http://x\")".into();
        t.rows[0][1] = "koma, \"kutip\"\nbaris".into();
    }
    let csv = doc.write(Format::Csv).unwrap();
    let mut r = csv::ReaderBuilder::new().from_reader(&csv[..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, ["No", "Unit kerja", "Keterangan"]);
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][1], "koma, \"kutip\"\nbaris");
    assert_eq!(rows[1][1], "'=HYPERLINK(\"http://x\")");
    assert_eq!(rows[1][0], "2");
    assert_eq!(warta_report::csv_out::defuse("-5"), "-5");
    assert_eq!(warta_report::csv_out::defuse("-cmd"), "'-cmd");
    assert_eq!(warta_report::csv_out::defuse("+1"), "'+1");
}

#[test]
fn csv_with_several_tables_puts_each_caption_first() {
    let t = |caption: &str| Table {
        caption: caption.into(),
        columns: vec![Column::new("a", 1), Column::new("b", 1)],
        rows: vec![vec!["1".into(), "2".into()]],
    };
    let doc = Document {
        title: "x".into(),
        meta: vec![],
        orientation: Orientation::Portrait,
        blocks: vec![Block::Table(t("Satu")), Block::Table(t("Dua"))],
    };
    let csv = doc.write(Format::Csv).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&csv[..]);
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["Satu"],
            vec!["a", "b"],
            vec!["1", "2"],
            vec!["Dua"],
            vec!["a", "b"],
            vec!["1", "2"]
        ]
    );
}

#[test]
fn formats_and_languages_parse_with_plain_errors() {
    assert_eq!("PDF".parse::<Format>().unwrap(), Format::Pdf);
    assert_eq!("docx".parse::<Format>().unwrap(), Format::Docx);
    let e = "xlsx".parse::<Format>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown report format \"xlsx\": use docx, pdf or csv"
    );
    assert_eq!("en".parse::<Lang>().unwrap(), Lang::En);
    assert!("fr".parse::<Lang>().is_err());
}
