//! The five steps of notebook 07, a ladder from an echo to a majority register: each step's
//! checker, hint, reference solution and code.
//!
//! Each function takes the learner's protocol and returns the [`Checker`] that grades it:
//! 1. [`echo`]: Node-0 sends 100 values to Node-1 on a network that loses nothing; each call
//!    is answered with its own value, come back from Node-1;
//! 2. [`ack_once`]: the same on a network that delivers some messages twice; no value is
//!    applied twice;
//! 3. [`reliable_delivery`]: the same over 30 % loss; every call is answered, every
//!    acknowledged value arrives, none is applied twice;
//! 4. [`broadcast`]: 100 broadcasts among 5 nodes at 10 % loss with one crash; every live
//!    node ends up with every broadcast, within a message budget per call;
//! 5. [`majority_register`]: writes and reads of one register on 5 nodes (half each, in
//!    bursts of up to 3 concurrent calls at different nodes), with loss, two crashes, a
//!    partition and a slow node; acknowledged writes survive and the history is linearizable.
//!
//! [`solutions`] holds a reference protocol for each step, which a learner looks at on purpose
//! ([`solution`] shows its code); [`mistakes`] holds the classic mistake of step 5, which
//! random seeds rarely catch and [`register_scope`]'s exhaustive search always does.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::node::NodeId;
use crate::protocol::Protocol;
use crate::table::{show_tables, Table, Tabular};

use super::explore::{ExploreReport, Scope};
use super::{Bounds, CheckReport, Checker, ClientOp, Property, Workload};

pub mod mistakes;
pub mod solutions;

/// The steps, 1 to 5, and their names.
pub const STEPS: [&str; 5] =
    ["echo", "acknowledge once", "retry on a timer", "broadcast", "majority register"];

/// The name of `step`, or "" for a number outside 1 to 5.
fn step_name(step: u32) -> &'static str {
    (step as usize).checked_sub(1).and_then(|i| STEPS.get(i)).copied().unwrap_or("")
}

fn step_error(step: u32) -> Error {
    Error::argument(
        "step",
        step,
        "1 to 5 (1 echo, 2 acknowledge once, 3 retry on a timer, 4 broadcast, 5 majority register)",
    )
}

/// The message budget of step 4, per broadcast.
pub const BROADCAST_BUDGET: f64 = 60.0;

fn cluster(nodes: usize, loss: f64) -> Config {
    Config::builder().nodes(nodes).loss(loss).timeout_ms(200.0).trace(false).build().expect("valid")
}

/// The share of messages [`ack_once`]'s network delivers twice.
pub const DUPLICATION: f64 = 0.3;

/// Step 1: Node-0 sends 100 values to Node-1 over a network that loses nothing; each call
/// must be answered with its own value, come back from Node-1.
pub fn echo<P: Protocol<Request = ClientOp, Output = u64>>(protocol: P) -> Checker<P> {
    Checker::new(protocol)
        .named("step 1: echo")
        .config(cluster(2, 0.0))
        .workload(Workload::Send { from: NodeId(0), to: NodeId(1) })
        .property(Property::Answered)
        .property(Property::AckedDelivered)
        .property(Property::Echoed)
}

/// Step 2: as [`echo`], but the network delivers [`DUPLICATION`] of the messages twice; no
/// value may be applied twice.
pub fn ack_once<P: Protocol<Request = ClientOp, Output = u64>>(protocol: P) -> Checker<P> {
    let config = Config::builder()
        .nodes(2)
        .loss(0.0)
        .duplication(DUPLICATION)
        .timeout_ms(200.0)
        .trace(false)
        .build()
        .expect("valid");
    Checker::new(protocol)
        .named("step 2: acknowledge once")
        .config(config)
        .workload(Workload::Send { from: NodeId(0), to: NodeId(1) })
        .property(Property::Answered)
        .property(Property::Echoed)
        .property(Property::NoDuplicates)
}

/// Step 3: reliable delivery from Node-0 to Node-1 over 30 % loss.
pub fn reliable_delivery<P: Protocol<Request = ClientOp, Output = u64>>(protocol: P) -> Checker<P> {
    Checker::new(protocol)
        .named("step 3: retry on a timer")
        .config(cluster(2, 0.3))
        .workload(Workload::Send { from: NodeId(0), to: NodeId(1) })
        .property(Property::Answered)
        .property(Property::AckedDelivered)
        .property(Property::NoDuplicates)
}

/// Step 4: a broadcast that reaches every live node despite loss and a crash, within
/// [`BROADCAST_BUDGET`] messages per broadcast.
pub fn broadcast<P: Protocol<Request = ClientOp, Output = u64>>(protocol: P) -> Checker<P> {
    Checker::new(protocol)
        .named("step 4: broadcast")
        .config(cluster(5, 0.1))
        .workload(Workload::Broadcast)
        .faults(Bounds { crashes: 1, partitions: 0, slow: 0 })
        .property(Property::EveryLiveNodeHolds)
        .property(Property::NoDuplicates)
        .property(Property::MessagesPerCall(BROADCAST_BUDGET))
}

/// Step 5: a write acknowledged by a majority, and a read that sees it. The calls come in
/// bursts ([`Workload::RegisterBursts`]) and one node may be slow for a while
/// ([`Bounds::slow`]), which builds the half-finished writes a read without write-back gets
/// wrong.
pub fn majority_register<P: Protocol<Request = ClientOp, Output = u64>>(protocol: P) -> Checker<P> {
    Checker::new(protocol)
        .named("step 5: majority register")
        .config(cluster(5, 0.1))
        .workload(Workload::RegisterBursts { reads: 0.5, size: 3 })
        .faults(Bounds { crashes: 2, partitions: 1, slow: 1 })
        .property(Property::Answered)
        .property(Property::AckedWritesSurvive)
        .property(Property::Linearizable)
}

/// Checks the reference solution of `step` (1 to 5) over `seeds` seeds.
///
/// Why a function of its own: [`Checker`] is generic over the protocol, and generic code is
/// compiled where it is used. Called from a notebook cell, `broadcast(solutions::Gossip)` would
/// compile the whole checker into the cell, unoptimized (about 7.5 s for 200 seeds, against
/// 0.5 s optimized). This function is compiled with distlab, optimized, so a cell that checks a
/// reference solution pays only the run. A learner's own protocol, defined in a cell, still
/// compiles the checker in the cell: that is the price of a type the library cannot know.
pub fn check_reference(step: u32, seeds: u64) -> Result<CheckReport> {
    match step {
        1 => echo(solutions::Echo).seeds(seeds).check(),
        2 => ack_once(solutions::AckOnce).seeds(seeds).check(),
        3 => reliable_delivery(solutions::Reliable).seeds(seeds).check(),
        4 => broadcast(solutions::Gossip).seeds(seeds).check(),
        5 => majority_register(solutions::Majority).seeds(seeds).check(),
        other => Err(step_error(other)),
    }
}

/// Checks where `step` starts (1 to 5) under that step's checker, over `seeds` seeds: the
/// protocol its skeleton in notebook 07 behaves as, before the learner changes it. Step 1
/// starts from the lesson's node ([`solutions::LessonNode`]), which answers at once; steps 2
/// and 3 from the reference of the step before ([`solutions::Echo`], [`solutions::AckOnce`]);
/// step 4 from the lesson's node again, which sends each broadcast once to each peer; step 5
/// from the lesson's node too, whose register lives at one node. A prediction is graded on
/// this run, which the learner's edits cannot change; compiled with distlab, optimized.
pub fn check_start(step: u32, seeds: u64) -> Result<CheckReport> {
    match step {
        1 => echo(solutions::LessonNode).seeds(seeds).check(),
        2 => ack_once(solutions::Echo).seeds(seeds).check(),
        3 => reliable_delivery(solutions::AckOnce).seeds(seeds).check(),
        4 => broadcast(solutions::LessonNode).seeds(seeds).check(),
        5 => majority_register(solutions::LessonNode).seeds(seeds).check(),
        other => Err(step_error(other)),
    }
}

/// The small scope notebook 07 searches on the register: 3 nodes; Node-0 writes 1 while
/// Node-1 and Node-2 read; no loss, no crash, no retry timer firing; at most 200,000 states or
/// 30 seconds. It holds the schedule of the new-old inversion (see [`mistakes::NoWriteBack`]),
/// which the search reaches after some 12,600 states; a correct register does not fit whole
/// in the bound (every order of some 24 deliveries), so its verdict is *unknown*, with the
/// count of states in which nothing broke.
pub fn register_scope() -> Scope {
    Scope::builder()
        .nodes(3)
        .call(0, ClientOp::Write { value: 1 })
        .call(1, ClientOp::Read)
        .call(2, ClientOp::Read)
        .timer_fires(0)
        .max_states(200_000)
        .time_limit_s(30.0)
        .build()
        .expect("a valid scope")
}

/// Step 5's classic mistake ([`mistakes::NoWriteBack`]) under the random checker, `seeds`
/// seeds. Compiled with distlab, optimized, for the reason [`check_reference`] gives.
pub fn check_mistake(seeds: u64) -> Result<CheckReport> {
    majority_register(mistakes::NoWriteBack).seeds(seeds).check()
}

/// Step 5's classic mistake ([`mistakes::NoWriteBack`]) under the exhaustive search of
/// [`register_scope`]. Compiled with distlab, optimized.
pub fn explore_mistake() -> Result<ExploreReport> {
    majority_register(mistakes::NoWriteBack).explore(&register_scope())
}

/// The reference solution of one step, as its source code: what a learner reads after trying.
/// It is cut from the crate's own `solutions.rs`, so it is always the code that is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    /// The step, 1 to 5.
    pub step: u32,
    /// Its Rust code.
    pub code: String,
}

/// The code of `step`'s reference solution (1 to 5).
pub fn solution(step: u32) -> Result<Solution> {
    const SOURCE: &str = include_str!("solutions.rs");
    let (begin, end) = (format!("// step {step} begins\n"), format!("// step {step} ends"));
    let code = SOURCE
        .split_once(begin.as_str())
        .and_then(|(_, rest)| rest.split_once(end.as_str()))
        .map(|(code, _)| code.trim_end().to_string())
        .ok_or_else(|| step_error(step))?;
    Ok(Solution { step, code })
}

impl std::fmt::Display for Solution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "// reference solution of step {} ({})", self.step, step_name(self.step))?;
        f.write_str(&self.code)
    }
}

impl Solution {
    /// Shows the code in a notebook, as text.
    pub fn evcxr_display(&self) {
        println!("{self}");
    }
}

/// A hint for one step: a short list of what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The step, 1 to 5.
    pub step: u32,
    /// What to do, in order.
    pub steps: Vec<&'static str>,
}

/// The hint for `step` (1 to 5).
pub fn hint(step: u32) -> Result<Hint> {
    let steps = match step {
        1 => vec![
            "Do not call out.finish() in on_request: the call must wait for the echo.",
            "In on_message, the value arrives at Node-1: keep it, and out.reply(Msg::Ack(v)) sends it back.",
            "The Ack arrives at Node-0 in on_message: out.respond(Some(v)) ends the call it belongs to, answered with v.",
        ],
        2 => vec![
            "A copy can arrive twice: keep the value only if the state does not hold it yet.",
            "Reply with the Ack to every copy, the second too: its first Ack may be what was lost.",
            "A second Ack for a call already answered is harmless: only the first respond counts.",
        ],
        3 => vec![
            "Keep the values still waiting for an Ack in the state (value -> receiver): a BTreeMap.",
            "In on_request: send, remember it, and set a timer (out.set_timer(120.0, value)).",
            "In on_timer: if the value is still waiting, send it again and set the timer again.",
            "When the Ack comes back, forget the value and respond: now the call is answered.",
        ],
        4 => vec![
            "Relay: a node that sees a value for the first time passes it on to its peers.",
            "Retry each (value, peer) until that peer acks, but give up after a few tries: a crashed peer never will.",
            "A crash cancels the node's timers: in on_recover, ask the peers for what it misses (as sync does).",
            "Count: origin to 4 peers, each relays to 3 others, plus acks: about 32 messages a broadcast.",
        ],
        5 => vec![
            "A write asks a majority (3 of 5, counting itself) for their version, then stores version + 1 at a majority.",
            "A read asks a majority, takes the newest (version, value), and writes it back to a majority before answering.",
            "Break ties between versions with the node id and the call, so two writes never make the same version.",
            "Keep each call's phase and the nodes that answered in the state; retry the others on a timer.",
            "Answer (out.respond) only once a majority has stored: that is what makes the write survive.",
        ],
        other => return Err(step_error(other)),
    };
    Ok(Hint { step, steps })
}

impl Tabular for Hint {
    fn tables(&self) -> Vec<Table> {
        let mut t =
            Table::new(format!("hint for step {} ({})", self.step, step_name(self.step)), ["", "what to do"]);
        for (i, s) in self.steps.iter().enumerate() {
            t.row([(i + 1).to_string(), s.to_string()]);
        }
        vec![t]
    }
}

show_tables!(Hint);
