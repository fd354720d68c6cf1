//! The append-only, hash-chained audit log.
//!
//! Each entry's hash is `sha256(prev_hash "\n" canonical_json(entry))`, where the
//! canonical JSON covers the sequence number, time, actor, kind, item and data.
//! Altering any stored field, deleting or reordering rows breaks the chain at that
//! entry, which [`verify`] reports. (Truncating the newest entries can only be
//! noticed against a copy of the head hash kept elsewhere; see ARCHITECTURE.md.)

use crate::db::Cached as _;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use warta_api::AuditReport;

/// Hash that precedes the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did something: a signed-in user, or a named system actor (`system`, a failed login's user name).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn system() -> Self {
        Actor {
            id: None,
            name: "system".into(),
        }
    }
}

fn canonical(
    seq: i64,
    at: &str,
    actor_id: Option<i64>,
    actor: &str,
    kind: &str,
    item_id: Option<i64>,
    data: &str,
) -> String {
    // The entry as a JSON object with its keys in alphabetical order — the form the chain has
    // always hashed (a `serde_json::Value` map is a BTreeMap), written straight from a struct
    // whose fields are in that order instead of building the map first.
    #[derive(serde::Serialize)]
    struct Canonical<'a> {
        actor: &'a str,
        actor_id: Option<i64>,
        at: &'a str,
        data: &'a str,
        item_id: Option<i64>,
        kind: &'a str,
        seq: i64,
    }
    serde_json::to_string(&Canonical {
        actor,
        actor_id,
        at,
        data,
        item_id,
        kind,
        seq,
    })
    .expect("a struct of strings and numbers serialises")
}

fn chain_hash(prev: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// Appends one entry inside the caller's transaction (so the entry and the change it
/// records commit together). Returns its sequence number.
pub fn append(
    conn: &Connection,
    at: DateTime<Utc>,
    actor: &Actor,
    kind: &str,
    item_id: Option<i64>,
    data: serde_json::Value,
) -> rusqlite::Result<i64> {
    let last: Option<(i64, String)> = conn
        .row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_string()),
    };
    let at = at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let data = data.to_string();
    let hash = chain_hash(
        &prev,
        &canonical(seq, &at, actor.id, &actor.name, kind, item_id, &data),
    );
    conn.exec(
        "INSERT INTO audit (seq, at, actor_id, actor, kind, item_id, data, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            seq, at, actor.id, actor.name, kind, item_id, data, prev, hash
        ],
    )?;
    Ok(seq)
}

/// Walks the whole chain and reports the first entry that does not verify.
pub fn verify(conn: &Connection) -> rusqlite::Result<AuditReport> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor_id, actor, kind, item_id, data, prev_hash, hash FROM audit ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS.to_string();
    let mut expected_seq = 1i64;
    let mut entries = 0i64;
    while let Some(r) = rows.next()? {
        entries += 1;
        let seq: i64 = r.get(0)?;
        let at: String = r.get(1)?;
        let actor_id: Option<i64> = r.get(2)?;
        let actor: String = r.get(3)?;
        let kind: String = r.get(4)?;
        let item_id: Option<i64> = r.get(5)?;
        let data: String = r.get(6)?;
        let prev: String = r.get(7)?;
        let hash: String = r.get(8)?;
        let bad = |problem: String| AuditReport {
            intact: false,
            entries,
            first_bad: Some(seq),
            problem: Some(problem),
        };
        if seq != expected_seq {
            return Ok(bad(format!(
                "entry {expected_seq} is missing (next entry is {seq})"
            )));
        }
        if prev != expected_prev {
            return Ok(bad(format!(
                "entry {seq} does not follow the entry before it (chain broken)"
            )));
        }
        let recomputed = chain_hash(
            &prev,
            &canonical(seq, &at, actor_id, &actor, &kind, item_id, &data),
        );
        if recomputed != hash {
            return Ok(bad(format!(
                "entry {seq} was altered (its content does not match its hash)"
            )));
        }
        expected_prev = hash;
        expected_seq += 1;
    }
    Ok(AuditReport {
        intact: true,
        entries,
        first_bad: None,
        problem: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(include_str!("../migrations/0001_init.sql"))
            .unwrap();
        c
    }

    fn fill(c: &Connection, n: i64) {
        let t = DateTime::parse_from_rfc3339("2026-11-23T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for i in 0..n {
            append(
                c,
                t + chrono::Duration::minutes(i),
                &Actor {
                    id: Some(1),
                    name: "rina".into(),
                },
                "item.saved",
                Some(7),
                json!({"version": i}),
            )
            .unwrap();
        }
    }

    /// Entries already in offices' logs were hashed over a `json!` map's text: the canonical
    /// form must stay byte for byte what it was.
    #[test]
    fn the_canonical_form_is_the_sorted_json_object_it_always_was() {
        for (actor_id, item_id, actor, data) in [
            (Some(1), Some(7), "rina", r#"{"version":1}"#),
            (None, None, "system", "{}"),
            (
                Some(-3),
                None,
                "a \"quoted\" name\n\u{1}ü",
                r#"{"note":"x\"y"}"#,
            ),
        ] {
            let at = "2026-11-23T01:00:00.123456Z";
            let old = json!({
                "seq": 42, "at": at, "actor_id": actor_id, "actor": actor,
                "kind": "item.saved", "item_id": item_id, "data": data,
            })
            .to_string();
            assert_eq!(
                canonical(42, at, actor_id, actor, "item.saved", item_id, data),
                old
            );
        }
    }

    #[test]
    fn intact_chain_verifies() {
        let c = db();
        fill(&c, 5);
        let r = verify(&c).unwrap();
        assert!(r.intact, "{r:?}");
        assert_eq!(r.entries, 5);
    }

    #[test]
    fn altered_field_is_detected_at_that_entry() {
        for (col, val) in [
            ("actor", "'mallory'"),
            ("data", "'{\"version\":99}'"),
            ("at", "'2020-01-01T00:00:00.000000Z'"),
            ("kind", "'item.action'"),
            ("item_id", "8"),
        ] {
            let c = db();
            fill(&c, 5);
            c.execute(&format!("UPDATE audit SET {col} = {val} WHERE seq = 3"), [])
                .unwrap();
            let r = verify(&c).unwrap();
            assert!(!r.intact, "altering {col} went unnoticed");
            assert_eq!(r.first_bad, Some(3), "{col}: {r:?}");
        }
    }

    #[test]
    fn deleted_row_is_detected() {
        let c = db();
        fill(&c, 5);
        c.execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
        let r = verify(&c).unwrap();
        assert!(!r.intact);
        assert_eq!(r.first_bad, Some(3));
    }

    #[test]
    fn rehashed_row_still_breaks_the_next_link() {
        // An attacker who recomputes the altered row's own hash still breaks entry 4.
        let c = db();
        fill(&c, 5);
        let (prev, at): (String, String) = c
            .query_row("SELECT prev_hash, at FROM audit WHERE seq = 3", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        let forged = chain_hash(
            &prev,
            &canonical(3, &at, Some(1), "mallory", "item.saved", Some(7), "{}"),
        );
        c.execute(
            "UPDATE audit SET actor='mallory', data='{}', hash=?1 WHERE seq=3",
            [forged],
        )
        .unwrap();
        let r = verify(&c).unwrap();
        assert_eq!(r.first_bad, Some(4));
    }
}
