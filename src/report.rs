//! What a verb returns: the sender's view beside what really happened.
//!
//! To a sender, a message to a crashed node and a lost message look the same: no reply
//! before the timeout. Each [`OpReport`] row shows both, so the difference is visible.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::node::{NodeId, Record, Version};
use crate::stats::{Stats, Status};
use crate::table::{display_via_tables, Table};
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
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verb::Send => "send",
            Verb::Broadcast => "broadcast",
            Verb::Replicate => "replicate",
            Verb::Sync => "sync",
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
    /// One line: "reached r / alive a / total t; acked: ...; timed out: ...".
    pub fn summary(&self) -> String {
        let list = |v: Vec<&str>| match v.len() {
            0 => "none".to_string(),
            1..=10 => v.join(", "),
            n => format!("{} and {} more", v[..10].join(", "), n - 10),
        };
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
    fn log(&self) -> &[String] {
        &self.log
    }
    fn tables(&self) -> Vec<Table> {
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

/// The narration of what a verb without a report did (crash, recover, partition, heal).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Log {
    /// One line per event.
    pub lines: Vec<String>,
}

impl Log {
    fn log(&self) -> &[String] {
        &self.lines
    }
    fn tables(&self) -> Vec<Table> {
        Vec::new()
    }
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
}

impl ConsistencyReport {
    /// Builds the report from each node's (name, up, record for the key). Down nodes are
    /// unknown; the newest version on a live node is the reference.
    pub fn from_replicas<'a>(
        key: &str,
        replicas: impl Iterator<Item = (String, bool, Option<&'a Arc<Record>>)>,
    ) -> Self {
        let rows: Vec<(String, bool, Option<&Arc<Record>>)> = replicas.collect();
        let latest = rows.iter().filter(|r| r.1).filter_map(|r| r.2).map(|r| r.version).max();
        let replicas: Vec<ReplicaReport> = rows
            .into_iter()
            .enumerate()
            .map(|(i, (name, up, rec))| {
                let rec = if up { rec } else { None };
                let state = if !up {
                    ReplicaState::Unknown
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
        let (stale, down) = (named(ReplicaState::Stale), named(ReplicaState::Unknown));
        let verdict = if !stale.is_empty() {
            Verdict::Inconsistent { stale }
        } else if !down.is_empty() {
            Verdict::Unknown { down }
        } else {
            Verdict::Consistent
        };
        ConsistencyReport { key: key.to_string(), latest, replicas, verdict }
    }

    /// True only when every node is up and agrees.
    pub fn is_consistent(&self) -> bool {
        self.verdict == Verdict::Consistent
    }
    /// Names of live nodes that are behind.
    pub fn stale(&self) -> Vec<&str> {
        self.replicas.iter().filter(|r| r.state == ReplicaState::Stale).map(|r| r.name.as_str()).collect()
    }
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let verdict = match &self.verdict {
            Verdict::Consistent => "CONSISTENT: every node is up and holds the same version".to_string(),
            Verdict::Inconsistent { stale } => format!("INCONSISTENT: stale: {}", stale.join(", ")),
            Verdict::Unknown { down } => {
                format!("UNKNOWN: live nodes agree, but {} down and cannot be checked", down.join(", "))
            }
        };
        let mut t = Table::new(
            format!("consistency of {:?}: {verdict}", self.key),
            ["node", "state", "value", "version", "replica"],
        );
        for r in &self.replicas {
            t.row([
                r.name.clone(),
                up_down(r.up).to_string(),
                r.value.clone().unwrap_or_else(|| if r.up { "(missing)".into() } else { "?".into() }),
                r.version.map(|v| v.to_string()).unwrap_or_else(|| "-".into()),
                format!("{:?}", r.state).to_lowercase(),
            ]);
        }
        vec![t]
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

impl Status {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            format!("system status at {}: {} of {} nodes up", self.now, self.alive(), self.nodes.len()),
            [
                "node",
                "state",
                "sent",
                "received",
                "delivered",
                "lost",
                "target down",
                "sender down",
                "partitioned",
                "duplicated",
                "keys",
            ],
        );
        for n in &self.nodes {
            let c = &n.counters;
            t.row([
                n.name.clone(),
                up_down(n.up).to_string(),
                c.sent.to_string(),
                c.received.to_string(),
                c.delivered.to_string(),
                c.dropped_lost.to_string(),
                c.dropped_target_down.to_string(),
                c.dropped_sender_down.to_string(),
                c.dropped_partitioned.to_string(),
                c.duplicated.to_string(),
                n.keys.to_string(),
            ]);
        }
        t.note("sent, delivered, dropped (by cause) and duplicated count the messages a node sent; received counts those delivered to it.");
        vec![t]
    }
}

impl Stats {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let c = &self.total;
        let l = &self.latency;
        let mut t =
            Table::new(format!("statistics at {} (seed {})", self.now, self.seed), ["figure", "value"]);
        t.row(["operations".to_string(), self.operations.to_string()])
            .row(["messages sent".to_string(), c.sent.to_string()])
            .row(["duplicated by the network".to_string(), c.duplicated.to_string()])
            .row(["delivered".to_string(), c.delivered.to_string()])
            .row(["dropped: lost in the network".to_string(), c.dropped_lost.to_string()])
            .row(["dropped: target down".to_string(), c.dropped_target_down.to_string()])
            .row(["dropped: sender down".to_string(), c.dropped_sender_down.to_string()])
            .row(["dropped: partitioned".to_string(), c.dropped_partitioned.to_string()])
            .row(["in flight".to_string(), self.in_flight.to_string()])
            .row(["delivery ratio".to_string(), format!("{:.4}", self.delivery_ratio())])
            .row(["messages per operation".to_string(), format!("{:.2}", self.messages_per_operation())])
            .row([
                "latency min / median / p99 / max".to_string(),
                format!("{:.3} / {:.3} / {:.3} / {:.3} ms", l.min_ms, l.median_ms, l.p99_ms, l.max_ms),
            ]);
        vec![t]
    }
}

display_via_tables!(OpReport, ConsistencyReport, Status, Stats, Log);
