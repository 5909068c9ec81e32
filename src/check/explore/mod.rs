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
//! // Step 3's reference: one send, one loss, two retries. Every schedule delivers it.
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

use crate::chart;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::node::NodeId;
use crate::protocol::{Context, Effect, Out, Protocol};
use crate::sim::Sim;
use crate::stats::RunStats;
use crate::time::Time;
use crate::trace::{DropCause, Event, EventKind, MsgId, Recorded, Trace};

use super::properties;
use super::{Call, Checker, ClientOp, History, Outcome, Property};

mod engine;
mod fingerprint;
mod report;
mod scope;

pub use report::{Bound, Counterexample, ExploreReport, Step, Verdict};
pub use scope::{Scope, ScopeBuilder};

use engine::{is_safety, step_time, PathRun};
use fingerprint::{fingerprint, Fold, Identity};

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
