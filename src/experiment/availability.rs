//! Availability by architecture: how many requests are answered when nodes fail.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

use super::{check_rates, check_runs};
use crate::chart::{Chart, Drawing};
use crate::config::{Config, Latency};
use crate::error::{Error, Result};
use crate::sim::cluster::Cluster;
use crate::table::{show_tables, Table, Tabular};
use crate::verbs::Verbs;

/// An architecture whose availability is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Architecture {
    /// One server; when it is down, nothing is answered.
    Centralized,
    /// A client and `replicas` servers holding the same data; the client tries them in turn.
    ClientServer {
        /// Server replicas, 1 to 16.
        replicas: usize,
    },
    /// `peers` equal nodes, every one holding the data; a peer asks the others in turn.
    PeerToPeer {
        /// Peers, 2 to 16.
        peers: usize,
    },
}

impl Architecture {
    /// A short label.
    pub fn label(&self) -> String {
        match self {
            Architecture::Centralized => "centralized (1 server)".to_string(),
            Architecture::ClientServer { replicas } => format!("client-server ({replicas} replicas)"),
            Architecture::PeerToPeer { peers } => format!("peer-to-peer ({peers} peers)"),
        }
    }
    /// `k`, the nodes that can answer a request: 1 for centralized, the replicas for
    /// client-server, and every peer but the one asking for peer-to-peer (5 peers are 4 full
    /// replicas to the asking peer). Equal `k` gives equal availability, whatever the name.
    pub fn answering(&self) -> usize {
        match *self {
            Architecture::Centralized => 1,
            Architecture::ClientServer { replicas } => replicas,
            Architecture::PeerToPeer { peers } => peers - 1,
        }
    }
    /// The chance that a request is answered when each answering node is down with
    /// probability `p`, independently: `1 - p^k`, with `k` = [`Architecture::answering`].
    pub fn expected(&self, p: f64) -> f64 {
        1.0 - p.powi(self.answering() as i32)
    }
    fn validate(&self) -> Result<()> {
        match *self {
            Architecture::ClientServer { replicas } if !(1..=16).contains(&replicas) => {
                Err(Error::argument("replicas", replicas, "1 to 16"))
            }
            Architecture::PeerToPeer { peers } if !(2..=16).contains(&peers) => {
                Err(Error::argument("peers", peers, "2 to 16"))
            }
            _ => Ok(()),
        }
    }
    fn names(&self) -> Vec<String> {
        match *self {
            Architecture::Centralized => vec!["client".into(), "server".into()],
            Architecture::ClientServer { replicas } => std::iter::once("client".to_string())
                .chain((1..=replicas).map(|i| format!("server-{i}")))
                .collect(),
            Architecture::PeerToPeer { peers } => (0..peers).map(|i| format!("peer-{i}")).collect(),
        }
    }
}

/// One architecture at one failure probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AvailabilityRow {
    /// The architecture.
    pub architecture: Architecture,
    /// Probability that each answering node is down.
    pub p_fail: f64,
    /// Requests made.
    pub trials: u64,
    /// Share of requests answered (Monte Carlo).
    pub observed: f64,
    /// 1 - p^k.
    pub expected: f64,
    /// Messages sent per request, retries and replies included.
    pub messages_per_request: f64,
}

/// Availability of several architectures against the per-node failure probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Availability {
    /// The seed.
    pub seed: u64,
    /// One row per architecture and probability.
    pub rows: Vec<AvailabilityRow>,
}

/// Monte Carlo availability: for each architecture and failure probability, `trials`
/// simulated clusters in which every node that could answer is down with probability `p`;
/// the asking node sends its request to one answering node after another (a timeout means
/// "try the next") until one replies. Messages are not lost, so only crashes matter.
pub fn availability(
    architectures: &[Architecture],
    p_fail: &[f64],
    trials: u64,
    seed: u64,
) -> Result<Availability> {
    check_rates("p_fail", p_fail)?;
    check_runs("trials", trials)?;
    if architectures.is_empty() {
        return Err(Error::argument("architectures", "none", "at least one architecture"));
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut rows = Vec::new();
    for arch in architectures {
        arch.validate()?;
        let config = Config::builder()
            .names(arch.names())
            .loss(0.0)
            .latency(Latency::uniform(10.0, 50.0))
            .seed(seed)
            .trace(false)
            .build()?;
        for &p in p_fail {
            let (mut answered, mut messages) = (0u64, 0u64);
            for _ in 0..trials {
                let mut c = Cluster::new(config.clone());
                for s in 1..c.len() {
                    if rng.random::<f64>() < p {
                        c.crash(s)?;
                    }
                }
                for s in 1..c.len() {
                    if c.send(0, s, "request")?.all_acked() {
                        answered += 1;
                        break;
                    }
                }
                messages += c.stats().total.sent;
            }
            rows.push(AvailabilityRow {
                architecture: *arch,
                p_fail: p,
                trials,
                observed: answered as f64 / trials as f64,
                expected: arch.expected(p),
                messages_per_request: messages as f64 / trials as f64,
            });
        }
    }
    Ok(Availability { seed, rows })
}

impl Availability {
    /// The row of one architecture at one failure probability (compared within 1e-9).
    pub fn row(&self, architecture: Architecture, p_fail: f64) -> Option<&AvailabilityRow> {
        self.rows.iter().find(|r| r.architecture == architecture && (r.p_fail - p_fail).abs() < 1e-9)
    }

    /// A short table at a few failure probabilities: for each architecture `k` (nodes that
    /// can answer), the share answered, `1 - p^k`, and the messages a request cost (retries
    /// and replies included). Probabilities the experiment did not run are left out.
    ///
    /// ```
    /// use distlab::experiment::{availability, Architecture};
    /// let a = availability(&[Architecture::Centralized], &[0.0, 0.5], 50, 1)?;
    /// let t = a.table_at(&[0.5, 0.7]);
    /// assert_eq!(t.rows.len(), 1); // 0.7 was not run
    /// assert_eq!(t.rows[0][2], "1");  // k
    /// # Ok::<(), distlab::Error>(())
    /// ```
    pub fn table_at(&self, p_fail: &[f64]) -> Table {
        let mut t = Table::new(
            format!("requests at {} failure probabilities (seed {})", p_fail.len(), self.seed),
            ["p(node down)", "architecture", "k", "answered", "1 - p^k", "messages/request"],
        );
        for &p in p_fail {
            for r in self.rows.iter().filter(|r| (r.p_fail - p).abs() < 1e-9) {
                t.row([
                    format!("{p:.2}"),
                    r.architecture.label(),
                    r.architecture.answering().to_string(),
                    format!("{:.3}", r.observed),
                    format!("{:.3}", r.expected),
                    format!("{:.2}", r.messages_per_request),
                ]);
            }
        }
        t.note("k: nodes that can answer a request. Equal k, equal availability.");
        t
    }

    /// The availability chart.
    pub fn chart(&self) -> Chart {
        Chart::new("requests answered, by architecture", (760, 460), Drawing::of(self.clone()))
    }
}

impl Tabular for Availability {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let mut t = Table::new(
            format!("availability by architecture (seed {})", self.seed),
            ["architecture", "k", "p(node down)", "requests", "answered", "1 - p^k", "messages/request"],
        );
        for r in &self.rows {
            t.row([
                r.architecture.label(),
                r.architecture.answering().to_string(),
                format!("{:.2}", r.p_fail),
                r.trials.to_string(),
                format!("{:.4}", r.observed),
                format!("{:.4}", r.expected),
                format!("{:.2}", r.messages_per_request),
            ]);
        }
        vec![t]
    }
}

show_tables!(Availability);
