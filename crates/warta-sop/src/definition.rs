//! SOP definitions: the domain types, the TOML file format, and validation at load.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use chrono::NaiveTime;
use chrono_tz::Tz;
use serde::Deserialize;

use crate::calendar::{Calendar, CalendarSpec, OpenHours};
use crate::standard::StandardTime;
use crate::{Problem, ProblemKind, SopError};

/// A text in Indonesian (`id`, shown first) and English (`en`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// Bahasa Indonesia.
    pub id: String,
    /// English.
    pub en: String,
}

/// A role of one SOP (a swimlane of its table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDef {
    /// Stable id used by steps and by the hub (e.g. `editor`).
    pub id: String,
    /// Display name.
    pub name: Text,
}

/// A transition out of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Stable id, unique within its step (e.g. `approve`).
    pub id: String,
    /// Step the item moves to.
    pub to: String,
    /// Whether the actor must give a note or reason (reject, return, send back, not publish).
    pub requires_note: bool,
    /// Whether the actor must name the user who acts next (a disposition "to whom"): a user
    /// holding the actor role of the step the action leads to. Never on an action into a final
    /// step (nobody acts there).
    pub requires_assignee: bool,
    /// Whether the actor must give an instruction (a disposition, directing the team, giving
    /// direction).
    pub requires_instruction: bool,
}

/// One step of an SOP's table, or a final outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Stable id (e.g. `edit`).
    pub id: String,
    /// The SOP's number for the step, for display; not unique (one step may cover several rows).
    pub number: u32,
    /// Role that acts; `None` for final steps.
    pub actor: Option<String>,
    /// What is done.
    pub activity: Text,
    /// What the step produces.
    pub output: Text,
    /// Requirements / inputs ("persyaratan / kelengkapan").
    pub inputs: Text,
    /// Standard time; `StandardTime::None` for final steps and steps the SOP gives no time.
    pub standard: StandardTime,
    /// An outcome: no actor, no time, no actions.
    pub is_final: bool,
    /// Ways out of the step (empty only for final steps).
    pub actions: Vec<Action>,
}

impl Step {
    /// The action with this id.
    pub fn action(&self, id: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.id == id)
    }
}

/// A whole SOP, validated: every actor is a role, every action leads to a step, every step is
/// reachable from `start`, and only final steps have no way out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// `sop-a` … `sop-d`.
    pub id: String,
    /// Name of the SOP.
    pub name: Text,
    /// Id of the step new items enter.
    pub start: String,
    /// Standard time of the whole procedure (SOP-D: 2–5 working days); `StandardTime::None`
    /// when the SOP gives none.
    pub total: StandardTime,
    /// When the SOP's clock runs.
    pub calendar: CalendarSpec,
    /// Roles in file order.
    pub roles: Vec<RoleDef>,
    /// Steps in file order.
    pub steps: Vec<Step>,
}

impl Definition {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The action `action_id` of step `step_id`.
    pub fn action(&self, step_id: &str, action_id: &str) -> Option<&Action> {
        self.step(step_id)?.action(action_id)
    }

    /// The role with this id.
    pub fn role(&self, id: &str) -> Option<&RoleDef> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// The step new items enter (always present in a loaded definition).
    pub fn start_step(&self) -> &Step {
        self.step(&self.start)
            .expect("validated: the start step exists")
    }

    /// A working-time calendar for this SOP.
    pub fn working_calendar(&self) -> Calendar {
        Calendar::from(&self.calendar)
    }
}

// ---------- file format ----------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    id: String,
    name: Text,
    start: String,
    total: Option<String>,
    calendar: RawCalendar,
    #[serde(default)]
    roles: Vec<RawRole>,
    #[serde(default)]
    steps: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    time_zone: String,
    #[serde(default)]
    around_the_clock: bool,
    #[serde(default)]
    holidays: bool,
    hours: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    id: String,
    name: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: String,
    number: u32,
    actor: Option<String>,
    activity: Text,
    #[serde(default)]
    output: Text,
    #[serde(default)]
    inputs: Text,
    time: Option<String>,
    #[serde(default, rename = "final")]
    is_final: bool,
    #[serde(default)]
    actions: Vec<RawAction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    id: String,
    to: String,
    #[serde(default)]
    requires_note: bool,
    #[serde(default)]
    requires_assignee: bool,
    #[serde(default)]
    requires_instruction: bool,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Parses and validates one definition. `source` names the file in messages.
///
/// All problems found are reported together ([`SopError::Invalid`]); malformed TOML stops at
/// the first syntax error ([`SopError::Toml`]).
pub fn parse(source: &str, text: &str) -> Result<Definition, SopError> {
    let raw: RawDefinition =
        toml::from_str(text).map_err(|e| SopError::from_toml(source, text, &e))?;
    let mut problems = Vec::new();
    let mut problem = |step: Option<&str>, kind: ProblemKind, message: String| {
        problems.push(Problem {
            file: source.to_owned(),
            step: step.map(str::to_owned),
            kind,
            message,
        });
    };

    let calendar = parse_calendar(&raw.calendar).map_err(|m| m.to_string());
    let calendar = match calendar {
        Ok(c) => Some(c),
        Err(m) => {
            problem(None, ProblemKind::BadCalendar, format!("calendar: {m}"));
            None
        }
    };

    let total = match raw.total.as_deref().map(StandardTime::parse) {
        None => StandardTime::None,
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            problem(None, ProblemKind::BadTime, format!("total: {e}"));
            StandardTime::None
        }
    };

    let mut role_ids = HashSet::new();
    for r in &raw.roles {
        if !role_ids.insert(r.id.as_str()) {
            problem(
                None,
                ProblemKind::DuplicateRole,
                format!("role \"{}\" is defined twice", r.id),
            );
        }
    }
    let mut step_ids = HashSet::new();
    for s in &raw.steps {
        if !step_ids.insert(s.id.as_str()) {
            problem(
                Some(&s.id),
                ProblemKind::DuplicateStep,
                "step id is defined twice".into(),
            );
        }
    }
    if !step_ids.contains(raw.start.as_str()) {
        problem(
            None,
            ProblemKind::UnknownStart,
            format!("start step \"{}\" is not a step of this SOP", raw.start),
        );
    }

    let mut steps = Vec::with_capacity(raw.steps.len());
    for s in &raw.steps {
        let id = Some(s.id.as_str());
        match (&s.actor, s.is_final) {
            (Some(a), false) if !role_ids.contains(a.as_str()) => problem(
                id,
                ProblemKind::UnknownRole,
                format!("actor \"{a}\" is not a role of this SOP"),
            ),
            (None, false) => problem(id, ProblemKind::MissingActor, "has no actor".into()),
            (Some(a), true) => problem(
                id,
                ProblemKind::FinalWithActor,
                format!("final step has an actor (\"{a}\"); final steps have none"),
            ),
            _ => {}
        }
        let standard = match (&s.time, s.is_final) {
            (None, true) => StandardTime::None,
            (Some(_), true) => {
                problem(
                    id,
                    ProblemKind::FinalWithTime,
                    "final step has a standard time; final steps have none".into(),
                );
                StandardTime::None
            }
            (None, false) => {
                problem(
                    id,
                    ProblemKind::MissingTime,
                    "has no standard time (write time = \"none\" if the SOP gives none)".into(),
                );
                StandardTime::None
            }
            (Some(t), false) => StandardTime::parse(t).unwrap_or_else(|e| {
                problem(id, ProblemKind::BadTime, e.to_string());
                StandardTime::None
            }),
        };
        if s.is_final && !s.actions.is_empty() {
            problem(
                id,
                ProblemKind::FinalWithActions,
                "final step has actions; final steps have none".into(),
            );
        }
        if !s.is_final && s.actions.is_empty() {
            problem(
                id,
                ProblemKind::DeadEnd,
                "dead end: the step is not final and has no actions".into(),
            );
        }
        let mut action_ids = HashSet::new();
        for a in &s.actions {
            if !action_ids.insert(a.id.as_str()) {
                problem(
                    id,
                    ProblemKind::DuplicateAction,
                    format!("action \"{}\" is defined twice", a.id),
                );
            }
            if a.requires_assignee
                && raw
                    .steps
                    .iter()
                    .find(|t| t.id == a.to)
                    .is_some_and(|t| t.is_final || t.actor.is_none())
            {
                problem(
                    id,
                    ProblemKind::AssigneeWithoutActor,
                    format!(
                        "action \"{}\" requires an assignee but leads to \"{}\", where nobody acts",
                        a.id, a.to
                    ),
                );
            }
            if !step_ids.contains(a.to.as_str()) {
                problem(
                    id,
                    ProblemKind::UnknownTarget,
                    format!(
                        "action \"{}\" leads to \"{}\", which is not a step",
                        a.id, a.to
                    ),
                );
            }
        }
        steps.push(Step {
            id: s.id.clone(),
            number: s.number,
            actor: s.actor.clone(),
            activity: s.activity.clone(),
            output: s.output.clone(),
            inputs: s.inputs.clone(),
            standard,
            is_final: s.is_final,
            actions: s
                .actions
                .iter()
                .map(|a| Action {
                    id: a.id.clone(),
                    to: a.to.clone(),
                    requires_note: a.requires_note,
                    requires_assignee: a.requires_assignee,
                    requires_instruction: a.requires_instruction,
                })
                .collect(),
        });
    }

    if step_ids.contains(raw.start.as_str()) {
        let edges: HashMap<&str, Vec<&str>> = raw
            .steps
            .iter()
            .map(|s| {
                (
                    s.id.as_str(),
                    s.actions.iter().map(|a| a.to.as_str()).collect(),
                )
            })
            .collect();
        let mut seen = HashSet::from([raw.start.as_str()]);
        let mut queue = VecDeque::from([raw.start.as_str()]);
        while let Some(at) = queue.pop_front() {
            for &next in edges.get(at).into_iter().flatten() {
                if seen.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        for s in &raw.steps {
            if !seen.contains(s.id.as_str()) {
                problem(
                    Some(&s.id),
                    ProblemKind::Unreachable,
                    format!("unreachable from the start step \"{}\"", raw.start),
                );
            }
        }
    }

    match calendar {
        Some(calendar) if problems.is_empty() => Ok(Definition {
            id: raw.id,
            name: raw.name,
            start: raw.start,
            total,
            calendar,
            roles: raw
                .roles
                .into_iter()
                .map(|r| RoleDef {
                    id: r.id,
                    name: r.name,
                })
                .collect(),
            steps,
        }),
        _ => Err(SopError::Invalid(problems)),
    }
}

fn parse_calendar(raw: &RawCalendar) -> Result<CalendarSpec, String> {
    let time_zone: Tz = raw
        .time_zone
        .parse()
        .map_err(|_| format!("time zone {:?} is not an IANA zone", raw.time_zone))?;
    match (&raw.hours, raw.around_the_clock) {
        (Some(_), true) => Err("give either around_the_clock = true or hours, not both".into()),
        (None, false) => Err("give around_the_clock = true or [calendar.hours]".into()),
        (None, true) => {
            if raw.holidays {
                return Err("an around-the-clock calendar cannot observe holidays".into());
            }
            Ok(CalendarSpec::AroundTheClock { time_zone })
        }
        (Some(hours), false) => {
            let mut week = [None; 7];
            for (day, span) in hours {
                let i = DAYS
                    .iter()
                    .position(|d| d == day)
                    .ok_or_else(|| format!("hours: {day:?} is not a day (use mon … sun)"))?;
                week[i] = Some(parse_hours(span).ok_or_else(|| {
                    format!(
                        "hours.{day}: {span:?} is not \"HH:MM-HH:MM\" with opening before closing"
                    )
                })?);
            }
            if week.iter().all(Option::is_none) {
                return Err("hours: no day is open".into());
            }
            Ok(CalendarSpec::WorkingHours {
                time_zone,
                week,
                observes_holidays: raw.holidays,
            })
        }
    }
}

fn parse_hours(text: &str) -> Option<OpenHours> {
    let (a, b) = text.split_once('-')?;
    let open = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
    let close = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
    (open < close).then_some(OpenHours { open, close })
}
