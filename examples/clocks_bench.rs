//! Benchmark for issue 12: logical clocks, what-if forks and run files.
//!
//! ```text
//! cargo run --release --example clocks_bench
//! ```
//! Prints one JSON line per measurement (median of several runs, in ms):
//! - `clocks`: Lamport and vector clocks for a run of 10,000 events on 10 nodes;
//! - `fork`: a what-if fork and run (two replays and the comparison) of notebook 03's five
//!   tests and of notebook 04's crash in the middle of a write;
//! - `run_file`: saving and loading (replay and byte check) the notebook 03 run.

use std::time::Instant;

use distlab::causality::Clocks;
use distlab::prelude::*;
use distlab::whatif::{Change, Fork};

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

/// Notebook 03's five tests, as the notebook runs them.
fn lesson_run() -> Result<Cluster> {
    let config = Config::builder().nodes(3).loss(0.05).seed(2026).build()?;
    let mut c = Cluster::new(config);
    c.send(0, 1, "Hello from Node-0!")?;
    c.send(1, 2, "Forwarding message")?;
    c.broadcast(0, "System update available")?;
    c.replicate("config_version", "1.2.3")?;
    c.replicate("max_connections", "100")?;
    c.crash(1)?;
    c.broadcast(0, "Emergency broadcast")?;
    c.replicate("max_connections", "200")?;
    c.recover(1)?;
    c.replicate("config_version", "1.2.4")?;
    c.sync(1)?;
    Ok(c)
}

/// Notebook 04's crash in the middle of a write.
fn crash_mid_write() -> Result<Cluster> {
    let mut c = Cluster::new(Config::builder().nodes(5).loss(0.0).seed(2026).build()?);
    c.replicate("config_version", "1.2.3")?;
    c.crash_at(2, c.now().as_ms() + 1.0)?;
    c.replicate("config_version", "1.2.4")?;
    c.recover(2)?;
    Ok(c)
}

fn main() -> Result<()> {
    // A run of exactly 10,000 events on 10 nodes: one-way messages, some lost.
    let mut storm = Cluster::new(Config::builder().nodes(10).loss(0.05).seed(1).build()?);
    let mut k = 0u32;
    while storm.trace().len() < 10_000 {
        storm.post(k % 10, (k * 7 + 3) % 10, "m")?;
        k += 1;
        if k % 8 == 0 {
            storm.run_until(storm.now().as_ms() + 3.0)?;
        }
    }
    storm.run();
    let events = storm.trace().len();
    let clocks = median_ms(21, || {
        Clocks::of(&storm).expect("clocks");
    });
    println!("{{\"measure\":\"clocks\",\"events\":{events},\"nodes\":10,\"median_ms\":{clocks:.3}}}");

    let lesson = lesson_run()?;
    let crash = crash_mid_write()?;
    let fork_lesson = median_ms(21, || {
        lesson.what_if(Fork::at_ms(100.0).unwrap(), Change::crash(2)).expect("fork").differences();
    });
    let fork_crash = median_ms(21, || {
        crash
            .what_if(Fork::at_ms(0.0).unwrap(), Change::Latency(Latency::constant(0.5)))
            .expect("fork")
            .differences();
    });
    println!(
        "{{\"measure\":\"fork\",\"notebook_03_ms\":{fork_lesson:.3},\"notebook_04_ms\":{fork_crash:.3},\"events_03\":{}}}",
        lesson.trace().len()
    );
    let file = lesson.run_file()?;
    let load = median_ms(21, || {
        Cluster::from_run_file(&file, "lesson.jsonl").expect("load");
    });
    println!("{{\"measure\":\"run_file\",\"bytes\":{},\"load_ms\":{load:.3}}}", file.len());
    Ok(())
}
