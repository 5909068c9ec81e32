//! "Concurrent or not?": a small run, pairs of its events, and the learner's answers graded
//! by vector clocks.

use super::{describe, Clocks, Order};
use crate::config::{Config, Latency};
use crate::error::{Error, Result};
use crate::node::NodeId;
use crate::sim::cluster::Cluster;
use crate::table::Table;
use crate::trace::{Body, Event, EventKind, Recorded};
use crate::verbs::Verbs;

/// The quiz run: Node-0 sends "a" to Node-1 and waits for the ack; 5 ms later Node-1 sends
/// "b" to Node-2 and waits for its ack. No loss, so the events are the same for every seed;
/// the seed changes only their times.
#[derive(Debug, Clone)]
pub struct ConcurrencyQuiz {
    cluster: Cluster,
    clocks: Clocks,
    pairs: Vec<(usize, usize)>,
}

fn find(c: &Cluster, what: &str, f: impl Fn(&EventKind) -> bool) -> Result<usize> {
    c.trace()
        .iter()
        .position(|e| f(&e.kind))
        .ok_or_else(|| Error::argument("quiz", what, "an event of the quiz run"))
}

fn text_is(body: &Body, t: &str) -> bool {
    matches!(body, Body::Text { text } if text == t)
}

impl ConcurrencyQuiz {
    /// Builds the run for `seed` (any seed gives the same events at other times).
    pub fn new(seed: u64) -> Result<Self> {
        let config =
            Config::builder().nodes(3).loss(0.0).latency(Latency::uniform(10.0, 50.0)).seed(seed).build()?;
        let mut c = Cluster::new(config);
        c.send(0, 1, "a")?;
        c.run_until(c.now().as_ms() + 5.0)?;
        c.send(1, 2, "b")?;
        let n = |i: u32| NodeId(i);
        let sent_a = find(
            &c,
            "0 sends a",
            |k| matches!(k, EventKind::Sent { from, body, .. } if *from == n(0) && text_is(body, "a")),
        )?;
        let got_a = find(
            &c,
            "1 receives a",
            |k| matches!(k, EventKind::Delivered { to, body, .. } if *to == n(1) && text_is(body, "a")),
        )?;
        let ack_a = find(
            &c,
            "0 receives ack",
            |k| matches!(k, EventKind::Delivered { to, body, .. } if *to == n(0) && matches!(**body, Body::Ack)),
        )?;
        let sent_b = find(
            &c,
            "1 sends b",
            |k| matches!(k, EventKind::Sent { from, body, .. } if *from == n(1) && text_is(body, "b")),
        )?;
        let got_b = find(
            &c,
            "2 receives b",
            |k| matches!(k, EventKind::Delivered { to, body, .. } if *to == n(2) && text_is(body, "b")),
        )?;
        let ack_b_sent =
            find(&c, "2 sends ack", |k| matches!(k, EventKind::Sent { from, .. } if *from == n(2)))?;
        let ack_b = find(
            &c,
            "1 receives ack",
            |k| matches!(k, EventKind::Delivered { to, body, .. } if *to == n(1) && matches!(**body, Body::Ack)),
        )?;
        let clocks = Clocks::of(&c)?;
        let pairs = vec![(sent_a, got_b), (ack_a, sent_b), (ack_b_sent, got_a), (ack_a, ack_b)];
        Ok(ConcurrencyQuiz { cluster: c, clocks, pairs })
    }

    /// The run, for charts and tables.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }
    /// The clocks of the run.
    pub fn clocks(&self) -> &Clocks {
        &self.clocks
    }
    /// The pairs asked about, as event numbers.
    pub fn pairs(&self) -> &[(usize, usize)] {
        &self.pairs
    }
    /// The true order of each pair.
    pub fn truth(&self) -> Vec<Order> {
        self.pairs.iter().map(|&(a, b)| self.clocks.order(a, b).unwrap_or(Order::Concurrent)).collect()
    }

    fn event(&self, i: usize) -> String {
        let e: &Event = self.cluster.trace().get(i).expect("quiz events are in the trace");
        let name = |k: usize| self.cluster.node_name(k);
        format!("#{i} at {:.1} ms: {}", e.at.as_ms(), describe(e, &name))
    }

    /// The questions: for each pair, is the first event before, after, or concurrent with
    /// the second?
    pub fn questions(&self) -> Table {
        let mut t = Table::new(
            "is the first event before, after, or concurrent with the second?",
            ["pair", "first event", "second event"],
        );
        for (k, &(a, b)) in self.pairs.iter().enumerate() {
            t.row([(k + 1).to_string(), self.event(a), self.event(b)]);
        }
        t
    }

    /// Grades the answers, one word per pair in order ("before, after, concurrent, ...",
    /// separated by commas or spaces; missing or unreadable words count as wrong) and shows
    /// the vector clocks that decide.
    pub fn grade(&self, answers: &str) -> Table {
        let answers: Vec<&str> = answers
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .collect();
        let mut t = Table::new(
            "your answers, graded by vector clocks",
            ["pair", "your answer", "first event's clock", "second event's clock", "truth", ""],
        );
        let mut right = 0;
        for (k, (&(a, b), truth)) in self.pairs.iter().zip(self.truth()).enumerate() {
            let given = answers.get(k).copied().unwrap_or("");
            let yours = match Order::parse(given) {
                Some(o) => o.word().to_string(),
                None if given.trim().is_empty() => "(none)".to_string(),
                None => format!("{given:?}?"),
            };
            let ok = Order::parse(given) == Some(truth);
            right += usize::from(ok);
            let v = |i| self.clocks.vector_text(i).unwrap_or_default();
            t.row([
                (k + 1).to_string(),
                yours,
                v(a),
                v(b),
                truth.word().to_string(),
                (if ok { "right" } else { "wrong" }).to_string(),
            ]);
        }
        t.note(format!("{right} of {} right.", self.pairs.len()));
        t.note(
            "a is before b exactly when a's clock is at most b's in every entry (and they differ); \
             concurrent when each has an entry larger than the other's.",
        );
        t
    }

    /// Pairs of events where the first came earlier in virtual time, yet neither happened
    /// before the other: what a timestamp would have wrongly called an order.
    pub fn misleading(&self) -> Table {
        let trace = self.cluster.trace();
        let pairs = self.clocks.misleading_pairs(trace);
        let ordered = {
            let ids: Vec<usize> = self.clocks.events().collect();
            let mut n = 0usize;
            for (k, &a) in ids.iter().enumerate() {
                n += ids[k + 1..]
                    .iter()
                    .filter(|&&b| trace.get(a).map(|e| e.at) < trace.get(b).map(|e| e.at))
                    .count();
            }
            n
        };
        let mut t = Table::new("earlier in time, yet concurrent", ["earlier event", "later event"]);
        for &(a, b) in &pairs {
            t.row([self.event(a), self.event(b)]);
        }
        t.note(format!(
            "{} of the {ordered} pairs of events that time puts in order are concurrent: no message chain links them.",
            pairs.len()
        ));
        t
    }
}
