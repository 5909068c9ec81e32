//! What a check reports: the history of calls, the first failure shrunk, passed N of M.

use serde::Serialize;

use crate::chart::Chart;
use crate::node::NodeId;
use crate::table::{show_tables, Table, Tabular};
use crate::time::Time;

use super::linearizable::RegisterCall;
use super::{ClientOp, Schedule};

/// One call of the history: who was asked what, when, and what came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Call {
    /// The node asked.
    pub node: NodeId,
    /// What it was asked.
    pub op: ClientOp,
    /// When.
    pub invoked: Time,
    /// When the node answered and with what; None: it never did.
    pub returned: Option<(Time, Option<u64>)>,
}

impl Call {
    /// The call as the linearizability check sees it: a write or a read of the register;
    /// None for a send or a broadcast.
    pub(crate) fn as_register(&self) -> Option<RegisterCall> {
        let write = match self.op {
            ClientOp::Write { value } => Some(value),
            ClientOp::Read => None,
            ClientOp::Send { .. } | ClientOp::Broadcast { .. } => return None,
        };
        Some(RegisterCall { write, invoked: self.invoked, returned: self.returned })
    }
}

impl History {
    /// The register's writes and reads, in call order.
    pub(crate) fn register_calls(&self) -> Vec<RegisterCall> {
        self.calls.iter().filter_map(Call::as_register).collect()
    }
}

/// Every call of one run, in the order they were made.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct History {
    /// The calls.
    pub calls: Vec<Call>,
}

/// The first failing run, shrunk, and what it shows.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Its seed.
    pub seed: u64,
    /// The property it violates.
    pub property: String,
    /// Why, in words.
    pub message: String,
    /// Faults in the seed's drawn schedule, before shrinking.
    pub faults_drawn: usize,
    /// The fewest faults that still fail.
    pub schedule: Schedule,
    /// The fewest calls (a prefix of the seed's workload) that still fail.
    pub calls: usize,
    /// What was called and answered in that run.
    pub history: History,
    /// The space-time diagram of that run.
    pub diagram: Option<Chart>,
}

/// What a check found: passed N of M, and the first failure explained.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The checker's name.
    pub name: String,
    /// Runs (seeds).
    pub runs: u64,
    /// Runs where every property held.
    pub passed: u64,
    /// Per property, the runs it was the first to fail.
    pub failed_by: Vec<(String, u64)>,
    /// Messages sent per call, over all runs (requests, replies, retries).
    pub messages_per_call: f64,
    /// Share of calls answered, over all runs.
    pub answered_share: f64,
    /// The first failing seed, shrunk.
    pub first_failure: Option<Failure>,
}

impl CheckReport {
    /// True when every run passed.
    pub fn all_passed(&self) -> bool {
        self.passed == self.runs
    }
}

impl Tabular for History {
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            format!("history ({} calls)", self.calls.len()),
            ["called", "node", "call", "answered", "answer"],
        );
        for c in &self.calls {
            let op = c.op.to_string();
            let (when, answer) = match c.returned {
                Some((at, Some(v))) => (at.to_string(), v.to_string()),
                Some((at, None)) => {
                    (at.to_string(), if c.op == ClientOp::Read { "nothing".into() } else { "ok".into() })
                }
                None => ("never".to_string(), "-".to_string()),
            };
            t.row([c.invoked.to_string(), format!("Node-{}", c.node), op, when, answer]);
        }
        vec![t]
    }
}

impl Tabular for CheckReport {
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            format!("{}: passed {} of {} seeds", self.name, self.passed, self.runs),
            ["property", "runs where it failed first"],
        );
        for (p, n) in &self.failed_by {
            t.row([p.clone(), n.to_string()]);
        }
        t.note(format!(
            "{:.1} messages per call; {:.0}% of calls answered",
            self.messages_per_call,
            100.0 * self.answered_share
        ));
        let mut tables = vec![t];
        if let Some(f) = &self.first_failure {
            let mut head = Table::new(format!("first failure: seed {}", f.seed), ["", ""]);
            head.row(["property".to_string(), f.property.clone()])
                .row(["why".to_string(), f.message.clone()])
                .row([
                    "faults".to_string(),
                    format!("{} (shrunk from {})", f.schedule.faults.len(), f.faults_drawn),
                ])
                .row(["calls".to_string(), f.calls.to_string()]);
            head.note(format!(
                "replay it: checker.replay(&report.first_failure.unwrap()) runs seed {} again",
                f.seed
            ));
            tables.push(head);
            tables.extend(f.schedule.tables());
            tables.extend(f.history.tables());
        }
        tables
    }

    fn to_html(&self) -> String {
        let mut h: String = self.tables().iter().map(Table::to_html).collect();
        if let Some(d) = self.first_failure.as_ref().and_then(|f| f.diagram.as_ref()) {
            h += &d.to_html();
        }
        // A failed linearizability check: the history as bars, the calls no order fits marked.
        if let Some(f) = self.first_failure.as_ref().filter(|f| f.property == super::properties::LINEARIZABLE)
        {
            h += &f.history.chart().to_html();
        }
        h
    }
}

show_tables!(History, CheckReport);
