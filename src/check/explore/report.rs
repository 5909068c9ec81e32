//! What a search reports: the steps of a path, the bound that stopped it, the verdict.

use std::time::Duration;

use serde::Serialize;

use crate::chart::Chart;
use crate::node::NodeId;
use crate::table::{show_tables, Table, Tabular};

use super::super::History;

/// One step of a path, as data: [`Checker::replay_steps`] runs a list of them again, and
/// each names exactly what happened (a message by its sender, receiver, call and
/// fingerprint, which are stable for one build of the protocol).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The client at `node` issues call number `call` of the scope.
    Call {
        /// The node.
        node: NodeId,
        /// The call's index in [`Scope::calls`].
        call: usize,
    },
    /// A message in flight arrives (dropped if its receiver is down); with `copy_stays`, a
    /// duplicate of it stays in flight.
    Deliver {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The call it belongs to, if any.
        call: Option<usize>,
        /// The message, in the protocol's words.
        message: String,
        /// Its fingerprint, which tells apart two messages with the same words.
        key: u64,
        /// A duplicate stays in flight.
        copy_stays: bool,
    },
    /// A message in flight is lost.
    Lose {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The call it belongs to, if any.
        call: Option<usize>,
        /// The message, in the protocol's words.
        message: String,
        /// Its fingerprint.
        key: u64,
    },
    /// A pending timer fires.
    Timer {
        /// The node.
        node: NodeId,
        /// The timer's id.
        id: u64,
        /// The call it was set for, if any.
        call: Option<usize>,
    },
    /// A node crashes.
    Crash {
        /// The node.
        node: NodeId,
    },
    /// A crashed node comes back.
    Recover {
        /// The node.
        node: NodeId,
    },
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let of = |c: &Option<usize>| c.map_or(String::new(), |c| format!(" (call {c})"));
        match self {
            Step::Call { node, call } => write!(f, "the client at Node-{node} makes call {call}"),
            Step::Deliver { from, to, call, message, copy_stays, .. } => {
                let copy = if *copy_stays { ", and a copy stays in flight" } else { "" };
                write!(f, "{message} from Node-{from} arrives at Node-{to}{}{copy}", of(call))
            }
            Step::Lose { from, to, call, message, .. } => {
                write!(f, "{message} from Node-{from} to Node-{to}{} is lost", of(call))
            }
            Step::Timer { node, id, call } => write!(f, "timer {id} fires at Node-{node}{}", of(call)),
            Step::Crash { node } => write!(f, "Node-{node} crashes"),
            Step::Recover { node } => write!(f, "Node-{node} recovers"),
        }
    }
}

/// A search bound that stopped the search before the scope was covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "bound", rename_all = "snake_case")]
pub enum Bound {
    /// [`ScopeBuilder::max_states`] distinct states were visited.
    States(u64),
    /// A state at [`ScopeBuilder::max_depth`] steps had steps left.
    Depth(u32),
    /// A step would have left more than [`ScopeBuilder::max_in_flight`] messages in flight.
    InFlight(usize),
    /// [`ScopeBuilder::time_limit_s`] passed (in milliseconds).
    TimeMs(u64),
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::States(n) => write!(f, "the state bound ({n} states)"),
            Bound::Depth(d) => write!(f, "the depth bound ({d} steps)"),
            Bound::InFlight(m) => write!(f, "the bound on messages in flight ({m})"),
            Bound::TimeMs(ms) => write!(f, "the time limit ({:.1} s)", *ms as f64 / 1000.0),
        }
    }
}

/// A shortest path to a violation.
#[derive(Debug, Clone)]
pub struct Counterexample {
    /// The property it violates.
    pub property: String,
    /// Why, in words.
    pub message: String,
    /// The steps from the start, as data ([`Checker::replay_steps`] runs them again).
    pub steps: Vec<Step>,
    /// The history at the end of the path (times are event positions).
    pub history: History,
    /// The path as a space-time diagram (one millisecond per step).
    pub diagram: Option<Chart>,
}

/// How a search ended. Three verdicts, never merged.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Every state of the scope was visited and every checked property held.
    Passed,
    /// A bound stopped the search first: nothing was found, and nothing is proven.
    Unknown {
        /// The first bound that cut the search.
        bound: Bound,
    },
    /// A property broke.
    Failed(Box<Counterexample>),
}

impl Verdict {
    /// Whether the whole scope was explored without a violation.
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Passed)
    }
    /// The counterexample, if a property broke.
    pub fn failure(&self) -> Option<&Counterexample> {
        match self {
            Verdict::Failed(c) => Some(c),
            _ => None,
        }
    }
}

/// What [`Checker::explore`] found, and how much it searched.
#[derive(Debug, Clone)]
pub struct ExploreReport {
    /// The checker's name.
    pub name: String,
    /// The scope, in one line.
    pub scope: String,
    /// Passed, unknown or failed.
    pub verdict: Verdict,
    /// Distinct states visited (the initial one included).
    pub states: u64,
    /// Steps taken from expanded states (those that led to a state already seen included).
    pub transitions: u64,
    /// The most steps from the start to a visited state.
    pub max_depth: u32,
    /// Wall-clock time of the search.
    pub elapsed: Duration,
    /// The properties checked (by name).
    pub checked: Vec<String>,
    /// Properties the search cannot check, and why (never counted as passed).
    pub not_checked: Vec<String>,
    /// States with nothing left to do but timers the timer budget stopped: settled-run
    /// properties were not checked there.
    pub stopped_by_timer_budget: u64,
}

impl ExploreReport {
    /// Distinct states per second of wall-clock time.
    pub fn states_per_second(&self) -> f64 {
        self.states as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl Tabular for ExploreReport {
    fn tables(&self) -> Vec<Table> {
        let verdict = match &self.verdict {
            Verdict::Passed => "passed: the whole scope explored".to_string(),
            Verdict::Unknown { bound } => format!("unknown: stopped by {bound}"),
            Verdict::Failed(c) => format!("failed: {}", c.property),
        };
        let mut t = Table::new(format!("{}: exhaustive search, {verdict}", self.name), ["", ""]);
        t.row(["scope".to_string(), self.scope.clone()])
            .row(["states".to_string(), self.states.to_string()])
            .row(["transitions".to_string(), self.transitions.to_string()])
            .row(["deepest path".to_string(), format!("{} steps", self.max_depth)])
            .row([
                "time".to_string(),
                format!(
                    "{:.3} s ({:.0} states per second)",
                    self.elapsed.as_secs_f64(),
                    self.states_per_second()
                ),
            ])
            .row(["checked".to_string(), self.checked.join("; ")]);
        for n in &self.not_checked {
            t.note(format!("not checked: {n}"));
        }
        if self.stopped_by_timer_budget > 0 {
            t.note(format!(
                "{} states had only timers left that the timer budget stopped; properties of a settled run were not checked there",
                self.stopped_by_timer_budget
            ));
        }
        if let Verdict::Unknown { .. } = self.verdict {
            t.note("unknown is not passed: raise the bound, or shrink the scope");
        }
        let mut tables = vec![t];
        if let Verdict::Failed(c) = &self.verdict {
            let mut head = Table::new(
                format!("shortest counterexample: {} steps", c.steps.len()),
                ["step", "what happens"],
            );
            for (i, s) in c.steps.iter().enumerate() {
                head.row([(i + 1).to_string(), s.to_string()]);
            }
            head.note(format!("why: {}", c.message));
            head.note("replay it: checker.replay_steps(&scope, &counterexample.steps)");
            tables.push(head);
            tables.extend(c.history.tables());
        }
        tables
    }

    fn to_html(&self) -> String {
        let mut h: String = self.tables().iter().map(Table::to_html).collect();
        if let Some(d) = self.verdict.failure().and_then(|c| c.diagram.as_ref()) {
            h += &d.to_html();
        }
        h
    }
}

show_tables!(ExploreReport);
