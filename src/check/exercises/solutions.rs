//! Reference solutions of the five steps of notebook 07, and the lesson's plain node they
//! start from. Look at them after trying: each passes its step's checker on every seed.
//! [`super::solution`] shows a step's code in a notebook; the `// step N` lines below mark
//! where each begins and ends, so what it shows is this file, never a copy.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::check::ClientOp;
use crate::node::NodeId;
use crate::protocol::{Context, Out, Protocol};

/// Milliseconds between two tries of an unanswered message (a round trip is 20-100 ms).
pub const RETRY_MS: f64 = 120.0;

/// The lesson's `Node` as a protocol: it sends and it receives, nothing else. A call is
/// answered at once; a register lives in each node alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LessonNode;

impl Protocol for LessonNode {
    type State = Vec<u64>;
    type Msg = u64;
    type Request = ClientOp;
    type Output = u64;

    fn on_request(&self, node: &Context, state: &mut Vec<u64>, request: &ClientOp, out: &mut Out<u64>) {
        match *request {
            ClientOp::Send { to, value } => out.send(to, value),
            ClientOp::Broadcast { value } => {
                state.push(value);
                node.peers().for_each(|p| out.send(p, value));
            }
            ClientOp::Write { value } => *state = vec![value],
            ClientOp::Read => return out.respond(state.last().copied()),
        }
        out.finish();
    }
    fn on_message(&self, _: &Context, state: &mut Vec<u64>, _: NodeId, msg: &u64, _: &mut Out<u64>) {
        state.push(*msg);
    }
    fn describe(&self, msg: &u64) -> String {
        format!("value {msg}")
    }
    fn held(&self, state: &Vec<u64>) -> Vec<u64> {
        state.clone()
    }
}

// step 1 begins
/// A message of [`Echo`], [`AckOnce`], [`Reliable`] and [`Gossip`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Data {
    /// A value.
    Value(u64),
    /// "I have this value."
    Ack(u64),
}

/// Step 1: Node-1 echoes each value back; the call ends, answered with the value, when the
/// echo reaches the sender.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Echo;

impl Protocol for Echo {
    type State = Vec<u64>; // the values received
    type Msg = Data;
    type Request = ClientOp;
    type Output = u64;

    fn on_request(&self, _: &Context, _: &mut Vec<u64>, request: &ClientOp, out: &mut Out<Data>) {
        if let ClientOp::Send { to, value } = *request {
            out.send(to, Data::Value(value)); // no finish here: the call waits for the echo
        }
    }
    fn on_message(&self, _: &Context, state: &mut Vec<u64>, _: NodeId, msg: &Data, out: &mut Out<Data>) {
        match *msg {
            Data::Value(v) => {
                state.push(v);
                out.reply(Data::Ack(v)); // the echo belongs to the sender's call
            }
            Data::Ack(v) => out.respond(Some(v)), // ends the call the echo belongs to
        }
    }
    fn describe(&self, msg: &Data) -> String {
        format!("{msg:?}")
    }
    fn held(&self, state: &Vec<u64>) -> Vec<u64> {
        state.clone()
    }
}
// step 1 ends

// step 2 begins
/// Step 2: as [`Echo`], but a value that arrives twice is applied once (and acknowledged
/// every time: the sender may still be waiting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AckOnce;

impl Protocol for AckOnce {
    type State = Vec<u64>;
    type Msg = Data;
    type Request = ClientOp;
    type Output = u64;

    fn on_request(&self, _: &Context, _: &mut Vec<u64>, request: &ClientOp, out: &mut Out<Data>) {
        if let ClientOp::Send { to, value } = *request {
            out.send(to, Data::Value(value));
        }
    }
    fn on_message(&self, _: &Context, state: &mut Vec<u64>, _: NodeId, msg: &Data, out: &mut Out<Data>) {
        match *msg {
            Data::Value(v) => {
                if !state.contains(&v) {
                    state.push(v); // a copy that arrives again is not applied again
                }
                out.reply(Data::Ack(v)); // but it is acknowledged again
            }
            Data::Ack(v) => out.respond(Some(v)), // a second ack of a finished call is ignored
        }
    }
    fn describe(&self, msg: &Data) -> String {
        format!("{msg:?}")
    }
    fn held(&self, state: &Vec<u64>) -> Vec<u64> {
        state.clone()
    }
}
// step 2 ends

// step 3 begins
/// Step 3: retry until acked; the receiver applies each value once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reliable;

/// What a [`Reliable`] node keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReliableState {
    /// Values received, each once.
    pub received: Vec<u64>,
    /// Values sent and not yet acknowledged, and to whom.
    pub waiting: BTreeMap<u64, NodeId>,
}

impl Protocol for Reliable {
    type State = ReliableState;
    type Msg = Data;
    type Request = ClientOp;
    type Output = u64;

    fn on_request(&self, _: &Context, state: &mut ReliableState, request: &ClientOp, out: &mut Out<Data>) {
        if let ClientOp::Send { to, value } = *request {
            state.waiting.insert(value, to);
            out.send(to, Data::Value(value));
            out.set_timer(RETRY_MS, value);
        }
    }
    fn on_message(&self, _: &Context, state: &mut ReliableState, _: NodeId, msg: &Data, out: &mut Out<Data>) {
        match *msg {
            Data::Value(v) => {
                if !state.received.contains(&v) {
                    state.received.push(v);
                }
                out.reply(Data::Ack(v));
            }
            Data::Ack(v) => {
                if state.waiting.remove(&v).is_some() {
                    out.respond(Some(v));
                }
            }
        }
    }
    fn on_timer(&self, _: &Context, state: &mut ReliableState, value: u64, out: &mut Out<Data>) {
        if let Some(&to) = state.waiting.get(&value) {
            out.send(to, Data::Value(value));
            out.set_timer(RETRY_MS, value);
        }
    }
    fn describe(&self, msg: &Data) -> String {
        format!("{msg:?}")
    }
    fn held(&self, state: &ReliableState) -> Vec<u64> {
        state.received.clone()
    }
}

// step 3 ends

// step 4 begins
/// Step 4: relay each new value to the peers, retry each (value, peer) a few times,
/// and catch up after a recovery by asking the peers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gossip;

/// Tries of one (value, peer) before the peer is taken for crashed.
pub const GOSSIP_TRIES: u32 = 4;

/// A message of [`Gossip`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GossipMsg {
    /// A value, or its ack.
    Data(Data),
    /// "I have these; send me the others" (after a recovery).
    Have(Vec<u64>),
    /// "Send me these" (the answer to `Have`, for what only the recovered node has).
    Want(Vec<u64>),
}

/// What a [`Gossip`] node keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GossipState {
    /// The values it has.
    pub seen: BTreeSet<u64>,
    /// (value, peer) not yet acknowledged, and the tries left.
    pub unacked: BTreeMap<(u64, NodeId), u32>,
}

impl Gossip {
    /// Sends `value` to one peer, to be retried until it acks.
    fn send_to(state: &mut GossipState, value: u64, peer: NodeId, out: &mut Out<GossipMsg>) {
        state.unacked.insert((value, peer), GOSSIP_TRIES - 1);
        out.send(peer, GossipMsg::Data(Data::Value(value)));
        out.set_timer(RETRY_MS, value);
    }

    fn spread(
        node: &Context,
        state: &mut GossipState,
        value: u64,
        except: Option<NodeId>,
        out: &mut Out<GossipMsg>,
    ) {
        for p in node.peers().filter(|&p| Some(p) != except) {
            state.unacked.insert((value, p), GOSSIP_TRIES - 1);
            out.send(p, GossipMsg::Data(Data::Value(value)));
        }
        out.set_timer(RETRY_MS, value);
    }
}

impl Protocol for Gossip {
    type State = GossipState;
    type Msg = GossipMsg;
    type Request = ClientOp;
    type Output = u64;

    fn on_request(
        &self,
        node: &Context,
        state: &mut GossipState,
        request: &ClientOp,
        out: &mut Out<GossipMsg>,
    ) {
        if let ClientOp::Broadcast { value } = *request {
            state.seen.insert(value);
            Gossip::spread(node, state, value, None, out);
        }
        out.finish();
    }
    fn on_message(
        &self,
        node: &Context,
        state: &mut GossipState,
        from: NodeId,
        msg: &GossipMsg,
        out: &mut Out<GossipMsg>,
    ) {
        match msg {
            GossipMsg::Data(Data::Value(v)) => {
                out.reply(GossipMsg::Data(Data::Ack(*v)));
                if state.seen.insert(*v) {
                    Gossip::spread(node, state, *v, Some(from), out);
                }
            }
            GossipMsg::Data(Data::Ack(v)) => {
                state.unacked.remove(&(*v, from));
            }
            GossipMsg::Have(have) => {
                let missing: Vec<u64> = state.seen.iter().copied().filter(|v| !have.contains(v)).collect();
                for v in missing {
                    Gossip::send_to(state, v, from, out);
                }
                let want: Vec<u64> = have.iter().copied().filter(|v| !state.seen.contains(v)).collect();
                if !want.is_empty() {
                    out.send(from, GossipMsg::Want(want));
                }
            }
            GossipMsg::Want(want) => {
                let have: Vec<u64> = want.iter().copied().filter(|v| state.seen.contains(v)).collect();
                for v in have {
                    Gossip::send_to(state, v, from, out);
                }
            }
        }
    }
    fn on_timer(&self, _: &Context, state: &mut GossipState, value: u64, out: &mut Out<GossipMsg>) {
        let mut again = false;
        for ((v, p), left) in state.unacked.iter_mut().filter(|((v, _), _)| *v == value) {
            out.send(*p, GossipMsg::Data(Data::Value(*v)));
            *left = left.saturating_sub(1);
            again = true;
        }
        state.unacked.retain(|_, left| *left > 0);
        if again {
            out.set_timer(RETRY_MS, value);
        }
    }
    fn on_recover(&self, node: &Context, state: &mut GossipState, out: &mut Out<GossipMsg>) {
        let have: Vec<u64> = state.seen.iter().copied().collect();
        node.peers().for_each(|p| out.send(p, GossipMsg::Have(have.clone())));
    }
    fn describe(&self, msg: &GossipMsg) -> String {
        match msg {
            GossipMsg::Data(d) => format!("{d:?}"),
            GossipMsg::Have(v) => format!("have {} values", v.len()),
            GossipMsg::Want(v) => format!("want {} values", v.len()),
        }
    }
    fn held(&self, state: &GossipState) -> Vec<u64> {
        state.seen.iter().copied().collect()
    }
}

// step 4 ends

// step 5 begins
/// Step 5: a register on a majority (the ABD algorithm: ask a majority, then store at a
/// majority; reads write back what they read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Majority;

/// A version: a counter, then the writer's id and its call id to break ties (two calls at
/// one node can ask at the same time and see the same counter).
pub type Stamp = (u64, u32, u64);

/// A message of [`Majority`]; `id` names the call at the node that runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)] // the fields are the same in every variant: the call, a version, a value
pub enum RegisterMsg {
    /// "What version and value do you hold?"
    Query { id: u64 },
    /// The answer: the version and value held.
    Held { id: u64, stamp: Stamp, value: Option<u64> },
    /// "Store this, if it is newer."
    Store { id: u64, stamp: Stamp, value: Option<u64> },
    /// "Stored (or held something newer)."
    Stored { id: u64 },
}

/// A call a [`Majority`] node is running.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pending {
    /// A write's value, or None for a read.
    pub write: Option<u64>,
    /// False while asking, true while storing.
    pub storing: bool,
    /// Nodes that answered this phase (itself included).
    pub answered: BTreeSet<NodeId>,
    /// The newest (stamp, value) heard, then the one being stored.
    pub best: (Stamp, Option<u64>),
}

/// What a [`Majority`] node keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RegisterState {
    /// Its version and value.
    pub stamp: Stamp,
    /// Its value.
    pub value: Option<u64>,
    /// Calls in progress here.
    pub pending: BTreeMap<u64, Pending>,
    /// The next call id.
    pub next: u64,
}

impl Majority {
    fn majority(node: &Context) -> usize {
        node.nodes / 2 + 1
    }
    fn keep(state: &mut RegisterState, stamp: Stamp, value: Option<u64>) {
        if stamp > state.stamp {
            state.stamp = stamp;
            state.value = value;
        }
    }
    /// Counts `from`'s answer to the asking phase of `p` and keeps the newest (stamp, value)
    /// heard; true once a majority (itself included) has answered.
    pub(crate) fn heard(
        node: &Context,
        p: &mut Pending,
        from: NodeId,
        stamp: Stamp,
        value: Option<u64>,
    ) -> bool {
        p.answered.insert(from);
        p.best = p.best.max((stamp, value));
        p.answered.len() >= Majority::majority(node)
    }
    /// Sends the current phase's message to every peer that has not answered it.
    fn ask(node: &Context, id: u64, p: &Pending, out: &mut Out<RegisterMsg>) {
        let msg = if p.storing {
            RegisterMsg::Store { id, stamp: p.best.0, value: p.best.1 }
        } else {
            RegisterMsg::Query { id }
        };
        node.peers().filter(|n| !p.answered.contains(n)).for_each(|n| out.send(n, msg));
    }
}

impl Protocol for Majority {
    type State = RegisterState;
    type Msg = RegisterMsg;
    type Request = ClientOp;
    type Output = u64;

    fn on_request(
        &self,
        node: &Context,
        state: &mut RegisterState,
        request: &ClientOp,
        out: &mut Out<RegisterMsg>,
    ) {
        let write = match *request {
            ClientOp::Write { value } => Some(value),
            ClientOp::Read => None,
            _ => return out.finish(),
        };
        let id = state.next;
        state.next += 1;
        let p = Pending {
            write,
            storing: false,
            answered: BTreeSet::from([node.me]),
            best: (state.stamp, state.value),
        };
        Majority::ask(node, id, &p, out);
        state.pending.insert(id, p);
        out.set_timer(RETRY_MS, id);
    }

    fn on_message(
        &self,
        node: &Context,
        state: &mut RegisterState,
        from: NodeId,
        msg: &RegisterMsg,
        out: &mut Out<RegisterMsg>,
    ) {
        match *msg {
            RegisterMsg::Query { id } => {
                out.reply(RegisterMsg::Held { id, stamp: state.stamp, value: state.value })
            }
            RegisterMsg::Store { id, stamp, value } => {
                Majority::keep(state, stamp, value);
                out.reply(RegisterMsg::Stored { id });
            }
            RegisterMsg::Held { id, stamp, value } => {
                let Some(p) = state.pending.get_mut(&id).filter(|p| !p.storing) else { return };
                if Majority::heard(node, p, from, stamp, value) {
                    if let Some(w) = p.write {
                        p.best = ((p.best.0 .0 + 1, node.me.0, id), Some(w));
                    }
                    p.storing = true;
                    p.answered = BTreeSet::from([node.me]);
                    let (stamp, value) = p.best;
                    let p = p.clone();
                    Majority::keep(state, stamp, value);
                    Majority::ask(node, id, &p, out);
                }
            }
            RegisterMsg::Stored { id } => {
                let Some(p) = state.pending.get_mut(&id).filter(|p| p.storing) else { return };
                p.answered.insert(from);
                if p.answered.len() >= Majority::majority(node) {
                    let answer = if p.write.is_some() { None } else { p.best.1 };
                    state.pending.remove(&id);
                    out.respond(answer);
                }
            }
        }
    }

    fn on_timer(&self, node: &Context, state: &mut RegisterState, id: u64, out: &mut Out<RegisterMsg>) {
        if let Some(p) = state.pending.get(&id) {
            Majority::ask(node, id, p, out);
            out.set_timer(RETRY_MS, id);
        }
    }

    fn describe(&self, msg: &RegisterMsg) -> String {
        format!("{msg:?}")
    }
    fn held(&self, state: &RegisterState) -> Vec<u64> {
        state.value.into_iter().collect()
    }
}
// step 5 ends
