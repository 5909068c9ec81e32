//! How fast the exhaustive search is: states per second, and the time to a first
//! counterexample, on the majority register of exercise (c).
//!
//! `cargo run --release --example explore_bench` (measure with nothing else running). Also
//! run, small, by `cargo test --all-targets`.

use std::time::Instant;

use distlab::check::exercises::{self, solutions};
use distlab::check::explore::{ExploreReport, Scope, Verdict};
use distlab::check::ClientOp;
use distlab::node::NodeId;
use distlab::protocol::{Context, Out, Protocol};

/// The majority register whose reads answer without writing back (the ABD mistake).
#[derive(Debug, Clone, Copy)]
struct NoWriteBack;

impl Protocol for NoWriteBack {
    type State = solutions::RegisterState;
    type Msg = solutions::RegisterMsg;
    type Request = ClientOp;
    type Output = u64;
    fn on_request(&self, c: &Context, s: &mut Self::State, r: &ClientOp, out: &mut Out<Self::Msg>) {
        solutions::Majority.on_request(c, s, r, out)
    }
    fn on_message(
        &self,
        c: &Context,
        s: &mut Self::State,
        from: NodeId,
        m: &Self::Msg,
        out: &mut Out<Self::Msg>,
    ) {
        if let solutions::RegisterMsg::Held { id, stamp, value } = *m {
            if let Some(p) = s.pending.get_mut(&id).filter(|p| !p.storing && p.write.is_none()) {
                p.answered.insert(from);
                p.best = p.best.max((stamp, value));
                if p.answered.len() > c.nodes / 2 {
                    let answer = p.best.1;
                    s.pending.remove(&id);
                    out.respond(answer);
                }
                return;
            }
        }
        solutions::Majority.on_message(c, s, from, m, out)
    }
    fn on_timer(&self, c: &Context, s: &mut Self::State, t: u64, out: &mut Out<Self::Msg>) {
        solutions::Majority.on_timer(c, s, t, out)
    }
    fn describe(&self, m: &Self::Msg) -> String {
        format!("{m:?}")
    }
    fn held(&self, s: &Self::State) -> Vec<u64> {
        solutions::Majority.held(s)
    }
}

fn line(what: &str, r: &ExploreReport) {
    let verdict = match &r.verdict {
        Verdict::Passed => "passed".to_string(),
        Verdict::Unknown { bound } => format!("unknown ({bound})"),
        Verdict::Failed(c) => format!("failed after {} steps", c.steps.len()),
    };
    println!(
        "{what:<44} {verdict:<36} {:>9} states {:>10} transitions  depth {:>2}  {:>8.3} s  {:>9.0} states/s",
        r.states,
        r.transitions,
        r.max_depth,
        r.elapsed.as_secs_f64(),
        r.states_per_second()
    );
}

fn main() -> Result<(), distlab::Error> {
    let quick = std::env::args().any(|a| a == "--quick") || cfg!(debug_assertions);
    let max = if quick { 20_000 } else { 5_000_000 };
    let scope = |calls: &[(u32, ClientOp)], timers: u32| {
        calls
            .iter()
            .fold(Scope::builder().nodes(3), |b, &(n, op)| b.call(n, op))
            .timer_fires(timers)
            .max_states(max)
            .time_limit_s(600.0)
            .build()
    };
    let wrr = [(0, ClientOp::Write { value: 1 }), (1, ClientOp::Read), (2, ClientOp::Read)];
    let wr = [(0, ClientOp::Write { value: 1 }), (1, ClientOp::Read)];

    let t = Instant::now();
    let r = exercises::majority_register(NoWriteBack).explore(&scope(&wrr, 0)?)?;
    line("no write-back: W@0 R@1 R@2, first counterexample", &r);
    println!("  (time to the first counterexample, report included: {:.3} s)", t.elapsed().as_secs_f64());
    line(
        "majority: W@0 R@1, no timer firings",
        &exercises::majority_register(solutions::Majority).explore(&scope(&wr, 0)?)?,
    );
    line(
        "majority: W@0 R@1 R@2, no timer firings",
        &exercises::majority_register(solutions::Majority).explore(&scope(&wrr, 0)?)?,
    );
    Ok(())
}
