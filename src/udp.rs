//! Real network mode: the same cluster over real UDP sockets on this machine.
//!
//! Each node is a thread with its own socket bound to `127.0.0.1` (never another address),
//! and messages are JSON datagrams. The verbs, reports, trace and statistics are the
//! simulation's, so every table and chart works on a real run too; timestamps are real
//! microseconds since the cluster started. Loss and duplication are injected at the sender by
//! the same seeded generator as the simulation, but timing is real, so two runs differ: that
//! difference is part of the lesson.
//!
//! ```no_run
//! use distlab::prelude::*;
//! use distlab::udp::RealCluster;
//! let mut real = RealCluster::start(Config::builder().nodes(3).loss(0.0).build()?)?;
//! let r = real.broadcast(0, "over real sockets")?;
//! assert_eq!(r.acked(), ["Node-1", "Node-2"]);
//! real.shutdown();
//! # Ok::<(), distlab::Error>(())
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::network::Cut;
use crate::node::{Counters, NodeId, NodeRef, Record, Version};
use crate::report::{ConsistencyReport, Fate, Log, OpReport, SenderView, TargetReport, Verb};
use crate::stats::{LatencyHistogram, NodeStatus, Stats, Status};
use crate::trace::{Body, DropCause, Event, EventKind, MsgId, Recorded, Time, Trace};

/// The largest datagram a node accepts; a larger one is dropped and counted.
pub const MAX_DATAGRAM: usize = 16 * 1024;
/// How often a node's thread looks at its stop flag.
const POLL: Duration = Duration::from_millis(5);

/// What travels in a datagram.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Wire {
    /// Message number.
    pub msg: u64,
    /// Sender id.
    pub from: u32,
    /// Receiver id.
    pub to: u32,
    /// Wall-clock send time, microseconds since the Unix epoch (one machine, one clock).
    pub sent_us: u64,
    /// The operation it belongs to, if a reply is expected.
    pub op: Option<u64>,
    /// The payload.
    pub body: Body,
}

/// Datagrams a node refused, by cause. None of them can stop or panic a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Rejected {
    /// Not a valid message (bad JSON, wrong receiver, unknown sender id).
    pub garbage: u64,
    /// Larger than [`MAX_DATAGRAM`].
    pub oversize: u64,
    /// From an address that is not a peer.
    pub stranger: u64,
}

#[derive(Debug)]
struct NodeState {
    down: bool,
    store: BTreeMap<Arc<str>, Arc<Record>>,
    counters: Counters,
    rejected: Rejected,
    rng: Xoshiro256PlusPlus,
}

/// A reply that reached the node that asked.
#[derive(Debug)]
struct Reply {
    op: u64,
    from: u32,
    body: Body,
}

/// What the nodes of one process share: addresses, stores, counters, the trace.
#[derive(Debug)]
struct Shared {
    config: Config,
    start: Instant,
    addrs: Vec<SocketAddr>,
    nodes: Vec<Mutex<NodeState>>,
    trace: Mutex<Trace>,
    latency: Mutex<LatencyHistogram>,
    next_msg: AtomicU64,
    cuts: Mutex<Vec<Cut>>,
    /// (op, target) -> the reply's message number, to tell the reply's fate.
    replies: Mutex<BTreeMap<(u64, u32), u64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in another thread must not take the whole cluster down with a poisoned lock.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn wall_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

impl Shared {
    fn now(&self) -> Time {
        Time(self.start.elapsed().as_micros() as u64)
    }
    fn record(&self, kind: EventKind) {
        if self.config.trace() {
            let e = Event { at: self.now(), kind };
            lock(&self.trace).push(e);
        }
    }
    fn drop_msg(&self, msg: u64, from: u32, to: u32, cause: DropCause) {
        {
            let mut st = lock(&self.nodes[from as usize]);
            match cause {
                DropCause::Lost => st.counters.dropped_lost += 1,
                DropCause::TargetDown => st.counters.dropped_target_down += 1,
                DropCause::SenderDown => st.counters.dropped_sender_down += 1,
                DropCause::Partitioned => st.counters.dropped_partitioned += 1,
            }
        }
        self.record(EventKind::Dropped { msg: MsgId(msg), from: NodeId(from), to: NodeId(to), cause });
    }

    /// Sends a message from a node's socket: counts it, injects loss, duplication and
    /// partitions at the sender, and records what the omniscient trace knows.
    fn transmit(&self, socket: &UdpSocket, from: u32, to: u32, body: Body, op: Option<u64>) -> u64 {
        let msg = self.next_msg.fetch_add(1, Ordering::Relaxed);
        let (lost, dup, sender_down) = {
            let mut st = lock(&self.nodes[from as usize]);
            st.counters.sent += 1;
            let lost = st.rng.random::<f64>() < self.config.loss();
            let dup = self.config.duplication() > 0.0 && st.rng.random::<f64>() < self.config.duplication();
            if dup {
                st.counters.duplicated += 1;
            }
            (lost, dup, st.down)
        };
        let body_arc = Arc::new(body);
        self.record(EventKind::Sent {
            msg: MsgId(msg),
            from: NodeId(from),
            to: NodeId(to),
            body: body_arc.clone(),
        });
        if sender_down {
            if dup {
                lock(&self.nodes[from as usize]).counters.duplicated -= 1;
            }
            self.drop_msg(msg, from, to, DropCause::SenderDown);
            return msg;
        }
        let cut = lock(&self.cuts).iter().any(|c| c.blocks(NodeId(from), NodeId(to)));
        let copies = if dup {
            self.record(EventKind::Duplicated { msg: MsgId(msg), from: NodeId(from), to: NodeId(to) });
            2
        } else {
            1
        };
        let wire = Wire { msg, from, to, sent_us: wall_us(), op, body: (*body_arc).clone() };
        let bytes = serde_json::to_vec(&wire).expect("a Wire always serializes");
        for copy in 0..copies {
            if cut {
                self.drop_msg(msg, from, to, DropCause::Partitioned);
            } else if lost && copy == 0 {
                // Injected loss: the datagram never leaves, as if the network had eaten it.
                self.drop_msg(msg, from, to, DropCause::Lost);
            } else {
                let _ = socket.send_to(&bytes, self.addrs[to as usize]);
                if lock(&self.nodes[to as usize]).down {
                    // Nobody listens on a crashed node's port: the kernel discards the datagram.
                    self.drop_msg(msg, from, to, DropCause::TargetDown);
                }
            }
        }
        msg
    }
}

/// One node's thread and socket.
#[derive(Debug)]
struct Endpoint {
    socket: Arc<UdpSocket>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    replies: Receiver<Reply>,
}

fn bind(addr: SocketAddr) -> Result<UdpSocket> {
    let socket = UdpSocket::bind(addr)
        .map_err(|e| Error::Network { addr: addr.to_string(), message: e.to_string() })?;
    socket
        .set_read_timeout(Some(POLL))
        .map_err(|e| Error::Network { addr: addr.to_string(), message: e.to_string() })?;
    Ok(socket)
}

impl Endpoint {
    fn start(shared: &Arc<Shared>, id: u32, socket: UdpSocket) -> Endpoint {
        let socket = Arc::new(socket);
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let thread = {
            let (shared, socket, stop) = (shared.clone(), socket.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("distlab-node-{id}"))
                .spawn(move || serve(&shared, id, &socket, &stop, &tx))
                .expect("the OS can start a thread")
        };
        Endpoint { socket, stop, thread: Some(thread), replies: rx }
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A node's receive loop: decode, check, deliver, answer. Ends when `stop` is set.
fn serve(shared: &Shared, id: u32, socket: &UdpSocket, stop: &AtomicBool, replies: &Sender<Reply>) {
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    while !stop.load(Ordering::Relaxed) {
        let (n, src) = match socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(_) => continue, // timeout (poll the stop flag) or an ICMP error from a closed peer
        };
        let reject = |f: fn(&mut Rejected)| f(&mut lock(&shared.nodes[id as usize]).rejected);
        if n > MAX_DATAGRAM {
            reject(|r| r.oversize += 1);
            continue;
        }
        if !shared.addrs.contains(&src) {
            reject(|r| r.stranger += 1);
            continue;
        }
        let wire: Wire = match serde_json::from_slice(&buf[..n]) {
            Ok(w) => w,
            Err(_) => {
                reject(|r| r.garbage += 1);
                continue;
            }
        };
        if wire.to != id || shared.addrs.get(wire.from as usize) != Some(&src) {
            reject(|r| r.garbage += 1);
            continue;
        }
        deliver(shared, id, socket, wire, replies);
    }
}

fn deliver(shared: &Shared, id: u32, socket: &UdpSocket, w: Wire, replies: &Sender<Reply>) {
    let latency = wall_us().saturating_sub(w.sent_us);
    lock(&shared.latency).record(latency);
    lock(&shared.nodes[w.from as usize]).counters.delivered += 1;
    lock(&shared.nodes[id as usize]).counters.received += 1;
    let at = shared.now();
    let body = Arc::new(w.body);
    shared.record(EventKind::Delivered {
        msg: MsgId(w.msg),
        from: NodeId(w.from),
        to: NodeId(id),
        sent: Time(at.0.saturating_sub(latency)),
        body: body.clone(),
    });
    let answer = |reply: Body| {
        if let Some(op) = w.op {
            let msg = shared.transmit(socket, id, w.from, reply, Some(op));
            lock(&shared.replies).insert((op, id), msg);
        }
    };
    let apply = |r: &Arc<Record>| {
        let mut st = lock(&shared.nodes[id as usize]);
        let newer = st.store.get(&r.key).is_none_or(|cur| cur.version < r.version);
        if newer {
            st.store.insert(r.key.clone(), r.clone());
        }
        drop(st);
        if newer {
            shared.record(EventKind::Stored { node: NodeId(id), record: r.clone() });
        }
    };
    match &*body {
        Body::Text { .. } => answer(Body::Ack),
        Body::Write { record } => {
            apply(record);
            answer(Body::Ack);
        }
        Body::SyncRequest { have } => {
            let theirs: BTreeMap<&str, Version> = have.iter().map(|(k, v)| (&**k, *v)).collect();
            let records = lock(&shared.nodes[id as usize])
                .store
                .values()
                .filter(|r| theirs.get(&*r.key).is_none_or(|v| *v < r.version))
                .cloned()
                .collect();
            answer(Body::SyncReply { records });
        }
        Body::Read { key } => {
            let record = lock(&shared.nodes[id as usize]).store.get(key).cloned();
            answer(Body::ReadReply { record });
        }
        Body::Ack | Body::SyncReply { .. } | Body::ReadReply { .. } => {
            if let Body::SyncReply { records } = &*body {
                records.iter().for_each(apply);
            }
            if let Some(op) = w.op {
                let _ = replies.send(Reply { op, from: w.from, body: (*body).clone() });
            }
        }
    }
}

/// A cluster whose nodes talk over real UDP sockets on 127.0.0.1, one thread per node.
///
/// Dropping it (or [`RealCluster::shutdown`]) stops and joins every node thread and closes
/// every socket.
#[derive(Debug)]
pub struct RealCluster {
    shared: Arc<Shared>,
    endpoints: Vec<Option<Endpoint>>,
    next_op: u64,
    operations: u64,
}

impl RealCluster {
    /// Starts every node on 127.0.0.1 with a port the system picks.
    pub fn start(config: Config) -> Result<Self> {
        let ports = vec![0; config.nodes()];
        Self::start_on(config, &ports)
    }

    /// Starts node `i` on 127.0.0.1:`ports[i]` (0: the system picks). A port in use is an
    /// error that names it.
    pub fn start_on(config: Config, ports: &[u16]) -> Result<Self> {
        if ports.len() != config.nodes() || config.nodes() > 256 {
            return Err(Error::argument(
                "ports",
                format!("{} ports for {} nodes", ports.len(), config.nodes()),
                "one port per node, at most 256 nodes on real sockets",
            ));
        }
        let mut sockets = Vec::with_capacity(ports.len());
        for &p in ports {
            sockets.push(bind(SocketAddr::from((Ipv4Addr::LOCALHOST, p)))?);
        }
        let addrs = sockets
            .iter()
            .map(|s| {
                s.local_addr()
                    .map_err(|e| Error::Network { addr: "127.0.0.1".into(), message: e.to_string() })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::with_sockets(config, addrs, sockets.into_iter().map(Some).collect()))
    }

    fn with_sockets(config: Config, addrs: Vec<SocketAddr>, sockets: Vec<Option<UdpSocket>>) -> Self {
        let nodes = (0..addrs.len())
            .map(|i| {
                Mutex::new(NodeState {
                    down: false,
                    store: BTreeMap::new(),
                    counters: Counters::default(),
                    rejected: Rejected::default(),
                    rng: Xoshiro256PlusPlus::seed_from_u64(config.seed().wrapping_add(i as u64)),
                })
            })
            .collect();
        let shared = Arc::new(Shared {
            config,
            start: Instant::now(),
            addrs,
            nodes,
            trace: Mutex::new(Trace::default()),
            latency: Mutex::new(LatencyHistogram::default()),
            next_msg: AtomicU64::new(0),
            cuts: Mutex::new(Vec::new()),
            replies: Mutex::new(BTreeMap::new()),
        });
        let endpoints = sockets
            .into_iter()
            .enumerate()
            .map(|(i, s)| s.map(|s| Endpoint::start(&shared, i as u32, s)))
            .collect();
        RealCluster { shared, endpoints, next_op: 0, operations: 0 }
    }

    /// One node of a cluster spread over processes: this process runs node `id` at
    /// `peers[id]`; the other addresses are its peers (for the `distlab-node` binary).
    pub fn start_member(config: Config, id: usize, peers: &[SocketAddr]) -> Result<Self> {
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
        let mut sockets: Vec<Option<UdpSocket>> = (0..peers.len()).map(|_| None).collect();
        sockets[id] = Some(bind(peers[id])?);
        let cluster = Self::with_sockets(config, peers.to_vec(), sockets);
        // Message numbers must not collide with those of the peer processes.
        cluster.shared.next_msg.store((id as u64) << 48, Ordering::Relaxed);
        Ok(cluster)
    }

    /// The node addresses.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.shared.addrs
    }
    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.shared.addrs.len()
    }
    /// Always false: a cluster has at least one node.
    pub fn is_empty(&self) -> bool {
        self.shared.addrs.is_empty()
    }
    /// Real time since the start.
    pub fn now(&self) -> Time {
        self.shared.now()
    }
    /// A copy of the trace so far.
    pub fn trace(&self) -> Trace {
        lock(&self.shared.trace).clone()
    }
    /// Datagrams each node refused, by cause.
    pub fn rejected(&self, node: impl Into<NodeRef>) -> Result<Rejected> {
        let id = self.node(node)?;
        Ok(lock(&self.shared.nodes[id.index()]).rejected)
    }
    /// Narration lines of the events from position `mark` on, and the next mark.
    pub fn narration_since(&self, mark: usize) -> (Vec<String>, usize) {
        let trace = lock(&self.shared.trace);
        let lines =
            trace.since(mark).filter_map(|e| crate::narration::narrate(e, &self.shared.config)).collect();
        (lines, trace.len())
    }
    /// The narration of every recorded event.
    pub fn narration(&self) -> Vec<String> {
        self.trace().iter().filter_map(|e| crate::narration::narrate(e, &self.shared.config)).collect()
    }

    fn node(&self, node: impl Into<NodeRef>) -> Result<NodeId> {
        self.shared.config.resolve(node)
    }

    fn local(&self, id: NodeId, verb: &'static str) -> Result<&Endpoint> {
        self.endpoints[id.index()].as_ref().ok_or_else(|| Error::NodeDown {
            node: format!("{} (down, or run by another process)", self.shared.config.name(id.index())),
            verb,
        })
    }

    /// Sends `text` and waits for the reply or the timeout (real milliseconds).
    pub fn send(&mut self, from: impl Into<NodeRef>, to: impl Into<NodeRef>, text: &str) -> Result<OpReport> {
        let (from, to) = (self.node(from)?, self.node(to)?);
        self.operate(Verb::Send, from, format!("{text:?}"), vec![(to, Body::Text { text: text.into() })])
    }

    /// Sends `text` to every other node and waits for replies or timeouts.
    pub fn broadcast(&mut self, from: impl Into<NodeRef>, text: &str) -> Result<OpReport> {
        let from = self.node(from)?;
        let targets = self.others(from).map(|t| (t, Body::Text { text: text.into() })).collect();
        self.operate(Verb::Broadcast, from, format!("{text:?}"), targets)
    }

    /// Writes through the first live local node as coordinator.
    pub fn replicate(&mut self, key: &str, value: &str) -> Result<OpReport> {
        let c = (0..self.len())
            .find(|&i| self.endpoints[i].is_some())
            .ok_or_else(|| Error::NodeDown { node: "every local node".into(), verb: "replicate" })?;
        self.replicate_from(c, key, value)
    }

    /// The coordinator stores a new version and sends it to every other node.
    pub fn replicate_from(
        &mut self,
        coordinator: impl Into<NodeRef>,
        key: &str,
        value: &str,
    ) -> Result<OpReport> {
        let c = self.node(coordinator)?;
        self.local(c, "replicate")?;
        let record = {
            let mut st = lock(&self.shared.nodes[c.index()]);
            let counter = st.store.get(key).map_or(0, |r| r.version.counter) + 1;
            let r = Arc::new(Record {
                key: key.into(),
                value: value.into(),
                version: Version { counter, writer: c },
            });
            st.store.insert(r.key.clone(), r.clone());
            r
        };
        self.shared.record(EventKind::Stored { node: c, record: record.clone() });
        let targets = self.others(c).map(|t| (t, Body::Write { record: record.clone() })).collect();
        let mut report =
            self.operate(Verb::Replicate, c, format!("{key} = {value} ({})", record.version), targets)?;
        report.version = Some(record.version);
        Ok(report)
    }

    /// Anti-entropy over the network: ask every peer for newer versions.
    pub fn sync(&mut self, node: impl Into<NodeRef>) -> Result<OpReport> {
        let n = self.node(node)?;
        self.local(n, "sync")?;
        let have: Vec<(Arc<str>, Version)> =
            lock(&self.shared.nodes[n.index()]).store.values().map(|r| (r.key.clone(), r.version)).collect();
        let before: BTreeMap<Arc<str>, Version> = have.iter().cloned().collect();
        let targets = self.others(n).map(|t| (t, Body::SyncRequest { have: have.clone() })).collect();
        let mut report = self.operate(Verb::Sync, n, "newer versions, please".into(), targets)?;
        report.updated = lock(&self.shared.nodes[n.index()])
            .store
            .values()
            .filter(|r| before.get(&r.key).is_none_or(|v| *v < r.version))
            .cloned()
            .collect();
        Ok(report)
    }

    /// Reads every node's store directly (the omniscient view), like the simulation.
    pub fn check_consistency(&self, key: &str) -> ConsistencyReport {
        let states: Vec<_> = self.shared.nodes.iter().map(|m| lock(m)).collect();
        ConsistencyReport::from_replicas(
            key,
            states.iter().enumerate().map(|(i, s)| (self.shared.config.name(i), !s.down, s.store.get(key))),
        )
    }

    /// A consistency check as a node can make it: it reads `key` from every peer over the
    /// network; peers that do not answer in time are reported as unknown.
    pub fn read_all(&mut self, origin: impl Into<NodeRef>, key: &str) -> Result<ConsistencyReport> {
        let o = self.node(origin)?;
        self.local(o, "read")?;
        let targets = self.others(o).map(|t| (t, Body::Read { key: key.into() })).collect();
        let (_, answers) = self.operate_raw(Verb::Send, o, format!("read {key}"), targets)?;
        let mine = lock(&self.shared.nodes[o.index()]).store.get(key).cloned();
        let rows: Vec<(String, bool, Option<Arc<Record>>)> = (0..self.len())
            .map(|i| {
                let name = self.shared.config.name(i);
                if i == o.index() {
                    return (name, true, mine.clone());
                }
                match answers.get(&(i as u32)) {
                    Some(Body::ReadReply { record }) => (name, true, record.clone()),
                    _ => (name, false, None),
                }
            })
            .collect();
        Ok(ConsistencyReport::from_replicas(key, rows.iter().map(|(n, up, r)| (n.clone(), *up, r.as_ref()))))
    }

    /// Crashes a local node: its thread stops and its socket closes.
    pub fn crash(&mut self, node: impl Into<NodeRef>) -> Result<Log> {
        let n = self.node(node)?;
        let Some(mut ep) = self.endpoints[n.index()].take() else { return Ok(Log::default()) };
        ep.stop();
        drop(ep);
        {
            let mut st = lock(&self.shared.nodes[n.index()]);
            st.down = true;
            if !self.shared.config.durable() {
                st.store.clear();
            }
        }
        Ok(self.logged(EventKind::Crashed { node: n }))
    }

    /// Brings a crashed node back on the same port (an error naming the port if another
    /// program took it meanwhile).
    pub fn recover(&mut self, node: impl Into<NodeRef>) -> Result<Log> {
        let n = self.node(node)?;
        if self.endpoints[n.index()].is_some() || !lock(&self.shared.nodes[n.index()]).down {
            return Ok(Log::default());
        }
        let socket = bind(self.shared.addrs[n.index()])?;
        self.endpoints[n.index()] = Some(Endpoint::start(&self.shared, n.0, socket));
        lock(&self.shared.nodes[n.index()]).down = false;
        Ok(self.logged(EventKind::Recovered { node: n }))
    }

    /// Cuts messages from `from` to `to` (injected at the sender).
    pub fn partition_one_way<A: Into<NodeRef>, B: Into<NodeRef>>(
        &mut self,
        from: impl IntoIterator<Item = A>,
        to: impl IntoIterator<Item = B>,
    ) -> Result<Log> {
        let config = &self.shared.config;
        let cut = Cut::new(self.len(), &config.resolve_all(from)?, &config.resolve_all(to)?);
        let spec = Arc::new(cut.spec());
        lock(&self.shared.cuts).push(cut);
        Ok(self.logged(EventKind::Partitioned { cut: spec }))
    }

    /// Removes every partition.
    pub fn heal(&mut self) -> Log {
        let had = !std::mem::take(&mut *lock(&self.shared.cuts)).is_empty();
        if had {
            self.logged(EventKind::Healed)
        } else {
            Log::default()
        }
    }

    /// Sends a one-way message with no reply and no waiting (for benchmarks).
    pub fn post(&mut self, from: impl Into<NodeRef>, to: impl Into<NodeRef>, text: &str) -> Result<MsgId> {
        let (from, to) = (self.node(from)?, self.node(to)?);
        let socket = self.local(from, "post")?.socket.clone();
        self.operations += 1;
        Ok(MsgId(self.shared.transmit(&socket, from.0, to.0, Body::Text { text: text.into() }, None)))
    }

    /// Waits (real time) until every message sent has been delivered or dropped, or until
    /// `max_ms` has passed; returns the number still in flight.
    pub fn settle(&self, max_ms: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_millis(max_ms);
        loop {
            let left = self.stats().in_flight;
            if left == 0 || Instant::now() >= deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Per-node state and counters.
    pub fn status(&self) -> Status {
        Status { now: self.now(), nodes: self.rows() }
    }

    /// Statistics of the run so far; `in_flight` is sent minus settled messages.
    pub fn stats(&self) -> Stats {
        let nodes = self.rows();
        let total = Counters::sum(nodes.iter().map(|n| &n.counters));
        let in_flight = (total.sent + total.duplicated).saturating_sub(total.delivered + total.dropped());
        Stats {
            seed: self.shared.config.seed(),
            now: self.now(),
            nodes,
            total,
            in_flight,
            peak_in_flight: in_flight,
            operations: self.operations,
            latency: lock(&self.shared.latency).summary(),
        }
    }

    /// Stops every node thread and closes every socket.
    pub fn shutdown(mut self) {
        self.stop_all();
    }

    fn stop_all(&mut self) {
        for ep in self.endpoints.iter_mut().flatten() {
            ep.stop();
        }
        self.endpoints.clear();
    }

    fn rows(&self) -> Vec<NodeStatus> {
        self.shared
            .nodes
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let s = lock(m);
                NodeStatus {
                    id: NodeId(i as u32),
                    name: self.shared.config.name(i),
                    up: !s.down,
                    counters: s.counters,
                    keys: s.store.len(),
                }
            })
            .collect()
    }

    fn logged(&self, kind: EventKind) -> Log {
        let e = Event { at: self.now(), kind };
        let line = crate::narration::narrate(&e, &self.shared.config);
        if self.shared.config.trace() {
            lock(&self.shared.trace).push(e);
        }
        Log { lines: line.into_iter().collect() }
    }

    fn others(&self, me: NodeId) -> impl Iterator<Item = NodeId> {
        (0..self.len() as u32).map(NodeId).filter(move |&n| n != me)
    }

    fn operate(
        &mut self,
        verb: Verb,
        origin: NodeId,
        what: String,
        targets: Vec<(NodeId, Body)>,
    ) -> Result<OpReport> {
        Ok(self.operate_raw(verb, origin, what, targets)?.0)
    }

    /// Sends one request per target from `origin`'s socket and waits for the replies until
    /// the timeout; then reads the trace for what really happened.
    fn operate_raw(
        &mut self,
        verb: Verb,
        origin: NodeId,
        what: String,
        targets: Vec<(NodeId, Body)>,
    ) -> Result<(OpReport, BTreeMap<u32, Body>)> {
        let ep = self.local(origin, "send")?;
        let socket = ep.socket.clone();
        while ep.replies.try_recv().is_ok() {} // late replies of earlier operations
        self.next_op += 1;
        self.operations += 1;
        let op = self.next_op;
        let mark = lock(&self.shared.trace).len();
        let started = self.now();
        let up_at_start: Vec<bool> =
            targets.iter().map(|(t, _)| !lock(&self.shared.nodes[t.index()]).down).collect();
        let mut sent = Vec::with_capacity(targets.len());
        for (t, body) in &targets {
            sent.push(self.shared.transmit(&socket, origin.0, t.0, body.clone(), Some(op)));
        }
        let deadline =
            Instant::now() + Duration::from_micros((self.shared.config.timeout_ms() * 1000.0) as u64);
        let mut seen: Vec<SenderView> = vec![SenderView::Waiting; targets.len()];
        let mut answers = BTreeMap::new();
        let ep = self.local(origin, "send")?;
        while seen.contains(&SenderView::Waiting) {
            let left = deadline.saturating_duration_since(Instant::now());
            match ep.replies.recv_timeout(left) {
                Ok(r) if r.op == op => {
                    if let Some(i) = targets.iter().position(|(t, _)| t.0 == r.from) {
                        if seen[i] == SenderView::Waiting {
                            seen[i] = SenderView::Replied { rtt: Time(self.now().0 - started.0) };
                            answers.insert(r.from, r.body);
                        }
                    }
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        for (i, (t, _)) in targets.iter().enumerate() {
            if seen[i] == SenderView::Waiting {
                seen[i] = SenderView::TimedOut;
                self.shared.record(EventKind::TimedOut { node: origin, peer: *t });
            }
        }
        let finished = self.now();
        // Read the trace in place (no copy of the whole run per operation).
        let trace = lock(&self.shared.trace);
        let fate = |msg: Option<u64>| -> Fate {
            let Some(msg) = msg else { return Fate::NotSent };
            let mut sent_at = None;
            for e in trace.since(mark) {
                match &e.kind {
                    EventKind::Sent { msg: m, .. } if m.0 == msg => sent_at = Some(e.at),
                    EventKind::Delivered { msg: m, .. } if m.0 == msg => {
                        return Fate::Delivered { latency: Time(e.at.0 - sent_at.unwrap_or(e.at).0) }
                    }
                    EventKind::Dropped { msg: m, cause, .. } if m.0 == msg => {
                        return Fate::Dropped { cause: *cause }
                    }
                    _ => {}
                }
            }
            Fate::InFlight
        };
        // Take this operation's reply numbers out, so the map does not grow with every operation.
        let reply_ids: BTreeMap<u32, u64> = {
            let mut replies = lock(&self.shared.replies);
            targets.iter().filter_map(|(t, _)| replies.remove(&(op, t.0)).map(|m| (t.0, m))).collect()
        };
        let report = OpReport {
            verb,
            origin: self.shared.config.name(origin.index()),
            what,
            started,
            finished,
            targets: targets
                .iter()
                .enumerate()
                .map(|(i, (t, _))| TargetReport {
                    id: *t,
                    name: self.shared.config.name(t.index()),
                    up_at_start: up_at_start[i],
                    seen: seen[i],
                    request: fate(Some(sent[i])),
                    reply: fate(reply_ids.get(&t.0).copied()),
                })
                .collect(),
            updated: Vec::new(),
            version: None,
            log: trace
                .since(mark)
                .filter_map(|e| crate::narration::narrate(e, &self.shared.config))
                .collect(),
        };
        Ok((report, answers))
    }
}

impl Drop for RealCluster {
    fn drop(&mut self) {
        self.stop_all();
    }
}

impl Recorded for RealCluster {
    fn events(&self) -> Cow<'_, Trace> {
        Cow::Owned(self.trace())
    }
    fn node_count(&self) -> usize {
        self.len()
    }
    fn node_name(&self, i: usize) -> String {
        self.shared.config.name(i)
    }
    fn clock(&self) -> Time {
        self.now()
    }
    fn latency_histogram(&self) -> Vec<(f64, u64)> {
        lock(&self.shared.latency).buckets()
    }
    fn tracing(&self) -> bool {
        self.shared.config.trace()
    }
}
