//! The three graded exercises of notebook 07, their hints and their reference solutions.
//!
//! Each function takes the learner's protocol and returns the [`Checker`] that grades it:
//! - (a) [`reliable_delivery`]: Node-0 sends 100 values to Node-1 over 30 % loss; every call
//!   is answered, every acknowledged value arrives, and none is applied twice;
//! - (b) [`broadcast`]: 100 broadcasts among 5 nodes at 10 % loss with one crash; every live
//!   node ends up with every broadcast, within a message budget per call;
//! - (c) [`majority_register`]: writes and reads of one register on 5 nodes (half each, in
//!   bursts of up to 3 concurrent calls at different nodes), with loss, two crashes, a
//!   partition and a slow node; acknowledged writes survive and the history is linearizable.
//!
//! [`solutions`] holds a reference protocol for each, which a learner looks at on purpose.

use crate::config::Config;
use crate::node::NodeId;
use crate::protocol::Protocol;
use crate::table::{show_tables, Table, Tabular};

use super::{Bounds, Checker, ClientOp, Property, Workload};

pub mod solutions;

/// The message budget of exercise (b), per broadcast.
pub const BROADCAST_BUDGET: f64 = 60.0;

fn cluster(nodes: usize, loss: f64) -> Config {
    Config::builder().nodes(nodes).loss(loss).timeout_ms(200.0).trace(false).build().expect("valid")
}

/// Exercise (a): reliable delivery from Node-0 to Node-1 over 30 % loss.
pub fn reliable_delivery<P: Protocol<Request = ClientOp, Output = u64>>(protocol: P) -> Checker<P> {
    Checker::new(protocol)
        .named("(a) reliable delivery")
        .config(cluster(2, 0.3))
        .workload(Workload::Send { from: NodeId(0), to: NodeId(1) })
        .property(Property::Answered)
        .property(Property::AckedDelivered)
        .property(Property::NoDuplicates)
}

/// Exercise (b): a broadcast that reaches every live node despite loss and a crash, within
/// [`BROADCAST_BUDGET`] messages per broadcast.
pub fn broadcast<P: Protocol<Request = ClientOp, Output = u64>>(protocol: P) -> Checker<P> {
    Checker::new(protocol)
        .named("(b) broadcast")
        .config(cluster(5, 0.1))
        .workload(Workload::Broadcast)
        .faults(Bounds { crashes: 1, partitions: 0, slow: 0 })
        .property(Property::EveryLiveNodeHolds)
        .property(Property::NoDuplicates)
        .property(Property::MessagesPerCall(BROADCAST_BUDGET))
}

/// Exercise (c): a write acknowledged by a majority, and a read that sees it. The calls come
/// in bursts ([`Workload::RegisterBursts`]) and one node may be slow for a while
/// ([`Bounds::slow`]), which builds the half-finished writes a read without write-back gets
/// wrong.
pub fn majority_register<P: Protocol<Request = ClientOp, Output = u64>>(protocol: P) -> Checker<P> {
    Checker::new(protocol)
        .named("(c) majority register")
        .config(cluster(5, 0.1))
        .workload(Workload::RegisterBursts { reads: 0.5, size: 3 })
        .faults(Bounds { crashes: 2, partitions: 1, slow: 1 })
        .property(Property::Answered)
        .property(Property::AckedWritesSurvive)
        .property(Property::Linearizable)
}

/// Checks the reference solution of exercise `'a'`, `'b'` or `'c'` over `seeds` seeds.
///
/// Why a function of its own: [`Checker`] is generic over the protocol, and generic code is
/// compiled where it is used. Called from a notebook cell, `broadcast(solutions::Gossip)` would
/// compile the whole checker into the cell, unoptimized (about 7.5 s for 200 seeds, against
/// 0.5 s optimized). This function is compiled with distlab, optimized, so a cell that checks a
/// reference solution pays only the run. A learner's own protocol, defined in a cell, still
/// compiles the checker in the cell: that is the price of a type the library cannot know.
pub fn check_reference(exercise: char, seeds: u64) -> crate::error::Result<super::CheckReport> {
    match exercise {
        'a' => reliable_delivery(solutions::Reliable).seeds(seeds).check(),
        'b' => broadcast(solutions::Gossip).seeds(seeds).check(),
        'c' => majority_register(solutions::Majority).seeds(seeds).check(),
        other => Err(crate::error::Error::InvalidArgument {
            name: "exercise",
            value: format!("{other:?}"),
            allowed: "'a', 'b' or 'c'".into(),
        }),
    }
}

/// A hint for exercise `'a'`, `'b'` or `'c'`, shown as a short list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The exercise.
    pub exercise: char,
    /// The steps.
    pub steps: Vec<&'static str>,
}

/// The hint for an exercise (`'a'`, `'b'` or `'c'`); another letter gets the list of them.
pub fn hint(exercise: char) -> Hint {
    let steps = match exercise {
        'a' => vec![
            "Keep the values you still wait an ack for in the state (value -> receiver).",
            "In on_request: send, remember it, and set a timer (out.set_timer(120.0, value)).",
            "In on_timer: if the value is still waiting, send it again and set the timer again.",
            "The receiver answers every copy with an ack (out.reply), but applies a value only once.",
            "When the ack comes back, forget the value and call out.finish(): now the call is answered.",
        ],
        'b' => vec![
            "Relay: a node that sees a value for the first time passes it on to its peers.",
            "Retry each (value, peer) until that peer acks, but give up after a few tries: a crashed peer never will.",
            "A node that recovers asks its peers for what it misses (on_recover), as sync does.",
            "Count: origin to 4 peers, each relays to 3 others, plus acks: about 32 messages a broadcast.",
        ],
        'c' => vec![
            "A write asks a majority (3 of 5, counting itself) for their version, then stores version + 1 at a majority.",
            "A read asks a majority, takes the newest (version, value), and writes it back to a majority before answering.",
            "Break ties between versions with the node id and the call, so two writes never make the same version.",
            "Keep each call's phase and the nodes that answered in the state; retry the others on a timer.",
            "Answer (out.respond) only once a majority has stored: that is what makes the write survive.",
        ],
        _ => vec!["Ask for hint('a'), hint('b') or hint('c')."],
    };
    Hint { exercise, steps }
}

impl Tabular for Hint {
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(format!("hint for exercise ({})", self.exercise), ["step", "what to do"]);
        for (i, s) in self.steps.iter().enumerate() {
            t.row([(i + 1).to_string(), s.to_string()]);
        }
        vec![t]
    }
}

show_tables!(Hint);
