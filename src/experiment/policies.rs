//! When may a coordinator tell the client "done"? Three write policies, measured.

use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::report::SenderView;
use crate::sim::cluster::Cluster;
use crate::table::{show_tables, Table, Tabular};
use crate::trace::{EventKind, Time};
use crate::verbs::Verbs;

/// Most writes per situation in [`write_policies`] (the run keeps its trace).
pub const MAX_WRITES: u64 = 10_000;

/// When the coordinator of a write tells the client "done".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WritePolicy {
    /// After the first replica's acknowledgement.
    FirstAck,
    /// When a majority of the nodes hold the write: its own copy plus `nodes / 2` acks.
    Majority,
    /// When every other node has acknowledged. With one of them down, never.
    EveryReplica,
}

impl WritePolicy {
    /// The three policies, fastest first.
    pub const ALL: [WritePolicy; 3] =
        [WritePolicy::FirstAck, WritePolicy::Majority, WritePolicy::EveryReplica];

    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            WritePolicy::FirstAck => "first ack",
            WritePolicy::Majority => "majority",
            WritePolicy::EveryReplica => "every replica",
        }
    }

    /// Acknowledgements the coordinator needs in a cluster of `nodes` (itself included):
    /// 1, `nodes / 2`, or `nodes - 1`.
    pub fn acks_needed(self, nodes: usize) -> usize {
        match self {
            WritePolicy::FirstAck => 1.min(nodes.saturating_sub(1)),
            WritePolicy::Majority => nodes / 2,
            WritePolicy::EveryReplica => nodes.saturating_sub(1),
        }
    }
}

/// One policy in one situation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyRow {
    /// The policy.
    pub policy: WritePolicy,
    /// The node that was down during the writes, if any.
    pub down: Option<String>,
    /// Acknowledgements the policy waits for.
    pub acks_needed: usize,
    /// Writes made.
    pub writes: u64,
    /// Writes the coordinator could answer "done".
    pub answered: u64,
    /// Mean time from the start of a write to "done", over the answered writes (ms).
    pub mean_answer_ms: Option<f64>,
    /// Mean share of the live nodes that did not yet hold the new value when the client was
    /// told "done": the chance that a read of a random live node then returns the old value.
    pub stale_share: Option<f64>,
    /// For writes that could not be answered: mean number of nodes that stored the write
    /// anyway (the coordinator's copy included) by the time the coordinator gave up.
    pub stored_when_unanswered: Option<f64>,
}

/// The three policies with every node up and with one node down.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WritePolicies {
    /// Nodes in the cluster; Node-0 coordinates every write.
    pub nodes: usize,
    /// Configured loss.
    pub loss: f64,
    /// The coordinator's timeout (ms).
    pub timeout_ms: f64,
    /// The seed.
    pub seed: u64,
    /// Three rows with every node up, then three with the last node down.
    pub rows: Vec<PolicyRow>,
}

/// What one write looked like to each policy.
struct Outcome {
    /// Time to "done" per policy, None when it could not be answered.
    answer: [Option<f64>; 3],
    stale: [Option<f64>; 3],
    stored_by_end: usize,
}

/// Makes `writes` writes through Node-0 with every node up, then `writes` more on a fresh
/// cluster with the last node down, and works out for each write when each [`WritePolicy`]
/// could have told the client "done", from the acknowledgement times (`SenderView::Replied`).
/// The stale share compares those moments with the trace's `Stored` events: a live node
/// that stored the new value later than "done" still held the old one.
///
/// A policy that lacks its acks when the timeout comes cannot answer: the coordinator must
/// report a failure (or keep the client waiting) although the write is already stored on
/// every node it reached. "Every replica" with a node down is always in that case.
///
/// Needs at least 3 nodes (so that one can be down while another acknowledges) and
/// `writes` from 1 to [`MAX_WRITES`].
///
/// ```
/// use distlab::experiment::{write_policies, WritePolicy};
/// use distlab::prelude::*;
/// let config = Config::builder().nodes(5).loss(0.0).seed(3).build()?;
/// let w = write_policies(&config, 20)?;
/// let all = w.row(WritePolicy::EveryReplica, false).unwrap();
/// assert_eq!((all.answered, all.stale_share), (20, Some(0.0)));
/// let down = w.row(WritePolicy::EveryReplica, true).unwrap();
/// assert_eq!(down.answered, 0);                          // it can never say "done"
/// assert_eq!(down.stored_when_unanswered, Some(4.0));    // yet 4 of 5 nodes hold the write
/// # Ok::<(), distlab::Error>(())
/// ```
pub fn write_policies(config: &Config, writes: u64) -> Result<WritePolicies> {
    if !(1..=MAX_WRITES).contains(&writes) {
        return Err(Error::argument("writes", writes, format!("1 to {MAX_WRITES}")));
    }
    let nodes = config.nodes();
    if !(3..=100).contains(&nodes) {
        return Err(Error::argument("nodes", nodes, "3 to 100 for the write policies"));
    }
    let mut rows = Vec::new();
    for one_down in [false, true] {
        let mut c = Cluster::new(config.to_builder().trace(true).build()?);
        let down = if one_down {
            c.crash(nodes - 1)?;
            Some(c.name(crate::node::NodeId(nodes as u32 - 1)))
        } else {
            None
        };
        let outcomes: Vec<Outcome> =
            (0..writes).map(|i| one_write(&mut c, &i.to_string())).collect::<Result<_>>()?;
        for (p, policy) in WritePolicy::ALL.into_iter().enumerate() {
            let answered: Vec<&Outcome> = outcomes.iter().filter(|o| o.answer[p].is_some()).collect();
            let unanswered: Vec<&Outcome> = outcomes.iter().filter(|o| o.answer[p].is_none()).collect();
            let mean =
                |v: &mut dyn Iterator<Item = f64>, n: usize| (n > 0).then(|| v.sum::<f64>() / n as f64);
            rows.push(PolicyRow {
                policy,
                down: down.clone(),
                acks_needed: policy.acks_needed(nodes),
                writes,
                answered: answered.len() as u64,
                mean_answer_ms: mean(&mut answered.iter().filter_map(|o| o.answer[p]), answered.len()),
                stale_share: mean(&mut answered.iter().filter_map(|o| o.stale[p]), answered.len()),
                stored_when_unanswered: mean(
                    &mut unanswered.iter().map(|o| o.stored_by_end as f64),
                    unanswered.len(),
                ),
            });
        }
    }
    Ok(WritePolicies {
        nodes,
        loss: config.loss(),
        timeout_ms: config.timeout_ms(),
        seed: config.seed(),
        rows,
    })
}

/// One write through Node-0, seen by every policy.
fn one_write(c: &mut Cluster, value: &str) -> Result<Outcome> {
    let mark = c.trace().len();
    let r = c.replicate_from(0, "x", value)?;
    let version = r.version.expect("a replicate reports its version");
    // When each node first held this version (or a newer one).
    let mut stored: Vec<Option<Time>> = vec![None; c.len()];
    for e in c.trace().since(mark) {
        if let EventKind::Stored { node, record } = &e.kind {
            if &*record.key == "x" && record.version >= version && stored[node.index()].is_none() {
                stored[node.index()] = Some(e.at);
            }
        }
    }
    let mut acks: Vec<Time> = r
        .targets
        .iter()
        .filter_map(|t| match t.seen {
            SenderView::Replied { rtt } => Some(Time(r.started.0 + rtt.0)),
            _ => None,
        })
        .collect();
    acks.sort();
    let live: Vec<usize> =
        std::iter::once(0).chain(r.targets.iter().filter(|t| t.up_at_start).map(|t| t.id.index())).collect();
    let nodes = c.len();
    let mut answer = [None; 3];
    let mut stale = [None; 3];
    for (p, policy) in WritePolicy::ALL.into_iter().enumerate() {
        let need = policy.acks_needed(nodes);
        let done = if need == 0 { Some(r.started) } else { acks.get(need - 1).copied() };
        if let Some(done) = done {
            answer[p] = Some(done.as_ms() - r.started.as_ms());
            let behind = live.iter().filter(|&&n| stored[n].is_none_or(|at| at > done)).count();
            stale[p] = Some(behind as f64 / live.len() as f64);
        }
    }
    let stored_by_end = stored.iter().filter(|s| s.is_some_and(|at| at <= r.finished)).count();
    Ok(Outcome { answer, stale, stored_by_end })
}

impl WritePolicies {
    /// The row of one policy, with every node up (`one_down` false) or with one node down.
    pub fn row(&self, policy: WritePolicy, one_down: bool) -> Option<&PolicyRow> {
        self.rows.iter().find(|r| r.policy == policy && r.down.is_some() == one_down)
    }
}

impl Tabular for WritePolicies {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            format!(
                "when to tell the client \"done\": writes through Node-0 to {} nodes (loss {}, timeout {} ms, seed {})",
                self.nodes, self.loss, self.timeout_ms, self.seed
            ),
            [
                "situation",
                "done after",
                "answered",
                "mean time to done",
                "stale nodes at done",
                "not answered, yet stored on",
            ],
        );
        for r in &self.rows {
            t.row([
                r.down.as_ref().map_or_else(|| "every node up".to_string(), |d| format!("{d} down")),
                format!("{} ({} of {} acks)", r.policy.label(), r.acks_needed, self.nodes - 1),
                format!("{} of {}", r.answered, r.writes),
                r.mean_answer_ms.map_or_else(|| "never".to_string(), |ms| format!("{ms:.1} ms")),
                r.stale_share.map_or_else(|| "-".to_string(), |s| format!("{:.0} %", 100.0 * s)),
                r.stored_when_unanswered
                    .map_or_else(|| "-".to_string(), |n| format!("{n:.1} of {} nodes", self.nodes)),
            ]);
        }
        t.note(
            "stale nodes at done: the share of live nodes that still held the old value when the client was told \
             \"done\", so the chance that a read from a random live node right then is stale.",
        );
        t.note(
            "not answered: the acks the policy waits for never came, so the coordinator can only report a failure \
             (or keep the client waiting) for a write that is already stored on the nodes it reached.",
        );
        vec![t]
    }
}

show_tables!(WritePolicies);
