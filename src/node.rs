//! What names a node and what it counts: ids, how a learner refers to a node, versions and
//! records of the key-value store, message counters.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A node's index in its cluster, `0..nodes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The index as a `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How a learner names a node in a verb: by index (`0`) or by name (`"Node-0"`).
///
/// Every verb takes `impl Into<NodeRef>`, so both work; an unknown one is an error, not a
/// panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeRef {
    /// By index; negative or too large values are reported as unknown.
    Index(i128),
    /// By name.
    Name(String),
}

macro_rules! node_ref_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for NodeRef {
            fn from(v: $t) -> Self {
                NodeRef::Index(v as i128)
            }
        }
    )*};
}
node_ref_from_int!(i32, i64, u32, u64, usize);

impl From<NodeId> for NodeRef {
    fn from(id: NodeId) -> Self {
        NodeRef::Index(id.0 as i128)
    }
}
impl From<&str> for NodeRef {
    fn from(s: &str) -> Self {
        NodeRef::Name(s.to_string())
    }
}
impl From<String> for NodeRef {
    fn from(s: String) -> Self {
        NodeRef::Name(s)
    }
}
impl From<&String> for NodeRef {
    fn from(s: &String) -> Self {
        NodeRef::Name(s.clone())
    }
}

impl fmt::Display for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeRef::Index(i) => write!(f, "{i}"),
            NodeRef::Name(s) => write!(f, "{s:?}"),
        }
    }
}

/// The version of a stored value: a counter, with the writer's id to break ties, so two
/// coordinators that both write version 3 still agree on which write wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Version {
    /// Increases with every write of the key.
    pub counter: u64,
    /// The node that made the write.
    pub writer: NodeId,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.counter)
    }
}

/// One write: key, value and version. Shared (not copied) between the coordinator's store,
/// the messages that carry it and the replicas that apply it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The key.
    pub key: Arc<str>,
    /// The value.
    pub value: Arc<str>,
    /// Its version.
    pub version: Version,
}

/// Message counters of one node.
///
/// `sent`, `duplicated`, `delivered` and the `dropped_*` fields count the messages this node
/// *sent* and what became of them; `received` counts messages delivered *to* it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counters {
    /// Messages this node sent (including replies and attempts while it was down).
    pub sent: u64,
    /// Extra copies the network made of this node's messages.
    pub duplicated: u64,
    /// This node's messages that arrived.
    pub delivered: u64,
    /// Messages delivered to this node.
    pub received: u64,
    /// This node's messages lost in the network.
    pub dropped_lost: u64,
    /// This node's messages that reached a node that was down.
    pub dropped_target_down: u64,
    /// Messages this node tried to send while it was down.
    pub dropped_sender_down: u64,
    /// This node's messages cut by a partition.
    pub dropped_partitioned: u64,
}

impl Counters {
    /// All dropped messages, whatever the cause.
    pub fn dropped(&self) -> u64 {
        self.dropped_lost + self.dropped_target_down + self.dropped_sender_down + self.dropped_partitioned
    }
    /// The counters of several nodes added up.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Counters>) -> Counters {
        let mut total = Counters::default();
        all.into_iter().for_each(|c| total.add(c));
        total
    }
    fn add(&mut self, o: &Counters) {
        self.sent += o.sent;
        self.duplicated += o.duplicated;
        self.delivered += o.delivered;
        self.received += o.received;
        self.dropped_lost += o.dropped_lost;
        self.dropped_target_down += o.dropped_target_down;
        self.dropped_sender_down += o.dropped_sender_down;
        self.dropped_partitioned += o.dropped_partitioned;
    }
}
