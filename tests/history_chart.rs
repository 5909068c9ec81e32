//! A checked history drawn as bars: the calls a failed linearizability check cannot order are
//! marked, a linearizable history marks none, and 100 calls stay small.

use distlab::check::{Call, ClientOp, History};
use distlab::node::NodeId;
use distlab::time::Time;

const MARK: &str = "#D55E00";

fn call(node: u32, op: ClientOp, from_ms: f64, to_ms: Option<f64>, answer: Option<u64>) -> Call {
    Call {
        node: NodeId(node),
        op,
        invoked: Time::from_ms(from_ms),
        returned: to_ms.map(|t| (Time::from_ms(t), answer)),
    }
}

fn marked_bars(svg: &str) -> usize {
    svg.lines().filter(|l| l.contains("<rect") && l.contains(&format!("fill=\"{MARK}\""))).count()
}

#[test]
fn a_new_old_inversion_marks_its_calls_and_nothing_else() {
    // Write 1 finishes; write 2 is still going when node 1 reads 2, then node 2 reads 1
    // after that read answered: the new-old inversion of a register without write-back.
    let h = History {
        calls: vec![
            call(0, ClientOp::Write { value: 1 }, 0.0, Some(10.0), None),
            call(0, ClientOp::Write { value: 2 }, 20.0, Some(90.0), None),
            call(1, ClientOp::Read, 30.0, Some(40.0), Some(2)),
            call(2, ClientOp::Read, 50.0, Some(60.0), Some(1)),
        ],
    };
    let svg = h.chart().svg();
    // The calls of values 1 and 2 clash: both writes and both reads.
    assert_eq!(marked_bars(&svg), 4, "{svg}");
    assert!(svg.contains("calls no order can fit"));
    for label in ["W 1", "W 2", "R 2", "R 1"] {
        assert!(svg.contains(label), "{label} missing");
    }
}

#[test]
fn a_linearizable_history_marks_nothing_and_a_call_never_answered_is_hollow() {
    let h = History {
        calls: vec![
            call(0, ClientOp::Write { value: 1 }, 0.0, Some(10.0), None),
            call(1, ClientOp::Read, 20.0, Some(30.0), Some(1)),
            call(2, ClientOp::Write { value: 2 }, 25.0, None, None),
        ],
    };
    let svg = h.chart().svg();
    assert_eq!(marked_bars(&svg), 0);
    assert!(!svg.contains("calls no order can fit"));
    assert!(svg.contains("W 2"));
}

#[test]
fn one_hundred_calls_stay_small_and_overlapping_calls_get_their_own_row() {
    let calls = (0..100u64)
        .map(|i| {
            let op = if i % 3 == 0 { ClientOp::Read } else { ClientOp::Write { value: i + 1 } };
            let answer = (i % 3 == 0).then_some(i);
            call((i % 2) as u32, op, i as f64 * 5.0, Some(i as f64 * 5.0 + 12.0), answer.filter(|&a| a > 0))
        })
        .collect();
    let h = History { calls };
    let svg = h.chart().svg();
    assert!(svg.len() < 60_000, "{} bytes", svg.len());
    assert!(svg.contains("Node-0 (2)"), "overlapping calls of one node share no row");
    assert_eq!(h.chart().svg(), svg, "same history, same bytes");
}
