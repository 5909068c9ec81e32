//! [`Cluster`]: the simulated runtime with the built-in key-value protocol and the lesson's
//! verbs. A concrete type, so a notebook cell that calls a verb compiles no generic code.

use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::node::{NodeId, NodeRef};
use crate::protocol::kv::{Body, KvStore, Request};
use crate::report::{ConsistencyReport, Log, OpReport};
use crate::sim::calls::Call;
use crate::sim::Sim;
use crate::stats::{RunStats, SystemStatus};
use crate::time::Time;
use crate::trace::{Event, MsgId, Recorded, Trace};

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

    /// Marks a point between verbs (a what-if fork may act there), runs the verb, and
    /// records it when it succeeded and the trace is on.
    ///
    /// `call` builds the record only when it is kept, so a storm with the trace off pays one
    /// branch for the fork check and one for the record.
    #[inline]
    fn verb<T>(
        &mut self,
        call: impl FnOnce(&Self) -> Call,
        run: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        if self.sim.fork.is_some() {
            self.sim.boundary(Some(self.sim.now()));
        }
        let out = run(self)?;
        if self.config().trace {
            let record = call(self);
            self.calls.push(record);
        }
        Ok(out)
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

    // ----- the learner's verbs -----

    /// Sends `text` from one node to another and waits for the reply or the timeout.
    ///
    /// A node that is down sends nothing: the message is dropped with cause "sender down".
    pub fn send(&mut self, from: impl Into<NodeRef>, to: impl Into<NodeRef>, text: &str) -> Result<OpReport> {
        let (from, to) = (self.id_of(from)?, self.id_of(to)?);
        self.verb(
            |_| Call::Send { from: from.0, to: to.0, text: text.into() },
            |c| c.operate(from, Request::Send { to, text: text.into() }),
        )
    }

    /// Sends `text` from one node to every other node and waits for replies or timeouts.
    ///
    /// The report gives reached / alive / total and which targets acknowledged: the sender
    /// only knows the acknowledgements.
    pub fn broadcast(&mut self, from: impl Into<NodeRef>, text: &str) -> Result<OpReport> {
        let from = self.id_of(from)?;
        self.verb(
            |_| Call::Broadcast { from: from.0, text: text.into() },
            |c| c.operate(from, Request::Broadcast { text: text.into() }),
        )
    }

    /// Writes `key = value` through the first live node as coordinator.
    ///
    /// See [`Cluster::replicate_from`]; an error when every node is down.
    pub fn replicate(&mut self, key: &str, value: &str) -> Result<OpReport> {
        let coordinator =
            (0..self.len()).find(|&i| !self.sim.nodes[i].down).ok_or(Error::AllDown { verb: "replicate" })?;
        let request = Request::Replicate { key: key.into(), value: value.into() };
        self.verb(
            |_| Call::Replicate { key: key.into(), value: value.into() },
            |c| c.operate(NodeId(coordinator as u32), request),
        )
    }

    /// The coordinator stores a new version of `key` and sends it to every other node over
    /// the network; replicas apply it if it is newer and acknowledge. Messages can be lost,
    /// so replicas really can diverge.
    pub fn replicate_from(
        &mut self,
        coordinator: impl Into<NodeRef>,
        key: &str,
        value: &str,
    ) -> Result<OpReport> {
        let node = self.id_of(coordinator)?;
        self.verb(
            |_| Call::ReplicateFrom { node: node.0, key: key.into(), value: value.into() },
            |c| c.operate(node, Request::Replicate { key: key.into(), value: value.into() }),
        )
    }

    /// Anti-entropy: the node sends what it has (keys and versions) to every peer; each live
    /// peer answers with its newer records, which the node applies. This is how a node that
    /// was down during a write catches up.
    pub fn sync(&mut self, node: impl Into<NodeRef>) -> Result<OpReport> {
        let n = self.id_of(node)?;
        self.verb(|_| Call::Sync { node: n.0 }, |c| c.operate(n, Request::Sync))
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

    /// Crashes a node now. Messages that reach it while it is down are dropped; with a
    /// volatile store (`durable(false)`) it loses its data. Crashing a down node does nothing.
    pub fn crash(&mut self, node: impl Into<NodeRef>) -> Result<Log> {
        let n = self.id_of(node)?;
        self.verb(|_| Call::Crash { node: n.0 }, |c| c.sim.crash(n))
    }

    /// Brings a node back now. It does not learn what it missed until it syncs.
    pub fn recover(&mut self, node: impl Into<NodeRef>) -> Result<Log> {
        let n = self.id_of(node)?;
        self.verb(|_| Call::Recover { node: n.0 }, |c| c.sim.recover(n))
    }

    /// Schedules a crash at virtual time `at_ms` (not before now), for example in the middle
    /// of a replicate.
    pub fn crash_at(&mut self, node: impl Into<NodeRef>, at_ms: f64) -> Result<()> {
        let n = self.id_of(node)?;
        self.verb(|_| Call::CrashAt { node: n.0, at_ms }, |c| c.sim.crash_at(n, at_ms))
    }

    /// Schedules a recovery at virtual time `at_ms` (not before now).
    pub fn recover_at(&mut self, node: impl Into<NodeRef>, at_ms: f64) -> Result<()> {
        let n = self.id_of(node)?;
        self.verb(|_| Call::RecoverAt { node: n.0, at_ms }, |c| c.sim.recover_at(n, at_ms))
    }

    /// Splits the cluster into groups that cannot reach each other. Nodes not listed form
    /// one more group. Messages already travelling across the cut are dropped on arrival.
    ///
    /// ```
    /// # use distlab::prelude::*;
    /// let mut c = Cluster::new(Config::builder().nodes(3).loss(0.0).build()?);
    /// c.partition([vec![0, 1]])?; // {0, 1} | {2}
    /// assert_eq!(c.send(0, 2, "hi")?.timed_out(), ["Node-2"]);
    /// c.heal();
    /// assert!(c.send(0, 2, "hi")?.all_acked());
    /// # Ok::<(), distlab::Error>(())
    /// ```
    pub fn partition<G, N>(&mut self, groups: impl IntoIterator<Item = G>) -> Result<Log>
    where
        G: IntoIterator<Item = N>,
        N: Into<NodeRef>,
    {
        let groups: Vec<Vec<NodeId>> =
            groups.into_iter().map(|g| self.config().resolve_all(g)).collect::<Result<_>>()?;
        let record = groups.iter().map(|g| indices(g)).collect();
        self.verb(|_| Call::Partition { groups: record }, |c| c.sim.partition(groups))
    }

    /// Cuts one direction only: messages from `from` to `to` are dropped, the other way works.
    pub fn partition_one_way<A, B>(
        &mut self,
        from: impl IntoIterator<Item = A>,
        to: impl IntoIterator<Item = B>,
    ) -> Result<Log>
    where
        A: Into<NodeRef>,
        B: Into<NodeRef>,
    {
        let (from, to) = (self.config().resolve_all(from)?, self.config().resolve_all(to)?);
        let call = Call::PartitionOneWay { from: indices(&from), to: indices(&to) };
        self.verb(|_| call, |c| c.sim.partition_one_way(from, to))
    }

    /// Removes every partition.
    pub fn heal(&mut self) -> Log {
        let healed: Result<Log> = self.verb(|_| Call::Heal, |c| Ok(c.sim.heal()));
        healed.unwrap_or_default()
    }

    /// Sends a one-way message with no reply and no waiting: the building block for storms
    /// and custom schedules. Run the clock with [`Cluster::run`] to deliver it.
    pub fn post(&mut self, from: impl Into<NodeRef>, to: impl Into<NodeRef>, text: &str) -> Result<MsgId> {
        let (from, to) = (self.id_of(from)?, self.id_of(to)?);
        let body = match &self.last_post {
            Some(b) if matches!(&**b, Body::Text { text: t } if t == text) => b.clone(),
            _ => {
                let b = Arc::new(Body::Text { text: text.to_string() });
                self.last_post = Some(b.clone());
                self.last_text = Arc::from(text);
                b
            }
        };
        self.verb(
            |c| Call::Post { from: from.0, to: to.0, text: c.last_text.clone() },
            |c| Ok(c.sim.post(from, to, body)),
        )
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
        self.verb(|_| Call::Step, |c| Ok(c.sim.step())).unwrap_or_default()
    }

    /// Runs until nothing is scheduled; returns the number of events processed.
    pub fn run(&mut self) -> usize {
        self.verb(|_| Call::Run, |c| Ok(c.sim.run())).unwrap_or_default()
    }

    /// Runs every event up to virtual time `t_ms`, then sets the clock to `t_ms` (if later).
    pub fn run_until(&mut self, t_ms: f64) -> Result<usize> {
        self.verb(|_| Call::RunUntil { t_ms }, |c| c.sim.run_until(t_ms))
    }

    fn operate(&mut self, origin: NodeId, request: Request) -> Result<OpReport> {
        let op = self.sim.start(request.verb(), origin, &request, request.refused_when_down())?;
        self.sim.book.describe(op, request.what());
        Ok(self.sim.finish(op))
    }
}

/// Node ids as the indices a recorded call keeps.
fn indices(nodes: &[NodeId]) -> Vec<u32> {
    nodes.iter().map(|n| n.0).collect()
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
