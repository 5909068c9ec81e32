//! The simulated cluster: nodes, the network, a virtual clock and a next-event queue.
//!
//! Nothing sleeps. The clock jumps to the next event; ties are broken by the order in which
//! events were scheduled, so a seed replays a run exactly. The learner's verbs (`send`,
//! `broadcast`, `replicate`, `sync`) start an operation and run the clock until every reply
//! or timeout is in; [`Cluster::step`] and [`Cluster::run`] let a notebook watch one event at a
//! time.

use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::network::{Cut, Network};
use crate::node::{Node, NodeId, NodeRef, Record, Version};
use crate::queue::EventQueue;
use crate::report::{ConsistencyReport, Fate, Log, OpReport, SenderView, TargetReport, Verb};
use crate::stats::{LatencyHistogram, NodeStatus, Stats, Status};
use crate::trace::{Body, DropCause, Event, EventKind, MsgId, Recorded, Time, Trace};

/// The furthest the clock can be run, in virtual ms (about 31 years): far enough for any
/// lesson, and far from the end of the microsecond counter.
pub const MAX_RUN_MS: f64 = 1e12;

/// What handling one queue item came to.
enum Handled {
    /// Nothing happened: a timeout whose reply already came, a crash of a down node, ...
    Stale,
    /// Something happened; the event, when it was asked for or traced.
    Done(Option<Event>),
}

/// Which operation a message belongs to, and whether it is the request or the reply.
#[derive(Debug, Clone, Copy)]
struct Tag {
    op: u32,
    target: u32,
    reply: bool,
}

#[derive(Debug, Clone)]
struct Message {
    id: MsgId,
    from: NodeId,
    to: NodeId,
    sent: Time,
    lost: bool,
    tag: Option<Tag>,
    body: Arc<Body>,
}

#[derive(Debug, Clone)]
enum Item {
    Arrive(Message),
    Timeout { op: u32, target: u32 },
    Crash(NodeId),
    Recover(NodeId),
}

#[derive(Debug, Clone)]
struct Target {
    node: NodeId,
    up_at_start: bool,
    seen: SenderView,
    request: Fate,
    reply: Fate,
}

#[derive(Debug, Clone)]
struct Op {
    verb: Verb,
    origin: NodeId,
    what: String,
    started: Time,
    finished: Time,
    targets: Vec<Target>,
    waiting: usize,
    first_event: usize,
    updated: Vec<Arc<Record>>,
    version: Option<Version>,
}

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
    config: Config,
    net: Network,
    now: Time,
    queue: EventQueue<Item>,
    nodes: Vec<Node>,
    trace: Trace,
    next_msg: u64,
    ops: Vec<Op>,
    in_flight: u64,
    peak_in_flight: u64,
    operations: u64,
    latency: LatencyHistogram,
    timeout: Time,
    last_post: Option<Arc<Body>>,
}

impl Cluster {
    /// A cluster with every node up and every store empty, at virtual time 0.
    pub fn new(config: Config) -> Self {
        Cluster {
            net: Network::new(&config),
            nodes: vec![Node::default(); config.nodes],
            timeout: Time::from_ms(config.timeout_ms),
            config,
            now: Time(0),
            queue: EventQueue::default(),
            trace: Trace::default(),
            next_msg: 0,
            ops: Vec::new(),
            in_flight: 0,
            peak_in_flight: 0,
            operations: 0,
            latency: LatencyHistogram::default(),
            last_post: None,
        }
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// Current virtual time.
    pub fn now(&self) -> Time {
        self.now
    }
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    /// Always false: a cluster has at least one node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
    /// Name of a node.
    pub fn name(&self, id: NodeId) -> String {
        self.config.name(id.index())
    }
    /// Every event so far (empty when the trace is off).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }
    /// Messages (copies) still travelling.
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }
    /// Events waiting in the queue (messages, timeouts, scheduled crashes).
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Finds a node by index or name.
    pub fn node(&self, node: impl Into<NodeRef>) -> Result<NodeId> {
        self.config.resolve(node)
    }
    /// Whether a node is up.
    pub fn is_up(&self, node: impl Into<NodeRef>) -> Result<bool> {
        Ok(!self.nodes[self.node(node)?.index()].down)
    }
    /// A node's value for `key`, read directly (the omniscient view, whether up or down).
    pub fn get(&self, node: impl Into<NodeRef>, key: &str) -> Result<Option<String>> {
        let id = self.node(node)?;
        Ok(self.nodes[id.index()].store.get(key).map(|r| r.value.to_string()))
    }

    // ----- the learner's verbs -----

    /// Sends `text` from one node to another and waits for the reply or the timeout.
    ///
    /// A node that is down sends nothing: the message is dropped with cause "sender down".
    pub fn send(&mut self, from: impl Into<NodeRef>, to: impl Into<NodeRef>, text: &str) -> Result<OpReport> {
        let (from, to) = (self.node(from)?, self.node(to)?);
        let body = Arc::new(Body::Text { text: text.to_string() });
        let op = self.start(Verb::Send, from, format!("{text:?}"), vec![(to, body)]);
        Ok(self.finish(op))
    }

    /// Sends `text` from one node to every other node and waits for replies or timeouts.
    ///
    /// The report gives reached / alive / total and which targets acknowledged: the sender
    /// only knows the acknowledgements.
    pub fn broadcast(&mut self, from: impl Into<NodeRef>, text: &str) -> Result<OpReport> {
        let from = self.node(from)?;
        let body = Arc::new(Body::Text { text: text.to_string() });
        let targets = self.others(from).map(|t| (t, body.clone())).collect();
        let op = self.start(Verb::Broadcast, from, format!("{text:?}"), targets);
        Ok(self.finish(op))
    }

    /// Writes `key = value` through the first live node as coordinator.
    ///
    /// See [`Cluster::replicate_from`]; an error when every node is down.
    pub fn replicate(&mut self, key: &str, value: &str) -> Result<OpReport> {
        let coordinator = self
            .nodes
            .iter()
            .position(|n| !n.down)
            .ok_or_else(|| Error::NodeDown { node: "every node".into(), verb: "replicate" })?;
        self.replicate_from(coordinator, key, value)
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
        let c = self.node(coordinator)?;
        if self.nodes[c.index()].down {
            return Err(Error::NodeDown { node: self.name(c), verb: "replicate" });
        }
        let counter = self.nodes[c.index()].store.get(key).map_or(0, |r| r.version.counter) + 1;
        let record = Arc::new(Record {
            key: key.into(),
            value: value.into(),
            version: Version { counter, writer: c },
        });
        let body = Arc::new(Body::Write { record: record.clone() });
        let targets = self.others(c).map(|t| (t, body.clone())).collect();
        let op = self.start(Verb::Replicate, c, format!("{key} = {value} ({})", record.version), targets);
        self.ops[op as usize].version = Some(record.version);
        if self.nodes[c.index()].apply(&record) {
            self.emit(EventKind::Stored { node: c, record });
        }
        Ok(self.finish(op))
    }

    /// Anti-entropy: the node sends what it has (keys and versions) to every peer; each live
    /// peer answers with its newer records, which the node applies. This is how a node that
    /// was down during a write catches up.
    pub fn sync(&mut self, node: impl Into<NodeRef>) -> Result<OpReport> {
        let n = self.node(node)?;
        if self.nodes[n.index()].down {
            return Err(Error::NodeDown { node: self.name(n), verb: "sync" });
        }
        let have = self.nodes[n.index()].store.values().map(|r| (r.key.clone(), r.version)).collect();
        let body = Arc::new(Body::SyncRequest { have });
        let targets = self.others(n).map(|t| (t, body.clone())).collect();
        let op = self.start(Verb::Sync, n, "newer versions, please".into(), targets);
        Ok(self.finish(op))
    }

    /// Reads `key` on every node directly (the omniscient view) and gives a verdict.
    pub fn check_consistency(&self, key: &str) -> ConsistencyReport {
        ConsistencyReport::from_replicas(
            key,
            self.nodes.iter().enumerate().map(|(i, n)| (self.config.name(i), !n.down, n.store.get(key))),
        )
    }

    /// Crashes a node now. Messages that reach it while it is down are dropped; with a
    /// volatile store (`durable(false)`) it loses its data. Crashing a down node does nothing.
    pub fn crash(&mut self, node: impl Into<NodeRef>) -> Result<Log> {
        let n = self.node(node)?;
        let mark = self.trace.len();
        self.apply_crash(n);
        Ok(self.log_since(mark))
    }

    /// Brings a node back now. It does not learn what it missed until it syncs.
    pub fn recover(&mut self, node: impl Into<NodeRef>) -> Result<Log> {
        let n = self.node(node)?;
        let mark = self.trace.len();
        self.apply_recover(n);
        Ok(self.log_since(mark))
    }

    /// Schedules a crash at virtual time `at_ms` (not before now), for example in the middle
    /// of a replicate.
    pub fn crash_at(&mut self, node: impl Into<NodeRef>, at_ms: f64) -> Result<()> {
        let n = self.node(node)?;
        let at = self.future("at_ms", at_ms)?;
        self.schedule(at, Item::Crash(n));
        Ok(())
    }

    /// Schedules a recovery at virtual time `at_ms` (not before now).
    pub fn recover_at(&mut self, node: impl Into<NodeRef>, at_ms: f64) -> Result<()> {
        let n = self.node(node)?;
        let at = self.future("at_ms", at_ms)?;
        self.schedule(at, Item::Recover(n));
        Ok(())
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
        let n = self.nodes.len();
        let mut group_of = vec![0usize; n];
        let mut count = 1;
        for g in groups {
            for node in g {
                let id = self.node(node)?;
                if group_of[id.index()] != 0 {
                    return Err(Error::argument("groups", self.name(id), "each node in at most one group"));
                }
                group_of[id.index()] = count;
            }
            count += 1;
        }
        let members: Vec<Vec<NodeId>> = (0..count)
            .map(|g| (0..n).filter(|&i| group_of[i] == g).map(|i| NodeId(i as u32)).collect())
            .collect();
        let mark = self.trace.len();
        for (a, from) in members.iter().enumerate() {
            for (b, to) in members.iter().enumerate() {
                if a != b && !from.is_empty() && !to.is_empty() {
                    self.cut(Cut::new(n, from, to));
                }
            }
        }
        Ok(self.log_since(mark))
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
        let cut = Cut::new(self.nodes.len(), &self.config.resolve_all(from)?, &self.config.resolve_all(to)?);
        let mark = self.trace.len();
        self.cut(cut);
        Ok(self.log_since(mark))
    }

    /// Removes every partition.
    pub fn heal(&mut self) -> Log {
        let mark = self.trace.len();
        if self.net.heal() > 0 {
            self.emit(EventKind::Healed);
        }
        self.log_since(mark)
    }

    /// Sends a one-way message with no reply and no waiting: the building block for storms
    /// and custom schedules. Run the clock with [`Cluster::run`] to deliver it.
    pub fn post(&mut self, from: impl Into<NodeRef>, to: impl Into<NodeRef>, text: &str) -> Result<MsgId> {
        let (from, to) = (self.node(from)?, self.node(to)?);
        self.operations += 1;
        // A storm posts the same text over and over: share one body instead of allocating
        // (and, with the trace on, keeping) a copy per message.
        let body = match &self.last_post {
            Some(b) if matches!(&**b, Body::Text { text: t } if t == text) => b.clone(),
            _ => {
                let b = Arc::new(Body::Text { text: text.to_string() });
                self.last_post = Some(b.clone());
                b
            }
        };
        Ok(self.transmit(from, to, body, None))
    }

    /// Per-node state and counters (the lesson's system status).
    pub fn status(&self) -> Status {
        Status { now: self.now, nodes: self.node_rows() }
    }

    /// Statistics of the run so far.
    pub fn stats(&self) -> Stats {
        let nodes = self.node_rows();
        let total = crate::node::Counters::sum(nodes.iter().map(|n| &n.counters));
        Stats {
            seed: self.config.seed,
            now: self.now,
            nodes,
            total,
            in_flight: self.in_flight,
            peak_in_flight: self.peak_in_flight,
            operations: self.operations,
            latency: self.latency.summary(),
        }
    }

    /// (lower bound in ms, count) of the latency histogram of delivered messages.
    pub fn latency_buckets(&self) -> Vec<(f64, u64)> {
        self.latency.buckets()
    }

    fn log_since(&self, mark: usize) -> Log {
        Log { lines: self.trace.since(mark).filter_map(|e| self.narrate(e)).collect() }
    }

    /// The narration of every recorded event, in the lesson's style.
    pub fn narration(&self) -> Vec<String> {
        self.trace.iter().filter_map(|e| self.narrate(e)).collect()
    }

    // ----- the clock -----

    /// Processes the next event and returns it; `None` when nothing is scheduled.
    pub fn step(&mut self) -> Option<Event> {
        // With `want`, every processed event comes back as Some.
        self.advance(true).flatten()
    }

    /// Processes the next event that is not a stale timeout; `None` when nothing is
    /// scheduled. The event itself is built only when `want` is set or the trace is on, so a
    /// storm with the trace off does not pay for events nobody reads.
    fn advance(&mut self, want: bool) -> Option<Option<Event>> {
        loop {
            let (at, item) = self.queue.pop()?;
            self.now = at;
            if let Handled::Done(e) = self.handle(item, want) {
                return Some(e);
            }
        }
    }

    /// Runs until nothing is scheduled; returns the number of events processed.
    pub fn run(&mut self) -> usize {
        let mut n = 0;
        while self.advance(false).is_some() {
            n += 1;
        }
        n
    }

    /// Runs every event up to virtual time `t_ms`, then sets the clock to `t_ms` (if later).
    pub fn run_until(&mut self, t_ms: f64) -> Result<usize> {
        if !(0.0..=MAX_RUN_MS).contains(&t_ms) {
            return Err(Error::argument("t_ms", t_ms, format!("a time in ms from 0 to {MAX_RUN_MS:e}")));
        }
        let t = Time::from_ms(t_ms);
        let mut n = 0;
        while self.queue.peek_time().is_some_and(|at| at <= t) {
            if self.advance(false).is_some() {
                n += 1;
            }
        }
        self.now = self.now.max(t);
        Ok(n)
    }

    // ----- internals -----

    fn others(&self, me: NodeId) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len() as u32).map(NodeId).filter(move |&n| n != me)
    }

    fn future(&self, name: &'static str, ms: f64) -> Result<Time> {
        if !(0.0..=MAX_RUN_MS).contains(&ms) || Time::from_ms(ms) < self.now {
            return Err(Error::argument(name, ms, format!("a time in ms from now ({}) on", self.now)));
        }
        Ok(Time::from_ms(ms))
    }

    fn cut(&mut self, cut: Cut) {
        let spec = Arc::new(cut.spec());
        self.net.add_cut(cut);
        self.emit(EventKind::Partitioned { cut: spec });
    }

    fn node_rows(&self) -> Vec<NodeStatus> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| NodeStatus {
                id: NodeId(i as u32),
                name: self.config.name(i),
                up: !n.down,
                counters: n.counters,
                keys: n.store.len(),
            })
            .collect()
    }

    fn schedule(&mut self, at: Time, item: Item) {
        self.queue.push(at, item);
    }

    fn emit(&mut self, kind: EventKind) -> Event {
        let e = Event { at: self.now, kind };
        if self.config.trace {
            self.trace.push(e.clone());
        }
        e
    }

    fn start(&mut self, verb: Verb, origin: NodeId, what: String, targets: Vec<(NodeId, Arc<Body>)>) -> u32 {
        let op = self.ops.len() as u32;
        self.operations += 1;
        self.ops.push(Op {
            verb,
            origin,
            what,
            started: self.now,
            finished: self.now,
            targets: targets
                .iter()
                .map(|(t, _)| Target {
                    node: *t,
                    up_at_start: !self.nodes[t.index()].down,
                    seen: SenderView::Waiting,
                    request: Fate::InFlight,
                    reply: Fate::NotSent,
                })
                .collect(),
            waiting: targets.len(),
            first_event: self.trace.len(),
            updated: Vec::new(),
            version: None,
        });
        let deadline = Time(self.now.0 + self.timeout.0);
        for (i, (to, body)) in targets.into_iter().enumerate() {
            let tag = Tag { op, target: i as u32, reply: false };
            self.transmit(origin, to, body, Some(tag));
            self.schedule(deadline, Item::Timeout { op, target: i as u32 });
        }
        op
    }

    /// Runs the clock until the operation has every reply or timeout, then reports it.
    fn finish(&mut self, op: u32) -> OpReport {
        while self.ops[op as usize].waiting > 0 {
            if self.advance(false).is_none() {
                break;
            }
        }
        self.report(op)
    }

    fn report(&self, op: u32) -> OpReport {
        let o = &self.ops[op as usize];
        let log = self
            .trace
            .since(o.first_event)
            .filter(|e| e.at <= o.finished)
            .filter_map(|e| self.narrate(e))
            .collect();
        OpReport {
            verb: o.verb,
            origin: self.name(o.origin),
            what: o.what.clone(),
            started: o.started,
            finished: o.finished,
            targets: o
                .targets
                .iter()
                .map(|t| TargetReport {
                    id: t.node,
                    name: self.name(t.node),
                    up_at_start: t.up_at_start,
                    seen: t.seen,
                    request: t.request,
                    reply: t.reply,
                })
                .collect(),
            updated: o.updated.clone(),
            version: o.version,
            log,
        }
    }

    /// Hands a message to the network: counts it, draws its fate and latency, and schedules
    /// its arrival (and a duplicate's).
    fn transmit(&mut self, from: NodeId, to: NodeId, body: Arc<Body>, tag: Option<Tag>) -> MsgId {
        let id = MsgId(self.next_msg);
        self.next_msg += 1;
        self.nodes[from.index()].counters.sent += 1;
        if self.config.trace {
            self.emit(EventKind::Sent { msg: id, from, to, body: body.clone() });
        }
        if self.nodes[from.index()].down {
            self.nodes[from.index()].counters.dropped_sender_down += 1;
            self.emit(EventKind::Dropped { msg: id, from, to, cause: DropCause::SenderDown });
            self.settle(tag, Fate::Dropped { cause: DropCause::SenderDown });
            return id;
        }
        let copies = if self.net.duplicate() {
            self.nodes[from.index()].counters.duplicated += 1;
            self.emit(EventKind::Duplicated { msg: id, from, to });
            2
        } else {
            1
        };
        for _ in 0..copies {
            let lost = self.net.lose();
            let at = Time(self.now.0 + self.net.latency_us());
            let m = Message { id, from, to, sent: self.now, lost, tag, body: body.clone() };
            self.schedule(at, Item::Arrive(m));
            self.in_flight += 1;
        }
        self.peak_in_flight = self.peak_in_flight.max(self.in_flight);
        id
    }

    /// Records a message's fate in its operation. A delivery wins over a drop, so a
    /// delivered duplicate of a lost message counts as delivered.
    fn settle(&mut self, tag: Option<Tag>, fate: Fate) {
        let Some(tag) = tag else { return };
        let t = &mut self.ops[tag.op as usize].targets[tag.target as usize];
        let slot = if tag.reply { &mut t.reply } else { &mut t.request };
        if !matches!(slot, Fate::Delivered { .. }) {
            *slot = fate;
        }
    }

    fn handle(&mut self, item: Item, want: bool) -> Handled {
        match item {
            Item::Arrive(m) => Handled::Done(self.arrive(m, want)),
            Item::Timeout { op, target } => {
                let o = &mut self.ops[op as usize];
                let t = &mut o.targets[target as usize];
                if t.seen != SenderView::Waiting {
                    return Handled::Stale;
                }
                t.seen = SenderView::TimedOut;
                let (node, peer) = (o.origin, t.node);
                o.waiting -= 1;
                o.finished = self.now;
                Handled::Done(Some(self.emit(EventKind::TimedOut { node, peer })))
            }
            Item::Crash(n) => self.apply_crash(n).map_or(Handled::Stale, |e| Handled::Done(Some(e))),
            Item::Recover(n) => self.apply_recover(n).map_or(Handled::Stale, |e| Handled::Done(Some(e))),
        }
    }

    fn apply_crash(&mut self, n: NodeId) -> Option<Event> {
        let node = &mut self.nodes[n.index()];
        if node.down {
            return None;
        }
        node.down = true;
        if !self.config.durable {
            node.store.clear();
        }
        Some(self.emit(EventKind::Crashed { node: n }))
    }

    fn apply_recover(&mut self, n: NodeId) -> Option<Event> {
        let node = &mut self.nodes[n.index()];
        if !node.down {
            return None;
        }
        node.down = false;
        Some(self.emit(EventKind::Recovered { node: n }))
    }

    fn arrive(&mut self, m: Message, want: bool) -> Option<Event> {
        let record = want || self.config.trace;
        self.in_flight -= 1;
        let cause = if self.net.is_cut(m.from, m.to) {
            Some(DropCause::Partitioned)
        } else if m.lost {
            Some(DropCause::Lost)
        } else if self.nodes[m.to.index()].down {
            Some(DropCause::TargetDown)
        } else {
            None
        };
        if let Some(cause) = cause {
            let c = &mut self.nodes[m.from.index()].counters;
            match cause {
                DropCause::Lost => c.dropped_lost += 1,
                DropCause::TargetDown => c.dropped_target_down += 1,
                DropCause::SenderDown => c.dropped_sender_down += 1,
                DropCause::Partitioned => c.dropped_partitioned += 1,
            }
            self.settle(m.tag, Fate::Dropped { cause });
            return record
                .then(|| self.emit(EventKind::Dropped { msg: m.id, from: m.from, to: m.to, cause }));
        }
        let latency = Time(self.now.0 - m.sent.0);
        self.latency.record(latency.0);
        self.nodes[m.from.index()].counters.delivered += 1;
        self.nodes[m.to.index()].counters.received += 1;
        self.settle(m.tag, Fate::Delivered { latency });
        let event = record.then(|| {
            self.emit(EventKind::Delivered {
                msg: m.id,
                from: m.from,
                to: m.to,
                sent: m.sent,
                body: m.body.clone(),
            })
        });
        self.react(&m);
        event
    }

    /// What a live node does with a message it received.
    fn react(&mut self, m: &Message) {
        let reply = |tag: Option<Tag>| tag.map(|t| Tag { reply: true, ..t });
        match &*m.body {
            Body::Text { .. } => {
                if m.tag.is_some() {
                    self.answer(m, Arc::new(Body::Ack), reply(m.tag));
                }
            }
            Body::Write { record } => {
                if self.nodes[m.to.index()].apply(record) {
                    self.emit(EventKind::Stored { node: m.to, record: record.clone() });
                }
                self.answer(m, Arc::new(Body::Ack), reply(m.tag));
            }
            Body::SyncRequest { have } => {
                let theirs: std::collections::BTreeMap<&str, Version> =
                    have.iter().map(|(k, v)| (&**k, *v)).collect();
                let records = self.nodes[m.to.index()]
                    .store
                    .values()
                    .filter(|r| theirs.get(&*r.key).is_none_or(|v| *v < r.version))
                    .cloned()
                    .collect();
                self.answer(m, Arc::new(Body::SyncReply { records }), reply(m.tag));
            }
            Body::SyncReply { records } => {
                for r in records {
                    if self.nodes[m.to.index()].apply(r) {
                        self.emit(EventKind::Stored { node: m.to, record: r.clone() });
                        if let Some(tag) = m.tag {
                            self.ops[tag.op as usize].updated.push(r.clone());
                        }
                    }
                }
                self.replied(m);
            }
            Body::Read { key } => {
                let record = self.nodes[m.to.index()].store.get(key).cloned();
                self.answer(m, Arc::new(Body::ReadReply { record }), reply(m.tag));
            }
            Body::Ack | Body::ReadReply { .. } => self.replied(m),
        }
    }

    fn answer(&mut self, m: &Message, body: Arc<Body>, tag: Option<Tag>) {
        if let Some(tag) = tag {
            let t = &mut self.ops[tag.op as usize].targets[tag.target as usize];
            if t.reply == Fate::NotSent {
                t.reply = Fate::InFlight;
            }
        }
        self.transmit(m.to, m.from, body, tag);
    }

    /// A reply reached the operation's origin: the sender now knows the target answered.
    fn replied(&mut self, m: &Message) {
        let Some(tag) = m.tag else { return };
        let now = self.now;
        let o = &mut self.ops[tag.op as usize];
        let t = &mut o.targets[tag.target as usize];
        if t.seen == SenderView::Waiting {
            t.seen = SenderView::Replied { rtt: Time(now.0 - o.started.0) };
            o.waiting -= 1;
            o.finished = now;
        }
    }

    /// One narration line for an event, or None for events not worth a line (sends).
    pub fn narrate(&self, e: &Event) -> Option<String> {
        crate::narration::narrate(e, &self.config)
    }
}

impl Recorded for Cluster {
    fn events(&self) -> std::borrow::Cow<'_, Trace> {
        std::borrow::Cow::Borrowed(&self.trace)
    }
    fn node_count(&self) -> usize {
        self.nodes.len()
    }
    fn node_name(&self, i: usize) -> String {
        self.config.name(i)
    }
    fn clock(&self) -> Time {
        self.now
    }
    fn latency_histogram(&self) -> Vec<(f64, u64)> {
        self.latency.buckets()
    }
    fn tracing(&self) -> bool {
        self.config.trace
    }
}
