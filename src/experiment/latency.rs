//! Does loss slow the network down? The messages that arrive against the operations.

use serde::Serialize;

use super::{check_rates, check_runs};
use crate::config::Config;
use crate::error::Result;
use crate::sim::cluster::Cluster;
use crate::table::{show_tables, Table, Tabular};
use crate::verbs::Verbs;

/// The answers [`LossLatency::arrival_trend`] picks from: how the messages that arrive
/// change from the lowest loss rate to the highest.
pub const TRENDS: [&str; 3] = ["they arrive later", "about the same", "they arrive sooner"];

/// One loss rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LossLatencyRow {
    /// Configured loss.
    pub loss: f64,
    /// Writes made.
    pub writes: u64,
    /// Messages delivered (requests and acks).
    pub delivered: u64,
    /// Median one-way latency of the delivered messages (ms); None when none arrived.
    pub median_ms: Option<f64>,
    /// 99th percentile of the same (ms).
    pub p99_ms: Option<f64>,
    /// Mean time a write took, from its start to its last ack or timeout (ms).
    pub mean_write_ms: f64,
    /// Writes that waited for at least one timeout.
    pub timed_out: u64,
}

/// The latency of delivered messages and the duration of writes, by loss rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LossLatency {
    /// Nodes in each run.
    pub nodes: usize,
    /// The seed.
    pub seed: u64,
    /// One row per rate, in the order given.
    pub rows: Vec<LossLatencyRow>,
}

/// For each loss rate, a fresh cluster (other parameters from `config`) in which Node-0 makes
/// `writes` replicated writes, each waiting for every ack or its timeout. Loss does not
/// change how long a message that arrives takes (latency is drawn the same way); it makes
/// writes wait for timeouts.
///
/// ```
/// use distlab::experiment::{loss_latency, TRENDS};
/// use distlab::Config;
/// let l = loss_latency(&Config::default(), &[0.0, 0.5], 200)?;
/// assert_eq!(TRENDS[l.arrival_trend()], "about the same");
/// assert!(l.rows[1].mean_write_ms > 2.0 * l.rows[0].mean_write_ms);
/// # Ok::<(), distlab::Error>(())
/// ```
pub fn loss_latency(config: &Config, rates: &[f64], writes: u64) -> Result<LossLatency> {
    check_rates("rates", rates)?;
    check_runs("writes", writes)?;
    let mut rows = Vec::with_capacity(rates.len());
    for &loss in rates {
        let mut c = Cluster::new(config.to_builder().loss(loss).trace(false).build()?);
        let (mut total_ms, mut timed_out) = (0.0, 0);
        for i in 0..writes {
            let r = c.replicate_from(0, "x", &i.to_string())?;
            total_ms += r.finished.as_ms() - r.started.as_ms();
            if !r.timed_out().is_empty() {
                timed_out += 1;
            }
        }
        let s = c.stats();
        let some = s.total.delivered > 0;
        rows.push(LossLatencyRow {
            loss,
            writes,
            delivered: s.total.delivered,
            median_ms: some.then_some(s.latency.median_ms),
            p99_ms: some.then_some(s.latency.p99_ms),
            mean_write_ms: total_ms / writes as f64,
            timed_out,
        });
    }
    Ok(LossLatency { nodes: config.nodes(), seed: config.seed(), rows })
}

/// A rate with at most three decimals and no trailing zeros: 0.3, not 0.30000000000000004.
fn rate(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl LossLatency {
    /// The first and last rows in which messages arrived.
    fn ends(&self) -> Option<(&LossLatencyRow, &LossLatencyRow)> {
        let mut arrived = self.rows.iter().filter(|r| r.median_ms.is_some());
        let first = arrived.next()?;
        Some((first, arrived.next_back().unwrap_or(first)))
    }

    /// Median latency of arriving messages at the highest loss rate over that at the lowest
    /// (rates where nothing arrived are skipped); 1 when there is nothing to compare.
    pub fn arrival_ratio(&self) -> f64 {
        match self.ends() {
            Some((a, b)) => match (a.median_ms, b.median_ms) {
                (Some(x), Some(y)) if x > 0.0 => y / x,
                _ => 1.0,
            },
            None => 1.0,
        }
    }

    /// An index into [`TRENDS`]: 0 when arriving messages got more than 10 % slower from
    /// the lowest rate to the highest, 2 when more than 10 % faster, 1 otherwise.
    pub fn arrival_trend(&self) -> usize {
        let r = self.arrival_ratio();
        if r > 1.1 {
            0
        } else if r < 0.9 {
            2
        } else {
            1
        }
    }

    /// One sentence from the run: the median latency of arriving messages and the mean
    /// write time at the lowest and the highest rate.
    pub fn summary(&self) -> String {
        let Some((a, b)) = self.ends() else {
            return "no message arrived at any rate".to_string();
        };
        format!(
            "messages that arrived took a median {:.1} ms at loss {} and {:.1} ms at loss {}; a write took \
             {:.0} ms on average at loss {} and {:.0} ms at loss {}: it waits for a timeout when a request or an \
             ack is lost",
            a.median_ms.unwrap_or(0.0),
            rate(a.loss),
            b.median_ms.unwrap_or(0.0),
            rate(b.loss),
            a.mean_write_ms,
            rate(a.loss),
            b.mean_write_ms,
            rate(b.loss),
        )
    }
}

impl Tabular for LossLatency {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            format!(
                "loss against time: {} writes per rate through Node-0 to {} nodes (seed {})",
                self.rows.first().map_or(0, |r| r.writes),
                self.nodes,
                self.seed
            ),
            [
                "loss",
                "messages delivered",
                "median latency",
                "p99 latency",
                "mean write time",
                "writes that timed out",
            ],
        );
        let ms = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.1} ms"));
        for r in &self.rows {
            t.row([
                format!("{:.2}", r.loss),
                r.delivered.to_string(),
                ms(r.median_ms),
                ms(r.p99_ms),
                format!("{:.1} ms", r.mean_write_ms),
                format!("{} of {}", r.timed_out, r.writes),
            ]);
        }
        t.note("latency: one way, of the messages that arrived; write time: from the start to the last ack or timeout.");
        vec![t]
    }
}

show_tables!(LossLatency);
