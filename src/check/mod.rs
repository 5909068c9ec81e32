//! Check a protocol over many seeds and faults: a learner's own node, graded.
//!
//! A [`Checker`] runs a [`Protocol`] whose requests are [`ClientOp`]s on the simulated
//! runtime, by default over 200 seeds. Each seed draws its own workload (the client
//! operations, at virtual times) and its own fault schedule within the [`Bounds`] set:
//! crashes and recoveries, partitions that heal, on top of the configured message loss.
//! After each run it checks the [`Property`]s on the final states and the history of calls
//! and answers. The [`CheckReport`] gives passed N of M; for the first failure, the seed, the
//! fault schedule shrunk to the fewest faults that still fail (and the workload to the fewest
//! operations), the history and the space-time diagram of that run, which
//! [`Checker::replay`] rebuilds exactly.
//!
//! Random seeds rarely build the schedule some bugs need. A register whose reads skip the
//! write-back (the classic ABD mistake) breaks linearizability only in a new-old inversion:
//! a write has reached some replicas (or only its writer) but not yet a majority, and two
//! reads, one after the other, ask different majorities: the first sees the new value, the
//! second only the old. Two tools make that schedule likelier:
//! - [`Workload::RegisterBursts`]: calls in bursts at different nodes within 2 ms, so writes
//!   and reads overlap on purpose;
//! - [`FaultKind::Slow`] (bounded by [`Bounds::slow`]): for a while, one node's messages to a
//!   majority of the nodes take 200 to 1000 ms longer, so a write at that node reaches a
//!   minority at once and a majority only much later.
//!
//! Step 5 of notebook 07 ([`exercises::majority_register`]) uses both. They help less than
//! hoped: the write must be slow in its store phase and not in its query phase, and the
//! half-finished window closes as soon as another write lands; `cargo run --release --example
//! detection` prints how many of 200 seeds catch each broken protocol, and the exhaustive
//! search ([`Checker::explore`]) finds the inversion for certain in a small scope.
//!
//! ```
//! use distlab::check::{exercises, Checker};
//! // The reference solution of step 3 (retry on a timer) passes.
//! let report = exercises::reliable_delivery(exercises::solutions::Reliable).seeds(20).check()?;
//! assert_eq!(report.passed, 20);
//! # Ok::<(), distlab::Error>(())
//! ```

mod bars;
pub mod exercises;
pub mod explore;
pub mod linearizable;
mod properties;
mod report;
pub mod schedule;

pub use properties::{Outcome, Property};
pub use report::{Call, CheckReport, Failure, History};
pub use schedule::{Bounds, Fault, FaultKind, Schedule, SLOW_MAX_MS, SLOW_MIN_MS};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::chart;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::node::NodeId;
use crate::protocol::Protocol;
use crate::report::Verb;
use crate::sim::Sim;
use crate::time::Time;

/// What a client asks a node to do: the requests of a protocol that can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ClientOp {
    /// Deliver `value` to node `to`.
    Send {
        /// The receiver.
        to: NodeId,
        /// A value no other call uses.
        value: u64,
    },
    /// Deliver `value` to every node.
    Broadcast {
        /// A value no other call uses.
        value: u64,
    },
    /// Write `value` into the register.
    Write {
        /// A value no other call uses.
        value: u64,
    },
    /// Read the register (answer with [`Out::respond`](crate::protocol::Out::respond)).
    Read,
}

/// In a history's words: `send 3 to Node-1`, `broadcast 3`, `write 3`, `read`.
impl std::fmt::Display for ClientOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ClientOp::Send { to, value } => write!(f, "send {value} to Node-{to}"),
            ClientOp::Broadcast { value } => write!(f, "broadcast {value}"),
            ClientOp::Write { value } => write!(f, "write {value}"),
            ClientOp::Read => f.write_str("read"),
        }
    }
}

/// Which calls a run makes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "workload", rename_all = "snake_case")]
pub enum Workload {
    /// `from` sends every value to `to`.
    Send {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
    },
    /// A live node chosen at random broadcasts each value.
    Broadcast,
    /// A live node chosen at random writes (or, with probability `reads`, reads) the register.
    Register {
        /// The share of reads, 0 to 1.
        reads: f64,
    },
    /// The register's calls in bursts that overlap on purpose: each burst is 2 to `size`
    /// calls (writes, or reads with probability `reads`) at different live nodes, within
    /// [`BURST_SPREAD_MS`] of virtual time, so they run concurrently; bursts start at random
    /// times, as the calls of [`Workload::Register`] do. A write still in progress (a slow
    /// replica, a lost message) then overlaps reads of several later bursts, one after the
    /// other at different nodes: the schedule a new-old inversion needs.
    RegisterBursts {
        /// The share of reads, 0 to 1.
        reads: f64,
        /// The most calls in one burst, 1 to 100 (1: every call alone, as `Register`).
        size: usize,
    },
}

/// Virtual time between two calls of the workload, on average.
const CALL_SPACING_US: u64 = 20_000;

/// The calls of one burst of [`Workload::RegisterBursts`] start within this many virtual ms.
pub const BURST_SPREAD_MS: f64 = 2.0;

/// Runs a protocol over many seeds and fault schedules and checks properties (see the module
/// docs). Build one with [`Checker::new`] and its setters; [`Checker::check`] runs it.
#[derive(Debug, Clone)]
pub struct Checker<P: Protocol<Request = ClientOp, Output = u64>> {
    name: String,
    protocol: P,
    config: Config,
    seeds: u64,
    first_seed: u64,
    calls: usize,
    workload: Workload,
    bounds: Bounds,
    properties: Vec<Property<P>>,
}

impl<P: Protocol<Request = ClientOp, Output = u64>> Checker<P> {
    /// A checker of `protocol`: 5 nodes, loss 0.1, 200 seeds from 1, 100 broadcasts, no
    /// crashes or partitions, no properties yet.
    pub fn new(protocol: P) -> Self {
        let config =
            Config::builder().nodes(5).loss(0.1).trace(false).build().expect("the defaults are valid");
        Checker {
            name: "check".into(),
            protocol,
            config,
            seeds: 200,
            first_seed: 1,
            calls: 100,
            workload: Workload::Broadcast,
            bounds: Bounds::default(),
            properties: Vec::new(),
        }
    }
    /// The name its report shows.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }
    /// The cluster: nodes, latency, loss, timeout, durability (its seed and trace are set
    /// per run).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }
    /// How many seeds (runs), 1 to 100,000.
    pub fn seeds(mut self, seeds: u64) -> Self {
        self.seeds = seeds;
        self
    }
    /// The first seed; run `i` uses `first + i`.
    pub fn first_seed(mut self, first: u64) -> Self {
        self.first_seed = first;
        self
    }
    /// Calls per run, 1 to 10,000.
    pub fn calls(mut self, calls: usize) -> Self {
        self.calls = calls;
        self
    }
    /// Which calls a run makes.
    pub fn workload(mut self, workload: Workload) -> Self {
        self.workload = workload;
        self
    }
    /// How many crashes and partitions a schedule may hold.
    pub fn faults(mut self, bounds: Bounds) -> Self {
        self.bounds = bounds;
        self
    }
    /// Adds a property to check after every run.
    pub fn property(mut self, property: Property<P>) -> Self {
        self.properties.push(property);
        self
    }

    fn validate(&self) -> Result<()> {
        let n = self.config.nodes();
        if !(1..=100_000).contains(&self.seeds) {
            return Err(Error::argument("seeds", self.seeds, "1 to 100000"));
        }
        if !(1..=10_000).contains(&self.calls) {
            return Err(Error::argument("calls", self.calls, "1 to 10000"));
        }
        if self.bounds.crashes > (n - 1) / 2 {
            return Err(Error::argument(
                "crashes",
                self.bounds.crashes,
                format!("0 to {} (fewer than half of {n} nodes, so a majority stays up)", (n - 1) / 2),
            ));
        }
        if self.bounds.partitions > 10 || (self.bounds.partitions > 0 && n < 2) {
            return Err(Error::argument(
                "partitions",
                self.bounds.partitions,
                "0 to 10, with at least 2 nodes",
            ));
        }
        if self.bounds.slow > n.min(10) || (self.bounds.slow > 0 && n < 2) {
            return Err(Error::argument(
                "slow",
                self.bounds.slow,
                format!("0 to {} (one slow period per node, at most 10), with at least 2 nodes", n.min(10)),
            ));
        }
        match self.workload {
            Workload::Send { from, to } if from.index() >= n || to.index() >= n || from == to => {
                Err(Error::argument(
                    "workload",
                    format!("send from {from} to {to}"),
                    format!("two different nodes from 0 to {}", n - 1),
                ))
            }
            Workload::Register { reads } | Workload::RegisterBursts { reads, .. }
                if !(0.0..=1.0).contains(&reads) =>
            {
                Err(Error::argument("reads", reads, "a share from 0 to 1"))
            }
            Workload::RegisterBursts { size, .. } if !(1..=100).contains(&size) => {
                Err(Error::argument("size", size, "1 to 100 calls in a burst"))
            }
            _ => Ok(()),
        }
    }

    /// Runs every seed and checks every property; stops looking at further properties of a
    /// run at its first violation.
    pub fn check(&self) -> Result<CheckReport> {
        self.validate()?;
        let mut passed = 0;
        let mut failed_by: Vec<(String, u64)> = self.properties.iter().map(|p| (p.name(), 0)).collect();
        let mut first: Option<(u64, usize, String)> = None;
        let mut sent = 0u64;
        let mut answered = 0u64;
        for i in 0..self.seeds {
            let seed = self.first_seed.wrapping_add(i);
            let schedule = self.schedule(seed, self.calls);
            let (_, outcome) = self.run(seed, &schedule, self.calls, false)?;
            sent += outcome.stats.total.sent;
            answered += outcome.history.calls.iter().filter(|c| c.returned.is_some()).count() as u64;
            match self.violation(&outcome) {
                None => passed += 1,
                Some((p, message)) => {
                    failed_by[p].1 += 1;
                    first.get_or_insert((seed, p, message));
                }
            }
        }
        let first_failure = match first {
            Some((seed, p, _)) => Some(self.explain(seed, p)?),
            None => None,
        };
        Ok(CheckReport {
            name: self.name.clone(),
            runs: self.seeds,
            passed,
            failed_by,
            messages_per_call: sent as f64 / (self.seeds as f64 * self.calls as f64),
            answered_share: answered as f64 / (self.seeds as f64 * self.calls as f64),
            first_failure,
        })
    }

    /// The first property the outcome violates: (its index, why).
    fn violation(&self, outcome: &Outcome<P>) -> Option<(usize, String)> {
        self.properties
            .iter()
            .enumerate()
            .find_map(|(i, p)| p.check(&self.protocol, outcome).err().map(|m| (i, m)))
    }

    fn fails(&self, seed: u64, schedule: &Schedule, calls: usize, property: usize) -> bool {
        self.run(seed, schedule, calls, false)
            .map(|(_, o)| self.properties[property].check(&self.protocol, &o).is_err())
            .unwrap_or(false)
    }

    /// Shrinks the failing run of `seed` (its faults, then its calls) and replays it with
    /// the trace on.
    fn explain(&self, seed: u64, property: usize) -> Result<Failure> {
        let drawn = self.schedule(seed, self.calls);
        let schedule = drawn.shrink(|s| self.fails(seed, s, self.calls, property));
        // The fewest calls (a prefix of the same workload) that still fail.
        let mut calls = self.calls;
        let mut k = 1;
        while k < self.calls {
            if self.fails(seed, &schedule, k, property) {
                calls = k;
                break;
            }
            k *= 2;
        }
        let failure = Failure {
            seed,
            property: self.properties[property].name(),
            message: String::new(),
            faults_drawn: drawn.faults.len(),
            schedule,
            calls,
            history: History::default(),
            diagram: None,
        };
        let (sim, outcome) = self.replay(&failure)?;
        let message = self.properties[property].check(&self.protocol, &outcome).err().unwrap_or_default();
        Ok(Failure { message, history: outcome.history, diagram: Some(chart::space_time(&sim)), ..failure })
    }

    /// Runs a failure's seed again, with its shrunk schedule and calls and the trace on:
    /// exactly the run the report describes, to step through, narrate or draw.
    pub fn replay(&self, failure: &Failure) -> Result<(Sim<P>, Outcome<P>)> {
        self.run(failure.seed, &failure.schedule, failure.calls, true)
    }

    fn schedule(&self, seed: u64, calls: usize) -> Schedule {
        let span = Time(calls as u64 * CALL_SPACING_US);
        Schedule::draw(seed, self.config.nodes(), self.bounds, span)
    }

    /// The calls of `seed`: when, what, and a number that picks the node. The first `calls`
    /// of the seed's whole workload, so a shorter run is a prefix of the longer one.
    fn plan(&self, seed: u64, calls: usize) -> Vec<(Time, ClientOp, u64)> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x4341_4c4c_5300_0000);
        let span = self.calls as u64 * CALL_SPACING_US;
        if let Workload::RegisterBursts { reads, size } = self.workload {
            return self.bursts(&mut rng, span, reads, size, calls);
        }
        let mut times: Vec<u64> = (0..self.calls).map(|_| rng.random_range(0..span)).collect();
        times.sort_unstable();
        times
            .into_iter()
            .enumerate()
            .take(calls)
            .map(|(i, t)| {
                let value = i as u64 + 1;
                let op = match self.workload {
                    Workload::Send { to, .. } => ClientOp::Send { to, value },
                    Workload::Broadcast => ClientOp::Broadcast { value },
                    Workload::Register { reads } | Workload::RegisterBursts { reads, .. } => {
                        if rng.random::<f64>() < reads {
                            ClientOp::Read
                        } else {
                            ClientOp::Write { value }
                        }
                    }
                };
                (Time(t), op, rng.random::<u64>())
            })
            .collect()
    }

    /// The calls of [`Workload::RegisterBursts`]: bursts of 2 to `size` calls until the
    /// run's calls are drawn, each burst at a random time over `span`, its calls within
    /// [`BURST_SPREAD_MS`]. The calls of a burst get consecutive numbers to pick their node
    /// with, so they land on different live nodes (as many as there are).
    fn bursts(
        &self,
        rng: &mut Xoshiro256PlusPlus,
        span: u64,
        reads: f64,
        size: usize,
        calls: usize,
    ) -> Vec<(Time, ClientOp, u64)> {
        let spread = Time::from_ms(BURST_SPREAD_MS).0.max(1);
        // (time, read?, pick), in the order drawn.
        let mut drawn: Vec<(u64, bool, u64)> = Vec::with_capacity(self.calls);
        while drawn.len() < self.calls {
            let k = rng.random_range(size.min(2)..=size).min(self.calls - drawn.len());
            let start = rng.random_range(0..span);
            let pick = u64::from(rng.random::<u32>());
            for j in 0..k as u64 {
                let at = start + if j == 0 { 0 } else { rng.random_range(0..spread) };
                drawn.push((at, rng.random::<f64>() < reads, pick + j));
            }
        }
        drawn.sort_by_key(|&(at, _, _)| at); // stable: a burst's calls keep their order on ties
        drawn
            .into_iter()
            .enumerate()
            .take(calls)
            .map(|(i, (at, read, pick))| {
                let op = if read { ClientOp::Read } else { ClientOp::Write { value: i as u64 + 1 } };
                (Time(at), op, pick)
            })
            .collect()
    }

    /// One run: the workload's first `calls` calls and the schedule's faults, in time order,
    /// then partitions healed and the clock run on (10 timeouts) for what is still moving.
    fn run(&self, seed: u64, schedule: &Schedule, calls: usize, trace: bool) -> Result<(Sim<P>, Outcome<P>)> {
        let config = self.config.to_builder().seed(seed).trace(trace).build()?;
        let settle = Time::from_ms(10.0 * config.timeout_ms());
        let mut sim = Sim::new(self.protocol.clone(), config);
        let plan = self.plan(seed, calls);
        let mut started: Vec<(u32, NodeId, ClientOp, Time)> = Vec::with_capacity(plan.len());
        let (mut p, mut f) = (0, 0);
        let mut end = Time(0);
        while p < plan.len() || f < schedule.faults.len() {
            let call_next =
                f >= schedule.faults.len() || (p < plan.len() && plan[p].0 <= schedule.faults[f].at);
            let at = if call_next { plan[p].0 } else { schedule.faults[f].at };
            sim.run_until(at.as_ms())?;
            end = end.max(at);
            if call_next {
                let (_, op, pick) = plan[p];
                p += 1;
                let node = match self.workload {
                    Workload::Send { from, .. } => Some(from),
                    _ => {
                        let up: Vec<NodeId> =
                            (0..sim.nodes.len() as u32).map(NodeId).filter(|&n| sim.up(n)).collect();
                        (!up.is_empty()).then(|| up[(pick % up.len() as u64) as usize])
                    }
                };
                let Some(node) = node else { continue };
                if let Ok(id) = sim.start(Verb::Request, node, &op, Some("request")) {
                    started.push((id, node, op, sim.now()));
                }
            } else {
                match &schedule.faults[f].kind {
                    FaultKind::Crash { node } => {
                        sim.apply_crash(*node);
                    }
                    FaultKind::Recover { node } => {
                        sim.apply_recover(*node);
                    }
                    FaultKind::Partition { group } => {
                        sim.partition([group.clone()])?;
                    }
                    FaultKind::Slow { node, to, extra_ms } => {
                        sim.set_slow(*node, to, Time(extra_ms.saturating_mul(1000)));
                    }
                    FaultKind::Fast { node } => {
                        sim.set_slow(*node, &[], Time(0));
                    }
                    FaultKind::Heal => {
                        sim.heal();
                    }
                }
                f += 1;
            }
        }
        sim.heal();
        sim.clear_slow();
        sim.run_until(end.after(settle).as_ms())?;
        let calls = started
            .into_iter()
            .map(|(id, node, op, invoked)| Call { node, op, invoked, returned: sim.book.response(id) })
            .collect();
        let outcome = Outcome {
            states: sim.nodes.iter().map(|n| n.state.clone()).collect(),
            up: sim.nodes.iter().map(|n| !n.down).collect(),
            history: History { calls },
            stats: sim.stats(),
            crashes: schedule
                .faults
                .iter()
                .filter_map(|f| match f.kind {
                    FaultKind::Crash { node } => Some((f.at, node)),
                    _ => None,
                })
                .collect(),
        };
        Ok((sim, outcome))
    }
}
