//! Operation bookkeeping, written once for both runtimes.
//!
//! A verb opens an operation at its origin node. Each message sent while handling the request
//! is a request to one *target*; the runtime tags it with an [`OpTag`] (operation, target,
//! request or reply), and a reply carries the same tag back. Tags travel with the message (in
//! the simulated queue, in the datagram on sockets), so each message's fate is recorded in the
//! book the moment it is settled: delivered, or dropped with its cause. Nothing is
//! reconstructed from the trace afterwards, so reports are right with the trace off.
//!
//! The sender's view is kept apart: a target is *replied* only when its reply reaches the
//! node that sent the request, and *timed out* when the timeout comes first.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::node::{NodeId, Record, Version};
use crate::protocol::Effect;
use crate::report::{Fate, OpReport, SenderView, TargetReport, Verb};
use crate::time::Time;
use crate::trace::Note;

/// Which operation a message belongs to, which target it is for, and whether it is the
/// request or the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpTag {
    /// The operation's number.
    pub op: u32,
    /// The target's index in the operation.
    pub target: u32,
    /// True for the reply.
    pub reply: bool,
}

/// Why a handler ran, which decides what the messages it sends belong to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cause {
    /// A verb started operation `op` here.
    Request(u32),
    /// A message from `from` arrived with `tag`; `op` is the operation of this runtime's book
    /// it belongs to (None for a request of another process's operation, or no operation).
    Message { from: NodeId, tag: Option<OpTag>, op: Option<u32> },
    /// A timer of an operation, or of none.
    Timer(Option<u32>),
    /// A recovery.
    Plain,
}

impl Cause {
    /// A message that arrived, in a runtime whose book has every operation.
    pub(crate) fn message(from: NodeId, tag: Option<OpTag>) -> Cause {
        Cause::Message { from, tag, op: tag.map(|t| t.op) }
    }
    /// The operation the handler's messages belong to.
    pub(crate) fn op(self) -> Option<u32> {
        match self {
            Cause::Request(op) => Some(op),
            Cause::Message { op, .. } | Cause::Timer(op) => op,
            Cause::Plain => None,
        }
    }
}

/// What a runtime must do for one effect, once the book has recorded it.
#[derive(Debug)]
pub(crate) enum Action<M> {
    /// Send `msg`; a request (`tag` not a reply) waits for its reply until the timeout.
    Send { to: NodeId, msg: Arc<M>, tag: Option<OpTag> },
    /// Call the handler's timer `id` after `after`, on behalf of operation `op`.
    Timer { after: Time, id: u64, op: Option<u32> },
    /// Forget the node's pending timers with `id`.
    CancelTimer { id: u64 },
    /// Record that the node stored `record`.
    Stored { record: Arc<Record> },
    /// Wake whoever waits for the operation (it was finished early).
    Finished,
}

#[derive(Debug, Clone)]
struct Target<M> {
    /// The node that sent the request (the operation's origin, unless a handler forwarded).
    from: NodeId,
    node: NodeId,
    up_at_start: bool,
    seen: SenderView,
    request: Fate,
    reply: Fate,
    answer: Option<Arc<M>>,
}

#[derive(Debug, Clone)]
struct Op<M, O> {
    verb: Verb,
    origin: NodeId,
    what: String,
    started: Time,
    finished: Time,
    targets: Vec<Target<M>>,
    waiting: usize,
    first_event: usize,
    updated: Vec<Arc<Record>>,
    version: Option<Version>,
    /// When a handler finished the operation, and the value it returned.
    response: Option<(Time, Option<O>)>,
}

/// Every operation of a run and what became of its messages.
#[derive(Debug, Clone)]
pub(crate) struct Book<M, O = u64> {
    ops: Vec<Op<M, O>>,
}

impl<M, O> Default for Book<M, O> {
    fn default() -> Self {
        Book { ops: Vec::new() }
    }
}

impl<M, O: Clone> Book<M, O> {
    /// Records what effect means for the operations and says what the runtime must do: a send
    /// becomes a request of the handler's operation (a new target) and a reply carries its
    /// request's tag back. `up` says whether a send's target is up (ignored otherwise);
    /// `nodes` is the cluster size: a send to a node that does not exist is dropped here.
    pub(crate) fn route(
        &mut self,
        node: NodeId,
        cause: Cause,
        effect: Effect<M, O>,
        up: bool,
        nodes: usize,
        now: Time,
    ) -> Option<Action<M>> {
        match effect {
            Effect::Send { to, msg } => {
                if to.index() >= nodes {
                    return None;
                }
                let tag = cause.op().and_then(|op| self.add_target(op, node, to, up));
                Some(Action::Send { to, msg, tag })
            }
            Effect::Reply { msg } => {
                let Cause::Message { from, tag, op } = cause else { return None };
                let tag = tag.and_then(|t| match op {
                    Some(_) => self.reply_tag(t),
                    // Another process's request: its tag goes back as it came.
                    None if !t.reply => Some(OpTag { reply: true, ..t }),
                    None => None,
                });
                Some(Action::Send { to: from, msg, tag })
            }
            Effect::Timer { after, id } => Some(Action::Timer { after, id, op: cause.op() }),
            Effect::CancelTimer { id } => Some(Action::CancelTimer { id }),
            Effect::Note { note: Note::Stored(record) } => {
                if let Some(op) = cause.op() {
                    let from_reply = matches!(cause, Cause::Message { tag: Some(t), .. } if t.reply);
                    self.stored(op, node, &record, from_reply);
                }
                Some(Action::Stored { record })
            }
            Effect::Finish { output } => {
                let op = cause.op()?;
                self.finish(op, now);
                if let Some(o) = self.ops.get_mut(op as usize) {
                    o.response.get_or_insert((now, output));
                }
                Some(Action::Finished)
            }
        }
    }

    /// Opens an operation; `first_event` is the trace position its log starts at.
    pub(crate) fn open(&mut self, verb: Verb, origin: NodeId, now: Time, first_event: usize) -> u32 {
        self.ops.push(Op {
            verb,
            origin,
            what: String::new(),
            started: now,
            finished: now,
            targets: Vec::new(),
            waiting: 0,
            first_event,
            updated: Vec::new(),
            version: None,
            response: None,
        });
        (self.ops.len() - 1) as u32
    }

    /// Sets what the operation sent, in words, for its report; a write adds the version the
    /// origin stored while starting it.
    pub(crate) fn describe(&mut self, op: u32, what: String) {
        if let Some(o) = self.ops.get_mut(op as usize) {
            o.what = match o.version {
                Some(v) => format!("{what} ({v})"),
                None => what,
            };
        }
    }

    /// A new target: `from` sends a request to `node`. Returns the request's tag.
    pub(crate) fn add_target(&mut self, op: u32, from: NodeId, node: NodeId, up: bool) -> Option<OpTag> {
        let o = self.ops.get_mut(op as usize)?;
        o.targets.push(Target {
            from,
            node,
            up_at_start: up,
            seen: SenderView::Waiting,
            request: Fate::InFlight,
            reply: Fate::NotSent,
            answer: None,
        });
        o.waiting += 1;
        Some(OpTag { op, target: (o.targets.len() - 1) as u32, reply: false })
    }

    fn target(&mut self, tag: OpTag) -> Option<&mut Target<M>> {
        self.ops.get_mut(tag.op as usize)?.targets.get_mut(tag.target as usize)
    }

    /// Whether a message from `from` to `to` may carry `tag`: the operation and target exist,
    /// and a request goes from the requester to the target, a reply the other way. A tag
    /// that fails this is forged (or from another run) and the message is refused.
    pub(crate) fn fits(&self, tag: OpTag, from: NodeId, to: NodeId) -> bool {
        let Some(t) = self.ops.get(tag.op as usize).and_then(|o| o.targets.get(tag.target as usize)) else {
            return false;
        };
        if tag.reply {
            (from, to) == (t.node, t.from)
        } else {
            (from, to) == (t.from, t.node)
        }
    }

    /// The tag of an answer to a message tagged `tag` (None for an answer to a reply).
    pub(crate) fn reply_tag(&mut self, tag: OpTag) -> Option<OpTag> {
        if tag.reply {
            return None;
        }
        let t = self.target(tag)?;
        if t.reply == Fate::NotSent {
            t.reply = Fate::InFlight;
        }
        Some(OpTag { reply: true, ..tag })
    }

    /// Records a message's fate as it is settled. A delivery wins over a drop, so a delivered
    /// duplicate of a lost message counts as delivered.
    pub(crate) fn settle(&mut self, tag: OpTag, fate: Fate) {
        let Some(t) = self.target(tag) else { return };
        let slot = if tag.reply { &mut t.reply } else { &mut t.request };
        if !matches!(slot, Fate::Delivered { .. }) {
            *slot = fate;
        }
    }

    /// A reply reached the requester at `now`: the sender's view turns to "replied". True
    /// when this was the first answer of that target.
    pub(crate) fn replied(&mut self, tag: OpTag, now: Time, answer: &Arc<M>) -> bool {
        let Some(o) = self.ops.get_mut(tag.op as usize) else { return false };
        let started = o.started;
        let Some(t) = o.targets.get_mut(tag.target as usize) else { return false };
        if t.seen != SenderView::Waiting {
            return false;
        }
        t.seen = SenderView::Replied { rtt: now.since(started) };
        t.answer = Some(answer.clone());
        // A handler may have finished the operation already (waiting is then 0).
        o.waiting = o.waiting.saturating_sub(1);
        o.finished = now;
        true
    }

    /// The timeout of a target came: (requester, target) when it was still waiting.
    pub(crate) fn timed_out(&mut self, op: u32, target: u32, now: Time) -> Option<(NodeId, NodeId)> {
        let o = self.ops.get_mut(op as usize)?;
        let t = o.targets.get_mut(target as usize)?;
        if t.seen != SenderView::Waiting {
            return None;
        }
        t.seen = SenderView::TimedOut;
        // A handler may have finished the operation already (waiting is then 0).
        o.waiting = o.waiting.saturating_sub(1);
        o.finished = now;
        Some((t.from, t.node))
    }

    /// Targets still waiting: (target index, requester, target).
    pub(crate) fn waiting_targets(&self, op: u32) -> Vec<(u32, NodeId, NodeId)> {
        self.ops.get(op as usize).map_or(Vec::new(), |o| {
            o.targets
                .iter()
                .enumerate()
                .filter(|(_, t)| t.seen == SenderView::Waiting)
                .map(|(i, t)| (i as u32, t.from, t.node))
                .collect()
        })
    }

    /// A handler finished the operation: it waits for nobody any more.
    pub(crate) fn finish(&mut self, op: u32, now: Time) {
        if let Some(o) = self.ops.get_mut(op as usize) {
            if o.waiting > 0 {
                o.waiting = 0;
                o.finished = now;
            }
        }
    }

    /// Replies and timeouts still to come.
    pub(crate) fn waiting(&self, op: u32) -> usize {
        self.ops.get(op as usize).map_or(0, |o| o.waiting)
    }

    /// `node` stored `record` while handling a message of `op`: at the origin while starting
    /// the operation it is the version the operation writes; at the origin from a reply it is
    /// a record the operation brought in (a sync).
    pub(crate) fn stored(&mut self, op: u32, node: NodeId, record: &Arc<Record>, from_reply: bool) {
        let Some(o) = self.ops.get_mut(op as usize) else { return };
        if node != o.origin {
            return;
        }
        if from_reply {
            o.updated.push(record.clone());
        } else if o.version.is_none() {
            o.version = Some(record.version);
        }
    }

    /// When a handler finished the operation and what it returned (None: it never did).
    pub(crate) fn response(&self, op: u32) -> Option<(Time, Option<O>)> {
        self.ops.get(op as usize)?.response.clone()
    }

    /// Each target and its first answer (None: no answer).
    pub(crate) fn answers(&self, op: u32) -> Vec<(NodeId, Option<Arc<M>>)> {
        self.ops
            .get(op as usize)
            .map_or(Vec::new(), |o| o.targets.iter().map(|t| (t.node, t.answer.clone())).collect())
    }

    /// Where the operation's log starts in the trace, and when it ended.
    pub(crate) fn span(&self, op: u32) -> Option<(usize, Time)> {
        self.ops.get(op as usize).map(|o| (o.first_event, o.finished))
    }

    /// The report: the sender's view beside each message's fate. `omniscient` is false where
    /// the runtime sees only one node (then fates and liveness are not shown).
    pub(crate) fn report(
        &self,
        op: u32,
        name: impl Fn(NodeId) -> String,
        log: Vec<String>,
        omniscient: bool,
    ) -> OpReport {
        let o = &self.ops[op as usize];
        OpReport {
            verb: o.verb,
            origin: name(o.origin),
            what: o.what.clone(),
            started: o.started,
            finished: o.finished,
            targets: o
                .targets
                .iter()
                .map(|t| TargetReport {
                    id: t.node,
                    name: name(t.node),
                    up_at_start: t.up_at_start,
                    seen: t.seen,
                    request: t.request,
                    reply: t.reply,
                })
                .collect(),
            updated: o.updated.clone(),
            version: o.version,
            log,
            omniscient,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_fits_only_its_operation_target_and_direction() {
        let mut book: Book<()> = Book::default();
        let op = book.open(Verb::Broadcast, NodeId(0), Time(0), 0);
        let tag = book.add_target(op, NodeId(0), NodeId(2), true).unwrap();
        assert!(book.fits(tag, NodeId(0), NodeId(2)));
        assert!(!book.fits(tag, NodeId(1), NodeId(2)), "wrong sender");
        let reply = book.reply_tag(tag).unwrap();
        assert!(book.fits(reply, NodeId(2), NodeId(0)));
        assert!(!book.fits(reply, NodeId(0), NodeId(2)), "a reply goes back");
        for forged in [
            OpTag { op: 9, ..tag },
            OpTag { target: 5, ..tag },
            OpTag { op: u32::MAX, target: u32::MAX, reply: true },
        ] {
            assert!(!book.fits(forged, NodeId(0), NodeId(2)) && !book.fits(forged, NodeId(2), NodeId(0)));
        }
        // A forged tag changes nothing, and an answer to a reply has no tag.
        book.settle(OpTag { op: 9, ..tag }, Fate::Dropped { cause: crate::trace::DropCause::Lost });
        assert!(book.reply_tag(reply).is_none());
        assert!(book.replied(reply, Time(5), &Arc::new(())));
        assert!(!book.replied(reply, Time(6), &Arc::new(())), "only the first answer counts");
        assert_eq!(book.waiting(op), 0);
    }
}
