//! stateright 0.31.0 on its own ABD register example (examples/linearizable-register.rs,
//! copied, with a switch that drops the read's write-back), for the speed comparison with
//! distlab's `Checker::explore`: unique states per second, and the time to the first
//! counterexample of the register without write-back. One thread, breadth first.
//!
//! `cargo run --release` (in this folder; nothing else running).

use serde::{Deserialize, Serialize};
use stateright::actor::register::{RegisterActor, RegisterMsg, RegisterMsg::*};
use stateright::actor::{majority, model_peers, Actor, ActorModel, Id, Network, Out};
use stateright::semantics::register::Register;
use stateright::semantics::LinearizabilityTester;
use stateright::util::{HashableHashMap, HashableHashSet};
use stateright::{Checker, Expectation, Model};
use std::borrow::Cow;
use std::fmt::Debug;
use std::hash::Hash;
use std::time::Instant;

type LogicalClock = u64;
type RequestId = u64;
type Seq = (LogicalClock, Id);
type Value = char;

#[derive(Clone, Debug, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize, Deserialize)]
pub enum AbdMsg {
    Query(RequestId),
    AckQuery(RequestId, Seq, Value),
    Record(RequestId, Seq, Value),
    AckRecord(RequestId),
}
use AbdMsg::*;

#[derive(Clone, Debug, Eq, Hash, PartialEq)]
pub struct AbdState {
    seq: Seq,
    val: Value,
    phase: Option<AbdPhase>,
}

#[derive(Clone, Debug, Eq, Hash, PartialEq)]
enum AbdPhase {
    Phase1 {
        request_id: RequestId,
        requester_id: Id,
        write: Option<Value>,
        responses: HashableHashMap<Id, (Seq, Value)>,
    },
    Phase2 {
        request_id: RequestId,
        requester_id: Id,
        read: Option<Value>,
        acks: HashableHashSet<Id>,
    },
}

#[derive(Clone)]
pub struct AbdActor {
    pub(crate) peers: Vec<Id>,
    /// false: the classic mistake, a read answers at once with the newest value a majority
    /// holds, without writing it back first.
    pub(crate) write_back: bool,
}

impl Actor for AbdActor {
    type Msg = RegisterMsg<RequestId, Value, AbdMsg>;
    type State = AbdState;
    type Timer = ();
    type Random = ();
    type Storage = ();

    fn on_start(
        &self,
        id: Id,
        _storage: &Option<Self::Storage>,
        _o: &mut Out<Self>,
    ) -> Self::State {
        AbdState {
            seq: (0, id),
            val: Value::default(),
            phase: None,
        }
    }

    fn on_msg(
        &self,
        id: Id,
        state: &mut Cow<Self::State>,
        src: Id,
        msg: Self::Msg,
        o: &mut Out<Self>,
    ) {
        match msg {
            Put(req_id, val) if state.phase.is_none() => {
                o.broadcast(&self.peers, &Internal(Query(req_id)));
                state.to_mut().phase = Some(AbdPhase::Phase1 {
                    request_id: req_id,
                    requester_id: src,
                    write: Some(val),
                    responses: {
                        let mut responses = HashableHashMap::default();
                        responses.insert(id, (state.seq, state.val));
                        responses
                    },
                });
            }
            Get(req_id) if state.phase.is_none() => {
                o.broadcast(&self.peers, &Internal(Query(req_id)));
                state.to_mut().phase = Some(AbdPhase::Phase1 {
                    request_id: req_id,
                    requester_id: src,
                    write: None,
                    responses: {
                        let mut responses = HashableHashMap::default();
                        responses.insert(id, (state.seq, state.val));
                        responses
                    },
                });
            }
            Internal(Query(req_id)) => {
                o.send(src, Internal(AckQuery(req_id, state.seq, state.val)));
            }
            Internal(AckQuery(expected_req_id, seq, val))
                if matches!(state.phase,
                            Some(AbdPhase::Phase1 { request_id, .. })
                            if request_id == expected_req_id) =>
            {
                let state = state.to_mut();
                if let Some(AbdPhase::Phase1 {
                    request_id: req_id,
                    requester_id: requester,
                    write,
                    responses,
                    ..
                }) = &mut state.phase
                {
                    responses.insert(src, (seq, val));
                    if responses.len() == majority(self.peers.len() + 1) {
                        // Quorum reached. Move to phase 2.

                        // Determine sequencer and value.
                        let (seq, val) = responses
                            .values()
                            // The following relies on the fact that sequencers are distinct.
                            // Otherwise the chosen response can vary even when given the same
                            // inputs due to the underlying `HashMap`'s random seed.
                            .max_by_key(|(seq, _)| seq)
                            .unwrap();
                        if write.is_none() && !self.write_back {
                            o.send(*requester, GetOk(*req_id, *val));
                            state.phase = None;
                            return;
                        }
                        let mut seq = *seq;
                        let mut read = None;
                        let val = if let Some(val) = std::mem::take(write) {
                            seq = (seq.0 + 1, id);
                            val
                        } else {
                            read = Some(*val);
                            *val
                        };

                        // A future optimization could skip the recording phase if the replicas
                        // agree.
                        o.broadcast(&self.peers, &Internal(Record(*req_id, seq, val)));

                        // Self-send `Record`.
                        if seq > state.seq {
                            state.seq = seq;
                            state.val = val;
                        }

                        // Self-send `AckRecord`.
                        let mut acks = HashableHashSet::default();
                        acks.insert(id);

                        state.phase = Some(AbdPhase::Phase2 {
                            request_id: *req_id,
                            requester_id: std::mem::take(requester),
                            read,
                            acks,
                        });
                    }
                }
            }
            Internal(Record(req_id, seq, val)) => {
                o.send(src, Internal(AckRecord(req_id)));
                if seq > state.seq {
                    let state = state.to_mut();
                    state.seq = seq;
                    state.val = val;
                }
            }
            Internal(AckRecord(expected_req_id))
                if matches!(state.phase,
                            Some(AbdPhase::Phase2 { request_id, ref acks, .. })
                            if request_id == expected_req_id && !acks.contains(&src)) =>
            {
                let state = state.to_mut();
                if let Some(AbdPhase::Phase2 {
                    request_id: req_id,
                    requester_id: requester,
                    read,
                    acks,
                    ..
                }) = &mut state.phase
                {
                    acks.insert(src);
                    if acks.len() == majority(self.peers.len() + 1) {
                        let msg = if let Some(val) = read {
                            GetOk(*req_id, std::mem::take(val))
                        } else {
                            PutOk(*req_id)
                        };
                        o.send(*requester, msg);
                        state.phase = None;
                    }
                }
            }
            _ => {}
        }
    }
}

#[derive(Clone)]
struct AbdModelCfg {
    client_count: usize,
    server_count: usize,
    write_back: bool,
    network: Network<<AbdActor as Actor>::Msg>,
}

impl AbdModelCfg {
    fn into_model(
        self,
    ) -> ActorModel<RegisterActor<AbdActor>, Self, LinearizabilityTester<Id, Register<Value>>> {
        ActorModel::new(
            self.clone(),
            LinearizabilityTester::new(Register(Value::default())),
        )
        .actors((0..self.server_count).map(|i| {
            RegisterActor::Server(AbdActor {
                peers: model_peers(i, self.server_count),
                write_back: self.write_back,
            })
        }))
        .actors((0..self.client_count).map(|_| RegisterActor::Client {
            put_count: 1,
            server_count: self.server_count,
        }))
        .init_network(self.network)
        .property(Expectation::Always, "linearizable", |_, state| {
            state.history.serialized_history().is_some()
        })
        .record_msg_in(RegisterMsg::record_returns)
        .record_msg_out(RegisterMsg::record_invocations)
    }
}


/// A node of the same scope as distlab's `explore_bench`: a server (stateright's ABD), or a
/// client that makes one call, a put of `put` or a get, at one server and then stops.
/// stateright's own `RegisterActor::Client` always puts then gets, so it cannot make the
/// scope "write at Node-0, read at Node-1, read at Node-2" that distlab searches.
#[derive(Clone)]
enum OneCall {
    Server(AbdActor),
    Client { server: Id, put: Option<Value> },
}

#[derive(Clone, Debug, Eq, Hash, PartialEq)]
enum OneCallState {
    Server(AbdState),
    Client { done: bool },
}

impl Actor for OneCall {
    type Msg = RegisterMsg<RequestId, Value, AbdMsg>;
    type State = OneCallState;
    type Timer = ();
    type Random = ();
    type Storage = ();

    fn on_start(&self, id: Id, storage: &Option<()>, o: &mut Out<Self>) -> Self::State {
        match self {
            OneCall::Server(s) => {
                let mut inner = Out::new();
                let state = OneCallState::Server(s.on_start(id, storage, &mut inner));
                o.append(&mut inner);
                state
            }
            OneCall::Client { .. } => {
                // The call is made when this timer fires, which the search may make happen
                // at any point: as in distlab, where "a client calls" is a step of its own,
                // so a read can start after another returned (sent at start, all three calls
                // would overlap, and no inversion could be seen).
                o.set_timer((), std::time::Duration::ZERO..std::time::Duration::from_secs(1));
                OneCallState::Client { done: false }
            }
        }
    }

    fn on_timeout(&self, id: Id, _: &mut Cow<Self::State>, _: &(), o: &mut Out<Self>) {
        if let OneCall::Client { server, put } = self {
            let request = usize::from(id) as u64;
            o.send(*server, put.map_or(Get(request), |v| Put(request, v)));
        }
    }

    fn on_msg(&self, id: Id, state: &mut Cow<Self::State>, src: Id, msg: Self::Msg, o: &mut Out<Self>) {
        match (self, &**state) {
            (OneCall::Server(s), OneCallState::Server(inner)) => {
                let mut inner = Cow::Borrowed(inner);
                let mut out = Out::new();
                s.on_msg(id, &mut inner, src, msg, &mut out);
                if let Cow::Owned(next) = inner {
                    *state = Cow::Owned(OneCallState::Server(next));
                }
                o.append(&mut out);
            }
            (OneCall::Client { .. }, OneCallState::Client { done: false }) => {
                if matches!(msg, PutOk(_) | GetOk(..)) {
                    *state = Cow::Owned(OneCallState::Client { done: true });
                }
            }
            _ => {}
        }
    }
}

/// distlab's scope in stateright: 3 servers; one client writes at server 0, two read at
/// servers 1 and 2; no loss, no duplication. Returns (verdict, states, seconds).
fn same_scope(write_back: bool) {
    let t = Instant::now();
    let servers = 3;
    let checker = ActorModel::new((), LinearizabilityTester::new(Register(Value::default())))
        .actors((0..servers).map(|i| {
            OneCall::Server(AbdActor { peers: model_peers(i, servers), write_back })
        }))
        .actor(OneCall::Client { server: Id::from(0), put: Some('A') })
        .actor(OneCall::Client { server: Id::from(1), put: None })
        .actor(OneCall::Client { server: Id::from(2), put: None })
        .init_network(Network::new_unordered_nonduplicating([]))
        .property(Expectation::Always, "linearizable", |_, state| {
            state.history.serialized_history().is_some()
        })
        .record_msg_in(RegisterMsg::record_returns)
        .record_msg_out(RegisterMsg::record_invocations)
        .checker()
        .target_state_count(5_000_000)
        .spawn_bfs()
        .join();
    let what = if write_back { "ABD, W@0 R@1 R@2 (distlab's scope)" } else { "no write-back, W@0 R@1 R@2 (distlab's scope)" };
    report(what, 1, t, &checker);
}

/// One line of the table: the verdict of `linearizable`, unique states, time since `started`.
fn report<M: Model>(what: &str, threads: usize, started: Instant, checker: &impl Checker<M>)
where
    M::Action: Clone + Debug + PartialEq,
    M::State: Clone + Debug + Hash + PartialEq,
{
    let s = started.elapsed().as_secs_f64();
    let states = checker.unique_state_count();
    let found = checker
        .discovery("linearizable")
        .map(|p| format!("counterexample in {} steps", p.into_actions().len()))
        .unwrap_or_else(|| "no counterexample".into());
    println!(
        "{what:<46} {found:<28} {states:>9} states  {s:>8.3} s  {:>9.0} states/s  ({threads} thread(s))",
        states as f64 / s
    );
}

fn run(what: &str, clients: usize, servers: usize, write_back: bool, threads: usize) {
    let t = Instant::now();
    let checker = AbdModelCfg {
        client_count: clients,
        server_count: servers,
        write_back,
        network: Network::new_unordered_nonduplicating([]),
    }
    .into_model()
    .checker()
    .threads(threads)
    .target_state_count(5_000_000)
    .spawn_bfs()
    .join();
    report(what, threads, t, &checker);
}

fn main() {
    same_scope(false);
    same_scope(true);
    for threads in [1] {
        run("ABD, 2 clients, 2 servers (whole space)", 2, 2, true, threads);
        run("no write-back, 2 clients, 3 servers", 2, 3, false, threads);
        run("ABD, 2 clients, 3 servers (5M states)", 2, 3, true, threads);
        run("no write-back, 3 clients, 3 servers", 3, 3, false, threads);
    }
}
