//! Line diffs between two revisions, field by field.

use similar::{ChangeTag, TextDiff};
use warta_api::{DiffLine, DiffOp, FieldDiff, ItemContent};

fn field(name: &str, a: &str, b: &str) -> FieldDiff {
    let diff = TextDiff::from_lines(a, b);
    let lines = diff
        .iter_all_changes()
        .map(|c| DiffLine {
            op: match c.tag() {
                ChangeTag::Equal => DiffOp::Equal,
                ChangeTag::Insert => DiffOp::Insert,
                ChangeTag::Delete => DiffOp::Delete,
            },
            text: c.value().trim_end_matches('\n').to_string(),
        })
        .collect();
    FieldDiff {
        field: name.to_string(),
        changed: a != b,
        lines,
    }
}

/// Diffs every field of two versions of an item.
pub fn content_diff(a: &ItemContent, b: &ItemContent) -> Vec<FieldDiff> {
    vec![
        field("title", &a.title, &b.title),
        field("summary", &a.summary, &b.summary),
        field("body", &a.body, &b.body),
        field("category", &a.category, &b.category),
        field("tags", &a.tags.join("\n"), &b.tags.join("\n")),
        field("unit", &a.unit, &b.unit),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(body: &str) -> ItemContent {
        ItemContent {
            title: "T".into(),
            summary: String::new(),
            body: body.into(),
            category: String::new(),
            tags: vec![],
            unit: String::new(),
        }
    }

    #[test]
    fn body_diff_marks_inserted_and_deleted_lines() {
        let d = content_diff(&content("a\nb\nc\n"), &content("a\nB\nc\nd\n"));
        let body = d.iter().find(|f| f.field == "body").unwrap();
        assert!(body.changed);
        let ops: Vec<(DiffOp, &str)> = body.lines.iter().map(|l| (l.op, l.text.as_str())).collect();
        assert_eq!(
            ops,
            vec![
                (DiffOp::Equal, "a"),
                (DiffOp::Delete, "b"),
                (DiffOp::Insert, "B"),
                (DiffOp::Equal, "c"),
                (DiffOp::Insert, "d"),
            ]
        );
        assert!(!d.iter().find(|f| f.field == "title").unwrap().changed);
    }
}
