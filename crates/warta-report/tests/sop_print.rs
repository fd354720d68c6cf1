//! The SOP printed from its definition: every step's number, activity, time and output, and
//! every role, are in the document — so a changed definition changes the print.

mod common;

use common::{assert_has, docx_text, pdf_info, pdf_text};
use warta_report::sop::{MARK, document, time_label};
use warta_report::{Format, Lang};

#[test]
fn pdf_print_carries_every_step_of_every_sop_in_both_languages() {
    for def in warta_sop::builtin() {
        for lang in [Lang::Id, Lang::En] {
            let pdf = document(&def, lang).write(Format::Pdf).unwrap();
            let (_, size) = pdf_info(&pdf);
            assert!(size.starts_with("841.89"), "landscape: {size}");
            let text = pdf_text(&pdf);
            assert_has(&text, lang.pick(&def.name), "SOP name");
            for role in &def.roles {
                assert_has(&text, lang.pick(&role.name), "role column");
            }
            for step in &def.steps {
                let what = format!("{} {} {}", def.id, lang.as_str(), step.id);
                assert_has(&text, lang.pick(&step.activity), &what);
                assert_has(&text, lang.pick(&step.output), &what);
                assert_has(&text, &time_label(&step.standard, lang), &what);
            }
            // One mark per step that has an actor.
            let actors = def.steps.iter().filter(|s| s.actor.is_some()).count();
            assert_eq!(
                text.matches(MARK).count(),
                actors,
                "{} {}",
                def.id,
                lang.as_str()
            );
        }
    }
}

#[test]
fn time_labels_read_as_the_sop_writes_them() {
    let a = warta_sop::builtin_sop_a();
    let label = |id: &str, lang| time_label(&a.step(id).unwrap().standard, lang);
    assert_eq!(label("collect", Lang::Id), "1 hari kerja");
    assert_eq!(label("handover", Lang::Id), "1-3 jam");
    assert_eq!(label("review", Lang::Id), "1 jam");
    assert_eq!(label("publish", Lang::Id), "15 menit");
    assert_eq!(label("published", Lang::Id), "–");
    assert_eq!(label("collect", Lang::En), "1 working day");
    assert_eq!(label("handover", Lang::En), "1-3 h");
    assert_eq!(label("publish", Lang::En), "15 min");
}

#[test]
fn table_rows_follow_the_definition_exactly() {
    let d = warta_sop::builtin()
        .into_iter()
        .find(|d| d.id == "sop-d")
        .unwrap();
    let doc = document(&d, Lang::Id);
    let table = doc.tables().next().unwrap();
    assert_eq!(table.rows.len(), d.steps.len());
    let roles = d.roles.len();
    for (row, step) in table.rows.iter().zip(&d.steps) {
        assert_eq!(row[0], step.number.to_string());
        assert_eq!(row[1], step.activity.id);
        for (i, role) in d.roles.iter().enumerate() {
            let marked = row[2 + i] == MARK;
            assert_eq!(
                marked,
                step.actor.as_deref() == Some(role.id.as_str()),
                "{}",
                step.id
            );
        }
        assert_eq!(row[2 + roles], step.inputs.id);
        assert_eq!(row[3 + roles], time_label(&step.standard, Lang::Id));
        assert_eq!(row[4 + roles], step.output.id);
    }
}

#[test]
fn docx_print_opens_in_libreoffice_with_every_step() {
    let a = warta_sop::builtin_sop_a();
    let text = docx_text(&document(&a, Lang::Id).write(Format::Docx).unwrap());
    assert_has(&text, "Pengelolaan Website", "name");
    for step in &a.steps {
        assert_has(&text, &step.activity.id, &step.id);
        assert_has(&text, &time_label(&step.standard, Lang::Id), &step.id);
    }
}

#[test]
fn csv_print_parses_back_to_one_row_per_step() {
    let a = warta_sop::builtin_sop_a();
    let csv = document(&a, Lang::En).write(Format::Csv).unwrap();
    let mut r = csv::Reader::from_reader(&csv[..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[1], "Activity");
    assert_eq!(header[2], a.roles[0].name.en);
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), a.steps.len());
    for (row, step) in rows.iter().zip(&a.steps) {
        assert_eq!(&row[1], step.activity.en);
        assert_eq!(&row[row.len() - 2], time_label(&step.standard, Lang::En));
    }
}
