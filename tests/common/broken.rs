//! Broken protocols the checker must catch, shared by tests/checker.rs (random seeds),
//! tests/explore.rs (the exhaustive search) and examples/explore_bench.rs: each differs from a
//! reference solution of notebook 07 in one classic mistake.
#![allow(dead_code)]

use distlab::check::exercises::solutions;
use distlab::check::ClientOp;
use distlab::node::NodeId;
use distlab::protocol::{Context, Out, Protocol};

/// (a) without retries: sends once and answers when the ack comes back.
#[derive(Debug, Clone, Copy)]
pub struct NoRetry;

impl Protocol for NoRetry {
    type State = Vec<u64>;
    type Msg = (bool, u64);
    type Request = ClientOp;
    type Output = u64;
    fn on_request(&self, _: &Context, _: &mut Vec<u64>, r: &ClientOp, out: &mut Out<(bool, u64)>) {
        if let ClientOp::Send { to, value } = *r {
            out.send(to, (false, value));
        }
    }
    fn on_message(
        &self,
        _: &Context,
        s: &mut Vec<u64>,
        _: NodeId,
        m: &(bool, u64),
        out: &mut Out<(bool, u64)>,
    ) {
        match *m {
            (false, v) => {
                s.push(v);
                out.reply((true, v));
            }
            (true, _) => out.finish(),
        }
    }
    fn describe(&self, m: &(bool, u64)) -> String {
        format!("{m:?}")
    }
    fn held(&self, s: &Vec<u64>) -> Vec<u64> {
        s.clone()
    }
}

/// (a) with retries, but the receiver counts every copy, duplicates included.
#[derive(Debug, Clone, Copy)]
pub struct CountsDuplicates;

impl Protocol for CountsDuplicates {
    type State = solutions::ReliableState;
    type Msg = solutions::Data;
    type Request = ClientOp;
    type Output = u64;
    fn on_request(&self, c: &Context, s: &mut Self::State, r: &ClientOp, out: &mut Out<Self::Msg>) {
        solutions::Reliable.on_request(c, s, r, out)
    }
    fn on_message(
        &self,
        c: &Context,
        s: &mut Self::State,
        from: NodeId,
        m: &Self::Msg,
        out: &mut Out<Self::Msg>,
    ) {
        if let solutions::Data::Value(v) = *m {
            s.received.push(v); // applied again on every retry
            return out.reply(solutions::Data::Ack(v));
        }
        solutions::Reliable.on_message(c, s, from, m, out)
    }
    fn on_timer(&self, c: &Context, s: &mut Self::State, t: u64, out: &mut Out<Self::Msg>) {
        solutions::Reliable.on_timer(c, s, t, out)
    }
    fn describe(&self, m: &Self::Msg) -> String {
        format!("{m:?}")
    }
    fn held(&self, s: &Self::State) -> Vec<u64> {
        s.received.clone()
    }
}

/// The handlers a broken register shares with the reference solution of (c).
macro_rules! like_majority {
    () => {
        fn on_timer(&self, c: &Context, s: &mut Self::State, t: u64, out: &mut Out<Self::Msg>) {
            solutions::Majority.on_timer(c, s, t, out)
        }
        fn describe(&self, m: &Self::Msg) -> String {
            format!("{m:?}")
        }
        fn held(&self, s: &Self::State) -> Vec<u64> {
            solutions::Majority.held(s)
        }
    };
}

/// (c) answers a write as soon as it is stored locally, before a majority has it.
#[derive(Debug, Clone, Copy)]
pub struct AckBeforeStore;

impl Protocol for AckBeforeStore {
    type State = solutions::RegisterState;
    type Msg = solutions::RegisterMsg;
    type Request = ClientOp;
    type Output = u64;
    fn on_request(&self, c: &Context, s: &mut Self::State, r: &ClientOp, out: &mut Out<Self::Msg>) {
        solutions::Majority.on_request(c, s, r, out);
        if let ClientOp::Write { value } = *r {
            s.pending.remove(&(s.next - 1));
            s.value = Some(value);
            s.stamp.0 += 1;
            out.finish();
        }
    }
    fn on_message(
        &self,
        c: &Context,
        s: &mut Self::State,
        f: NodeId,
        m: &Self::Msg,
        out: &mut Out<Self::Msg>,
    ) {
        solutions::Majority.on_message(c, s, f, m, out)
    }
    like_majority!();
}

/// (c) writes correctly, but reads only the local replica.
#[derive(Debug, Clone, Copy)]
pub struct OneReplicaReads;

impl Protocol for OneReplicaReads {
    type State = solutions::RegisterState;
    type Msg = solutions::RegisterMsg;
    type Request = ClientOp;
    type Output = u64;
    fn on_request(&self, c: &Context, s: &mut Self::State, r: &ClientOp, out: &mut Out<Self::Msg>) {
        match r {
            ClientOp::Read => out.respond(s.value),
            _ => solutions::Majority.on_request(c, s, r, out),
        }
    }
    fn on_message(
        &self,
        c: &Context,
        s: &mut Self::State,
        f: NodeId,
        m: &Self::Msg,
        out: &mut Out<Self::Msg>,
    ) {
        solutions::Majority.on_message(c, s, f, m, out)
    }
    like_majority!();
}

/// (c) the classic ABD mistake, now in the library (notebook 07 shows it): a read answers
/// with the newest value a majority holds, without writing it back first.
#[allow(unused_imports)] // tests/checker.rs does not use it
pub use distlab::check::exercises::mistakes::NoWriteBack;
