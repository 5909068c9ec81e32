//! The UDP runtime: any [`Protocol`] with one thread and one socket per node.
//!
//! A node's thread receives datagrams, checks them ([`wire::decode`](super::wire) and the
//! operation tag), records each message's fate in the [`Book`] as it arrives, runs the
//! protocol's handler and carries out its effects. Faults are drawn at the sender by the
//! fault model in [`crate::faults`], the same draws as in the simulation.
//!
//! # Locks
//! `Shared` holds one lock per node (state, counters, generator, timers) and one each for the
//! book, the trace, the latency histogram and the partitions. **A thread holds at most one of
//! them at a time.** A handler runs while its node's lock is held and does no I/O; its effects
//! are carried out after the lock is released, each taking the lock it needs in turn. The only
//! wait is a verb's wait on `progress` with the book's lock, which the wait releases. So no
//! two threads can wait for each other's locks.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::faults::{Cuts, Links, SenderRng};
use crate::node::{Counters, NodeId};
use crate::ops::{Action, Book, Cause, OpTag};
use crate::protocol::{Context, Effect, Networked, Out};
use crate::report::{Fate, OpReport, Verb};
use crate::stats::LatencyHistogram;
use crate::time::Time;
use crate::trace::{DropCause, Event, EventKind, MsgId, Trace};

use super::wire::{decode, Refusal, Rejected, Wire, MAX_DATAGRAM};

/// How often a node's thread looks at its stop flag and its timers.
const POLL: Duration = Duration::from_millis(5);

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in another thread must not take the whole cluster down with a poisoned lock.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn wall_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// One node as its thread sees it.
#[derive(Debug)]
pub(crate) struct NodeState<S> {
    pub(crate) down: bool,
    pub(crate) state: S,
    pub(crate) counters: Counters,
    pub(crate) rejected: Rejected,
    /// Messages delivered to this node, per sender.
    pub(crate) heard_from: Vec<u64>,
    rng: SenderRng,
    timers: Vec<(Instant, Option<u32>, u64)>,
}

/// What the node threads of one process share.
#[derive(Debug)]
pub(crate) struct Shared<P: Networked> {
    pub(crate) protocol: P,
    pub(crate) config: Config,
    links: Links,
    start: Instant,
    pub(crate) addrs: Vec<SocketAddr>,
    pub(crate) nodes: Vec<Mutex<NodeState<P::State>>>,
    pub(crate) trace: Mutex<Trace>,
    pub(crate) latency: Mutex<LatencyHistogram>,
    next_msg: AtomicU64,
    pub(crate) cuts: Mutex<Cuts>,
    pub(crate) book: Mutex<Book<P::Msg, P::Output>>,
    progress: Condvar,
    /// True when every node runs in this process ([`super::RealCluster`]): fates are recorded
    /// at both ends and liveness is known. False for one node per process
    /// ([`super::Member`]): only what comes back to it.
    pub(crate) omniscient: bool,
}

impl<P: Networked> Shared<P> {
    pub(crate) fn new(
        protocol: P,
        config: Config,
        addrs: Vec<SocketAddr>,
        omniscient: bool,
        first_msg: u64,
    ) -> Self {
        let n = addrs.len();
        let nodes = SenderRng::all(&config)
            .into_iter()
            .map(|rng| {
                Mutex::new(NodeState {
                    down: false,
                    state: P::State::default(),
                    counters: Counters::default(),
                    rejected: Rejected::default(),
                    heard_from: vec![0; n],
                    rng,
                    timers: Vec::new(),
                })
            })
            .collect();
        Shared {
            protocol,
            links: Links::new(&config),
            config,
            start: Instant::now(),
            addrs,
            nodes,
            trace: Mutex::new(Trace::default()),
            latency: Mutex::new(LatencyHistogram::default()),
            next_msg: AtomicU64::new(first_msg),
            cuts: Mutex::new(Cuts::default()),
            book: Mutex::new(Book::default()),
            progress: Condvar::new(),
            omniscient,
        }
    }

    pub(crate) fn now(&self) -> Time {
        Time(self.start.elapsed().as_micros() as u64)
    }

    pub(crate) fn record(&self, kind: EventKind) -> Event {
        let e = Event { at: self.now(), kind };
        if self.config.trace() {
            lock(&self.trace).push(e.clone());
        }
        e
    }

    fn context(&self, me: NodeId, in_operation: bool) -> Context {
        Context { me, nodes: self.addrs.len(), durable: self.config.durable(), in_operation, now: self.now() }
    }

    /// Whether this process keeps the fate of a message with this tag: every tag when all
    /// nodes are here; otherwise only its own operations' requests and the replies to them.
    fn keeps(&self, tag: OpTag, from: NodeId, me_sending: bool) -> bool {
        self.omniscient || (me_sending != tag.reply && from.index() < self.nodes.len())
    }

    fn settle(&self, tag: Option<OpTag>, fate: Fate, sending: bool, from: NodeId) {
        if let Some(t) = tag.filter(|t| self.keeps(*t, from, sending)) {
            lock(&self.book).settle(t, fate);
        }
    }

    fn drop_msg(
        &self,
        msg: u64,
        from: NodeId,
        to: NodeId,
        tag: Option<OpTag>,
        cause: DropCause,
        at_sender: bool,
    ) {
        lock(&self.nodes[from.index()]).counters.count_drop(cause);
        self.settle(tag, Fate::Dropped { cause }, at_sender, from);
        // One node alone cannot know that its message was lost (here the loss is injected
        // at its own socket, a stand-in for the network): only the omniscient run says so.
        if self.omniscient {
            self.record(EventKind::Dropped { msg: MsgId(msg), from, to, cause });
        }
    }

    /// Sends a message from a node's socket: counts it, draws its copies from the fault
    /// model, and sends each copy that is not lost.
    pub(crate) fn transmit(
        &self,
        socket: Option<&UdpSocket>,
        from: NodeId,
        to: NodeId,
        body: Arc<P::Msg>,
        tag: Option<OpTag>,
    ) -> u64 {
        let msg = self.next_msg.fetch_add(1, Ordering::Relaxed);
        let copies = {
            let mut st = lock(&self.nodes[from.index()]);
            st.counters.sent += 1;
            if st.down {
                None
            } else {
                let copies = self.links.draw(&mut st.rng);
                st.counters.duplicated += u64::from(copies.second.is_some());
                Some(copies)
            }
        };
        if self.config.trace() {
            self.record(EventKind::Sent { msg: MsgId(msg), from, to, body: self.protocol.trace_body(&body) });
        }
        let (Some(copies), Some(socket)) = (copies, socket) else {
            self.drop_msg(msg, from, to, tag, DropCause::SenderDown, true);
            return msg;
        };
        if copies.second.is_some() {
            self.record(EventKind::Duplicated { msg: MsgId(msg), from, to });
        }
        let wire = Wire { msg, from: from.0, to: to.0, sent_us: wall_us(), tag, body };
        let bytes = serde_json::to_vec(&wire).unwrap_or_default();
        for copy in copies.iter() {
            if copy.lost {
                // Injected loss: the datagram never leaves, as if the network had eaten it.
                self.drop_msg(msg, from, to, tag, DropCause::Lost, true);
            } else if self.omniscient && lock(&self.nodes[to.index()]).down {
                // Nobody listens on a crashed node's port: the datagram would be discarded.
                self.drop_msg(msg, from, to, tag, DropCause::TargetDown, true);
            } else {
                let _ = socket.send_to(&bytes, self.addrs[to.index()]);
            }
        }
        msg
    }

    /// Handles one datagram that reached node `me`.
    fn receive(&self, socket: &UdpSocket, me: NodeId, bytes: &[u8], src: SocketAddr) {
        let refuse = |why| lock(&self.nodes[me.index()]).rejected.count(why);
        let wire: Wire<P::Msg> = match decode(bytes, src, &self.addrs, me.0) {
            Ok(w) => w,
            Err(why) => return refuse(why),
        };
        let from = NodeId(wire.from);
        if let Some(tag) = wire.tag {
            if self.keeps(tag, from, false) && !lock(&self.book).fits(tag, from, me) {
                return refuse(Refusal::ForgedTag);
            }
        }
        if self.omniscient && lock(&self.cuts).blocks(from, me) {
            return self.drop_msg(wire.msg, from, me, wire.tag, DropCause::Partitioned, false);
        }
        let latency = Time(wall_us().saturating_sub(wire.sent_us));
        lock(&self.latency).record(latency.0);
        if self.omniscient {
            lock(&self.nodes[from.index()]).counters.delivered += 1;
        }
        let now = self.now();
        self.settle(wire.tag, Fate::Delivered { latency }, false, from);
        self.record(EventKind::Delivered {
            msg: MsgId(wire.msg),
            from,
            to: me,
            sent: now.since(latency),
            body: self.protocol.trace_body(&wire.body),
        });
        let mut out = Out::default();
        {
            let mut st = lock(&self.nodes[me.index()]);
            st.counters.received += 1;
            st.heard_from[from.index()] += 1;
            let ctx = self.context(me, wire.tag.is_some());
            self.protocol.on_message(&ctx, &mut st.state, from, &wire.body, &mut out);
        }
        let op = wire.tag.filter(|t| self.keeps(*t, from, false)).map(|t| t.op);
        self.carry_out(Some(socket), me, Cause::Message { from, tag: wire.tag, op }, out);
        // The requester learns of the reply last, once the handler's effects are done, so a
        // verb that returns on it sees them (a sync's records, the counters).
        if let Some(tag) = wire.tag.filter(|t| t.reply && self.keeps(*t, from, false)) {
            if lock(&self.book).replied(tag, now, &wire.body) {
                self.progress.notify_all();
            }
        }
    }

    /// Carries out what a handler at `node` asked for.
    fn carry_out(&self, socket: Option<&UdpSocket>, node: NodeId, cause: Cause, out: Out<P::Msg, P::Output>) {
        for effect in out.effects {
            let up = match &effect {
                Effect::Send { to, .. } => {
                    !self.omniscient || self.nodes.get(to.index()).is_some_and(|n| !lock(n).down)
                }
                _ => false,
            };
            let action = lock(&self.book).route(node, cause, effect, up, self.addrs.len(), self.now());
            match action {
                Some(Action::Send { to, msg, tag }) => {
                    self.transmit(socket, node, to, msg, tag);
                }
                Some(Action::Timer { after, id, op }) => {
                    let due = Instant::now() + Duration::from_micros(after.0);
                    lock(&self.nodes[node.index()]).timers.push((due, op, id));
                }
                Some(Action::CancelTimer { id }) => {
                    lock(&self.nodes[node.index()]).timers.retain(|t| t.2 != id);
                }
                Some(Action::Stored { record }) => {
                    self.record(EventKind::Stored { node, record });
                }
                Some(Action::Finished) => self.progress.notify_all(),
                None => {}
            }
        }
    }

    /// Runs the timers of node `me` that are due.
    fn fire_timers(&self, socket: &UdpSocket, me: NodeId) {
        loop {
            let mut out = Out::default();
            let op = {
                let mut st = lock(&self.nodes[me.index()]);
                let now = Instant::now();
                let Some(i) = st.timers.iter().position(|t| t.0 <= now) else { return };
                let (_, op, id) = st.timers.remove(i);
                let ctx = self.context(me, op.is_some());
                self.protocol.on_timer(&ctx, &mut st.state, id, &mut out);
                op
            };
            self.carry_out(Some(socket), me, Cause::Timer(op), out);
        }
    }

    /// Starts an operation at `origin` (its socket, if it has one here). `refuse` names the
    /// verb when a down origin is an error; without it, a down node's messages are dropped
    /// with cause "sender down".
    pub(crate) fn start(
        &self,
        socket: Option<&UdpSocket>,
        verb: Verb,
        origin: NodeId,
        request: &P::Request,
        refuse: Option<&'static str>,
    ) -> Result<u32> {
        let down = lock(&self.nodes[origin.index()]).down || socket.is_none();
        if let (true, Some(noun)) = (down, refuse) {
            return Err(Error::NodeDown { node: self.config.name(origin.index()), verb: noun });
        }
        let first = lock(&self.trace).len();
        let op = lock(&self.book).open(verb, origin, self.now(), first);
        let mut out = Out::default();
        {
            let ctx = self.context(origin, true);
            let mut st = lock(&self.nodes[origin.index()]);
            self.protocol.on_request(&ctx, &mut st.state, request, &mut out);
        }
        self.carry_out(socket, origin, Cause::Request(op), out);
        Ok(op)
    }

    /// Waits (real time) for every reply of `op` until `timeout` after it started, records a
    /// timeout for each target still silent, and reports.
    pub(crate) fn finish(&self, op: u32, started: Instant) -> OpReport {
        let deadline = started + Duration::from_micros((self.config.timeout_ms() * 1000.0) as u64);
        let mut book = lock(&self.book);
        while book.waiting(op) > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            book = self.progress.wait_timeout(book, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        let now = self.now();
        let silent: Vec<_> =
            book.waiting_targets(op).into_iter().filter_map(|(t, ..)| book.timed_out(op, t, now)).collect();
        drop(book);
        for (node, peer) in silent {
            self.record(EventKind::TimedOut { node, peer });
        }
        let (first, finished) = lock(&self.book).span(op).unwrap_or((0, now));
        let log = lock(&self.trace)
            .since(first)
            .filter(|e| e.at <= finished)
            .filter_map(|e| crate::narration::narrate(e, &self.config))
            .collect();
        let book = lock(&self.book);
        book.report(op, |id| self.config.name(id.index()), log, self.omniscient)
    }

    /// Marks a node down (its thread is stopped by the caller) and runs the crash handler.
    pub(crate) fn crash(&self, n: NodeId) {
        let ctx = self.context(n, false);
        let mut st = lock(&self.nodes[n.index()]);
        st.down = true;
        st.timers.clear();
        self.protocol.on_crash(&ctx, &mut st.state);
    }

    /// Marks a node up and runs the recovery handler.
    pub(crate) fn recover(&self, socket: &UdpSocket, n: NodeId) {
        let mut out = Out::default();
        {
            let mut st = lock(&self.nodes[n.index()]);
            st.down = false;
            let ctx = self.context(n, false);
            self.protocol.on_recover(&ctx, &mut st.state, &mut out);
        }
        self.carry_out(Some(socket), n, Cause::Plain, out);
    }
}

/// One node's thread and socket.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) socket: Arc<UdpSocket>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

pub(crate) fn bind(addr: SocketAddr) -> Result<UdpSocket> {
    let err = |e: std::io::Error| Error::Network { addr: addr.to_string(), message: e.to_string() };
    let socket = UdpSocket::bind(addr).map_err(err)?;
    socket.set_read_timeout(Some(POLL)).map_err(err)?;
    Ok(socket)
}

/// Binds one socket per port on 127.0.0.1 (0: the system picks a port); a port in use is an
/// error that names it.
pub(crate) fn bind_all(ports: &[u16]) -> Result<(Vec<UdpSocket>, Vec<SocketAddr>)> {
    let sockets = ports
        .iter()
        .map(|&p| bind(SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, p))))
        .collect::<Result<Vec<_>>>()?;
    let addrs = sockets
        .iter()
        .map(|s| {
            s.local_addr().map_err(|e| Error::Network { addr: "127.0.0.1".into(), message: e.to_string() })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((sockets, addrs))
}

/// Starts one node thread per socket, node `i` on socket `i`.
pub(crate) fn start_all<P: Networked>(
    shared: &Arc<Shared<P>>,
    sockets: Vec<UdpSocket>,
) -> Result<Vec<Option<Endpoint>>> {
    sockets
        .into_iter()
        .enumerate()
        .map(|(i, s)| Endpoint::start(shared, NodeId(i as u32), s).map(Some))
        .collect()
}

impl Endpoint {
    pub(crate) fn start<P: Networked>(
        shared: &Arc<Shared<P>>,
        id: NodeId,
        socket: UdpSocket,
    ) -> Result<Endpoint> {
        let socket = Arc::new(socket);
        let stop = Arc::new(AtomicBool::new(false));
        let (sh, so, st) = (shared.clone(), socket.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("distlab-node-{}", id.0))
            .spawn(move || serve(&sh, id, &so, &st))
            .map_err(|e| Error::Network { addr: format!("node {}", id.0), message: e.to_string() })?;
        Ok(Endpoint { socket, stop, thread: Some(thread) })
    }

    pub(crate) fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A node's receive loop. Ends when `stop` is set.
fn serve<P: Networked>(shared: &Shared<P>, id: NodeId, socket: &UdpSocket, stop: &AtomicBool) {
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    while !stop.load(Ordering::Relaxed) {
        shared.fire_timers(socket, id);
        match socket.recv_from(&mut buf) {
            Ok((n, src)) => shared.receive(socket, id, &buf[..n], src),
            Err(_) => continue, // timeout (poll the stop flag) or an ICMP error from a closed peer
        }
    }
}
