//! The next-event queue: events come out in order of virtual time, and events at the same
//! time in the order they were scheduled, so a run never depends on how a heap breaks ties.
//!
//! Keys (time, sequence number, slot) are small; the events themselves wait in a slab and are
//! moved once in and once out, which keeps a storm of a million messages fast.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::trace::Time;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    at: Time,
    seq: u64,
    slot: u32,
}

// Reversed, so the max-heap pops the earliest time, first scheduled first.
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Width of one calendar bucket in microseconds (about a millisecond).
const WIDTH: u64 = 1024;
/// Buckets in the calendar ring: events up to about a quarter second ahead go there.
const RING: u64 = 256;

/// A priority queue of `T` by virtual time with first-in-first-out ties.
///
/// A calendar queue: later events wait unsorted in a ring of one-millisecond buckets (and
/// events further ahead in a heap). When the clock reaches a bucket, its keys are sorted once
/// and popped from the end of a vector; the few events scheduled into the current
/// millisecond after that (zero-latency replies, timeouts) go to a small heap beside it.
/// Popping is then mostly a vector pop, instead of a heap operation on every message in
/// flight.
#[derive(Debug, Clone)]
pub(crate) struct EventQueue<T> {
    /// The current bucket's keys, earliest last.
    sorted: Vec<Key>,
    /// Keys for the current bucket (or earlier) that arrived after it was sorted.
    late: BinaryHeap<Key>,
    bucket: u64,
    ring: Vec<Vec<Key>>,
    in_ring: usize,
    far: BinaryHeap<Key>,
    slab: Vec<Option<T>>,
    free: Vec<u32>,
    seq: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            sorted: Vec::new(),
            late: BinaryHeap::new(),
            bucket: 0,
            ring: (0..RING).map(|_| Vec::new()).collect(),
            in_ring: 0,
            far: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            seq: 0,
        }
    }
}

impl<T> EventQueue<T> {
    pub(crate) fn push(&mut self, at: Time, item: T) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(item);
                s
            }
            None => {
                self.slab.push(Some(item));
                (self.slab.len() - 1) as u32
            }
        };
        self.seq += 1;
        let key = Key { at, seq: self.seq, slot };
        let b = at.0 / WIDTH;
        if b <= self.bucket {
            self.late.push(key);
        } else if b < self.bucket + RING {
            self.ring[(b % RING) as usize].push(key);
            self.in_ring += 1;
        } else {
            self.far.push(key);
        }
    }

    /// Moves to the next bucket that holds anything, when the current one is used up.
    fn refill(&mut self) {
        while self.sorted.is_empty() && self.late.is_empty() && (self.in_ring > 0 || !self.far.is_empty()) {
            let next = if self.in_ring > 0 {
                (self.bucket + 1..self.bucket + RING)
                    .find(|b| !self.ring[(b % RING) as usize].is_empty())
                    .expect("in_ring counts keys in the ring")
            } else {
                u64::MAX
            };
            let far_next = self.far.peek().map_or(u64::MAX, |k| k.at.0 / WIDTH);
            self.bucket = next.min(far_next);
            // Take the bucket's vector (its memory goes with it, so an idle ring holds none).
            self.sorted = std::mem::take(&mut self.ring[(self.bucket % RING) as usize]);
            self.in_ring -= self.sorted.len();
            while self.far.peek().is_some_and(|k| k.at.0 / WIDTH <= self.bucket) {
                let k = self.far.pop().expect("peeked");
                self.sorted.push(k);
            }
            // Key orders the earliest as the greatest, so ascending order puts it last.
            self.sorted.sort_unstable();
        }
    }

    /// Whether the next key comes from `late` rather than `sorted` (None: both empty).
    fn next_is_late(&self) -> Option<bool> {
        match (self.sorted.last(), self.late.peek()) {
            (Some(s), Some(l)) => Some(l > s),
            (None, Some(_)) => Some(true),
            (Some(_), None) => Some(false),
            (None, None) => None,
        }
    }

    pub(crate) fn pop(&mut self) -> Option<(Time, T)> {
        self.refill();
        let key = if self.next_is_late()? { self.late.pop() } else { self.sorted.pop() }
            .expect("the chosen side has a key");
        self.free.push(key.slot);
        let item = self.slab[key.slot as usize].take().expect("a queued key points at a filled slot");
        Some((key.at, item))
    }

    pub(crate) fn peek_time(&mut self) -> Option<Time> {
        self.refill();
        let key = if self.next_is_late()? { self.late.peek() } else { self.sorted.last() };
        key.map(|k| k.at)
    }

    pub(crate) fn len(&self) -> usize {
        self.sorted.len() + self.late.len() + self.in_ring + self.far.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_by_insertion_order() {
        let mut q = EventQueue::default();
        for (t, name) in [(5, "a"), (1, "b"), (5, "c"), (1, "d"), (3, "e")] {
            q.push(Time(t), name);
        }
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(t, n)| (t.0, n)).collect();
        assert_eq!(order, [(1, "b"), (1, "d"), (3, "e"), (5, "a"), (5, "c")]);
        q.push(Time(9), "f");
        assert_eq!(q.len(), 1);
        assert_eq!(q.peek_time(), Some(Time(9)));
    }

    #[test]
    fn pops_exactly_like_a_reference_heap_across_buckets_late_and_far_events() {
        // The reference: a plain heap on (time, insertion number). Delays cover the same
        // instant (the late heap), the current and next buckets, the ring and beyond it.
        use std::cmp::Reverse;
        let mut q = EventQueue::default();
        let mut reference = BinaryHeap::new();
        let mut x: u64 = 12345;
        let mut now = 0;
        for i in 0..50_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let delay = match x >> 61 {
                0 | 1 => 0,
                2 => (x >> 20) % 1_500,
                3 | 4 => (x >> 20) % 60_000,
                5 => (x >> 20) % 400_000,
                _ => (x >> 20) % 5_000_000,
            };
            q.push(Time(now + delay), i);
            reference.push(Reverse((now + delay, i)));
            if i % 3 != 0 {
                let (t, v) = q.pop().unwrap();
                let Reverse((rt, rv)) = reference.pop().unwrap();
                assert_eq!((t.0, v), (rt, rv), "pop {i}");
                now = t.0;
                assert_eq!(q.len(), reference.len());
            }
        }
        while let Some(Reverse((rt, rv))) = reference.pop() {
            assert_eq!(q.peek_time(), Some(Time(rt)));
            assert_eq!(q.pop().map(|(t, v)| (t.0, v)), Some((rt, rv)));
        }
        assert_eq!(q.pop(), None);
        assert_eq!(q.len(), 0);
    }
}
