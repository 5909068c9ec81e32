//! Benchmark "random-send storm": M one-way messages between random nodes, sent at uniformly
//! spread virtual times over 1000 ms, latency uniform 10 to 50 ms.
//!
//! ```text
//! cargo run --release --example storm -- --nodes 1000 --messages 1000000 --loss 0.05 --seed 1 [--trace]
//! ```
//! Prints exactly one JSON line: nodes, messages, delivered, dropped, duplicated,
//! peak_in_flight, wall_s, msgs_per_s, peak_rss_mb, input_bytes (the storm's own send times,
//! part of the peak RSS). The same seed gives the same counts.

use std::process::ExitCode;
use std::time::Instant;

use distlab::experiment::Storm;
use distlab::prelude::*;

struct Args {
    nodes: usize,
    messages: u64,
    loss: f64,
    seed: u64,
    trace: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args { nodes: 1000, messages: 1_000_000, loss: 0.05, seed: 1, trace: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--trace" {
            a.trace = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |what: &str| format!("invalid {flag}: {value:?} (allowed: {what})");
        match flag.as_str() {
            "--nodes" => a.nodes = value.parse().map_err(|_| bad("a whole number from 2 to 1000000"))?,
            "--messages" => a.messages = value.parse().map_err(|_| bad("a whole number >= 0"))?,
            "--loss" => a.loss = value.parse().map_err(|_| bad("a probability in [0, 1]"))?,
            "--seed" => a.seed = value.parse().map_err(|_| bad("a whole number, 0 to 2^64-1"))?,
            _ => {
                return Err(format!(
                    "unknown option {flag} (options: --nodes --messages --loss --seed --trace)"
                ))
            }
        }
    }
    if a.nodes < 2 {
        return Err(format!(
            "invalid --nodes: {} (allowed: 2 to 1000000; a storm needs a sender and a target)",
            a.nodes
        ));
    }
    Ok(a)
}

/// Peak resident memory of this process in MiB, from /proc (0 where there is none).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn storm(a: &Args) -> Result<String, Error> {
    let config = Config::builder()
        .nodes(a.nodes)
        .loss(a.loss)
        .latency(Latency::uniform(10.0, 50.0))
        .seed(a.seed)
        .trace(a.trace)
        .build()?;
    let mut cluster = Cluster::new(config);
    let workload = Storm::new(a.messages, a.seed);
    let input_bytes = workload.input_bytes();
    let started = Instant::now();
    workload.run(&mut cluster)?;
    let wall = started.elapsed().as_secs_f64();
    let s = cluster.stats();
    let line = serde_json::json!({
        "nodes": a.nodes,
        "messages": a.messages,
        "delivered": s.total.delivered,
        "dropped": s.total.dropped(),
        "duplicated": s.total.duplicated,
        "peak_in_flight": s.peak_in_flight,
        "wall_s": (wall * 1e4).round() / 1e4,
        "msgs_per_s": (a.messages as f64 / wall).round(),
        "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
        "input_bytes": input_bytes,
    });
    Ok(line.to_string())
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("storm: {e}");
            return ExitCode::from(2);
        }
    };
    match storm(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("storm: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_counts_and_every_message_settles() {
        let a = Args { nodes: 50, messages: 20_000, loss: 0.05, seed: 9, trace: false };
        let one: serde_json::Value = serde_json::from_str(&storm(&a).unwrap()).unwrap();
        let two: serde_json::Value = serde_json::from_str(&storm(&a).unwrap()).unwrap();
        for key in ["delivered", "dropped", "duplicated", "peak_in_flight"] {
            assert_eq!(one[key], two[key], "{key}");
        }
        let settled = one["delivered"].as_u64().unwrap() + one["dropped"].as_u64().unwrap();
        assert_eq!(settled, 20_000);
        let dropped = one["dropped"].as_f64().unwrap();
        assert!((dropped - 1000.0).abs() < 4.0 * (20_000.0f64 * 0.05 * 0.95).sqrt(), "{dropped}");
    }
}
