//! Figures derived from a run: per node and in total, delivery ratio, messages per operation
//! and latency percentiles.
//!
//! Counters and the latency histogram are kept as the run goes, so statistics work with the
//! trace switched off and their memory does not grow with the number of messages.

use serde::Serialize;

use crate::node::{Counters, NodeId};
use crate::report::up_down;
use crate::table::{show_tables, Table, Tabular};
use crate::time::Time;

/// Sub-buckets per power of two: quantiles are within 1/64 (about 1.6 %) of the true value.
const SUB: u64 = 64;
const EXACT: u64 = 2 * SUB;

/// A log-linear histogram of latencies in microseconds (HDR-style), fixed in size.
#[derive(Debug, Clone, Default)]
pub(crate) struct LatencyHistogram {
    counts: Vec<u64>,
    count: u64,
    min: u64,
    max: u64,
}

impl LatencyHistogram {
    fn bucket(v: u64) -> usize {
        if v < EXACT {
            return v as usize;
        }
        let e = 63 - v.leading_zeros() as u64; // >= 7
        let shift = e - 6;
        let mantissa = v >> shift; // 64..128
        (EXACT + (e - 7) * SUB + (mantissa - SUB)) as usize
    }

    fn lower_bound(b: usize) -> u64 {
        let b = b as u64;
        if b < EXACT {
            return b;
        }
        let e = (b - EXACT) / SUB + 7;
        let mantissa = (b - EXACT) % SUB + SUB;
        mantissa << (e - 6)
    }

    pub(crate) fn record(&mut self, us: u64) {
        let b = Self::bucket(us);
        if self.counts.len() <= b {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += 1;
        if self.count == 0 || us < self.min {
            self.min = us;
        }
        self.max = self.max.max(us);
        self.count += 1;
    }

    /// The value at quantile `q` in [0, 1], clamped to the observed min and max.
    fn quantile(&self, q: f64) -> u64 {
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let lo = Self::lower_bound(b);
                let hi = Self::lower_bound(b + 1).saturating_sub(1).max(lo);
                return (lo + (hi - lo) / 2).clamp(self.min, self.max);
            }
        }
        self.max
    }

    pub(crate) fn summary(&self) -> LatencySummary {
        if self.count == 0 {
            return LatencySummary::default();
        }
        LatencySummary {
            count: self.count,
            min_ms: Time(self.min).as_ms(),
            median_ms: Time(self.quantile(0.5)).as_ms(),
            p99_ms: Time(self.quantile(0.99)).as_ms(),
            max_ms: Time(self.max).as_ms(),
        }
    }

    /// (lower bound in ms, count) for every non-empty bucket, for histograms.
    pub(crate) fn buckets(&self) -> Vec<(f64, u64)> {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(b, &c)| (Time(Self::lower_bound(b)).as_ms(), c))
            .collect()
    }
}

/// Latency of delivered messages, in virtual milliseconds. All zero when nothing arrived.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct LatencySummary {
    /// Delivered messages measured.
    pub count: u64,
    /// Fastest.
    pub min_ms: f64,
    /// Half were faster.
    pub median_ms: f64,
    /// 99 % were faster.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

/// One node's row in [`SystemStatus`] and [`RunStats`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeStatus {
    /// Its id.
    pub id: NodeId,
    /// Its name.
    pub name: String,
    /// Up (true) or down.
    pub up: bool,
    /// Its message counters.
    pub counters: Counters,
    /// Keys in its store (None where the protocol has no key-value store).
    pub keys: Option<usize>,
}

/// Every node's state and counters at one moment: the lesson's `get_system_status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemStatus {
    /// Time of the snapshot.
    pub now: Time,
    /// One row per node (only the node itself when `omniscient` is false).
    pub nodes: Vec<NodeStatus>,
    /// True when every node is seen; false for one node per process, which knows only its
    /// own counters and what it heard from each peer.
    pub omniscient: bool,
    /// Messages received from each peer (one node's view only).
    pub heard_from: Vec<(String, u64)>,
}

impl SystemStatus {
    /// One node's view: its own counters, and what it heard from each peer.
    fn own_view(&self) -> Vec<Table> {
        let mut tables = Vec::new();
        for n in &self.nodes {
            let c = &n.counters;
            let mut t = Table::new(
                format!("status of {} at {} (what this node can know)", n.name, self.now),
                ["node", "sent", "received", "keys"],
            );
            t.row([
                n.name.clone(),
                c.sent.to_string(),
                c.received.to_string(),
                n.keys.map_or("-".to_string(), |k| k.to_string()),
            ]);
            tables.push(t);
        }
        let mut heard = Table::new("heard from each peer", ["peer", "messages received"]);
        for (peer, count) in &self.heard_from {
            heard.row([peer.clone(), count.to_string()]);
        }
        heard.note("Whether a peer is up, and what it sent or received, only that peer knows.");
        tables.push(heard);
        tables
    }

    /// Nodes that are up.
    pub fn alive(&self) -> usize {
        self.nodes.iter().filter(|n| n.up).count()
    }
}

/// Statistics of a whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunStats {
    /// The seed of the run, so every figure can be reproduced.
    pub seed: u64,
    /// Virtual time when taken.
    pub now: Time,
    /// Per node.
    pub nodes: Vec<NodeStatus>,
    /// Summed over all nodes.
    pub total: Counters,
    /// Messages (copies) still travelling.
    pub in_flight: u64,
    /// Most messages travelling at once.
    pub peak_in_flight: u64,
    /// Operations started: each send, broadcast, replicate, sync and post counts one.
    pub operations: u64,
    /// Latency of delivered messages.
    pub latency: LatencySummary,
}

impl RunStats {
    /// Delivered copies over sent messages plus duplicates; 1 when nothing was sent.
    pub fn delivery_ratio(&self) -> f64 {
        let out = self.total.sent + self.total.duplicated;
        if out == 0 {
            1.0
        } else {
            self.total.delivered as f64 / out as f64
        }
    }
    /// Messages sent (requests and replies) per operation; 0 before any operation.
    pub fn messages_per_operation(&self) -> f64 {
        if self.operations == 0 {
            0.0
        } else {
            self.total.sent as f64 / self.operations as f64
        }
    }
    /// Share of sent copies that did not arrive (dropped over dropped plus delivered).
    pub fn failure_rate(&self) -> f64 {
        let settled = self.total.delivered + self.total.dropped();
        if settled == 0 {
            0.0
        } else {
            self.total.dropped() as f64 / settled as f64
        }
    }
}

impl Tabular for SystemStatus {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        if !self.omniscient {
            return self.own_view();
        }
        let mut t = Table::new(
            format!("system status at {}: {} of {} nodes up", self.now, self.alive(), self.nodes.len()),
            [
                "node",
                "state",
                "sent",
                "received",
                "delivered",
                "lost",
                "target down",
                "sender down",
                "partitioned",
                "duplicated",
                "keys",
            ],
        );
        for n in &self.nodes {
            let c = &n.counters;
            t.row([
                n.name.clone(),
                up_down(n.up).to_string(),
                c.sent.to_string(),
                c.received.to_string(),
                c.delivered.to_string(),
                c.dropped_lost.to_string(),
                c.dropped_target_down.to_string(),
                c.dropped_sender_down.to_string(),
                c.dropped_partitioned.to_string(),
                c.duplicated.to_string(),
                n.keys.map_or("-".to_string(), |k| k.to_string()),
            ]);
        }
        t.note("sent, delivered, dropped (by cause) and duplicated count the messages a node sent; received counts those delivered to it.");
        vec![t]
    }
}

impl Tabular for RunStats {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let c = &self.total;
        let l = &self.latency;
        let mut t =
            Table::new(format!("statistics at {} (seed {})", self.now, self.seed), ["figure", "value"]);
        t.row(["operations".to_string(), self.operations.to_string()])
            .row(["messages sent".to_string(), c.sent.to_string()])
            .row(["duplicated by the network".to_string(), c.duplicated.to_string()])
            .row(["delivered".to_string(), c.delivered.to_string()])
            .row(["dropped: lost in the network".to_string(), c.dropped_lost.to_string()])
            .row(["dropped: target down".to_string(), c.dropped_target_down.to_string()])
            .row(["dropped: sender down".to_string(), c.dropped_sender_down.to_string()])
            .row(["dropped: partitioned".to_string(), c.dropped_partitioned.to_string()])
            .row(["in flight".to_string(), self.in_flight.to_string()])
            .row(["delivery ratio".to_string(), format!("{:.4}", self.delivery_ratio())])
            .row(["messages per operation".to_string(), format!("{:.2}", self.messages_per_operation())])
            .row([
                "latency min / median / p99 / max".to_string(),
                format!("{:.3} / {:.3} / {:.3} / {:.3} ms", l.min_ms, l.median_ms, l.p99_ms, l.max_ms),
            ]);
        vec![t]
    }
}

show_tables!(SystemStatus, RunStats);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_round_trip_and_quantiles_are_close() {
        for v in [0u64, 1, 127, 128, 129, 1000, 10_000, 49_999, 1 << 40] {
            let b = LatencyHistogram::bucket(v);
            let lo = LatencyHistogram::lower_bound(b);
            let hi = LatencyHistogram::lower_bound(b + 1);
            assert!(lo <= v && v < hi, "{v} not in bucket {b} [{lo}, {hi})");
        }
        let mut h = LatencyHistogram::default();
        for v in 1..=100_000u64 {
            h.record(v);
        }
        let s = h.summary();
        assert_eq!(s.min_ms, 0.001);
        assert_eq!(s.max_ms, 100.0);
        assert!((s.median_ms - 50.0).abs() / 50.0 < 0.02, "median {}", s.median_ms);
        assert!((s.p99_ms - 99.0).abs() / 99.0 < 0.02, "p99 {}", s.p99_ms);
    }
}
