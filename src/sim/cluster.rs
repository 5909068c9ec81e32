//! [`Cluster`]: the simulated runtime with the built-in key-value protocol and the lesson's
//! verbs. A concrete type, so a notebook cell that calls a verb compiles no generic code.
//!
//! The verbs both runtimes have are the [`Verbs`] trait's, declared once in
//! [`crate::verbs`]; here is how the simulation carries out each [`Call`] (its
//! [`Verbs::apply`]), and the verbs only virtual time has: `crash_at`, `recover_at`, `step`,
//! `run`, `run_until`.

use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::node::{NodeId, NodeRef};
use crate::protocol::kv::{Body, KvStore, Request};
use crate::report::{ConsistencyReport, OpReport};
use crate::sim::Sim;
use crate::stats::{RunStats, SystemStatus};
use crate::time::Time;
use crate::trace::{Event, MsgId, Recorded, Trace};
use crate::verbs::{Call, Outcome, Verbs};

/// A simulated distributed system. Build one from a [`Config`].
///
/// ```
/// use distlab::prelude::*;
///
/// let mut cluster = Cluster::new(Config::builder().nodes(3).loss(0.0).build()?);
/// let report = cluster.broadcast(0, "System update available")?;
/// assert_eq!(report.acked(), ["Node-1", "Node-2"]);
/// # Ok::<(), distlab::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Cluster {
    pub(crate) sim: Sim<KvStore>,
    /// A storm posts the same text over and over: one shared body instead of a copy each.
    last_post: Option<Arc<Body>>,
    last_text: Arc<str>,
    /// The verbs issued so far, kept while the trace is on (a run file saves them).
    pub(crate) calls: Vec<Call>,
}

impl Cluster {
    /// A cluster with every node up and every store empty, at virtual time 0.
    pub fn new(config: Config) -> Self {
        Cluster {
            sim: Sim::new(KvStore, config),
            last_post: None,
            last_text: Arc::from(""),
            calls: Vec::new(),
        }
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &Config {
        self.sim.config()
    }
    /// Current virtual time.
    pub fn now(&self) -> Time {
        self.sim.now()
    }
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.sim.nodes.len()
    }
    /// Always false: a cluster has at least one node.
    pub fn is_empty(&self) -> bool {
        self.sim.nodes.is_empty()
    }
    /// Name of a node.
    pub fn name(&self, id: NodeId) -> String {
        self.config().name(id.index())
    }
    /// Every event so far (empty when the trace is off).
    pub fn trace(&self) -> &Trace {
        self.sim.trace()
    }
    /// Messages (copies) still travelling.
    pub fn in_flight(&self) -> u64 {
        self.sim.in_flight()
    }
    /// Events waiting in the queue (messages, timeouts, scheduled crashes).
    pub fn pending(&self) -> usize {
        self.sim.pending()
    }
    /// The verbs issued so far, in order (kept only while the trace is on).
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// The id of a node given by index or name; an error for an unknown one.
    pub fn id_of(&self, node: impl Into<NodeRef>) -> Result<NodeId> {
        self.config().resolve(node)
    }
    /// Whether a node is up.
    pub fn is_up(&self, node: impl Into<NodeRef>) -> Result<bool> {
        Ok(self.sim.up(self.id_of(node)?))
    }
    /// A node's value for `key`, read directly (the omniscient view, whether up or down).
    pub fn get(&self, node: impl Into<NodeRef>, key: &str) -> Result<Option<String>> {
        let id = self.id_of(node)?;
        Ok(self.sim.nodes[id.index()].state.get(key).map(|r| r.value.to_string()))
    }

    /// Reads `key` on every node directly (the omniscient view) and gives a verdict.
    pub fn check_consistency(&self, key: &str) -> ConsistencyReport {
        ConsistencyReport::from_replicas(
            key,
            self.sim
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (self.config().name(i), !n.down, n.state.get(key))),
        )
    }

    /// Schedules a crash at virtual time `at_ms` (not before now), for example in the middle
    /// of a replicate.
    pub fn crash_at(&mut self, node: impl Into<NodeRef>, at_ms: f64) -> Result<()> {
        let node = self.id_of(node)?.0;
        self.apply(Call::CrashAt { node, at_ms }).map(drop)
    }

    /// Schedules a recovery at virtual time `at_ms` (not before now).
    pub fn recover_at(&mut self, node: impl Into<NodeRef>, at_ms: f64) -> Result<()> {
        let node = self.id_of(node)?.0;
        self.apply(Call::RecoverAt { node, at_ms }).map(drop)
    }

    /// Per-node state, counters and keys held (the lesson's system status).
    pub fn status(&self) -> SystemStatus {
        let mut status = self.sim.status();
        for (row, node) in status.nodes.iter_mut().zip(&self.sim.nodes) {
            row.keys = Some(node.state.store.len());
        }
        status
    }

    /// Statistics of the run so far.
    pub fn stats(&self) -> RunStats {
        self.sim.stats()
    }

    /// (lower bound in ms, count) of the latency histogram of delivered messages.
    pub fn latency_buckets(&self) -> Vec<(f64, u64)> {
        self.sim.latency_buckets()
    }

    /// The narration of every recorded event, in the lesson's style.
    pub fn narration(&self) -> Vec<String> {
        self.sim.narration()
    }

    /// One narration line for an event, or None for events not worth a line (sends).
    pub fn narrate(&self, e: &Event) -> Option<String> {
        crate::narration::narrate(e, self.config())
    }

    // ----- the clock -----

    /// Processes the next event and returns it; `None` when nothing is scheduled.
    pub fn step(&mut self) -> Option<Event> {
        self.apply(Call::Step).and_then(Outcome::into_event).unwrap_or_default()
    }

    /// Runs until nothing is scheduled; returns the number of events processed.
    pub fn run(&mut self) -> usize {
        self.apply(Call::Run).and_then(Outcome::into_count).unwrap_or_default()
    }

    /// Runs every event up to virtual time `t_ms`, then sets the clock to `t_ms` (if later).
    pub fn run_until(&mut self, t_ms: f64) -> Result<usize> {
        // With `post`, the storm's hot verb (once per message): the same steps as
        // `apply(Call::RunUntil { .. })` (the fork point, the run, the record when kept), without
        // building, checking and dropping a `Call` and an `Outcome` each time (17 % more
        // instructions in the storm through `apply`). tests/sim.rs checks both give one run.
        self.boundary();
        let ran = self.sim.run_until(t_ms)?;
        self.keep(|_| Call::RunUntil { t_ms });
        Ok(ran)
    }

    fn operate(&mut self, origin: NodeId, request: Request) -> Result<OpReport> {
        let op = self.sim.start(request.verb(), origin, &request, request.refused_when_down())?;
        self.sim.book.describe(op, request.what());
        Ok(self.sim.finish(op))
    }

    /// Records a call that ran, when the trace is on (run files and what-if forks replay the
    /// calls); the call is built only then, so a storm with the trace off builds none.
    #[inline]
    fn keep(&mut self, call: impl FnOnce(&Self) -> Call) {
        if self.sim.config().trace {
            let call = call(self);
            self.calls.push(call);
        }
    }

    /// A point between verbs, where a what-if fork may act. One branch in an ordinary run.
    #[inline]
    fn boundary(&mut self) {
        if self.sim.fork.is_some() {
            self.sim.boundary(Some(self.sim.now()));
        }
    }

    /// The body of a post: a storm posts the same text over and over, so the last one is
    /// shared instead of copied.
    #[inline(always)]
    fn body(&mut self, text: &str) -> Arc<Body> {
        match &self.last_post {
            Some(b) if matches!(&**b, Body::Text { text: t } if t == text) => b.clone(),
            _ => {
                let b = Arc::new(Body::Text { text: text.to_string() });
                self.last_post = Some(b.clone());
                self.last_text = Arc::from(text);
                b
            }
        }
    }
}

/// The lesson's verbs on the simulated network (see [`crate::verbs`]).
impl Verbs for Cluster {
    fn config(&self) -> &Config {
        self.sim.config()
    }
    fn calls(&self) -> &[Call] {
        &self.calls
    }

    fn apply(&mut self, call: Call) -> Result<Outcome> {
        call.check(self.sim.config())?;
        // Chosen before the boundary, where a what-if fork may crash it, as it always was.
        let coordinator = match call {
            Call::Replicate { .. } => (0..self.len())
                .find(|&i| !self.sim.nodes[i].down)
                .ok_or(Error::AllDown { verb: "replicate" })?,
            _ => 0,
        };
        self.boundary();
        let outcome = match &call {
            Call::Send { from, to, text } => Outcome::Report(
                self.operate(NodeId(*from), Request::Send { to: NodeId(*to), text: text.clone() })?,
            ),
            Call::Broadcast { from, text } => {
                Outcome::Report(self.operate(NodeId(*from), Request::Broadcast { text: text.clone() })?)
            }
            Call::Replicate { key, value } => Outcome::Report(self.operate(
                NodeId(coordinator as u32),
                Request::Replicate { key: key.clone(), value: value.clone() },
            )?),
            Call::ReplicateFrom { node, key, value } => Outcome::Report(
                self.operate(NodeId(*node), Request::Replicate { key: key.clone(), value: value.clone() })?,
            ),
            Call::Sync { node } => Outcome::Report(self.operate(NodeId(*node), Request::Sync)?),
            Call::Crash { node } => Outcome::Log(self.sim.crash(NodeId(*node))?),
            Call::Recover { node } => Outcome::Log(self.sim.recover(NodeId(*node))?),
            Call::CrashAt { node, at_ms } => {
                self.sim.crash_at(NodeId(*node), *at_ms)?;
                Outcome::Scheduled
            }
            Call::RecoverAt { node, at_ms } => {
                self.sim.recover_at(NodeId(*node), *at_ms)?;
                Outcome::Scheduled
            }
            Call::Partition { groups } => {
                Outcome::Log(self.sim.partition(groups.iter().map(|g| g.iter().copied()))?)
            }
            Call::PartitionOneWay { from, to } => {
                Outcome::Log(self.sim.partition_one_way(from.iter().copied(), to.iter().copied())?)
            }
            Call::Heal => Outcome::Log(self.sim.heal()),
            Call::Post { from, to, text } => {
                let body = self.body(text);
                Outcome::Posted(self.sim.post(NodeId(*from), NodeId(*to), body))
            }
            Call::Step => Outcome::Stepped(self.sim.step()),
            Call::Run => Outcome::Ran(self.sim.run()),
            Call::RunUntil { t_ms } => Outcome::Ran(self.sim.run_until(*t_ms)?),
        };
        self.keep(|_| call);
        Ok(outcome)
    }

    /// [`Verbs::post`] without building a [`Call`] unless it is kept: a storm posts 10^5
    /// times with the trace off, and then pays one branch for the fork and one for the record.
    // Inlined into the caller's loop, the text compare in `body` is against the caller's
    // constant: the storm of 300,000 messages, 397.5 M instructions without, 382.8 M with.
    #[inline(always)]
    fn post(&mut self, from: impl Into<NodeRef>, to: impl Into<NodeRef>, text: &str) -> Result<MsgId> {
        let (from, to) = (self.id_of(from)?, self.id_of(to)?);
        let body = self.body(text);
        self.boundary();
        let id = self.sim.post(from, to, body);
        self.keep(|c| Call::Post { from: from.0, to: to.0, text: c.last_text.clone() });
        Ok(id)
    }
}

impl Recorded for Cluster {
    fn events(&self) -> std::borrow::Cow<'_, Trace> {
        self.sim.events()
    }
    fn node_count(&self) -> usize {
        self.len()
    }
    fn node_name(&self, i: usize) -> String {
        self.config().name(i)
    }
    fn clock(&self) -> Time {
        self.now()
    }
    fn latency_histogram(&self) -> Vec<(f64, u64)> {
        self.latency_buckets()
    }
    fn tracing(&self) -> bool {
        self.config().trace
    }
}
