//! Notebook 07's ladder, measured: for each step, where it starts (the skeleton's behaviour)
//! and its reference solution under the step's checker (200 seeds), with the time each check
//! takes in a release build; then the classic mistake of step 5 under the random seeds and
//! under the exhaustive search of the notebook's scope.
//!
//! `cargo run --release --example ladder`

use std::time::Instant;

use distlab::check::exercises::{self, STEPS};

fn main() -> Result<(), distlab::Error> {
    println!(
        "{:<22} {:>14} {:>9} {:>13} {:>9}  first broken promise at the start",
        "step", "start passed", "time", "ref. passed", "time"
    );
    for step in 1..=5u32 {
        let t = Instant::now();
        let start = exercises::check_start(step, 200)?;
        let t_start = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let reference = exercises::check_reference(step, 200)?;
        let t_ref = t.elapsed().as_secs_f64();
        let broke = start.first_failure.as_ref().map_or("-".to_string(), |f| f.property.clone());
        println!(
            "{:<22} {:>10} of 200 {:>7.2} s {:>9} of 200 {:>7.2} s  {broke} (answered {:.3})",
            format!("{step} {}", STEPS[step as usize - 1]),
            start.passed,
            t_start,
            reference.passed,
            t_ref,
            start.answered_share
        );
    }
    let t = Instant::now();
    let random = exercises::check_mistake(200)?;
    println!(
        "no write-back, random seeds: caught on {} of 200 in {:.2} s",
        random.runs - random.passed,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let search = exercises::explore_mistake()?;
    let steps = search.verdict.failure().map_or(0, |c| c.steps.len());
    println!(
        "no write-back, search: {} states, counterexample of {steps} steps, in {:.3} s",
        search.states,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
