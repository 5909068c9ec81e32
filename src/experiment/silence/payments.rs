//! The scenario's protocol: a client that asks a payment server to charge orders, and retries
//! an order it heard nothing about, with or without a request id. Written on the crate's own
//! [`Protocol`] trait and run by the simulator like any learner's protocol: the server's
//! ledger is the only place a charge is counted, so "how many times was order 2 charged" is
//! read from the run, never computed.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::node::NodeId;
use crate::protocol::{Context, Out, Protocol};
use crate::time::Time;
use crate::trace::Body;

/// Node 0 asks, node 1 charges.
pub(crate) const CLIENT: NodeId = NodeId(0);
/// The payment server.
pub(crate) const SERVER: NodeId = NodeId(1);
/// Most tries per order when the client retries: bounded, so a run always ends.
pub const MAX_TRIES: usize = 5;

/// The client and the server, and how the client behaves.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Payments {
    /// Whether the client tries again after a timeout.
    pub(crate) retry: bool,
    /// Whether each order carries a request id the server remembers.
    pub(crate) ids: bool,
    /// How long the client waits for a reply, in ms.
    pub(crate) timeout_ms: f64,
}

/// What the two nodes say to each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Msg {
    /// "Charge this order": the client's request.
    Charge { order: u32, euros: u32, id: Option<u64> },
    /// "Done": the server's reply.
    Charged { order: u32 },
}

/// What the client knows of one order: its own tries and what came back.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Order {
    pub(crate) euros: u32,
    pub(crate) id: Option<u64>,
    /// When each try was sent.
    pub(crate) tries: Vec<Time>,
    /// When the first reply came while the client was still waiting.
    pub(crate) answered: Option<Time>,
    /// When the client stopped waiting without an answer.
    pub(crate) gave_up: Option<Time>,
}

/// One charge in the server's ledger.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Charge {
    pub(crate) order: u32,
    pub(crate) euros: u32,
    pub(crate) at: Time,
}

/// Each node's state: the client uses `orders`, the server the rest. The server's ledger and
/// ids are on disk (the scenario's nodes are durable), so a crash does not erase them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Books {
    pub(crate) orders: BTreeMap<u32, Order>,
    /// Every charge the server made, in order.
    pub(crate) ledger: Vec<Charge>,
    /// The request ids the server has handled, and their orders.
    pub(crate) seen: BTreeMap<u64, u32>,
    /// Replies the server sent again for an id it had handled: (order, when).
    pub(crate) resent: Vec<(u32, Time)>,
}

/// The request id of an order: what the client would draw at random in practice.
pub(crate) fn request_id(order: u32) -> u64 {
    100 + u64::from(order)
}

impl Payments {
    fn send_try(&self, ctx: &Context, order: u32, o: &mut Order, out: &mut Out<Msg, ()>) {
        o.tries.push(ctx.now);
        out.send(SERVER, Msg::Charge { order, euros: o.euros, id: o.id });
        out.set_timer(self.timeout_ms, u64::from(order));
    }
}

impl Protocol for Payments {
    type State = Books;
    type Msg = Msg;
    /// (order, euros).
    type Request = (u32, u32);
    type Output = ();

    fn on_request(
        &self,
        ctx: &Context,
        state: &mut Books,
        &(order, euros): &(u32, u32),
        out: &mut Out<Msg, ()>,
    ) {
        let id = self.ids.then(|| request_id(order));
        let o = state.orders.entry(order).or_insert(Order { euros, id, ..Order::default() });
        self.send_try(ctx, order, o, out);
    }

    fn on_message(&self, ctx: &Context, state: &mut Books, _from: NodeId, msg: &Msg, out: &mut Out<Msg, ()>) {
        match (msg, ctx.me) {
            (&Msg::Charge { order, euros, id }, SERVER) => {
                if id.is_some_and(|id| state.seen.contains_key(&id)) {
                    // Handled before: answer again, charge nothing.
                    state.resent.push((order, ctx.now));
                } else {
                    state.ledger.push(Charge { order, euros, at: ctx.now });
                    if let Some(id) = id {
                        state.seen.insert(id, order);
                    }
                }
                out.reply(Msg::Charged { order });
            }
            (&Msg::Charged { order }, CLIENT) => {
                if let Some(o) = state.orders.get_mut(&order) {
                    // A reply after the client gave up finds nobody listening.
                    if o.answered.is_none() && o.gave_up.is_none() {
                        o.answered = Some(ctx.now);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_timer(&self, ctx: &Context, state: &mut Books, timer: u64, out: &mut Out<Msg, ()>) {
        let order = u32::try_from(timer).unwrap_or(u32::MAX);
        let Some(o) = state.orders.get_mut(&order) else { return };
        if o.answered.is_some() || o.gave_up.is_some() {
            return;
        }
        if self.retry && o.tries.len() < MAX_TRIES {
            self.send_try(ctx, order, o, out);
        } else {
            o.gave_up = Some(ctx.now);
        }
    }

    fn describe(&self, msg: &Msg) -> String {
        match msg {
            Msg::Charge { order, euros, id: None } => format!("charge {euros} € for order {order}"),
            Msg::Charge { order, euros, id: Some(id) } => {
                format!("charge {euros} € for order {order} (id {id})")
            }
            Msg::Charged { order } => format!("charged order {order}"),
        }
    }

    /// A reply is recorded as an acknowledgement, so the space-time diagram draws it as one.
    fn trace_body(&self, msg: &Arc<Msg>) -> Arc<Body> {
        match **msg {
            Msg::Charged { .. } => Arc::new(Body::Ack),
            Msg::Charge { .. } => Arc::new(Body::Text { text: self.describe(msg) }),
        }
    }
}
