//! Message counts as a cluster grows: the cost of "everyone talks to everyone".

use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::sim::cluster::Cluster;
use crate::table::{show_tables, Table, Tabular};
use crate::verbs::Verbs;

/// Largest cluster [`growth`] builds.
pub const MAX_GROWTH_NODES: usize = 256;

/// One cluster size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrowthRow {
    /// Nodes.
    pub nodes: usize,
    /// Messages sent for Node-0's broadcast alone (requests and acks).
    pub one_broadcast: u64,
    /// Messages sent once every node has broadcast once.
    pub every_node: u64,
    /// Broadcasts that ended with at least one timeout (a request or its ack was lost).
    pub waited: u64,
}

/// Message counts by cluster size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Growth {
    /// Configured loss.
    pub loss: f64,
    /// The seed.
    pub seed: u64,
    /// One row per size, in the order given.
    pub rows: Vec<GrowthRow>,
}

/// For each size, a cluster of that many nodes (other parameters from `config`) in which
/// every node broadcasts once, Node-0 first. Without loss one broadcast costs `2 (n - 1)`
/// messages (request and ack per target) and all of them `2 n (n - 1)`: the count grows with
/// the square of the size. A lost request also loses its ack, so loss lowers both counts by
/// the same factor.
///
/// Sizes: 1 to 20 of them, each from 2 to [`MAX_GROWTH_NODES`].
///
/// ```
/// use distlab::experiment::growth;
/// use distlab::Config;
/// let g = growth(&Config::builder().loss(0.0).build()?, &[8, 16])?;
/// assert_eq!((g.rows[0].one_broadcast, g.rows[0].every_node), (14, 112));
/// assert_eq!(g.ratio(8, 16), Some(480.0 / 112.0));
/// # Ok::<(), distlab::Error>(())
/// ```
pub fn growth(config: &Config, sizes: &[usize]) -> Result<Growth> {
    if sizes.is_empty() || sizes.len() > 20 {
        return Err(Error::argument("sizes", format!("{} sizes", sizes.len()), "1 to 20 cluster sizes"));
    }
    if let Some(n) = sizes.iter().find(|n| !(2..=MAX_GROWTH_NODES).contains(*n)) {
        return Err(Error::argument("sizes", n, format!("cluster sizes from 2 to {MAX_GROWTH_NODES}")));
    }
    let mut rows = Vec::with_capacity(sizes.len());
    for &n in sizes {
        let mut c = Cluster::new(config.to_builder().nodes(n).trace(false).build()?);
        let (mut one_broadcast, mut waited) = (0, 0);
        for from in 0..n {
            if !c.broadcast(from, "hello")?.all_acked() {
                waited += 1;
            }
            if from == 0 {
                one_broadcast = c.stats().total.sent;
            }
        }
        rows.push(GrowthRow { nodes: n, one_broadcast, every_node: c.stats().total.sent, waited });
    }
    Ok(Growth { loss: config.loss(), seed: config.seed(), rows })
}

impl Growth {
    /// How many times more messages "every node broadcasts once" sent at `to` nodes than at
    /// `from` nodes; None when either size was not run.
    pub fn ratio(&self, from: usize, to: usize) -> Option<f64> {
        let count = |n: usize| self.rows.iter().find(|r| r.nodes == n).map(|r| r.every_node as f64);
        match (count(from), count(to)) {
            (Some(a), Some(b)) if a > 0.0 => Some(b / a),
            _ => None,
        }
    }
}

impl Tabular for Growth {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            format!("messages as the cluster grows (loss {}, seed {})", self.loss, self.seed),
            ["nodes", "one broadcast", "every node broadcasts once", "broadcasts that waited for a timeout"],
        );
        for r in &self.rows {
            t.row([
                r.nodes.to_string(),
                r.one_broadcast.to_string(),
                r.every_node.to_string(),
                format!("{} of {}", r.waited, r.nodes),
            ]);
        }
        vec![t]
    }
}

show_tables!(Growth);
