//! Renders every chart of the lesson into a folder, and prints how long each took.
//!
//! ```text
//! cargo run --release --example charts -- [OUT_DIR]
//! ```
//! This is the chart benchmark: each chart at its default size should render in at most
//! 50 ms, and the sweep (11 loss rates x 20 seeds x 1,000 messages) finish in at most 1 s.

use std::time::Instant;

use distlab::experiment::{availability, broadcast_reach, loss_sweep, rates, Architecture};
use distlab::prelude::*;

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let v = f();
    println!("{what:<44} {:>9.2} ms", t.elapsed().as_secs_f64() * 1000.0);
    v
}

fn main() -> Result<(), Error> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "target/charts".to_string());
    std::fs::create_dir_all(&out).map_err(|e| Error::Io { path: out.clone(), message: e.to_string() })?;

    // A small run with every kind of event: loss, a crash, a partition, replication and sync.
    let mut c = Cluster::new(Config::builder().nodes(5).loss(0.1).duplication(0.05).seed(3).build()?);
    c.broadcast(0, "hello")?;
    c.replicate("k", "v1")?;
    c.crash(3)?;
    c.replicate("k", "v2")?;
    c.partition([vec![0, 1]])?;
    c.send(0, 4, "across")?;
    c.heal();
    c.recover(3)?;
    c.sync(3)?;
    for i in 0..40 {
        c.post(i % 5, (i * 2 + 1) % 5, "m")?;
    }
    c.run();

    // The largest inputs the charts meet: 200 messages in a space-time diagram (the most it
    // draws) and 10,000 nodes in a count chart (grouped into 40 bars).
    let mut busy = Cluster::new(Config::builder().nodes(10).loss(0.1).seed(5).build()?);
    for i in 0..100 {
        busy.send(i % 10, (i * 3 + 1) % 10, "m")?;
    }
    let mut wide = Cluster::new(Config::builder().nodes(10_000).trace(false).seed(5).build()?);
    for i in 0..20_000 {
        wide.post(i % 10_000, (i * 7 + 1) % 10_000, "m")?;
    }
    wide.run();

    let base = Config::builder().nodes(10).build()?;
    let sweep = timed("sweep: 11 rates x 20 seeds x 1,000 messages", || {
        loss_sweep(&base, &rates(11, 1.0), 20, 1000)
    })?;
    let reach = timed("broadcast reach: 11 rates x 200 broadcasts", || {
        broadcast_reach(&Config::builder().nodes(6).build()?, &rates(11, 0.5), 200)
    })?;
    let archs = [
        Architecture::Centralized,
        Architecture::ClientServer { replicas: 3 },
        Architecture::PeerToPeer { peers: 5 },
    ];
    let avail = timed("availability: 3 architectures x 11 p x 300", || {
        availability(&archs, &rates(11, 1.0), 300, 1)
    })?;

    let quiz = ConcurrencyQuiz::new(2026)?;
    let mut mid_write = Cluster::new(Config::builder().nodes(5).loss(0.0).seed(2026).build()?);
    mid_write.replicate("config_version", "1.2.3")?;
    let second = mid_write.now().as_ms();
    mid_write.crash_at(2, second + 1.0)?;
    mid_write.replicate("config_version", "1.2.4")?;
    mid_write.recover(2)?;
    let what_if = mid_write.what_if(Fork::at_ms(second)?, Change::Latency(Latency::constant(0.5)))?;

    let charts = [
        ("clocks_numbers", chart::clocks(quiz.cluster(), Stamp::Number)?),
        ("clocks_vector", chart::clocks(quiz.cluster(), Stamp::Vector)?),
        ("clocks_lamport_busy", chart::clocks(&c, Stamp::Lamport)?),
        ("causal_past", chart::causal(quiz.cluster(), quiz.pairs()[1].0)?),
        ("what_if", what_if.chart()),
        ("message_counts", chart::message_counts(&c.stats())),
        ("failure_sweep", sweep.chart()),
        ("broadcast_reach", reach.chart()),
        ("space_time", chart::space_time(&c)),
        ("timeline", chart::timeline(&c)),
        ("latency_histogram", chart::latency_histogram(&c)),
        ("availability", avail.chart()),
        ("topology_client_server", Topology::client_server(4, 2)?.chart()),
        ("topology_peer_to_peer", Topology::peer_to_peer(6)?.chart()),
        ("space_time_200_messages", chart::space_time(&busy)),
        ("message_counts_10000_nodes", chart::message_counts(&wide.stats())),
        ("topology_60_of_100_peers", Topology::peer_to_peer(100)?.chart()),
    ];
    for (name, chart) in charts {
        let svg = timed(&format!("render {name}"), || chart.svg());
        let path = format!("{out}/{name}.svg");
        std::fs::write(&path, svg).map_err(|e| Error::Io { path: path.clone(), message: e.to_string() })?;
    }
    println!("charts written to {out}/");
    Ok(())
}
