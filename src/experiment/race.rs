//! Two writes to one key: which one the cluster keeps, and by which rule.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::node::Version;
use crate::report::{OpReport, Verb};
use crate::sim::cluster::Cluster;
use crate::table::{show_tables, Table, Tabular};

/// One of the writes [`survivor`] judges.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteSeen {
    /// Its coordinator.
    pub origin: String,
    /// The value written.
    pub value: String,
    /// Its version (counter, writer).
    pub version: Version,
    /// Nodes that acknowledged it: its coordinator could tell a client "done".
    pub acked: Vec<String>,
    /// When it started (ms).
    pub started_ms: f64,
}

/// Which of several writes to one key every live node holds now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Survivor {
    /// The key.
    pub key: String,
    /// The writes, in the order given.
    pub writes: Vec<WriteSeen>,
    /// Index of the write every live node holds; None while live nodes disagree or hold
    /// something else.
    pub survivor: Option<usize>,
    /// What happened, one line each, from the run.
    pub lines: Vec<String>,
}

/// Judges writes to `key` (the reports of `replicate` or `replicate_from`) against what
/// the cluster's live nodes hold now: which write survived, which were lost, and by which
/// rule. A [`Version`] orders by counter, then by the writer's id, so two writes made with
/// the same counter on either side of a partition are settled by the writers' ids, not by
/// which came later.
///
/// ```
/// use distlab::experiment::survivor;
/// use distlab::prelude::*;
/// let mut c = Cluster::new(Config::builder().nodes(4).loss(0.0).build()?);
/// c.partition([vec![0, 1]])?;
/// let first = c.replicate_from(3, "owner", "Bob")?;
/// let later = c.replicate_from(0, "owner", "Alice")?;
/// c.heal();
/// for n in 0..4 {
///     c.sync(n)?;
/// }
/// let s = survivor(&c, "owner", &[&first, &later])?;
/// assert_eq!(s.survivor, Some(0)); // Node-3 > Node-0, although Alice's write came later
/// assert_eq!(c.get(0, "owner")?.as_deref(), Some("Bob"));
/// # Ok::<(), distlab::Error>(())
/// ```
pub fn survivor(cluster: &Cluster, key: &str, writes: &[&OpReport]) -> Result<Survivor> {
    if writes.is_empty() || writes.len() > 26 {
        return Err(Error::argument("writes", format!("{} reports", writes.len()), "1 to 26 write reports"));
    }
    let mut seen = Vec::with_capacity(writes.len());
    for r in writes {
        let value = match (r.verb, r.version) {
            (Verb::Replicate, Some(v)) => r
                .what
                .strip_prefix(&format!("{key} = "))
                .and_then(|rest| rest.strip_suffix(&format!(" ({v})"))),
            _ => None,
        };
        let (Some(value), Some(version)) = (value, r.version) else {
            return Err(Error::argument("writes", &r.what, format!("reports of writes to {key:?}")));
        };
        seen.push(WriteSeen {
            origin: r.origin.clone(),
            value: value.to_string(),
            version,
            acked: r.acked().iter().map(|s| s.to_string()).collect(),
            started_ms: r.started.as_ms(),
        });
    }
    let check = cluster.check_consistency(key);
    let live: Vec<_> = check.replicas.iter().filter(|r| r.up).collect();
    let survivor =
        seen.iter().position(|w| !live.is_empty() && live.iter().all(|r| r.version == Some(w.version)));
    let name = |w: &WriteSeen| format!("{} = {} from {}", key, w.value, w.origin);
    let mut lines: Vec<String> = seen
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let acked = if w.acked.is_empty() { "nobody".to_string() } else { w.acked.join(", ") };
            format!(
                "write {}: {} at {:.1} ms, version {} by {}; acknowledged by {acked}",
                i + 1,
                name(w),
                w.started_ms,
                w.version,
                cluster.name(w.version.writer),
            )
        })
        .collect();
    match survivor {
        Some(s) => {
            lines.push(format!(
                "now every live node holds {key} = {}: write {} survived",
                seen[s].value,
                s + 1
            ));
            for (i, w) in seen.iter().enumerate().filter(|(i, _)| *i != s) {
                let told = if w.acked.is_empty() {
                    ""
                } else {
                    ", though its coordinator had acks to report \"done\""
                };
                lines.push(format!("lost, with no error to anyone: write {} ({}){told}", i + 1, name(w)));
            }
        }
        None => lines.push(format!(
            "the live nodes do not all hold one of these writes yet (sync every node, then judge again): {}",
            live.iter()
                .map(|r| format!("{} {}", r.name, r.value.as_deref().unwrap_or("(missing)")))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    let mut s = Survivor { key: key.to_string(), writes: seen, survivor, lines };
    let rule = s.why(cluster);
    s.lines.push(format!("rule: {rule}"));
    Ok(s)
}

impl Survivor {
    /// The rule that decided, in one line, with this run's versions.
    fn why(&self, cluster: &Cluster) -> String {
        let Some(s) = self.survivor else {
            return "a version orders by counter, then by writer id".to_string();
        };
        let win = &self.writes[s];
        let losers: Vec<&WriteSeen> =
            self.writes.iter().enumerate().filter(|(i, _)| *i != s).map(|(_, w)| w).collect();
        if losers.iter().all(|w| w.version.counter == win.version.counter) {
            format!(
                "every write carries counter {}, so the higher writer id wins ({} over {}); which write came later plays no part",
                win.version.counter,
                cluster.name(win.version.writer),
                losers.iter().map(|w| cluster.name(w.version.writer)).collect::<Vec<_>>().join(", ")
            )
        } else {
            "a version orders by counter first (the higher counter wins), then by writer id".to_string()
        }
    }

    /// The rule line of this run (the last of [`Survivor::lines`]).
    pub fn rule(&self) -> &str {
        self.lines.last().and_then(|l| l.strip_prefix("rule: ")).unwrap_or("")
    }
}

impl Tabular for Survivor {
    fn log(&self) -> &[String] {
        &self.lines
    }
    fn tables(&self) -> Vec<Table> {
        Vec::new()
    }
}

show_tables!(Survivor);
