//! The what-if hooks of the simulated runtime: where an armed fork acts. The runtime owns
//! the hook (the point, the change, when it is due); [`crate::whatif`], above it, arms it
//! and compares the runs, so the runtime never calls up into the tool. The two places where
//! a fork acts, [`Sim::boundary`] and `forked_loss`, are cold and out of line: an ordinary run
//! only tests whether a fork is armed. And `set_links`, the same change of loss and latency for a scenario that
//! places its faults itself ([`crate::experiment::Silence`]).

use std::fmt;

use crate::config::Latency;
use crate::error::{Error, Result};
use crate::node::NodeId;
use crate::protocol::Protocol;
use crate::sim::Sim;
use crate::time::Time;
use crate::trace::MsgId;

/// Where a fork branches off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fork {
    /// Before anything at or after this virtual time.
    At(Time),
    /// Just before the step or verb that recorded event number `n` of the trace.
    BeforeEvent(usize),
}

impl Fork {
    /// Before anything at or after `ms` virtual milliseconds.
    pub fn at_ms(ms: f64) -> Result<Fork> {
        if !(0.0..=crate::sim::MAX_RUN_MS).contains(&ms) {
            return Err(Error::argument(
                "ms",
                ms,
                format!("a time in ms from 0 to {:e}", crate::sim::MAX_RUN_MS),
            ));
        }
        Ok(Fork::At(Time::from_ms(ms)))
    }
    /// Just before event number `n` (the numbers of `causality::table` and the narration).
    pub fn before_event(n: usize) -> Fork {
        Fork::BeforeEvent(n)
    }
}

impl fmt::Display for Fork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fork::At(t) => write!(f, "at {t}"),
            Fork::BeforeEvent(n) => write!(f, "before event #{n}"),
        }
    }
}

/// What the runtime does at the fork point (a [`Change`] with its node resolved).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ForkEffect {
    Nothing,
    Crash(NodeId),
    Recover(NodeId),
    Loss(f64),
    Latency(Latency),
}

/// Whether a boundary is the fork point.
pub(crate) enum Due {
    /// Act now, with the clock moved on to the point's time if it has one.
    Now(ForkEffect, Option<Time>),
    Not,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mode {
    /// First replay: find the boundary the point falls on.
    Probe { point: Fork, found: Option<u64> },
    /// Second replay: act at boundary `at`.
    Apply {
        at: u64,
        not_before: Option<Time>,
        effect: ForkEffect,
        message: Option<(MsgId, bool)>,
        applied: bool,
    },
}

/// A fork armed in a running simulation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Armed {
    mode: Mode,
    boundary: u64,
    /// When the change was made.
    pub(crate) applied_at: Option<Time>,
}

impl Armed {
    pub(crate) fn new(mode: Mode) -> Armed {
        Armed { mode, boundary: 0, applied_at: None }
    }
    /// After a probe, the boundary the point fell on (None after an applying replay).
    pub(crate) fn found(&self) -> Option<u64> {
        match self.mode {
            Mode::Probe { found, .. } => found,
            Mode::Apply { .. } => None,
        }
    }
    /// Called at every boundary; says when to act.
    pub(crate) fn pass(&mut self, next: Option<Time>, events: usize) -> Due {
        let k = self.boundary;
        self.boundary += 1;
        match &mut self.mode {
            Mode::Probe { point: Fork::At(t), found } => {
                if found.is_none() && next.is_some_and(|n| n >= *t) {
                    *found = Some(k);
                }
                Due::Not
            }
            Mode::Probe { point: Fork::BeforeEvent(n), found } => {
                if events <= *n {
                    *found = Some(k);
                }
                Due::Not
            }
            Mode::Apply { at, effect, applied, not_before, .. } if !*applied && k == *at => {
                *applied = true;
                Due::Now(*effect, *not_before)
            }
            Mode::Apply { .. } => Due::Not,
        }
    }
    /// Whether a copy of message `id` is lost, given what its sender's generator drew.
    pub(crate) fn lost(&self, id: MsgId, drawn: bool) -> bool {
        match &self.mode {
            Mode::Apply { message: Some((m, lost)), applied: true, .. } if *m == id => *lost,
            _ => drawn,
        }
    }
}

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
