//! Benchmark of the real network mode: one-way messages between 10 nodes on loopback.
//!
//! ```text
//! cargo run --release --example udp_bench -- [--nodes 10] [--messages 200000]
//! ```
//! Prints one JSON line: nodes, messages, delivered, msgs_per_s, and latency percentiles.

use std::time::Instant;

use distlab::prelude::*;
use distlab::udp::RealCluster;

fn arg(name: &str, default: u64) -> Result<u64, String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("invalid {name} (allowed: a whole number)")),
    }
}

fn main() -> std::process::ExitCode {
    let (nodes, messages) = match (arg("--nodes", 10), arg("--messages", 200_000)) {
        (Ok(n), Ok(m)) if (2..=256).contains(&n) => (n as usize, m),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("udp_bench: {e}");
            return std::process::ExitCode::from(2);
        }
        _ => {
            eprintln!("udp_bench: invalid --nodes (allowed: 2 to 256)");
            return std::process::ExitCode::from(2);
        }
    };
    let run = || -> Result<String, Error> {
        let config = Config::builder().nodes(nodes).loss(0.0).trace(false).build()?;
        let mut c = RealCluster::start(config)?;
        let started = Instant::now();
        for i in 0..messages {
            let from = (i % nodes as u64) as usize;
            let to = (from + 1 + (i / nodes as u64 % (nodes as u64 - 1)) as usize) % nodes;
            c.post(from, to, "bench")?;
            // Keep the kernel's socket buffers from overflowing: wait a little every 2,000.
            if i % 2000 == 1999 {
                c.wait_until_quiet(50);
            }
        }
        let left = c.wait_until_quiet(5000);
        let wall = started.elapsed().as_secs_f64();
        let s = c.stats();
        c.shutdown();
        Ok(serde_json::json!({
            "nodes": nodes,
            "messages": messages,
            "delivered": s.total.delivered,
            "unsettled": left,
            "wall_s": (wall * 1e4).round() / 1e4,
            "msgs_per_s": (s.total.delivered as f64 / wall).round(),
            "latency_ms": { "min": s.latency.min_ms, "median": s.latency.median_ms, "p99": s.latency.p99_ms, "max": s.latency.max_ms },
        })
        .to_string())
    };
    match run() {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("udp_bench: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
