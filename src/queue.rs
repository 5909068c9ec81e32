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
/// A calendar queue: only the events of the current millisecond sit in a (small) heap;
/// later ones wait unsorted in a ring of one-millisecond buckets, and events further ahead
/// in a second heap. Popping is then a heap operation on a few hundred keys that stay in
/// cache, instead of one on every message in flight.
#[derive(Debug, Clone)]
pub(crate) struct EventQueue<T> {
    current: BinaryHeap<Key>,
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
            current: BinaryHeap::new(),
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
            self.current.push(key);
        } else if b < self.bucket + RING {
            self.ring[(b % RING) as usize].push(key);
            self.in_ring += 1;
        } else {
            self.far.push(key);
        }
    }

    /// Moves to the next bucket that holds anything, when the current one is empty.
    fn refill(&mut self) {
        while self.current.is_empty() && (self.in_ring > 0 || !self.far.is_empty()) {
            let next = if self.in_ring > 0 {
                (self.bucket + 1..self.bucket + RING)
                    .find(|b| !self.ring[(b % RING) as usize].is_empty())
                    .expect("in_ring counts keys in the ring")
            } else {
                u64::MAX
            };
            let far_next = self.far.peek().map_or(u64::MAX, |k| k.at.0 / WIDTH);
            self.bucket = next.min(far_next);
            let keys = std::mem::take(&mut self.ring[(self.bucket % RING) as usize]);
            self.in_ring -= keys.len();
            self.current.extend(keys);
            while self.far.peek().is_some_and(|k| k.at.0 / WIDTH <= self.bucket) {
                let k = self.far.pop().expect("peeked");
                self.current.push(k);
            }
        }
    }

    pub(crate) fn pop(&mut self) -> Option<(Time, T)> {
        self.refill();
        let key = self.current.pop()?;
        self.free.push(key.slot);
        let item = self.slab[key.slot as usize].take().expect("a queued key points at a filled slot");
        Some((key.at, item))
    }

    pub(crate) fn peek_time(&mut self) -> Option<Time> {
        self.refill();
        self.current.peek().map(|k| k.at)
    }

    pub(crate) fn len(&self) -> usize {
        self.current.len() + self.in_ring + self.far.len()
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
    fn matches_a_sorted_list_across_buckets_and_far_events() {
        // Times spread from the same bucket to far beyond the ring, pushed while popping.
        let mut q = EventQueue::default();
        let mut expected = Vec::new();
        let mut x: u64 = 12345;
        let mut now = 0;
        let mut popped = Vec::new();
        for i in 0..20_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let delay = match x >> 62 {
                0 => (x >> 20) % 500,
                1 => (x >> 20) % 60_000,
                2 => (x >> 20) % 5_000_000,
                _ => 0,
            };
            q.push(Time(now + delay), i);
            expected.push((now + delay, i));
            if i % 3 == 0 {
                let (t, v) = q.pop().unwrap();
                assert!(t.0 >= now, "time went backwards");
                now = t.0;
                popped.push((t.0, v));
            }
        }
        while let Some((t, v)) = q.pop() {
            popped.push((t.0, v));
        }
        // Same multiset, and popped in (time, insertion) order whenever both were queued.
        let mut a = popped.clone();
        a.sort();
        expected.sort();
        assert_eq!(a, expected);
        assert!(popped.windows(2).all(|w| w[0].0 <= w[1].0), "not in time order");
        assert_eq!(q.len(), 0);
    }
}
