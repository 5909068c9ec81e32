//! Logical clocks, what-if forks and run files (issue 12).

mod common;

use std::collections::{HashMap, VecDeque};

use common::verbs::*;
use distlab::causality::{self, Clocks, ConcurrencyQuiz, Order};
use distlab::prelude::*;
use distlab::trace::MsgId;
use distlab::whatif::{Change, Fork};
use proptest::prelude::*;

/// The quiz run, clocks worked out by hand from the rules (send and local events tick,
/// a receive merges and ticks).
#[test]
fn clocks_match_a_hand_computed_run() {
    let quiz = ConcurrencyQuiz::new(7).unwrap();
    let c = quiz.cluster();
    let kinds: Vec<String> =
        c.trace().iter().map(|e| format!("{:?}", std::mem::discriminant(&e.kind))).collect();
    assert_eq!(c.trace().len(), 8, "{kinds:?}");
    let clocks = Clocks::of(c).unwrap();
    // #0 Node-0 sends a; #1 Node-1 receives a; #2 Node-1 sends the ack; #3 Node-0 receives it;
    // #4 Node-1 sends b; #5 Node-2 receives b; #6 Node-2 sends the ack; #7 Node-1 receives it.
    let expected: [(&[u32], u64); 8] = [
        (&[1, 0, 0], 1),
        (&[1, 1, 0], 2),
        (&[1, 2, 0], 3),
        (&[2, 2, 0], 4),
        (&[1, 3, 0], 4),
        (&[1, 3, 1], 5),
        (&[1, 3, 2], 6),
        (&[1, 4, 2], 7),
    ];
    for (i, (v, l)) in expected.iter().enumerate() {
        assert_eq!(clocks.vector(i).unwrap(), *v, "vector of #{i}");
        assert_eq!(clocks.lamport(i).unwrap(), *l, "Lamport of #{i}");
    }
    assert!(clocks.happened_before(0, 5).unwrap());
    assert!(clocks.concurrent(3, 4).unwrap());
    assert_eq!(clocks.order(6, 1).unwrap(), Order::After);
    assert_eq!(clocks.causal_past(5).unwrap(), vec![0, 1, 2, 4]);
    assert_eq!(clocks.concurrent_with(3).unwrap(), vec![4, 5, 6, 7]);
    assert_eq!(quiz.truth(), vec![Order::Before, Order::Concurrent, Order::After, Order::Concurrent]);
    let graded = quiz.grade("before, CONCURRENT before;what").to_string();
    assert!(graded.contains("2 of 4 right"), "{graded}");
    // The ack reached Node-0 before Node-1 sent b (5 ms later), yet they are concurrent.
    assert!(clocks.misleading_pairs(c.trace()).contains(&(3, 4)));
}

#[test]
fn queries_about_network_events_or_missing_events_are_errors() {
    let mut c = Cluster::new(Config::builder().loss(1.0).build().unwrap());
    c.send(0, 1, "lost").unwrap();
    let clocks = Clocks::of(&c).unwrap();
    let dropped = c.trace().iter().position(|e| matches!(e.kind, EventKind::Dropped { .. })).unwrap();
    let e = clocks.vector(dropped).unwrap_err().to_string();
    assert!(e.contains("happened in the network"), "{e}");
    let e = clocks.happened_before(0, 999).unwrap_err().to_string();
    assert!(e.contains("999") && e.contains(&format!("0 to {}", c.trace().len() - 1)), "{e}");
    assert!(causality::table(&c).unwrap().to_string().contains("(network)"));
}

/// Happened-before as defined: the transitive closure of node order and message delivery.
fn reachable(c: &Cluster) -> (Vec<Option<usize>>, Vec<Vec<bool>>) {
    let n = c.trace().len();
    let clocks = Clocks::of(c).unwrap();
    let node: Vec<Option<usize>> = (0..n).map(|i| clocks.node(i)).collect();
    let mut edges = vec![Vec::new(); n];
    let mut last: HashMap<usize, usize> = HashMap::new();
    let mut sent: HashMap<MsgId, usize> = HashMap::new();
    for (i, e) in c.trace().iter().enumerate() {
        let Some(at) = node[i] else { continue };
        if let Some(&p) = last.get(&at) {
            edges[p].push(i);
        }
        last.insert(at, i);
        match &e.kind {
            EventKind::Sent { msg, .. } => {
                sent.insert(*msg, i);
            }
            EventKind::Delivered { msg, .. } => edges[sent[msg]].push(i),
            _ => {}
        }
    }
    let mut reach = vec![vec![false; n]; n];
    for a in 0..n {
        let mut queue: VecDeque<usize> = edges[a].iter().copied().collect();
        while let Some(b) = queue.pop_front() {
            if !reach[a][b] {
                reach[a][b] = true;
                queue.extend(edges[b].iter().copied());
            }
        }
    }
    (node, reach)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Vector clocks give exactly the happened-before relation, which is a strict partial
    /// order that puts every send before its delivery.
    #[test]
    fn vector_clocks_are_exactly_happened_before(config in config(), verbs in calls(1..14)) {
        let mut c = Cluster::new(config);
        for v in &verbs {
            apply(&mut c, v);
        }
        c.run();
        prop_assume!(c.trace().len() <= 260);
        let clocks = Clocks::of(&c).unwrap();
        let (node, reach) = reachable(&c);
        let ids: Vec<usize> = (0..node.len()).filter(|&i| node[i].is_some()).collect();
        for &a in &ids {
            prop_assert!(!clocks.happened_before(a, a).unwrap(), "irreflexive at {}", a);
            for &b in &ids {
                let hb = clocks.happened_before(a, b).unwrap();
                prop_assert_eq!(hb, reach[a][b], "a={} b={}", a, b);
                if hb {
                    prop_assert!(!clocks.happened_before(b, a).unwrap(), "antisymmetric");
                    prop_assert!(clocks.lamport(a).unwrap() < clocks.lamport(b).unwrap(), "Lamport clock condition");
                    prop_assert!(c.trace().get(a).unwrap().at <= c.trace().get(b).unwrap().at, "causality respects time");
                }
            }
        }
        let mut sent: HashMap<MsgId, usize> = HashMap::new();
        for (i, e) in c.trace().iter().enumerate() {
            match &e.kind {
                EventKind::Sent { msg, .. } => { sent.insert(*msg, i); }
                EventKind::Delivered { msg, .. } => prop_assert!(clocks.happened_before(sent[msg], i).unwrap()),
                _ => {}
            }
        }
    }

    /// A fork that changes nothing gives the original run byte for byte: trace, tables, SVG.
    #[test]
    fn a_fork_with_no_change_is_identical(config in config(), verbs in calls(1..20), at in 0usize..400) {
        let mut c = Cluster::new(config);
        for v in &verbs {
            apply(&mut c, v);
        }
        prop_assume!(!c.calls().is_empty());
        let fork = if at % 2 == 0 { Fork::before_event(at / 2) } else { Fork::at_ms(at as f64).unwrap() };
        match c.what_if(fork, Change::Nothing) {
            Ok(w) => {
                prop_assert_eq!(w.divergence, None);
                for run in [&w.before, &w.after] {
                    prop_assert_eq!(run.trace().to_jsonl(), c.trace().to_jsonl());
                    prop_assert_eq!(run.stats().to_string(), c.stats().to_string());
                    prop_assert_eq!(run.status().to_html(), c.status().to_html());
                    prop_assert_eq!(chart::space_time(run).svg(), chart::space_time(&c).svg());
                }
                prop_assert!(w.differences().rows.iter().all(|r| r[3] == "yes"), "{}", w);
            }
            Err(e) => prop_assert!(e.to_string().contains("a point within the run"), "{}", e),
        }
    }

    /// Saving and loading gives the same run; any damage to the file is an error with a
    /// place, never a panic.
    #[test]
    fn run_files_round_trip_and_damage_is_reported(config in config(), verbs in calls(1..12), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut c = Cluster::new(config);
        for v in &verbs {
            apply(&mut c, v);
        }
        let file = c.run_file().unwrap();
        let loaded = Cluster::from_run_file(&file, "run.jsonl").unwrap();
        prop_assert_eq!(loaded.run_file().unwrap(), file.clone());
        prop_assert_eq!(chart::space_time(&loaded).svg(), chart::space_time(&c).svg());
        let mut damaged = file.clone().into_bytes();
        let i = cut.index(damaged.len());
        damaged[i] = byte;
        if let Ok(text) = String::from_utf8(damaged) {
            if let Err(e) = Cluster::from_run_file(&text, "run.jsonl") {
                prop_assert!(matches!(e, Error::Data { line: 1.., column: 1.., .. }), "{:?}", e);
            }
        }
    }
}

fn small_run() -> Cluster {
    let mut c = Cluster::new(Config::builder().nodes(3).loss(0.3).seed(5).build().unwrap());
    c.send(0, 1, "hi").unwrap();
    c.replicate("k", "v1").unwrap();
    c.crash(2).unwrap();
    c.broadcast(0, "news").unwrap();
    c
}

fn load_err(text: &str) -> (usize, usize, String) {
    match Cluster::from_run_file(text, "bad.jsonl") {
        Err(Error::Data { file, line, column, message }) => {
            assert_eq!(file, "bad.jsonl");
            (line, column, message)
        }
        other => panic!("expected a data error, got {other:?}"),
    }
}

#[test]
fn malformed_run_files_say_file_line_and_column() {
    let good = small_run().run_file().unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let join = |ls: &[String]| ls.join("\n") + "\n";
    let owned: Vec<String> = lines.iter().map(|s| s.to_string()).collect();

    let (l, c, m) = load_err("");
    assert_eq!((l, c), (1, 1));
    assert!(m.contains("empty"), "{m}");

    let mut t = owned.clone();
    t[1] = t[1][..t[1].len() / 2].to_string();
    let (l, c, m) = load_err(&join(&t));
    assert_eq!(l, 2);
    assert!(c > 1 && m.contains("EOF"), "{c} {m}");

    let mut t = owned.clone();
    t[1] = r#"{"verb":"send","from":"zero","to":1,"text":"hi"}"#.into();
    let (l, c, m) = load_err(&join(&t));
    assert_eq!((l, c), (2, 23), "{m}"); // where "zero" starts
    assert!(m.contains("invalid type"), "{m}");

    let mut t = owned.clone();
    t[1] = r#"{"verb":"teleport","from":0}"#.into();
    let (l, _, m) = load_err(&join(&t));
    assert_eq!(l, 2);
    assert!(m.contains("unknown variant `teleport`") && m.contains("send"), "{m}");

    let mut t = owned.clone();
    t[0] = t[0].replace("\"format\":1", "\"format\":7");
    let (l, c, m) = load_err(&join(&t));
    assert_eq!((l, c), (1, t[0].find("\"format\"").unwrap() + 1));
    assert!(m.contains("format 7") && m.contains("update distlab"), "{m}");

    let mut t = owned.clone();
    t[0] = t[0].replace("\"loss\":0.3", "\"loss\":3.0");
    let (l, c, m) = load_err(&join(&t));
    assert_eq!((l, c), (1, t[0].find("\"loss\"").unwrap() + 1), "{m}");
    assert!(m.contains("loss") && m.contains("[0, 1]"), "{m}");

    let mut t = owned.clone();
    t[1] = r#"{"verb":"send","from":0,"to":9,"text":"hi"}"#.into();
    let (l, _, m) = load_err(&join(&t));
    assert_eq!(l, 2);
    assert!(m.contains("replaying this send") && m.contains('9'), "{m}");

    // A trace that does not replay: the error points at the event where they part.
    let first_event = owned.iter().position(|l| l.starts_with("{\"t_us\"")).unwrap();
    let mut t = owned.clone();
    t[first_event + 2] = t[first_event + 2].replacen("\"t_us\":", "\"t_us\":9", 1);
    let (l, c, m) = load_err(&join(&t));
    assert_eq!((l, c), (first_event + 3, 9), "{m}");
    assert!(m.contains("event #2"), "{m}");

    let mut t = owned.clone();
    t.pop();
    let (l, _, m) = load_err(&join(&t));
    assert_eq!(l, t.len() + 1);
    assert!(m.contains("the replay goes on"), "{m}");

    let mut t = owned.clone();
    t.push(r#"{"verb":"heal"}"#.into());
    let (l, _, m) = load_err(&join(&t));
    assert_eq!(l, t.len());
    assert!(m.contains("after the trace began"), "{m}");

    let (l, _, m) = load_err("[1, 2, 3]\n");
    assert_eq!(l, 1);
    assert!(m.contains("expected the header"), "{m}");

    let dir = std::env::temp_dir().join(format!("distlab-runfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.jsonl");
    small_run().save_run(&path).unwrap();
    let back = Cluster::load_run(&path).unwrap();
    assert_eq!(back.trace().to_jsonl(), small_run().trace().to_jsonl());
    let e = Cluster::load_run(dir.join("missing.jsonl")).unwrap_err().to_string();
    assert!(e.contains("missing.jsonl"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A run file saved before the verbs were one table and `Config` read itself (every verb,
/// node names, exponential latency) loads, replays its trace, and saves to the same bytes.
#[test]
fn a_run_file_from_before_the_verb_table_loads_and_saves_the_same_bytes() {
    let text = include_str!("data/run-format1.jsonl");
    let c = Cluster::from_run_file(text, "run-format1.jsonl").unwrap();
    assert_eq!(c.run_file().unwrap(), text);
    let verbs: Vec<&str> = c.calls().iter().map(|call| call.verb()).collect();
    for verb in
        ["send", "replicate_from", "crash_at", "partition_one_way", "post", "step", "run_until", "heal"]
    {
        assert!(verbs.contains(&verb), "{verb} in {verbs:?}");
    }

    // The header's seed may also be in its config, if it is the same one.
    let header = text.lines().next().unwrap();
    let with = |seed: u64| {
        text.replacen(
            header,
            &header.replace("\"durable\":false", &format!("\"durable\":false,\"seed\":{seed}")),
            1,
        )
    };
    assert_eq!(Cluster::from_run_file(&with(99), "run.jsonl").unwrap().run_file().unwrap(), text);
    let (l, c, m) = load_err(&with(98));
    assert_eq!((l, c), (1, header.find("\"config\"").unwrap() + 1), "{m}");
    assert!(m.contains("two seeds"), "{m}");
}

#[test]
fn the_shiviz_log_parses_and_each_host_counts_up_by_one() {
    let c = small_run();
    let log = causality::shiviz(&c).unwrap();
    let mut lines = log.lines();
    assert_eq!(lines.next(), Some(causality::SHIVIZ_REGEX));
    assert_eq!(lines.next(), Some(""));
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut count = 0;
    for line in lines {
        let (host, rest) = line.split_once(' ').unwrap();
        let end = rest.find('}').unwrap();
        let clock: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&rest[..=end]).unwrap();
        let own = clock[host].as_u64().unwrap();
        let before = seen.insert(host.to_string(), own).unwrap_or(0);
        assert_eq!(own, before + 1, "{line}");
        count += 1;
    }
    let clocks = Clocks::of(&c).unwrap();
    assert_eq!(count, clocks.events().count());
}

#[test]
fn a_fork_shows_what_one_change_does() {
    let mut c = Cluster::new(Config::builder().nodes(3).loss(0.0).seed(3).build().unwrap());
    c.replicate("k", "v1").unwrap();
    c.crash_at(2, c.now().as_ms() + 1.0).unwrap();
    c.replicate("k", "v2").unwrap();
    c.recover(2).unwrap();
    assert!(!c.check_consistency("k").is_consistent());
    // What if every message had taken 0.5 ms from the second write on?
    let started = c.trace().iter().position(|e| matches!(e.kind, EventKind::Crashed { .. })).unwrap();
    let w = c.what_if(Fork::at_ms(0.0).unwrap(), Change::Latency(Latency::constant(0.5))).unwrap();
    assert!(w.after.check_consistency("k").is_consistent(), "{}", w);
    let (k, _) = w.divergence.unwrap();
    assert!(k < started, "the runs part at the first message, before the crash");
    let table = w.differences();
    let verdict = table.rows.iter().find(|r| r[0] == "check of k").unwrap();
    assert_eq!(verdict[3], "NO");
    let svg = w.chart().svg();
    assert!(svg.contains("first difference: event #"), "the divergence is marked");
    assert!(svg.contains("as it ran") && svg.contains("with the change"));

    // Crash Node-1 before event 3: it holds nothing of what came after.
    let w = c.what_if(Fork::before_event(3), Change::crash(1)).unwrap();
    assert_eq!(w.divergence.map(|d| d.0), Some(3));
    assert!(w.after.trace().get(3).is_some_and(|e| matches!(e.kind, EventKind::Crashed { .. })));

    // A lost message delivered, and a delivered one lost.
    let mut lossy = Cluster::new(Config::builder().nodes(3).loss(0.5).seed(1).build().unwrap());
    lossy.broadcast(0, "x").unwrap();
    let lost = lossy.trace().iter().find_map(|e| match e.kind {
        EventKind::Dropped { msg, cause: DropCause::Lost, .. } => Some(msg),
        _ => None,
    });
    if let Some(m) = lost {
        let w = lossy.what_if(Fork::at_ms(0.0).unwrap(), Change::Deliver(m)).unwrap();
        assert!(w
            .after
            .trace()
            .iter()
            .any(|e| matches!(e.kind, EventKind::Delivered { msg, .. } if msg == m)));
    }
    let e = lossy.what_if(Fork::at_ms(0.0).unwrap(), Change::Drop(MsgId(9999))).unwrap_err().to_string();
    assert!(e.contains("9999"), "{e}");
    let e = lossy.what_if(Fork::at_ms(1e9).unwrap(), Change::Nothing).unwrap_err().to_string();
    assert!(e.contains("a point within the run"), "{e}");
    let e = lossy.what_if(Fork::at_ms(0.0).unwrap(), Change::crash(7)).unwrap_err().to_string();
    assert!(e.contains('7'), "{e}");
}

/// The same clocks for a run on real sockets: computed from its trace, they still put every
/// send before its delivery, and node order holds.
#[test]
fn clocks_work_for_a_run_on_real_sockets() {
    let config = Config::builder().nodes(3).loss(0.2).seed(4).timeout_ms(300.0).build().unwrap();
    let mut c = distlab::udp::RealCluster::start(config).unwrap();
    c.broadcast(0, "over udp").unwrap();
    c.send(1, 2, "and back").unwrap();
    c.replicate("k", "v").unwrap();
    c.wait_until_quiet(500);
    let clocks = Clocks::of(&c).unwrap();
    let trace = c.events();
    let mut sent: HashMap<MsgId, usize> = HashMap::new();
    let mut last: HashMap<usize, usize> = HashMap::new();
    let mut deliveries = 0;
    for (i, e) in trace.iter().enumerate() {
        if let Some(n) = clocks.node(i) {
            if let Some(&p) = last.get(&n) {
                assert!(clocks.happened_before(p, i).unwrap(), "node order at #{i}");
            }
            last.insert(n, i);
        }
        match &e.kind {
            EventKind::Sent { msg, .. } => {
                sent.insert(*msg, i);
            }
            EventKind::Delivered { msg, .. } => {
                assert!(clocks.happened_before(sent[msg], i).unwrap(), "send before delivery at #{i}");
                deliveries += 1;
            }
            _ => {}
        }
    }
    assert!(deliveries > 0);
    assert!(causality::shiviz(&c).unwrap().lines().count() > 2);
    c.shutdown();
}

/// Every label of a clock diagram starts inside the picture, also next to the right edge.
#[test]
fn clock_labels_stay_inside_the_chart() {
    let quiz = ConcurrencyQuiz::new(2026).unwrap();
    for stamp in [Stamp::Number, Stamp::Lamport, Stamp::Vector] {
        let chart = chart::clocks(quiz.cluster(), stamp).unwrap();
        let svg = chart.svg();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let (w, _) = chart.dimensions();
        let mut labels = 0;
        for t in doc.descendants().filter(|n| n.has_tag_name("text")) {
            let x: f64 = t.attribute("x").unwrap().parse().unwrap();
            let text = t.text().unwrap_or("").trim();
            if text.starts_with('[') || text.starts_with('#') || text.parse::<u32>().is_ok() {
                labels += 1;
                assert!(x >= 0.0 && x + 6.0 * text.chars().count() as f64 <= w as f64, "{text} at {x}");
            }
        }
        assert!(labels >= 8, "{stamp:?}: {labels} labels");
    }
}
