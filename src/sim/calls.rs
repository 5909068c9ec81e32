//! The verbs a learner issued to a [`Cluster`], in order: what a run file saves, and what a
//! what-if fork replays. Replaying them on a new cluster with the same configuration gives
//! the same run, byte for byte, because nothing else feeds a simulated run.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::sim::cluster::Cluster;

/// One verb call, with its nodes as indices. Read-only verbs (checks, status, charts) change
/// nothing and are not recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "snake_case", deny_unknown_fields)]
pub enum Call {
    /// [`Cluster::send`].
    Send {
        /// Sender.
        from: u32,
        /// Target.
        to: u32,
        /// Text.
        text: String,
    },
    /// [`Cluster::broadcast`].
    Broadcast {
        /// Sender.
        from: u32,
        /// Text.
        text: String,
    },
    /// [`Cluster::replicate`].
    Replicate {
        /// Key.
        key: String,
        /// Value.
        value: String,
    },
    /// [`Cluster::replicate_from`].
    ReplicateFrom {
        /// Coordinator.
        node: u32,
        /// Key.
        key: String,
        /// Value.
        value: String,
    },
    /// [`Cluster::sync`].
    Sync {
        /// The node that syncs.
        node: u32,
    },
    /// [`Cluster::crash`].
    Crash {
        /// The node.
        node: u32,
    },
    /// [`Cluster::recover`].
    Recover {
        /// The node.
        node: u32,
    },
    /// [`Cluster::crash_at`].
    CrashAt {
        /// The node.
        node: u32,
        /// When, in virtual ms.
        at_ms: f64,
    },
    /// [`Cluster::recover_at`].
    RecoverAt {
        /// The node.
        node: u32,
        /// When, in virtual ms.
        at_ms: f64,
    },
    /// [`Cluster::partition`].
    Partition {
        /// The groups given.
        groups: Vec<Vec<u32>>,
    },
    /// [`Cluster::partition_one_way`].
    PartitionOneWay {
        /// Senders cut off.
        from: Vec<u32>,
        /// From these targets.
        to: Vec<u32>,
    },
    /// [`Cluster::heal`].
    Heal,
    /// [`Cluster::post`].
    Post {
        /// Sender.
        from: u32,
        /// Target.
        to: u32,
        /// Text (shared between the posts of a storm).
        text: Arc<str>,
    },
    /// [`Cluster::step`].
    Step,
    /// [`Cluster::run`].
    Run,
    /// [`Cluster::run_until`].
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

    /// Issues the call on `c`, as the learner did; returns what the verb printed or reported,
    /// in one line (for the what-if comparison).
    pub fn apply(&self, c: &mut Cluster) -> Result<String> {
        Ok(match self {
            Call::Send { from, to, text } => c.send(*from, *to, text)?.summary(),
            Call::Broadcast { from, text } => c.broadcast(*from, text)?.summary(),
            Call::Replicate { key, value } => c.replicate(key, value)?.summary(),
            Call::ReplicateFrom { node, key, value } => c.replicate_from(*node, key, value)?.summary(),
            Call::Sync { node } => c.sync(*node)?.summary(),
            Call::Crash { node } => c.crash(*node)?.to_string(),
            Call::Recover { node } => c.recover(*node)?.to_string(),
            Call::CrashAt { node, at_ms } => c.crash_at(*node, *at_ms).map(|()| String::new())?,
            Call::RecoverAt { node, at_ms } => c.recover_at(*node, *at_ms).map(|()| String::new())?,
            Call::Partition { groups } => c.partition(groups.clone())?.to_string(),
            Call::PartitionOneWay { from, to } => c.partition_one_way(from.clone(), to.clone())?.to_string(),
            Call::Heal => c.heal().to_string(),
            Call::Post { from, to, text } => format!("message {}", c.post(*from, *to, text)?.0),
            Call::Step => c.step().map(|e| format!("{:?}", e.kind)).unwrap_or_default(),
            Call::Run => format!("{} events", c.run()),
            Call::RunUntil { t_ms } => format!("{} events", c.run_until(*t_ms)?),
        })
    }
}
