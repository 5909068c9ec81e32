//! Parts in series: a request that needs every part of a chain.
//!
//! Distribution alone does not remove a single point of failure: a page load that needs the
//! browser, DNS, a CDN, a web server and a database in turn fails when any one of them is
//! down, so it succeeds with probability `(1 - p)^m` for `m` parts. Redundancy (several copies
//! of a part, see [`super::availability`]) is what removes it.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

use super::check_runs;
use crate::config::{Config, Latency};
use crate::error::{Error, Result};
use crate::predict::short;
use crate::sim::cluster::Cluster;
use crate::table::{emit_html, Table};
use crate::verbs::Verbs;

/// The outcome of [`series`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The parts, in the order the request passes them.
    pub parts: Vec<String>,
    /// The chance that each part is up.
    pub p_up: f64,
    /// Requests made.
    pub trials: u64,
    /// Requests that passed every part.
    pub completed: u64,
    /// Messages sent per request, acknowledgements included.
    pub messages_per_request: f64,
    /// The seed.
    pub seed: u64,
}

/// Sends `trials` requests along a chain of parts, each part up with probability `p_up`
/// (independently, drawn anew for every request): each part passes the request to the next
/// with a `send` and waits for its ack, so a part that is down ends the request in a timeout.
/// The network loses nothing, so only crashes matter.
///
/// ```
/// use distlab::experiment::series;
/// let s = series(&["browser", "DNS", "CDN", "web server", "database"], 0.99, 2000, 1)?;
/// assert!((s.measured() - 0.99f64.powi(5)).abs() < 0.02);
/// # Ok::<(), distlab::Error>(())
/// ```
pub fn series(parts: &[&str], p_up: f64, trials: u64, seed: u64) -> Result<Series> {
    if !(1..=16).contains(&parts.len()) {
        return Err(Error::argument("parts", format!("{} parts", parts.len()), "1 to 16 parts"));
    }
    if !(0.0..=1.0).contains(&p_up) {
        return Err(Error::argument("p_up", p_up, "a probability in [0, 1]"));
    }
    check_runs("trials", trials)?;
    let config = Config::builder()
        .names(parts.iter().map(|p| p.to_string()))
        .loss(0.0)
        .latency(Latency::uniform(10.0, 50.0))
        .seed(seed)
        .trace(false)
        .build()?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut completed, mut messages) = (0u64, 0u64);
    for _ in 0..trials {
        let mut c = Cluster::new(config.clone());
        let mut up = vec![true; parts.len()];
        for (i, part_up) in up.iter_mut().enumerate() {
            if rng.random::<f64>() >= p_up {
                *part_up = false;
                c.crash(i)?;
            }
        }
        let mut passed = up[0];
        for hop in 1..parts.len() {
            if !passed {
                break;
            }
            passed = c.send(hop - 1, hop, "request")?.all_acked();
        }
        if passed {
            completed += 1;
        }
        messages += c.stats().total.sent;
    }
    Ok(Series {
        parts: parts.iter().map(|p| p.to_string()).collect(),
        p_up,
        trials,
        completed,
        messages_per_request: messages as f64 / trials as f64,
        seed,
    })
}

impl Series {
    /// The share of requests that passed every part.
    pub fn measured(&self) -> f64 {
        self.completed as f64 / self.trials as f64
    }
    /// `p_up^m`: what probability theory expects for `m` independent parts.
    pub fn expected(&self) -> f64 {
        self.p_up.powi(self.parts.len() as i32)
    }
    /// The result as a table.
    pub fn table(&self) -> Table {
        let m = self.parts.len();
        let mut t = Table::new(
            format!("a request through {m} parts in series (seed {})", self.seed),
            ["parts", "each part up", "requests", "completed", "measured", "expected (p_up)^m"],
        );
        t.row([
            self.parts.join(" → "),
            short(self.p_up),
            self.trials.to_string(),
            self.completed.to_string(),
            format!("{:.3}", self.measured()),
            format!("{:.3}", self.expected()),
        ]);
        t.note(format!(
            "{:.2} messages per request; every part is a place where the request can fail",
            self.messages_per_request
        ));
        t
    }
    /// Shows the table under a notebook cell.
    pub fn evcxr_display(&self) {
        emit_html(&self.table().to_html());
    }
}

impl std::fmt::Display for Series {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.table())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_product_rule() {
        for (m, p) in [(1, 0.5), (3, 0.9), (5, 0.99), (5, 0.8)] {
            let names: Vec<String> = (0..m).map(|i| format!("part-{i}")).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let s = series(&refs, p, 4000, 7).unwrap();
            let sd = (s.expected() * (1.0 - s.expected()) / 4000.0).sqrt();
            assert!((s.measured() - s.expected()).abs() <= 4.0 * sd + 1e-9, "m {m} p {p}: {}", s.measured());
        }
    }

    #[test]
    fn extremes_and_bad_arguments() {
        assert_eq!(series(&["a", "b"], 1.0, 50, 1).unwrap().completed, 50);
        assert_eq!(series(&["a", "b"], 0.0, 50, 1).unwrap().completed, 0);
        assert_eq!(series(&["a", "b"], 1.0, 50, 1).unwrap().messages_per_request, 2.0);
        assert!(series(&[], 0.9, 10, 1).unwrap_err().to_string().contains("1 to 16 parts"));
        assert!(series(&["a"], 1.5, 10, 1).unwrap_err().to_string().contains("invalid p_up: 1.5"));
        assert!(series(&["a"], 0.5, 0, 1).is_err());
        assert_eq!(
            series(&["a", "b", "c"], 0.9, 300, 3).unwrap(),
            series(&["a", "b", "c"], 0.9, 300, 3).unwrap()
        );
    }
}
