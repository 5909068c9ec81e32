//! The lesson itself: objectives, plan, key ideas and success criteria.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::insights::{Ants, BridgeRow, KeyInsight};
use super::{blank, builtin, list, load, range, DataFile};
use crate::error::{Error, Result};
use crate::table::{show_tables, Table, Tabular};

/// Several of the lesson's tables shown as one output, for a notebook cell that shows more
/// than one (evcxr keeps only the last HTML a cell emits).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tables(pub Vec<Table>);

impl Tabular for Tables {
    fn tables(&self) -> Vec<Table> {
        self.0.clone()
    }
}

show_tables!(Tables);

/// One block of the study plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanActivity {
    /// What kind of work, for example `Practice`.
    pub activity: String,
    /// The time to give it.
    pub minutes: u32,
    /// What to do, in order.
    pub steps: Vec<String>,
}

/// A common wrong belief and what is true instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Misconception {
    /// The belief.
    pub myth: String,
    /// What is true.
    pub reality: String,
}

/// One of the core challenges of distributed systems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// Its name, for example `Consistency`.
    pub name: String,
    /// The question it asks.
    pub question: String,
    /// Why it is hard.
    pub why_hard: String,
}

/// An architecture with its trade-offs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchitectureTradeoffs {
    /// Its name, for example `Peer-to-peer`.
    pub name: String,
    /// What it does well.
    pub strengths: Vec<String>,
    /// What it does badly.
    pub weaknesses: Vec<String>,
    /// A system built this way.
    pub example: String,
}

/// One cell of the two-axis view of architectures: where the data and the decisions live,
/// against who asks whom. The axes are independent: any pair occurs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchitectureAxes {
    /// Who holds the data and decides: `centralized` or `decentralized`.
    pub data: String,
    /// Who asks whom: `client-server` or `peer-to-peer`.
    pub talk: String,
    /// A system built this way, and why it sits here.
    pub example: String,
}

/// Somewhere to read or watch more, with what it covers and about how long it takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// `read` or `watch`.
    pub kind: String,
    /// The title, with the part to read or watch.
    pub title: String,
    /// The authors.
    pub by: String,
    /// About how long it takes.
    pub minutes: u32,
    /// What it covers.
    pub covers: String,
}

/// What a learner should be able to do after the lesson, in three levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessCriteria {
    /// The least to reach.
    pub minimum: Vec<String>,
    /// The goal.
    pub target: Vec<String>,
    /// Beyond the goal.
    pub excellent: Vec<String>,
}

impl SuccessCriteria {
    /// Every criterion with its level, in the order [`Lesson::checklist`] numbers them.
    pub fn all(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        for (name, v) in
            [("minimum", &self.minimum), ("target", &self.target), ("excellent", &self.excellent)]
        {
            out.extend(v.iter().map(|c| (name, c.as_str())));
        }
        out
    }
}

/// The lesson itself (`data/lesson.json`): objectives, plan, key ideas and success criteria.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// The lesson's title.
    pub title: String,
    /// The one insight to take away.
    pub aha: String,
    /// How to recognise a distributed system.
    pub pattern: String,
    /// What the learner will be able to do.
    pub objectives: Vec<String>,
    /// The study plan.
    pub plan: Vec<PlanActivity>,
    /// The key characteristics of a distributed system.
    pub characteristics: Vec<String>,
    /// Why people distribute systems.
    pub why_distributed: Vec<String>,
    /// Common wrong beliefs.
    pub misconceptions: Vec<Misconception>,
    /// The core challenges.
    pub challenges: Vec<Challenge>,
    /// Centralized, client-server and peer-to-peer, with trade-offs.
    pub architectures: Vec<ArchitectureTradeoffs>,
    /// The two independent axes of an architecture, one example per pair.
    pub architecture_axes: Vec<ArchitectureAxes>,
    /// The lesson's key insights, each with where the notebooks show it.
    pub key_insights: Vec<KeyInsight>,
    /// Tips for the study session.
    pub tips: Vec<String>,
    /// Signs that a system is a distributed one.
    pub territory: Vec<String>,
    /// What changes once the aha has sunk in.
    pub after_the_insight: Vec<String>,
    /// The insight about insights: specialised topics are familiar pieces combined.
    pub meta_insight: String,
    /// One machine's operating-system ideas beside their distributed counterparts.
    pub os_bridge: Vec<BridgeRow>,
    /// The ant colony as an analogy for nodes coordinating without a boss.
    pub ants: Ants,
    /// How to know the lesson is done.
    pub success_criteria: SuccessCriteria,
    /// Where to read and watch more (the lesson's "Watch & Read").
    pub resources: Vec<Resource>,
    /// What the next day is about.
    pub next: String,
}

impl DataFile for Lesson {
    const NAME: &'static str = "lesson.json";
    const BUILTIN: &'static str = include_str!("../../data/lesson.json");
    fn validate(&self) -> std::result::Result<(), String> {
        if blank(&self.title) {
            return Err("the lesson has an empty title".into());
        }
        if self.objectives.is_empty() {
            return Err("the lesson has no objectives".into());
        }
        if self.plan.is_empty() {
            return Err("the lesson has no plan".into());
        }
        for p in &self.plan {
            if p.steps.is_empty() {
                return Err(format!("plan activity {:?} has no steps", p.activity));
            }
        }
        if let Some(problem) = self.extras_problem() {
            return Err(problem);
        }
        for data in DATA_AXIS {
            for talk in TALK_AXIS {
                let n = self.architecture_axes.iter().filter(|a| a.data == data && a.talk == talk).count();
                if n != 1 {
                    return Err(format!(
                        "architecture_axes needs exactly one entry for {data} + {talk}, found {n}"
                    ));
                }
            }
        }
        if let Some(a) = self
            .architecture_axes
            .iter()
            .find(|a| !DATA_AXIS.contains(&a.data.as_str()) || !TALK_AXIS.contains(&a.talk.as_str()))
        {
            return Err(format!(
                "architecture_axes: {:?} + {:?} is not a pair of {} and {}",
                a.data,
                a.talk,
                list(DATA_AXIS),
                list(TALK_AXIS)
            ));
        }
        if self.resources.is_empty() {
            return Err("the lesson has no resources".into());
        }
        if let Some(r) = self.resources.iter().find(|r| blank(&r.title) || blank(&r.covers) || blank(&r.by)) {
            return Err(format!("resource {:?} has an empty title, author or description", r.title));
        }
        if blank(&self.next) {
            return Err("the lesson does not say what comes next".into());
        }
        if self.success_criteria.all().is_empty() {
            return Err("the lesson has no success criteria".into());
        }
        if let Some((level, _)) = self.success_criteria.all().into_iter().find(|(_, c)| blank(c)) {
            return Err(format!("success_criteria.{level} has an empty criterion"));
        }
        Ok(())
    }
}

/// The values of the data axis of [`ArchitectureAxes`], in the order shown.
pub const DATA_AXIS: [&str; 2] = ["centralized", "decentralized"];
/// The values of the talk axis of [`ArchitectureAxes`], in the order shown.
pub const TALK_AXIS: [&str; 2] = ["client-server", "peer-to-peer"];

pub(super) fn numbered(title: &str, header: &str, items: &[String]) -> Table {
    let mut t = Table::new(title, ["#", header]);
    for (i, item) in items.iter().enumerate() {
        t.row([(i + 1).to_string(), item.clone()]);
    }
    t
}

impl Lesson {
    /// The lesson compiled into the crate.
    pub fn builtin() -> Result<Lesson> {
        builtin()
    }
    /// A lesson from a JSON file shaped like `data/lesson.json`.
    pub fn load(path: impl AsRef<Path>) -> Result<Lesson> {
        load(path.as_ref())
    }
    /// The title, the aha moment and the pattern to recognise.
    pub fn overview(&self) -> Table {
        let mut t = Table::new(self.title.clone(), ["", "what to take away"]);
        t.row(["aha", self.aha.as_str()]).row(["pattern", self.pattern.as_str()]);
        t
    }
    /// The learning objectives, numbered.
    pub fn objectives(&self) -> Table {
        numbered("learning objectives", "objective", &self.objectives)
    }
    /// The study plan: one row per step, with the activity's time on its first step.
    pub fn plan(&self) -> Table {
        let mut t = Table::new("study plan", ["activity", "minutes", "step"]);
        for p in &self.plan {
            for (i, step) in p.steps.iter().enumerate() {
                if i == 0 {
                    t.row([p.activity.clone(), p.minutes.to_string(), step.clone()]);
                } else {
                    t.row([String::new(), String::new(), step.clone()]);
                }
            }
        }
        let total: u32 = self.plan.iter().map(|p| p.minutes).sum();
        t.note(format!("total: {total} minutes"));
        t
    }
    /// The key characteristics of a distributed system.
    pub fn characteristics(&self) -> Table {
        numbered("key characteristics", "characteristic", &self.characteristics)
    }
    /// What the definition implies, why people distribute, and the key challenges: the three
    /// tables [`Lesson::characteristics`], [`Lesson::why_distributed`] and
    /// [`Lesson::challenges`] as one output.
    pub fn fundamentals(&self) -> Tables {
        Tables(vec![self.characteristics(), self.why_distributed(), self.challenges()])
    }
    /// Why people build distributed systems.
    pub fn why_distributed(&self) -> Table {
        numbered("why distribute a system", "reason", &self.why_distributed)
    }
    /// Common misconceptions and what is true instead.
    pub fn misconceptions(&self) -> Table {
        let mut t = Table::new("misconceptions", ["myth", "reality"]);
        for m in &self.misconceptions {
            t.row([&m.myth, &m.reality]);
        }
        t
    }
    /// The core challenges: the question each asks and why it is hard.
    pub fn challenges(&self) -> Table {
        let mut t = Table::new("key challenges", ["challenge", "question", "why it is hard"]);
        for c in &self.challenges {
            t.row([&c.name, &c.question, &c.why_hard]);
        }
        t
    }
    /// The architectures side by side, one row per strength or weakness.
    pub fn architectures(&self) -> Table {
        let mut t =
            Table::new("architectures and their trade-offs", ["architecture", "strength", "weakness"]);
        for a in &self.architectures {
            let rows = a.strengths.len().max(a.weaknesses.len());
            for i in 0..rows {
                let name = if i == 0 { a.name.as_str() } else { "" };
                let cell = |v: &[String]| v.get(i).cloned().unwrap_or_default();
                t.row([name.to_string(), cell(&a.strengths), cell(&a.weaknesses)]);
            }
            t.row(["".to_string(), format!("example: {}", a.example), String::new()]);
        }
        t
    }
    /// Architectures on two independent axes: rows say who holds the data and decides
    /// (centralized, decentralized), columns say who asks whom (client-server, peer-to-peer),
    /// and each cell holds a real system of that kind.
    pub fn architecture_axes(&self) -> Table {
        let mut t = Table::new(
            "architectures on two axes",
            [
                "who holds the data and decides ↓ · who asks whom →".to_string(),
                format!("{}: some only ask, others only answer", TALK_AXIS[0]),
                format!("{}: every node asks and answers", TALK_AXIS[1]),
            ],
        );
        for data in DATA_AXIS {
            let cell = |talk: &str| {
                self.architecture_axes
                    .iter()
                    .find(|a| a.data == data && a.talk == talk)
                    .map_or_else(String::new, |a| a.example.clone())
            };
            let label = if data == DATA_AXIS[0] {
                "centralized: one place holds the data and decides"
            } else {
                "decentralized: many places hold parts and decide"
            };
            t.row([label.to_string(), cell(TALK_AXIS[0]), cell(TALK_AXIS[1])]);
        }
        t.note("The axes are independent: knowing who asks whom does not tell you where the data lives.");
        t
    }
    /// Where to read and watch more, with what each covers and about how long it takes, and
    /// what comes next.
    pub fn resources(&self) -> Table {
        let mut t = Table::new("watch and read", ["", "what", "by", "covers", "about"]);
        for r in &self.resources {
            t.row([
                r.kind.clone(),
                r.title.clone(),
                r.by.clone(),
                r.covers.clone(),
                format!("{} min", r.minutes),
            ]);
        }
        t.note(format!("Next: {}", self.next));
        t
    }
    /// The success criteria as a checklist with nothing ticked yet, numbered for
    /// [`Lesson::checklist`].
    pub fn success_criteria(&self) -> Table {
        self.criteria_table(&[])
    }
    /// The success criteria with the criteria numbered in `ticked` marked done.
    ///
    /// Numbers are the ones in the `#` column of [`Lesson::success_criteria`], from 1, across
    /// all three levels; a number given twice counts once. Numbers rather than texts, because a
    /// retyped text with one letter different would silently stay unticked.
    ///
    /// Errors: `InvalidArgument` naming `criterion` and the allowed range for a number that is
    /// not in the table.
    pub fn checklist(&self, ticked: &[usize]) -> Result<Table> {
        let total = self.success_criteria.all().len();
        if let Some(&bad) = ticked.iter().find(|&&n| n == 0 || n > total) {
            return Err(Error::InvalidArgument {
                name: "criterion",
                value: bad.to_string(),
                allowed: format!("{} (the # column of lesson.success_criteria())", range(total)),
            });
        }
        Ok(self.criteria_table(ticked))
    }
    fn criteria_table(&self, ticked: &[usize]) -> Table {
        let all = self.success_criteria.all();
        let mut t = Table::new("success criteria", ["#", "level", "criterion", "done"]);
        let mut done_by_level: Vec<(&str, usize, usize)> = Vec::new();
        for (i, (level, text)) in all.iter().enumerate() {
            let done = ticked.contains(&(i + 1));
            t.row([
                (i + 1).to_string(),
                level.to_string(),
                text.to_string(),
                (if done { "[x]" } else { "[ ]" }).into(),
            ]);
            match done_by_level.iter_mut().find(|(l, _, _)| l == level) {
                Some(e) => {
                    e.1 += usize::from(done);
                    e.2 += 1;
                }
                None => done_by_level.push((level, usize::from(done), 1)),
            }
        }
        let done: usize = done_by_level.iter().map(|e| e.1).sum();
        let levels = done_by_level.iter().map(|(l, d, n)| format!("{l} {d} of {n}"));
        t.note(format!("done: {done} of {} ({})", all.len(), list(levels)));
        t.note("Tick criteria by number: lesson.checklist(&[1, 2, 3])?");
        t
    }
}

impl Tabular for Lesson {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        vec![self.overview(), self.objectives(), self.plan(), self.success_criteria()]
    }
}

show_tables!(Lesson);
