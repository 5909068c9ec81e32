//! The link model: how long a message takes, whether it is lost or duplicated, and which
//! links a partition cuts.
//!
//! Every random choice comes from one seeded Xoshiro256++ generator, drawn in a fixed order,
//! so a seed replays a run exactly.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::config::{Config, Latency};
use crate::node::NodeId;
use crate::trace::CutSpec;

/// The network between the nodes.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    rng: Xoshiro256PlusPlus,
    latency: Latency,
    loss: f64,
    duplication: f64,
    cuts: Vec<Cut>,
}

/// One directed cut: no message from a node in `from` reaches a node in `to`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cut {
    from: Vec<bool>,
    to: Vec<bool>,
}

impl Cut {
    /// A cut in a cluster of `n` nodes.
    pub(crate) fn new(n: usize, from: &[NodeId], to: &[NodeId]) -> Cut {
        let mask = |ids: &[NodeId]| {
            let mut m = vec![false; n];
            ids.iter().for_each(|i| m[i.index()] = true);
            m
        };
        Cut { from: mask(from), to: mask(to) }
    }
    /// Whether this cut stops a message from `from` to `to`.
    pub(crate) fn blocks(&self, from: NodeId, to: NodeId) -> bool {
        self.from[from.index()] && self.to[to.index()]
    }
    /// The cut as the trace shows it.
    pub(crate) fn spec(&self) -> CutSpec {
        let ids =
            |v: &[bool]| v.iter().enumerate().filter(|(_, &b)| b).map(|(i, _)| NodeId(i as u32)).collect();
        CutSpec { from: ids(&self.from), to: ids(&self.to) }
    }
}

impl Network {
    pub(crate) fn new(config: &Config) -> Self {
        Network {
            rng: Xoshiro256PlusPlus::seed_from_u64(config.seed),
            latency: config.latency,
            loss: config.loss,
            duplication: config.duplication,
            cuts: Vec::new(),
        }
    }

    /// A latency draw in whole virtual microseconds.
    pub(crate) fn latency_us(&mut self) -> u64 {
        let ms = match self.latency {
            Latency::Constant { ms } => ms,
            Latency::Uniform { min_ms, max_ms } => min_ms + (max_ms - min_ms) * self.rng.random::<f64>(),
            // Inverse transform; 1 - u is in (0, 1], so ln is finite.
            Latency::Exponential { mean_ms } => -mean_ms * (1.0 - self.rng.random::<f64>()).ln(),
        };
        (ms * 1000.0) as u64
    }

    /// Whether this copy is lost. `u < p` makes 0 never and 1 always.
    pub(crate) fn lose(&mut self) -> bool {
        self.rng.random::<f64>() < self.loss
    }

    /// Whether the network makes a second copy (no draw when duplication is off, so turning
    /// it on is the only thing that changes the stream).
    pub(crate) fn duplicate(&mut self) -> bool {
        self.duplication > 0.0 && self.rng.random::<f64>() < self.duplication
    }

    pub(crate) fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.cuts.iter().any(|c| c.blocks(from, to))
    }

    pub(crate) fn add_cut(&mut self, cut: Cut) {
        self.cuts.push(cut);
    }

    pub(crate) fn heal(&mut self) -> usize {
        std::mem::take(&mut self.cuts).len()
    }
}
