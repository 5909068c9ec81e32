//! The omniscient record of a run: every event with its virtual time and its true cause.
//!
//! A sender only ever learns of replies and timeouts; the trace knows why a message did not
//! arrive. Putting the two side by side is the lesson of Day 1. The same [`EventKind`] is what
//! the cluster's queue produces and what the log and the charts show.

use std::borrow::Cow;
use std::fmt;
use std::io::Write;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::node::{Counters, NodeId, Record, Version};
pub use crate::time::Time;

/// What a message carries, as the trace records it. The built-in key-value protocol
/// ([`crate::protocol::kv`]) sends exactly these; any other protocol's messages are recorded
/// as [`Body::Text`], in the words of its `describe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    /// A text message (`send`, `broadcast`, `post`).
    Text {
        /// The text.
        text: String,
    },
    /// A write the coordinator asks a replica to apply.
    Write {
        /// The write.
        record: Arc<Record>,
    },
    /// A reply: "I got your message".
    Ack,
    /// Anti-entropy: "here is what I have; send me anything newer".
    SyncRequest {
        /// Key and version of everything the asking node holds.
        have: Vec<(Arc<str>, Version)>,
    },
    /// Anti-entropy answer: the records newer than the asker's.
    SyncReply {
        /// The newer records.
        records: Vec<Arc<Record>>,
    },
    /// "What do you hold for this key?" (a consistency check over the network).
    Read {
        /// The key.
        key: Arc<str>,
    },
    /// The answer to a read.
    ReadReply {
        /// The record, if the node holds the key.
        record: Option<Arc<Record>>,
    },
}

impl Body {
    /// A short description for logs and charts.
    pub fn summary(&self) -> String {
        match self {
            Body::Text { text } => text.clone(),
            Body::Write { record } => format!("write {} = {} ({})", record.key, record.value, record.version),
            Body::Ack => "ack".to_string(),
            Body::SyncRequest { have } => format!("sync request ({} keys)", have.len()),
            Body::SyncReply { records } => format!("sync reply ({} newer)", records.len()),
            Body::Read { key } => format!("read {key}"),
            Body::ReadReply { record: Some(r) } => {
                format!("read reply {} = {} ({})", r.key, r.value, r.version)
            }
            Body::ReadReply { record: None } => "read reply (no such key)".to_string(),
        }
    }
}

/// What a handler may ask the trace to record about its own node, beside the messages the
/// runtime records by itself ([`crate::protocol::Out::note`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// The node stored a newer version of a key (the trace's [`EventKind::Stored`]; a sync's
    /// report lists the records it brought in).
    Stored(Arc<Record>),
}

/// A message's number, unique within a run; a duplicate copy keeps its original's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MsgId(pub u64);

/// Why a message did not arrive. Only the trace knows; the sender just sees no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropCause {
    /// The network lost it (the configured loss probability).
    Lost,
    /// It arrived at a node that was down.
    TargetDown,
    /// Its sender was down, so it never left.
    SenderDown,
    /// A partition cut the link it needed.
    Partitioned,
}

impl DropCause {
    /// All causes, in the order tables and charts show them.
    pub const ALL: [DropCause; 4] =
        [DropCause::Lost, DropCause::TargetDown, DropCause::SenderDown, DropCause::Partitioned];

    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            DropCause::Lost => "lost in the network",
            DropCause::TargetDown => "target down",
            DropCause::SenderDown => "sender down",
            DropCause::Partitioned => "partitioned",
        }
    }
}

/// The drop counters are kept per cause; the causes are the trace's vocabulary, so the
/// mapping lives here and [`Counters`] (a plain record) knows nothing of them.
impl Counters {
    /// This node's messages dropped for `cause`.
    pub fn drops(&self, cause: DropCause) -> u64 {
        match cause {
            DropCause::Lost => self.dropped_lost,
            DropCause::TargetDown => self.dropped_target_down,
            DropCause::SenderDown => self.dropped_sender_down,
            DropCause::Partitioned => self.dropped_partitioned,
        }
    }
    /// Counts one of this node's messages dropped for `cause`.
    pub(crate) fn count_drop(&mut self, cause: DropCause) {
        match cause {
            DropCause::Lost => self.dropped_lost += 1,
            DropCause::TargetDown => self.dropped_target_down += 1,
            DropCause::SenderDown => self.dropped_sender_down += 1,
            DropCause::Partitioned => self.dropped_partitioned += 1,
        }
    }
}

impl fmt::Display for DropCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A node handed a message to the network.
    Sent {
        /// The message.
        msg: MsgId,
        /// Sender.
        from: NodeId,
        /// Intended receiver.
        to: NodeId,
        /// What it carries.
        body: Arc<Body>,
    },
    /// The network made a second copy of a message.
    Duplicated {
        /// The message.
        msg: MsgId,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
    },
    /// A message arrived at a live node.
    Delivered {
        /// The message.
        msg: MsgId,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// When it was sent (so latency = at - sent).
        sent: Time,
        /// What it carried.
        body: Arc<Body>,
    },
    /// A message did not arrive, and why.
    Dropped {
        /// The message.
        msg: MsgId,
        /// Sender.
        from: NodeId,
        /// Intended receiver.
        to: NodeId,
        /// The true cause.
        cause: DropCause,
    },
    /// A node crashed.
    Crashed {
        /// The node.
        node: NodeId,
    },
    /// A node came back.
    Recovered {
        /// The node.
        node: NodeId,
    },
    /// A node stored a newer version of a key.
    Stored {
        /// The node.
        node: NodeId,
        /// The write.
        record: Arc<Record>,
    },
    /// A partition started: messages from `cut.from` to `cut.to` are dropped.
    Partitioned {
        /// The cut.
        cut: Arc<CutSpec>,
    },
    /// Every partition was removed.
    Healed,
    /// A node stopped waiting for a reply from a peer.
    TimedOut {
        /// The waiting node.
        node: NodeId,
        /// The peer that did not answer in time.
        peer: NodeId,
    },
}

/// One direction of a partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CutSpec {
    /// Senders on this side...
    pub from: Vec<NodeId>,
    /// ...cannot reach these nodes.
    pub to: Vec<NodeId>,
}

/// One trace line: an event and its virtual time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// When, in virtual microseconds.
    #[serde(rename = "t_us")]
    pub at: Time,
    /// What.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// A run whose events were recorded: a simulated [`Cluster`](crate::Cluster) or a cluster on
/// real sockets. The space-time diagram, the timeline and the latency histogram draw either.
pub trait Recorded {
    /// The events so far.
    fn events(&self) -> Cow<'_, Trace>;
    /// Number of nodes.
    fn node_count(&self) -> usize;
    /// Name of node `i`.
    fn node_name(&self, i: usize) -> String;
    /// The clock now (virtual or real microseconds since the start).
    fn clock(&self) -> Time;
    /// (lower bound in ms, count) of the latency histogram of delivered messages.
    fn latency_histogram(&self) -> Vec<(f64, u64)>;
    /// Whether events are being recorded.
    fn tracing(&self) -> bool;
}

const CHUNK: usize = 4096;

/// Every event of a run, in order.
///
/// Stored in fixed-size chunks so a long run never copies the whole trace to grow it, and
/// memory stays close to the size of the events themselves.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    chunks: Vec<Vec<Event>>,
    len: usize,
}

impl Trace {
    pub(crate) fn push(&mut self, event: Event) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(event),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(event);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }
    /// Number of events.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when nothing was recorded (or tracing is off).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The events in order.
    pub fn iter(&self) -> impl Iterator<Item = &Event> + '_ {
        self.chunks.iter().flatten()
    }
    /// The event at position `i`.
    pub fn get(&self, i: usize) -> Option<&Event> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }
    /// The events from position `start` on.
    pub fn since(&self, start: usize) -> impl Iterator<Item = &Event> + '_ {
        (start..self.len).filter_map(move |i| self.get(i))
    }
    /// Writes the trace as JSON Lines: one event per line, fields `t_us`, `event`, ...
    pub fn write_jsonl<W: Write>(&self, mut out: W) -> std::io::Result<()> {
        for e in self.iter() {
            serde_json::to_writer(&mut out, e)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
    /// The trace as a JSON Lines string.
    pub fn to_jsonl(&self) -> String {
        let mut buf = Vec::new();
        self.write_jsonl(&mut buf).expect("writing to a Vec cannot fail");
        String::from_utf8(buf).expect("serde_json writes UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_fits_in_48_bytes() {
        // The storm benchmark's budget is 64 bytes per recorded event, chunk overhead included.
        assert!(std::mem::size_of::<Event>() <= 48, "{}", std::mem::size_of::<Event>());
    }
}
