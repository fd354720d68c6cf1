//! Incidents (issue 7): SOP-D (network security) and SOP-B (website security) run generically
//! from their definitions (`sops/sop-d.toml`, `sops/sop-b.toml`).
//!
//! - **Roles** (`sop_roles`): who holds each role of an SOP other than SOP-A (examiner,
//!   tech_team, supervisor, administrator; division, head, web_team). Admins read and set them.
//!   Only a holder of the current step's actor role may take the step's actions; the check is
//!   here, refusals are audited.
//! - **Incidents** (`incidents`): the current step with its entered and due time in the SOP's
//!   calendar ([`warta_sop::Calendar::due`]: SOP-D's working hours and holidays, SOP-B around
//!   the clock, `none` = no due time, ranges use the maximum), the loop count (an action back to
//!   a step with a lower number: SOP-D's verify → resolve, SOP-B's send back), open or
//!   closed (a final step), where it came from (`form`: a person; `guard`: the website guard,
//!   with the guard incident's id).
//! - **Step history** (`incident_steps`): one row per visit of a step, in order: `entered_at`,
//!   `due_at` (computed on entry), `left_at` (NULL for the current step) and the action that
//!   left it — `actor_id`, `action`, `note`, `payload` (JSON: `assignee_id`, `instruction`) —
//!   and `overdue_at`, when the overdue notice was given. Actual time of a visit is
//!   `working_minutes(entered_at, left_at)` in the SOP's calendar; the reports read it.
//! - **Actions** carry what the definition requires: a note (`requires_note`), the user who
//!   acts next (`requires_assignee`: a holder of the next step's actor role) and an instruction
//!   (`requires_instruction`). Missing or wrong: 400, nothing changed.
//! - **Audit**: every change is an `incident.*` audit entry linked to its incident in
//!   `incident_audit` (the timeline and the change feed read that link), in the transaction of
//!   the change.
//! - **Overdue**: [`Office::notify_overdue_incidents`] (run by [`OverdueScheduler`]) gives each
//!   visit that passed its due time one `incident.overdue` entry, and marks it.
//! - **From the guard**: a new guard incident opens an SOP-B incident at its first step, with
//!   the guard's page versions attached as evidence by reference; a repeat folded into the guard
//!   incident is recorded on the SOP-B incident, never a second one.

use crate::db::Cached as _;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use warta_api as api;
use warta_api::Role;
use warta_sop::{Calendar, Definition, Span, StandardTime};

use crate::audit::{self, Actor};
use crate::error::{HubError, HubResult};
use crate::office::{Caller, Office, Page};

/// The SOPs the hub runs as incidents.
pub const INCIDENT_SOPS: [&str; 2] = ["sop-d", "sop-b"];
/// The SOP a website guard incident opens.
pub const GUARD_SOP: &str = "sop-b";
/// How often the overdue sweep looks, in seconds.
pub const OVERDUE_POLL_SECS: u64 = 30;
const TITLE_MAX: usize = 200;
const TEXT_MAX: usize = 20_000;

/// Which SOPs each user holds a role in: decides who sees which incidents' live events
/// without a database read. Rebuilt whenever the roles are set.
#[derive(Default)]
pub(crate) struct Staff(RwLock<HashMap<i64, BTreeSet<String>>>);

impl Staff {
    fn reload(&self, conn: &Connection) -> rusqlite::Result<()> {
        let mut map: HashMap<i64, BTreeSet<String>> = HashMap::new();
        for (user, sop) in crate::db::all(conn, "SELECT user_id, sop FROM sop_roles", [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })? {
            map.entry(user).or_default().insert(sop);
        }
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = map;
        Ok(())
    }

    fn holds_any(&self, user: i64, sop: &str) -> bool {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&user)
            .is_some_and(|s| s.contains(sop))
    }
}

/// One row of `incidents`.
#[derive(Debug, Clone)]
struct IncidentRow {
    id: i64,
    sop: String,
    title: String,
    description: String,
    source: String,
    guard_incident_id: Option<i64>,
    reported_by: Option<i64>,
    step: String,
    step_entered_at: DateTime<Utc>,
    step_due_at: Option<DateTime<Utc>>,
    loops: i64,
    state: String,
    assignee_id: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
}

const COLS: &str = "id, sop, title, description, source, guard_incident_id, reported_by, step, \
    step_entered_at, step_due_at, loops, state, assignee_id, created_at, updated_at, closed_at";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<IncidentRow> {
    Ok(IncidentRow {
        id: r.get(0)?,
        sop: r.get(1)?,
        title: r.get(2)?,
        description: r.get(3)?,
        source: r.get(4)?,
        guard_incident_id: r.get(5)?,
        reported_by: r.get(6)?,
        step: r.get(7)?,
        step_entered_at: r.get(8)?,
        step_due_at: r.get(9)?,
        loops: r.get(10)?,
        state: r.get(11)?,
        assignee_id: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
        closed_at: r.get(15)?,
    })
}

/// Appends an audit entry about incident `id` and links it to the incident, in `tx`.
fn log(
    tx: &Connection,
    now: DateTime<Utc>,
    actor: &Actor,
    kind: &str,
    id: i64,
    mut data: serde_json::Value,
) -> HubResult<i64> {
    data["incident_id"] = json!(id);
    let seq = audit::append(tx, now, actor, kind, None, data)?;
    tx.exec(
        "INSERT INTO incident_audit (seq, incident_id) VALUES (?1, ?2)",
        params![seq, id],
    )?;
    Ok(seq)
}

/// The SOP-B incident opened from guard incident `guard_id`, if any.
fn incident_of_guard(conn: &Connection, guard_id: i64) -> HubResult<Option<i64>> {
    Ok(conn
        .row(
            "SELECT id FROM incidents WHERE guard_incident_id = ?1",
            [guard_id],
            |r| r.get::<_, i64>(0),
        )
        .optional()?)
}

fn load(conn: &Connection, id: i64) -> HubResult<IncidentRow> {
    conn.row(
        &format!("SELECT {COLS} FROM incidents WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or(HubError::NotFound("incident"))
}

fn span_minutes(span: Span, cal: &Calendar) -> i64 {
    match span {
        Span::Minutes(m) => m,
        Span::WorkingDays(d) => d * cal.nominal_day_minutes(),
    }
}

fn user_ref(conn: &Connection, id: i64) -> HubResult<Option<api::UserRef>> {
    Ok(conn
        .row(
            "SELECT id, username, display_name FROM users WHERE id = ?1",
            [id],
            |r| {
                Ok(api::UserRef {
                    id: r.get(0)?,
                    username: r.get(1)?,
                    display_name: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// Whether user `user` holds `role` of `sop`.
fn holds(conn: &Connection, sop: &str, role: &str, user: i64) -> HubResult<bool> {
    Ok(conn.row(
        "SELECT count(*) > 0 FROM sop_roles WHERE sop = ?1 AND role = ?2 AND user_id = ?3",
        params![sop, role, user],
        |r| r.get(0),
    )?)
}

/// Active holders of `role` of `sop`.
fn holders(conn: &Connection, sop: &str, role: &str) -> HubResult<Vec<api::UserRef>> {
    Ok(crate::db::all(
        conn,
        "SELECT u.id, u.username, u.display_name FROM sop_roles r JOIN users u ON u.id = r.user_id
         WHERE r.sop = ?1 AND r.role = ?2 AND u.active = 1 ORDER BY u.display_name, u.id",
        params![sop, role],
        |r| {
            Ok(api::UserRef {
                id: r.get(0)?,
                username: r.get(1)?,
                display_name: r.get(2)?,
            })
        },
    )?)
}

/// Trimmed, or `None` when empty.
fn given(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

impl Office {
    /// Loads the role holders the live feed's filter uses (at start).
    pub(crate) fn load_incident_staff(&self) -> HubResult<()> {
        self.incident_staff.reload(&self.db())?;
        Ok(())
    }

    /// An SOP the hub runs as incidents; anything else is a 400 naming it.
    fn incident_sop(&self, sop: &str) -> HubResult<&Definition> {
        if !INCIDENT_SOPS.contains(&sop) {
            return Err(HubError::validation(
                "sop",
                format!(
                    "\"{sop}\" is not an SOP incidents run in (use {})",
                    INCIDENT_SOPS.join(" or ")
                ),
            ));
        }
        self.sop(sop)
    }

    /// An SOP whose roles are held through `sop_roles` (every SOP but SOP-A, whose roles are
    /// the users' office roles).
    fn roles_sop(&self, sop: &str) -> HubResult<&Definition> {
        let known = self.sops().into_iter().any(|s| s.id == sop);
        if !known {
            return Err(HubError::validation(
                "sop",
                format!("there is no SOP \"{sop}\""),
            ));
        }
        if sop == "sop-a" {
            return Err(HubError::validation(
                "sop",
                "SOP-A's roles are the users' office roles; set them on the user",
            ));
        }
        self.sop(sop)
    }

    /// Who may see an incident: admins, holders of a role of its SOP, and whoever reported it.
    /// The one rule for reading, listing and receiving events of incidents.
    pub(crate) fn can_view_incident(
        &self,
        caller: &Caller,
        sop: &str,
        reported_by: Option<i64>,
    ) -> bool {
        caller.has(Role::Admin)
            || reported_by == Some(caller.id)
            || self.incident_staff.holds_any(caller.id, sop)
    }

    fn viewable_incident(
        &self,
        conn: &Connection,
        caller: &Caller,
        id: i64,
    ) -> HubResult<IncidentRow> {
        let row = load(conn, id)?;
        if self.can_view_incident(caller, &row.sop, row.reported_by) {
            Ok(row)
        } else {
            Err(HubError::NotFound("incident"))
        }
    }

    /// Records a refused request about an incident in the audit log, then returns the refusal.
    fn refuse_incident<T>(
        &self,
        caller: &Caller,
        id: i64,
        what: &str,
        result: HubResult<T>,
    ) -> HubResult<T> {
        if let Err(e) = &result
            && matches!(
                e,
                HubError::Forbidden(_) | HubError::InvalidTransition { .. }
            )
        {
            let now = self.now();
            let conn = self.db();
            log(
                &conn,
                now,
                &caller.actor(),
                "refused",
                id,
                json!({ "request": what, "code": e.code(), "reason": e.to_string() }),
            )?;
        }
        result
    }

    // ------------------------------------------------------------ SOP roles

    /// Who holds each role of `sop` (admins).
    pub fn sop_roles(&self, caller: &Caller, sop: &str) -> HubResult<api::SopRoles> {
        self.refuse_unless(
            caller,
            None,
            "sops.roles",
            caller.require(Role::Admin, "reading who holds an SOP's roles"),
        )?;
        let def = self.roles_sop(sop)?;
        let conn = self.db();
        Self::sop_roles_in(&conn, def)
    }

    fn sop_roles_in(conn: &Connection, def: &Definition) -> HubResult<api::SopRoles> {
        let mut roles = Vec::new();
        for r in &def.roles {
            let users = crate::db::all(
                conn,
                "SELECT u.id, u.username, u.display_name FROM sop_roles s
                 JOIN users u ON u.id = s.user_id
                 WHERE s.sop = ?1 AND s.role = ?2 ORDER BY u.display_name, u.id",
                params![def.id, r.id],
                |row| {
                    Ok(api::UserRef {
                        id: row.get(0)?,
                        username: row.get(1)?,
                        display_name: row.get(2)?,
                    })
                },
            )?;
            roles.push(api::SopRoleHolders {
                role: r.id.clone(),
                name: r.name.id.clone(),
                users,
            });
        }
        Ok(api::SopRoles {
            sop: def.id.clone(),
            roles,
        })
    }

    /// Sets who holds the roles of `sop` (admins): every role to the users given for it.
    pub fn set_sop_roles(
        &self,
        caller: &Caller,
        sop: &str,
        input: api::SopRolesInput,
    ) -> HubResult<api::SopRoles> {
        self.refuse_unless(
            caller,
            None,
            "sops.roles.set",
            caller.require(Role::Admin, "setting who holds an SOP's roles"),
        )?;
        let def = self.roles_sop(sop)?;
        let mut seen = BTreeSet::new();
        for a in &input.roles {
            if def.role(&a.role).is_none() {
                let known: Vec<&str> = def.roles.iter().map(|r| r.id.as_str()).collect();
                return Err(HubError::validation(
                    "roles",
                    format!(
                        "\"{}\" is not a role of {sop} (its roles: {})",
                        a.role,
                        known.join(", ")
                    ),
                ));
            }
            if !seen.insert(a.role.as_str()) {
                return Err(HubError::validation(
                    "roles",
                    format!("role \"{}\" is given twice", a.role),
                ));
            }
        }
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        for a in &input.roles {
            for u in &a.user_ids {
                if user_ref(&tx, *u)?.is_none() {
                    return Err(HubError::validation(
                        "user_ids",
                        format!("there is no user #{u} (role \"{}\")", a.role),
                    ));
                }
            }
        }
        tx.exec("DELETE FROM sop_roles WHERE sop = ?1", [sop])?;
        for a in &input.roles {
            for u in &a.user_ids {
                tx.exec(
                    "INSERT OR IGNORE INTO sop_roles (sop, role, user_id) VALUES (?1, ?2, ?3)",
                    params![sop, a.role, u],
                )?;
            }
        }
        let out = Self::sop_roles_in(&tx, def)?;
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "sop_roles.set",
            None,
            json!({ "sop": sop, "roles": out.roles.iter().map(|r| json!({
                "role": r.role, "user_ids": r.users.iter().map(|u| u.id).collect::<Vec<_>>() }))
                .collect::<Vec<_>>() }),
        )?;
        tx.commit()?;
        self.incident_staff.reload(&conn)?;
        Ok(out)
    }

    // ------------------------------------------------------------ reading

    fn step_state_of(
        &self,
        def: &Definition,
        row: &IncidentRow,
        now: DateTime<Utc>,
    ) -> api::IncidentStepState {
        let step = def.step(&row.step);
        api::IncidentStepState {
            step: row.step.clone(),
            number: step.map(|s| s.number).unwrap_or(0),
            actor: step.and_then(|s| s.actor.clone()),
            is_final: step.is_none_or(|s| s.is_final),
            entered_at: row.step_entered_at,
            due_at: row.step_due_at,
            overdue: row.step_due_at.is_some_and(|d| now > d),
        }
    }

    fn incident_summary(
        &self,
        conn: &Connection,
        row: &IncidentRow,
        now: DateTime<Utc>,
    ) -> HubResult<api::IncidentSummary> {
        let def = self.sop(&row.sop)?;
        Ok(api::IncidentSummary {
            id: row.id,
            sop: row.sop.clone(),
            title: row.title.clone(),
            source: row.source.clone(),
            guard_incident_id: row.guard_incident_id,
            state: row.state.clone(),
            current: self.step_state_of(def, row, now),
            loops: row.loops.max(0) as u32,
            reporter: match row.reported_by {
                Some(u) => Self::user_name(conn, u)?,
                None => "website guard".into(),
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
            closed_at: row.closed_at,
        })
    }

    /// The actions of the incident's current step `caller` may take; the first refusal
    /// otherwise.
    fn check_incident_action<'d>(
        &self,
        conn: &Connection,
        def: &'d Definition,
        caller: &Caller,
        row: &IncidentRow,
        action: &str,
    ) -> HubResult<&'d warta_sop::Action> {
        let step = def
            .step(&row.step)
            .ok_or_else(|| HubError::Internal(anyhow::anyhow!("incident in unknown step")))?;
        let Some(act) = step.action(action) else {
            return Err(HubError::InvalidTransition {
                action: action.to_string(),
                step: row.step.clone(),
                allowed: self.allowed_incident_actions(conn, def, caller, row),
            });
        };
        let role = step
            .actor
            .as_deref()
            .ok_or_else(|| HubError::Forbidden(format!("nobody acts in step \"{}\"", row.step)))?;
        if !holds(conn, &def.id, role, caller.id)? {
            let name = def.role(role).map(|r| r.name.en.as_str()).unwrap_or(role);
            return Err(HubError::Forbidden(format!(
                "\"{action}\" in step \"{}\" needs the {} role \"{role}\" ({name})",
                row.step, def.id
            )));
        }
        Ok(act)
    }

    fn allowed_incident_actions(
        &self,
        conn: &Connection,
        def: &Definition,
        caller: &Caller,
        row: &IncidentRow,
    ) -> Vec<String> {
        def.step(&row.step)
            .map(|s| {
                s.actions
                    .iter()
                    .filter(|a| {
                        self.check_incident_action(conn, def, caller, row, &a.id)
                            .is_ok()
                    })
                    .map(|a| a.id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn incident_history(
        &self,
        conn: &Connection,
        def: &Definition,
        id: i64,
        now: DateTime<Utc>,
    ) -> HubResult<Vec<api::IncidentStepVisit>> {
        let cal = def.working_calendar();
        let holidays = self.holidays.read().unwrap_or_else(|e| e.into_inner());
        let rows = crate::db::all(
            conn,
            "SELECT s.step, s.entered_at, s.due_at, s.left_at, u.display_name, s.action, s.note,
                    s.payload, s.overdue_at
             FROM incident_steps s LEFT JOIN users u ON u.id = s.actor_id
             WHERE s.incident_id = ?1 ORDER BY s.id",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, DateTime<Utc>>(1)?,
                    r.get::<_, Option<DateTime<Utc>>>(2)?,
                    r.get::<_, Option<DateTime<Utc>>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, Option<DateTime<Utc>>>(8)?,
                ))
            },
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for (step_id, entered, due, left, actor, action, note, payload, overdue_at) in rows {
            let step = def.step(&step_id);
            let is_final = step.is_none_or(|s| s.is_final);
            let met = match (due, left) {
                (Some(d), Some(l)) => Some(l <= d),
                (Some(d), None) if now > d => Some(false),
                _ => None,
            };
            out.push(api::IncidentStepVisit {
                number: step.map(|s| s.number).unwrap_or(0),
                entered_at: entered,
                due_at: due,
                left_at: left,
                actor,
                action,
                note,
                payload: serde_json::from_str(&payload).unwrap_or_default(),
                standard_minutes: step.and_then(|s| s.standard.max_minutes(&cal)),
                actual_minutes: if is_final {
                    0
                } else {
                    cal.working_minutes(entered, left.unwrap_or(now), &holidays)
                },
                met,
                overdue_notified_at: overdue_at,
                step: step_id,
            });
        }
        Ok(out)
    }

    fn incident_elapsed(
        &self,
        def: &Definition,
        row: &IncidentRow,
        now: DateTime<Utc>,
    ) -> api::IncidentElapsed {
        let cal = def.working_calendar();
        let holidays = self.holidays.read().unwrap_or_else(|e| e.into_inner());
        let working = cal.working_minutes(row.created_at, row.closed_at.unwrap_or(now), &holidays);
        let (min, max) = match def.total {
            StandardTime::None => (None, None),
            StandardTime::Range { min, max } => {
                (Some(span_minutes(min, &cal)), Some(span_minutes(max, &cal)))
            }
        };
        api::IncidentElapsed {
            working_minutes: working,
            total_min_minutes: min,
            total_max_minutes: max,
            total: def.total.display(),
            over: max.is_some_and(|m| working > m),
        }
    }

    fn incident_detail(
        &self,
        conn: &Connection,
        caller: &Caller,
        row: &IncidentRow,
    ) -> HubResult<api::IncidentDetail> {
        let now = self.now();
        let def = self.sop(&row.sop)?;
        let mut actions = Vec::new();
        if let Some(step) = def.step(&row.step) {
            for a in &step.actions {
                if self
                    .check_incident_action(conn, def, caller, row, &a.id)
                    .is_err()
                {
                    continue;
                }
                let assignee_role = a
                    .requires_assignee
                    .then(|| def.step(&a.to).and_then(|s| s.actor.clone()))
                    .flatten();
                let assignees = match &assignee_role {
                    Some(role) => holders(conn, &def.id, role)?,
                    None => Vec::new(),
                };
                actions.push(api::IncidentAction {
                    id: a.id.clone(),
                    to: a.to.clone(),
                    requires_note: a.requires_note,
                    requires_instruction: a.requires_instruction,
                    assignee_role,
                    assignees,
                });
            }
        }
        let comments = crate::db::all(
            conn,
            "SELECT c.id, u.display_name, c.body, c.created_at FROM incident_comments c
             JOIN users u ON u.id = c.author_id WHERE c.incident_id = ?1 ORDER BY c.id",
            [row.id],
            |r| {
                Ok(api::Comment {
                    id: r.get(0)?,
                    author: r.get(1)?,
                    body: r.get(2)?,
                    created_at: r.get(3)?,
                })
            },
        )?;
        let evidence = crate::db::all(
            conn,
            &format!("{EVIDENCE_SELECT} WHERE e.incident_id = ?1 ORDER BY e.id"),
            [row.id],
            evidence_from_row,
        )?;
        Ok(api::IncidentDetail {
            summary: self.incident_summary(conn, row, now)?,
            description: row.description.clone(),
            final_step: (row.state == "closed").then(|| row.step.clone()),
            assignee: match row.assignee_id {
                Some(u) => user_ref(conn, u)?,
                None => None,
            },
            actions,
            history: self.incident_history(conn, def, row.id, now)?,
            elapsed: self.incident_elapsed(def, row, now),
            comments,
            evidence,
        })
    }

    /// One incident the caller may see, with its history, actions and evidence.
    pub fn get_incident(&self, caller: &Caller, id: i64) -> HubResult<api::IncidentDetail> {
        let conn = self.db();
        let row = self.viewable_incident(&conn, caller, id)?;
        self.incident_detail(&conn, caller, &row)
    }

    /// Incidents the caller may see, newest first: `state` `open`, `closed` or all; `sop`
    /// one SOP or both.
    pub fn list_incidents(
        &self,
        caller: &Caller,
        state: Option<&str>,
        sop: Option<&str>,
        page: Page,
    ) -> HubResult<Vec<api::IncidentSummary>> {
        let state = match state.unwrap_or("") {
            "" | "all" => None,
            s @ ("open" | "closed") => Some(s),
            other => {
                return Err(HubError::validation(
                    "state",
                    format!("unknown state \"{other}\" (use open, closed or all)"),
                ));
            }
        };
        let sop = match sop.unwrap_or("") {
            "" | "all" => None,
            s => Some(self.incident_sop(s)?.id.as_str()),
        };
        let now = self.now();
        let conn = self.db();
        let admin = caller.has(Role::Admin);
        let rows = crate::db::all(
            &conn,
            &format!(
                "SELECT {COLS} FROM incidents
                 WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR sop = ?2)
                   AND (?3 OR reported_by = ?4
                        OR sop IN (SELECT sop FROM sop_roles WHERE user_id = ?4))
                 ORDER BY id DESC LIMIT ?5 OFFSET ?6"
            ),
            params![state, sop, admin, caller.id, page.limit, page.offset],
            from_row,
        )?;
        rows.iter()
            .map(|r| self.incident_summary(&conn, r, now))
            .collect()
    }

    /// "My tasks" of incidents: open incidents whose current step waits for a role the caller
    /// holds, soonest due first (no due time last).
    pub fn incident_tasks(&self, caller: &Caller) -> HubResult<Vec<api::IncidentSummary>> {
        let now = self.now();
        let conn = self.db();
        let mine: BTreeSet<(String, String)> = crate::db::all(
            &conn,
            "SELECT sop, role FROM sop_roles WHERE user_id = ?1",
            [caller.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .into_iter()
        .collect();
        if mine.is_empty() {
            return Ok(Vec::new());
        }
        let sops: BTreeSet<&str> = mine.iter().map(|(s, _)| s.as_str()).collect();
        let mut out = Vec::new();
        for sop in sops {
            let def = self.sop(sop)?;
            let rows = crate::db::all(
                &conn,
                &format!("SELECT {COLS} FROM incidents WHERE state = 'open' AND sop = ?1"),
                [sop],
                from_row,
            )?;
            for row in rows {
                let waits_for_me = def
                    .step(&row.step)
                    .and_then(|s| s.actor.as_ref())
                    .is_some_and(|role| mine.contains(&(sop.to_string(), role.clone())));
                if waits_for_me {
                    out.push(self.incident_summary(&conn, &row, now)?);
                }
            }
        }
        // Soonest due first, those with no due time last, then by id.
        out.sort_by_key(|s| (s.current.due_at.is_none(), s.current.due_at, s.id));
        Ok(out)
    }

    /// The incident's history, read from the audit log (refusals included).
    pub fn incident_timeline(
        &self,
        caller: &Caller,
        id: i64,
    ) -> HubResult<Vec<api::TimelineEntry>> {
        let conn = self.db();
        self.viewable_incident(&conn, caller, id)?;
        Ok(crate::db::all(
            &conn,
            "SELECT a.seq, a.at, coalesce(u.display_name, a.actor), a.kind, a.data
             FROM incident_audit l JOIN audit a ON a.seq = l.seq
             LEFT JOIN users u ON u.id = a.actor_id
             WHERE l.incident_id = ?1 ORDER BY a.seq",
            [id],
            |r| {
                let at: String = r.get(1)?;
                let data: String = r.get(4)?;
                let data: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
                let s = |k: &str| data.get(k).and_then(|v| v.as_str()).map(str::to_string);
                Ok(api::TimelineEntry {
                    seq: r.get(0)?,
                    at: DateTime::parse_from_rfc3339(&at)
                        .map(|d| d.with_timezone(&Utc))
                        .unwrap_or_default(),
                    actor: r.get(2)?,
                    kind: r.get(3)?,
                    action: s("action").or_else(|| s("request")),
                    from_step: s("from_step"),
                    to_step: s("to_step"),
                    note: s("note")
                        .or_else(|| s("reason"))
                        .or_else(|| s("body"))
                        .or_else(|| s("instruction")),
                })
            },
        )?)
    }

    // ------------------------------------------------------------ changes

    /// Puts the incident into step `to`: closes the open visit, opens a new one with its due
    /// time in the SOP's calendar; a final step closes the incident.
    fn enter_incident_step(
        &self,
        tx: &Connection,
        def: &Definition,
        id: i64,
        to: &str,
        now: DateTime<Utc>,
    ) -> HubResult<Option<DateTime<Utc>>> {
        let step = def
            .step(to)
            .ok_or_else(|| HubError::Internal(anyhow::anyhow!("unknown step {to}")))?;
        let due = if step.is_final {
            None
        } else {
            let holidays = self.holidays.read().unwrap_or_else(|e| e.into_inner());
            def.working_calendar().due(now, &step.standard, &holidays)
        };
        tx.exec(
            "UPDATE incident_steps SET left_at = ?2 WHERE incident_id = ?1 AND left_at IS NULL",
            params![id, now],
        )?;
        tx.exec(
            "INSERT INTO incident_steps (incident_id, step, entered_at, due_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, to, now, due],
        )?;
        tx.exec(
            "UPDATE incidents SET step = ?2, step_entered_at = ?3, step_due_at = ?4, updated_at = ?3,
                 state = CASE WHEN ?5 THEN 'closed' ELSE 'open' END,
                 closed_at = CASE WHEN ?5 THEN ?3 ELSE NULL END
             WHERE id = ?1",
            params![id, to, now, due, step.is_final],
        )?;
        Ok(due)
    }

    /// Inserts an incident at its SOP's first step; returns its id.
    #[allow(clippy::too_many_arguments)]
    fn insert_incident(
        &self,
        tx: &Connection,
        def: &Definition,
        title: &str,
        description: &str,
        source: &str,
        guard_incident_id: Option<i64>,
        reported_by: Option<i64>,
        now: DateTime<Utc>,
    ) -> HubResult<i64> {
        tx.exec(
            "INSERT INTO incidents (sop, title, description, source, guard_incident_id,
                 reported_by, step, step_entered_at, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?8, ?8)",
            params![
                def.id,
                title,
                description,
                source,
                guard_incident_id,
                reported_by,
                def.start,
                now
            ],
        )?;
        let id = tx.last_insert_rowid();
        self.enter_incident_step(tx, def, id, &def.start, now)?;
        Ok(id)
    }

    /// A person reports an incident (the form): it opens at the SOP's first step, where the
    /// role that logs reports (SOP-D's examiner, SOP-B's division) takes it up.
    pub fn create_incident(
        &self,
        caller: &Caller,
        new: api::NewIncident,
    ) -> HubResult<api::IncidentDetail> {
        let def = self.incident_sop(new.sop.trim())?;
        let title = new.title.trim();
        if title.is_empty() {
            return Err(HubError::validation("title", "the incident needs a title"));
        }
        if title.chars().count() > TITLE_MAX {
            return Err(HubError::validation(
                "title",
                format!("the title is longer than {TITLE_MAX} characters"),
            ));
        }
        let description = new.description.trim();
        if description.len() > TEXT_MAX {
            return Err(HubError::validation(
                "description",
                "the description is longer than 20,000 characters",
            ));
        }
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let id = self.insert_incident(
            &tx,
            def,
            title,
            description,
            "form",
            None,
            Some(caller.id),
            now,
        )?;
        log(
            &tx,
            now,
            &caller.actor(),
            "incident.created",
            id,
            json!({ "sop": def.id, "title": title, "source": "form", "to_step": def.start }),
        )?;
        let row = load(&tx, id)?;
        let detail = self.incident_detail(&tx, caller, &row)?;
        tx.commit()?;
        Ok(detail)
    }

    /// Takes action `action` of the incident's current step. Only a holder of the step's
    /// actor role may (403, audited); an action the step does not have is a 409 with the
    /// caller's possible actions (audited); a missing note, instruction or assignee is a 400.
    pub fn act_incident(
        &self,
        caller: &Caller,
        id: i64,
        action: &str,
        req: api::IncidentActionRequest,
    ) -> HubResult<api::IncidentDetail> {
        let note = given(req.note.as_deref());
        let instruction = given(req.instruction.as_deref());
        let result = (|| {
            let mut conn = self.db();
            let row = self.viewable_incident(&conn, caller, id)?;
            let def = self.sop(&row.sop)?;
            let act = self
                .check_incident_action(&conn, def, caller, &row, action)?
                .clone();
            if act.requires_note && note.is_none() {
                return Err(HubError::validation(
                    "note",
                    format!("\"{action}\" needs a note or reason"),
                ));
            }
            if act.requires_instruction && instruction.is_none() {
                return Err(HubError::validation(
                    "instruction",
                    format!("\"{action}\" needs an instruction"),
                ));
            }
            for (field, text) in [("note", &note), ("instruction", &instruction)] {
                if text.as_ref().is_some_and(|t| t.len() > TEXT_MAX) {
                    return Err(HubError::validation(
                        field,
                        format!("the {field} is longer than 20,000 characters"),
                    ));
                }
            }
            let mut payload = api::IncidentPayload {
                instruction: instruction.clone(),
                ..Default::default()
            };
            if act.requires_assignee {
                let role = def
                    .step(&act.to)
                    .and_then(|s| s.actor.clone())
                    .ok_or_else(|| HubError::Internal(anyhow::anyhow!("validated: an actor")))?;
                let Some(uid) = req.assignee_id else {
                    return Err(HubError::validation(
                        "assignee_id",
                        format!("\"{action}\" names to whom: give assignee_id, a {role}"),
                    ));
                };
                let user = user_ref(&conn, uid)?.ok_or_else(|| {
                    HubError::validation("assignee_id", format!("there is no user #{uid}"))
                })?;
                if !holds(&conn, &def.id, &role, uid)? {
                    return Err(HubError::validation(
                        "assignee_id",
                        format!(
                            "{} does not hold the {} role \"{role}\"",
                            user.display_name, def.id
                        ),
                    ));
                }
                payload.assignee_id = Some(uid);
                payload.assignee = Some(user.display_name);
            } else if req.assignee_id.is_some() {
                return Err(HubError::validation(
                    "assignee_id",
                    format!("\"{action}\" names nobody; leave assignee_id out"),
                ));
            }
            let now = self.now();
            let tx = conn.savepoint()?;
            let payload_json = serde_json::to_string(&payload).expect("json");
            tx.exec(
                "UPDATE incident_steps SET actor_id = ?2, action = ?3, note = ?4, payload = ?5
                 WHERE incident_id = ?1 AND left_at IS NULL",
                params![id, caller.id, action, note, payload_json],
            )?;
            // Back to an earlier step of the SOP: the work is done again (a loop).
            let number = |step: &str| def.step(step).map_or(0, |s| s.number);
            if number(&act.to) < number(&row.step) {
                tx.exec("UPDATE incidents SET loops = loops + 1 WHERE id = ?1", [id])?;
            }
            if let Some(uid) = payload.assignee_id {
                tx.exec(
                    "UPDATE incidents SET assignee_id = ?2 WHERE id = ?1",
                    params![id, uid],
                )?;
            }
            self.enter_incident_step(&tx, def, id, &act.to, now)?;
            let from_step = row.step.clone();
            let row = load(&tx, id)?;
            log(
                &tx,
                now,
                &caller.actor(),
                "incident.action",
                id,
                json!({ "action": action, "from_step": from_step,
                        "to_step": act.to, "note": note, "instruction": payload.instruction,
                        "assignee_id": payload.assignee_id, "loops": row.loops,
                        "state": row.state }),
            )?;
            let detail = self.incident_detail(&tx, caller, &row)?;
            tx.commit()?;
            Ok(detail)
        })();
        self.refuse_incident(caller, id, &format!("incident.action.{action}"), result)
    }

    /// Adds a comment to an incident the caller may see.
    pub fn add_incident_comment(
        &self,
        caller: &Caller,
        id: i64,
        body: &str,
    ) -> HubResult<api::Comment> {
        let body = body.trim();
        if body.is_empty() {
            return Err(HubError::validation("body", "the comment is empty"));
        }
        if body.len() > TEXT_MAX {
            return Err(HubError::validation(
                "body",
                "the comment is longer than 20,000 characters",
            ));
        }
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        self.viewable_incident(&tx, caller, id)?;
        tx.exec(
            "INSERT INTO incident_comments (incident_id, author_id, body, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![id, caller.id, body, now],
        )?;
        let cid = tx.last_insert_rowid();
        tx.exec(
            "UPDATE incidents SET updated_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        log(
            &tx,
            now,
            &caller.actor(),
            "incident.comment",
            id,
            json!({ "comment_id": cid, "body": body }),
        )?;
        tx.commit()?;
        Ok(api::Comment {
            id: cid,
            author: caller.display_name.clone(),
            body: body.to_string(),
            created_at: now,
        })
    }

    /// Whether the caller may add evidence to the incident (before its bytes are read).
    pub fn check_can_add_evidence(&self, caller: &Caller, id: i64) -> HubResult<u64> {
        let conn = self.db();
        self.viewable_incident(&conn, caller, id)?;
        drop(conn);
        Ok(self.media_settings()?.max_attachment_bytes)
    }

    /// Records a file the caller uploaded into the blob store as evidence of the incident.
    pub fn record_incident_evidence(
        &self,
        caller: &Caller,
        id: i64,
        filename: &str,
        blob: &warta_media::StoredBlob,
    ) -> HubResult<api::IncidentEvidence> {
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        self.viewable_incident(&tx, caller, id)?;
        crate::attachments::grant_blob(&tx, &blob.sha256, caller.id, now)?;
        let existing: Option<i64> = tx
            .row(
                "SELECT id FROM incident_evidence WHERE incident_id = ?1 AND source = 'upload'
                 AND sha256 = ?2",
                params![id, blob.sha256],
                |r| r.get(0),
            )
            .optional()?;
        let eid = match existing {
            // The same file twice: one piece of evidence.
            Some(e) => e,
            None => {
                tx.exec(
                    "INSERT INTO incident_evidence (incident_id, source, sha256, filename, size,
                         added_by, added_at) VALUES (?1, 'upload', ?2, ?3, ?4, ?5, ?6)",
                    params![id, blob.sha256, filename, blob.size as i64, caller.id, now],
                )?;
                let eid = tx.last_insert_rowid();
                tx.exec(
                    "UPDATE incidents SET updated_at = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
                log(
                    &tx,
                    now,
                    &caller.actor(),
                    "incident.evidence",
                    id,
                    json!({ "evidence_id": eid, "sha256": blob.sha256, "filename": filename,
                            "size": blob.size }),
                )?;
                eid
            }
        };
        let e = tx.row(
            &format!("{EVIDENCE_SELECT} WHERE e.id = ?1"),
            [eid],
            evidence_from_row,
        )?;
        tx.commit()?;
        Ok(e)
    }

    /// Where a piece of evidence's bytes are: (file, content type, file name). Guard page
    /// versions are served as plain text, never as a page.
    pub fn incident_evidence_file(
        &self,
        caller: &Caller,
        id: i64,
        evidence_id: i64,
    ) -> HubResult<(std::path::PathBuf, String, String)> {
        let conn = self.db();
        self.viewable_incident(&conn, caller, id)?;
        let (source, sha, filename): (String, String, String) = conn
            .row(
                "SELECT source, sha256, filename FROM incident_evidence
                 WHERE id = ?1 AND incident_id = ?2",
                params![evidence_id, id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or(HubError::NotFound("evidence"))?;
        let (path, mime) = if source == "guard" {
            (
                self.guard_bodies.file(&sha),
                "text/plain; charset=utf-8".to_string(),
            )
        } else {
            (
                self.blobs.path_of(&sha),
                "application/octet-stream".to_string(),
            )
        };
        let path = path
            .filter(|p| p.is_file())
            .ok_or(HubError::NotFound("evidence file"))?;
        Ok((path, mime, filename))
    }

    // ------------------------------------------------------------ the website guard

    /// A new guard incident opens an SOP-B incident at its first step, in the guard's
    /// transaction, with the page versions attached by reference.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn open_incident_from_guard(
        &self,
        tx: &Connection,
        guard_id: i64,
        url: &str,
        kinds: &[String],
        words: &[String],
        versions: &[(&str, Option<&String>)],
        now: DateTime<Utc>,
    ) -> HubResult<i64> {
        let def = self.sop(GUARD_SOP)?;
        let title: String = format!("{url}: {}", kinds.join(", "))
            .chars()
            .take(TITLE_MAX)
            .collect();
        let mut description = format!(
            "Opened by the website guard (guard incident #{guard_id}).\nPage: {url}\nFindings: {}",
            kinds.join(", ")
        );
        if !words.is_empty() {
            description.push_str(&format!("\nEvidence: {}", words.join("; ")));
        }
        let id = self.insert_incident(
            tx,
            def,
            &title,
            &description,
            "guard",
            Some(guard_id),
            None,
            now,
        )?;
        let mut attached = Vec::new();
        for (label, hash) in versions {
            let Some(hash) = hash else { continue };
            let size = self.guard_bodies.size(hash).unwrap_or(0) as i64;
            let n = tx.exec(
                "INSERT OR IGNORE INTO incident_evidence (incident_id, source, sha256, filename,
                     size, label, added_at) VALUES (?1, 'guard', ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    hash,
                    format!("page-{label}-{}.html", &hash[..12.min(hash.len())]),
                    size,
                    label,
                    now
                ],
            )?;
            if n > 0 {
                attached.push(json!({ "label": label, "sha256": hash }));
            }
        }
        log(
            tx,
            now,
            &Actor::system(),
            "incident.created",
            id,
            json!({ "sop": def.id, "title": title, "source": "guard",
                    "guard_incident_id": guard_id, "to_step": def.start,
                    "evidence": attached }),
        )?;
        Ok(id)
    }

    /// A repeat folded into a guard incident: the SOP-B incident opened from it is told (the
    /// newest bad version attached by reference), no new incident.
    pub(crate) fn fold_into_guard_incident(
        &self,
        tx: &Connection,
        guard_id: i64,
        count: i64,
        bad: Option<&String>,
        now: DateTime<Utc>,
    ) -> HubResult<Option<i64>> {
        let Some(id) = incident_of_guard(tx, guard_id)? else {
            return Ok(None);
        };
        let mut added = None;
        if let Some(hash) = bad {
            let size = self.guard_bodies.size(hash).unwrap_or(0) as i64;
            let n = tx.exec(
                "INSERT OR IGNORE INTO incident_evidence (incident_id, source, sha256, filename,
                     size, label, added_at) VALUES (?1, 'guard', ?2, ?3, ?4, 'bad', ?5)",
                params![
                    id,
                    hash,
                    format!("page-bad-{}.html", &hash[..12.min(hash.len())]),
                    size,
                    now
                ],
            )?;
            if n > 0 {
                added = Some(hash.clone());
            }
        }
        tx.exec(
            "UPDATE incidents SET updated_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        log(
            tx,
            now,
            &Actor::system(),
            "incident.guard_repeat",
            id,
            json!({ "guard_incident_id": guard_id, "count": count, "new_evidence": added }),
        )?;
        Ok(Some(id))
    }

    /// A restore made for guard incident `guard_id` (SOP-C step 4): the SOP-B incident opened
    /// from it gets the restore report — who, why, the guard's checks before and after, whether
    /// the site is normal — as evidence (kept with the guard's page versions, by its SHA-256)
    /// and an `incident.restored` entry on its timeline, in the restore's transaction.
    pub(crate) fn restore_into_guard_incident(
        &self,
        tx: &Connection,
        guard_id: i64,
        report: &api::SiteRestoreReport,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> HubResult<Option<i64>> {
        let Some(id) = incident_of_guard(tx, guard_id)? else {
            return Ok(None);
        };
        let body = serde_json::to_string_pretty(report).expect("json");
        let hash = self.guard_bodies.put(&body)?;
        tx.exec(
            "INSERT OR IGNORE INTO incident_evidence (incident_id, source, sha256, filename,
                 size, label, added_at) VALUES (?1, 'guard', ?2, ?3, ?4, 'restore', ?5)",
            params![
                id,
                hash,
                format!("restore-{}.json", report.id),
                body.len() as i64,
                now
            ],
        )?;
        tx.exec(
            "UPDATE incidents SET updated_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        let findings = |v: &[api::SitePageCheck]| v.iter().map(|c| c.findings.len()).sum::<usize>();
        log(
            tx,
            now,
            actor,
            "incident.restored",
            id,
            json!({ "guard_incident_id": guard_id, "restore": report.id,
                    "state": report.state, "normal": report.normal,
                    "findings_before": findings(&report.before),
                    "findings_after": findings(&report.after), "sha256": hash }),
        )?;
        Ok(Some(id))
    }

    // ------------------------------------------------------------ overdue

    /// Gives every open step visit that passed its due time one `incident.overdue` audit entry
    /// (an event on the live feed), and marks it so it is never given twice. Returns how many.
    pub fn notify_overdue_incidents(&self) -> HubResult<usize> {
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let due = crate::db::all(
            &tx,
            "SELECT s.id, s.incident_id, s.step, s.due_at FROM incident_steps s
             WHERE s.left_at IS NULL AND s.overdue_at IS NULL AND s.due_at IS NOT NULL
               AND s.due_at < ?1
             ORDER BY s.due_at LIMIT 500",
            [now],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, DateTime<Utc>>(3)?,
                ))
            },
        )?;
        for (visit, incident, step, due_at) in &due {
            tx.exec(
                "UPDATE incident_steps SET overdue_at = ?2 WHERE id = ?1",
                params![visit, now],
            )?;
            log(
                &tx,
                now,
                &Actor::system(),
                "incident.overdue",
                *incident,
                json!({ "step": step, "due_at": due_at }),
            )?;
        }
        tx.commit()?;
        Ok(due.len())
    }

    /// Starts the overdue sweep (every [`OVERDUE_POLL_SECS`]); stopped by
    /// [`OverdueScheduler::stop`].
    pub fn start_incident_overdue(self: &Arc<Self>) -> OverdueScheduler {
        let stop = Arc::new(AtomicBool::new(false));
        let bell = Arc::new(tokio::sync::Notify::new());
        let weak = Arc::downgrade(self);
        let (s, b) = (Arc::clone(&stop), Arc::clone(&bell));
        let task = tokio::spawn(async move {
            loop {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Some(office) = weak.upgrade() else { return };
                match tokio::task::spawn_blocking(move || office.notify_overdue_incidents()).await {
                    Ok(Ok(n)) if n > 0 => tracing::info!("{n} incident step(s) became overdue"),
                    Ok(Err(e)) => tracing::warn!("announcing overdue incident steps: {e}"),
                    _ => {}
                }
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(OVERDUE_POLL_SECS)) => {}
                    _ = b.notified() => {}
                }
            }
        });
        OverdueScheduler { stop, bell, task }
    }
}

/// The overdue sweep of a running hub.
pub struct OverdueScheduler {
    stop: Arc<AtomicBool>,
    bell: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl OverdueScheduler {
    /// Stops the sweep, waiting at most `grace` (a sweep is one transaction).
    pub async fn stop(self, grace: std::time::Duration) {
        self.stop.store(true, Ordering::SeqCst);
        self.bell.notify_one();
        let abort = self.task.abort_handle();
        if tokio::time::timeout(grace, self.task).await.is_err() {
            abort.abort();
        }
    }
}

const EVIDENCE_SELECT: &str = "SELECT e.id, e.source, e.sha256, e.filename, e.size, e.label, \
    u.display_name, e.added_at FROM incident_evidence e LEFT JOIN users u ON u.id = e.added_by";

fn evidence_from_row(r: &rusqlite::Row) -> rusqlite::Result<api::IncidentEvidence> {
    Ok(api::IncidentEvidence {
        id: r.get(0)?,
        source: r.get(1)?,
        sha256: r.get(2)?,
        filename: r.get(3)?,
        size: r.get(4)?,
        label: r.get(5)?,
        added_by: r.get(6)?,
        added_at: r.get(7)?,
    })
}
