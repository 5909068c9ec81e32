//! What a sender cannot know: three requests, three silences, three different causes.
//!
//! A client asks a payment server to charge three orders and hears nothing back about any of
//! them. [`Silence::sender_view`] shows only what the client saw, which is the same for all
//! three, and for every seed. The seed decides what really happened: three of the four
//! [`Cause`]s, one per request, in its order. [`Silence::reveal`] grades a learner's guesses
//! against the trace and draws the run. [`Silence::retry`] runs the same start again with a
//! client that retries each unanswered order, without and then with a request id, and
//! [`Retries`] counts what that costs: charges made twice, messages, time waited, ids kept.
//!
//! The faults are placed, not drawn: loss is 0 apart from the one request and the one reply
//! the scenario loses, so every run tells the story its seed names, exactly.
//!
//! - *The request was lost*: the network drops the first try on its way.
//! - *The reply was lost*: the server charges and replies; the network drops the reply.
//! - *The server was down*: it crashes 40 ms before the first try and recovers 250 to 650 ms
//!   after it (from the seed), so the tries before that are dropped and a later one succeeds.
//! - *The server was slow*: the first try reaches the server only 260 to 420 ms after it was
//!   sent; the server charges and answers then, after the client's 200 ms timeout.
//!
//! ```
//! use distlab::prelude::*;
//! let silence = Silence::new(2026)?;
//! let truth = silence.truth();
//! let guess: String = truth.iter().map(|c| c.letter()).collect();
//! assert_eq!(silence.reveal(&guess).score(), Some(3));
//! let (plain, safe) = (silence.retry(false)?, silence.retry(true)?);
//! assert!(plain.charged() > 3);   // a processed order was charged again
//! assert_eq!(safe.charged(), 3);  // the ids caught every retry
//! # Ok::<(), distlab::Error>(())
//! ```

mod payments;
mod show;

use std::collections::BTreeMap;
use std::fmt;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

use crate::chart::{Chart, Plot, SpaceTime, MAX_DRAWN_MESSAGES};
use crate::config::{Config, Latency};
use crate::error::{Error, Result};
use crate::report::Verb;
use crate::sim::Sim;
use crate::time::Time;
use crate::trace::{DropCause, EventKind, Trace};

pub use payments::MAX_TRIES;
use payments::{Books, Payments, CLIENT, SERVER};
pub use show::{RetryPair, Reveal};

/// When the client sends each order, in virtual ms: 1200 ms apart, so every try and reply of
/// one order is over before the next order starts.
pub const SEND_AT_MS: [f64; 3] = [100.0, 1300.0, 2500.0];
/// How long the client waits for a reply before it gives up (or tries again).
pub const TIMEOUT_MS: f64 = 200.0;
/// The amount of each order.
const EUROS: [u32; 3] = [10, 25, 40];
/// Each message takes uniformly this long, in ms, unless the scenario holds it up: a round
/// trip is always well inside the timeout.
const LATENCY_MS: (f64, f64) = (10.0, 40.0);
/// How long a slow first try takes to reach the server, in whole ms.
const SLOW_MS: (u32, u32) = (260, 420);
/// When a crashed server comes back, in whole ms after the first try.
const RECOVER_AFTER_MS: (u32, u32) = (250, 650);
/// How long before the first try the server crashes.
const CRASH_BEFORE_MS: f64 = 40.0;
/// Every message of one order is sent within this long of its first try.
const WINDOW_MS: f64 = 1200.0;

/// Why one request got no reply within the timeout. The letters are those of
/// [`Silence::CAUSES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Cause {
    /// a) The network lost the request: the server never saw it.
    RequestLost,
    /// b) The server charged and replied; the network lost the reply.
    ReplyLost,
    /// c) The server was down when the request arrived.
    ServerDown,
    /// d) The server handled the request only after the client's timeout.
    ServerSlow,
}

impl Cause {
    /// The four, in letter order.
    pub const ALL: [Cause; 4] = [Cause::RequestLost, Cause::ReplyLost, Cause::ServerDown, Cause::ServerSlow];
    /// Its letter, `a` to `d`.
    pub fn letter(self) -> char {
        (b'a' + self as u8) as char
    }
    /// Its option text.
    pub fn text(self) -> &'static str {
        Silence::CAUSES[self as usize]
    }
    /// The cause of a letter (either case); None for any other character.
    pub fn from_letter(c: char) -> Option<Cause> {
        Cause::ALL.into_iter().find(|k| k.letter() == c.to_ascii_lowercase())
    }
    /// Whether the server charged the order: the part the client cannot see.
    pub fn charged(self) -> bool {
        matches!(self, Cause::ReplyLost | Cause::ServerSlow)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}) {}", self.letter(), self.text())
    }
}

/// Which causes occur, in which order, and the delays: everything the seed decides.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    causes: [Cause; 3],
    slow_ms: f64,
    recover_after_ms: f64,
}

impl Plan {
    fn draw(seed: u64) -> Plan {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5349_4c45_4e43_4500);
        let mut all = Cause::ALL;
        for i in (1..all.len()).rev() {
            all.swap(i, rng.random_range(0..=i));
        }
        Plan {
            causes: [all[0], all[1], all[2]],
            slow_ms: f64::from(rng.random_range(SLOW_MS.0..=SLOW_MS.1)),
            recover_after_ms: f64::from(rng.random_range(RECOVER_AFTER_MS.0..=RECOVER_AFTER_MS.1)),
        }
    }
}

/// Runs the scenario: the three orders with their faults placed, the client retrying or not.
fn run(seed: u64, plan: &Plan, retry: bool, ids: bool) -> Result<Sim<Payments>> {
    let normal = Latency::uniform(LATENCY_MS.0, LATENCY_MS.1);
    let config = Config::builder()
        .names(["Client", "Server"])
        .latency(normal)
        .loss(0.0)
        .duplication(0.0)
        .durable(true)
        .timeout_ms(TIMEOUT_MS)
        .seed(seed)
        .trace(true)
        .build()?;
    let mut sim = Sim::new(Payments { retry, ids, timeout_ms: TIMEOUT_MS }, config);
    for (k, &cause) in plan.causes.iter().enumerate() {
        if cause == Cause::ServerDown {
            sim.crash_at(SERVER, SEND_AT_MS[k] - CRASH_BEFORE_MS)?;
            sim.recover_at(SERVER, SEND_AT_MS[k] + plan.recover_after_ms)?;
        }
    }
    for (k, &cause) in plan.causes.iter().enumerate() {
        let at = SEND_AT_MS[k];
        sim.run_until(at)?;
        match cause {
            Cause::RequestLost => sim.set_links(1.0, normal),
            Cause::ServerSlow => sim.set_links(0.0, Latency::constant(plan.slow_ms)),
            Cause::ReplyLost | Cause::ServerDown => {}
        }
        sim.start(Verb::Request, CLIENT, &(k as u32 + 1, EUROS[k]), None)?;
        sim.set_links(0.0, normal);
        if cause == Cause::ReplyLost {
            // Only the server's reply is sent while the request travels: lose it.
            sim.set_links(1.0, normal);
            sim.run_until(at + LATENCY_MS.1 + 1.0)?;
            sim.set_links(0.0, normal);
        }
    }
    sim.run();
    Ok(sim)
}

/// One message as the trace tells it.
#[derive(Debug, Clone, PartialEq)]
struct Message {
    from_client: bool,
    sent: Time,
    /// When it arrived or was dropped, and why it was dropped.
    end: Option<(Time, Option<DropCause>)>,
    /// For a reply: the request being handled when it was sent.
    answers: Option<u64>,
}

/// The messages of a run, and the server's down spans, read from its trace.
#[derive(Debug, Clone, Default)]
struct Scan {
    messages: BTreeMap<u64, Message>,
    down: Vec<(Time, Option<Time>)>,
}

impl Scan {
    fn read(trace: &Trace) -> Scan {
        let mut scan = Scan::default();
        let mut handling = None;
        for e in trace.iter() {
            match &e.kind {
                EventKind::Sent { msg, from, .. } => {
                    let from_client = *from == CLIENT;
                    let answers = if from_client { None } else { handling };
                    scan.messages.insert(msg.0, Message { from_client, sent: e.at, end: None, answers });
                }
                EventKind::Delivered { msg, to, .. } => {
                    if *to == SERVER {
                        handling = Some(msg.0);
                    }
                    if let Some(m) = scan.messages.get_mut(&msg.0) {
                        m.end = Some((e.at, None));
                    }
                }
                EventKind::Dropped { msg, cause, .. } => {
                    if let Some(m) = scan.messages.get_mut(&msg.0) {
                        m.end = Some((e.at, Some(*cause)));
                    }
                }
                EventKind::Crashed { node } if *node == SERVER => scan.down.push((e.at, None)),
                EventKind::Recovered { node } if *node == SERVER => {
                    if let Some(last) = scan.down.last_mut() {
                        last.1.get_or_insert(e.at);
                    }
                }
                _ => {}
            }
        }
        scan
    }

    /// The ids of the messages of the order first sent at `at`, in order.
    fn of_order(&self, at: f64) -> impl Iterator<Item = (u64, &Message)> + '_ {
        let (from, to) = (Time::from_ms(at), Time::from_ms(at + WINDOW_MS));
        self.messages.iter().filter(move |(_, m)| m.sent >= from && m.sent < to).map(|(&id, m)| (id, m))
    }
}

/// What became of one order's first try, read from the trace.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FirstTry {
    /// None if the trace shows none of the four (the try was answered in time).
    pub(crate) cause: Option<Cause>,
    pub(crate) sent: Time,
    /// When the request reached the server, or was dropped.
    pub(crate) request_end: Option<Time>,
    /// When the reply arrived, or was dropped.
    pub(crate) reply_end: Option<Time>,
    /// The server's down span around the request's arrival.
    pub(crate) down: Option<(Time, Option<Time>)>,
}

fn first_try(scan: &Scan, at: f64) -> Option<FirstTry> {
    let (id, first) = scan.of_order(at).find(|(_, m)| m.from_client)?;
    let reply = scan.of_order(at).find(|(_, m)| m.answers == Some(id)).map(|(_, m)| m);
    let (request_end, dropped) = first.end.map_or((None, None), |(t, c)| (Some(t), c));
    let reply_end = reply.and_then(|r| r.end);
    let timeout = first.sent.after(Time::from_ms(TIMEOUT_MS));
    let cause = match dropped {
        Some(DropCause::Lost | DropCause::Partitioned) => Some(Cause::RequestLost),
        Some(DropCause::TargetDown) => Some(Cause::ServerDown),
        Some(DropCause::SenderDown) => None,
        None => match reply_end {
            Some((_, Some(_))) => Some(Cause::ReplyLost),
            Some((t, None)) if t > timeout => Some(Cause::ServerSlow),
            _ => None,
        },
    };
    let down = request_end
        .and_then(|t| scan.down.iter().copied().find(|&(a, b)| a <= t && b.is_none_or(|b| b >= t)));
    Some(FirstTry {
        cause,
        sent: first.sent,
        request_end,
        reply_end: reply_end.map(|(t, _)| t),
        down: down.filter(|_| cause == Some(Cause::ServerDown)),
    })
}

/// Reads every order's first try from a run, and checks that the run came out as planned.
fn first_tries(seed: u64, sim: &Sim<Payments>, plan: &Plan) -> Result<Vec<FirstTry>> {
    let scan = Scan::read(sim.trace());
    let tries: Vec<FirstTry> = SEND_AT_MS.iter().filter_map(|&at| first_try(&scan, at)).collect();
    let causes: Vec<Option<Cause>> = tries.iter().map(|t| t.cause).collect();
    if causes != plan.causes.map(Some) {
        return Err(Error::argument(
            "seed",
            seed,
            "a seed whose run came out as planned (please report this)",
        ));
    }
    Ok(tries)
}

/// The server's ledger and the client's books at the end of a run.
fn books(sim: &Sim<Payments>, node: crate::node::NodeId) -> Books {
    sim.state(node).cloned().unwrap_or_default()
}

/// The space-time diagram of a run, with labelled vertical marks.
fn diagram(sim: &Sim<Payments>, title: String, marks: Vec<(f64, String)>) -> Chart {
    let mut s = SpaceTime::from_run(sim, MAX_DRAWN_MESSAGES);
    // Room after the last mark for its label.
    let last = marks.iter().map(|m: &(f64, String)| m.0).fold(0.0, f64::max);
    s.horizon = s.horizon.max(last + 400.0);
    s.marks = marks;
    Chart::new(title, (960, 320), Plot::SpaceTime(s))
}

/// The scenario: three requests, no reply to any, three different causes (see the module
/// docs). Build it with [`Silence::new`], show [`Silence::sender_view`] first, then
/// [`Silence::reveal`] the learner's guesses, then compare [`Silence::retry`] without and
/// with request ids.
#[derive(Debug, Clone)]
pub struct Silence {
    seed: u64,
    plan: Plan,
    sim: Sim<Payments>,
    tries: Vec<FirstTry>,
}

impl Silence {
    /// The four possible causes of a silence, in letter order (a to d): the options a learner
    /// chooses from, so the sender view, the reveal and a notebook's text use the same words.
    pub const CAUSES: [&'static str; 4] = [
        "the request was lost",
        "the reply was lost",
        "the server was down",
        "the server was slow (answered after the timeout)",
    ];

    /// The run of `seed`: which three causes happen, in which order, and the delays. Any seed
    /// works; the same seed gives the same run, byte for byte.
    pub fn new(seed: u64) -> Result<Silence> {
        let plan = Plan::draw(seed);
        let sim = run(seed, &plan, false, false)?;
        let tries = first_tries(seed, &sim, &plan)?;
        Ok(Silence { seed, plan, sim, tries })
    }

    /// The seed of this run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// What really happened to each request, in request order, as the trace shows it (the
    /// answer to the guessing game: look at it after guessing).
    pub fn truth(&self) -> Vec<Cause> {
        self.tries.iter().filter_map(|t| t.cause).collect()
    }

    /// Every event of the run (the omniscient view: it gives the answer away).
    pub fn trace(&self) -> &Trace {
        self.sim.trace()
    }

    /// The space-time diagram of the run, each request's timeout marked (gives the answer
    /// away; [`Silence::reveal`] shows it after the guesses).
    pub fn chart(&self) -> Chart {
        let marks =
            (0..3).map(|k| (SEND_AT_MS[k] + TIMEOUT_MS, format!("#{}: client gives up", k + 1))).collect();
        diagram(&self.sim, format!("what really happened (seed {})", self.seed), marks)
    }

    /// Runs the same start again (same seed, same faults at the same moments) with a client
    /// that tries each unanswered order again after its timeout, up to [`MAX_TRIES`] tries,
    /// without request ids (`ids` false) or with them (`ids` true: the server remembers the
    /// ids it handled and answers a repeat without charging again).
    pub fn retry(&self, ids: bool) -> Result<Retries> {
        let sim = run(self.seed, &self.plan, true, ids)?;
        first_tries(self.seed, &sim, &self.plan)?;
        Ok(Retries::new(self.seed, ids, &self.plan, sim))
    }

    /// Both runs with retries, without request ids and with them, shown together.
    pub fn retries(&self) -> Result<RetryPair> {
        Ok(RetryPair { without_ids: self.retry(false)?, with_ids: self.retry(true)? })
    }
}

/// One order of a run with retries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRow {
    /// The order, 1 to 3.
    pub order: u32,
    /// Its amount.
    pub euros: u32,
    /// What happened to its first try.
    pub first_try: Cause,
    /// Tries the client sent.
    pub tries: usize,
    /// Times the server charged it (from the server's ledger).
    pub charged: u64,
    /// Replies the server sent again for an id it had handled, without charging.
    pub resent: u64,
    /// From the first try to the answer, in ms; None if the client gave up.
    pub answered_after_ms: Option<f64>,
    /// Messages sent for it, requests and replies.
    pub messages: u64,
    /// Of those, the ones the network lost or a down server dropped.
    pub dropped: u64,
    /// Time the client spent waiting out timeouts, in ms.
    pub waited_ms: f64,
}

/// A run with retries: what each order cost, and why (see [`Silence::retry`]).
#[derive(Debug, Clone)]
pub struct Retries {
    seed: u64,
    ids: bool,
    rows: Vec<OrderRow>,
    charged: u64,
    ids_kept: usize,
    sim: Sim<Payments>,
}

impl Retries {
    fn new(seed: u64, ids: bool, plan: &Plan, sim: Sim<Payments>) -> Retries {
        let (client, server) = (books(&sim, CLIENT), books(&sim, SERVER));
        let scan = Scan::read(sim.trace());
        let rows = (0..3)
            .map(|k| {
                let order = k as u32 + 1;
                let o = client.orders.get(&order).cloned().unwrap_or_default();
                let first = o.tries.first().copied().unwrap_or(Time::from_ms(SEND_AT_MS[k]));
                let timeouts = o.tries.len() - usize::from(o.answered.is_some());
                OrderRow {
                    order,
                    euros: EUROS[k],
                    first_try: plan.causes[k],
                    tries: o.tries.len(),
                    charged: server.ledger.iter().filter(|c| c.order == order).count() as u64,
                    resent: server.resent.iter().filter(|r| r.0 == order).count() as u64,
                    answered_after_ms: o.answered.map(|t| t.since(first).as_ms()),
                    messages: scan.of_order(SEND_AT_MS[k]).count() as u64,
                    dropped: scan
                        .of_order(SEND_AT_MS[k])
                        .filter(|(_, m)| matches!(m.end, Some((_, Some(_)))))
                        .count() as u64,
                    waited_ms: timeouts as f64 * TIMEOUT_MS,
                }
            })
            .collect();
        Retries { seed, ids, rows, charged: server.ledger.len() as u64, ids_kept: server.seen.len(), sim }
    }

    /// How many times the server charged, over the three orders (its ledger's length).
    pub fn charged(&self) -> u64 {
        self.charged
    }
    /// Whether the client sent request ids.
    pub fn with_ids(&self) -> bool {
        self.ids
    }
    /// One row per order.
    pub fn orders(&self) -> &[OrderRow] {
        &self.rows
    }
    /// Messages sent in all, requests and replies.
    pub fn messages(&self) -> u64 {
        self.rows.iter().map(|r| r.messages).sum()
    }
    /// Time the client spent waiting out timeouts, over the three orders, in ms.
    pub fn waited_ms(&self) -> f64 {
        self.rows.iter().map(|r| r.waited_ms).sum()
    }
    /// Request ids the server keeps at the end (0 without ids).
    pub fn ids_kept(&self) -> usize {
        self.ids_kept
    }
    /// Every event of the run.
    pub fn trace(&self) -> &Trace {
        self.sim.trace()
    }
    /// The space-time diagram of the run, each order's start marked.
    pub fn chart(&self) -> Chart {
        let marks = (0..3).map(|k| (SEND_AT_MS[k], format!("order {}", k + 1))).collect();
        let how = if self.ids { "with request ids" } else { "without request ids" };
        diagram(&self.sim, format!("retries {how} (seed {})", self.seed), marks)
    }
}
