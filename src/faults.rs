//! The fault model, in one place for both runtimes: what the network does to a message.
//!
//! **At the sender**, when a live node hands a message to the network, its own generator
//! (one Xoshiro256++ per sending node, seeded from the cluster's seed and the node's id) draws,
//! always in this order:
//! 1. whether the network makes a second copy (only when duplication is on, so switching it
//!    on is the only thing that changes the stream);
//! 2. for each copy: whether it is lost, then one number for its latency (drawn even for a
//!    constant latency, so changing the model shifts no later draw).
//!
//! A node that is down sends nothing and draws nothing. Because every node has its own
//! stream, what one node sends never shifts the draws of another: the simulation and the UDP
//! runtime, which interleave nodes differently, lose the same messages for the same seed.
//! On sockets the latency draw is made and unused (real timing applies), so the streams stay
//! aligned.
//!
//! **At arrival**, a copy's fate is decided in this order: lost (as drawn), cut by a
//! partition in force at that moment, target down. The UDP runtime checks the partition where
//! the simulation does, when the datagram arrives; a target that is down has no socket, so
//! there the sender finds it down.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::config::{Config, Latency};
use crate::node::NodeId;
use crate::time::Time;
use crate::trace::CutSpec;

/// The link parameters of a configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Links {
    latency: Latency,
    loss: f64,
    duplication: f64,
}

/// One copy of a message, as its sender's generator drew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Copy {
    /// The network loses it.
    pub(crate) lost: bool,
    /// How long it travels (virtual time; unused on sockets).
    pub(crate) latency: Time,
}

/// The copies of one message: one, or two when the network duplicates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Copies {
    pub(crate) first: Copy,
    pub(crate) second: Option<Copy>,
}

impl Copies {
    pub(crate) fn iter(&self) -> impl Iterator<Item = Copy> {
        std::iter::once(self.first).chain(self.second)
    }
}

/// One sending node's generator.
#[derive(Debug, Clone)]
pub(crate) struct SenderRng(Xoshiro256PlusPlus);

impl SenderRng {
    /// Node `node`'s stream for `seed`. The pair is mixed (SplitMix64 finaliser) before
    /// seeding, so node 1 of seed s does not replay node 0 of seed s + 1.
    pub(crate) fn new(seed: u64, node: NodeId) -> SenderRng {
        let mut z = seed ^ (u64::from(node.0) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        SenderRng(Xoshiro256PlusPlus::seed_from_u64(z ^ (z >> 31)))
    }
    /// One generator per node of a cluster.
    pub(crate) fn all(config: &Config) -> Vec<SenderRng> {
        (0..config.nodes() as u32).map(|i| SenderRng::new(config.seed(), NodeId(i))).collect()
    }
}

impl Links {
    pub(crate) fn new(config: &Config) -> Links {
        Links { latency: config.latency(), loss: config.loss(), duplication: config.duplication() }
    }

    /// Changes the loss probability from now on (a what-if fork).
    pub(crate) fn set_loss(&mut self, p: f64) {
        self.loss = p;
    }
    /// Changes the latency model from now on (a what-if fork).
    pub(crate) fn set_latency(&mut self, latency: Latency) {
        self.latency = latency;
    }

    /// Draws a message's copies from its sender's generator, in the documented order.
    pub(crate) fn draw(&self, rng: &mut SenderRng) -> Copies {
        let twice = self.duplication > 0.0 && rng.0.random::<f64>() < self.duplication;
        let first = self.copy(rng);
        let second = twice.then(|| self.copy(rng));
        Copies { first, second }
    }

    fn copy(&self, rng: &mut SenderRng) -> Copy {
        // `u < p` makes 0 never and 1 always.
        let lost = rng.0.random::<f64>() < self.loss;
        // One number per copy whatever the model (a constant delay draws one and ignores
        // it), so a what-if fork that changes the model keeps every later draw where it was.
        let ms = match self.latency {
            Latency::Constant { ms } => {
                let _unused: f64 = rng.0.random();
                ms
            }
            Latency::Uniform { min_ms, max_ms } => min_ms + (max_ms - min_ms) * rng.0.random::<f64>(),
            // Inverse transform; 1 - u is in (0, 1], so ln is finite.
            Latency::Exponential { mean_ms } => -mean_ms * (1.0 - rng.0.random::<f64>()).ln(),
        };
        Copy { lost, latency: Time((ms * 1000.0) as u64) }
    }
}

/// Slow links (the checker's `Slow` fault, simulation only): a message sent from a node to
/// a peer it is slow towards takes a fixed extra delay on top of its drawn latency. It draws
/// nothing, so slowing a node shifts no draw: the same run at normal speed loses the same
/// messages and draws the same latencies. Only messages sent while a link is slow wait longer.
/// Empty (and never consulted) in an ordinary run.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Slow {
    /// `n` times `n` extra delays in µs, `from * n + to`; empty when no link is slow.
    extra: Vec<u64>,
    n: usize,
}

impl Slow {
    /// Whether some link is slow.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        !self.extra.is_empty()
    }
    /// Messages from `from` to each node of `to` (of `n` nodes) take `extra` longer from now
    /// on, and its messages to the others their drawn latency; `Time(0)` brings all of
    /// `from`'s links back to normal speed.
    pub(crate) fn set(&mut self, n: usize, from: NodeId, to: &[NodeId], extra: Time) {
        if self.extra.is_empty() {
            self.extra = vec![0; n * n];
            self.n = n;
        }
        let Some(row) = self.extra.chunks_mut(self.n).nth(from.index()) else { return };
        row.iter_mut().for_each(|e| *e = 0);
        let len = row.len();
        for t in to.iter().filter(|t| t.index() < len && **t != from) {
            row[t.index()] = extra.0;
        }
        if self.extra.iter().all(|&e| e == 0) {
            self.extra.clear();
        }
    }
    /// Every link back to normal speed.
    pub(crate) fn clear(&mut self) {
        self.extra.clear();
    }
    /// The extra delay of a message from `from` to `to`.
    #[inline]
    pub(crate) fn extra(&self, from: NodeId, to: NodeId) -> Time {
        Time(self.extra.get(from.index() * self.n + to.index()).copied().unwrap_or(0))
    }
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
        self.from.get(from.index()).copied().unwrap_or(false)
            && self.to.get(to.index()).copied().unwrap_or(false)
    }
    /// The cut as the trace shows it.
    pub(crate) fn spec(&self) -> CutSpec {
        let ids =
            |v: &[bool]| v.iter().enumerate().filter(|(_, &b)| b).map(|(i, _)| NodeId(i as u32)).collect();
        CutSpec { from: ids(&self.from), to: ids(&self.to) }
    }
}

/// The partitions in force.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Cuts(Vec<Cut>);

impl Cuts {
    pub(crate) fn blocks(&self, from: NodeId, to: NodeId) -> bool {
        self.0.iter().any(|c| c.blocks(from, to))
    }
    pub(crate) fn add(&mut self, cut: Cut) {
        self.0.push(cut);
    }
    /// Removes every cut; how many there were.
    pub(crate) fn heal(&mut self) -> usize {
        std::mem::take(&mut self.0).len()
    }
}

/// The cuts that `partition(groups)` makes: every group cut from every other, both ways.
/// Nodes in no group form one more group. `group_of[i]` is node i's group (0: none).
pub(crate) fn group_cuts(group_of: &[usize], groups: usize) -> Vec<Cut> {
    let n = group_of.len();
    let members: Vec<Vec<NodeId>> = (0..groups)
        .map(|g| (0..n).filter(|&i| group_of[i] == g).map(|i| NodeId(i as u32)).collect())
        .collect();
    let mut cuts = Vec::new();
    for (a, from) in members.iter().enumerate() {
        for (b, to) in members.iter().enumerate() {
            if a != b && !from.is_empty() && !to.is_empty() {
                cuts.push(Cut::new(n, from, to));
            }
        }
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_node_has_its_own_stream_and_seeds_do_not_overlap() {
        let draw = |seed, node| {
            let mut r = SenderRng::new(seed, NodeId(node));
            (0..4).map(|_| r.0.random::<u64>()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, 1), draw(7, 1));
        assert_ne!(draw(7, 0), draw(7, 1));
        assert_ne!(draw(7, 1), draw(8, 0));
    }

    #[test]
    fn a_slow_node_delays_its_messages_to_the_peers_named_only() {
        let mut slow = Slow::default();
        assert!(!slow.any());
        let (a, b, c) = (NodeId(0), NodeId(1), NodeId(2));
        slow.set(3, b, &[a, b], Time(400_000));
        assert!(slow.any());
        assert_eq!(slow.extra(b, a), Time(400_000));
        assert_eq!(slow.extra(b, c), Time(0), "not slow towards c");
        assert_eq!(slow.extra(b, b), Time(0), "never towards itself");
        assert_eq!(slow.extra(a, b), Time(0), "one way: a's messages to b are on time");
        slow.set(3, b, &[], Time(0));
        assert!(!slow.any(), "back to normal: the check is skipped again");
    }

    #[test]
    fn duplication_off_draws_nothing_for_it() {
        let config = Config::builder().loss(0.5).seed(3).build().unwrap();
        let links = Links::new(&config);
        let mut a = SenderRng::new(3, NodeId(0));
        let mut b = SenderRng::new(3, NodeId(0));
        let copies = links.draw(&mut a);
        assert!(copies.second.is_none());
        assert_eq!(copies.first, links.copy(&mut b));
    }
}
