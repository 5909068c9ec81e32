//! The scope of a search: its nodes, client calls, fault budgets and bounds, each checked.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::node::NodeId;

use super::super::ClientOp;

/// What to explore: the nodes, the client calls, the fault budgets, and the search's bounds.
/// Build one with [`Scope::builder`]; [`ScopeBuilder::build`] checks every value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scope {
    pub(super) nodes: usize,
    pub(super) calls: Vec<(NodeId, ClientOp)>,
    pub(super) losses: u32,
    pub(super) duplicates: u32,
    pub(super) crashes: u32,
    pub(super) timer_fires: u32,
    pub(super) max_states: u64,
    pub(super) max_depth: u32,
    pub(super) max_in_flight: usize,
    pub(super) time_limit_s: f64,
}

impl Scope {
    /// A builder with the defaults: 3 nodes, no calls (at least one is needed), no losses,
    /// duplicates or crashes, 2 timer firings, at most 1,000,000 states, depth 200, 12
    /// messages in flight, 60 seconds.
    pub fn builder() -> ScopeBuilder {
        ScopeBuilder {
            scope: Scope {
                nodes: 3,
                calls: Vec::new(),
                losses: 0,
                duplicates: 0,
                crashes: 0,
                timer_fires: 2,
                max_states: 1_000_000,
                max_depth: 200,
                max_in_flight: 12,
                time_limit_s: 60.0,
            },
        }
    }
    /// Nodes in the cluster.
    pub fn nodes(&self) -> usize {
        self.nodes
    }
    /// The calls, each at its node, in the order each node's client makes them.
    pub fn calls(&self) -> &[(NodeId, ClientOp)] {
        &self.calls
    }
    /// The scope in one line, for reports.
    pub fn summary(&self) -> String {
        let calls: Vec<String> = self.calls.iter().map(|(n, op)| format!("{op} at Node-{n}")).collect();
        format!(
            "{} nodes; calls: {}; at most {} losses, {} duplicates, {} crashes, {} timer firings",
            self.nodes,
            calls.join(", "),
            self.losses,
            self.duplicates,
            self.crashes,
            self.timer_fires
        )
    }
}

/// Sets a [`Scope`]'s values; [`build`](Self::build) checks them.
#[derive(Debug, Clone)]
pub struct ScopeBuilder {
    pub(super) scope: Scope,
}

impl ScopeBuilder {
    /// Nodes, 1 to 5.
    pub fn nodes(mut self, nodes: usize) -> Self {
        self.scope.nodes = nodes;
        self
    }
    /// Adds a call of `op` at `node` (after the calls already added there); 1 to 6 calls.
    pub fn call(mut self, node: u32, op: ClientOp) -> Self {
        self.scope.calls.push((NodeId(node), op));
        self
    }
    /// Messages the network may lose along one path, 0 to 5.
    pub fn losses(mut self, losses: u32) -> Self {
        self.scope.losses = losses;
        self
    }
    /// Messages the network may deliver twice along one path, 0 to 5.
    pub fn duplicates(mut self, duplicates: u32) -> Self {
        self.scope.duplicates = duplicates;
        self
    }
    /// Crashes along one path, 0 to 5 (each crashed node may recover).
    pub fn crashes(mut self, crashes: u32) -> Self {
        self.scope.crashes = crashes;
        self
    }
    /// Timer firings that do something, along one path, 0 to 20.
    pub fn timer_fires(mut self, fires: u32) -> Self {
        self.scope.timer_fires = fires;
        self
    }
    /// Distinct states to visit before answering unknown, 1 to 100,000,000.
    pub fn max_states(mut self, states: u64) -> Self {
        self.scope.max_states = states;
        self
    }
    /// Steps along one path before answering unknown, 1 to 10,000.
    pub fn max_depth(mut self, depth: u32) -> Self {
        self.scope.max_depth = depth;
        self
    }
    /// Messages in flight at once before answering unknown, 1 to 64.
    pub fn max_in_flight(mut self, messages: usize) -> Self {
        self.scope.max_in_flight = messages;
        self
    }
    /// Wall-clock time before answering unknown, in seconds, 0.001 to 3600.
    pub fn time_limit_s(mut self, seconds: f64) -> Self {
        self.scope.time_limit_s = seconds;
        self
    }

    /// The scope, or an [`Error`] naming the first value out of range.
    pub fn build(self) -> Result<Scope> {
        let s = self.scope;
        let range = |name: &'static str, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(Error::argument(name, v, format!("{lo} to {hi}")))
            }
        };
        range("nodes", s.nodes as u64, 1, 5)?;
        range("calls", s.calls.len() as u64, 1, 6)?;
        range("losses", s.losses.into(), 0, 5)?;
        range("duplicates", s.duplicates.into(), 0, 5)?;
        range("crashes", s.crashes.into(), 0, 5)?;
        range("timer_fires", s.timer_fires.into(), 0, 20)?;
        range("max_states", s.max_states, 1, 100_000_000)?;
        range("max_depth", s.max_depth.into(), 1, 10_000)?;
        range("max_in_flight", s.max_in_flight as u64, 1, 64)?;
        if !(0.001..=3600.0).contains(&s.time_limit_s) {
            return Err(Error::argument("time_limit_s", s.time_limit_s, "0.001 to 3600 seconds"));
        }
        let last = s.nodes - 1;
        let mut values = std::collections::BTreeSet::new();
        for (node, op) in &s.calls {
            if node.index() >= s.nodes {
                return Err(Error::argument("call node", node, format!("a node from 0 to {last}")));
            }
            let value = match *op {
                ClientOp::Send { to, value } => {
                    if to.index() >= s.nodes || to == *node {
                        return Err(Error::argument(
                            "call",
                            format!("send {value} from Node-{node} to Node-{to}"),
                            format!("a receiver from 0 to {last} other than the sender"),
                        ));
                    }
                    Some(value)
                }
                ClientOp::Broadcast { value } | ClientOp::Write { value } => Some(value),
                ClientOp::Read => None,
            };
            if let Some(v) = value {
                if !values.insert(v) {
                    return Err(Error::argument("call value", v, "a value no other call of the scope uses"));
                }
            }
        }
        Ok(s)
    }
}
