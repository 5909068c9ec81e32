//! Real network mode: the same protocol over real UDP sockets on this machine.
//!
//! Each node is a thread with its own socket bound to `127.0.0.1` (never another address),
//! and messages are JSON datagrams. [`RealCluster`] runs every node in this process and keeps
//! the omniscient view, so its verbs, reports, trace and statistics are the simulation's and
//! every table and chart works on a real run too; timestamps are real microseconds since the
//! cluster started. Its verbs are the [`Verbs`] trait's, the same table as the simulation's
//! ([`crate::verbs`]): a `Vec<Call>` runs on either, except the verbs that need virtual time,
//! which are errors here. With the trace on it keeps the calls it was given, and saves them
//! as a run file ([`RealCluster::run_file`], see [`crate::runfile`]). [`Member`] runs one
//! node per process (the `distlab-node` binary) and reports only what that node can know.
//!
//! The node logic is the simulation's ([`crate::protocol::kv`]), and so is the fault model
//! (the crate's `faults` module): with the same seed the same messages are lost. Timing is real, so two
//! runs differ in latency: that difference is part of the lesson.
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

mod member;
mod nodes;
mod runtime;
mod wire;

pub use member::Member;
pub use nodes::RealNodes;
pub use wire::{Rejected, Wire, MAX_DATAGRAM};

use std::borrow::Cow;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::faults::{group_cuts, Cut};
use crate::node::{Counters, NodeId, NodeRef, Record};
use crate::protocol::kv::{Body, KvStore, Request};
use crate::report::{ConsistencyReport, Log, OpReport};
use crate::stats::{NodeStatus, RunStats, SystemStatus};
use crate::time::Time;
use crate::trace::{EventKind, MsgId, Recorded, Trace};
use crate::verbs::{Call, Outcome, Verbs};

use runtime::{bind, bind_all, lock, start_all, Endpoint, Shared};

/// The most nodes on real sockets (each is a thread and a port).
pub const MAX_REAL_NODES: usize = 256;

/// A cluster whose nodes talk over real UDP sockets on 127.0.0.1, one thread per node.
///
/// Dropping it (or [`RealCluster::shutdown`]) stops and joins every node thread and closes
/// every socket.
#[derive(Debug)]
pub struct RealCluster {
    shared: Arc<Shared<KvStore>>,
    endpoints: Vec<Option<Endpoint>>,
    operations: u64,
    /// The verbs issued so far, kept while the trace is on (a run file saves them).
    calls: Vec<Call>,
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
        if ports.len() != config.nodes() || config.nodes() > MAX_REAL_NODES {
            return Err(Error::argument(
                "ports",
                format!("{} ports for {} nodes", ports.len(), config.nodes()),
                format!("one port per node, at most {MAX_REAL_NODES} nodes on real sockets"),
            ));
        }
        let (sockets, addrs) = bind_all(ports)?;
        let shared = Arc::new(Shared::new(KvStore, config, addrs, true, 0));
        let endpoints = start_all(&shared, sockets)?;
        Ok(RealCluster { shared, endpoints, operations: 0, calls: Vec::new() })
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
    /// Datagrams a node refused, by cause.
    pub fn rejected(&self, node: impl Into<NodeRef>) -> Result<Rejected> {
        let id = self.id_of(node)?;
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
        self.narration_since(0).0
    }
    /// The id of a node given by index or name; an error for an unknown one.
    pub fn id_of(&self, node: impl Into<NodeRef>) -> Result<NodeId> {
        self.shared.config.resolve(node)
    }
    /// A node's value for `key`, read directly (the omniscient view).
    pub fn get(&self, node: impl Into<NodeRef>, key: &str) -> Result<Option<String>> {
        let id = self.id_of(node)?;
        Ok(lock(&self.shared.nodes[id.index()]).state.get(key).map(|r| r.value.to_string()))
    }

    fn socket(&self, id: NodeId) -> Option<Arc<UdpSocket>> {
        self.endpoints[id.index()].as_ref().map(|e| e.socket.clone())
    }

    fn operate(&mut self, origin: NodeId, request: Request) -> Result<OpReport> {
        let started = Instant::now();
        let socket = self.socket(origin);
        let op = self.shared.start(
            socket.as_deref(),
            request.verb(),
            origin,
            &request,
            request.refused_when_down(),
        )?;
        self.operations += 1;
        lock(&self.shared.book).describe(op, request.what());
        Ok(self.shared.finish(op, started))
    }

    /// Reads every node's store directly (the omniscient view), like the simulation.
    pub fn check_consistency(&self, key: &str) -> ConsistencyReport {
        let rows: Vec<(String, bool, Option<Arc<Record>>)> = (0..self.len())
            .map(|i| {
                let st = lock(&self.shared.nodes[i]);
                (self.shared.config.name(i), !st.down, st.state.get(key).cloned())
            })
            .collect();
        ConsistencyReport::from_replicas(key, rows.iter().map(|(n, up, r)| (n.clone(), *up, r.as_ref())))
    }

    /// A consistency check as a node can make it: it reads `key` from every peer over the
    /// network. A peer that does not answer in time is "no answer": down, or its answer lost.
    pub fn read_all(&mut self, origin: impl Into<NodeRef>, key: &str) -> Result<ConsistencyReport> {
        let o = self.id_of(origin)?;
        self.operations += 1;
        read_all(&self.shared, self.socket(o).as_deref(), o, key)
    }

    /// Stops a node's thread and closes its socket (nothing if it is down).
    fn crash_node(&mut self, n: NodeId) -> Log {
        let Some(ep) = self.endpoints[n.index()].take() else { return Log::default() };
        drop(ep); // stops and joins the thread, closes the socket
        self.shared.crash(n);
        self.logged(EventKind::Crashed { node: n })
    }

    /// Brings a crashed node back on the same port (an error naming the port if another
    /// program took it meanwhile).
    fn recover_node(&mut self, n: NodeId) -> Result<Log> {
        if self.endpoints[n.index()].is_some() {
            return Ok(Log::default());
        }
        let socket = bind(self.shared.addrs[n.index()])?;
        let ep = Endpoint::start(&self.shared, n, socket)?;
        let log = self.logged(EventKind::Recovered { node: n });
        self.shared.recover(&ep.socket, n);
        self.endpoints[n.index()] = Some(ep);
        Ok(log)
    }

    fn cut(&mut self, cut: Cut) -> Log {
        let spec = Arc::new(cut.spec());
        lock(&self.shared.cuts).add(cut);
        self.logged(EventKind::Partitioned { cut: spec })
    }

    /// Waits (real time) until every message sent has been delivered or dropped, or until
    /// `max_ms` has passed; returns the number still in flight.
    pub fn wait_until_quiet(&self, max_ms: u64) -> u64 {
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
    pub fn status(&self) -> SystemStatus {
        SystemStatus { now: self.now(), nodes: self.rows(), omniscient: true, heard_from: Vec::new() }
    }

    /// Statistics of the run so far; `in_flight` is sent minus settled messages.
    pub fn stats(&self) -> RunStats {
        let nodes = self.rows();
        let total = Counters::sum(nodes.iter().map(|n| &n.counters));
        let in_flight = (total.sent + total.duplicated).saturating_sub(total.delivered + total.dropped());
        RunStats {
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
        self.endpoints.clear();
    }

    fn rows(&self) -> Vec<NodeStatus> {
        (0..self.len())
            .map(|i| {
                let s = lock(&self.shared.nodes[i]);
                NodeStatus {
                    id: NodeId(i as u32),
                    name: self.shared.config.name(i),
                    up: !s.down,
                    counters: s.counters,
                    keys: Some(s.state.store.len()),
                }
            })
            .collect()
    }

    /// Records the event a verb made; its narration, like the simulation's, only with the
    /// trace on.
    fn logged(&self, kind: EventKind) -> Log {
        let e = self.shared.record(kind);
        let lines = if self.shared.config.trace() {
            crate::narration::narrate(&e, &self.shared.config)
        } else {
            None
        };
        Log { lines: lines.into_iter().collect() }
    }
}

/// The lesson's verbs over real sockets (see [`crate::verbs`]). The clock verbs and the
/// scheduled faults need virtual time: they are an error naming the verb.
impl Verbs for RealCluster {
    fn config(&self) -> &Config {
        &self.shared.config
    }
    fn calls(&self) -> &[Call] {
        &self.calls
    }

    fn apply(&mut self, call: Call) -> Result<Outcome> {
        call.check(&self.shared.config)?;
        let outcome = match &call {
            Call::Send { from, to, text } => Outcome::Report(
                self.operate(NodeId(*from), Request::Send { to: NodeId(*to), text: text.clone() })?,
            ),
            Call::Broadcast { from, text } => {
                Outcome::Report(self.operate(NodeId(*from), Request::Broadcast { text: text.clone() })?)
            }
            Call::Replicate { key, value } => {
                let c = (0..self.len())
                    .find(|&i| self.endpoints[i].is_some())
                    .ok_or(Error::AllDown { verb: "replicate" })?;
                let request = Request::Replicate { key: key.clone(), value: value.clone() };
                Outcome::Report(self.operate(NodeId(c as u32), request)?)
            }
            Call::ReplicateFrom { node, key, value } => Outcome::Report(
                self.operate(NodeId(*node), Request::Replicate { key: key.clone(), value: value.clone() })?,
            ),
            Call::Sync { node } => Outcome::Report(self.operate(NodeId(*node), Request::Sync)?),
            Call::Crash { node } => Outcome::Log(self.crash_node(NodeId(*node))),
            Call::Recover { node } => Outcome::Log(self.recover_node(NodeId(*node))?),
            // Checked where the simulation checks, when a datagram arrives.
            Call::Partition { groups } => {
                let (group_of, count) =
                    self.shared.config.groups(groups.iter().map(|g| g.iter().copied()))?;
                let mut log = Log::default();
                for cut in group_cuts(&group_of, count) {
                    log.lines.extend(self.cut(cut).lines);
                }
                Outcome::Log(log)
            }
            Call::PartitionOneWay { from, to } => {
                let config = &self.shared.config;
                let (from, to) =
                    (config.resolve_all(from.iter().copied())?, config.resolve_all(to.iter().copied())?);
                Outcome::Log(self.cut(Cut::new(self.len(), &from, &to)))
            }
            Call::Heal => {
                let had = lock(&self.shared.cuts).heal() > 0;
                Outcome::Log(if had { self.logged(EventKind::Healed) } else { Log::default() })
            }
            Call::Post { from, to, text } => {
                let (from, to) = (NodeId(*from), NodeId(*to));
                let socket = self.socket(from);
                self.operations += 1;
                let body = Arc::new(Body::Text { text: text.to_string() });
                Outcome::Posted(MsgId(self.shared.transmit(socket.as_deref(), from, to, body, None)))
            }
            Call::CrashAt { .. }
            | Call::RecoverAt { .. }
            | Call::Step
            | Call::Run
            | Call::RunUntil { .. } => return Err(call.needs_virtual_time()),
        };
        if self.shared.config.trace() {
            self.calls.push(call);
        }
        Ok(outcome)
    }
}

/// Reads `key` at every peer of `origin` over the network and reports each answer; a peer
/// without an answer in time is "no answer" (down, or a message lost).
fn read_all(
    shared: &Shared<KvStore>,
    socket: Option<&UdpSocket>,
    origin: NodeId,
    key: &str,
) -> Result<ConsistencyReport> {
    let started = Instant::now();
    let request = Request::Read { key: key.into() };
    let op = shared.start(socket, request.verb(), origin, &request, request.refused_when_down())?;
    shared.finish(op, started);
    let mine = lock(&shared.nodes[origin.index()]).state.get(key).cloned();
    let answers = lock(&shared.book).answers(op);
    let rows: Vec<(String, Option<Option<Arc<Record>>>)> = (0..shared.addrs.len())
        .map(|i| {
            let id = NodeId(i as u32);
            let answer = if id == origin {
                Some(mine.clone())
            } else {
                answers.iter().find(|(n, _)| *n == id).and_then(|(_, a)| match a.as_deref() {
                    Some(Body::ReadReply { record }) => Some(record.clone()),
                    _ => None,
                })
            };
            (shared.config.name(i), answer)
        })
        .collect();
    Ok(ConsistencyReport::from_answers(
        key,
        rows.iter().map(|(n, r)| (n.clone(), r.as_ref().map(|r| r.as_ref()))),
    ))
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
