//! The what-if hooks of the simulated runtime: where an armed fork acts (see
//! [`crate::whatif`]). Both are cold and out of line: an ordinary run only tests whether a
//! fork is armed. And `set_links`, the same change of loss and latency for a scenario that
//! places its faults itself ([`crate::experiment::Silence`]).

use crate::config::Latency;
use crate::protocol::Protocol;
use crate::sim::Sim;
use crate::time::Time;
use crate::trace::MsgId;
use crate::whatif::{Due, Effect as ForkEffect};

impl<P: Protocol> Sim<P> {
    /// A point between two steps or verbs, where an armed what-if fork may act; `next` is
    /// the time of what comes next. Out of line and cold: ordinary runs never call it, and
    /// inlined it would make the event loop larger for nothing.
    #[cold]
    #[inline(never)]
    pub(crate) fn boundary(&mut self, next: Option<Time>) {
        let events = self.trace.len();
        let Some(fork) = self.fork.as_deref_mut() else { return };
        if let Due::Now(effect, not_before) = fork.pass(next, events) {
            self.now = self.now.max(not_before.unwrap_or(Time(0)));
            fork.applied_at = Some(self.now);
            match effect {
                ForkEffect::Crash(n) => {
                    self.apply_crash(n);
                }
                ForkEffect::Recover(n) => {
                    self.apply_recover(n);
                }
                ForkEffect::Loss(p) => self.links.set_loss(p),
                ForkEffect::Latency(l) => self.links.set_latency(l),
                ForkEffect::Nothing => {}
            }
        }
    }

    /// Whether a copy is lost once an armed fork has had its say (see [`Sim::boundary`]).
    #[cold]
    #[inline(never)]
    pub(super) fn forked_loss(&self, id: MsgId, drawn: bool) -> bool {
        self.fork.as_deref().map_or(drawn, |f| f.lost(id, drawn))
    }

    /// Sets the loss probability and the latency of every message sent from now on, as an
    /// armed fork's `Loss` and `Latency` changes do at their point. For a scenario that places
    /// its faults by hand between steps, so its outcome is exact rather than a sample
    /// ([`crate::experiment::Silence`]: one request lost, one reply lost, one request held up).
    /// Messages already travelling keep what they drew.
    pub(crate) fn set_links(&mut self, loss: f64, latency: Latency) {
        self.links.set_loss(loss);
        self.links.set_latency(latency);
    }
}
