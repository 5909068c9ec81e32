//! Experiments: many runs of a cluster, summarised as tables that serialize with serde, print
//! as text and show as HTML, and that the charts in [`crate::chart`] draw.
//!
//! Every experiment is seeded, so its table is the same on every run.
//!
//! - [`loss_sweep`], [`broadcast_reach`], [`Storm`]: what loss does to messages and broadcasts.
//! - [`availability`]: requests answered by architecture when nodes fail.
//! - [`write_policies`]: when a coordinator may tell a client "done", and what each choice costs.
//! - [`loss_latency`]: loss does not slow the messages that arrive; it slows operations.
//! - [`growth`]: message counts as a cluster grows.
//! - [`survivor`]: which of two concurrent writes to one key is kept after a partition heals.
//! - [`compare`]: one workload on two configurations.
//! - [`Silence`]: what a sender cannot know: three silences, three causes, and what retrying
//!   them costs without and with request ids.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

use crate::chart::{self, Chart, Drawing};
use crate::config::{Config, ConfigBuilder};
use crate::error::{Error, Result};
use crate::sim::cluster::Cluster;
use crate::stats::RunStats;
use crate::table::{show_tables, Table, Tabular};
use crate::verbs::Verbs;

mod availability;
mod charts;
mod growth;
mod latency;
mod policies;
mod race;
mod series;
pub mod silence;
mod ticks;

pub use availability::{availability, Architecture, Availability, AvailabilityRow};
pub use growth::{growth, Growth, GrowthRow, MAX_GROWTH_NODES};
pub use latency::{loss_latency, LossLatency, LossLatencyRow, TRENDS};
pub use policies::{write_policies, PolicyRow, WritePolicies, WritePolicy, MAX_WRITES};
pub use race::{survivor, Survivor, WriteSeen};
pub use series::{series, Series};
pub use silence::{Cause, OrderRow, Retries, RetryPair, Reveal, Silence};
pub use ticks::ticks;

/// Most seeds (or trials) an experiment accepts.
pub const MAX_RUNS: u64 = 100_000;
/// Most messages per run an experiment accepts.
pub const MAX_MESSAGES: u64 = 10_000_000;

pub(crate) fn check_runs(name: &'static str, n: u64) -> Result<()> {
    if (1..=MAX_RUNS).contains(&n) {
        Ok(())
    } else {
        Err(Error::argument(name, n, format!("1 to {MAX_RUNS}")))
    }
}

pub(crate) fn check_rates(name: &'static str, rates: &[f64]) -> Result<()> {
    if rates.is_empty() || rates.len() > 1000 {
        return Err(Error::argument(name, format!("{} values", rates.len()), "1 to 1000 probabilities"));
    }
    match rates.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        Some(p) => Err(Error::argument(name, p, "probabilities in [0, 1]")),
        None => Ok(()),
    }
}

/// `count` evenly spaced rates from 0 to `max` (for sweeps): `rates(11, 1.0)` is 0, 0.1, .., 1.
pub fn rates(count: usize, max: f64) -> Vec<f64> {
    let count = count.max(2);
    (0..count).map(|i| max * i as f64 / (count - 1) as f64).collect()
}

/// The random-send storm: one-way messages between random distinct nodes, sent at uniformly
/// spread times over one virtual second. The send times are drawn (and ordered) when it is
/// made, so a benchmark can time [`Storm::run`] alone; the same seed gives the same storm.
#[derive(Debug, Clone)]
pub struct Storm {
    times: SendTimes,
    rng: Xoshiro256PlusPlus,
}

/// The send times, in microseconds of the one virtual second, in order.
#[derive(Debug, Clone)]
enum SendTimes {
    /// Each time, sorted: 4 bytes a message.
    Sorted(Vec<u32>),
    /// How many messages leave in each microsecond: 2 MB whatever the number of messages, so
    /// a large storm's own input does not grow with it and blur what the cluster uses.
    Counts(Vec<u16>),
}

/// The microseconds in the storm's second.
const STORM_US: u32 = 1_000_000;

impl Storm {
    /// `messages` sends, seeded by `seed` (its own stream, apart from the network's).
    pub fn new(messages: u64, seed: u64) -> Storm {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5354_4f52_4d00_0000);
        // The same draws either way, so the storm does not depend on how it is stored.
        let times = if messages >= u64::from(STORM_US) / 2 {
            let mut counts = vec![0u16; STORM_US as usize];
            let mut overflow = false;
            for _ in 0..messages {
                let c = &mut counts[rng.random_range(0..STORM_US) as usize];
                overflow |= *c == u16::MAX;
                *c = c.saturating_add(1);
            }
            if overflow {
                return Storm::sorted(messages, seed);
            }
            SendTimes::Counts(counts)
        } else {
            return Storm::sorted(messages, seed);
        };
        Storm { times, rng }
    }

    /// The bytes the storm's own send times take (its input, not the cluster's memory).
    pub fn input_bytes(&self) -> usize {
        match &self.times {
            SendTimes::Sorted(t) => t.capacity() * 4,
            SendTimes::Counts(c) => c.capacity() * 2,
        }
    }

    fn sorted(messages: u64, seed: u64) -> Storm {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5354_4f52_4d00_0000);
        let mut times: Vec<u32> = (0..messages).map(|_| rng.random_range(0..STORM_US)).collect();
        times.sort_unstable();
        Storm { times: SendTimes::Sorted(times), rng }
    }

    /// Posts every message at its time, each from a random node to a random other node, and
    /// runs the cluster to the end.
    pub fn run(mut self, cluster: &mut Cluster) -> Result<()> {
        let times = std::mem::replace(&mut self.times, SendTimes::Sorted(Vec::new()));
        match times {
            SendTimes::Sorted(times) => {
                for t in times {
                    self.post_at(cluster, t)?;
                }
            }
            SendTimes::Counts(counts) => {
                for (t, &n) in counts.iter().enumerate() {
                    for _ in 0..n {
                        self.post_at(cluster, t as u32)?;
                    }
                }
            }
        }
        cluster.run();
        Ok(())
    }

    fn post_at(&mut self, cluster: &mut Cluster, t: u32) -> Result<()> {
        let n = cluster.len();
        cluster.run_until(t as f64 / 1000.0)?;
        let from = self.rng.random_range(0..n);
        let to = if n == 1 { 0 } else { (from + 1 + self.rng.random_range(0..n - 1)) % n };
        cluster.post(from, to, "storm")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storm_gives_the_same_run_whether_its_times_are_sorted_or_counted() {
        let config = Config::builder().nodes(20).loss(0.1).seed(3).trace(false).build().unwrap();
        let messages = u64::from(STORM_US) / 2;
        let counted = Storm::new(messages, 3);
        assert!(matches!(counted.times, SendTimes::Counts(_)));
        let (mut a, mut b) = (Cluster::new(config.clone()), Cluster::new(config));
        counted.run(&mut a).unwrap();
        Storm::sorted(messages, 3).run(&mut b).unwrap();
        assert_eq!(a.stats(), b.stats());
    }
}

/// One configured loss rate of a [`LossSweep`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LossRow {
    /// Configured loss probability.
    pub loss: f64,
    /// Runs (seeds) at this rate.
    pub seeds: u64,
    /// Messages per run.
    pub messages: u64,
    /// Mean observed share of messages that did not arrive.
    pub mean: f64,
    /// Lowest observed share over the seeds.
    pub min: f64,
    /// Highest observed share over the seeds.
    pub max: f64,
}

/// Observed failure rate against configured loss rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LossSweep {
    /// Nodes in each run.
    pub nodes: usize,
    /// First seed; run `i` uses `seed + i`.
    pub seed: u64,
    /// One row per rate.
    pub rows: Vec<LossRow>,
}

/// Runs `seeds` clusters for each loss rate, each with `messages` random one-way messages,
/// and records the share that did not arrive. Other parameters come from `config`.
///
/// ```
/// use distlab::experiment::{loss_sweep, rates};
/// use distlab::Config;
/// let sweep = loss_sweep(&Config::default(), &rates(3, 0.5), 5, 500)?;
/// assert_eq!(sweep.rows[0].max, 0.0);          // no loss configured, none observed
/// assert!((sweep.rows[2].mean - 0.5).abs() < 0.05);
/// # Ok::<(), distlab::Error>(())
/// ```
pub fn loss_sweep(config: &Config, rates: &[f64], seeds: u64, messages: u64) -> Result<LossSweep> {
    check_rates("rates", rates)?;
    check_runs("seeds", seeds)?;
    if !(1..=MAX_MESSAGES).contains(&messages) {
        return Err(Error::argument("messages", messages, format!("1 to {MAX_MESSAGES}")));
    }
    let mut rows = Vec::with_capacity(rates.len());
    for &loss in rates {
        let mut shares = Vec::with_capacity(seeds as usize);
        for i in 0..seeds {
            let seed = config.seed().wrapping_add(i);
            let mut c = Cluster::new(config.to_builder().loss(loss).seed(seed).trace(false).build()?);
            Storm::new(messages, seed).run(&mut c)?;
            shares.push(c.stats().failure_rate());
        }
        rows.push(LossRow {
            loss,
            seeds,
            messages,
            mean: shares.iter().sum::<f64>() / shares.len() as f64,
            min: shares.iter().copied().fold(f64::INFINITY, f64::min),
            max: shares.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        });
    }
    Ok(LossSweep { nodes: config.nodes(), seed: config.seed(), rows })
}

impl LossSweep {
    /// The failure-rate chart of this sweep.
    pub fn chart(&self) -> Chart {
        Chart::new(
            "messages that did not arrive, by configured loss rate",
            (760, 460),
            Drawing::of(self.clone()),
        )
    }
}

/// One loss rate of a [`ReachSweep`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReachRow {
    /// Configured loss probability.
    pub loss: f64,
    /// Broadcasts made.
    pub trials: u64,
    /// Broadcasts whose message reached every target.
    pub all_reached: u64,
    /// all_reached / trials.
    pub observed: f64,
    /// (1 - loss)^targets.
    pub expected: f64,
}

/// The chance that a broadcast reaches all of its targets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReachSweep {
    /// Targets of each broadcast (nodes - 1).
    pub targets: usize,
    /// One row per rate.
    pub rows: Vec<ReachRow>,
}

/// Broadcasts `trials` times at each loss rate and counts the broadcasts whose message
/// reached every other node, against the analytic `(1 - p)^k`.
pub fn broadcast_reach(config: &Config, rates: &[f64], trials: u64) -> Result<ReachSweep> {
    check_rates("rates", rates)?;
    check_runs("trials", trials)?;
    if config.nodes() < 2 || config.nodes() > 1000 {
        return Err(Error::argument("nodes", config.nodes(), "2 to 1000 for a broadcast experiment"));
    }
    let k = config.nodes() - 1;
    let mut rows = Vec::new();
    for &loss in rates {
        let mut c = Cluster::new(config.to_builder().loss(loss).trace(false).build()?);
        let mut all = 0;
        for _ in 0..trials {
            let r = c.broadcast(0, "update")?;
            if r.reached() == r.total() {
                all += 1;
            }
        }
        rows.push(ReachRow {
            loss,
            trials,
            all_reached: all,
            observed: all as f64 / trials as f64,
            expected: (1.0 - loss).powi(k as i32),
        });
    }
    Ok(ReachSweep { targets: k, rows })
}

impl ReachSweep {
    /// The chart of this sweep.
    pub fn chart(&self) -> Chart {
        Chart::new(
            format!("a broadcast to {} nodes reaches all of them", self.targets),
            (760, 460),
            Drawing::of(self.clone()),
        )
    }
}

/// The same workload on the same seed, once as configured and once with one change.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// What A is.
    pub label_a: String,
    /// What B is (the changed parameters).
    pub label_b: String,
    /// Statistics of A.
    pub a: RunStats,
    /// Statistics of B.
    pub b: RunStats,
    /// A's message-count chart.
    pub chart_a: Chart,
    /// B's message-count chart.
    pub chart_b: Chart,
}

/// Runs `workload` on a cluster built from `config` and on one built from `change(config)`,
/// with the same seed, and compares them.
///
/// ```
/// use distlab::prelude::*;
/// use distlab::experiment::compare;
/// let ab = compare(&Config::default(), |b| b.loss(0.5), |c| {
///     for i in 0..100 { c.post(i % 3, (i + 1) % 3, "m")?; }
///     c.run();
///     Ok(())
/// })?;
/// assert!(ab.b.total.dropped_lost > ab.a.total.dropped_lost);
/// assert_eq!(ab.label_b, "loss 0.5");
/// # Ok::<(), distlab::Error>(())
/// ```
pub fn compare(
    config: &Config,
    change: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
    workload: impl Fn(&mut Cluster) -> Result<()>,
) -> Result<Comparison> {
    let changed = change(config.to_builder()).build()?;
    let run = |cfg: &Config| -> Result<RunStats> {
        let mut c = Cluster::new(cfg.clone());
        workload(&mut c)?;
        Ok(c.stats())
    };
    let (a, b) = (run(config)?, run(&changed)?);
    let label_b = config_diff(config, &changed);
    let label_a = config_diff(&changed, config);
    Ok(Comparison {
        chart_a: chart::message_counts(&a).title(format!("A: {label_a}")),
        chart_b: chart::message_counts(&b).title(format!("B: {label_b}")),
        label_a,
        label_b,
        a,
        b,
    })
}

/// What `b` changes from `a`, or "as configured".
fn config_diff(a: &Config, b: &Config) -> String {
    let d = a.differences(b);
    if d.is_empty() {
        "as configured".to_string()
    } else {
        d.join(", ")
    }
}

impl Comparison {
    /// Shows the comparison in an evcxr notebook.
    pub fn evcxr_display(&self) {
        crate::table::emit_html(&self.to_html());
    }
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.write_text(f)
    }
}

impl Tabular for LossSweep {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            format!("loss sweep: {} nodes, seeds from {}", self.nodes, self.seed),
            ["configured loss", "runs", "messages/run", "observed mean", "min", "max"],
        );
        for r in &self.rows {
            t.row([
                format!("{:.3}", r.loss),
                r.seeds.to_string(),
                r.messages.to_string(),
                format!("{:.4}", r.mean),
                format!("{:.4}", r.min),
                format!("{:.4}", r.max),
            ]);
        }
        vec![t]
    }
}

impl Tabular for ReachSweep {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            format!("broadcast to {} nodes: chance that every target gets it", self.targets),
            ["loss", "broadcasts", "reached all", "observed", "expected (1-p)^k"],
        );
        for r in &self.rows {
            t.row([
                format!("{:.3}", r.loss),
                r.trials.to_string(),
                r.all_reached.to_string(),
                format!("{:.4}", r.observed),
                format!("{:.4}", r.expected),
            ]);
        }
        vec![t]
    }
}

impl Tabular for Comparison {
    /// The table and both charts side by side.
    fn to_html(&self) -> String {
        let mut h: String = self.tables().iter().map(Table::to_html).collect();
        h += "<div style=\"display:flex;flex-wrap:wrap;gap:8px\">";
        h += &self.chart_a.to_html();
        h += &self.chart_b.to_html();
        h + "</div>"
    }
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            format!("A/B on seed {}: A = {}, B = {}", self.a.seed, self.label_a, self.label_b),
            ["figure", "A", "B", "B - A"],
        );
        let (a, b) = (&self.a, &self.b);
        let mut row = |name: &str, x: f64, y: f64, digits: usize| {
            t.row([
                name.to_string(),
                format!("{x:.digits$}"),
                format!("{y:.digits$}"),
                format!("{:+.digits$}", y - x),
            ]);
        };
        row("messages sent", a.total.sent as f64, b.total.sent as f64, 0);
        row("delivered", a.total.delivered as f64, b.total.delivered as f64, 0);
        row("dropped", a.total.dropped() as f64, b.total.dropped() as f64, 0);
        row("delivery ratio", a.delivery_ratio(), b.delivery_ratio(), 4);
        row("messages per operation", a.messages_per_operation(), b.messages_per_operation(), 2);
        row("median latency (ms)", a.latency.median_ms, b.latency.median_ms, 3);
        row("p99 latency (ms)", a.latency.p99_ms, b.latency.p99_ms, 3);
        vec![t]
    }
}

show_tables!(LossSweep, ReachSweep);
