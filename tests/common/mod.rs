//! Oracles shared by the integration tests: they read a cluster's trace and counters and
//! check the invariants a correct network must keep.
#![allow(dead_code)]

pub mod verbs;

use std::collections::BTreeSet;

use distlab::prelude::*;
use distlab::trace::{CutSpec, Trace};

/// sent + duplicated = delivered + dropped + in flight, from the counters.
pub fn assert_conserved(c: &Cluster) {
    let s = c.stats();
    let t = s.total;
    assert_eq!(
        t.sent + t.duplicated,
        t.delivered + t.dropped() + s.in_flight,
        "conservation broken at {}: {t:?}, in flight {}",
        c.now(),
        s.in_flight
    );
    let received: u64 = s.nodes.iter().map(|n| n.counters.received).sum();
    assert_eq!(received, t.delivered, "received and delivered disagree");
}

/// Replays the trace: no delivery to a node while it is down, none across a cut.
pub fn assert_no_forbidden_delivery(c: &Cluster) {
    let n = c.len();
    let mut down = vec![false; n];
    let mut cuts: Vec<CutSpec> = Vec::new();
    for e in c.trace().iter() {
        match &e.kind {
            EventKind::Crashed { node } => down[node.index()] = true,
            EventKind::Recovered { node } => down[node.index()] = false,
            EventKind::Partitioned { cut } => cuts.push((**cut).clone()),
            EventKind::Healed => cuts.clear(),
            EventKind::Delivered { from, to, msg, .. } => {
                assert!(
                    !down[to.index()],
                    "message {msg:?} delivered to {to} while it was down, at {}",
                    e.at
                );
                for cut in &cuts {
                    assert!(
                        !(cut.from.contains(from) && cut.to.contains(to)),
                        "message {msg:?} from {from} to {to} crossed a partition at {}",
                        e.at
                    );
                }
            }
            _ => {}
        }
    }
}

/// Messages sent but neither delivered nor dropped, from the trace alone.
pub fn unsettled(trace: &Trace) -> u64 {
    let mut sent = BTreeSet::new();
    let mut settled = BTreeSet::new();
    for e in trace.iter() {
        match &e.kind {
            EventKind::Sent { msg, .. } => {
                sent.insert(*msg);
            }
            EventKind::Delivered { msg, .. } | EventKind::Dropped { msg, .. } => {
                settled.insert(*msg);
            }
            _ => {}
        }
    }
    sent.difference(&settled).count() as u64
}

/// Every message id that was sent is delivered, dropped or still counted in flight.
pub fn assert_every_message_accounted(c: &Cluster) {
    let unsettled = unsettled(c.trace());
    assert!(unsettled <= c.in_flight(), "{unsettled} messages vanished (in flight: {})", c.in_flight());
}
pub mod broken;
