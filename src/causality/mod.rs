//! Logical time: a Lamport timestamp and a vector clock for every event of a recorded run,
//! and the happened-before relation they give.
//!
//! Nodes cannot agree on a physical clock, but they can agree on *order*: an event can only
//! have been influenced by events in its causal past. The clocks are computed from a trace
//! after the run (simulated or on sockets), so a run that never asks for them pays nothing.
//!
//! The rules, for an event at node `i`:
//! - a send, a store, a crash, a recovery, a timeout: tick, `L += 1`, `V[i] += 1`;
//! - a receive: merge with the clock the message carried, then tick:
//!   `L = max(L, L_msg) + 1`, `V = max(V, V_msg)`, `V[i] += 1`.
//!
//! A crash does not reset a node's clocks: the node keeps its identity, and its events before
//! and after the crash stay in order. Events that happen at no node (a message lost or cut,
//! the network's duplicate, a partition) have no clock of their own; a query about one is an
//! error that says so.
//!
//! `a` happened before `b` exactly when `V(a)[i] <= V(b)[i]` for `a`'s node `i` (and `a` is
//! not `b`): `b` knows of at least as many of `i`'s events as had happened when `a` did.

mod quiz;

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::table::Table;
use crate::trace::{Body, Event, EventKind, MsgId, Recorded, Trace};

pub use quiz::ConcurrencyQuiz;

/// Most clock entries (events times nodes) computed for one run: 50 million, 200 MB.
pub const MAX_CLOCK_ENTRIES: usize = 50_000_000;

const NO_NODE: u32 = u32::MAX;

/// How two events are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// The first happened before the second.
    Before,
    /// The second happened before the first.
    After,
    /// Neither: no chain of messages and node steps leads from one to the other.
    Concurrent,
    /// The same event.
    Same,
}

impl Order {
    /// The word a learner writes for it: "before", "after", "concurrent", "same".
    pub fn word(self) -> &'static str {
        match self {
            Order::Before => "before",
            Order::After => "after",
            Order::Concurrent => "concurrent",
            Order::Same => "same",
        }
    }
    /// Reads a learner's word (case and spaces ignored; `->`, `<-`, `||` accepted too).
    pub fn parse(word: &str) -> Option<Order> {
        match word.trim().to_lowercase().as_str() {
            "before" | "->" | "→" => Some(Order::Before),
            "after" | "<-" | "←" => Some(Order::After),
            "concurrent" | "||" | "neither" => Some(Order::Concurrent),
            "same" => Some(Order::Same),
            _ => None,
        }
    }
}

/// The logical clocks of every event of a run (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Clocks {
    nodes: usize,
    node_of: Vec<u32>,
    lamport: Vec<u64>,
    vector: Vec<u32>,
}

impl Clocks {
    /// The clocks of a recorded run's events (empty when its trace is off).
    pub fn of(run: &(impl Recorded + ?Sized)) -> Result<Clocks> {
        Clocks::of_trace(&run.events(), run.node_count())
    }

    /// The clocks of the events of `trace`, for a run of `nodes` nodes.
    ///
    /// An error when the events times the nodes exceed [`MAX_CLOCK_ENTRIES`], or when an
    /// event names a node outside `0..nodes`. A receive whose send is not in the trace (a
    /// trace started late) merges nothing.
    pub fn of_trace(trace: &Trace, nodes: usize) -> Result<Clocks> {
        let n = trace.len();
        if n.saturating_mul(nodes) > MAX_CLOCK_ENTRIES {
            return Err(Error::argument(
                "run",
                format!("{n} events x {nodes} nodes"),
                format!("at most {MAX_CLOCK_ENTRIES} clock entries (events x nodes)"),
            ));
        }
        let mut c = Clocks {
            nodes,
            node_of: Vec::with_capacity(n),
            lamport: Vec::with_capacity(n),
            vector: Vec::with_capacity(n * nodes),
        };
        let mut last: Vec<Option<usize>> = vec![None; nodes];
        let mut sent: HashMap<MsgId, usize> = HashMap::with_capacity(n / 2);
        for (i, e) in trace.iter().enumerate() {
            let (node, merge) = match at_node(&e.kind) {
                Some((node, _)) if node >= nodes => {
                    return Err(Error::argument(
                        "event",
                        i,
                        format!("an event at one of the run's {nodes} nodes"),
                    ))
                }
                Some((node, Role::Send(m))) => {
                    sent.insert(m, i);
                    (node, None)
                }
                Some((node, Role::Receive(m))) => (node, sent.get(&m).copied()),
                Some((node, Role::Local)) => (node, None),
                None => {
                    // No clock of its own; a message's fate carries the clock it left with.
                    let from = message_of(&e.kind).and_then(|m| sent.get(&m).copied());
                    c.node_of.push(NO_NODE);
                    c.lamport.push(from.map_or(0, |s| c.lamport[s]));
                    match from {
                        Some(s) => c.vector.extend_from_within(s * nodes..(s + 1) * nodes),
                        None => c.vector.resize(c.vector.len() + nodes, 0),
                    }
                    continue;
                }
            };
            let row = i * nodes;
            let mut l = 0;
            match last[node] {
                Some(p) => {
                    c.vector.extend_from_within(p * nodes..(p + 1) * nodes);
                    l = c.lamport[p];
                }
                None => c.vector.resize(row + nodes, 0),
            }
            if let Some(s) = merge {
                l = l.max(c.lamport[s]);
                for k in 0..nodes {
                    c.vector[row + k] = c.vector[row + k].max(c.vector[s * nodes + k]);
                }
            }
            c.vector[row + node] += 1;
            c.lamport.push(l + 1);
            c.node_of.push(node as u32);
            last[node] = Some(i);
        }
        Ok(c)
    }

    /// Number of events (with or without a clock).
    pub fn len(&self) -> usize {
        self.node_of.len()
    }
    /// True when the run recorded no events.
    pub fn is_empty(&self) -> bool {
        self.node_of.is_empty()
    }
    /// The node an event happened at, or None for an event of the network.
    pub fn node(&self, event: usize) -> Option<usize> {
        self.node_of.get(event).filter(|&&n| n != NO_NODE).map(|&n| n as usize)
    }
    /// An event's Lamport timestamp.
    pub fn lamport(&self, event: usize) -> Result<u64> {
        self.at_node(event)?;
        Ok(self.lamport[event])
    }
    /// An event's vector clock: entry `k` counts node `k`'s events in its causal past.
    pub fn vector(&self, event: usize) -> Result<&[u32]> {
        self.at_node(event)?;
        Ok(self.row(event))
    }
    /// The clock a message carried, for any event about it (sent, delivered, dropped).
    pub(crate) fn row(&self, event: usize) -> &[u32] {
        &self.vector[event * self.nodes..(event + 1) * self.nodes]
    }

    /// Whether `a` happened before `b`.
    pub fn happened_before(&self, a: usize, b: usize) -> Result<bool> {
        let na = self.at_node(a)?;
        self.at_node(b)?;
        Ok(a != b && self.vector[a * self.nodes + na] <= self.vector[b * self.nodes + na])
    }
    /// Whether `a` and `b` are concurrent: different events, neither before the other.
    pub fn concurrent(&self, a: usize, b: usize) -> Result<bool> {
        Ok(self.order(a, b)? == Order::Concurrent)
    }
    /// How `a` and `b` are ordered.
    pub fn order(&self, a: usize, b: usize) -> Result<Order> {
        Ok(if a == b {
            self.at_node(a)?;
            Order::Same
        } else if self.happened_before(a, b)? {
            Order::Before
        } else if self.happened_before(b, a)? {
            Order::After
        } else {
            Order::Concurrent
        })
    }
    /// Every event that happened before `event`, in trace order.
    pub fn causal_past(&self, event: usize) -> Result<Vec<usize>> {
        let v = self.vector(event)?.to_vec();
        Ok(self
            .events()
            .filter(|&a| {
                a != event
                    && self.vector[a * self.nodes + self.node_of[a] as usize] <= v[self.node_of[a] as usize]
            })
            .collect())
    }
    /// Every event concurrent with `event`, in trace order.
    pub fn concurrent_with(&self, event: usize) -> Result<Vec<usize>> {
        self.at_node(event)?;
        Ok(self.events().filter(|&a| self.order(a, event).ok() == Some(Order::Concurrent)).collect())
    }
    /// Pairs `(a, b)` where `a` came earlier in time than `b` yet the two are concurrent:
    /// the order a physical clock suggests and causality does not give.
    pub fn misleading_pairs(&self, trace: &Trace) -> Vec<(usize, usize)> {
        let ids: Vec<usize> = self.events().collect();
        let mut out = Vec::new();
        for (k, &a) in ids.iter().enumerate() {
            for &b in &ids[k + 1..] {
                let (ta, tb) = (trace.get(a).map(|e| e.at), trace.get(b).map(|e| e.at));
                if ta < tb && self.order(a, b).ok() == Some(Order::Concurrent) {
                    out.push((a, b));
                }
            }
        }
        out
    }

    /// Events that happened at a node, in trace order.
    pub fn events(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(|&i| self.node_of[i] != NO_NODE)
    }

    /// A vector clock as text: `[1,0,2]`.
    pub fn vector_text(&self, event: usize) -> Result<String> {
        Ok(bracket(self.vector(event)?))
    }

    fn at_node(&self, event: usize) -> Result<usize> {
        match self.node_of.get(event) {
            None => Err(Error::argument(
                "event",
                event,
                if self.is_empty() {
                    "an event of the run, but it recorded none (is the trace off?)".to_string()
                } else {
                    format!("an event number from 0 to {}", self.len() - 1)
                },
            )),
            Some(&NO_NODE) => Err(Error::argument(
                "event",
                event,
                "an event at a node (a send, a receive, a store, a crash, a recovery, a timeout); \
                 this one happened in the network",
            )),
            Some(&n) => Ok(n as usize),
        }
    }
}

/// Every event of a run with its number, time, node, Lamport timestamp and vector clock:
/// the table a learner reads the clocks from. Events of the network show no clock.
pub fn table(run: &(impl Recorded + ?Sized)) -> Result<Table> {
    let clocks = Clocks::of(run)?;
    let trace = run.events();
    let name = |i: usize| run.node_name(i);
    let names: Vec<String> = (0..run.node_count()).map(name).collect();
    let mut t = Table::new(
        "logical clocks of every event",
        ["#", "time (ms)", "node", "event", "message", "Lamport", &format!("vector [{}]", names.join(", "))],
    );
    for (i, e) in trace.iter().enumerate() {
        let (node, l, v) = match clocks.node(i) {
            Some(n) => (names[n].clone(), clocks.lamport[i].to_string(), bracket(clocks.row(i))),
            None => ("(network)".to_string(), "-".to_string(), "-".to_string()),
        };
        // The message's number is what `whatif::Change::Drop` and `Deliver` take.
        let msg = match &e.kind {
            EventKind::Sent { msg, .. }
            | EventKind::Delivered { msg, .. }
            | EventKind::Dropped { msg, .. }
            | EventKind::Duplicated { msg, .. } => msg.0.to_string(),
            _ => String::new(),
        };
        t.row([i.to_string(), format!("{:.3}", e.at.as_ms()), node, describe(e, &name), msg, l, v]);
    }
    if trace.is_empty() {
        t.note("no events: the run is empty, or its trace is off");
    }
    Ok(t)
}

/// The run told event by event, each line with its number and clocks:
/// `[  12.345 ms] #4 Node-1 L=2 [1,1,0] Node-1 receives "hi" from Node-0`.
pub fn narration(run: &(impl Recorded + ?Sized)) -> Result<Vec<String>> {
    let clocks = Clocks::of(run)?;
    let name = |i: usize| run.node_name(i);
    Ok(run
        .events()
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let stamp = match clocks.node(i) {
                Some(_) => format!("L={} {}", clocks.lamport[i], bracket(clocks.row(i))),
                None => "(network)".to_string(),
            };
            format!("[{:>9.3} ms] #{i} {stamp} {}", e.at.as_ms(), describe(e, &name))
        })
        .collect())
}

/// The regular expression that parses [`shiviz`]'s log (the first line of its output).
pub const SHIVIZ_REGEX: &str = r"(?<host>\S+) (?<clock>\{[^}]*\}) (?<event>.*)";

/// The run as a log for ShiViz (<https://bestchai.bitbucket.io/shiviz/>): the parser's
/// regular expression on the first line, an empty delimiter line, then one line per event at
/// a node: `host {"host":n,...} [time] what happened`.
///
/// Host names keep letters, digits, `-`, `_` and `.`; anything else becomes `_` (and a
/// number is added when two names would then clash), so any node name parses.
pub fn shiviz(run: &(impl Recorded + ?Sized)) -> Result<String> {
    let clocks = Clocks::of(run)?;
    let mut hosts: Vec<String> = Vec::new();
    for i in 0..run.node_count() {
        let mut h: String = run
            .node_name(i)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
            .collect();
        if h.is_empty() || hosts.contains(&h) {
            h = format!("{h}_{i}");
        }
        hosts.push(h);
    }
    let name = |i: usize| run.node_name(i);
    let mut out = format!("{SHIVIZ_REGEX}\n\n");
    for (i, e) in run.events().iter().enumerate() {
        let Some(node) = clocks.node(i) else { continue };
        let entries: Vec<String> = clocks
            .row(i)
            .iter()
            .enumerate()
            .filter(|(_, &v)| v > 0)
            .map(|(k, v)| format!("\"{}\":{v}", hosts[k]))
            .collect();
        let what = describe(e, &name).replace('\n', " ");
        out += &format!("{} {{{}}} [{:.3} ms] #{i} {what}\n", hosts[node], entries.join(","), e.at.as_ms());
    }
    Ok(out)
}

/// Writes [`shiviz`]'s log to `path`.
pub fn save_shiviz(run: &(impl Recorded + ?Sized), path: impl AsRef<std::path::Path>) -> Result<()> {
    let path = path.as_ref();
    std::fs::write(path, shiviz(run)?).map_err(|e| Error::io(path, &e))
}

pub(crate) fn bracket(v: &[u32]) -> String {
    let parts: Vec<String> = v.iter().map(u32::to_string).collect();
    format!("[{}]", parts.join(","))
}

/// What an event is to the node it happens at.
enum Role {
    Send(MsgId),
    Receive(MsgId),
    Local,
}

fn at_node(kind: &EventKind) -> Option<(usize, Role)> {
    Some(match kind {
        EventKind::Sent { msg, from, .. } => (from.index(), Role::Send(*msg)),
        EventKind::Delivered { msg, to, .. } => (to.index(), Role::Receive(*msg)),
        EventKind::Crashed { node }
        | EventKind::Recovered { node }
        | EventKind::Stored { node, .. }
        | EventKind::TimedOut { node, .. } => (node.index(), Role::Local),
        EventKind::Duplicated { .. }
        | EventKind::Dropped { .. }
        | EventKind::Partitioned { .. }
        | EventKind::Healed => return None,
    })
}

fn message_of(kind: &EventKind) -> Option<MsgId> {
    match kind {
        EventKind::Duplicated { msg, .. } | EventKind::Dropped { msg, .. } => Some(*msg),
        _ => None,
    }
}

fn what(body: &Body) -> String {
    match body {
        Body::Text { text } => format!("{text:?}"),
        other => other.summary(),
    }
}

/// A short description of an event: `Node-0 sends "hi" to Node-1`.
pub fn describe(e: &Event, name: &dyn Fn(usize) -> String) -> String {
    match &e.kind {
        EventKind::Sent { from, to, body, .. } => {
            format!("{} sends {} to {}", name(from.index()), what(body), name(to.index()))
        }
        EventKind::Delivered { from, to, body, .. } => {
            format!("{} receives {} from {}", name(to.index()), what(body), name(from.index()))
        }
        EventKind::Dropped { from, to, cause, .. } => {
            format!("message {} to {}: {cause}", name(from.index()), name(to.index()))
        }
        EventKind::Duplicated { from, to, .. } => {
            format!("network copies a message {} to {}", name(from.index()), name(to.index()))
        }
        EventKind::Crashed { node } => format!("{} crashes", name(node.index())),
        EventKind::Recovered { node } => format!("{} recovers", name(node.index())),
        EventKind::Stored { node, record } => {
            format!("{} stores {} = {}", name(node.index()), record.key, record.value)
        }
        EventKind::TimedOut { node, peer } => {
            format!("{} gives up on {}", name(node.index()), name(peer.index()))
        }
        EventKind::Partitioned { .. } => "partition starts".to_string(),
        EventKind::Healed => "partitions heal".to_string(),
    }
}
