//! What a node does, apart from how messages move: the [`Protocol`] trait.
//!
//! A protocol is per-node state and handlers. Handlers do no I/O: they read and change the
//! node's state and write what they want done into an [`Out`] buffer (send to a peer, reply,
//! set or cancel a timer, note something for the trace, finish the operation). A runtime carries the effects
//! out. The simulated [`Cluster`](crate::Cluster) (virtual time) and
//! [`RealCluster`](crate::udp::RealCluster) (UDP sockets) run the same handlers, so a protocol
//! is written once and behaves the same on both; only timing differs. This is stateright's
//! actor pattern (`Actor` handlers writing into `Out`).
//!
//! **Operations.** A verb (`send`, `broadcast`, `replicate`, `sync`, ...) starts an operation
//! at one node with a [`Protocol::Request`]. Every message sent while handling it is a request
//! to a target of the operation, and every message sent while handling a message that belongs
//! to an operation belongs to it too; [`Out::reply`] answers the message being handled. The
//! runtime tags the messages and records what became of each one as it happens
//! ([`crate::ops`]), so an [`OpReport`](crate::report::OpReport) works for any protocol.
//!
//! The built-in protocol is [`kv::KvStore`]: text messages with acks, broadcast,
//! replication with versions, anti-entropy sync and reads.

pub mod kv;

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::node::NodeId;
use crate::time::Time;
use crate::trace::{Body, Note};

/// A node's behaviour: its state, its messages and its handlers.
///
/// **For the exhaustive search.** [`Checker::explore`](crate::check::Checker::explore) needs
/// `State` and `Msg` to be `Hash + Eq` as well: it reduces every state of the cluster to a
/// fingerprint so that each is expanded once. That bound is on that method only, not here, so
/// the random checker and both runtimes ask nothing more; for the search a learner adds
/// `#[derive(Hash, PartialEq, Eq)]` to the state and the message type (and keeps `BTreeMap` /
/// `BTreeSet` / `Vec` inside them, since `HashMap` has no `Hash`).
pub trait Protocol: Clone + fmt::Debug + Send + Sync + 'static {
    /// What one node keeps.
    type State: Clone + fmt::Debug + Default + Send + 'static;
    /// What nodes send each other. The simulator and the checker ask nothing more than
    /// `Clone + Debug`, so a message type defined in a notebook cell needs no extra crate;
    /// to travel over real UDP sockets it must also serialize (see [`Networked`]).
    type Msg: Clone + fmt::Debug + Send + Sync + 'static;
    /// What a verb asks the node that starts an operation to do.
    type Request: Clone + fmt::Debug + Send + 'static;
    /// What a finished operation returns to its client ([`Out::respond`]), and what
    /// [`held`](Self::held) lists: `u64` for the checker's workloads ([`crate::check`]), `()`
    /// for a protocol whose operations only finish. The runtime never looks inside it.
    type Output: Clone + fmt::Debug + PartialEq + Send + Sync + 'static;

    /// A verb started an operation at this node.
    fn on_request(
        &self,
        node: &Context,
        state: &mut Self::State,
        request: &Self::Request,
        out: &mut Out<Self::Msg, Self::Output>,
    );
    /// A message from `from` arrived.
    fn on_message(
        &self,
        node: &Context,
        state: &mut Self::State,
        from: NodeId,
        msg: &Self::Msg,
        out: &mut Out<Self::Msg, Self::Output>,
    );
    /// A timer set with [`Out::set_timer`] went off (and was not cancelled with
    /// [`Out::cancel_timer`]). A crash cancels the node's timers: none set before a crash fires
    /// after it, so a recovered node sets again whatever it still needs.
    fn on_timer(
        &self,
        _node: &Context,
        _state: &mut Self::State,
        _timer: u64,
        _out: &mut Out<Self::Msg, Self::Output>,
    ) {
    }
    /// The node crashed. By default a volatile node (`durable(false)`) forgets its state.
    fn on_crash(&self, node: &Context, state: &mut Self::State) {
        if !node.durable {
            *state = Self::State::default();
        }
    }
    /// The node came back.
    fn on_recover(&self, _node: &Context, _state: &mut Self::State, _out: &mut Out<Self::Msg, Self::Output>) {
    }
    /// A message in a few words, for the narration and the charts.
    fn describe(&self, msg: &Self::Msg) -> String;
    /// The values this node holds, for the checker's properties ([`crate::check`]): the
    /// messages a node applied, the broadcasts it has, its register. None by default.
    fn held(&self, _state: &Self::State) -> Vec<Self::Output> {
        Vec::new()
    }
    /// The message as the trace records it. The default records [`describe`](Self::describe)
    /// as text; the built-in protocol records its own messages.
    fn trace_body(&self, msg: &Arc<Self::Msg>) -> Arc<Body> {
        Arc::new(Body::Text { text: self.describe(msg) })
    }
}

/// A protocol whose messages serialize, so they can travel as JSON datagrams over real UDP
/// sockets ([`crate::udp`]). Every [`Protocol`] whose `Msg` derives serde's `Serialize` and
/// `Deserialize` is one; nothing to implement.
///
/// Why a trait of its own rather than a bound on [`Protocol::Msg`]: a learner's message type,
/// written in a notebook cell, could not derive serde's traits without a `:dep serde` line
/// (derive macros name their crate), and the simulator and the checker never serialize a
/// message. Only the UDP runtime asks for it, so only the UDP runtime names this trait. (From a
/// cell, `distlab::serde` is serde itself: `#[derive(distlab::serde::Serialize,
/// distlab::serde::Deserialize)]` with `#[serde(crate = "distlab::serde")]`.)
pub trait Networked: Protocol<Msg: Serialize + DeserializeOwned> {}

impl<P: Protocol<Msg: Serialize + DeserializeOwned>> Networked for P {}

/// What a handler knows about the node it runs on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Context {
    /// This node.
    pub me: NodeId,
    /// Nodes in the cluster (ids `0..nodes`).
    pub nodes: usize,
    /// Whether the node's state survives a crash.
    pub durable: bool,
    /// Whether the message being handled belongs to an operation (someone waits for it).
    pub in_operation: bool,
    /// The clock: virtual in the simulation, real on sockets.
    pub now: Time,
}

impl Context {
    /// Every other node.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> {
        let me = self.me;
        (0..self.nodes as u32).map(NodeId).filter(move |&n| n != me)
    }
}

/// One thing a handler asks the runtime to do. `O` is the protocol's
/// [`Output`](Protocol::Output).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect<M, O = u64> {
    /// Send `msg` to `to`.
    Send {
        /// The receiver.
        to: NodeId,
        /// The message (shared, so a broadcast does not copy it per peer).
        msg: Arc<M>,
    },
    /// Answer the message being handled.
    Reply {
        /// The answer.
        msg: Arc<M>,
    },
    /// Call [`Protocol::on_timer`] with `id` after `after`.
    Timer {
        /// Delay.
        after: Time,
        /// Handed back to the handler.
        id: u64,
    },
    /// Forget the timers with `id` this node set and that have not fired yet.
    CancelTimer {
        /// The id given to [`Out::set_timer`].
        id: u64,
    },
    /// Something for the trace to record at this node, in the trace's own vocabulary
    /// ([`Note`]): the built-in store notes each newer record it stores.
    Note {
        /// What to record.
        note: Note,
    },
    /// The operation is done: stop waiting for the targets that have not answered, and
    /// answer the client, with what it returns, if anything.
    Finish {
        /// What the operation returns (a read's value), if anything.
        output: Option<O>,
    },
}

/// The buffer handlers write their effects into.
#[derive(Debug, Clone, PartialEq)]
///
/// `O` is the protocol's [`Output`](Protocol::Output); it defaults to `u64`, the checker's,
/// so a handler of a checked protocol may write `out: &mut Out<Self::Msg>`.
pub struct Out<M, O = u64> {
    pub(crate) effects: Vec<Effect<M, O>>,
}

impl<M, O> Default for Out<M, O> {
    fn default() -> Self {
        Out { effects: Vec::new() }
    }
}

impl<M, O> Out<M, O> {
    /// Sends `msg` to `to`.
    pub fn send(&mut self, to: NodeId, msg: impl Into<Arc<M>>) {
        self.effects.push(Effect::Send { to, msg: msg.into() });
    }
    /// Answers the message being handled (ignored in [`Protocol::on_request`]).
    pub fn reply(&mut self, msg: impl Into<Arc<M>>) {
        self.effects.push(Effect::Reply { msg: msg.into() });
    }
    /// Asks for [`Protocol::on_timer`] with `id` after `after_ms` milliseconds.
    pub fn set_timer(&mut self, after_ms: f64, id: u64) {
        self.effects.push(Effect::Timer { after: Time::from_ms(after_ms), id });
    }
    /// Cancels every timer with `id` this node set that has not fired yet (stateright's
    /// `cancel_timer`). Cancelling a timer that already fired, or was never set, does nothing.
    pub fn cancel_timer(&mut self, id: u64) {
        self.effects.push(Effect::CancelTimer { id });
    }
    /// Asks the trace to record `note` at this node (see [`Note`]).
    pub fn note(&mut self, note: Note) {
        self.effects.push(Effect::Note { note });
    }
    /// Ends the operation being handled: the client gets its answer (an acknowledgement).
    pub fn finish(&mut self) {
        self.effects.push(Effect::Finish { output: None });
    }
    /// Ends the operation being handled with what it returns (a read's answer; see
    /// [`crate::check`]).
    pub fn respond(&mut self, output: Option<O>) {
        self.effects.push(Effect::Finish { output });
    }
    /// The effects written so far.
    pub fn effects(&self) -> &[Effect<M, O>] {
        &self.effects
    }
}
