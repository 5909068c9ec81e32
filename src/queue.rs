//! The next-event queue: events come out in order of virtual time, and events at the same
//! time in the order they were scheduled, so a run never depends on how a heap breaks ties.
//!
//! Each event waits beside its key (time, sequence number) in the vector of its
//! one-millisecond bucket. Pushing appends; when the clock reaches a bucket it is ordered
//! once, by a counting sort on the microsecond within the bucket, and popped from the end, so
//! both run through memory in order. (An earlier version kept the events in a slab and only
//! keys in the buckets: popping then read the slab at random, and most of the run's time was
//! that cache miss. Sorting whole events with a comparison sort cost a third of the run.) Memory follows the events waiting, not
//! the events ever scheduled: an emptied bucket vector is recycled for a later bucket instead
//! of freed, so the allocator is not left with holes of every size.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::Time;

/// An event and its key, in the heaps (which need the sequence number to break ties).
#[derive(Debug, Clone)]
struct Entry<T> {
    at: Time,
    seq: u64,
    item: T,
}

/// Up to [`CHUNK`] events of one bucket.
type Chunk<T> = Vec<Option<Timed<T>>>;

/// Appends an event to a bucket's chunks, taking a chunk from the pool when the last is full.
fn append<T>(chunks: &mut Vec<Chunk<T>>, pool: &mut Vec<Chunk<T>>, event: Timed<T>) {
    if chunks.last().is_none_or(|c| c.len() == CHUNK) {
        chunks.push(pool.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK)));
    }
    if let Some(last) = chunks.last_mut() {
        last.push(Some(event));
    }
}

/// An event in a bucket vector: its place in the vector keeps the scheduling order, so it
/// needs no sequence number (8 bytes less per message in flight).
#[derive(Debug, Clone)]
struct Timed<T> {
    at: Time,
    item: T,
}

impl<T> Entry<T> {
    fn key(&self) -> (Time, u64) {
        (self.at, self.seq)
    }
}

// Reversed, so the max-heap pops the earliest time, first scheduled first.
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<T> Eq for Entry<T> {}

/// Width of one calendar bucket in microseconds (about a millisecond).
const WIDTH: u64 = 1024;
/// Buckets in the calendar ring: events up to about a quarter second ahead go there.
const RING: u64 = 256;
/// Events per chunk of a bucket.
const CHUNK: usize = 256;
/// The end of a list in the counting sort.
const NONE: u32 = u32::MAX;

/// A priority queue of `T` by virtual time with first-in-first-out ties.
///
/// A calendar queue: later events wait unsorted in a ring of one-millisecond buckets (and
/// events further ahead in a heap). When the clock reaches a bucket, it is sorted once and
/// popped from the end of a vector; the few events scheduled into the current millisecond
/// after that (zero-latency replies, timeouts) go to a small heap beside it. Popping is then
/// mostly a vector pop, instead of a heap operation on every message in flight.
#[derive(Debug, Clone)]
pub(crate) struct EventQueue<T> {
    /// The current bucket, earliest last (every slot filled).
    sorted: Vec<Option<Timed<T>>>,
    /// Events for the current bucket (or earlier) that arrived after it was sorted.
    late: BinaryHeap<Entry<T>>,
    bucket: u64,
    /// Per bucket, its chunks in scheduling order.
    ring: Vec<Vec<Chunk<T>>>,
    in_ring: usize,
    far: BinaryHeap<Entry<T>>,
    /// Empty chunks, for the next buckets to fill.
    pool: Vec<Chunk<T>>,
    /// The vector the next bucket is sorted into (the last one, emptied).
    spare: Vec<Option<Timed<T>>>,
    /// Scratch for the counting sort: per microsecond, the last event seen; per event, the
    /// one before it with the same microsecond.
    heads: Vec<u32>,
    links: Vec<u32>,
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
            pool: Vec::new(),
            spare: Vec::new(),
            heads: vec![NONE; WIDTH as usize],
            links: Vec::new(),
            seq: 0,
        }
    }
}

impl<T> EventQueue<T> {
    pub(crate) fn push(&mut self, at: Time, item: T) {
        self.seq += 1;
        let b = at.0 / WIDTH;
        if b <= self.bucket {
            self.late.push(Entry { at, seq: self.seq, item });
        } else if b < self.bucket + RING {
            append(&mut self.ring[(b % RING) as usize], &mut self.pool, Timed { at, item });
            self.in_ring += 1;
        } else {
            self.far.push(Entry { at, seq: self.seq, item });
        }
    }

    /// Moves to the next bucket that holds anything, when the current one is used up.
    fn refill(&mut self) {
        while self.sorted.is_empty() && self.late.is_empty() && (self.in_ring > 0 || !self.far.is_empty()) {
            let next = if self.in_ring > 0 {
                (self.bucket + 1..self.bucket + RING)
                    .find(|b| !self.ring[(b % RING) as usize].is_empty())
                    .expect("in_ring counts events in the ring")
            } else {
                u64::MAX
            };
            let far_next = self.far.peek().map_or(u64::MAX, |e| e.at.0 / WIDTH);
            self.bucket = next.min(far_next);
            let slot = (self.bucket % RING) as usize;
            let mut chunks = std::mem::take(&mut self.ring[slot]);
            self.in_ring -= chunks.iter().map(Vec::len).sum::<usize>();
            if self.far.peek().is_some_and(|e| e.at.0 / WIDTH <= self.bucket) {
                // Events from the far heap were scheduled before any in the ring for this
                // bucket, so they go first to keep the bucket in scheduling order.
                let mut merged = Vec::new();
                while self.far.peek().is_some_and(|e| e.at.0 / WIDTH <= self.bucket) {
                    let e = self.far.pop().expect("peeked");
                    append(&mut merged, &mut self.pool, Timed { at: e.at, item: e.item });
                }
                merged.append(&mut chunks);
                chunks = merged;
            }
            let mut out = std::mem::take(&mut self.spare);
            self.order(&mut chunks, &mut out);
            self.spare = std::mem::replace(&mut self.sorted, out);
            for mut c in chunks.drain(..) {
                c.clear();
                self.pool.push(c);
            }
            self.ring[slot] = chunks; // empty, keeping its allocation
        }
    }

    /// Moves the events of the current bucket, given in scheduling order, into `out`, latest
    /// first. A counting sort on the microsecond within the bucket: one list per microsecond
    /// (newest first), then the lists from the last microsecond to the first. Ties keep
    /// scheduling order, so popping from the end gives the earliest, first scheduled first.
    fn order(&mut self, chunks: &mut [Chunk<T>], out: &mut Vec<Option<Timed<T>>>) {
        let base = self.bucket * WIDTH;
        // Event j of chunk c is number c * CHUNK + j (a partly filled chunk leaves a gap).
        self.links.clear();
        self.links.resize(chunks.len() * CHUNK, NONE);
        for (c, chunk) in chunks.iter().enumerate() {
            for (j, e) in chunk.iter().enumerate() {
                let o = e.as_ref().map_or(0, |e| e.at.0.saturating_sub(base).min(WIDTH - 1)) as usize;
                let i = c * CHUNK + j;
                self.links[i] = self.heads[o];
                self.heads[o] = i as u32;
            }
        }
        out.clear();
        for o in (0..WIDTH as usize).rev() {
            let mut i = std::mem::replace(&mut self.heads[o], NONE);
            while i != NONE {
                out.push(chunks[i as usize / CHUNK][i as usize % CHUNK].take());
                i = self.links[i as usize];
            }
        }
    }

    /// Whether the next event comes from `late` rather than `sorted` (None: both empty).
    fn next_is_late(&self) -> Option<bool> {
        match (self.sorted.last().and_then(Option::as_ref), self.late.peek()) {
            // An event in the late heap was scheduled after the bucket was sorted, so at the
            // same time the sorted one goes first.
            (Some(s), Some(l)) => Some(l.at < s.at),
            (None, Some(_)) => Some(true),
            (Some(_), None) => Some(false),
            (None, None) => None,
        }
    }

    pub(crate) fn pop(&mut self) -> Option<(Time, T)> {
        self.refill();
        if self.next_is_late()? {
            self.late.pop().map(|e| (e.at, e.item))
        } else {
            self.sorted.pop().flatten().map(|e| (e.at, e.item))
        }
    }

    pub(crate) fn peek_time(&mut self) -> Option<Time> {
        self.refill();
        if self.next_is_late()? {
            self.late.peek().map(|e| e.at)
        } else {
            self.sorted.last().and_then(Option::as_ref).map(|e| e.at)
        }
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
