//! How fast the exhaustive search is: states per second, and the time to a first
//! counterexample, on the majority register of step 5.
//!
//! `cargo run --release --example explore_bench` (measure with nothing else running). Also
//! run, small, by `cargo test --all-targets`.

use std::time::Instant;

use distlab::check::exercises::{self, solutions};
use distlab::check::explore::{ExploreReport, Scope, Verdict};
use distlab::check::ClientOp;

// The register without write-back is the tests' own (tests/common/broken.rs).
#[path = "../tests/common/broken.rs"]
mod broken;
use broken::NoWriteBack;

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
