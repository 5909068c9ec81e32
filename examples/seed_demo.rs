//! The lesson's five tests (message passing, broadcast, replication, failure handling,
//! recovery), run with distlab, narrated in the lesson's style.
//!
//! ```text
//! cargo run --example seed_demo [-- SEED]
//! ```
//! Where distlab differs from the lesson's Python simulation, the output says so: the sender
//! of a message to a crashed node sees only a timeout, and a replica that was down during a
//! write is stale after it recovers, until anti-entropy (`sync`) repairs it.

use std::fmt::Write;

use distlab::prelude::*;

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n--- {title} ---");
}

fn demo(seed: u64) -> Result<String, Error> {
    let mut out = String::new();
    let mut system = Cluster::new(Config::builder().nodes(3).seed(seed).build()?);
    let _ = writeln!(out, "Distributed system initialised: {}", system.config());

    section(&mut out, "Test 1: message passing");
    out += &system.send(0, 1, "Hello from Node-0!")?.to_string();
    out += &system.send(1, 2, "Forwarding message")?.to_string();

    section(&mut out, "Test 2: broadcasting");
    out += &system.broadcast(0, "System update available")?.to_string();

    section(&mut out, "Test 3: data replication");
    out += &system.replicate("config_version", "1.2.3")?.to_string();
    out += &system.replicate("max_connections", "100")?.to_string();
    out += &system.check_consistency("config_version").to_string();

    section(&mut out, "Test 4: failure handling");
    out += &system.crash(1)?.to_string();
    out += &system.status().to_string();
    let emergency = system.broadcast(0, "Emergency broadcast")?;
    out += &emergency.to_string();
    out += "Node-0 only knows that Node-1 did not answer; the trace knows it was down.\n";
    section(&mut out, "While Node-1 is down (the Python version never tries this)");
    out += &system.replicate("max_connections", "200")?.to_string();

    section(&mut out, "Test 5: recovery");
    out += &system.recover(1)?.to_string();
    out += &system.replicate("config_version", "1.2.4")?.to_string();
    out += &system.check_consistency("config_version").to_string();
    let stale = system.check_consistency("max_connections");
    out += &stale.to_string();
    out += "Node-1 recovered but missed the write while it was down: it is stale until it syncs.\n";
    out += &system.sync(1)?.to_string();
    out += &system.check_consistency("max_connections").to_string();

    section(&mut out, "Final status");
    out += &system.status().to_string();
    out += &system.stats().to_string();
    Ok(out)
}

fn main() -> std::process::ExitCode {
    let seed = match std::env::args().nth(1).map(|s| s.parse::<u64>()) {
        None => distlab::config::DEFAULT_SEED,
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            eprintln!("seed_demo: the seed must be a whole number from 0 to 2^64-1");
            return std::process::ExitCode::from(2);
        }
    };
    match demo(seed) {
        Ok(text) => {
            print!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seed_demo: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_shows_the_stale_replica_and_its_repair() {
        let text = demo(distlab::config::DEFAULT_SEED).unwrap();
        assert!(text.contains("Node-1 has crashed"), "{text}");
        assert!(text.contains("consistency of \"max_connections\": INCONSISTENT: stale: Node-1"), "{text}");
        assert!(text.contains("sync brought in max_connections = 200"), "{text}");
        let after_sync = text.rsplit("--- Final status ---").nth(1).unwrap();
        assert!(after_sync.contains("consistency of \"max_connections\": CONSISTENT"), "{after_sync}");
        assert_eq!(text, demo(distlab::config::DEFAULT_SEED).unwrap(), "same seed, same output");
    }
}
