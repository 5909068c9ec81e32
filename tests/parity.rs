//! Parity: one script on the simulated cluster and on real UDP sockets must give the same
//! acks, timeouts, fates, verdicts, stale lists and counters (turmoil's parity tests are the
//! model). Only timing may differ, so latencies and round-trip times are not compared; the
//! timeout (500 ms) is far above loopback's round trip, so no reply arrives after it, which is
//! the one place real timing could change an outcome.

use distlab::node::Counters;
use distlab::prelude::*;
use distlab::report::TargetReport;
use distlab::udp::RealCluster;

/// What both runtimes must agree on for one verb.
#[derive(Debug, PartialEq)]
enum Outcome {
    Op { acked: Vec<String>, timed_out: Vec<String>, fates: Vec<(String, String, String)>, reached: usize },
    Check { verdict: Verdict, stale: Vec<String> },
    Log(usize),
}

fn fate(f: Fate) -> String {
    match f {
        Fate::Delivered { .. } => "delivered".into(),
        other => other.to_string(),
    }
}

fn op(r: OpReport) -> Outcome {
    let row = |t: &TargetReport| (t.name.clone(), fate(t.request), fate(t.reply));
    Outcome::Op {
        acked: r.acked().iter().map(|s| s.to_string()).collect(),
        timed_out: r.timed_out().iter().map(|s| s.to_string()).collect(),
        fates: r.targets.iter().map(row).collect(),
        reached: r.reached(),
    }
}

fn check(r: ConsistencyReport) -> Outcome {
    Outcome::Check { stale: r.stale().iter().map(|s| s.to_string()).collect(), verdict: r.verdict }
}

/// The verbs of the script, for either runtime.
trait Runtime {
    fn send(&mut self, from: u32, to: u32, text: &str) -> OpReport;
    fn broadcast(&mut self, from: u32, text: &str) -> OpReport;
    fn replicate(&mut self, key: &str, value: &str) -> OpReport;
    fn sync(&mut self, node: u32) -> OpReport;
    fn check(&mut self, key: &str) -> ConsistencyReport;
    fn crash(&mut self, node: u32) -> Log;
    fn recover(&mut self, node: u32) -> Log;
    fn partition(&mut self, group: Vec<u32>) -> Log;
    fn one_way(&mut self, from: u32, to: u32) -> Log;
    fn heal(&mut self) -> Log;
}

impl Runtime for Cluster {
    fn send(&mut self, from: u32, to: u32, text: &str) -> OpReport {
        Cluster::send(self, from, to, text).unwrap()
    }
    fn broadcast(&mut self, from: u32, text: &str) -> OpReport {
        Cluster::broadcast(self, from, text).unwrap()
    }
    fn replicate(&mut self, key: &str, value: &str) -> OpReport {
        Cluster::replicate(self, key, value).unwrap()
    }
    fn sync(&mut self, node: u32) -> OpReport {
        Cluster::sync(self, node).unwrap()
    }
    fn check(&mut self, key: &str) -> ConsistencyReport {
        self.check_consistency(key)
    }
    fn crash(&mut self, node: u32) -> Log {
        Cluster::crash(self, node).unwrap()
    }
    fn recover(&mut self, node: u32) -> Log {
        Cluster::recover(self, node).unwrap()
    }
    fn partition(&mut self, group: Vec<u32>) -> Log {
        Cluster::partition(self, [group]).unwrap()
    }
    fn one_way(&mut self, from: u32, to: u32) -> Log {
        self.partition_one_way([from], [to]).unwrap()
    }
    fn heal(&mut self) -> Log {
        Cluster::heal(self)
    }
}

impl Runtime for RealCluster {
    fn send(&mut self, from: u32, to: u32, text: &str) -> OpReport {
        RealCluster::send(self, from, to, text).unwrap()
    }
    fn broadcast(&mut self, from: u32, text: &str) -> OpReport {
        RealCluster::broadcast(self, from, text).unwrap()
    }
    fn replicate(&mut self, key: &str, value: &str) -> OpReport {
        RealCluster::replicate(self, key, value).unwrap()
    }
    fn sync(&mut self, node: u32) -> OpReport {
        RealCluster::sync(self, node).unwrap()
    }
    fn check(&mut self, key: &str) -> ConsistencyReport {
        self.check_consistency(key)
    }
    fn crash(&mut self, node: u32) -> Log {
        RealCluster::crash(self, node).unwrap()
    }
    fn recover(&mut self, node: u32) -> Log {
        RealCluster::recover(self, node).unwrap()
    }
    fn partition(&mut self, group: Vec<u32>) -> Log {
        RealCluster::partition(self, [group]).unwrap()
    }
    fn one_way(&mut self, from: u32, to: u32) -> Log {
        self.partition_one_way([from], [to]).unwrap()
    }
    fn heal(&mut self) -> Log {
        RealCluster::heal(self)
    }
}

/// The script: send, broadcast, replicate, crash, a write while a node is down, recover,
/// check, sync, partition, one-way partition, heal.
fn script(r: &mut dyn Runtime) -> Vec<Outcome> {
    vec![
        op(r.send(0, 1, "hello")),
        op(r.broadcast(0, "System update available")),
        op(r.replicate("config_version", "1.2.3")),
        Outcome::Log(r.crash(2).lines.len()),
        op(r.replicate("config_version", "1.2.4")),
        Outcome::Log(r.recover(2).lines.len()),
        check(r.check("config_version")),
        op(r.sync(2)),
        check(r.check("config_version")),
        Outcome::Log(r.partition(vec![0, 1]).lines.len()),
        op(r.send(0, 2, "across the cut")),
        op(r.broadcast(1, "inside the group")),
        Outcome::Log(r.heal().lines.len()),
        Outcome::Log(r.one_way(0, 3).lines.len()),
        op(r.send(0, 3, "one way")),
        op(r.send(3, 0, "the other way")),
        op(r.replicate("config_version", "1.2.5")),
        Outcome::Log(r.heal().lines.len()),
        op(r.sync(3)),
        check(r.check("config_version")),
    ]
}

fn config(loss: f64, trace: bool) -> Config {
    Config::builder().nodes(4).loss(loss).seed(11).timeout_ms(500.0).trace(trace).build().unwrap()
}

fn counters(s: &RunStats) -> Vec<Counters> {
    s.nodes.iter().map(|n| n.counters).collect()
}

fn same_on_both(loss: f64, trace: bool) -> RunStats {
    let mut sim = Cluster::new(config(loss, trace));
    let mut real = RealCluster::start(config(loss, trace)).unwrap();
    let (a, b) = (script(&mut sim), script(&mut real));
    real.wait_until_quiet(2000);
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "step {i} differs at loss {loss} (simulation left, UDP right)");
    }
    let (s, u) = (sim.stats(), real.stats());
    assert_eq!(counters(&s), counters(&u), "counters at loss {loss}");
    assert_eq!(s.operations, u.operations);
    real.shutdown();
    s
}

#[test]
fn the_script_gives_the_same_results_on_both_runtimes_without_loss() {
    let s = same_on_both(0.0, true);
    assert_eq!(s.total.dropped_lost, 0);
    assert!(s.total.dropped_partitioned > 0 && s.total.dropped_target_down > 0, "{:?}", s.total);
}

#[test]
fn the_same_messages_are_lost_on_both_runtimes_at_loss_0_2() {
    let s = same_on_both(0.2, true);
    // About 60 messages at p = 0.2: some are lost (all survive with probability 1e-6).
    assert!(s.total.dropped_lost > 0, "{:?}", s.total);
}

#[test]
fn reports_are_right_with_the_trace_off_on_both_runtimes() {
    let s = same_on_both(0.0, false);
    assert!(s.total.delivered > 0);
    let mut sim = Cluster::new(config(0.0, false));
    let mut real = RealCluster::start(config(0.0, false)).unwrap();
    for r in [sim.broadcast(0, "hi").unwrap(), real.broadcast(0, "hi").unwrap()] {
        assert_eq!((r.reached(), r.alive(), r.total()), (3, 3, 3), "{r}");
        assert!(r.targets.iter().all(|t| matches!(t.request, Fate::Delivered { .. })), "{r}");
        assert!(r.targets.iter().all(|t| matches!(t.reply, Fate::Delivered { .. })), "{r}");
        assert!(r.log.is_empty());
    }
    assert!(sim.trace().is_empty() && real.trace().is_empty());
    real.shutdown();
}
