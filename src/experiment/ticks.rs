//! A steady workload: one message per virtual millisecond, for timing and replay checks.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::sim::cluster::Cluster;
use crate::stats::RunStats;
use crate::verbs::Verbs;

/// Sends `messages` one-way messages, one per virtual millisecond, from node `i % n` to node
/// `(i + 1) % n`, on a fresh cluster built from `config` with the trace off, runs it to the
/// end and returns its statistics.
///
/// Notebook 03 uses it to show what the lesson's sleeping simulation cannot: 100,000 messages
/// (100 s of virtual time) take a fraction of a second, and the same configuration gives the
/// same statistics twice.
///
/// ```
/// use distlab::prelude::*;
/// let config = Config::builder().nodes(3).seed(5).build()?;
/// let a = experiment::ticks(&config, 1000)?;
/// assert_eq!(a, experiment::ticks(&config, 1000)?);
/// assert_eq!(a.total.sent, 1000);
/// # Ok::<(), distlab::Error>(())
/// ```
pub fn ticks(config: &Config, messages: u64) -> Result<RunStats> {
    if !(1..=10_000_000).contains(&messages) {
        return Err(Error::argument("messages", messages, "1 to 10000000"));
    }
    let mut cluster = Cluster::new(config.to_builder().trace(false).build()?);
    let n = cluster.len();
    for i in 0..messages {
        cluster.run_until(i as f64)?;
        let from = (i % n as u64) as usize;
        cluster.post(from, (from + 1) % n, "tick")?;
    }
    cluster.run();
    Ok(cluster.stats())
}
