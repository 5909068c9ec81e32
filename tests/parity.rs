//! Parity: one script, a list of [`Call`]s from the crate's verb table, applied through the
//! same `Verbs::apply` on the simulated cluster and on real UDP sockets, must give the same
//! acks, timeouts, fates, verdicts, stale lists and counters (turmoil's parity tests are the
//! model). Only timing may differ, so latencies and round-trip times are not compared; the
//! timeout (500 ms) is far above loopback's round trip, so no reply arrives after it, which is
//! the one place real timing could change an outcome.

use distlab::node::Counters;
use distlab::prelude::*;
use distlab::report::TargetReport;
use distlab::udp::RealCluster;
use distlab::verbs::Call;

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

/// One outcome as both runtimes must agree on it: a report's acks, timeouts and fates, a
/// log's length.
fn outcome(o: distlab::verbs::Outcome) -> Outcome {
    use distlab::verbs::Outcome as O;
    match o {
        O::Report(r) => op(r),
        O::Log(log) => Outcome::Log(log.lines.len()),
        other => panic!("the script has no verb that returns {other:?}"),
    }
}

/// The key whose replicas the script checks.
const KEY: &str = "config_version";

/// The script, one list of calls for both runtimes: send, broadcast, replicate, crash, a write
/// while a node is down, recover, sync, partition, one-way partition, heal.
fn script() -> Vec<Call> {
    let text = |s: &str| s.to_string();
    let write = |v: &str| Call::Replicate { key: KEY.into(), value: v.into() };
    vec![
        Call::Send { from: 0, to: 1, text: text("hello") },
        Call::Broadcast { from: 0, text: text("System update available") },
        write("1.2.3"),
        Call::Crash { node: 2 },
        write("1.2.4"),
        Call::Recover { node: 2 },
        Call::Sync { node: 2 },
        Call::Partition { groups: vec![vec![0, 1]] },
        Call::Send { from: 0, to: 2, text: text("across the cut") },
        Call::Broadcast { from: 1, text: text("inside the group") },
        Call::Heal,
        Call::PartitionOneWay { from: vec![0], to: vec![3] },
        Call::Send { from: 0, to: 3, text: text("one way") },
        Call::Send { from: 3, to: 0, text: text("the other way") },
        write("1.2.5"),
        Call::Heal,
        Call::Sync { node: 3 },
    ]
}

/// The script's calls after which the replicas of [`KEY`] are checked (a read, not a call).
const CHECKS: [usize; 3] = [5, 6, 16];

/// Plays the script on either runtime; `check` is the runtime's consistency check.
fn play<R: Verbs>(r: &mut R, check: impl Fn(&R) -> Outcome) -> Vec<Outcome> {
    let mut out = Vec::new();
    for (i, call) in script().into_iter().enumerate() {
        out.push(outcome(r.apply(call).unwrap()));
        if CHECKS.contains(&i) {
            out.push(check(r));
        }
    }
    out
}

fn sim_script(c: &mut Cluster) -> Vec<Outcome> {
    play(c, |c| check(c.check_consistency(KEY)))
}

fn real_script(c: &mut RealCluster) -> Vec<Outcome> {
    play(c, |c| check(c.check_consistency(KEY)))
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
    let (a, b) = (sim_script(&mut sim), real_script(&mut real));
    real.wait_until_quiet(2000);
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "step {i} differs at loss {loss} (simulation left, UDP right)");
    }
    let (s, u) = (sim.stats(), real.stats());
    assert_eq!(counters(&s), counters(&u), "counters at loss {loss}");
    assert_eq!(s.operations, u.operations);
    if trace {
        // Both kept the calls they were given, the same table.
        assert_eq!(sim.calls(), script().as_slice());
        assert_eq!(real.calls(), script().as_slice());
    }
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

/// The verbs that need virtual time are calls too, and on real sockets an error naming the
/// verb (not a panic, and nothing recorded).
#[test]
fn virtual_time_verbs_are_errors_that_name_them_on_real_sockets() {
    let mut real = RealCluster::start(config(0.0, true)).unwrap();
    for call in [
        Call::Step,
        Call::Run,
        Call::RunUntil { t_ms: 10.0 },
        Call::CrashAt { node: 1, at_ms: 10.0 },
        Call::RecoverAt { node: 1, at_ms: 20.0 },
    ] {
        let verb = call.verb();
        let e = real.apply(call).unwrap_err().to_string();
        assert!(e.starts_with(&format!("invalid verb: {verb} (allowed: ")), "{e}");
        assert!(e.contains("real time runs by itself"), "{e}");
    }
    assert!(real.calls().is_empty());
    let e = real.apply(Call::Send { from: 0, to: 9, text: "hi".into() }).unwrap_err();
    assert!(matches!(e, Error::UnknownNode { .. }), "{e}");
    real.shutdown();
}

/// A run on real sockets saves a run file from the same table: loaded in the simulation, its
/// verbs replay to exactly the simulated run of the same script (its real trace is a record,
/// not compared); loaded on real sockets, they run again with the same outcomes.
#[test]
fn a_real_run_file_replays_in_the_simulation_and_on_real_sockets() {
    let mut sim = Cluster::new(config(0.2, true));
    let mut real = RealCluster::start(config(0.2, true)).unwrap();
    sim_script(&mut sim);
    real_script(&mut real);
    real.wait_until_quiet(2000);
    let file = real.run_file().unwrap();
    real.shutdown();
    let header = file.lines().next().unwrap();
    assert!(header.contains("\"runtime\":\"udp\""), "{header}");
    assert_eq!(file.lines().filter(|l| l.starts_with("{\"verb\"")).count(), script().len());

    let replayed = Cluster::from_run_file(&file, "real.jsonl").unwrap();
    assert_eq!(replayed.trace().to_jsonl(), sim.trace().to_jsonl());
    assert_eq!(replayed.run_file().unwrap(), sim.run_file().unwrap());

    // On new sockets, from the real file and from the simulated one.
    for text in [file, sim.run_file().unwrap()] {
        let again = RealCluster::from_run_file(&text, "run.jsonl").unwrap();
        again.wait_until_quiet(2000);
        assert_eq!(again.calls(), script().as_slice());
        assert_eq!(counters(&again.stats()), counters(&sim.stats()));
        again.shutdown();
    }

    // A simulated run with a clock verb cannot replay on sockets: the error names the line.
    let mut c = Cluster::new(config(0.0, true));
    c.send(0, 1, "hi").unwrap();
    c.run_until(500.0).unwrap();
    match RealCluster::from_run_file(&c.run_file().unwrap(), "clock.jsonl") {
        Err(Error::Data { line: 3, message, .. }) => {
            assert!(
                message.contains("replaying this run_until") && message.contains("invalid verb"),
                "{message}"
            )
        }
        other => panic!("expected a data error at line 3, got {other:?}"),
    }
}
