//! The built-in protocol: a replicated key-value store, written once for both runtimes.
//!
//! - `send` / `broadcast`: a text message; a node acknowledges one that belongs to an
//!   operation (a one-way `post` gets no ack).
//! - `replicate`: the coordinator stores a new version and sends it to every peer; a replica
//!   applies it if it is newer than what it holds, and acknowledges either way.
//! - `sync` (anti-entropy): the node sends the key and version of everything it holds; each
//!   peer answers with its newer records, which the node applies.
//! - `read`: a peer answers with what it holds for a key.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::node::{NodeId, Record, Version};
use crate::protocol::{Context, Out, Protocol};
use crate::report::Verb;
/// The built-in protocol's messages are the trace's message bodies: the trace owns that
/// vocabulary, so a message shows in logs and charts exactly as it travelled.
pub use crate::trace::Body;
use crate::trace::Note;

/// One node's store: the newest record of each key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replica {
    /// Key to record.
    pub store: BTreeMap<Arc<str>, Arc<Record>>,
}

impl Replica {
    /// Applies a write if it is newer than what the node holds; true when it did.
    pub fn apply(&mut self, record: &Arc<Record>) -> bool {
        match self.store.get(&record.key) {
            Some(cur) if cur.version >= record.version => false,
            _ => {
                self.store.insert(record.key.clone(), record.clone());
                true
            }
        }
    }
    /// The record held for `key`.
    pub fn get(&self, key: &str) -> Option<&Arc<Record>> {
        self.store.get(key)
    }
    /// Records newer than the versions in `have` (or missing from it).
    fn newer_than(&self, have: &[(Arc<str>, Version)]) -> Vec<Arc<Record>> {
        let theirs: BTreeMap<&str, Version> = have.iter().map(|(k, v)| (&**k, *v)).collect();
        self.store.values().filter(|r| theirs.get(&*r.key).is_none_or(|v| *v < r.version)).cloned().collect()
    }
}

/// What a verb asks the node that starts the operation to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Send a text to one node.
    Send {
        /// The receiver.
        to: NodeId,
        /// The text.
        text: String,
    },
    /// Send a text to every other node.
    Broadcast {
        /// The text.
        text: String,
    },
    /// Store a new version of `key` and send it to every other node.
    Replicate {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Ask every other node for newer versions.
    Sync,
    /// Ask every other node what it holds for `key`.
    Read {
        /// The key.
        key: String,
    },
}

impl Request {
    /// The verb that starts it, for its report.
    pub fn verb(&self) -> Verb {
        match self {
            Request::Send { .. } => Verb::Send,
            Request::Broadcast { .. } => Verb::Broadcast,
            Request::Replicate { .. } => Verb::Replicate,
            Request::Sync => Verb::Sync,
            Request::Read { .. } => Verb::Read,
        }
    }
    /// What it sends, in words, for its report (a write adds the version it got).
    pub fn what(&self) -> String {
        match self {
            Request::Send { text, .. } | Request::Broadcast { text } => format!("{text:?}"),
            Request::Replicate { key, value } => format!("{key} = {value}"),
            Request::Sync => "newer versions, please".to_string(),
            Request::Read { key } => format!("read {key}"),
        }
    }
    /// The verb's name when a node that is down cannot start it (an error), or None when it
    /// can: a down node's send is dropped with cause "sender down", as in the lesson.
    pub fn refused_when_down(&self) -> Option<&'static str> {
        match self {
            Request::Send { .. } | Request::Broadcast { .. } => None,
            Request::Replicate { .. } => Some("replicate"),
            Request::Sync => Some("sync"),
            Request::Read { .. } => Some("read"),
        }
    }
}

/// The replicated key-value store (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KvStore;

impl Protocol for KvStore {
    type State = Replica;
    type Msg = Body;
    type Request = Request;
    type Output = ();

    fn on_request(&self, node: &Context, state: &mut Replica, request: &Request, out: &mut Out<Body, ()>) {
        let to_peers = |out: &mut Out<Body, ()>, body: Body| {
            let body = Arc::new(body);
            node.peers().for_each(|p| out.send(p, body.clone()));
        };
        match request {
            Request::Send { to, text } => out.send(*to, Body::Text { text: text.clone() }),
            Request::Broadcast { text } => to_peers(out, Body::Text { text: text.clone() }),
            Request::Replicate { key, value } => {
                let counter = state.get(key).map_or(0, |r| r.version.counter) + 1;
                let record = Arc::new(Record {
                    key: key.as_str().into(),
                    value: value.as_str().into(),
                    version: Version { counter, writer: node.me },
                });
                if state.apply(&record) {
                    out.note(Note::Stored(record.clone()));
                }
                to_peers(out, Body::Write { record });
            }
            Request::Sync => {
                let have = state.store.values().map(|r| (r.key.clone(), r.version)).collect();
                to_peers(out, Body::SyncRequest { have });
            }
            Request::Read { key } => to_peers(out, Body::Read { key: key.as_str().into() }),
        }
    }

    fn on_message(
        &self,
        node: &Context,
        state: &mut Replica,
        _from: NodeId,
        msg: &Body,
        out: &mut Out<Body, ()>,
    ) {
        match msg {
            Body::Text { .. } => {
                if node.in_operation {
                    out.reply(Body::Ack);
                }
            }
            Body::Write { record } => {
                if state.apply(record) {
                    out.note(Note::Stored(record.clone()));
                }
                out.reply(Body::Ack);
            }
            Body::SyncRequest { have } => out.reply(Body::SyncReply { records: state.newer_than(have) }),
            Body::SyncReply { records } => {
                for r in records {
                    if state.apply(r) {
                        out.note(Note::Stored(r.clone()));
                    }
                }
            }
            Body::Read { key } => out.reply(Body::ReadReply { record: state.get(key).cloned() }),
            Body::Ack | Body::ReadReply { .. } => {}
        }
    }

    fn describe(&self, msg: &Body) -> String {
        msg.summary()
    }

    fn trace_body(&self, msg: &Arc<Body>) -> Arc<Body> {
        msg.clone()
    }
}
