//! The simulated runtime: any [`Protocol`] on a virtual clock with a next-event queue.
//!
//! Nothing sleeps. The clock jumps to the next event; ties are broken by the order in which
//! events were scheduled, so a seed replays a run exactly. [`Cluster`](crate::Cluster) is this
//! runtime with the built-in key-value protocol and the lesson's verbs.

pub(crate) mod cluster;
pub(crate) mod fork;
mod verbs;

use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::faults::{Cut, Cuts, Links, SenderRng, Slow};
use crate::node::{Counters, NodeId};
use crate::ops::{Action, Book, Cause, OpTag};
use crate::protocol::{Context, Effect, Out, Protocol};
use crate::queue::EventQueue;
use crate::report::{Fate, OpReport, Verb};
use crate::sim::fork::Armed;
use crate::stats::{LatencyHistogram, NodeStatus, RunStats, SystemStatus};
use crate::time::Time;
use crate::trace::{DropCause, Event, EventKind, MsgId, Trace};

/// The furthest the clock can be run, in virtual ms (about 31 years): far enough for any
/// lesson, and far from the end of the microsecond counter.
pub const MAX_RUN_MS: f64 = 1e12;

/// A message on its way, as the queue holds it.
#[derive(Debug, Clone)]
struct Envelope<M> {
    id: MsgId,
    sent: Time,
    msg: Arc<M>,
    from: NodeId,
    to: NodeId,
    tag: Option<OpTag>,
    lost: bool,
}

#[derive(Debug, Clone)]
enum Item<M> {
    Arrive(Envelope<M>),
    Timeout {
        op: u32,
        target: u32,
    },
    /// `generation`: the timer id's count of cancellations when it was set (see
    /// [`Slot::cancelled`]).
    Timer {
        node: NodeId,
        incarnation: u32,
        generation: u32,
        op: Option<u32>,
        id: u64,
    },
    Crash(NodeId),
    Recover(NodeId),
}

/// One node: up or down, the protocol's state, its counters.
#[derive(Debug, Clone)]
pub(crate) struct Slot<S> {
    pub(crate) down: bool,
    /// Bumped by each crash, so timers set before it do not fire after it.
    incarnation: u32,
    /// Timer ids this node cancelled since its last crash, each with how many times: a timer
    /// fires only if its id was cancelled as often when it fires as when it was set. A map, so
    /// a protocol that keys timers by request (one id per call) pays a lookup, not a scan; a
    /// crash empties it (the crash already outdates every timer). Empty unless the protocol
    /// cancels timers, so an ordinary run pays one lookup in an empty map per timer.
    cancelled: std::collections::BTreeMap<u64, u32>,
    pub(crate) state: S,
    pub(crate) counters: Counters,
}

impl<S> Slot<S> {
    /// How many times timer `id` was cancelled at this node.
    fn generation(&self, id: u64) -> u32 {
        self.cancelled.get(&id).copied().unwrap_or(0)
    }
}

/// What one step of the clock came to.
enum Step {
    /// Nothing is scheduled.
    Idle,
    /// An event happened; it is built only when asked for or traced.
    Happened(Option<Event>),
}

/// Any protocol on the simulated network (see the module docs).
#[derive(Debug, Clone)]
pub struct Sim<P: Protocol> {
    protocol: P,
    pub(crate) config: Config,
    links: Links,
    rngs: Vec<SenderRng>,
    cuts: Cuts,
    /// Nodes whose messages take longer (the checker's slow-node fault); empty otherwise.
    slow: Slow,
    now: Time,
    queue: EventQueue<Item<P::Msg>>,
    pub(crate) nodes: Vec<Slot<P::State>>,
    trace: Trace,
    next_msg: u64,
    pub(crate) book: Book<P::Msg, P::Output>,
    in_flight: u64,
    peak_in_flight: u64,
    operations: u64,
    latency: LatencyHistogram,
    timeout: Time,
    /// Reused by every handler call, so delivering a message allocates nothing.
    scratch: Out<P::Msg, P::Output>,
    /// A what-if fork's change, armed; None in every ordinary run (see [`fork`]).
    pub(crate) fork: Option<Box<Armed>>,
}

impl<P: Protocol> Sim<P> {
    /// Every node up with the protocol's default state, at virtual time 0.
    pub fn new(protocol: P, config: Config) -> Self {
        let slot = Slot {
            down: false,
            incarnation: 0,
            cancelled: std::collections::BTreeMap::new(),
            state: P::State::default(),
            counters: Counters::default(),
        };
        Sim {
            protocol,
            links: Links::new(&config),
            rngs: SenderRng::all(&config),
            cuts: Cuts::default(),
            slow: Slow::default(),
            nodes: vec![slot; config.nodes],
            timeout: Time::from_ms(config.timeout_ms),
            config,
            now: Time(0),
            queue: EventQueue::default(),
            trace: Trace::default(),
            next_msg: 0,
            book: Book::default(),
            in_flight: 0,
            peak_in_flight: 0,
            operations: 0,
            latency: LatencyHistogram::default(),
            scratch: Out::default(),
            fork: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// Current virtual time.
    pub fn now(&self) -> Time {
        self.now
    }
    /// Every event so far (empty when the trace is off).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }
    /// Messages (copies) still travelling.
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }
    /// Events waiting in the queue (messages, timeouts, timers, scheduled crashes).
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
    /// A node's state (the omniscient view, up or down).
    pub fn state(&self, node: NodeId) -> Option<&P::State> {
        self.nodes.get(node.index()).map(|s| &s.state)
    }
    /// Whether a node is up.
    pub fn up(&self, node: NodeId) -> bool {
        self.nodes.get(node.index()).is_some_and(|s| !s.down)
    }

    // ----- operations -----

    /// Starts an operation at `origin`: runs the protocol's request handler and sends what it
    /// asks for. `refuse` names the verb when a down origin is an error; without it, a down
    /// node's messages are dropped with cause "sender down" (the lesson's "cannot send").
    pub(crate) fn start(
        &mut self,
        verb: Verb,
        origin: NodeId,
        request: &P::Request,
        refuse: Option<&'static str>,
    ) -> Result<u32> {
        if let (true, Some(noun)) = (self.nodes[origin.index()].down, refuse) {
            return Err(Error::NodeDown { node: self.config.name(origin.index()), verb: noun });
        }
        self.operations += 1;
        let op = self.book.open(verb, origin, self.now, self.trace.len());
        let mut out = std::mem::take(&mut self.scratch);
        let ctx = self.context(origin, true);
        self.protocol.on_request(&ctx, &mut self.nodes[origin.index()].state, request, &mut out);
        self.carry_out(origin, Cause::Request(op), &mut out);
        self.scratch = out;
        Ok(op)
    }

    /// Runs the clock until the operation has every reply or timeout, then reports it.
    pub(crate) fn finish(&mut self, op: u32) -> OpReport {
        while self.book.waiting(op) > 0 {
            if let Step::Idle = self.advance(false) {
                break;
            }
        }
        let (first, finished) = self.book.span(op).unwrap_or((self.trace.len(), self.now));
        let log = self
            .trace
            .since(first)
            .filter(|e| e.at <= finished)
            .filter_map(|e| crate::narration::narrate(e, &self.config))
            .collect();
        self.book.report(op, |id| self.config.name(id.index()), log, true)
    }

    /// Sends a one-way message that belongs to no operation.
    pub(crate) fn post(&mut self, from: NodeId, to: NodeId, msg: Arc<P::Msg>) -> MsgId {
        self.operations += 1;
        self.transmit(from, to, msg, None)
    }

    // ----- faults the learner injects -----

    /// Crashes a node now; None if it was already down.
    pub(crate) fn apply_crash(&mut self, n: NodeId) -> Option<Event> {
        let ctx = self.context(n, false);
        let node = &mut self.nodes[n.index()];
        if node.down {
            return None;
        }
        node.down = true;
        node.incarnation = node.incarnation.wrapping_add(1);
        node.cancelled.clear();
        self.protocol.on_crash(&ctx, &mut node.state);
        Some(self.emit(EventKind::Crashed { node: n }))
    }

    /// Brings a node back now; None if it was up.
    pub(crate) fn apply_recover(&mut self, n: NodeId) -> Option<Event> {
        if !self.nodes[n.index()].down {
            return None;
        }
        self.nodes[n.index()].down = false;
        let event = self.emit(EventKind::Recovered { node: n });
        let mut out = std::mem::take(&mut self.scratch);
        let ctx = self.context(n, false);
        self.protocol.on_recover(&ctx, &mut self.nodes[n.index()].state, &mut out);
        self.carry_out(n, Cause::Plain, &mut out);
        self.scratch = out;
        Some(event)
    }

    /// Messages from `n` to the nodes of `to`, sent from now on, take `extra` longer (see
    /// [`Slow`]); `Time(0)` brings `n` back to normal speed. For the checker's slow-node
    /// fault; records no event.
    pub(crate) fn set_slow(&mut self, n: NodeId, to: &[NodeId], extra: Time) {
        self.slow.set(self.nodes.len(), n, to, extra);
    }

    /// Every node back to normal speed.
    pub(crate) fn clear_slow(&mut self) {
        self.slow.clear();
    }

    fn cut(&mut self, cut: Cut) {
        let spec = Arc::new(cut.spec());
        self.cuts.add(cut);
        self.emit(EventKind::Partitioned { cut: spec });
    }

    // ----- figures -----

    /// Per-node state and counters.
    pub fn status(&self) -> SystemStatus {
        SystemStatus { now: self.now, nodes: self.rows(), omniscient: true, heard_from: Vec::new() }
    }

    /// Statistics of the run so far.
    pub fn stats(&self) -> RunStats {
        let nodes = self.rows();
        let total = Counters::sum(nodes.iter().map(|n| &n.counters));
        RunStats {
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

    fn rows(&self) -> Vec<NodeStatus> {
        (0..self.nodes.len())
            .map(|i| NodeStatus {
                id: NodeId(i as u32),
                name: self.config.name(i),
                up: !self.nodes[i].down,
                counters: self.nodes[i].counters,
                keys: None,
            })
            .collect()
    }

    // ----- the clock -----

    /// Processes the next event and returns it; `None` when nothing is scheduled.
    pub fn step(&mut self) -> Option<Event> {
        match self.advance(true) {
            Step::Idle => None,
            Step::Happened(e) => e,
        }
    }

    /// Runs until nothing is scheduled; returns the number of events processed.
    pub fn run(&mut self) -> usize {
        let mut n = 0;
        while let Step::Happened(_) = self.advance(false) {
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
        // One event at a time, each checked against `t`: `advance` would pass over an event
        // that comes to nothing (a timer of a crashed node, a timeout already answered) to
        // the next one, which may lie after `t`, and run the clock past it.
        while self.queue.peek_time().is_some_and(|at| at <= t) {
            if let Some(Some(_)) = self.pop_one(false) {
                n += 1;
            }
        }
        self.now = self.now.max(t);
        Ok(n)
    }

    /// A time in ms from now on, or an error naming the argument.
    pub(crate) fn future(&self, name: &'static str, ms: f64) -> Result<Time> {
        if !(0.0..=MAX_RUN_MS).contains(&ms) || Time::from_ms(ms) < self.now {
            return Err(Error::argument(name, ms, format!("a time in ms from now ({}) on", self.now)));
        }
        Ok(Time::from_ms(ms))
    }

    /// Processes the next event that is not a stale timeout or timer.
    fn advance(&mut self, want: bool) -> Step {
        loop {
            match self.pop_one(want) {
                None => return Step::Idle,
                Some(Some(e)) => return Step::Happened(e),
                Some(None) => {}
            }
        }
    }

    /// Processes the next event in the queue, whatever it comes to: None when nothing is
    /// scheduled; Some(None) when it came to nothing (a timer of a crashed node or one
    /// cancelled, a timeout already answered); Some(Some(event)) when it happened, the event
    /// built only when asked for or traced.
    #[inline]
    fn pop_one(&mut self, want: bool) -> Option<Option<Option<Event>>> {
        {
            if self.fork.is_some() {
                let next = self.queue.peek_time();
                self.boundary(next);
            }
            let (at, item) = self.queue.pop()?;
            self.now = at;
            let record = want || self.config.trace;
            let happened = match item {
                Item::Arrive(m) => Some(self.arrive(m, record)),
                Item::Timeout { op, target } => self.book.timed_out(op, target, at).map(|(node, peer)| {
                    let e = self.emit(EventKind::TimedOut { node, peer });
                    record.then_some(e)
                }),
                Item::Timer { node, incarnation, generation, op, id } => {
                    self.timer(node, (incarnation, generation), op, id).then_some(None)
                }
                Item::Crash(n) => self.apply_crash(n).map(Some),
                Item::Recover(n) => self.apply_recover(n).map(Some),
            };
            Some(happened)
        }
    }

    fn timer(&mut self, n: NodeId, (incarnation, generation): (u32, u32), op: Option<u32>, id: u64) -> bool {
        let slot = &self.nodes[n.index()];
        if slot.down || slot.incarnation != incarnation || slot.generation(id) != generation {
            return false;
        }
        let mut out = std::mem::take(&mut self.scratch);
        let ctx = self.context(n, op.is_some());
        self.protocol.on_timer(&ctx, &mut self.nodes[n.index()].state, id, &mut out);
        self.carry_out(n, Cause::Timer(op), &mut out);
        self.scratch = out;
        true
    }

    // ----- internals -----

    fn context(&self, me: NodeId, in_operation: bool) -> Context {
        Context { me, nodes: self.nodes.len(), durable: self.config.durable, in_operation, now: self.now }
    }

    fn emit(&mut self, kind: EventKind) -> Event {
        let e = Event { at: self.now, kind };
        if self.config.trace {
            self.trace.push(e.clone());
        }
        e
    }

    /// Carries out what a handler at `node` asked for, and empties the buffer.
    fn carry_out(&mut self, node: NodeId, cause: Cause, out: &mut Out<P::Msg, P::Output>) {
        for effect in out.effects.drain(..) {
            let up = match &effect {
                Effect::Send { to, .. } => self.nodes.get(to.index()).is_some_and(|n| !n.down),
                _ => false,
            };
            match self.book.route(node, cause, effect, up, self.nodes.len(), self.now) {
                Some(Action::Send { to, msg, tag }) => {
                    if let Some(t) = tag.filter(|t| !t.reply) {
                        self.queue
                            .push(self.now.after(self.timeout), Item::Timeout { op: t.op, target: t.target });
                    }
                    self.transmit(node, to, msg, tag);
                }
                Some(Action::Timer { after, id, op }) => {
                    let slot = &self.nodes[node.index()];
                    let (incarnation, generation) = (slot.incarnation, slot.generation(id));
                    self.queue
                        .push(self.now.after(after), Item::Timer { node, incarnation, generation, op, id });
                }
                Some(Action::CancelTimer { id }) => {
                    let count = self.nodes[node.index()].cancelled.entry(id).or_insert(0);
                    *count = count.wrapping_add(1);
                }
                Some(Action::Stored { record }) => {
                    self.emit(EventKind::Stored { node, record });
                }
                Some(Action::Finished) | None => {}
            }
        }
    }

    /// Hands a message to the network: counts it, draws its copies (the fault model, in
    /// [`crate::faults`]) and schedules their arrival.
    fn transmit(&mut self, from: NodeId, to: NodeId, msg: Arc<P::Msg>, tag: Option<OpTag>) -> MsgId {
        let id = MsgId(self.next_msg);
        self.next_msg += 1;
        self.nodes[from.index()].counters.sent += 1;
        if self.config.trace {
            let body = self.protocol.trace_body(&msg);
            self.emit(EventKind::Sent { msg: id, from, to, body });
        }
        if self.nodes[from.index()].down {
            self.nodes[from.index()].counters.count_drop(DropCause::SenderDown);
            self.emit(EventKind::Dropped { msg: id, from, to, cause: DropCause::SenderDown });
            if let Some(tag) = tag {
                self.book.settle(tag, Fate::Dropped { cause: DropCause::SenderDown });
            }
            return id;
        }
        let copies = self.links.draw(&mut self.rngs[from.index()]);
        if copies.second.is_some() {
            self.nodes[from.index()].counters.duplicated += 1;
            self.emit(EventKind::Duplicated { msg: id, from, to });
        }
        for copy in copies.iter() {
            let envelope = Envelope { id, sent: self.now, msg: msg.clone(), from, to, tag, lost: copy.lost };
            let mut at = self.now.after(copy.latency);
            if self.slow.any() {
                at = at.after(self.slow.extra(from, to));
            }
            self.queue.push(at, Item::Arrive(envelope));
            self.in_flight += 1;
        }
        self.peak_in_flight = self.peak_in_flight.max(self.in_flight);
        id
    }

    /// A copy reaches its destination: dropped (lost, cut, target down) or delivered and
    /// handled. Returns the event when `record` is set.
    fn arrive(&mut self, m: Envelope<P::Msg>, record: bool) -> Option<Event> {
        self.in_flight -= 1;
        let lost = if self.fork.is_none() { m.lost } else { self.forked_loss(m.id, m.lost) };
        let cause = if lost {
            Some(DropCause::Lost)
        } else if self.cuts.blocks(m.from, m.to) {
            Some(DropCause::Partitioned)
        } else if self.nodes[m.to.index()].down {
            Some(DropCause::TargetDown)
        } else {
            None
        };
        if let Some(cause) = cause {
            self.nodes[m.from.index()].counters.count_drop(cause);
            if let Some(tag) = m.tag {
                self.book.settle(tag, Fate::Dropped { cause });
            }
            return record
                .then(|| self.emit(EventKind::Dropped { msg: m.id, from: m.from, to: m.to, cause }));
        }
        let latency = self.now.since(m.sent);
        self.latency.record(latency.0);
        self.nodes[m.from.index()].counters.delivered += 1;
        self.nodes[m.to.index()].counters.received += 1;
        if let Some(tag) = m.tag {
            self.book.settle(tag, Fate::Delivered { latency });
            if tag.reply {
                self.book.replied(tag, self.now, &m.msg);
            }
        }
        let event = record.then(|| {
            let body = self.protocol.trace_body(&m.msg);
            self.emit(EventKind::Delivered { msg: m.id, from: m.from, to: m.to, sent: m.sent, body })
        });
        let mut out = std::mem::take(&mut self.scratch);
        let ctx = self.context(m.to, m.tag.is_some());
        self.protocol.on_message(&ctx, &mut self.nodes[m.to.index()].state, m.from, &m.msg, &mut out);
        self.carry_out(m.to, Cause::message(m.from, m.tag), &mut out);
        self.scratch = out;
        event
    }
}

impl<P: Protocol> crate::trace::Recorded for Sim<P> {
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
