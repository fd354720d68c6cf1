//! A year-or-more of an office's data for the query benchmark: 100,000 items (almost all long
//! published, a few hundred still moving through SOP-A) and 1,000,000 audit entries on a valid
//! hash chain. Written straight into the hub's SQLite file while no hub is running; the schema
//! comes from the hub's own migrations (the office is opened once first).

use std::path::Path;

use chrono::{Duration, TimeZone, Utc};
use rusqlite::{Connection, params};
use warta_hub::audit::{self, Actor};

/// Indonesian words the bodies are made of, so full-text search has something real to find.
const WORDS: &[&str] = &[
    "pemerintah",
    "provinsi",
    "kalimantan",
    "timur",
    "dinas",
    "komunikasi",
    "informatika",
    "jalan",
    "jembatan",
    "banjir",
    "sekolah",
    "kesehatan",
    "posyandu",
    "vaksinasi",
    "anggaran",
    "rapat",
    "kunjungan",
    "gubernur",
    "bupati",
    "desa",
    "pelatihan",
    "pertanian",
    "nelayan",
    "pariwisata",
    "festival",
    "budaya",
    "listrik",
    "air",
    "bersih",
    "pasar",
    "harga",
    "beras",
    "stunting",
    "ibu",
    "kota",
    "nusantara",
    "digital",
    "layanan",
    "publik",
    "perizinan",
];

/// Office steps an open item can be in, with the share of open items in each.
const OPEN_STEPS: &[&str] = &["collect", "handover", "edit", "review", "publish"];

pub struct Seeded {
    pub items: u64,
    pub open_items: u64,
    pub audit_entries: u64,
}

/// A cheap deterministic generator (xorshift), so every run seeds the same office.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| self.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn user_id(conn: &Connection, name: &str) -> anyhow::Result<i64> {
    Ok(
        conn.query_row("SELECT id FROM users WHERE username = ?1", [name], |r| {
            r.get(0)
        })?,
    )
}

/// Adds `items` items (`open` of them still in SOP-A) and tops the audit log up to `audit_total`.
pub fn seed(db: &Path, items: u64, open: u64, audit_total: u64) -> anyhow::Result<Seeded> {
    let mut conn = Connection::open(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let reporter = user_id(&conn, "reporter")?;
    let editor = user_id(&conn, "editor")?;
    let start = Utc
        .with_ymd_and_hms(2025, 1, 6, 1, 0, 0)
        .single()
        .expect("date");
    let mut rng = Rng(0x5eed_2026);
    let mut audited = 0u64;
    let chunk = 5_000u64;
    let mut made = 0u64;
    while made < items {
        let tx = conn.transaction()?;
        for _ in 0..chunk.min(items - made) {
            made += 1;
            let at = start + Duration::minutes((made * 5) as i64);
            let at_s = at.to_rfc3339();
            // The last `open` items are still moving; the rest were published long ago.
            let open_now = made > items - open;
            let step = if open_now {
                OPEN_STEPS[(made % OPEN_STEPS.len() as u64) as usize]
            } else {
                "published"
            };
            let title = format!("{} {}", rng.words(6), made);
            let summary = rng.words(20);
            let body = rng.words(250);
            let tags = format!("[\"{}\",\"{}\"]", rng.pick(WORDS), rng.pick(WORDS));
            let (url, published_at) = if open_now {
                (None, None)
            } else {
                (
                    Some(format!("/site/berita/{made}/")),
                    Some((at + Duration::hours(4)).to_rfc3339()),
                )
            };
            tx.execute(
                "INSERT INTO items (sop, title, summary, body, category, tags, unit, author_id,
                    version, step, step_entered_at, step_due_at, created_at, updated_at,
                    published_url, published_at)
                 VALUES ('sop-a', ?1, ?2, ?3, 'Berita', ?4, 'Bidang IKP', ?5, 1, ?6, ?7, ?8, ?7, ?7,
                    ?9, ?10)",
                params![
                    title,
                    summary,
                    body,
                    tags,
                    reporter,
                    step,
                    at_s,
                    open_now.then(|| (at + Duration::hours(8)).to_rfc3339()),
                    url,
                    published_at
                ],
            )?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO revisions (item_id, version, author_id, created_at, title, summary,
                    body, category, tags, unit)
                 SELECT id, 1, author_id, created_at, title, summary, body, category, tags, unit
                 FROM items WHERE id = ?1",
                [id],
            )?;
            tx.execute(
                "INSERT INTO step_visits (item_id, step, entered_at, due_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, step, at_s, open_now.then(|| (at + Duration::hours(8)).to_rfc3339())],
            )?;
            let actor = Actor {
                id: Some(reporter),
                name: "reporter".into(),
            };
            audit::append(
                &tx,
                at,
                &actor,
                "item.created",
                Some(id),
                serde_json::json!({}),
            )?;
            audited += 1;
            if !open_now {
                let editor = Actor {
                    id: Some(editor),
                    name: "editor".into(),
                };
                audit::append(
                    &tx,
                    at + Duration::hours(1),
                    &editor,
                    "item.claimed",
                    Some(id),
                    serde_json::json!({"from": "handover", "to": "edit"}),
                )?;
                audited += 1;
            }
        }
        tx.commit()?;
    }
    // The rest of the year's audit trail: sign-ins, which every working day has many of.
    let existing: i64 = conn.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?;
    let mut total = existing as u64;
    while total < audit_total {
        let tx = conn.transaction()?;
        for _ in 0..20_000u64.min(audit_total - total) {
            total += 1;
            let at = start + Duration::seconds((total * 30) as i64);
            let actor = Actor {
                id: Some(if total % 2 == 0 { reporter } else { editor }),
                name: if total % 2 == 0 { "reporter" } else { "editor" }.into(),
            };
            audit::append(
                &tx,
                at,
                &actor,
                "auth.login",
                None,
                serde_json::json!({"address": "10.0.0.7"}),
            )?;
        }
        tx.commit()?;
    }
    let _ = audited;
    Ok(Seeded {
        items: made,
        open_items: open,
        audit_entries: total,
    })
}
