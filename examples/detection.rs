//! How often the random checker catches each broken protocol: seeds failed of 200 (the
//! exercise's default checker, first seed 1), the first failing seed, the property that broke
//! and the wall time of the check (the first failure's shrinking and replay included).
//!
//! ```text
//! cargo run --release --example detection
//! ```
//! The reference solutions must pass 200 of 200; the others must fail on some seeds.

use std::time::Instant;

use distlab::check::exercises::{self, solutions};
use distlab::check::{CheckReport, Checker, ClientOp};
use distlab::protocol::Protocol;

// The broken protocols are the tests' own (tests/common/broken.rs).
#[path = "../tests/common/broken.rs"]
mod broken;
use broken::{AckBeforeStore, CountsDuplicates, NoRetry, NoWriteBack, OneReplicaReads};

const SEEDS: u64 = 200;

fn row<P: Protocol<Request = ClientOp, Output = u64>>(protocol: &str, checker: Checker<P>) {
    let started = Instant::now();
    let r: CheckReport = checker.seeds(SEEDS).first_seed(1).check().expect("a valid checker");
    let wall = started.elapsed().as_secs_f64();
    let (seed, property) = match &r.first_failure {
        Some(f) => (f.seed.to_string(), f.property.clone()),
        None => ("-".into(), "-".into()),
    };
    println!(
        "| {protocol:<18} | {:<24} | {:>3} of {SEEDS} | {seed:>5} | {property:<37} | {wall:>6.3} s |",
        r.name,
        r.runs - r.passed
    );
}

fn main() {
    println!(
        "| {:<18} | {:<24} | {:>10} | {:>5} | {:<37} | {:>8} |",
        "protocol", "exercise", "failed", "first", "property", "time"
    );
    println!("|{:-<20}|{:-<26}|{:-<12}|{:-<7}|{:-<39}|{:-<10}|", "", "", "", "", "", "");
    row("Reliable (ref.)", exercises::reliable_delivery(solutions::Reliable));
    row("NoRetry", exercises::reliable_delivery(NoRetry));
    row("CountsDuplicates", exercises::reliable_delivery(CountsDuplicates));
    row("LessonNode", exercises::reliable_delivery(solutions::LessonNode));
    row("Gossip (ref.)", exercises::broadcast(solutions::Gossip));
    row("LessonNode", exercises::broadcast(solutions::LessonNode));
    row("Majority (ref.)", exercises::majority_register(solutions::Majority));
    row("AckBeforeStore", exercises::majority_register(AckBeforeStore));
    row("OneReplicaReads", exercises::majority_register(OneReplicaReads));
    row("NoWriteBack", exercises::majority_register(NoWriteBack));
    row("LessonNode", exercises::majority_register(solutions::LessonNode));
}
