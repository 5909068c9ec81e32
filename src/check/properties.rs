//! What must hold after a run: the built-in properties, and the learner's own.

use std::collections::BTreeSet;
use std::fmt;

use crate::node::NodeId;
use crate::protocol::Protocol;
use crate::stats::RunStats;
use crate::time::Time;

use super::linearizable;
use super::{ClientOp, History};

/// [`Property::NoDuplicates`] on what each node holds (one list per node): the random
/// checker and the exhaustive search both ask this.
pub(crate) fn no_duplicates(held: &[Vec<u64>]) -> Result<(), String> {
    for (i, values) in held.iter().enumerate() {
        let mut seen = BTreeSet::new();
        if let Some(v) = values.iter().find(|v| !seen.insert(**v)) {
            return Err(format!("Node-{i} holds {v} twice"));
        }
    }
    Ok(())
}

/// [`Property::Linearizable`] on a history's register calls: the random checker and the
/// exhaustive search both ask this.
pub(crate) fn linearizable(history: &History) -> Result<(), String> {
    match linearizable::check(&history.register_calls()) {
        Ok(verdict) => verdict.into_result(),
        // The workload writes each value once; a protocol cannot break this, but say so
        // rather than call it a violation if it ever happens.
        Err(invalid) => Err(format!("the history cannot be checked: {invalid}")),
    }
}

/// The name of [`Property::Linearizable`] in reports.
pub(crate) const LINEARIZABLE: &str = "linearizable register";

/// How one run ended: every node's state, which are up, the calls and the statistics.
#[derive(Debug, Clone)]
pub struct Outcome<P: Protocol> {
    /// Each node's final state.
    pub states: Vec<P::State>,
    /// Whether each node is up at the end.
    pub up: Vec<bool>,
    /// The calls and their answers.
    pub history: History,
    /// The run's message counts.
    pub stats: RunStats,
    /// The crashes of the run's schedule: when, and which node.
    pub crashes: Vec<(Time, NodeId)>,
}

/// A property of a run. The built-in ones read the history and what each node holds
/// ([`Protocol::held`]); [`Property::Custom`] is a plain function of the outcome (a `fn`, not
/// a closure, so it can be defined in one notebook cell and used in another).
pub enum Property<P: Protocol> {
    /// Every call made at a node that is up at the end, and did not crash after the call, was
    /// answered (a crash may take a call in progress with it).
    Answered,
    /// Every answered send: its value is held by its receiver, when the receiver is up at the
    /// end.
    AckedDelivered,
    /// Every answered send was answered with its own value: the call waited for the value to
    /// come back from its receiver (an echo or an acknowledgement that carries it).
    Echoed,
    /// No node holds a value twice (a retried message applied once).
    NoDuplicates,
    /// Every broadcast value that was answered, or that some live node holds, is held by
    /// every live node.
    EveryLiveNodeHolds,
    /// The last answered write, or a write that may be ordered after it (one that had not
    /// returned when it was called), is held by a live node: an acknowledged write is not
    /// lost while a majority stays up.
    AckedWritesSurvive,
    /// The register's writes and reads are linearizable (a Wing-Gong search): a read that
    /// starts after a write was answered sees it or a newer one.
    Linearizable,
    /// Messages sent per call, at most this many.
    MessagesPerCall(f64),
    /// The learner's own: a name and a function that says why a run is wrong.
    Custom(&'static str, fn(&Outcome<P>) -> Result<(), String>),
}

impl<P: Protocol> Clone for Property<P> {
    fn clone(&self) -> Self {
        match self {
            Property::Answered => Property::Answered,
            Property::AckedDelivered => Property::AckedDelivered,
            Property::NoDuplicates => Property::NoDuplicates,
            Property::Echoed => Property::Echoed,
            Property::EveryLiveNodeHolds => Property::EveryLiveNodeHolds,
            Property::AckedWritesSurvive => Property::AckedWritesSurvive,
            Property::Linearizable => Property::Linearizable,
            Property::MessagesPerCall(b) => Property::MessagesPerCall(*b),
            Property::Custom(n, f) => Property::Custom(n, *f),
        }
    }
}

impl<P: Protocol<Output = u64>> fmt::Debug for Property<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl<P: Protocol<Output = u64>> Property<P> {
    /// Its name in reports.
    pub fn name(&self) -> String {
        match self {
            Property::Answered => "every call answered".into(),
            Property::AckedDelivered => "every acknowledged send delivered".into(),
            Property::NoDuplicates => "no value applied twice".into(),
            Property::Echoed => "every answer is its value, come back".into(),
            Property::EveryLiveNodeHolds => "every live node holds every broadcast".into(),
            Property::AckedWritesSurvive => "acknowledged writes survive".into(),
            Property::Linearizable => LINEARIZABLE.into(),
            Property::MessagesPerCall(b) => format!("at most {b} messages per call"),
            Property::Custom(name, _) => name.to_string(),
        }
    }

    /// Ok, or why the run violates it.
    pub fn check(&self, protocol: &P, o: &Outcome<P>) -> Result<(), String> {
        let held: Vec<Vec<u64>> = o.states.iter().map(|s| protocol.held(s)).collect();
        let live = |i: usize| o.up.get(i).copied().unwrap_or(false);
        let calls = &o.history.calls;
        match self {
            Property::Answered => match calls.iter().find(|c| {
                let crashed = o.crashes.iter().any(|&(at, n)| n == c.node && at >= c.invoked);
                c.returned.is_none() && live(c.node.index()) && !crashed
            }) {
                Some(c) => Err(format!("{} at Node-{} (up at the end) was never answered", c.op, c.node)),
                None => Ok(()),
            },
            Property::AckedDelivered => {
                for c in calls.iter().filter(|c| c.returned.is_some()) {
                    if let ClientOp::Send { to, value } = c.op {
                        if live(to.index()) && !held[to.index()].contains(&value) {
                            return Err(format!(
                                "send {value} to Node-{to} was acknowledged but Node-{to} does not hold it"
                            ));
                        }
                    }
                }
                Ok(())
            }
            Property::NoDuplicates => no_duplicates(&held),
            Property::Echoed => {
                for c in calls {
                    if let (ClientOp::Send { to, value }, Some((_, answer))) = (c.op, c.returned) {
                        if answer != Some(value) {
                            let got = answer.map_or("nothing".to_string(), |a| a.to_string());
                            return Err(format!(
                                "send {value} to Node-{to} was answered with {got}, not with {value} come back"
                            ));
                        }
                    }
                }
                Ok(())
            }
            Property::EveryLiveNodeHolds => {
                let mut values: BTreeSet<u64> = BTreeSet::new();
                for c in calls {
                    if let ClientOp::Broadcast { value } = c.op {
                        let somewhere = (0..held.len()).any(|i| live(i) && held[i].contains(&value));
                        if c.returned.is_some() || somewhere {
                            values.insert(value);
                        }
                    }
                }
                for v in values {
                    if let Some(i) = (0..held.len()).find(|&i| live(i) && !held[i].contains(&v)) {
                        return Err(format!("broadcast {v} never reached Node-{i}, which is up"));
                    }
                }
                Ok(())
            }
            Property::AckedWritesSurvive => {
                let last = calls
                    .iter()
                    .filter_map(|c| match (c.op, c.returned) {
                        (ClientOp::Write { value }, Some((at, _))) => Some((at, value, c.invoked)),
                        _ => None,
                    })
                    .max();
                let Some((_, value, invoked)) = last else { return Ok(()) };
                // Writes that may be ordered after it: those that had not returned when it
                // was called (concurrent or later), and those that never returned.
                let newer: BTreeSet<u64> = calls
                    .iter()
                    .filter_map(|c| match (c.op, c.returned) {
                        (ClientOp::Write { value: v }, None) => Some(v),
                        (ClientOp::Write { value: v }, Some((at, _))) if at >= invoked => Some(v),
                        _ => None,
                    })
                    .chain(std::iter::once(value))
                    .collect();
                if (0..held.len()).any(|i| live(i) && held[i].iter().any(|v| newer.contains(v))) {
                    Ok(())
                } else {
                    Err(format!("write {value} was acknowledged, but no live node holds it or a later write"))
                }
            }
            Property::Linearizable => linearizable(&o.history),
            Property::MessagesPerCall(budget) => {
                let per = o.stats.total.sent as f64 / calls.len().max(1) as f64;
                if per <= *budget {
                    Ok(())
                } else {
                    Err(format!("{per:.1} messages per call, over the budget of {budget}"))
                }
            }
            Property::Custom(_, f) => f(o),
        }
    }
}
