//! What a verb returns: the sender's view beside what really happened.
//!
//! To a sender, a message to a crashed node and a lost message look the same: no reply
//! before the timeout. Each [`OpReport`] row shows both, so the difference is visible.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::node::{NodeId, Record, Version};
use crate::table::{show_tables, Table, Tabular};
use crate::trace::{DropCause, Time};

/// What the sender learned about one target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "seen", rename_all = "snake_case")]
pub enum SenderView {
    /// Still waiting (only while an operation runs step by step).
    Waiting,
    /// A reply came back after `rtt`.
    Replied {
        /// Round-trip time.
        rtt: Time,
    },
    /// No reply within the timeout. The sender cannot tell why.
    TimedOut,
}

impl fmt::Display for SenderView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SenderView::Waiting => f.write_str("waiting"),
            SenderView::Replied { rtt } => write!(f, "reply after {rtt}"),
            SenderView::TimedOut => f.write_str("no reply (timeout)"),
        }
    }
}

/// What really became of one message (the first copy to settle; a delivered duplicate wins
/// over a dropped original).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "fate", rename_all = "snake_case")]
pub enum Fate {
    /// Not sent (a reply to a request that never arrived).
    NotSent,
    /// Still travelling.
    InFlight,
    /// Arrived after `latency`.
    Delivered {
        /// One-way latency.
        latency: Time,
    },
    /// Did not arrive.
    Dropped {
        /// The true cause.
        cause: DropCause,
    },
}

impl fmt::Display for Fate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fate::NotSent => f.write_str("-"),
            Fate::InFlight => f.write_str("in flight"),
            Fate::Delivered { latency } => write!(f, "delivered in {latency}"),
            Fate::Dropped { cause } => write!(f, "dropped: {cause}"),
        }
    }
}

/// One target of an operation, seen both ways.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetReport {
    /// The target's id.
    pub id: NodeId,
    /// Its name.
    pub name: String,
    /// Whether it was up when the operation started (the omniscient view).
    pub up_at_start: bool,
    /// What the sender learned.
    pub seen: SenderView,
    /// What became of the request.
    pub request: Fate,
    /// What became of the reply.
    pub reply: Fate,
}

/// Which verb an [`OpReport`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// One message, one reply.
    Send,
    /// One message to every other node.
    Broadcast,
    /// A write sent by a coordinator to every replica.
    Replicate,
    /// Anti-entropy: ask every peer for newer versions.
    Sync,
    /// Ask every peer what it holds for a key.
    Read,
    /// A request of a learner's own protocol.
    Request,
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verb::Send => "send",
            Verb::Broadcast => "broadcast",
            Verb::Replicate => "replicate",
            Verb::Sync => "sync",
            Verb::Read => "read",
            Verb::Request => "request",
        })
    }
}

/// The result of `send`, `broadcast`, `replicate` or `sync`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpReport {
    /// The verb.
    pub verb: Verb,
    /// The node that started it.
    pub origin: String,
    /// What was sent, in words.
    pub what: String,
    /// When it started.
    pub started: Time,
    /// When the last reply or timeout came.
    pub finished: Time,
    /// Every target, both views.
    pub targets: Vec<TargetReport>,
    /// Records a sync brought in (empty for the other verbs).
    pub updated: Vec<Arc<Record>>,
    /// The version a replicate wrote.
    pub version: Option<Version>,
    /// The narration of every event during the operation (empty with the trace off).
    pub log: Vec<String>,
    /// True when the runtime sees every node (the simulation, [`RealCluster`]): fates and
    /// liveness are known. False for one node per process ([`Member`]): only what came back.
    ///
    /// [`RealCluster`]: crate::udp::RealCluster
    /// [`Member`]: crate::udp::Member
    pub omniscient: bool,
}

impl OpReport {
    /// Targets that replied: all the sender knows of success.
    pub fn acked(&self) -> Vec<&str> {
        self.names(|t| matches!(t.seen, SenderView::Replied { .. }))
    }
    /// Targets that did not reply in time.
    pub fn timed_out(&self) -> Vec<&str> {
        self.names(|t| t.seen == SenderView::TimedOut)
    }
    /// Targets the request really reached (the omniscient view).
    pub fn reached(&self) -> usize {
        self.targets.iter().filter(|t| matches!(t.request, Fate::Delivered { .. })).count()
    }
    /// Targets that were up when the operation started.
    pub fn alive(&self) -> usize {
        self.targets.iter().filter(|t| t.up_at_start).count()
    }
    /// All targets.
    pub fn total(&self) -> usize {
        self.targets.len()
    }
    /// True when every target replied.
    pub fn all_acked(&self) -> bool {
        self.targets.iter().all(|t| matches!(t.seen, SenderView::Replied { .. }))
    }
    fn names(&self, keep: impl Fn(&TargetReport) -> bool) -> Vec<&str> {
        self.targets.iter().filter(|t| keep(t)).map(|t| t.name.as_str()).collect()
    }
    /// One line: "reached r / alive a / total t; acked: ...; timed out: ..."; from one node's
    /// view, "acked: ...; no answer: ...".
    pub fn summary(&self) -> String {
        let list = |v: Vec<&str>| match v.len() {
            0 => "none".to_string(),
            1..=10 => v.join(", "),
            n => format!("{} and {} more", v[..10].join(", "), n - 10),
        };
        if !self.omniscient {
            return format!(
                "{} from {} ({}): acked: {}; no answer: {}",
                self.verb,
                self.origin,
                self.what,
                list(self.acked()),
                list(self.timed_out())
            );
        }
        format!(
            "{} from {} ({}): reached {} / alive {} / total {}; acked: {}; timed out: {}",
            self.verb,
            self.origin,
            self.what,
            self.reached(),
            self.alive(),
            self.total(),
            list(self.acked()),
            list(self.timed_out())
        )
    }
}

/// The narration of what a verb without a report did (crash, recover, partition, heal).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Log {
    /// One line per event.
    pub lines: Vec<String>,
}

/// A replica's state for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaState {
    /// Up and holding the newest version seen on a live node.
    Fresh,
    /// Up and holding an older version, or none.
    Stale,
    /// Down: what it holds cannot be read, so it is unknown.
    Unknown,
    /// Did not answer a read in time: down, or a message lost (the reader cannot tell).
    NoAnswer,
}

/// One node's row in a [`ConsistencyReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaReport {
    /// Id.
    pub id: NodeId,
    /// Name.
    pub name: String,
    /// Up or down.
    pub up: bool,
    /// The value (None when missing or down).
    pub value: Option<String>,
    /// Its version.
    pub version: Option<Version>,
    /// Fresh, stale or unknown.
    pub state: ReplicaState,
}

/// The verdict of a consistency check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Every node is up and holds the same version.
    Consistent,
    /// Live nodes disagree: these are behind.
    Inconsistent {
        /// Names of the stale nodes.
        stale: Vec<String>,
    },
    /// Live nodes agree, but some nodes are down, so agreement cannot be confirmed.
    Unknown {
        /// Names of the down nodes.
        down: Vec<String>,
    },
    /// The answers agree, but some peers did not answer a read, so agreement cannot be
    /// confirmed.
    NoAnswer {
        /// Names of the silent peers.
        silent: Vec<String>,
    },
}

/// Every node's value and version of one key, with a verdict.
///
/// Unlike the lesson's check, which skipped dead nodes and so called a cluster consistent
/// while a replica was missing, down nodes are reported and keep the verdict open.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsistencyReport {
    /// The key.
    pub key: String,
    /// Newest version on a live node.
    pub latest: Option<Version>,
    /// One row per node.
    pub replicas: Vec<ReplicaReport>,
    /// The verdict.
    pub verdict: Verdict,
    /// True when built from the answers to a read over the network (one node's view), false
    /// when every store was read directly (the omniscient view).
    pub over_network: bool,
}

impl ConsistencyReport {
    /// Builds the report from each node's (name, up, record for the key). Down nodes are
    /// unknown; the newest version on a live node is the reference.
    pub fn from_replicas<'a>(
        key: &str,
        replicas: impl Iterator<Item = (String, bool, Option<&'a Arc<Record>>)>,
    ) -> Self {
        Self::build(key, replicas.collect(), ReplicaState::Unknown)
    }

    /// Builds the report from what a read over the network brought back: each node's name
    /// and its answer (None: no answer in time; Some(None): it holds no such key).
    pub fn from_answers<'a>(
        key: &str,
        answers: impl Iterator<Item = (String, Option<Option<&'a Arc<Record>>>)>,
    ) -> Self {
        Self::build(
            key,
            answers.map(|(n, a)| (n, a.is_some(), a.flatten())).collect(),
            ReplicaState::NoAnswer,
        )
    }

    /// `silent` is what a node that cannot be read is: down (omniscient) or no answer.
    fn build(key: &str, rows: Vec<(String, bool, Option<&Arc<Record>>)>, silent: ReplicaState) -> Self {
        let latest = rows.iter().filter(|r| r.1).filter_map(|r| r.2).map(|r| r.version).max();
        let replicas: Vec<ReplicaReport> = rows
            .into_iter()
            .enumerate()
            .map(|(i, (name, up, rec))| {
                let rec = if up { rec } else { None };
                let state = if !up {
                    silent
                } else if rec.map(|r| r.version) == latest {
                    ReplicaState::Fresh
                } else {
                    ReplicaState::Stale
                };
                ReplicaReport {
                    id: NodeId(i as u32),
                    name,
                    up,
                    value: rec.map(|r| r.value.to_string()),
                    version: rec.map(|r| r.version),
                    state,
                }
            })
            .collect();
        let named = |s: ReplicaState| {
            replicas.iter().filter(|r| r.state == s).map(|r| r.name.clone()).collect::<Vec<_>>()
        };
        let (stale, down, quiet) =
            (named(ReplicaState::Stale), named(ReplicaState::Unknown), named(ReplicaState::NoAnswer));
        let verdict = if !stale.is_empty() {
            Verdict::Inconsistent { stale }
        } else if !down.is_empty() {
            Verdict::Unknown { down }
        } else if !quiet.is_empty() {
            Verdict::NoAnswer { silent: quiet }
        } else {
            Verdict::Consistent
        };
        let over_network = silent == ReplicaState::NoAnswer;
        ConsistencyReport { key: key.to_string(), latest, replicas, verdict, over_network }
    }

    /// True only when every node is up and agrees.
    pub fn is_consistent(&self) -> bool {
        self.verdict == Verdict::Consistent
    }
    /// Names of live nodes that are behind.
    pub fn stale(&self) -> Vec<&str> {
        self.replicas.iter().filter(|r| r.state == ReplicaState::Stale).map(|r| r.name.as_str()).collect()
    }
}

pub(crate) fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

pub(crate) fn up_down(up: bool) -> &'static str {
    if up {
        "UP"
    } else {
        "DOWN"
    }
}

impl Tabular for OpReport {
    fn log(&self) -> &[String] {
        &self.log
    }
    fn tables(&self) -> Vec<Table> {
        if !self.omniscient {
            let mut t = Table::new(self.summary(), ["target", "this node saw"]);
            for r in &self.targets {
                let seen =
                    if r.seen == SenderView::TimedOut { "no answer".to_string() } else { r.seen.to_string() };
                t.row([r.name.clone(), seen]);
            }
            return vec![t];
        }
        let mut t = Table::new(self.summary(), ["target", "up at start", "sender saw", "request", "reply"]);
        for r in &self.targets {
            t.row([
                r.name.clone(),
                yes_no(r.up_at_start).to_string(),
                r.seen.to_string(),
                r.request.to_string(),
                r.reply.to_string(),
            ]);
        }
        for rec in &self.updated {
            t.note(format!("sync brought in {} = {} ({})", rec.key, rec.value, rec.version));
        }
        vec![t]
    }
}

impl Tabular for Log {
    fn log(&self) -> &[String] {
        &self.lines
    }
    fn tables(&self) -> Vec<Table> {
        Vec::new()
    }
}

impl ConsistencyReport {
    /// The verdict in words: `INCONSISTENT: stale: Node-2`.
    pub fn verdict_text(&self) -> String {
        match &self.verdict {
            Verdict::Consistent if self.over_network => {
                "CONSISTENT: every node answered with the same version".to_string()
            }
            Verdict::Consistent => "CONSISTENT: every node is up and holds the same version".to_string(),
            Verdict::Inconsistent { stale } => format!("INCONSISTENT: stale: {}", stale.join(", ")),
            Verdict::Unknown { down } => {
                format!("UNKNOWN: live nodes agree, but {} down and cannot be checked", down.join(", "))
            }
            Verdict::NoAnswer { silent } => format!(
                "UNKNOWN: the answers agree, but no answer from {} (down, or a message lost)",
                silent.join(", ")
            ),
        }
    }
}

impl Tabular for ConsistencyReport {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let verdict = self.verdict_text();
        let mut t = Table::new(
            format!("consistency of {:?}: {verdict}", self.key),
            ["node", "state", "value", "version", "replica"],
        );
        for r in &self.replicas {
            let (state, replica) = match r.state {
                ReplicaState::NoAnswer => ("?", "no answer"),
                ReplicaState::Unknown => (up_down(r.up), "unknown"),
                ReplicaState::Fresh => (up_down(r.up), "fresh"),
                ReplicaState::Stale => (up_down(r.up), "stale"),
            };
            t.row([
                r.name.clone(),
                state.to_string(),
                r.value.clone().unwrap_or_else(|| if r.up { "(missing)".into() } else { "?".into() }),
                r.version.map(|v| v.to_string()).unwrap_or_else(|| "-".into()),
                replica.to_string(),
            ]);
        }
        vec![t]
    }
}

show_tables!(OpReport, ConsistencyReport, Log);
