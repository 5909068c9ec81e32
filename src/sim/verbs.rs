//! The verbs of the simulated runtime for any protocol: requests, crashes, recoveries,
//! partitions. [`Cluster`](crate::Cluster) forwards its fault verbs here.

use crate::error::Result;
use crate::faults::{group_cuts, Cut};
use crate::node::{NodeId, NodeRef};
use crate::protocol::Protocol;
use crate::report::{Log, OpReport, Verb};
use crate::trace::EventKind;

use super::{Item, Sim};

impl<P: Protocol> Sim<P> {
    /// The id of a node given by index or name; an error for an unknown one.
    pub fn id_of(&self, node: impl Into<NodeRef>) -> Result<NodeId> {
        self.config.resolve(node)
    }

    /// Starts an operation at `origin` with the protocol's `request` and runs the clock until
    /// it is done: a handler finished it, or every request it sent was answered or timed out.
    pub fn request(&mut self, origin: impl Into<NodeRef>, request: P::Request) -> Result<OpReport> {
        let origin = self.id_of(origin)?;
        let op = self.start(Verb::Request, origin, &request, Some("request"))?;
        self.book.describe(op, format!("{request:?}"));
        Ok(self.finish(op))
    }

    /// Crashes a node now: messages that reach it are dropped, its timers are cancelled, and
    /// the protocol's crash handler runs (by default a volatile node forgets its state).
    pub fn crash(&mut self, node: impl Into<NodeRef>) -> Result<Log> {
        let n = self.id_of(node)?;
        Ok(self.logged(|sim| {
            sim.apply_crash(n);
        }))
    }

    /// Brings a node back now and runs the protocol's recovery handler.
    pub fn recover(&mut self, node: impl Into<NodeRef>) -> Result<Log> {
        let n = self.id_of(node)?;
        Ok(self.logged(|sim| {
            sim.apply_recover(n);
        }))
    }

    /// Schedules a crash at virtual time `at_ms` (not before now).
    pub fn crash_at(&mut self, node: impl Into<NodeRef>, at_ms: f64) -> Result<()> {
        let n = self.id_of(node)?;
        let at = self.future("at_ms", at_ms)?;
        self.queue.push(at, Item::Crash(n));
        Ok(())
    }

    /// Schedules a recovery at virtual time `at_ms` (not before now).
    pub fn recover_at(&mut self, node: impl Into<NodeRef>, at_ms: f64) -> Result<()> {
        let n = self.id_of(node)?;
        let at = self.future("at_ms", at_ms)?;
        self.queue.push(at, Item::Recover(n));
        Ok(())
    }

    /// Splits the nodes into groups that cannot reach each other; nodes not listed form one
    /// more group. Messages already travelling across the cut are dropped on arrival.
    pub fn partition<G, N>(&mut self, groups: impl IntoIterator<Item = G>) -> Result<Log>
    where
        G: IntoIterator<Item = N>,
        N: Into<NodeRef>,
    {
        let (group_of, count) = self.config.groups(groups)?;
        Ok(self.logged(|sim| group_cuts(&group_of, count).into_iter().for_each(|c| sim.cut(c))))
    }

    /// Cuts one direction only: messages from `from` to `to` are dropped, the other way works.
    pub fn partition_one_way<A, B>(
        &mut self,
        from: impl IntoIterator<Item = A>,
        to: impl IntoIterator<Item = B>,
    ) -> Result<Log>
    where
        A: Into<NodeRef>,
        B: Into<NodeRef>,
    {
        let cut = Cut::new(self.nodes.len(), &self.config.resolve_all(from)?, &self.config.resolve_all(to)?);
        Ok(self.logged(|sim| sim.cut(cut)))
    }

    /// Removes every partition.
    pub fn heal(&mut self) -> Log {
        self.logged(|sim| {
            if sim.cuts.heal() > 0 {
                sim.emit(EventKind::Healed);
            }
        })
    }

    /// The narration of every recorded event, in the lesson's style.
    pub fn narration(&self) -> Vec<String> {
        self.trace.iter().filter_map(|e| crate::narration::narrate(e, &self.config)).collect()
    }

    /// Runs `change` and returns the narration of what it recorded.
    fn logged(&mut self, change: impl FnOnce(&mut Self)) -> Log {
        let mark = self.trace.len();
        change(self);
        Log {
            lines: self
                .trace
                .since(mark)
                .filter_map(|e| crate::narration::narrate(e, &self.config))
                .collect(),
        }
    }
}
