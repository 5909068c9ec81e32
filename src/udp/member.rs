//! One node per process: what the `distlab-node` binary runs.
//!
//! A [`Member`] is one node of a cluster spread over processes on this machine. It sees only
//! itself: its own store and counters, the messages it receives and the replies that come
//! back. Its reports say so. A peer that does not answer is "no answer" (down, or a message
//! lost: the node cannot tell which), and its status shows its own counters and what it heard
//! from each peer, never another node's counters.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::node::{NodeId, NodeRef};
use crate::protocol::kv::{KvStore, Request};
use crate::report::{ConsistencyReport, OpReport};
use crate::stats::{NodeStatus, SystemStatus};

use super::runtime::{bind, lock, Endpoint, Shared};
use super::Rejected;

/// One node of a cluster spread over processes (see the module docs).
#[derive(Debug)]
pub struct Member {
    shared: Arc<Shared<KvStore>>,
    me: NodeId,
    endpoint: Option<Endpoint>,
}

impl Member {
    /// Runs node `id` at `peers[id]`; the other addresses are its peers, in id order. Every
    /// address must be on this machine (127.0.0.1).
    pub fn start(config: Config, id: usize, peers: &[SocketAddr]) -> Result<Self> {
        if id >= peers.len() {
            return Err(Error::argument(
                "id",
                id,
                format!("0 to {} (one of the peers)", peers.len().saturating_sub(1)),
            ));
        }
        if let Some(bad) = peers.iter().find(|a| !a.ip().is_loopback()) {
            return Err(Error::argument("peers", bad, "addresses on this machine (127.0.0.1)"));
        }
        let config = config.to_builder().nodes(peers.len()).build()?;
        let me = NodeId(id as u32);
        let socket = bind(peers[id])?;
        // Message numbers must not collide with those of the peer processes.
        let shared = Arc::new(Shared::new(KvStore, config, peers.to_vec(), false, (id as u64) << 48));
        let endpoint = Endpoint::start(&shared, me, socket)?;
        Ok(Member { shared, me, endpoint: Some(endpoint) })
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.me
    }
    /// This node's name.
    pub fn name(&self) -> String {
        self.shared.config.name(self.me.index())
    }
    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }
    /// Datagrams this node refused, by cause.
    pub fn rejected(&self) -> Rejected {
        lock(&self.shared.nodes[self.me.index()]).rejected
    }
    /// Narration lines of what this node saw from position `mark` on, and the next mark.
    pub fn narration_since(&self, mark: usize) -> (Vec<String>, usize) {
        let trace = lock(&self.shared.trace);
        let lines =
            trace.since(mark).filter_map(|e| crate::narration::narrate(e, &self.shared.config)).collect();
        (lines, trace.len())
    }

    fn operate(&mut self, request: Request) -> Result<OpReport> {
        let started = Instant::now();
        let socket = self.endpoint.as_ref().map(|e| e.socket.clone());
        let op = self.shared.start(socket.as_deref(), request.verb(), self.me, &request, Some("send"))?;
        lock(&self.shared.book).describe(op, request.what());
        Ok(self.shared.finish(op, started))
    }

    /// Sends `text` to one peer and waits for its ack or the timeout.
    pub fn send(&mut self, to: impl Into<NodeRef>, text: &str) -> Result<OpReport> {
        let to = self.shared.config.resolve(to)?;
        self.operate(Request::Send { to, text: text.into() })
    }
    /// Sends `text` to every peer.
    pub fn broadcast(&mut self, text: &str) -> Result<OpReport> {
        self.operate(Request::Broadcast { text: text.into() })
    }
    /// Stores a new version of `key` and sends it to every peer.
    pub fn replicate(&mut self, key: &str, value: &str) -> Result<OpReport> {
        let request = Request::Replicate { key: key.into(), value: value.into() };
        self.operate(request)
    }
    /// Asks every peer for newer versions.
    pub fn sync(&mut self) -> Result<OpReport> {
        self.operate(Request::Sync)
    }
    /// Reads `key` from every peer; a peer without an answer in time is "no answer".
    pub fn read_all(&mut self, key: &str) -> Result<ConsistencyReport> {
        let socket = self.endpoint.as_ref().map(|e| e.socket.clone());
        super::read_all(&self.shared, socket.as_deref(), self.me, key)
    }

    /// This node's counters and what it heard from each peer: all a node can know.
    pub fn status(&self) -> SystemStatus {
        let st = lock(&self.shared.nodes[self.me.index()]);
        let heard_from = (0..self.shared.addrs.len())
            .filter(|&i| i != self.me.index())
            .map(|i| (self.shared.config.name(i), st.heard_from[i]))
            .collect();
        SystemStatus {
            now: self.shared.now(),
            nodes: vec![NodeStatus {
                id: self.me,
                name: self.name(),
                up: true,
                counters: st.counters,
                keys: Some(st.state.store.len()),
            }],
            omniscient: false,
            heard_from,
        }
    }

    /// Stops the node's thread and closes its socket.
    pub fn shutdown(mut self) {
        self.endpoint.take();
    }
}
