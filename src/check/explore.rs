//! Exhaustive search of a small scope: every interleaving, breadth first, each state once.
//!
//! Random seeds ([`Checker::check`]) find many bugs fast, but a bug that needs one exact
//! schedule (a write that reached some replicas but not a majority when two reads, one after
//! the other, ask different majorities) may pass 200 of 200 seeds. [`Checker::explore`] tries
//! every schedule of a small [`Scope`] instead: a few nodes, a few client calls, a budget of
//! faults. It answers with one of three verdicts, never merged ([`Verdict`]):
//! - **passed**: every state of the scope was reached and every property held in each;
//! - **unknown**: a search bound (states, depth, messages in flight) or the time limit stopped
//!   it first; the report names which, and how far it got;
//! - **failed**: a property broke; because the search is breadth first, the path it reports
//!   is a shortest one (fewest steps), given as words, as a history, as a space-time diagram
//!   and as [`Step`]s that [`Checker::replay_steps`] runs again.
//!
//! # The model: asynchronous, without time
//! No clock runs. A state is every node's [`Protocol::State`] and whether it is up, the
//! messages in flight (a multiset: the network may reorder anything), the timers pending at
//! each node, how far each client got and the history so far. From a state, each of these is
//! one step to a next state:
//! - **a client calls**: the client at a node issues its next call (`on_request`, with
//!   [`Context::in_operation`] true). Calls at one node run one after another: the next is
//!   issued only after the previous returned. Calls at different nodes interleave freely. A
//!   client does not call a node that is down.
//! - **deliver** any message in flight: `on_message` at its receiver (dropped instead if the
//!   receiver is down);
//! - **lose** one (within the scope's loss budget), or **deliver it while a copy stays in
//!   flight** (within the duplicate budget);
//! - **a timer fires**: any pending timer at an up node, in any order and at any moment (no
//!   time passes, so "after 120 ms" means "some time later"). A firing that changes nothing
//!   (the handler leaves the state as it was and asks for nothing) is free; any other counts
//!   against the scope's timer budget, so a protocol that retries for ever still has a finite
//!   scope;
//! - **a node crashes** (within the crash budget): `on_crash`, its pending timers are
//!   cancelled, and its client's call in progress is abandoned (it never returns; the client
//!   goes on with its next call once the node is back);
//! - **a crashed node recovers**: `on_recover`.
//!
//! The effects a handler asks for are carried out as the runtimes do: `Send` and `Reply`
//! become messages in flight tagged with the handler's call (a reply goes to the sender of the
//! message being handled; in `on_request` and `on_timer` it is ignored, as in the simulator),
//! `Timer` and `CancelTimer` add and remove the node's pending timers (a timer remembers the
//! call it was set for), `Finish` returns its call (the first finish only), `Note` is ignored.
//! [`Context::now`] is always 0: there is no clock to read. [`Context::durable`] is the
//! checker's configured durability.
//!
//! # Properties
//! The checker's own [`Property`]s. The safety ones, [`Property::Linearizable`] and
//! [`Property::NoDuplicates`], are checked in every new state (for linearizability the
//! history's times are the positions of its events, event `k` at `k` ms: only their order
//! matters). The others
//! ([`Property::Answered`], [`Property::AckedDelivered`], [`Property::EveryLiveNodeHolds`],
//! [`Property::AckedWritesSurvive`] and [`Property::Custom`]) speak of a run that has settled,
//! so they are checked in **quiescent** states: nothing in flight, no timer pending at an up
//! node, and no client at an up node with a call left to issue. The [`Outcome`] they read has
//! the history (times are event positions), the crashes (at the position they happened) and
//! empty statistics: the search keeps no message counts (they would make every path a state of
//! its own), so [`Property::MessagesPerCall`] is reported as *not checked*, never as passed.
//!
//! # The search
//! Breadth first (stateright's `bfs.rs`, DSLabs' search tests): the first violation found is at
//! the smallest depth. Each state is reduced to a 64-bit fingerprint (a fixed hasher, no
//! random keys, so the same scope gives the same counts on every run); a state whose
//! fingerprint was seen is not expanded again. Messages in flight and pending timers are kept
//! in a canonical order (by fingerprint), so the same multiset is the same state whatever the
//! order it was built in. A path is rebuilt from each state's parent and the number of the
//! step that led to it, by replaying it from the start.
//!
//! **No symmetry reduction.** Sorting interchangeable nodes is only sound when the node ids
//! inside states and messages are renamed too (stateright asks for a `Rewrite` trait for this);
//! a protocol's `State` and `Msg` are opaque here, and protocols do put ids in them (the
//! majority register's version stamps and answer sets), so nodes are never permuted.
//!
//! # What a protocol needs
//! `P::State` and `P::Msg` must be `Hash + Eq` for this method only (not for the random
//! checker or the runtimes): a learner adds `#[derive(Hash, PartialEq, Eq)]`. Use ordered
//! collections (`BTreeMap`, `BTreeSet`, `Vec`) inside them: `HashMap` does not implement
//! `Hash`.
//!
//! ```
//! use distlab::check::explore::Scope;
//! use distlab::check::{exercises, ClientOp, Property};
//! use distlab::node::NodeId;
//! // Exercise (a)'s reference: one send, one loss, two retries. Every schedule delivers it.
//! let scope = Scope::builder()
//!     .nodes(2)
//!     .call(0, ClientOp::Send { to: NodeId(1), value: 1 })
//!     .losses(1)
//!     .timer_fires(2)
//!     .build()?;
//! let report = exercises::reliable_delivery(exercises::solutions::Reliable).explore(&scope)?;
//! assert!(report.verdict.passed(), "{report}");
//! # Ok::<(), distlab::Error>(())
//! ```

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::chart::{self, Chart};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::node::NodeId;
use crate::protocol::{Context, Effect, Out, Protocol};
use crate::sim::Sim;
use crate::stats::RunStats;
use crate::table::{show_tables, Table, Tabular};
use crate::time::Time;
use crate::trace::{DropCause, Event, EventKind, MsgId, Recorded, Trace};

use super::linearizable::{self, RegisterCall};
use super::{Call, Checker, ClientOp, History, Outcome, Property};

// ----- the scope -----

/// What to explore: the nodes, the client calls, the fault budgets, and the search's bounds.
/// Build one with [`Scope::builder`]; [`ScopeBuilder::build`] checks every value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scope {
    nodes: usize,
    calls: Vec<(NodeId, ClientOp)>,
    losses: u32,
    duplicates: u32,
    crashes: u32,
    timer_fires: u32,
    max_states: u64,
    max_depth: u32,
    max_in_flight: usize,
    time_limit_s: f64,
}

impl Scope {
    /// A builder with the defaults: 3 nodes, no calls (at least one is needed), no losses,
    /// duplicates or crashes, 2 timer firings, at most 1,000,000 states, depth 200, 12
    /// messages in flight, 60 seconds.
    pub fn builder() -> ScopeBuilder {
        ScopeBuilder {
            scope: Scope {
                nodes: 3,
                calls: Vec::new(),
                losses: 0,
                duplicates: 0,
                crashes: 0,
                timer_fires: 2,
                max_states: 1_000_000,
                max_depth: 200,
                max_in_flight: 12,
                time_limit_s: 60.0,
            },
        }
    }
    /// Nodes in the cluster.
    pub fn nodes(&self) -> usize {
        self.nodes
    }
    /// The calls, each at its node, in the order each node's client makes them.
    pub fn calls(&self) -> &[(NodeId, ClientOp)] {
        &self.calls
    }
    /// The scope in one line, for reports.
    pub fn summary(&self) -> String {
        let calls: Vec<String> =
            self.calls.iter().map(|(n, op)| format!("{} at Node-{n}", describe_op(op))).collect();
        format!(
            "{} nodes; calls: {}; at most {} losses, {} duplicates, {} crashes, {} timer firings",
            self.nodes,
            calls.join(", "),
            self.losses,
            self.duplicates,
            self.crashes,
            self.timer_fires
        )
    }
}

/// Sets a [`Scope`]'s values; [`build`](Self::build) checks them.
#[derive(Debug, Clone)]
pub struct ScopeBuilder {
    scope: Scope,
}

impl ScopeBuilder {
    /// Nodes, 1 to 5.
    pub fn nodes(mut self, nodes: usize) -> Self {
        self.scope.nodes = nodes;
        self
    }
    /// Adds a call of `op` at `node` (after the calls already added there); 1 to 6 calls.
    pub fn call(mut self, node: u32, op: ClientOp) -> Self {
        self.scope.calls.push((NodeId(node), op));
        self
    }
    /// Messages the network may lose along one path, 0 to 5.
    pub fn losses(mut self, losses: u32) -> Self {
        self.scope.losses = losses;
        self
    }
    /// Messages the network may deliver twice along one path, 0 to 5.
    pub fn duplicates(mut self, duplicates: u32) -> Self {
        self.scope.duplicates = duplicates;
        self
    }
    /// Crashes along one path, 0 to 5 (each crashed node may recover).
    pub fn crashes(mut self, crashes: u32) -> Self {
        self.scope.crashes = crashes;
        self
    }
    /// Timer firings that do something, along one path, 0 to 20.
    pub fn timer_fires(mut self, fires: u32) -> Self {
        self.scope.timer_fires = fires;
        self
    }
    /// Distinct states to visit before answering unknown, 1 to 100,000,000.
    pub fn max_states(mut self, states: u64) -> Self {
        self.scope.max_states = states;
        self
    }
    /// Steps along one path before answering unknown, 1 to 10,000.
    pub fn max_depth(mut self, depth: u32) -> Self {
        self.scope.max_depth = depth;
        self
    }
    /// Messages in flight at once before answering unknown, 1 to 64.
    pub fn max_in_flight(mut self, messages: usize) -> Self {
        self.scope.max_in_flight = messages;
        self
    }
    /// Wall-clock time before answering unknown, in seconds, 0.001 to 3600.
    pub fn time_limit_s(mut self, seconds: f64) -> Self {
        self.scope.time_limit_s = seconds;
        self
    }

    /// The scope, or an [`Error`] naming the first value out of range.
    pub fn build(self) -> Result<Scope> {
        let s = self.scope;
        let range = |name: &'static str, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(Error::argument(name, v, format!("{lo} to {hi}")))
            }
        };
        range("nodes", s.nodes as u64, 1, 5)?;
        range("calls", s.calls.len() as u64, 1, 6)?;
        range("losses", s.losses.into(), 0, 5)?;
        range("duplicates", s.duplicates.into(), 0, 5)?;
        range("crashes", s.crashes.into(), 0, 5)?;
        range("timer_fires", s.timer_fires.into(), 0, 20)?;
        range("max_states", s.max_states, 1, 100_000_000)?;
        range("max_depth", s.max_depth.into(), 1, 10_000)?;
        range("max_in_flight", s.max_in_flight as u64, 1, 64)?;
        if !(0.001..=3600.0).contains(&s.time_limit_s) {
            return Err(Error::argument("time_limit_s", s.time_limit_s, "0.001 to 3600 seconds"));
        }
        let last = s.nodes - 1;
        let mut values = std::collections::BTreeSet::new();
        for (node, op) in &s.calls {
            if node.index() >= s.nodes {
                return Err(Error::argument("call node", node, format!("a node from 0 to {last}")));
            }
            let value = match *op {
                ClientOp::Send { to, value } => {
                    if to.index() >= s.nodes || to == *node {
                        return Err(Error::argument(
                            "call",
                            format!("send {value} from Node-{node} to Node-{to}"),
                            format!("a receiver from 0 to {last} other than the sender"),
                        ));
                    }
                    Some(value)
                }
                ClientOp::Broadcast { value } | ClientOp::Write { value } => Some(value),
                ClientOp::Read => None,
            };
            if let Some(v) = value {
                if !values.insert(v) {
                    return Err(Error::argument("call value", v, "a value no other call of the scope uses"));
                }
            }
        }
        Ok(s)
    }
}

fn describe_op(op: &ClientOp) -> String {
    match *op {
        ClientOp::Send { to, value } => format!("send {value} to Node-{to}"),
        ClientOp::Broadcast { value } => format!("broadcast {value}"),
        ClientOp::Write { value } => format!("write {value}"),
        ClientOp::Read => "read".into(),
    }
}

// ----- steps, verdicts, the report -----

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

// ----- the fingerprint -----

/// A fixed, keyless hasher: each word is folded in with a 64x64->128-bit multiply (as
/// wyhash does), so fingerprints are the same on every run and machine (of one endianness).
#[derive(Default, Clone, Copy)]
struct Fold(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for Fold {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
        self.write_u64(bytes.len() as u64);
    }
    fn write_u64(&mut self, x: u64) {
        let r = u128::from(self.0 ^ x ^ K).wrapping_mul(u128::from(0x2d35_8dcc_aa6c_78a5u64));
        self.0 = (r as u64) ^ ((r >> 64) as u64);
    }
    fn write_u8(&mut self, x: u8) {
        self.write_u64(x.into())
    }
    fn write_u16(&mut self, x: u16) {
        self.write_u64(x.into())
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x.into())
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64)
    }
    fn write_i64(&mut self, x: i64) {
        self.write_u64(x as u64)
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

fn fingerprint(x: &impl Hash) -> u64 {
    let mut h = Fold(0x5151_7cc1_b727_220a);
    x.hash(&mut h);
    h.finish()
}

/// The visited map is keyed by fingerprints, which are hashes already.
#[derive(Default)]
struct Identity(u64);
impl Hasher for Identity {
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

// ----- the state -----

#[derive(Debug, Clone)]
struct Flight<M> {
    /// Fingerprint of (from, to, call, msg): the canonical order, and the identity in steps.
    key: u64,
    from: u8,
    to: u8,
    call: Option<u8>,
    msg: Arc<M>,
    /// For the diagram only (not part of the state).
    id: u64,
    sent: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct PendingTimer {
    node: u8,
    id: u64,
    call: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Status {
    Waiting,
    Running,
    Returned,
    Abandoned,
}

/// One event of the history: a call made (`returned` None) or answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct HistoryEvent {
    call: u8,
    returned: Option<Option<u64>>,
}

#[derive(Debug, Clone)]
struct World<S, M> {
    states: Vec<Arc<S>>,
    /// Fingerprint of each node's state.
    hashes: Vec<u64>,
    up: u8,
    flight: Vec<Flight<M>>,
    timers: Vec<PendingTimer>,
    status: Vec<Status>,
    history: Vec<HistoryEvent>,
    /// (history position, node) of each crash.
    crashes: Vec<(u32, u8)>,
    lost: u8,
    duplicated: u8,
    crashed: u8,
    fired: u8,
    depth: u32,
    next_id: u64,
}

impl<S, M> World<S, M> {
    fn fingerprint(&self) -> u64 {
        let mut h = Fold(0x5151_7cc1_b727_220a);
        self.hashes.hash(&mut h);
        h.write_u8(self.up);
        h.write_usize(self.flight.len());
        for f in &self.flight {
            h.write_u64(f.key);
        }
        self.timers.hash(&mut h);
        self.status.hash(&mut h);
        self.history.hash(&mut h);
        self.crashes.hash(&mut h);
        h.write_u64(u64::from_le_bytes([self.lost, self.duplicated, self.crashed, self.fired, 0, 0, 0, 0]));
        h.finish()
    }
    fn is_up(&self, n: usize) -> bool {
        self.up & (1 << n) != 0
    }
}

/// A step, as the search enumerates it (cheap; turned into a [`Step`] only for reports).
#[derive(Debug, Clone, Copy)]
enum Move {
    Call(usize),
    Deliver(usize, bool),
    Lose(usize),
    Fire(usize),
    Crash(usize),
    Recover(usize),
}

// ----- the engine -----

/// The search's machinery for one protocol and scope.
struct Engine<'a, P: Protocol> {
    protocol: &'a P,
    scope: &'a Scope,
    durable: bool,
    /// For each node, its calls' indices in order.
    per_node: Vec<Vec<usize>>,
}

impl<'a, P> Engine<'a, P>
where
    P: Protocol<Request = ClientOp, Output = u64>,
    P::State: Hash + Eq,
    P::Msg: Hash + Eq,
{
    fn new(protocol: &'a P, scope: &'a Scope, durable: bool) -> Self {
        let mut per_node = vec![Vec::new(); scope.nodes];
        for (i, (n, _)) in scope.calls.iter().enumerate() {
            per_node[n.index()].push(i);
        }
        Engine { protocol, scope, durable, per_node }
    }

    fn initial(&self) -> World<P::State, P::Msg> {
        let states: Vec<Arc<P::State>> =
            (0..self.scope.nodes).map(|_| Arc::new(P::State::default())).collect();
        World {
            hashes: states.iter().map(|s| fingerprint(&**s)).collect(),
            states,
            up: ((1u16 << self.scope.nodes) - 1) as u8,
            flight: Vec::new(),
            timers: Vec::new(),
            status: vec![Status::Waiting; self.scope.calls.len()],
            history: Vec::new(),
            crashes: Vec::new(),
            lost: 0,
            duplicated: 0,
            crashed: 0,
            fired: 0,
            depth: 0,
            next_id: 0,
        }
    }

    fn context(&self, me: usize, in_operation: bool) -> Context {
        Context {
            me: NodeId(me as u32),
            nodes: self.scope.nodes,
            durable: self.durable,
            in_operation,
            now: Time(0),
        }
    }

    /// The call the client at `node` may issue now.
    fn next_call(&self, w: &World<P::State, P::Msg>, node: usize) -> Option<usize> {
        if !w.is_up(node) {
            return None;
        }
        for &c in &self.per_node[node] {
            match w.status[c] {
                Status::Running => return None,
                Status::Waiting => return Some(c),
                Status::Returned | Status::Abandoned => {}
            }
        }
        None
    }

    /// Carries out a handler's effects at `node`. `call` is the handler's call; `reply_to`
    /// the sender of the message being handled. `trace` records sends for the diagram.
    fn carry_out(
        &self,
        w: &mut World<P::State, P::Msg>,
        node: usize,
        call: Option<u8>,
        reply_to: Option<u8>,
        out: Out<P::Msg, u64>,
        trace: &mut Option<&mut Trace>,
    ) {
        for effect in out.effects {
            match effect {
                Effect::Send { to, msg } => self.send(w, node, to.index(), call, msg, trace),
                Effect::Reply { msg } => {
                    if let Some(to) = reply_to {
                        self.send(w, node, to.into(), call, msg, trace);
                    }
                }
                Effect::Timer { id, .. } => {
                    let t = PendingTimer { node: node as u8, id, call };
                    let at = w.timers.partition_point(|x| *x < t);
                    w.timers.insert(at, t);
                }
                Effect::CancelTimer { id } => w.timers.retain(|t| !(t.node as usize == node && t.id == id)),
                Effect::Note { .. } => {}
                Effect::Finish { output } => {
                    if let Some(c) = call {
                        if w.status[c as usize] == Status::Running {
                            w.status[c as usize] = Status::Returned;
                            w.history.push(HistoryEvent { call: c, returned: Some(output) });
                        }
                    }
                }
            }
        }
    }

    fn send(
        &self,
        w: &mut World<P::State, P::Msg>,
        from: usize,
        to: usize,
        call: Option<u8>,
        msg: Arc<P::Msg>,
        trace: &mut Option<&mut Trace>,
    ) {
        if to >= self.scope.nodes {
            return;
        }
        let key = fingerprint(&(from as u8, to as u8, call, &*msg));
        let id = w.next_id;
        w.next_id += 1;
        if let Some(t) = trace {
            let body = self.protocol.trace_body(&msg);
            t.push(Event {
                at: step_time(w.depth),
                kind: EventKind::Sent {
                    msg: MsgId(id),
                    from: NodeId(from as u32),
                    to: NodeId(to as u32),
                    body,
                },
            });
        }
        let at = w.flight.partition_point(|f| f.key <= key);
        w.flight.insert(at, Flight { key, from: from as u8, to: to as u8, call, msg, id, sent: w.depth });
    }

    fn set_state(w: &mut World<P::State, P::Msg>, node: usize, state: P::State) {
        w.hashes[node] = fingerprint(&state);
        w.states[node] = Arc::new(state);
    }

    /// Every step enabled in `w`, in a fixed order, each with the state it leads to.
    /// Returns the states with steps left that the timer budget stopped (0 or 1).
    fn successors(
        &self,
        w: &World<P::State, P::Msg>,
        mut each: impl FnMut(Move, World<P::State, P::Msg>) -> bool,
    ) -> bool {
        let mut timer_budget_stopped = false;
        for node in 0..self.scope.nodes {
            if let Some(c) = self.next_call(w, node) {
                if !each(Move::Call(c), self.apply(w, Move::Call(c), &mut None).0) {
                    return timer_budget_stopped;
                }
            }
        }
        for i in 0..w.flight.len() {
            if i > 0 && w.flight[i - 1].key == w.flight[i].key {
                continue; // an identical copy: the same steps
            }
            let target_up = w.is_up(w.flight[i].to as usize);
            let mut moves = vec![Move::Deliver(i, false)];
            if target_up && u32::from(w.duplicated) < self.scope.duplicates {
                moves.push(Move::Deliver(i, true));
            }
            if target_up && u32::from(w.lost) < self.scope.losses {
                moves.push(Move::Lose(i));
            }
            for m in moves {
                if !each(m, self.apply(w, m, &mut None).0) {
                    return timer_budget_stopped;
                }
            }
        }
        for i in 0..w.timers.len() {
            if i > 0 && w.timers[i - 1] == w.timers[i] {
                continue;
            }
            let (next, counted) = self.apply(w, Move::Fire(i), &mut None);
            if counted && u32::from(w.fired) >= self.scope.timer_fires {
                timer_budget_stopped = true;
                continue;
            }
            if !each(Move::Fire(i), next) {
                return timer_budget_stopped;
            }
        }
        for node in 0..self.scope.nodes {
            let m = if w.is_up(node) {
                if u32::from(w.crashed) >= self.scope.crashes {
                    continue;
                }
                Move::Crash(node)
            } else {
                Move::Recover(node)
            };
            if !each(m, self.apply(w, m, &mut None).0) {
                return timer_budget_stopped;
            }
        }
        timer_budget_stopped
    }

    /// The state after `m`; for a timer, also whether the firing did something (and so
    /// counts against the budget, which the returned state already includes).
    fn apply(
        &self,
        w: &World<P::State, P::Msg>,
        m: Move,
        trace: &mut Option<&mut Trace>,
    ) -> (World<P::State, P::Msg>, bool) {
        let mut w = w.clone();
        w.depth += 1;
        let at = step_time(w.depth);
        let mut counted = false;
        match m {
            Move::Call(c) => {
                let node = self.scope.calls[c].0.index();
                w.status[c] = Status::Running;
                w.history.push(HistoryEvent { call: c as u8, returned: None });
                let mut state = (*w.states[node]).clone();
                let mut out = Out::default();
                self.protocol.on_request(
                    &self.context(node, true),
                    &mut state,
                    &self.scope.calls[c].1,
                    &mut out,
                );
                Self::set_state(&mut w, node, state);
                self.carry_out(&mut w, node, Some(c as u8), None, out, trace);
            }
            Move::Deliver(i, copy) => {
                let f = if copy {
                    w.duplicated += 1;
                    w.flight[i].clone()
                } else {
                    w.flight.remove(i)
                };
                let (from, to) = (NodeId(f.from.into()), NodeId(f.to.into()));
                if !w.is_up(f.to as usize) {
                    if let Some(t) = trace {
                        t.push(Event {
                            at,
                            kind: EventKind::Dropped {
                                msg: MsgId(f.id),
                                from,
                                to,
                                cause: DropCause::TargetDown,
                            },
                        });
                    }
                } else {
                    if let Some(t) = trace {
                        if copy {
                            t.push(Event { at, kind: EventKind::Duplicated { msg: MsgId(f.id), from, to } });
                        }
                        let body = self.protocol.trace_body(&f.msg);
                        t.push(Event {
                            at,
                            kind: EventKind::Delivered {
                                msg: MsgId(f.id),
                                from,
                                to,
                                sent: step_time(f.sent),
                                body,
                            },
                        });
                    }
                    let node = f.to as usize;
                    let mut state = (*w.states[node]).clone();
                    let mut out = Out::default();
                    let ctx = self.context(node, f.call.is_some());
                    self.protocol.on_message(&ctx, &mut state, from, &f.msg, &mut out);
                    Self::set_state(&mut w, node, state);
                    self.carry_out(&mut w, node, f.call, Some(f.from), out, trace);
                }
            }
            Move::Lose(i) => {
                let f = w.flight.remove(i);
                w.lost += 1;
                if let Some(t) = trace {
                    let (from, to) = (NodeId(f.from.into()), NodeId(f.to.into()));
                    t.push(Event {
                        at,
                        kind: EventKind::Dropped { msg: MsgId(f.id), from, to, cause: DropCause::Lost },
                    });
                }
            }
            Move::Fire(i) => {
                let t = w.timers.remove(i);
                let node = t.node as usize;
                let mut state = (*w.states[node]).clone();
                let mut out = Out::default();
                self.protocol.on_timer(&self.context(node, t.call.is_some()), &mut state, t.id, &mut out);
                let hash = fingerprint(&state);
                counted = !out.effects.is_empty() || hash != w.hashes[node];
                if counted {
                    w.fired += 1;
                }
                Self::set_state(&mut w, node, state);
                self.carry_out(&mut w, node, t.call, None, out, trace);
            }
            Move::Crash(node) => {
                w.up &= !(1 << node);
                w.crashed += 1;
                let mut state = (*w.states[node]).clone();
                self.protocol.on_crash(&self.context(node, false), &mut state);
                Self::set_state(&mut w, node, state);
                w.timers.retain(|t| t.node as usize != node);
                for &c in &self.per_node[node] {
                    if w.status[c] == Status::Running {
                        w.status[c] = Status::Abandoned;
                    }
                }
                w.crashes.push((w.history.len() as u32, node as u8));
                if let Some(t) = trace {
                    t.push(Event { at, kind: EventKind::Crashed { node: NodeId(node as u32) } });
                }
            }
            Move::Recover(node) => {
                w.up |= 1 << node;
                if let Some(t) = trace {
                    t.push(Event { at, kind: EventKind::Recovered { node: NodeId(node as u32) } });
                }
                let mut state = (*w.states[node]).clone();
                let mut out = Out::default();
                self.protocol.on_recover(&self.context(node, false), &mut state, &mut out);
                Self::set_state(&mut w, node, state);
                self.carry_out(&mut w, node, None, None, out, trace);
            }
        }
        (w, counted)
    }

    /// The step as data, in the state it is taken from.
    fn step(&self, w: &World<P::State, P::Msg>, m: Move) -> Step {
        let call = |c: Option<u8>| c.map(usize::from);
        match m {
            Move::Call(c) => Step::Call { node: self.scope.calls[c].0, call: c },
            Move::Deliver(i, copy_stays) => {
                let f = &w.flight[i];
                Step::Deliver {
                    from: NodeId(f.from.into()),
                    to: NodeId(f.to.into()),
                    call: call(f.call),
                    message: self.protocol.describe(&f.msg),
                    key: f.key,
                    copy_stays,
                }
            }
            Move::Lose(i) => {
                let f = &w.flight[i];
                Step::Lose {
                    from: NodeId(f.from.into()),
                    to: NodeId(f.to.into()),
                    call: call(f.call),
                    message: self.protocol.describe(&f.msg),
                    key: f.key,
                }
            }
            Move::Fire(i) => {
                let t = w.timers[i];
                Step::Timer { node: NodeId(t.node.into()), id: t.id, call: call(t.call) }
            }
            Move::Crash(n) => Step::Crash { node: NodeId(n as u32) },
            Move::Recover(n) => Step::Recover { node: NodeId(n as u32) },
        }
    }

    /// Whether nothing is left to happen but crashes and recoveries.
    fn quiescent(&self, w: &World<P::State, P::Msg>) -> bool {
        w.flight.is_empty()
            && w.timers.iter().all(|t| !w.is_up(t.node as usize))
            && (0..self.scope.nodes).all(|n| self.next_call(w, n).is_none())
    }

    fn history(&self, w: &World<P::State, P::Msg>) -> History {
        let mut calls: Vec<(u8, Call)> = Vec::new();
        for (pos, e) in w.history.iter().enumerate() {
            let (node, op) = self.scope.calls[e.call as usize];
            match e.returned {
                None => calls.push((e.call, Call { node, op, invoked: event_time(pos), returned: None })),
                Some(output) => {
                    if let Some((_, c)) = calls.iter_mut().find(|(i, _)| *i == e.call) {
                        c.returned = Some((event_time(pos), output));
                    }
                }
            }
        }
        History { calls: calls.into_iter().map(|(_, c)| c).collect() }
    }

    /// [`Property::NoDuplicates`] on the state, without building an outcome.
    fn duplicate(&self, w: &World<P::State, P::Msg>) -> Option<String> {
        for (i, s) in w.states.iter().enumerate() {
            let mut held = self.protocol.held(s);
            held.sort_unstable();
            if let Some(pair) = held.windows(2).find(|p| p[0] == p[1]) {
                return Some(format!("Node-{i} holds {} twice", pair[0]));
            }
        }
        None
    }

    /// [`Property::Linearizable`] on the state's history, without building an outcome.
    fn not_linearizable(&self, w: &World<P::State, P::Msg>) -> Option<String> {
        let calls: Vec<RegisterCall> = self
            .history(w)
            .calls
            .iter()
            .filter_map(|c| match c.op {
                ClientOp::Write { value } => {
                    Some(RegisterCall { write: Some(value), invoked: c.invoked, returned: c.returned })
                }
                ClientOp::Read => {
                    Some(RegisterCall { write: None, invoked: c.invoked, returned: c.returned })
                }
                _ => None,
            })
            .collect();
        match linearizable::check(&calls) {
            Ok(verdict) => verdict.into_result().err(),
            Err(invalid) => Some(format!("the history cannot be checked: {invalid}")),
        }
    }

    fn outcome(&self, w: &World<P::State, P::Msg>, stats: &RunStats) -> Outcome<P> {
        Outcome {
            states: w.states.iter().map(|s| (**s).clone()).collect(),
            up: (0..self.scope.nodes).map(|n| w.is_up(n)).collect(),
            history: self.history(w),
            stats: stats.clone(),
            crashes: w.crashes.iter().map(|&(at, n)| (event_time(at as usize), NodeId(n.into()))).collect(),
        }
    }
}

/// The history's clock: event `k` (a call made or answered) at `k` milliseconds. Only the
/// order means anything.
fn event_time(position: usize) -> Time {
    Time(position as u64 * 1000)
}

/// The diagram's clock: step `k` of the path at `k` milliseconds.
fn step_time(depth: u32) -> Time {
    Time(u64::from(depth) * 1000)
}

fn is_safety<P: Protocol>(p: &Property<P>) -> bool {
    matches!(p, Property::Linearizable | Property::NoDuplicates)
}

/// A path's trace, for the space-time diagram.
struct PathRun {
    trace: Trace,
    nodes: usize,
    end: Time,
}

impl Recorded for PathRun {
    fn events(&self) -> std::borrow::Cow<'_, Trace> {
        std::borrow::Cow::Borrowed(&self.trace)
    }
    fn node_count(&self) -> usize {
        self.nodes
    }
    fn node_name(&self, i: usize) -> String {
        format!("Node-{i}")
    }
    fn clock(&self) -> Time {
        self.end
    }
    fn latency_histogram(&self) -> Vec<(f64, u64)> {
        Vec::new()
    }
    fn tracing(&self) -> bool {
        true
    }
}

type FxMap = HashMap<u64, (u64, u32), BuildHasherDefault<Identity>>;

impl<P> Checker<P>
where
    P: Protocol<Request = ClientOp, Output = u64>,
{
    /// Explores every schedule of `scope` breadth first and checks this checker's properties
    /// (see [`explore`](self) for the model, the properties and the verdicts). The nodes come
    /// from the scope; durability from the checker's [`Config`].
    ///
    /// Needs `P::State: Hash + Eq` and `P::Msg: Hash + Eq` (this method only: a learner adds
    /// `#[derive(Hash, PartialEq, Eq)]`), because each state is reduced to a fingerprint and
    /// expanded once. Deterministic: the same scope gives the same verdict and counts.
    pub fn explore(&self, scope: &Scope) -> Result<ExploreReport>
    where
        P::State: Hash + Eq,
        P::Msg: Hash + Eq,
    {
        let started = Instant::now();
        let engine = Engine::new(&self.protocol, scope, self.config.durable());
        let stats = self.empty_stats(scope)?;
        let (safety, settled): (Vec<usize>, Vec<usize>) = (0..self.properties.len())
            .filter(|&i| !matches!(self.properties[i], Property::MessagesPerCall(_)))
            .partition(|&i| is_safety(&self.properties[i]));
        let not_checked = self
            .properties
            .iter()
            .filter(|p| matches!(p, Property::MessagesPerCall(_)))
            .map(|p| format!("{} (the search keeps no message counts)", p.name()))
            .collect();
        let checked = safety.iter().chain(&settled).map(|&i| self.properties[i].name()).collect();

        // The first violated property and why. The safety properties are checked on the
        // state itself (linearizability only when the history grew); the others, on an
        // outcome built only in quiescent states.
        let violation = |w: &World<P::State, P::Msg>, history_grew: bool| -> Option<(usize, String)> {
            for &i in &safety {
                let broken = match self.properties[i] {
                    Property::NoDuplicates => engine.duplicate(w),
                    Property::Linearizable if history_grew => engine.not_linearizable(w),
                    _ => None,
                };
                if let Some(why) = broken {
                    return Some((i, why));
                }
            }
            if settled.is_empty() || !engine.quiescent(w) {
                return None;
            }
            let o = engine.outcome(w, &stats);
            settled.iter().find_map(|&i| self.properties[i].check(&self.protocol, &o).err().map(|m| (i, m)))
        };

        let mut report = ExploreReport {
            name: self.name.clone(),
            scope: scope.summary(),
            verdict: Verdict::Passed,
            states: 1,
            transitions: 0,
            max_depth: 0,
            elapsed: Duration::ZERO,
            checked,
            not_checked,
            stopped_by_timer_budget: 0,
        };
        let init = engine.initial();
        let root = init.fingerprint();
        let mut visited = FxMap::default();
        visited.insert(root, (root, u32::MAX));
        let mut found: Option<(u64, usize, String)> = violation(&init, true).map(|(p, m)| (root, p, m));
        let mut bound: Option<Bound> = None;
        let mut queue = VecDeque::from([(init, root)]);
        let mut popped = 0u64;
        while found.is_none() {
            let Some((w, fp)) = queue.pop_front() else { break };
            popped += 1;
            if popped % 256 == 0 && started.elapsed().as_secs_f64() > scope.time_limit_s {
                bound.get_or_insert(Bound::TimeMs((scope.time_limit_s * 1000.0) as u64));
                break;
            }
            let at_max_depth = w.depth >= scope.max_depth;
            let mut index = 0u32;
            let mut full = false;
            let stopped = engine.successors(&w, |_, next| {
                let i = index;
                index += 1;
                if at_max_depth {
                    if !visited.contains_key(&next.fingerprint()) {
                        bound.get_or_insert(Bound::Depth(scope.max_depth));
                    }
                    return true;
                }
                report.transitions += 1;
                if next.flight.len() > scope.max_in_flight {
                    bound.get_or_insert(Bound::InFlight(scope.max_in_flight));
                    return true;
                }
                let nfp = next.fingerprint();
                if visited.contains_key(&nfp) {
                    return true;
                }
                if visited.len() as u64 >= scope.max_states {
                    bound.get_or_insert(Bound::States(scope.max_states));
                    full = true;
                    return false;
                }
                visited.insert(nfp, (fp, i));
                report.max_depth = report.max_depth.max(next.depth);
                if let Some((p, m)) = violation(&next, next.history.len() != w.history.len()) {
                    found = Some((nfp, p, m));
                    return false;
                }
                queue.push_back((next, nfp));
                true
            });
            if stopped && w.flight.is_empty() && (0..scope.nodes).all(|n| engine.next_call(&w, n).is_none()) {
                report.stopped_by_timer_budget += 1;
            }
            if full {
                break;
            }
        }
        report.states = visited.len() as u64;
        if let Some((fp, p, message)) = found {
            // The path: parents back to the root, then replayed forwards.
            let mut moves = Vec::new();
            let mut at = fp;
            while at != root {
                let (parent, i) = visited[&at];
                moves.push(i);
                at = parent;
            }
            moves.reverse();
            let (steps, end, trace) = self.walk_indices(&engine, &moves);
            let diagram =
                chart::space_time(&PathRun { trace, nodes: scope.nodes, end: step_time(end.depth + 1) });
            report.verdict = Verdict::Failed(Box::new(Counterexample {
                property: self.properties[p].name(),
                message,
                steps,
                history: engine.history(&end),
                diagram: Some(diagram),
            }));
        } else if let Some(b) = bound {
            report.verdict = Verdict::Unknown { bound: b };
        }
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Runs `steps` (a counterexample's, or any list of [`Step`]s) from the start of
    /// `scope`, and returns the outcome at the end (the history's times are event positions).
    /// A step that is not enabled where it is taken is an error naming it.
    pub fn replay_steps(&self, scope: &Scope, steps: &[Step]) -> Result<Outcome<P>>
    where
        P::State: Hash + Eq,
        P::Msg: Hash + Eq,
    {
        let engine = Engine::new(&self.protocol, scope, self.config.durable());
        let stats = self.empty_stats(scope)?;
        let mut w = engine.initial();
        for (n, step) in steps.iter().enumerate() {
            let mut next = None;
            engine.successors(&w, |m, s| {
                if engine.step(&w, m) == *step {
                    next = Some(s);
                    return false;
                }
                true
            });
            w = next.ok_or_else(|| {
                Error::argument(
                    "step",
                    format!("{} ({step})", n + 1),
                    "a step enabled in the state it is taken from",
                )
            })?;
        }
        Ok(engine.outcome(&w, &stats))
    }

    /// Replays the moves numbered `indices` from the start: the steps, the end state and the
    /// trace of the path.
    fn walk_indices(
        &self,
        engine: &Engine<'_, P>,
        indices: &[u32],
    ) -> (Vec<Step>, World<P::State, P::Msg>, Trace)
    where
        P::State: Hash + Eq,
        P::Msg: Hash + Eq,
    {
        let mut w = engine.initial();
        let mut steps = Vec::new();
        let mut trace = Trace::default();
        for &want in indices {
            let mut chosen = None;
            let mut i = 0u32;
            engine.successors(&w, |m, _| {
                if i == want {
                    chosen = Some(m);
                    return false;
                }
                i += 1;
                true
            });
            let Some(m) = chosen else { break };
            steps.push(engine.step(&w, m));
            w = engine.apply(&w, m, &mut Some(&mut trace)).0;
        }
        (steps, w, trace)
    }

    fn empty_stats(&self, scope: &Scope) -> Result<RunStats> {
        let config = Config::builder().nodes(scope.nodes).trace(false).build()?;
        Ok(Sim::new(self.protocol.clone(), config).stats())
    }
}
