//! What-if runs: replay a cluster's verbs twice from the start, once as they ran and once with
//! one thing changed at one point, and compare the two runs.
//!
//! Both forks start from the same configuration and seed and issue the same verbs, so
//! everything the change does not touch is drawn from the same random numbers: the first
//! difference between the two traces is the change or its first consequence. A fork with
//! [`Change::Nothing`] gives the original run back, byte for byte (a test checks it).
//!
//! The point is found by a first replay that counts the *boundaries* (each verb, and each
//! step of the clock) and remembers the one the point falls on; the second replay applies the
//! change at that boundary. "Before event n" is the last boundary before event n was recorded.

use std::fmt;

use crate::chart::{Chart, Plot, SpaceTime};
use crate::config::Latency;
use crate::error::{Error, Result};
use crate::node::NodeRef;
use crate::sim::cluster::Cluster;
pub use crate::sim::fork::Fork;
use crate::sim::fork::{Armed, ForkEffect as Effect, Mode};
use crate::stats::RunStats;
use crate::table::{Table, Tabular};
use crate::time::Time;
use crate::trace::{DropCause, MsgId, Recorded};
use crate::verbs::{Call, Verbs};

/// The one thing a fork changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Nothing: the fork must give the same run.
    Nothing,
    /// This node crashes at the point.
    Crash(NodeRef),
    /// This node recovers at the point.
    Recover(NodeRef),
    /// Every message sent from the point on is lost with this probability.
    Loss(f64),
    /// Every message sent from the point on takes this long.
    Latency(Latency),
    /// This message is lost (every copy that arrives after the point).
    Drop(MsgId),
    /// This message arrives even though the network lost it (partitions and down targets
    /// still stop it).
    Deliver(MsgId),
}

impl Change {
    /// `node` crashes at the point: `Change::crash(2)` or `Change::crash("db-eu")`.
    pub fn crash(node: impl Into<NodeRef>) -> Change {
        Change::Crash(node.into())
    }
    /// `node` recovers at the point.
    pub fn recover(node: impl Into<NodeRef>) -> Change {
        Change::Recover(node.into())
    }
    /// Message number `n` (the "message" column of [`crate::causality::table`]) is lost.
    pub fn drop_message(n: u64) -> Change {
        Change::Drop(MsgId(n))
    }
    /// Message number `n` arrives even though the network lost it.
    pub fn deliver_message(n: u64) -> Change {
        Change::Deliver(MsgId(n))
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Nothing => f.write_str("nothing"),
            Change::Crash(n) => write!(f, "{n} crashes"),
            Change::Recover(n) => write!(f, "{n} recovers"),
            Change::Loss(p) => write!(f, "loss becomes {p}"),
            Change::Latency(l) => write!(f, "latency becomes {l}"),
            Change::Drop(m) => write!(f, "message {} is lost", m.0),
            Change::Deliver(m) => write!(f, "message {} arrives", m.0),
        }
    }
}

/// Two runs of the same verbs, as they ran and with one change, side by side.
#[derive(Debug, Clone)]
pub struct WhatIf {
    /// The run as it happened (replayed).
    pub before: Cluster,
    /// The run with the change.
    pub after: Cluster,
    /// Where the change was made.
    pub fork: Fork,
    /// What changed.
    pub change: Change,
    /// The change in words, with node names: "Node-2 crashes".
    pub described: String,
    /// When the change took effect (None: the runs ended before the point).
    pub applied_at: Option<Time>,
    /// The first event that differs: its number and time.
    pub divergence: Option<(usize, Time)>,
    /// What each verb returned, in one line, in each run.
    outcomes: [Vec<String>; 2],
}

impl Cluster {
    /// Replays this cluster's verbs twice, as they ran and with `change` at `fork`, and
    /// compares the runs (see [`crate::whatif`]). Needs the trace on.
    ///
    /// ```
    /// # use distlab::prelude::*;
    /// # use distlab::whatif::{Change, Fork};
    /// let mut c = Cluster::new(Config::builder().loss(0.0).build()?);
    /// c.replicate("k", "v1")?;
    /// let w = c.what_if(Fork::at_ms(0.0)?, Change::crash(2))?;
    /// assert_eq!(w.after.get(2, "k")?, None);
    /// assert!(w.divergence.is_some());
    /// # Ok::<(), distlab::Error>(())
    /// ```
    pub fn what_if(&self, fork: Fork, change: Change) -> Result<WhatIf> {
        if !self.config().trace {
            return Err(Error::argument(
                "trace",
                false,
                "a cluster built with trace(true): forks replay its verbs",
            ));
        }
        let described = match &change {
            Change::Crash(n) => format!("{} crashes", self.name(self.id_of(n.clone())?)),
            Change::Recover(n) => format!("{} recovers", self.name(self.id_of(n.clone())?)),
            other => other.to_string(),
        };
        let (effect, message) = match &change {
            Change::Nothing => (Effect::Nothing, None),
            Change::Crash(n) => (Effect::Crash(self.id_of(n.clone())?), None),
            Change::Recover(n) => (Effect::Recover(self.id_of(n.clone())?), None),
            // Checked as a configuration is: the same error for a loss out of range.
            Change::Loss(p) => {
                crate::config::Config::builder().loss(*p).build()?;
                (Effect::Loss(*p), None)
            }
            Change::Latency(l) => {
                crate::config::Config::builder().latency(*l).build()?;
                (Effect::Latency(*l), None)
            }
            Change::Drop(m) | Change::Deliver(m) => {
                let sent = self
                    .trace()
                    .iter()
                    .any(|e| matches!(e.kind, crate::trace::EventKind::Sent { msg, .. } if msg == *m));
                if !sent {
                    return Err(Error::argument("message", m.0, "the number of a message sent in this run"));
                }
                (Effect::Nothing, Some((*m, matches!(change, Change::Drop(_)))))
            }
        };
        let (before, outcome_before, found) = self.replay(Mode::Probe { point: fork, found: None })?;
        if before.cluster.trace().to_jsonl() != self.trace().to_jsonl() {
            return Err(Error::argument(
                "cluster",
                "its replay",
                "a run whose replay matches it (please report this)",
            ));
        }
        let found = found.ok_or_else(|| {
            Error::argument(
                "fork",
                fork,
                format!(
                    "a point within the run: it ended at {} after {} events",
                    self.now(),
                    self.trace().len()
                ),
            )
        })?;
        let (after, outcome_after, _) = self.replay(Mode::Apply {
            at: found,
            not_before: match fork {
                Fork::At(t) => Some(t),
                Fork::BeforeEvent(_) => None,
            },
            effect,
            message,
            applied: false,
        })?;
        let divergence = first_difference(&before, &after);
        let applied_at = after.applied_at;
        Ok(WhatIf {
            before: before.cluster,
            after: after.cluster,
            fork,
            change,
            described,
            applied_at,
            divergence,
            outcomes: [outcome_before, outcome_after],
        })
    }

    fn replay(&self, mode: Mode) -> Result<(Replayed, Vec<String>, Option<u64>)> {
        let mut c = Cluster::new(self.config().clone());
        c.sim.fork = Some(Box::new(Armed::new(mode)));
        let outcomes = self
            .calls
            .iter()
            .map(|call| c.apply(call.clone()).map_or_else(|e| format!("error: {e}"), |o| o.summary()))
            .collect();
        let armed = c.sim.fork.take();
        let applied_at = armed.as_ref().and_then(|f| f.applied_at);
        let found = armed.and_then(|f| f.found());
        Ok((Replayed { cluster: c, applied_at }, outcomes, found))
    }
}

struct Replayed {
    cluster: Cluster,
    applied_at: Option<Time>,
}

fn first_difference(a: &Replayed, b: &Replayed) -> Option<(usize, Time)> {
    let (ta, tb) = (a.cluster.trace(), b.cluster.trace());
    let k = (0..ta.len().max(tb.len())).find(|&i| match (ta.get(i), tb.get(i)) {
        (Some(x), Some(y)) => serde_json::to_string(x).ok() != serde_json::to_string(y).ok(),
        _ => true,
    })?;
    let t = match (ta.get(k), tb.get(k)) {
        (Some(x), Some(y)) => x.at.min(y.at),
        (Some(x), None) | (None, Some(x)) => x.at,
        (None, None) => Time(0),
    };
    Some((k, t))
}

impl WhatIf {
    /// The two space-time diagrams on one time axis, the first difference marked.
    pub fn chart(&self) -> Chart {
        let limit = crate::chart::MAX_DRAWN_MESSAGES;
        let mut top = SpaceTime::from_run(&self.before, limit);
        let mut bottom = SpaceTime::from_run(&self.after, limit);
        let horizon = top.horizon.max(bottom.horizon);
        let mut marks = Vec::new();
        if let Some(t) = self.applied_at {
            marks.push((t.as_ms(), "change".to_string()));
        }
        if let Some((k, t)) = self.divergence {
            marks.push((t.as_ms(), format!("first difference: event #{k}")));
        }
        for s in [&mut top, &mut bottom] {
            s.horizon = horizon;
            s.marks = marks.clone();
        }
        let lanes = top.lanes.len() as u32;
        let height = (2 * (110 + 46 * lanes)).clamp(crate::chart::SIZE_RANGE.0, 2000);
        Chart::new(
            format!("as it ran | with the change: {}", self.described),
            (960, height),
            Plot::Pair(Box::new([top, bottom])),
        )
    }

    /// What differs between the runs: every verb whose outcome changed, the statistics, and
    /// each written key's consistency verdict.
    pub fn differences(&self) -> Table {
        let mut t = Table::new(
            "what differs",
            ["", "as it ran", &format!("with the change ({})", self.described), "same?"],
        );
        let mut row = |what: String, a: String, b: String| {
            let same = if a == b { "yes" } else { "NO" };
            t.row([what, a, b, same.to_string()]);
        };
        // The run as it ran replays every verb again, so its log names them all.
        for (k, verb) in self.before.calls().iter().map(|c| c.verb()).enumerate() {
            let (a, b) = (&self.outcomes[0][k], &self.outcomes[1][k]);
            if a != b {
                row(format!("verb {} ({verb})", k + 1), a.clone(), b.clone());
            }
        }
        let (sa, sb) = (self.before.stats(), self.after.stats());
        let figures = |s: &RunStats| {
            let mut v = vec![
                ("messages sent".to_string(), s.total.sent.to_string()),
                ("delivered".to_string(), s.total.delivered.to_string()),
            ];
            v.extend(DropCause::ALL.iter().map(|c| (format!("dropped: {c}"), s.total.drops(*c).to_string())));
            v.push(("virtual time at the end".to_string(), s.now.to_string()));
            v
        };
        for ((what, a), (_, b)) in figures(&sa).into_iter().zip(figures(&sb)) {
            row(what, a, b);
        }
        let mut keys: Vec<String> = self
            .before
            .calls()
            .iter()
            .filter_map(|c| match c {
                Call::Replicate { key, .. } | Call::ReplicateFrom { key, .. } => Some(key.clone()),
                _ => None,
            })
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let (a, b) = (self.before.check_consistency(&key), self.after.check_consistency(&key));
            row(format!("check of {key}"), a.verdict_text(), b.verdict_text());
        }
        let up = |c: &Cluster| {
            (0..c.len())
                .filter(|&i| !c.is_up(i).unwrap_or(false))
                .map(|i| c.node_name(i))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let up = |c: &Cluster| Some(up(c)).filter(|s| !s.is_empty()).unwrap_or_else(|| "none".to_string());
        row("nodes down at the end".to_string(), up(&self.before), up(&self.after));
        t
    }
}

impl Tabular for WhatIf {
    fn tables(&self) -> Vec<Table> {
        let mut t = self.differences();
        let point = match self.fork {
            Fork::At(_) => String::new(),
            Fork::BeforeEvent(n) => format!(" (before event #{n})"),
        };
        t.note(match self.applied_at {
            Some(at) => format!("change: {}, made at {at}{point}", self.described),
            None => format!("change: {}: never made, both runs ended before the point", self.described),
        });
        t.note(match self.divergence {
            Some((k, at)) => format!("the runs part at event #{k}, at {at}"),
            None => "the two runs are identical, event for event".to_string(),
        });
        vec![t]
    }
}

impl fmt::Display for WhatIf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f)
    }
}

impl WhatIf {
    /// Shows the two diagrams and the table of differences under a notebook cell, as one
    /// HTML output.
    pub fn evcxr_display(&self) {
        crate::table::emit_html(&format!("{}{}", self.chart().to_html(), Tabular::to_html(self)));
    }
}
