//! The simulation core against the behaviour the lesson's Python version gets wrong.

mod common;

use common::*;
use distlab::prelude::*;

fn cluster(nodes: usize, loss: f64, seed: u64) -> Cluster {
    Cluster::new(Config::builder().nodes(nodes).loss(loss).seed(seed).build().unwrap())
}

/// The lesson's demo, as one scripted run.
fn scripted(seed: u64) -> Cluster {
    let mut c =
        Cluster::new(Config::builder().nodes(4).loss(0.2).duplication(0.1).seed(seed).build().unwrap());
    c.send(0, 1, "Hello from Node-0!").unwrap();
    c.broadcast(0, "System update available").unwrap();
    c.replicate("config_version", "1.2.3").unwrap();
    c.crash(1).unwrap();
    c.broadcast(0, "Emergency broadcast").unwrap();
    c.recover(1).unwrap();
    c.replicate("config_version", "1.2.4").unwrap();
    c.sync(1).unwrap();
    c.run();
    c
}

#[test]
fn same_seed_same_trace_different_seed_different_trace() {
    let a = scripted(7).trace().to_jsonl();
    let b = scripted(7).trace().to_jsonl();
    let c = scripted(8).trace().to_jsonl();
    assert!(a.lines().count() > 50, "trace too short to mean anything: {}", a.lines().count());
    assert_eq!(a, b, "same seed gave different traces");
    let (x, y) = (scripted(7), scripted(7));
    assert_eq!(x.status().to_html(), y.status().to_html(), "status tables differ");
    assert_eq!(x.stats().to_string(), y.stats().to_string(), "statistics differ");
    assert_eq!(
        x.check_consistency("config_version").to_html(),
        y.check_consistency("config_version").to_html(),
        "consistency reports differ"
    );
    assert_ne!(a, c, "different seeds gave the same trace");
    for line in a.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(v.get("t_us").is_some() && v.get("event").is_some(), "{line}");
    }
}

#[test]
fn conservation_holds_after_every_step() {
    let mut c = Cluster::new(Config::builder().nodes(5).loss(0.3).duplication(0.2).seed(3).build().unwrap());
    for i in 0..200 {
        c.post(i % 5, (i * 3 + 1) % 5, "x").unwrap();
    }
    c.crash_at(2, 20.0).unwrap();
    c.recover_at(2, 35.0).unwrap();
    c.partition([vec![0, 1]]).unwrap();
    assert_conserved(&c);
    let mut steps = 0;
    while c.step().is_some() {
        assert_conserved(&c);
        steps += 1;
    }
    assert!(steps > 200);
    assert_eq!(c.in_flight(), 0);
    let s = c.stats();
    assert!(s.total.dropped_partitioned > 0 && s.total.dropped_lost > 0 && s.total.duplicated > 0, "{s:?}");
    assert_every_message_accounted(&c);
}

#[test]
fn nothing_is_delivered_to_a_down_node() {
    let mut c = cluster(3, 0.0, 1);
    c.crash(2).unwrap();
    let r = c.send(0, 2, "are you there?").unwrap();
    // The sender's view: only a timeout. The trace's view: the target was down.
    assert_eq!(r.targets[0].seen, SenderView::TimedOut);
    assert_eq!(r.targets[0].request, Fate::Dropped { cause: DropCause::TargetDown });
    assert_eq!(c.status().nodes[2].counters.received, 0);
    for i in 0..100 {
        c.post(i % 2, 2, "ping").unwrap();
    }
    c.run();
    assert_eq!(c.status().nodes[2].counters.received, 0);
    assert_eq!(c.stats().total.dropped_target_down, 101);
    assert_no_forbidden_delivery(&c);
}

#[test]
fn a_lost_message_and_a_crashed_target_look_the_same_to_the_sender() {
    let mut lossy = cluster(2, 1.0, 1);
    let lost = lossy.send(0, 1, "hi").unwrap();
    let mut crashed = cluster(2, 0.0, 1);
    crashed.crash(1).unwrap();
    let down = crashed.send(0, 1, "hi").unwrap();
    assert_eq!(lost.targets[0].seen, down.targets[0].seen);
    assert_ne!(lost.targets[0].request, down.targets[0].request);
}

#[test]
fn a_down_sender_sends_nothing() {
    let mut c = cluster(3, 0.0, 1);
    c.crash(0).unwrap();
    let r = c.broadcast(0, "hello?").unwrap();
    assert_eq!(r.reached(), 0);
    assert_eq!(r.timed_out(), ["Node-1", "Node-2"]);
    assert_eq!(c.stats().total.dropped_sender_down, 2);
    assert!(r.log.iter().any(|l| l.contains("Node-0 is down and cannot send")), "{:?}", r.log);
}

#[test]
fn broadcast_reports_reached_alive_total() {
    let mut c = cluster(4, 0.0, 1);
    c.crash(2).unwrap();
    let r = c.broadcast(0, "Emergency broadcast").unwrap();
    assert_eq!((r.reached(), r.alive(), r.total()), (2, 2, 3));
    assert_eq!(r.acked(), ["Node-1", "Node-3"]);
    assert_eq!(r.timed_out(), ["Node-2"]);
    assert!(r.summary().contains("reached 2 / alive 2 / total 3"), "{}", r.summary());
}

#[test]
fn partitions_cut_both_ways_and_one_way_cuts_one_direction() {
    let mut c = cluster(4, 0.0, 5);
    c.partition([vec![0, 1], vec![2, 3]]).unwrap();
    for from in 0..4 {
        for to in 0..4 {
            if from != to {
                let r = c.send(from, to, "x").unwrap();
                let same_side = (from < 2) == (to < 2);
                assert_eq!(r.all_acked(), same_side, "{from} -> {to}: {}", r.summary());
            }
        }
    }
    c.heal();
    assert!(c.broadcast(0, "healed").unwrap().all_acked());

    let before = c.status().nodes[0].counters.dropped_partitioned;
    assert_eq!(before, 2, "Node-0's requests to Node-2 and Node-3");
    c.partition_one_way([0], [1]).unwrap();
    for _ in 0..20 {
        c.post(0, 1, "cut").unwrap();
        c.post(1, 0, "open").unwrap();
    }
    c.run();
    // 0 -> 1 is cut, so even a request from 1 to 0 times out: its ack cannot come back.
    let r = c.send(1, 0, "reply?").unwrap();
    assert!(matches!(r.targets[0].request, Fate::Delivered { .. }), "{r}");
    assert_eq!(r.targets[0].reply, Fate::Dropped { cause: DropCause::Partitioned });
    assert_eq!(r.targets[0].seen, SenderView::TimedOut);
    assert_no_forbidden_delivery(&c);
    let n0 = &c.status().nodes[0].counters;
    assert_eq!(n0.dropped_partitioned - before, 21, "20 posts and one ack: {n0:?}");
}

#[test]
fn observed_loss_matches_the_configured_rate() {
    const N: u64 = 200_000;
    for p in [0.0, 0.05, 0.5, 1.0] {
        let mut c = Cluster::new(Config::builder().nodes(10).loss(p).seed(11).trace(false).build().unwrap());
        for i in 0..N {
            c.post((i % 10) as usize, ((i + 1 + i / 10 % 9) % 10) as usize, "m").unwrap();
            if i % 1000 == 0 {
                c.run();
            }
        }
        c.run();
        let lost = c.stats().total.dropped_lost as f64;
        let expected = N as f64 * p;
        let sd = (N as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (lost - expected).abs() <= 4.0 * sd,
            "p = {p}: lost {lost}, expected {expected} +- {}",
            4.0 * sd
        );
        assert_eq!(c.trace().len(), 0, "trace was off");
    }
}

#[test]
fn crash_during_replicate_leaves_a_stale_replica_until_sync() {
    let mut c = cluster(3, 0.0, 2);
    c.replicate("config_version", "1.2.3").unwrap();
    assert!(c.check_consistency("config_version").is_consistent());
    // Node-2 crashes 1 ms into the next write, before any replica can have received it.
    let now = c.now().as_ms();
    c.crash_at(2, now + 1.0).unwrap();
    let w = c.replicate("config_version", "1.2.4").unwrap();
    assert_eq!(w.timed_out(), ["Node-2"]);
    let report = c.check_consistency("config_version");
    assert_eq!(report.verdict, Verdict::Unknown { down: vec!["Node-2".into()] });
    c.recover(2).unwrap();
    let report = c.check_consistency("config_version");
    assert_eq!(report.stale(), ["Node-2"]);
    assert_eq!(report.verdict, Verdict::Inconsistent { stale: vec!["Node-2".into()] });
    assert_eq!(c.get(2, "config_version").unwrap().as_deref(), Some("1.2.3"));
    let s = c.sync(2).unwrap();
    assert_eq!(s.updated.len(), 1, "{s}");
    assert!(c.check_consistency("config_version").is_consistent());
    assert_eq!(c.get(2, "config_version").unwrap().as_deref(), Some("1.2.4"));
}

#[test]
fn a_volatile_store_is_lost_in_a_crash_and_a_durable_one_is_kept() {
    for durable in [true, false] {
        let mut c = Cluster::new(Config::builder().nodes(3).loss(0.0).durable(durable).build().unwrap());
        c.replicate("k", "v").unwrap();
        c.crash(1).unwrap();
        c.recover(1).unwrap();
        let kept = c.get(1, "k").unwrap();
        assert_eq!(kept.is_some(), durable, "durable = {durable}: {kept:?}");
        if !durable {
            assert_eq!(c.check_consistency("k").stale(), ["Node-1"]);
            c.sync(1).unwrap();
            assert!(c.check_consistency("k").is_consistent());
        }
    }
}

#[test]
fn invalid_configuration_names_field_value_and_range() {
    let cases: Vec<(ConfigBuilderFn, &str, &str)> = vec![
        (|b| b.loss(1.5), "loss", "1.5"),
        (|b| b.loss(-0.1), "loss", "-0.1"),
        (|b| b.loss(f64::NAN), "loss", "NaN"),
        (|b| b.duplication(2.0), "duplication", "2"),
        (|b| b.nodes(0), "nodes", "0"),
        (|b| b.nodes(1_000_001), "nodes", "1000001"),
        (|b| b.latency(Latency::uniform(50.0, 10.0)), "latency.min_ms", "50"),
        (|b| b.latency(Latency::uniform(-1.0, 10.0)), "latency.min_ms", "-1"),
        (|b| b.latency(Latency::constant(f64::INFINITY)), "latency.ms", "inf"),
        (|b| b.latency(Latency::exponential(0.0)), "latency.mean_ms", "0"),
        (|b| b.timeout_ms(0.0), "timeout_ms", "0"),
        (|b| b.names(["a", "a"]), "names", "\"a\""),
        (|b| b.names(["a", ""]), "names", "\"\""),
        (|b| b.names(["a", "b"]).nodes(3), "nodes", "3"),
    ];
    for (set, field, value) in cases {
        let err = set(Config::builder()).build().expect_err(field);
        let msg = err.to_string();
        assert!(msg.contains(field) && msg.contains(value) && msg.contains("allowed"), "{msg}");
    }
    assert!(Config::builder().nodes(1_000_000).build().is_ok());
    assert!(Config::builder().loss(1.0).duplication(0.0).build().is_ok());
}

type ConfigBuilderFn = fn(distlab::ConfigBuilder) -> distlab::ConfigBuilder;

#[test]
fn unknown_nodes_are_errors_that_name_them() {
    let mut c = cluster(3, 0.0, 1);
    let cases = [
        c.send(0, 3, "x").unwrap_err(),
        c.send(-1, 0, "x").unwrap_err(),
        c.send("Node-7", 0, "x").unwrap_err(),
        c.crash("node-1").unwrap_err(),
        c.recover(99).unwrap_err(),
        c.sync("nobody").unwrap_err(),
        c.replicate_from(5, "k", "v").unwrap_err(),
        c.partition([vec![0, 9]]).unwrap_err(),
        c.get(4, "k").unwrap_err(),
    ];
    let given = ["3", "-1", "\"Node-7\"", "\"node-1\"", "99", "\"nobody\"", "5", "9", "4"];
    for (err, g) in cases.iter().zip(given) {
        let msg = err.to_string();
        assert!(msg.contains(&format!("unknown node {g}")) && msg.contains("ids 0 to 2"), "{msg}");
    }
    assert!(c.run_until(f64::NAN).unwrap_err().to_string().contains("t_ms"));
    let e = c.run_until(1e20).unwrap_err().to_string();
    assert!(e.contains("t_ms") && e.contains("1e12"), "{e}");
    assert!(c.crash_at(0, f64::INFINITY).unwrap_err().to_string().contains("at_ms"));
    c.run_until(100.0).unwrap();
    assert!(c.crash_at(0, 50.0).unwrap_err().to_string().contains("at_ms"));
    c.crash(0).unwrap();
    assert!(c.sync(0).unwrap_err().to_string().contains("Node-0 is down"));
}

#[test]
fn named_nodes_work_everywhere_and_html_escapes_them() {
    let mut c = Cluster::new(Config::builder().names(["<b>", "london", "tokyo"]).loss(0.0).build().unwrap());
    let r = c.send("<b>", "tokyo", "hi").unwrap();
    assert!(r.all_acked());
    assert!(r.log.iter().any(|l| l.contains("tokyo received from <b>: hi")), "{:?}", r.log);
    let html = c.status().to_html();
    assert!(html.contains("&lt;b&gt;") && !html.contains("<td><b>"), "{html}");
}

#[test]
fn narration_follows_the_lesson() {
    let mut c = cluster(3, 0.0, 1);
    let r = c.send(0, 1, "Hello from Node-0!").unwrap();
    assert!(
        r.log.iter().any(|l| l.ends_with("Node-1 received from Node-0: Hello from Node-0!")),
        "{:?}",
        r.log
    );
    c.crash(1).unwrap();
    assert!(c.narration().last().unwrap().ends_with("Node-1 has crashed"));
    let text = r.to_string();
    assert!(text.contains("sender saw") && text.contains("reply after"), "{text}");
}

#[test]
fn stats_count_per_node_and_latency() {
    let mut c =
        Cluster::new(Config::builder().nodes(3).loss(0.0).latency(Latency::constant(20.0)).build().unwrap());
    c.send(0, 1, "a").unwrap();
    let s = c.stats();
    assert_eq!(s.nodes[0].counters.sent, 1);
    assert_eq!(s.nodes[1].counters.received, 1);
    assert_eq!(s.nodes[1].counters.sent, 1, "the ack");
    assert_eq!(s.total.delivered, 2);
    assert_eq!(s.operations, 1);
    assert_eq!(s.messages_per_operation(), 2.0);
    assert_eq!(s.delivery_ratio(), 1.0);
    assert_eq!((s.latency.min_ms, s.latency.median_ms, s.latency.max_ms), (20.0, 20.0, 20.0));
}

#[test]
fn step_and_run_until_follow_virtual_time() {
    let mut c =
        Cluster::new(Config::builder().nodes(2).loss(0.0).latency(Latency::constant(10.0)).build().unwrap());
    c.post(0, 1, "a").unwrap();
    c.run_until(5.0).unwrap();
    assert_eq!(c.in_flight(), 1);
    assert_eq!(c.now(), Time(5_000));
    let e = c.step().unwrap();
    assert_eq!(e.at, Time(10_000));
    assert!(matches!(e.kind, EventKind::Delivered { .. }));
    assert!(c.step().is_none());
}

#[test]
fn duplicates_are_counted_and_applied_once() {
    let mut c = Cluster::new(Config::builder().nodes(3).loss(0.0).duplication(1.0).build().unwrap());
    let w = c.replicate("k", "v").unwrap();
    assert!(w.all_acked());
    c.run();
    let s = c.stats();
    assert!(s.total.duplicated >= 2, "{s:?}");
    let stored = c.trace().iter().filter(|e| matches!(e.kind, EventKind::Stored { .. })).count();
    assert_eq!(stored, 3, "coordinator + two replicas, each once");
    assert_conserved(&c);
}

#[test]
fn a_huge_cluster_shows_a_bounded_report() {
    let mut c = Cluster::new(Config::builder().nodes(5_000).loss(0.0).build().unwrap());
    let r = c.broadcast(0, "hello, everyone").unwrap();
    assert_eq!(r.acked().len(), 4_999);
    let html = r.to_html();
    assert!(html.len() < 200_000, "{} bytes of HTML", html.len());
    assert!(html.contains("more lines") && html.contains("more rows"));
    assert!(r.summary().contains("acked: Node-1, Node-2, Node-3") && r.summary().contains("and 4989 more"));
    assert!(html.len() < 100_000, "{} bytes of HTML", html.len());
    assert!(c.status().to_string().contains("4800 more rows"));
}

#[test]
fn the_storms_fast_verbs_give_the_run_apply_gives() {
    // `post` and `run_until` skip building a Call unless the trace keeps it; through `apply`
    // they must make exactly the same run: trace, stats and recorded calls.
    let config = Config::builder().nodes(5).loss(0.2).duplication(0.1).seed(9).build().unwrap();
    let (mut fast, mut general) = (Cluster::new(config.clone()), Cluster::new(config));
    for i in 0..60u32 {
        let t = f64::from(i) * 3.5;
        let (from, to) = (i % 5, (i * 3 + 1) % 5);
        fast.run_until(t).unwrap();
        fast.post(from, to, if i % 7 == 0 { "other" } else { "storm" }).unwrap();
        general.apply(Call::RunUntil { t_ms: t }).unwrap();
        let text = if i % 7 == 0 { "other" } else { "storm" };
        general.apply(Call::Post { from, to, text: text.into() }).unwrap();
    }
    fast.run();
    general.run();
    assert!(fast.trace().len() > 100, "too short to mean anything");
    assert_eq!(fast.trace().to_jsonl(), general.trace().to_jsonl());
    assert_eq!(fast.stats().to_string(), general.stats().to_string());
    assert_eq!(fast.calls(), general.calls());
    assert!(fast.run_until(-1.0).is_err() && general.apply(Call::RunUntil { t_ms: -1.0 }).is_err());
    assert_eq!(fast.calls(), general.calls(), "a refused call is not recorded by either");
}
