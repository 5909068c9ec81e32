//! The experiments behind notebooks 02 and 04: write policies, message growth, loss against
//! time, concurrent writes and availability at equal k, checked against values worked out by
//! hand or by another route through the simulation.

use distlab::experiment::{
    availability, growth, loss_latency, rates, survivor, write_policies, Architecture, WritePolicy, TRENDS,
};
use distlab::prelude::*;
use distlab::report::Fate;

fn config(nodes: usize, loss: f64, latency: Latency, seed: u64) -> Config {
    Config::builder().nodes(nodes).loss(loss).latency(latency).seed(seed).build().unwrap()
}

// ----- write policies -----

#[test]
fn with_constant_latency_every_policy_answers_after_one_round_trip() {
    let w = write_policies(&config(5, 0.0, Latency::constant(10.0), 1), 10).unwrap();
    assert_eq!(w.rows.len(), 6);
    for policy in WritePolicy::ALL {
        let r = w.row(policy, false).unwrap();
        assert_eq!(r.answered, 10, "{r:?}");
        assert_eq!(r.mean_answer_ms, Some(20.0), "{r:?}");
        // every request arrives at 10 ms, before the first ack at 20 ms
        assert_eq!(r.stale_share, Some(0.0), "{r:?}");
        assert_eq!(r.stored_when_unanswered, None);
    }
    assert_eq!(WritePolicy::Majority.acks_needed(5), 2);
    assert_eq!(w.row(WritePolicy::EveryReplica, false).unwrap().acks_needed, 4);
}

#[test]
fn waiting_for_every_replica_with_one_down_never_answers_yet_the_write_is_stored() {
    let w = write_policies(&config(5, 0.0, Latency::uniform(10.0, 50.0), 7), 30).unwrap();
    let every = w.row(WritePolicy::EveryReplica, true).unwrap();
    assert_eq!(every.down.as_deref(), Some("Node-4"));
    assert_eq!((every.answered, every.mean_answer_ms, every.stale_share), (0, None, None));
    assert_eq!(every.stored_when_unanswered, Some(4.0));
    // A majority (2 acks of the 3 live replicas) and the first ack still answer every write.
    assert_eq!(w.row(WritePolicy::Majority, true).unwrap().answered, 30);
    assert_eq!(w.row(WritePolicy::FirstAck, true).unwrap().answered, 30);
    let text = w.to_string();
    assert!(
        text.contains("Node-4 down") && text.contains("never") && text.contains("4.0 of 5 nodes"),
        "{text}"
    );
}

#[test]
fn answering_sooner_leaves_stale_replicas_with_no_crash_at_all() {
    let w = write_policies(&config(5, 0.0, Latency::uniform(10.0, 50.0), 11), 200).unwrap();
    let (first, majority, every) = (
        w.row(WritePolicy::FirstAck, false).unwrap(),
        w.row(WritePolicy::Majority, false).unwrap(),
        w.row(WritePolicy::EveryReplica, false).unwrap(),
    );
    let t = |r: &distlab::experiment::PolicyRow| r.mean_answer_ms.unwrap();
    assert!(t(first) < t(majority) && t(majority) < t(every), "{w}");
    let s = |r: &distlab::experiment::PolicyRow| r.stale_share.unwrap();
    assert_eq!(s(every), 0.0);
    // At the first ack 2 of 5 nodes surely hold the value; at a majority 3 of 5.
    assert!(s(first) > 0.1 && s(first) <= 0.6, "{w}");
    assert!(s(majority) > 0.0 && s(majority) <= 0.4 && s(majority) < s(first), "{w}");
}

#[test]
fn the_stale_share_agrees_with_the_request_arrival_times() {
    // The same single write, seen through the report's request fates instead of the trace.
    for seed in [1, 2, 3, 4, 5] {
        let cfg = config(5, 0.0, Latency::uniform(10.0, 50.0), seed);
        let w = write_policies(&cfg, 1).unwrap();
        let mut c = Cluster::new(cfg.clone());
        let r = c.replicate_from(0, "x", "0").unwrap();
        let mut acks: Vec<f64> = r
            .targets
            .iter()
            .filter_map(|t| match t.seen {
                SenderView::Replied { rtt } => Some(rtt.as_ms()),
                _ => None,
            })
            .collect();
        acks.sort_by(f64::total_cmp);
        for (policy, need) in
            [(WritePolicy::FirstAck, 1), (WritePolicy::Majority, 2), (WritePolicy::EveryReplica, 4)]
        {
            let done = acks[need - 1];
            let behind = r
                .targets
                .iter()
                .filter(|t| match t.request {
                    Fate::Delivered { latency } => latency.as_ms() > done,
                    _ => true,
                })
                .count();
            let row = w.row(policy, false).unwrap();
            assert_eq!(row.mean_answer_ms, Some(done), "seed {seed} {policy:?}");
            assert_eq!(row.stale_share, Some(behind as f64 / 5.0), "seed {seed} {policy:?}");
        }
    }
}

#[test]
fn with_loss_even_every_node_up_does_not_let_every_replica_answer_every_write() {
    let w = write_policies(&config(5, 0.3, Latency::uniform(10.0, 50.0), 2), 100).unwrap();
    let every = w.row(WritePolicy::EveryReplica, false).unwrap();
    assert!(every.answered < 50, "{every:?}");
    assert!(every.stored_when_unanswered.unwrap() >= 1.0);
    assert!(w.row(WritePolicy::FirstAck, false).unwrap().answered > every.answered);
}

#[test]
fn write_policies_reject_bad_arguments_by_name() {
    let e = write_policies(&Config::default(), 0).unwrap_err().to_string();
    assert!(e.contains("writes") && e.contains("1 to 10000"), "{e}");
    let e = write_policies(&Config::builder().nodes(2).build().unwrap(), 5).unwrap_err().to_string();
    assert!(e.contains("nodes") && e.contains("3 to 100"), "{e}");
}

// ----- growth -----

#[test]
fn without_loss_message_counts_are_exactly_2_n_squared_minus_n() {
    let g = growth(&Config::builder().loss(0.0).seed(5).build().unwrap(), &[2, 4, 8, 16]).unwrap();
    for r in &g.rows {
        let n = r.nodes as u64;
        assert_eq!(r.one_broadcast, 2 * (n - 1), "{r:?}");
        assert_eq!(r.every_node, 2 * n * (n - 1), "{r:?}");
        assert_eq!(r.waited, 0);
    }
    assert_eq!(g.ratio(8, 16), Some(480.0 / 112.0));
    assert_eq!(g.ratio(8, 32), None);
}

#[test]
fn loss_lowers_the_counts_but_not_the_ratio() {
    for seed in [1, 99, 2026] {
        let g = growth(&Config::builder().loss(0.3).seed(seed).build().unwrap(), &[8, 16]).unwrap();
        // a request arrives with probability 0.7, and only then is an ack sent
        let expected = |n: f64| n * (n - 1.0) * 1.7;
        for r in &g.rows {
            let e = expected(r.nodes as f64);
            assert!((r.every_node as f64 - e).abs() < 0.1 * e, "{r:?} against {e}");
            assert!(r.waited > r.nodes as u64 / 2, "{r:?}");
        }
        let ratio = g.ratio(8, 16).unwrap();
        assert!((ratio - 240.0 / 56.0).abs() < 0.4, "seed {seed}: {ratio}");
    }
}

#[test]
fn growth_rejects_bad_sizes_by_name() {
    for sizes in [vec![], vec![1], vec![300], vec![4; 21]] {
        let e = growth(&Config::default(), &sizes).unwrap_err().to_string();
        assert!(e.contains("sizes"), "{e}");
    }
    assert!(growth(&Config::default(), &[300]).unwrap_err().to_string().contains("2 to 256"));
}

// ----- loss against time -----

#[test]
fn loss_does_not_slow_arriving_messages_for_any_seed_but_slows_writes() {
    for seed in 0..40 {
        let cfg = config(5, 0.05, Latency::uniform(10.0, 50.0), seed);
        let l = loss_latency(&cfg, &rates(6, 0.5), 200).unwrap();
        assert_eq!(TRENDS[l.arrival_trend()], "about the same", "seed {seed}: {l}");
        let (a, b) = (&l.rows[0], &l.rows[5]);
        assert_eq!(a.timed_out, 0);
        assert!(b.timed_out > 150 && b.mean_write_ms > 2.0 * a.mean_write_ms, "seed {seed}: {l}");
        assert!(l.summary().contains("at loss 0 and"), "{}", l.summary());
    }
}

#[test]
fn with_constant_latency_a_write_without_loss_takes_one_round_trip() {
    let l = loss_latency(&config(3, 0.0, Latency::constant(25.0), 1), &[0.0, 1.0], 10).unwrap();
    assert_eq!(l.rows[0].mean_write_ms, 50.0);
    assert_eq!(l.rows[0].median_ms.map(|m| (m - 25.0).abs() < 0.5), Some(true));
    // nothing arrives at loss 1: no latency to show, every write waits for the timeout
    assert_eq!((l.rows[1].delivered, l.rows[1].median_ms), (0, None));
    assert_eq!(l.rows[1].mean_write_ms, Config::default().timeout_ms());
    assert_eq!(l.arrival_trend(), 1);
}

#[test]
fn loss_latency_rejects_bad_arguments_by_name() {
    let e = loss_latency(&Config::default(), &[0.1, 1.5], 10).unwrap_err().to_string();
    assert!(e.contains("rates") && e.contains("1.5"), "{e}");
    let e = loss_latency(&Config::default(), &[0.1], 0).unwrap_err().to_string();
    assert!(e.contains("writes"), "{e}");
}

// ----- concurrent writes -----

fn race(nodes: usize, seed: u64, last_first: bool) -> (Cluster, OpReport, OpReport) {
    let mut c = Cluster::new(config(nodes, 0.0, Latency::uniform(10.0, 50.0), seed));
    c.partition([vec![0, 1]]).unwrap();
    let (a, b) = if last_first { (nodes - 1, 0) } else { (0, nodes - 1) };
    let first = c.replicate_from(a, "owner", "Bob").unwrap();
    let later = c.replicate_from(b, "owner", "Alice").unwrap();
    c.heal();
    (c, first, later)
}

#[test]
fn the_higher_writer_id_wins_a_tie_whichever_write_came_later() {
    for seed in [1, 99, 2026] {
        for last_first in [true, false] {
            let (mut c, first, later) = race(5, seed, last_first);
            let before = survivor(&c, "owner", &[&first, &later]).unwrap();
            assert_eq!(before.survivor, None, "{before}");
            assert!(before.to_string().contains("do not all hold"), "{before}");
            for n in 0..5 {
                c.sync(n).unwrap();
            }
            let s = survivor(&c, "owner", &[&first, &later]).unwrap();
            // Node-4's write wins: index 0 when it went first, 1 when it went later
            let want = if last_first { 0 } else { 1 };
            assert_eq!(s.survivor, Some(want), "{s}");
            let text = s.to_string();
            assert!(text.contains(&format!("write {} survived", want + 1)), "{text}");
            assert!(text.contains(&format!("lost, with no error to anyone: write {}", 2 - want)), "{text}");
            assert!(
                s.rule().contains("counter 1") && s.rule().contains("Node-4 over Node-0"),
                "{}",
                s.rule()
            );
            assert_eq!(s.writes[1 - want].acked, ["Node-1"]);
        }
    }
}

#[test]
fn a_higher_counter_wins_over_a_higher_writer_id() {
    let mut c = Cluster::new(config(4, 0.0, Latency::uniform(10.0, 50.0), 3));
    c.partition([vec![0, 1]]).unwrap();
    c.replicate_from(0, "k", "a").unwrap();
    let two = c.replicate_from(0, "k", "b").unwrap(); // counter 2
    let one = c.replicate_from(3, "k", "c").unwrap(); // counter 1
    c.heal();
    for n in 0..4 {
        c.sync(n).unwrap();
    }
    let s = survivor(&c, "k", &[&one, &two]).unwrap();
    assert_eq!(s.survivor, Some(1));
    assert!(s.rule().contains("counter first"), "{}", s.rule());
}

#[test]
fn survivor_rejects_reports_that_are_not_writes_of_the_key() {
    let mut c = Cluster::new(Config::builder().loss(0.0).build().unwrap());
    let b = c.broadcast(0, "hi").unwrap();
    let w = c.replicate("a", "1").unwrap();
    assert!(survivor(&c, "a", &[&b]).unwrap_err().to_string().contains("writes"));
    assert!(survivor(&c, "other", &[&w]).unwrap_err().to_string().contains("\"other\""));
    assert!(survivor(&c, "a", &[]).unwrap_err().to_string().contains("1 to 26"));
    assert_eq!(survivor(&c, "a", &[&w]).unwrap().survivor, Some(0));
}

// ----- availability at equal k -----

#[test]
fn equal_k_gives_equal_availability_whatever_the_architecture() {
    let cs4 = Architecture::ClientServer { replicas: 4 };
    let p2p5 = Architecture::PeerToPeer { peers: 5 };
    assert_eq!((Architecture::Centralized.answering(), cs4.answering(), p2p5.answering()), (1, 4, 4));
    for p in rates(11, 1.0) {
        assert_eq!(cs4.expected(p), p2p5.expected(p));
    }
    let a =
        availability(&[Architecture::ClientServer { replicas: 3 }, cs4, p2p5], &[0.0, 0.5], 2000, 9).unwrap();
    let at = |arch, p| a.row(arch, p).unwrap().observed;
    assert!((at(Architecture::ClientServer { replicas: 3 }, 0.5) - 0.875).abs() < 0.03);
    assert!((at(cs4, 0.5) - at(p2p5, 0.5)).abs() < 0.03);
    assert!(a.row(cs4, 0.3).is_none());
    let t = a.table_at(&[0.5]);
    assert_eq!(t.rows.len(), 3);
    assert_eq!(t.rows[1][2], "4");
    assert_eq!(t.rows[2][2], "4");
    assert_eq!(t.rows[0][4], "0.875");
}
