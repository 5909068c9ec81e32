//! Real network mode, on loopback only; every test is bounded in time.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use distlab::ops::OpTag;
use distlab::prelude::*;
use distlab::trace::Body;
use distlab::udp::{Member, RealCluster, Wire};

fn config(nodes: usize, loss: f64) -> Config {
    Config::builder().nodes(nodes).loss(loss).seed(4).timeout_ms(300.0).build().unwrap()
}

#[test]
fn every_message_is_delivered_dropped_or_in_flight() {
    let mut c = RealCluster::start(config(4, 0.2)).unwrap();
    for i in 0..400 {
        c.post(i % 4, (i + 1 + i / 4 % 3) % 4, "m").unwrap();
    }
    let left = c.wait_until_quiet(3000);
    let trace = c.trace();
    let unsettled = common::unsettled(&trace);
    let s = c.stats();
    assert_eq!(trace.iter().filter(|e| matches!(e.kind, EventKind::Sent { .. })).count(), 400);
    assert_eq!(unsettled, left, "unsettled messages are exactly those counted in flight");
    assert_eq!(s.total.sent + s.total.duplicated, s.total.delivered + s.total.dropped() + s.in_flight);
    let lost = s.total.dropped_lost as f64;
    assert!((lost - 80.0).abs() < 4.0 * (400.0f64 * 0.2 * 0.8).sqrt(), "lost {lost} of 400 at p = 0.2");
    assert!(s.latency.count > 0 && s.latency.max_ms < 1000.0, "{:?}", s.latency);
    c.shutdown();
}

#[test]
fn a_crashed_node_receives_nothing_and_the_sender_sees_a_timeout() {
    let mut c = RealCluster::start(config(3, 0.0)).unwrap();
    assert!(c.broadcast(0, "warm-up").unwrap().all_acked());
    let before = c.status().nodes[2].counters.received;
    c.crash(2).unwrap();
    let r = c.broadcast(0, "anyone?").unwrap();
    assert_eq!(r.acked(), ["Node-1"]);
    assert_eq!(r.timed_out(), ["Node-2"]);
    assert_eq!(r.targets[1].request, Fate::Dropped { cause: DropCause::TargetDown });
    for _ in 0..20 {
        c.post(1, 2, "ping").unwrap();
    }
    c.wait_until_quiet(1000);
    assert_eq!(c.status().nodes[2].counters.received, before);
    let mut down = false;
    for e in c.trace().iter() {
        match &e.kind {
            EventKind::Crashed { node } if node.0 == 2 => down = true,
            EventKind::Delivered { to, .. } if to.0 == 2 => assert!(!down, "delivered to a crashed node"),
            _ => {}
        }
    }
    c.shutdown();
}

#[test]
fn sync_repairs_a_stale_replica_over_real_sockets() {
    let mut c = RealCluster::start(config(3, 0.0)).unwrap();
    c.replicate("config_version", "1.2.3").unwrap();
    c.crash(2).unwrap();
    c.replicate("config_version", "1.2.4").unwrap();
    c.recover(2).unwrap();
    assert_eq!(c.check_consistency("config_version").stale(), ["Node-2"]);
    let s = c.sync(2).unwrap();
    assert!(s.all_acked(), "{s}");
    assert_eq!(s.updated.len(), 1);
    assert!(c.check_consistency("config_version").is_consistent());
    let over_the_network = c.read_all(0, "config_version").unwrap();
    assert!(over_the_network.is_consistent(), "{over_the_network}");
    c.shutdown();
}

#[test]
fn garbage_from_strangers_and_peers_is_counted_and_ignored() {
    let mut c = RealCluster::start(config(2, 0.0)).unwrap();
    let target = c.addrs()[0];
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    stranger.send_to(b"hello?", target).unwrap();
    stranger.send_to(&vec![b'x'; 20_000], target).unwrap();
    // A peer that speaks nonsense: a member whose peer address is a socket of ours.
    let us = UdpSocket::bind("127.0.0.1:0").unwrap();
    us.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let member_socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let member_addr = member_socket.local_addr().unwrap();
    drop(member_socket);
    let member = Member::start(config(2, 0.0), 0, &[member_addr, us.local_addr().unwrap()]).unwrap();
    us.send_to(b"{not json", member_addr).unwrap();
    let wrong_receiver = Wire { msg: 1, from: 1, to: 7, sent_us: 0, tag: None, body: Body::Ack.into() };
    us.send_to(&serde_json::to_vec(&wrong_receiver).unwrap(), member_addr).unwrap();
    // ...and the member still answers a well-formed request.
    let ping = Wire {
        msg: 2,
        from: 1,
        to: 0,
        sent_us: 0,
        tag: Some(OpTag { op: 9, target: 0, reply: false }),
        body: Body::Text { text: "ping".into() }.into(),
    };
    us.send_to(&serde_json::to_vec(&ping).unwrap(), member_addr).unwrap();
    let mut buf = [0u8; 2048];
    let (n, _) = us.recv_from(&mut buf).expect("the member replies after garbage");
    let reply: Wire<Body> = serde_json::from_slice(&buf[..n]).unwrap();
    assert_eq!((reply.tag, reply.to), (Some(OpTag { op: 9, target: 0, reply: true }), 1));
    let deadline = Instant::now() + Duration::from_secs(2);
    while c.rejected(0).unwrap().oversize == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let r = c.rejected(0).unwrap();
    assert_eq!((r.stranger, r.oversize, r.garbage), (1, 1, 0), "{r:?}");
    let m = member.rejected();
    assert_eq!((m.garbage, m.wrong_id), (1, 1), "{m:?}");
    assert!(c.send(1, 0, "still alive?").unwrap().all_acked());
    member.shutdown();
    c.shutdown();
}

#[test]
fn a_port_in_use_is_an_error_that_names_it() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = RealCluster::start_on(config(2, 0.0), &[0, port]).unwrap_err().to_string();
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    let err = RealCluster::start_on(config(2, 0.0), &[0]).unwrap_err().to_string();
    assert!(err.contains("ports"), "{err}");
}

#[test]
fn the_node_binary_runs_three_processes_through_a_replicate_and_a_check() {
    let ports: Vec<u16> = (0..3)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect::<Vec<_>>()
        .iter()
        .map(|s| s.local_addr().unwrap().port())
        .collect();
    let peers = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect::<Vec<_>>().join(",");
    let mut children = Vec::new();
    let mut outputs = Vec::new();
    for id in 0..3 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_distlab-node"))
            .args(["--id", &id.to_string(), "--peers", &peers, "--timeout-ms", "1000"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        children.push(child);
        outputs.push(rx);
    }
    let wait_for = |rx: &mpsc::Receiver<String>, needle: &str| -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return seen;
                }
            }
        }
        panic!("no line with {needle:?} within 15 s; saw {seen:#?}");
    };
    for rx in &outputs {
        wait_for(rx, "listening on");
    }
    let mut stdin0 = children[0].stdin.take().unwrap();
    writeln!(stdin0, "replicate config_version 1.2.3").unwrap();
    let seen = wait_for(&outputs[0], "replicate from Node-0");
    let summary = seen.last().unwrap();
    assert!(summary.contains("acked: Node-1, Node-2; no answer: none"), "{seen:#?}");
    assert!(!summary.contains("reached"), "a node cannot know what reached its peers: {summary}");
    writeln!(stdin0, "check config_version").unwrap();
    wait_for(&outputs[0], "CONSISTENT: every node answered with the same version");
    wait_for(&outputs[2], "Node-2 stored config_version = 1.2.3");
    writeln!(stdin0, "status").unwrap();
    let status = wait_for(&outputs[0], "heard from each peer");
    assert!(status.iter().any(|l| l.contains("status of Node-0")), "{status:#?}");
    assert!(!status.iter().any(|l| l.contains("nodes up")), "{status:#?}");
    // Node-2 quits: Node-0 cannot tell that from a lost message, so it says "no answer".
    writeln!(children[2].stdin.take().unwrap(), "quit").unwrap();
    wait_for(&outputs[2], "Node-2 stopped");
    writeln!(stdin0, "check config_version").unwrap();
    let check = wait_for(&outputs[0], "no answer from Node-2");
    assert!(!check.iter().any(|l| l.contains("DOWN")), "{check:#?}");
    writeln!(stdin0, "quit").unwrap();
    writeln!(children[1].stdin.take().unwrap(), "quit").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    for child in &mut children {
        loop {
            match child.try_wait().unwrap() {
                Some(status) => {
                    assert!(status.success(), "{status}");
                    break;
                }
                None if Instant::now() > deadline => {
                    let _ = child.kill();
                    panic!("a node did not stop on quit");
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}
