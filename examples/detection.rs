//! How often the random checker catches each broken protocol: seeds failed of 200 (the
//! exercise's default checker, first seed 1), the first failing seed, the property that broke
//! and the wall time of the check (the first failure's shrinking and replay included).
//!
//! ```text
//! cargo run --release --example detection
//! ```
//! The reference solutions must pass 200 of 200; the others must fail on some seeds.
//!
//! `-- --variants` also tries other shapes of step 5's workload and faults on the
//! register without write-back (and checks the reference still passes each): the figures
//! behind the choice of bursts of up to 3 and one slow period.

use std::time::Instant;

use distlab::check::exercises::{self, solutions};
use distlab::check::{Bounds, CheckReport, Checker, ClientOp, Workload};
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

fn shaped<P: Protocol<Request = ClientOp, Output = u64>>(
    checker: Checker<P>,
    (reads, size, bounds): (f64, usize, Bounds),
) -> Checker<P> {
    checker.workload(Workload::RegisterBursts { reads, size }).faults(bounds).seeds(SEEDS)
}

/// Step 5's checker on the register without write-back, with other reads shares, burst sizes,
/// crash, partition and slow-period bounds.
fn variants() {
    println!(
        "\n| reads | burst | crashes | partitions | slow periods | no write-back caught | reference passed |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (reads, size, crashes, partitions, slow) in [
        (0.5, 3, 2, 1, 1),
        (0.8, 3, 2, 1, 1),
        (0.5, 3, 2, 1, 3),
        (0.8, 3, 2, 1, 3),
        (0.8, 5, 2, 1, 3),
        (0.8, 1, 2, 1, 3),
        (0.8, 2, 2, 1, 5),
        (0.7, 3, 0, 0, 5),
    ] {
        let shape = (reads, size, Bounds { crashes, partitions, slow });
        let bad = shaped(exercises::majority_register(NoWriteBack), shape).check().expect("a valid checker");
        let good = shaped(exercises::majority_register(solutions::Majority), shape)
            .check()
            .expect("a valid checker");
        println!(
            "| {reads} | {size} | {crashes} | {partitions} | {slow} | {} of {SEEDS} | {} of {SEEDS} |",
            bad.runs - bad.passed,
            good.passed
        );
    }
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
    if std::env::args().any(|a| a == "--variants") {
        variants();
    }
}
