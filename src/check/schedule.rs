//! Fault schedules: crashes, recoveries, partitions and slow nodes at virtual times, drawn
//! from a seed within bounds the learner sets, and shrunk to the fewest faults that still
//! fail.
//!
//! A slow node ([`FaultKind::Slow`]) is a replica that lags: its messages to a majority of
//! the nodes take a fixed 200 to 1000 ms longer, its messages to the others and every message
//! to it are on time. It is drawn that way for the new-old inversion of a register: a write
//! at the slow node is held at once by a minority (itself and the peers it reaches on time)
//! and by a majority only later, so a read that asks that minority's members sees the new
//! value while a later read that asks the others still sees the old one. The delay is fixed
//! per link and draws nothing from the run's generators, so a schedule with the slow period
//! shrunk away replays every other draw unchanged. Slow periods are drawn last, and only when
//! [`Bounds::slow`] allows them, so a schedule without them is the one the seed drew before
//! they existed.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

use crate::node::NodeId;
use crate::table::{show_tables, Table, Tabular};
use crate::time::Time;

/// What happens at one moment of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum FaultKind {
    /// A node crashes.
    Crash {
        /// The node.
        node: NodeId,
    },
    /// A node comes back.
    Recover {
        /// The node.
        node: NodeId,
    },
    /// These nodes are cut off from the others, both ways.
    Partition {
        /// The minority side.
        group: Vec<NodeId>,
    },
    /// A lagging replica: messages from `node` to the nodes of `to`, sent from now on, each
    /// take `extra_ms` longer than their drawn latency, until [`FaultKind::Fast`]; its
    /// messages to the other nodes, and every message to it, are on time. Drawn with `to`
    /// a majority of the nodes, so a write at `node` reaches the others (and itself: a
    /// minority) at once and a majority only `extra_ms` later.
    Slow {
        /// The node.
        node: NodeId,
        /// The nodes its messages reach late.
        to: Vec<NodeId>,
        /// The extra delay, in virtual ms.
        extra_ms: u64,
    },
    /// A slow node's messages are back to their drawn latency.
    Fast {
        /// The node.
        node: NodeId,
    },
    /// Every partition heals.
    Heal,
}

/// One fault and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// When, in virtual time.
    pub at: Time,
    /// What.
    #[serde(flatten)]
    pub kind: FaultKind,
}

/// The faults of one run, in time order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Schedule {
    /// The faults.
    pub faults: Vec<Fault>,
}

/// How many faults a schedule may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Bounds {
    /// Crashes at most, of distinct nodes, fewer than half of them, so a majority stays up;
    /// each crashed node may come back later.
    pub crashes: usize,
    /// Partitions at most; each cuts a minority off and heals later.
    pub partitions: usize,
    /// Slow periods at most, of distinct nodes: each makes one node's messages to a
    /// majority of the nodes take [`SLOW_MIN_MS`] to [`SLOW_MAX_MS`] longer, and ends later.
    pub slow: usize,
}

/// The shortest extra delay a drawn [`FaultKind::Slow`] gives, in virtual ms.
pub const SLOW_MIN_MS: u64 = 200;
/// The longest extra delay a drawn [`FaultKind::Slow`] gives, in virtual ms.
pub const SLOW_MAX_MS: u64 = 1000;

impl Schedule {
    /// The schedule of `seed` for `nodes` nodes over `span` of virtual time.
    pub(crate) fn draw(seed: u64, nodes: usize, bounds: Bounds, span: Time) -> Schedule {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x4641_554c_5453_0000);
        let span = span.0.max(1);
        let mut faults = Vec::new();
        let mut order: Vec<u32> = (0..nodes as u32).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let crashes = rng.random_range(0..=bounds.crashes);
        for &node in order.iter().take(crashes) {
            let at = rng.random_range(0..span);
            faults.push(Fault { at: Time(at), kind: FaultKind::Crash { node: NodeId(node) } });
            if rng.random_bool(0.5) {
                let back = at + rng.random_range(1..=span / 2 + 1);
                faults.push(Fault { at: Time(back), kind: FaultKind::Recover { node: NodeId(node) } });
            }
        }
        let partitions = rng.random_range(0..=bounds.partitions);
        for _ in 0..partitions {
            let at = rng.random_range(0..span);
            let size = rng.random_range(1..=((nodes - 1) / 2).max(1));
            let mut group: Vec<NodeId> = (0..nodes as u32).map(NodeId).collect();
            for i in (1..group.len()).rev() {
                group.swap(i, rng.random_range(0..=i));
            }
            group.truncate(size);
            group.sort();
            faults.push(Fault { at: Time(at), kind: FaultKind::Partition { group } });
            let heal = at + rng.random_range(1..=span / 2 + 1);
            faults.push(Fault { at: Time(heal), kind: FaultKind::Heal });
        }
        // Drawn last, and only when allowed, so a schedule without slow nodes is the one
        // the same seed drew before they existed.
        if bounds.slow > 0 {
            let slow = rng.random_range(0..=bounds.slow.min(nodes));
            let mut order: Vec<u32> = (0..nodes as u32).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, rng.random_range(0..=i));
            }
            for &node in order.iter().take(slow) {
                let at = rng.random_range(0..span);
                let extra_ms = rng.random_range(SLOW_MIN_MS..=SLOW_MAX_MS);
                // A majority of the nodes (not itself) it reaches late: with itself and the
                // peers it reaches on time, a write of its own is held by a minority only.
                let mut peers: Vec<NodeId> = (0..nodes as u32).filter(|&i| i != node).map(NodeId).collect();
                for i in (1..peers.len()).rev() {
                    peers.swap(i, rng.random_range(0..=i));
                }
                peers.truncate(nodes / 2 + 1);
                peers.sort();
                let node = NodeId(node);
                faults.push(Fault { at: Time(at), kind: FaultKind::Slow { node, to: peers, extra_ms } });
                let fast = at + rng.random_range(1..=span / 2 + 1);
                faults.push(Fault { at: Time(fast), kind: FaultKind::Fast { node } });
            }
        }
        faults.sort_by_key(|f| f.at);
        Schedule { faults }
    }

    /// The schedule without fault `i`.
    pub(crate) fn without(&self, i: usize) -> Schedule {
        let mut faults = self.faults.clone();
        faults.remove(i);
        Schedule { faults }
    }

    /// Shrinks the schedule: drops faults one at a time while `fails` still holds, until no
    /// single fault can go. The result always fails (it is only ever replaced by one that
    /// does).
    pub(crate) fn shrink(&self, mut fails: impl FnMut(&Schedule) -> bool) -> Schedule {
        let mut best = self.clone();
        let mut i = 0;
        while i < best.faults.len() {
            let smaller = best.without(i);
            if fails(&smaller) {
                best = smaller;
            } else {
                i += 1;
            }
        }
        best
    }
}

/// `Node-1, Node-3`.
fn names(nodes: &[NodeId]) -> String {
    nodes.iter().map(|n| format!("Node-{n}")).collect::<Vec<_>>().join(", ")
}

impl Tabular for Schedule {
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(format!("fault schedule ({} faults)", self.faults.len()), ["at", "fault"]);
        for f in &self.faults {
            let what = match &f.kind {
                FaultKind::Crash { node } => format!("Node-{node} crashes"),
                FaultKind::Recover { node } => format!("Node-{node} recovers"),
                FaultKind::Partition { group } => format!("{{{}}} cut off from the others", names(group)),
                FaultKind::Slow { node, to, extra_ms } => {
                    format!("Node-{node} slow: its messages to {} take {extra_ms} ms longer", names(to))
                }
                FaultKind::Fast { node } => format!("Node-{node} back to normal speed"),
                FaultKind::Heal => "partitions heal".to_string(),
            };
            t.row([f.at.to_string(), what]);
        }
        if self.faults.is_empty() {
            t.note("no faults: loss alone");
        }
        vec![t]
    }
}

show_tables!(Schedule);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_stay_in_bounds_and_keep_a_majority_up() {
        for seed in 0..300 {
            let s = Schedule::draw(seed, 5, Bounds { crashes: 2, partitions: 2, slow: 0 }, Time(2_000_000));
            let crashes = s.faults.iter().filter(|f| matches!(f.kind, FaultKind::Crash { .. })).count();
            let cuts: Vec<_> = s
                .faults
                .iter()
                .filter_map(|f| match &f.kind {
                    FaultKind::Partition { group } => Some(group.len()),
                    _ => None,
                })
                .collect();
            assert!(crashes <= 2 && cuts.len() <= 2, "{s:?}");
            assert!(cuts.iter().all(|&g| (1..=2).contains(&g)), "{s:?}");
            assert!(s.faults.windows(2).all(|w| w[0].at <= w[1].at));
            assert_eq!(
                s,
                Schedule::draw(seed, 5, Bounds { crashes: 2, partitions: 2, slow: 0 }, Time(2_000_000))
            );
        }
    }

    #[test]
    fn slow_periods_stay_in_bounds_and_end() {
        let bounds = Bounds { crashes: 0, partitions: 0, slow: 2 };
        let mut seen = 0;
        for seed in 0..300 {
            let s = Schedule::draw(seed, 5, bounds, Time(2_000_000));
            let slow: Vec<_> = s
                .faults
                .iter()
                .filter_map(|f| match &f.kind {
                    FaultKind::Slow { node, to, extra_ms } => Some((f.at, *node, to.clone(), *extra_ms)),
                    _ => None,
                })
                .collect();
            assert!(slow.len() <= 2, "{s:?}");
            seen += slow.len();
            for (at, node, to, extra) in slow {
                assert!((SLOW_MIN_MS..=SLOW_MAX_MS).contains(&extra), "{s:?}");
                assert_eq!(to.len(), 3, "a majority of 5: {s:?}");
                assert!(!to.contains(&node) && to.iter().all(|n| n.index() < 5), "{s:?}");
                let fast = s.faults.iter().find(|f| f.kind == FaultKind::Fast { node }).expect("it ends");
                assert!(fast.at > at, "{s:?}");
            }
            assert_eq!(s, Schedule::draw(seed, 5, bounds, Time(2_000_000)));
        }
        assert!(seen > 100, "slow periods are drawn");
        // Without slow periods allowed, a seed draws the schedule it drew before they existed.
        let none = Bounds { crashes: 2, partitions: 1, slow: 0 };
        let s = Schedule::draw(3, 5, none, Time(1_000_000));
        assert!(s.faults.iter().all(|f| !matches!(f.kind, FaultKind::Slow { .. } | FaultKind::Fast { .. })));
    }

    #[test]
    fn shrinking_keeps_only_what_still_fails() {
        let s = Schedule::draw(7, 5, Bounds { crashes: 2, partitions: 2, slow: 0 }, Time(1_000_000));
        let crash = |s: &Schedule| s.faults.iter().any(|f| matches!(f.kind, FaultKind::Crash { .. }));
        if crash(&s) {
            let small = s.shrink(crash);
            assert_eq!(small.faults.len(), 1);
            assert!(crash(&small));
        }
    }
}
