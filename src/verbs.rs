//! The learner's verbs, declared once: [`Call`] is the table (one variant per verb, its
//! arguments with nodes as indices), and [`Verbs`] is how a runtime carries one out. Both
//! runtimes implement it, the simulated [`Cluster`](crate::Cluster) and the real
//! [`RealCluster`](crate::udp::RealCluster), so the same `Vec<Call>` runs on either:
//!
//! ```
//! use distlab::prelude::*;
//! use distlab::verbs::Call;
//!
//! let script = vec![
//!     Call::Send { from: 0, to: 1, text: "hi".into() },
//!     Call::Crash { node: 2 },
//!     Call::Replicate { key: "k".into(), value: "v1".into() },
//! ];
//! let mut cluster = Cluster::new(Config::builder().loss(0.0).build()?);
//! for call in script.clone() {
//!     println!("{}", cluster.apply(call)?.summary());
//! }
//! assert_eq!(cluster.calls(), script.as_slice()); // what a run file saves
//! # Ok::<(), distlab::Error>(())
//! ```
//!
//! The typed methods (`cluster.send(0, 1, "hi")?`, `real.partition([vec![0, 1]])?`) are
//! provided by [`Verbs`]: each resolves node names, builds its [`Call`] and applies it, so a
//! verb typed in a notebook, a line of a run file, a what-if replay and a property test take
//! the same path. The clock verbs (`step`, `run`, `run_until`) and the scheduled faults
//! (`crash_at`, `recover_at`) are calls too, but only the simulation has them: real time runs
//! by itself, so on real sockets they are an [`Error`] naming the verb, and they are methods
//! of [`Cluster`](crate::Cluster) only.
//!
//! This module knows neither runtime: both import it, and it imports neither.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::node::NodeRef;
use crate::report::{Log, OpReport};
use crate::trace::{Event, MsgId};

/// One verb call, with its nodes as indices: what a run file saves, a what-if fork replays,
/// and a property test generates. Read-only verbs (checks, status, charts) change nothing
/// and are not calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "snake_case", deny_unknown_fields)]
pub enum Call {
    /// Sends `text` from one node to another and waits for the reply or the timeout. A node
    /// that is down sends nothing: the message is dropped with cause "sender down".
    Send {
        /// Sender.
        from: u32,
        /// Target.
        to: u32,
        /// Text.
        text: String,
    },
    /// Sends `text` from one node to every other node and waits for replies or timeouts.
    Broadcast {
        /// Sender.
        from: u32,
        /// Text.
        text: String,
    },
    /// Writes `key = value` through the first live node as coordinator (an error when every
    /// node is down).
    Replicate {
        /// Key.
        key: String,
        /// Value.
        value: String,
    },
    /// The coordinator stores a new version of `key` and sends it to every other node;
    /// replicas apply it if it is newer and acknowledge.
    ReplicateFrom {
        /// Coordinator.
        node: u32,
        /// Key.
        key: String,
        /// Value.
        value: String,
    },
    /// Anti-entropy: the node asks every peer for newer versions and applies them.
    Sync {
        /// The node that syncs.
        node: u32,
    },
    /// Crashes a node now (crashing a down node does nothing).
    Crash {
        /// The node.
        node: u32,
    },
    /// Brings a node back now; it learns what it missed only when it syncs.
    Recover {
        /// The node.
        node: u32,
    },
    /// Schedules a crash at a virtual time (simulation only).
    CrashAt {
        /// The node.
        node: u32,
        /// When, in virtual ms.
        at_ms: f64,
    },
    /// Schedules a recovery at a virtual time (simulation only).
    RecoverAt {
        /// The node.
        node: u32,
        /// When, in virtual ms.
        at_ms: f64,
    },
    /// Splits the nodes into groups that cannot reach each other; nodes not listed form one
    /// more group.
    Partition {
        /// The groups given.
        groups: Vec<Vec<u32>>,
    },
    /// Cuts one direction only: messages from `from` to `to` are dropped.
    PartitionOneWay {
        /// Senders cut off.
        from: Vec<u32>,
        /// From these targets.
        to: Vec<u32>,
    },
    /// Removes every partition.
    Heal,
    /// A one-way message with no reply and no waiting (storms, custom schedules).
    Post {
        /// Sender.
        from: u32,
        /// Target.
        to: u32,
        /// Text (shared between the posts of a storm).
        text: Arc<str>,
    },
    /// Processes the next event (simulation only).
    Step,
    /// Runs until nothing is scheduled (simulation only).
    Run,
    /// Runs every event up to a virtual time (simulation only).
    RunUntil {
        /// The time run to, in virtual ms.
        t_ms: f64,
    },
}

impl Call {
    /// The verb's name, as a run file spells it.
    pub fn verb(&self) -> &'static str {
        match self {
            Call::Send { .. } => "send",
            Call::Broadcast { .. } => "broadcast",
            Call::Replicate { .. } => "replicate",
            Call::ReplicateFrom { .. } => "replicate_from",
            Call::Sync { .. } => "sync",
            Call::Crash { .. } => "crash",
            Call::Recover { .. } => "recover",
            Call::CrashAt { .. } => "crash_at",
            Call::RecoverAt { .. } => "recover_at",
            Call::Partition { .. } => "partition",
            Call::PartitionOneWay { .. } => "partition_one_way",
            Call::Heal => "heal",
            Call::Post { .. } => "post",
            Call::Step => "step",
            Call::Run => "run",
            Call::RunUntil { .. } => "run_until",
        }
    }

    /// Checks that every node the call names exists in `config` (the error names the first
    /// one that does not). Runtimes check before they act, so a call read from a file or
    /// generated by a test is refused as a typed call would be.
    pub fn check(&self, config: &Config) -> Result<()> {
        let known = |n: &u32| config.resolve(*n).map(drop);
        match self {
            Call::Send { from, to, .. } | Call::Post { from, to, .. } => known(from).and(known(to)),
            Call::Broadcast { from: node, .. }
            | Call::ReplicateFrom { node, .. }
            | Call::Sync { node }
            | Call::Crash { node }
            | Call::Recover { node }
            | Call::CrashAt { node, .. }
            | Call::RecoverAt { node, .. } => known(node),
            Call::Partition { groups } => groups.iter().flatten().try_for_each(known),
            Call::PartitionOneWay { from, to } => from.iter().chain(to).try_for_each(known),
            Call::Replicate { .. } | Call::Heal | Call::Step | Call::Run | Call::RunUntil { .. } => Ok(()),
        }
    }

    /// The error a runtime without virtual time gives for a call that needs it (`step`,
    /// `run`, `run_until`, `crash_at`, `recover_at`).
    pub fn needs_virtual_time(&self) -> Error {
        Error::argument(
            "verb",
            self.verb(),
            "a verb of real sockets (send, broadcast, replicate, replicate_from, sync, crash, recover, \
             partition, partition_one_way, heal, post): real time runs by itself, so step, run, \
             run_until, crash_at and recover_at are the simulation's",
        )
    }
}

/// What a call returned.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The report of an operation: `send`, `broadcast`, `replicate`, `replicate_from`, `sync`.
    Report(OpReport),
    /// The narration of a fault: `crash`, `recover`, `partition`, `partition_one_way`, `heal`.
    Log(Log),
    /// The id of a posted message.
    Posted(MsgId),
    /// A fault scheduled: `crash_at`, `recover_at`.
    Scheduled,
    /// The event `step` processed (None: nothing was scheduled).
    Stepped(Option<Event>),
    /// The number of events `run` or `run_until` processed.
    Ran(usize),
}

impl Outcome {
    /// What the verb printed or reported, in one line (what-if runs compare these).
    pub fn summary(&self) -> String {
        match self {
            Outcome::Report(r) => r.summary(),
            Outcome::Log(log) => log.to_string(),
            Outcome::Posted(id) => format!("message {}", id.0),
            Outcome::Scheduled => String::new(),
            Outcome::Stepped(e) => e.as_ref().map(|e| format!("{:?}", e.kind)).unwrap_or_default(),
            Outcome::Ran(n) => format!("{n} events"),
        }
    }

    /// The report of an operation; an error for another outcome.
    pub fn into_report(self) -> Result<OpReport> {
        match self {
            Outcome::Report(r) => Ok(r),
            other => Err(other.mismatch("an operation's report")),
        }
    }
    /// The narration of a fault; an error for another outcome.
    pub fn into_log(self) -> Result<Log> {
        match self {
            Outcome::Log(log) => Ok(log),
            other => Err(other.mismatch("a fault's log")),
        }
    }
    /// The id of a posted message; an error for another outcome.
    pub fn into_message(self) -> Result<MsgId> {
        match self {
            Outcome::Posted(id) => Ok(id),
            other => Err(other.mismatch("a message id")),
        }
    }
    /// The event a step processed; an error for another outcome.
    pub fn into_event(self) -> Result<Option<Event>> {
        match self {
            Outcome::Stepped(e) => Ok(e),
            other => Err(other.mismatch("a step's event")),
        }
    }
    /// The number of events a run processed; an error for another outcome.
    pub fn into_count(self) -> Result<usize> {
        match self {
            Outcome::Ran(n) => Ok(n),
            other => Err(other.mismatch("a number of events")),
        }
    }

    /// A runtime answered a call with the wrong kind of outcome (a bug, reported, not a
    /// panic).
    fn mismatch(&self, wanted: &str) -> Error {
        let got = match self {
            Outcome::Report(_) => "a report",
            Outcome::Log(_) => "a log",
            Outcome::Posted(_) => "a message id",
            Outcome::Scheduled => "a scheduled fault",
            Outcome::Stepped(_) => "a step",
            Outcome::Ran(_) => "a count of events",
        };
        Error::argument("outcome", got, format!("{wanted} (please report this)"))
    }
}

/// A runtime that carries out [`Call`]s: the simulated [`Cluster`](crate::Cluster) and the
/// real [`RealCluster`](crate::udp::RealCluster).
///
/// A runtime implements [`Verbs::apply`], its one dispatch; the typed verbs are provided, the
/// same for both. A runtime records each call that succeeded while its trace is on
/// ([`Verbs::calls`]): a run file saves them, and replaying them on a runtime with the same
/// configuration repeats the run (byte for byte in the simulation).
///
/// ```
/// use distlab::prelude::*;
///
/// /// Works on either runtime.
/// fn write_twice(r: &mut impl Verbs) -> Result<usize> {
///     r.replicate("k", "v1")?;
///     Ok(r.replicate("k", "v2")?.acked().len())
/// }
/// let mut cluster = Cluster::new(Config::builder().loss(0.0).build()?);
/// assert_eq!(write_twice(&mut cluster)?, 2);
/// # Ok::<(), distlab::Error>(())
/// ```
pub trait Verbs {
    /// The configuration the runtime was built from (node names resolve through it).
    fn config(&self) -> &Config;
    /// The calls that succeeded so far, in order (kept only while the trace is on).
    fn calls(&self) -> &[Call];
    /// Carries out one call: checks its nodes, acts, and records it when it succeeded and the
    /// trace is on. A call this runtime cannot carry out is an [`Error`] naming the verb.
    fn apply(&mut self, call: Call) -> Result<Outcome>;

    /// Sends `text` from one node to another and waits for the reply or the timeout.
    ///
    /// A node that is down sends nothing: the message is dropped with cause "sender down".
    fn send(&mut self, from: impl Into<NodeRef>, to: impl Into<NodeRef>, text: &str) -> Result<OpReport>
    where
        Self: Sized,
    {
        let (from, to) = (index(self.config(), from)?, index(self.config(), to)?);
        self.apply(Call::Send { from, to, text: text.into() })?.into_report()
    }

    /// Sends `text` from one node to every other node and waits for replies or timeouts.
    ///
    /// The report gives reached / alive / total and which targets acknowledged: the sender
    /// only knows the acknowledgements.
    fn broadcast(&mut self, from: impl Into<NodeRef>, text: &str) -> Result<OpReport>
    where
        Self: Sized,
    {
        let from = index(self.config(), from)?;
        self.apply(Call::Broadcast { from, text: text.into() })?.into_report()
    }

    /// Writes `key = value` through the first live node as coordinator.
    ///
    /// See [`Verbs::replicate_from`]; an error when every node is down.
    fn replicate(&mut self, key: &str, value: &str) -> Result<OpReport>
    where
        Self: Sized,
    {
        self.apply(Call::Replicate { key: key.into(), value: value.into() })?.into_report()
    }

    /// The coordinator stores a new version of `key` and sends it to every other node over
    /// the network; replicas apply it if it is newer and acknowledge. Messages can be lost,
    /// so replicas really can diverge.
    fn replicate_from(&mut self, coordinator: impl Into<NodeRef>, key: &str, value: &str) -> Result<OpReport>
    where
        Self: Sized,
    {
        let node = index(self.config(), coordinator)?;
        self.apply(Call::ReplicateFrom { node, key: key.into(), value: value.into() })?.into_report()
    }

    /// Anti-entropy: the node sends what it has (keys and versions) to every peer; each live
    /// peer answers with its newer records, which the node applies. This is how a node that
    /// was down during a write catches up.
    fn sync(&mut self, node: impl Into<NodeRef>) -> Result<OpReport>
    where
        Self: Sized,
    {
        let node = index(self.config(), node)?;
        self.apply(Call::Sync { node })?.into_report()
    }

    /// Crashes a node now. Messages that reach it while it is down are dropped; with a
    /// volatile store (`durable(false)`) it loses its data. Crashing a down node does nothing.
    fn crash(&mut self, node: impl Into<NodeRef>) -> Result<Log>
    where
        Self: Sized,
    {
        let node = index(self.config(), node)?;
        self.apply(Call::Crash { node })?.into_log()
    }

    /// Brings a node back now. It does not learn what it missed until it syncs.
    fn recover(&mut self, node: impl Into<NodeRef>) -> Result<Log>
    where
        Self: Sized,
    {
        let node = index(self.config(), node)?;
        self.apply(Call::Recover { node })?.into_log()
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
    fn partition<G, N>(&mut self, groups: impl IntoIterator<Item = G>) -> Result<Log>
    where
        Self: Sized,
        G: IntoIterator<Item = N>,
        N: Into<NodeRef>,
    {
        let groups = groups.into_iter().map(|g| indices(self.config(), g)).collect::<Result<_>>()?;
        self.apply(Call::Partition { groups })?.into_log()
    }

    /// Cuts one direction only: messages from `from` to `to` are dropped, the other way works.
    fn partition_one_way<A, B>(
        &mut self,
        from: impl IntoIterator<Item = A>,
        to: impl IntoIterator<Item = B>,
    ) -> Result<Log>
    where
        Self: Sized,
        A: Into<NodeRef>,
        B: Into<NodeRef>,
    {
        let (from, to) = (indices(self.config(), from)?, indices(self.config(), to)?);
        self.apply(Call::PartitionOneWay { from, to })?.into_log()
    }

    /// Removes every partition.
    fn heal(&mut self) -> Log
    where
        Self: Sized,
    {
        self.apply(Call::Heal).and_then(Outcome::into_log).unwrap_or_default()
    }

    /// Sends a one-way message with no reply and no waiting: the building block for storms
    /// and custom schedules. In the simulation, run the clock to deliver it.
    fn post(&mut self, from: impl Into<NodeRef>, to: impl Into<NodeRef>, text: &str) -> Result<MsgId>
    where
        Self: Sized,
    {
        let (from, to) = (index(self.config(), from)?, index(self.config(), to)?);
        self.apply(Call::Post { from, to, text: Arc::from(text) })?.into_message()
    }
}

/// A node's index, or the error naming the unknown node.
fn index(config: &Config, node: impl Into<NodeRef>) -> Result<u32> {
    Ok(config.resolve(node)?.0)
}

/// [`index`] for each node of a list.
fn indices<N: Into<NodeRef>>(config: &Config, nodes: impl IntoIterator<Item = N>) -> Result<Vec<u32>> {
    nodes.into_iter().map(|n| index(config, n)).collect()
}
