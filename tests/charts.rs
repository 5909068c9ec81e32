//! Charts: valid SVG that holds what it must, edge cases without panic, identical bytes for
//! identical input.

use distlab::experiment::{availability, broadcast_reach, loss_sweep, rates, Architecture};
use distlab::prelude::*;

fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{}", &svg[..svg.len().min(400)]))
}

fn texts(svg: &str) -> Vec<String> {
    parse(svg)
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect()
}

fn count_fill(svg: &str, tag: &str, fill: &str) -> usize {
    parse(svg)
        .descendants()
        .filter(|n| n.has_tag_name(tag) && n.attribute("fill").is_some_and(|f| f.eq_ignore_ascii_case(fill)))
        .count()
}

fn small_run() -> Cluster {
    let mut c = Cluster::new(Config::builder().nodes(4).loss(0.2).seed(5).build().unwrap());
    c.broadcast(0, "hi").unwrap();
    c.crash(2).unwrap();
    c.send(0, 2, "anyone?").unwrap();
    c.recover(2).unwrap();
    c.partition([vec![0]]).unwrap();
    c.send(0, 1, "cut").unwrap();
    c.heal();
    c.run();
    c
}

fn every_chart(c: &Cluster) -> Vec<Chart> {
    let base = Config::builder().nodes(4).seed(1).build().unwrap();
    vec![
        chart::message_counts(&c.stats()),
        chart::space_time(c),
        chart::timeline(c),
        chart::latency_histogram(c),
        loss_sweep(&base, &rates(3, 0.5), 3, 200).unwrap().chart(),
        broadcast_reach(&base, &rates(3, 0.5), 20).unwrap().chart(),
        availability(
            &[Architecture::Centralized, Architecture::PeerToPeer { peers: 3 }],
            &rates(3, 1.0),
            20,
            1,
        )
        .unwrap()
        .chart(),
        Topology::client_server(3, 2).unwrap().chart(),
    ]
}

#[test]
fn every_chart_is_xml_with_its_title_and_the_same_bytes_twice() {
    let c = small_run();
    let (one, two) = (every_chart(&c), every_chart(&small_run()));
    for (a, b) in one.iter().zip(&two) {
        let svg = a.svg();
        parse(&svg);
        assert!(texts(&svg).iter().any(|t| t == a.title_text()), "title {:?} missing", a.title_text());
        assert_eq!(svg, b.svg(), "{} differs between identical runs", a.title_text());
        assert!(a.to_html().starts_with("<img src=\"data:image/svg+xml;base64,"));
    }
}

#[test]
fn message_counts_has_one_bar_per_node_and_series() {
    let c = small_run();
    let svg = chart::message_counts(&c.stats()).svg();
    // Six series in the palette's first six colours; each has one bar per node plus its legend swatch.
    for fill in ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"] {
        assert_eq!(count_fill(&svg, "rect", fill), 4 + 1, "series {fill}");
    }
    for name in ["Node-0", "Node-1", "Node-2", "Node-3"] {
        assert!(texts(&svg).iter().any(|t| t == name), "{name} label missing");
    }
}

#[test]
fn space_time_has_one_lane_per_node_and_one_cross_per_dropped_message() {
    let c = small_run();
    let dropped = c.stats().total.dropped() as usize;
    // At least the message to the crashed node and the one across the partition, for any seed.
    assert!(dropped >= 2, "the run should drop messages: {dropped}");
    let svg = chart::space_time(&c).svg();
    let t = texts(&svg);
    for name in ["Node-0", "Node-1", "Node-2", "Node-3"] {
        assert_eq!(t.iter().filter(|x| *x == name).count(), 1, "lane {name}");
    }
    assert_eq!(count_fill(&svg, "polygon", "#D55E00"), dropped, "crosses");
    let timeline = chart::timeline(&c).svg();
    assert!(count_fill(&timeline, "rect", "#D55E00") >= 1, "Node-2's down span");
}

#[test]
fn long_runs_and_big_clusters_are_cut_and_say_so() {
    let mut c = Cluster::new(Config::builder().nodes(10_000).loss(0.0).seed(2).build().unwrap());
    for i in 0..500 {
        c.post(i * 7 % 10_000, (i * 13 + 1) % 10_000, "m").unwrap();
    }
    c.run();
    let svg = chart::space_time(&c).svg();
    let all = texts(&svg).join(" ");
    assert!(all.contains("showing the first 200 of 500 messages"), "{all}");
    assert!(all.contains("of 10000 nodes"), "{all}");
    let counts = chart::message_counts(&c.stats()).svg();
    assert!(texts(&counts).join(" ").contains("grouped 250 per bar"));
    assert_eq!(count_fill(&counts, "rect", "#0072B2"), 40 + 1);
    let big = Topology::peer_to_peer(100).unwrap().chart().svg();
    assert!(texts(&big).join(" ").contains("showing the first 60 nodes"));
}

#[test]
fn edge_cases_render_without_panic() {
    let one = Cluster::new(Config::builder().nodes(1).build().unwrap());
    let mut lost = Cluster::new(Config::builder().nodes(3).loss(1.0).build().unwrap());
    lost.broadcast(0, "void").unwrap();
    let mut off = Cluster::new(Config::builder().nodes(3).trace(false).build().unwrap());
    off.broadcast(0, "x").unwrap();
    for c in [&one, &lost, &off] {
        for chart in every_chart(c) {
            parse(&chart.svg());
            parse(&chart.clone().size(0, 100_000).svg());
        }
    }
    assert!(texts(&chart::latency_histogram(&lost).svg())
        .iter()
        .any(|t| t.contains("no message was delivered")));
    assert_eq!(count_fill(&chart::space_time(&lost).svg(), "polygon", "#D55E00"), 2);
    assert_eq!(chart::space_time(&one).size(1, 1).dimensions(), (200, 200));
}

#[test]
fn a_learner_name_is_escaped_in_svg() {
    let mut c = Cluster::new(Config::builder().names(["<b>&", "x"]).loss(0.0).build().unwrap());
    c.send(0, 1, "hi").unwrap();
    let svg = chart::space_time(&c).svg();
    assert!(texts(&svg).iter().any(|t| t == "<b>&"), "the parsed text is the name as written");
}

#[test]
fn save_writes_the_svg_and_reports_a_bad_path() {
    let chart = Topology::ring(4).unwrap().chart();
    let path = std::env::temp_dir().join(format!("distlab-chart-{}.svg", std::process::id()));
    chart.save(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), chart.svg());
    std::fs::remove_file(&path).unwrap();
    let err = chart.save("/nonexistent-dir/x.svg").unwrap_err().to_string();
    assert!(err.contains("/nonexistent-dir/x.svg"), "{err}");
}

#[test]
fn experiments_reject_bad_arguments_by_name() {
    let base = Config::default();
    let e = loss_sweep(&base, &[0.1, 1.5], 3, 10).unwrap_err().to_string();
    assert!(e.contains("rates") && e.contains("1.5"), "{e}");
    assert!(loss_sweep(&base, &[0.1], 0, 10).unwrap_err().to_string().contains("seeds"));
    assert!(loss_sweep(&base, &[], 1, 10).unwrap_err().to_string().contains("rates"));
    let e =
        availability(&[Architecture::ClientServer { replicas: 0 }], &[0.1], 5, 1).unwrap_err().to_string();
    assert!(e.contains("replicas") && e.contains("1 to 16"), "{e}");
    let one = Config::builder().nodes(1).build().unwrap();
    assert!(broadcast_reach(&one, &[0.1], 5).unwrap_err().to_string().contains("nodes"));
}

#[test]
fn sweep_and_availability_agree_with_the_analytic_values() {
    let sweep =
        loss_sweep(&Config::builder().nodes(10).build().unwrap(), &[0.0, 0.3, 1.0], 10, 2000).unwrap();
    for r in &sweep.rows {
        assert!((r.mean - r.loss).abs() < 0.03, "{r:?}");
        assert!(r.min <= r.mean && r.mean <= r.max);
    }
    let a = availability(&[Architecture::ClientServer { replicas: 2 }], &[0.0, 0.5, 1.0], 400, 3).unwrap();
    assert_eq!(a.rows[0].observed, 1.0);
    assert!((a.rows[1].observed - 0.75).abs() < 0.08, "{:?}", a.rows[1]);
    assert_eq!(a.rows[2].observed, 0.0);
    // All up: request and reply. Half down: sometimes a timeout and a retry. All down: two
    // requests, no reply.
    assert_eq!(a.rows[0].messages_per_request, 2.0);
    assert!(a.rows[1].messages_per_request > 2.0, "{:?}", a.rows[1]);
    assert_eq!(a.rows[2].messages_per_request, 2.0);
}
