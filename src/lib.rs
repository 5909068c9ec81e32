//! # distlab: run, break and measure a small distributed system
//!
//! distlab is the engine behind the "Day 001: Introduction to Distributed Systems" notebooks:
//! a cluster of nodes that exchange messages over a simulated network, in virtual time, with
//! loss, duplication, crashes and partitions, and charts of what happened.
//!
//! It keeps every verb of the lesson's Python simulation and fixes how it misleads: time is
//! virtual (nothing sleeps), a seed replays a run byte for byte, a sender only learns through
//! replies and timeouts, replication sends real messages that can be lost, and a consistency
//! check reports down and stale replicas instead of skipping them.
//!
//! ```
//! use distlab::prelude::*;
//!
//! let mut cluster = Cluster::new(Config::builder().nodes(3).seed(7).build()?);
//! cluster.crash(1)?;
//! let write = cluster.replicate("config_version", "1.2.3")?;
//! // The sender cannot tell a crashed replica from a lost message: both time out.
//! assert_eq!(write.timed_out(), ["Node-1"]);
//! cluster.recover(1)?;
//! // Node-1 is back but stale until anti-entropy repairs it.
//! assert_eq!(cluster.check_consistency("config_version").stale(), ["Node-1"]);
//! cluster.sync(1)?;
//! assert!(cluster.check_consistency("config_version").is_consistent());
//! # Ok::<(), distlab::Error>(())
//! ```
//!
//! In a notebook, the first cells are `:dep distlab = { path = ".." }` and
//! `use distlab::prelude::*;`; reports, tables and charts then show themselves under the cell
//! (each has an `evcxr_display` method; charts give `image/svg+xml` and an HTML `<img>`).
//!
//! ## Where things are
//! - [`config`]: the parameters, checked by [`ConfigBuilder::build`]; every invalid value is an
//!   [`Error`] naming the field, the value and the allowed range.
//! - [`protocol`]: what a node does, apart from how messages move: the [`protocol::Protocol`]
//!   trait (per-node state, handlers that write effects into an [`protocol::Out`] buffer and
//!   do no I/O) and the built-in key-value protocol, [`protocol::kv`], written once.
//! - [`verbs`]: the lesson's verbs declared once, as data: [`verbs::Call`] (one variant per
//!   verb: `send`, `broadcast`, `replicate`, `sync`, `crash`, `recover`, `partition`, `heal`,
//!   `post`, ...) and [`verbs::Verbs`], the trait both runtimes implement, so one `Vec<Call>`
//!   runs on either; the typed methods (`cluster.send(0, 1, "hi")?`) are the trait's, which
//!   the prelude brings in.
//! - [`sim`]: the simulated runtime (virtual clock, next-event queue) and [`Cluster`], the
//!   key-value protocol on it with the lesson's verbs and `step` / `run` / `run_until`.
//! - [`udp`]: the same protocol over real UDP sockets on 127.0.0.1: [`udp::RealCluster`]
//!   (every node in this process, the omniscient view) and [`udp::Member`] (one node per
//!   process, for the `distlab-node` binary, which reports only what that node can know).
//! - [`ops`]: operation bookkeeping shared by both runtimes: tags carried by each message,
//!   fates recorded as they happen, the report assembled. The fault model (loss, duplication,
//!   latency, partitions, one generator per sending node) is in one private module, `faults`,
//!   used by both runtimes; its order of draws is documented there.
//! - [`node`], [`time`], [`trace`], [`narration`]: ids, versions and counters; time; the
//!   event enum (what the queue produces and what the log shows); the readable log.
//! - [`report`], [`stats`], [`table`]: what a verb returns (the sender's view beside what
//!   happened), figures derived from a run, and [`table::Tabular`], how results show as text
//!   and as HTML under a cell.
//! - [`experiment`], [`chart`], [`topology`]: sweeps and comparisons, plotters SVG charts, and
//!   architecture drawings; [`experiment::Silence`], what a sender cannot know: three
//!   requests, no reply to any, a different cause for each, and what retrying costs.
//! - [`check`]: a checker that runs a protocol (a learner's own) over many seeds and fault
//!   schedules, checks properties (delivery, no duplicates, linearizability, a message
//!   budget, the learner's own) and shrinks the first failure; the exercises of notebook 07.
//! - [`causality`]: a Lamport timestamp and a vector clock for every event of a recorded run,
//!   computed from its trace; happened-before, concurrency and causal-past queries; the
//!   "which came first?" exercise; a ShiViz log.
//! - [`whatif`]: the same verbs replayed twice, as they ran and with one change at one point
//!   (a crash, a recovery, loss or latency from then on, one message lost or delivered), and
//!   the two runs compared. [`runfile`]: a run saved as JSON Lines (header, verbs, trace) and
//!   loaded by replaying it, checked byte for byte.
//! - [`predict`]: a learner's guess beside the measured value (predict, then run).
//! - [`lesson`]: the lesson's data (glossary with a self-check, reflection questions, everyday
//!   examples, troubleshooting, objectives).
#![warn(missing_docs)]

pub mod causality;
pub mod chart;
pub mod check;
pub mod config;
pub mod error;
pub mod experiment;
mod faults;
pub mod lesson;
pub mod narration;
pub mod node;
pub mod ops;
pub mod predict;
pub mod protocol;
mod queue;
pub mod report;
pub mod runfile;
pub mod sim;
pub mod stats;
pub mod table;
pub mod time;
pub mod topology;
pub mod trace;
pub mod udp;
pub mod verbs;
pub mod whatif;

/// The simulated cluster (kept at its old path, `distlab::cluster::Cluster`).
pub mod cluster {
    pub use crate::sim::cluster::Cluster;
    pub use crate::sim::MAX_RUN_MS;
}

pub use cluster::Cluster;
pub use config::{Config, ConfigBuilder, Latency};
pub use error::{Error, Result};

/// serde itself, for a notebook cell whose message type must travel over real UDP sockets
/// ([`protocol::Networked`]): a cell cannot name a crate it has no `:dep` line for, but it can
/// reach this one through distlab.
pub use serde;

/// What the first notebook cell brings in: `use distlab::prelude::*;`.
pub mod prelude {
    pub use crate::causality::{self, Clocks, ConcurrencyQuiz, Order};
    pub use crate::chart::{self, Chart, Stamp};
    pub use crate::cluster::Cluster;
    pub use crate::config::{Config, Latency};
    pub use crate::error::{Error, Result};
    pub use crate::experiment::{self, Architecture, Cause, Retries, RetryPair, Reveal, Silence};
    pub use crate::lesson::{Examples, Glossary, Lesson, Quiz, Reflection, SelfCheck, Troubleshooting};
    pub use crate::node::{NodeId, Version};
    pub use crate::predict::Prediction;
    pub use crate::report::{ConsistencyReport, Fate, Log, OpReport, SenderView, Verdict};
    pub use crate::stats::{RunStats, SystemStatus};
    pub use crate::table::{Table, Tabular};
    pub use crate::topology::{Role, Topology};
    pub use crate::trace::{DropCause, Event, EventKind, MsgId, Recorded, Time};
    pub use crate::verbs::{Call, Verbs};
    pub use crate::whatif::{Change, Fork, WhatIf};
}
