//! The parts of the lesson around the experiments: key insights with where the notebooks
//! show them, tips, the signs of distributed-systems territory, what changes after the
//! insight, the meta-insight, the bridge from operating systems, and the ants.
//!
//! ```
//! use distlab::lesson::Lesson;
//!
//! let lesson = Lesson::builtin()?;
//! let insights = lesson.key_insights();
//! assert_eq!(insights.headers, ["#", "insight", "where you saw it"]);
//! assert!(lesson.os_bridge().rows.iter().any(|r| r[1] == "a node"));
//! # Ok::<(), distlab::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use super::blank;
use super::plan::{numbered, Lesson};
use crate::table::Table;

/// A key insight and where the notebooks show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInsight {
    /// The insight.
    pub insight: String,
    /// The notebook and cell topic where it was seen, for example "03 test 4".
    #[serde(rename = "where")]
    pub seen_in: String,
}

/// An operating-system idea on one machine beside its counterpart across machines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeRow {
    /// The idea on one machine, for example "a process".
    pub one_machine: String,
    /// Its counterpart in a distributed system, for example "a node".
    pub many_machines: String,
    /// What is different across machines.
    pub what_changes: String,
}

/// One correspondence between an ant colony and a distributed system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AntPair {
    /// The colony's side, for example "an ant".
    pub colony: String,
    /// The system's side, for example "a node".
    pub system: String,
}

/// The ant-colony analogy: coordination without a boss, through local signals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ants {
    /// The analogy in a few sentences.
    pub story: String,
    /// What corresponds to what.
    pub pairs: Vec<AntPair>,
}

impl Lesson {
    /// What is missing or empty in the parts this module shows, if anything.
    pub(super) fn extras_problem(&self) -> Option<String> {
        let empty = [
            ("key_insights", self.key_insights.is_empty()),
            ("tips", self.tips.is_empty()),
            ("territory", self.territory.is_empty()),
            ("after_the_insight", self.after_the_insight.is_empty()),
            ("meta_insight", blank(&self.meta_insight)),
            ("os_bridge", self.os_bridge.is_empty()),
            ("ants.story", blank(&self.ants.story)),
            ("ants.pairs", self.ants.pairs.is_empty()),
        ];
        if let Some((name, _)) = empty.iter().find(|(_, e)| *e) {
            return Some(format!("{name} is empty"));
        }
        let texts = (self.tips.iter().map(|t| ("tips", t)))
            .chain(self.territory.iter().map(|t| ("territory", t)))
            .chain(self.after_the_insight.iter().map(|t| ("after_the_insight", t)))
            .chain(
                self.key_insights
                    .iter()
                    .flat_map(|k| [("key_insights", &k.insight), ("key_insights", &k.seen_in)]),
            )
            .chain(self.os_bridge.iter().flat_map(|b| {
                [
                    ("os_bridge", &b.one_machine),
                    ("os_bridge", &b.many_machines),
                    ("os_bridge", &b.what_changes),
                ]
            }))
            .chain(
                self.ants.pairs.iter().flat_map(|p| [("ants.pairs", &p.colony), ("ants.pairs", &p.system)]),
            );
        for (name, text) in texts {
            if blank(text) {
                return Some(format!("{name} has an empty entry"));
            }
        }
        None
    }

    /// The key insights, each with the notebook and cell topic where you saw it.
    pub fn key_insights(&self) -> Table {
        let mut t = Table::new("key insights", ["#", "insight", "where you saw it"]);
        for (i, k) in self.key_insights.iter().enumerate() {
            t.row([(i + 1).to_string(), k.insight.clone(), k.seen_in.clone()]);
        }
        t
    }
    /// Tips for the 35-minute session.
    pub fn tips(&self) -> Table {
        numbered("tips for the session", "tip", &self.tips)
    }
    /// The signs that you are in distributed-systems territory, as a checklist.
    pub fn territory(&self) -> Table {
        let mut t = Table::new("signs of distributed-systems territory", ["#", "sign", "your system?"]);
        for (i, s) in self.territory.iter().enumerate() {
            t.row([(i + 1).to_string(), s.clone(), "[ ]".into()]);
        }
        t.note(
            "Think of a system you use: each sign it shows is one more reason to treat it as distributed.",
        );
        t
    }
    /// What changes once the aha has sunk in.
    pub fn after_the_insight(&self) -> Table {
        numbered("after the insight", "what changes", &self.after_the_insight)
    }
    /// The meta-insight, as a one-row table.
    pub fn meta_insight(&self) -> Table {
        let mut t = Table::new("the meta-insight", ["what it says"]);
        t.row([&self.meta_insight]);
        t
    }
    /// Operating-system ideas on one machine beside their distributed counterparts.
    pub fn os_bridge(&self) -> Table {
        let mut t = Table::new(
            "from one machine to many: the operating-system bridge",
            ["on one machine", "across machines", "what changes"],
        );
        for b in &self.os_bridge {
            t.row([&b.one_machine, &b.many_machines, &b.what_changes]);
        }
        t
    }
    /// The ant colony beside a distributed system, with the story under the table.
    pub fn ants(&self) -> Table {
        let mut t =
            Table::new("ants: coordination without a boss", ["in an ant colony", "in a distributed system"]);
        for p in &self.ants.pairs {
            t.row([&p.colony, &p.system]);
        }
        t.note(self.ants.story.clone());
        t
    }
}
