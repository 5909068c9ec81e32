//! Benchmark of the checker: 200 seeds of 100 calls on 5 nodes, for each reference solution.
//!
//! ```text
//! cargo run --release --example check_bench
//! ```
//! Prints one JSON line per exercise: name, seeds, passed, messages per call, wall seconds.

use std::time::Instant;

use distlab::check::{exercises, exercises::solutions, Bounds, CheckReport};
use distlab::Error;

fn line(report: &CheckReport, wall: f64) -> String {
    serde_json::json!({
        "check": report.name,
        "seeds": report.runs,
        "passed": report.passed,
        "messages_per_call": (report.messages_per_call * 10.0).round() / 10.0,
        "wall_s": (wall * 1000.0).round() / 1000.0,
    })
    .to_string()
}

fn main() -> Result<(), Error> {
    let started = Instant::now();
    let a = exercises::reliable_delivery(solutions::Reliable).check()?;
    println!("{}", line(&a, started.elapsed().as_secs_f64()));
    let started = Instant::now();
    let b = exercises::broadcast(solutions::Gossip).check()?;
    println!("{}", line(&b, started.elapsed().as_secs_f64()));
    let started = Instant::now();
    let c = exercises::majority_register(solutions::Majority).check()?;
    println!("{}", line(&c, started.elapsed().as_secs_f64()));
    // The issue's figure: 200 seeds of 100 operations of a 5-node protocol, with faults.
    let started = Instant::now();
    let d = exercises::broadcast(solutions::Gossip)
        .faults(Bounds { crashes: 2, partitions: 2, slow: 0 })
        .named("5 nodes, 2 crashes, 2 partitions")
        .check()?;
    println!("{}", line(&d, started.elapsed().as_secs_f64()));
    Ok(())
}
