//! Is a history of one register's writes and reads linearizable? A Wing-Gong search.
//!
//! A history is linearizable when every completed operation can be given one instant between
//! its call and its return such that, in the order of those instants, each read returns the
//! value of the last write before it (or nothing, before the first write). Operations that
//! never returned may take effect at any instant after their call, or never.
//!
//! Two checks give the same verdict:
//! - [`check`], the one the checker uses: every write writes a value of its own, so the
//!   history is linearizable exactly when its "zones" fit (Gibbons and Korach, 1997). A value's
//!   cluster is its write and the reads that returned it. If some operation of the cluster
//!   returned before another was called, the value must be current from that return to that
//!   call: a *forward* zone. Otherwise all of them overlap and the value needs just one
//!   instant in the overlap: a *backward* zone. Linearizable when no two forward zones
//!   overlap and no backward zone lies inside a forward one. Time O(n^2) at worst, a few
//!   microseconds for 100 calls.
//! - [`search`], the Wing-Gong search (with Lowe's memo of visited states): it tries, at
//!   each step, every operation that could come next. It needs nothing of the values, but
//!   concurrent writes can make it exponential (a 100-call history once took a minute), so
//!   the tests use it to confirm [`check`] on many small random histories.
//!
//! Both return a [`Linearizability`] verdict for a history they can check, and an
//! [`InvalidHistory`] error, of its own kind, for one they cannot (a value written twice, too
//! many calls for the search): a caller never mistakes a broken precondition for "not
//! linearizable". Both reject up front a read of a value no call wrote, or one that returned
//! before the write of its value was called: such a read is explained by no order, and the
//! search would otherwise try every order of the writes before saying so.

use std::collections::HashSet;

use crate::time::Time;

/// One operation of a register history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterCall {
    /// A write of this value, or a read (None).
    pub write: Option<u64>,
    /// When it was called.
    pub invoked: Time,
    /// When it returned and what (a read's value; None: the register was empty). None: it
    /// never returned.
    pub returned: Option<(Time, Option<u64>)>,
}

/// The most operations [`search`] takes (the done set is a 128-bit mask).
pub const MAX_CALLS: usize = 128;

/// The verdict on a history that could be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linearizability {
    /// Some order of the operations, each at an instant between its call and its return,
    /// explains every read.
    Linearizable,
    /// None does; why, in a sentence naming the values or the read.
    Violated(String),
}

impl Linearizability {
    /// Whether the history is linearizable.
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Linearizability::Linearizable)
    }
    /// Ok, or the violation's sentence: the shape of a property's check.
    pub fn into_result(self) -> Result<(), String> {
        match self {
            Linearizability::Linearizable => Ok(()),
            Linearizability::Violated(why) => Err(why),
        }
    }
}

/// A history the checks cannot judge: their preconditions, broken. Not a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidHistory {
    /// Two writes wrote the same value; the checks need every written value unique.
    WrittenTwice {
        /// The value.
        value: u64,
    },
    /// More calls than [`search`] takes.
    TooManyCalls {
        /// Calls given (those that constrain the order).
        calls: usize,
        /// The most it takes, [`MAX_CALLS`].
        max: usize,
    },
}

impl std::fmt::Display for InvalidHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InvalidHistory::WrittenTwice { value } => {
                write!(f, "the value {value} was written twice; the check needs every written value unique")
            }
            InvalidHistory::TooManyCalls { calls, max } => {
                write!(f, "{calls} operations; the linearizability search takes at most {max}")
            }
        }
    }
}

impl std::error::Error for InvalidHistory {}

/// The values (None: the empty register) a violation is about, with its sentence.
type Clash = (String, Vec<Option<u64>>);

/// Checks what both checks need (an error when it does not hold) and rejects the reads no
/// order can explain (a violation): a read of a value nobody wrote, or one that returned
/// before the write of its value was called.
fn screen(calls: &[RegisterCall]) -> Result<Result<(), Clash>, InvalidHistory> {
    // Each written value and when its write was called.
    let mut writes = std::collections::BTreeMap::new();
    for c in calls {
        if let Some(w) = c.write {
            if writes.insert(w, c.invoked).is_some() {
                return Err(InvalidHistory::WrittenTwice { value: w });
            }
        }
    }
    for c in calls.iter().filter(|c| c.write.is_none()) {
        let Some((at, Some(v))) = c.returned else { continue };
        match writes.get(&v) {
            None => return Ok(Err((format!("a read returned {v}, which no call wrote"), vec![Some(v)]))),
            Some(&invoked) if at < invoked => {
                return Ok(Err((
                    format!("a read returned {v} before the write of {v} was called"),
                    vec![Some(v)],
                )))
            }
            Some(_) => {}
        }
    }
    Ok(Ok(()))
}

/// Whether the history is linearizable, by its zones (written values must be unique: an
/// [`InvalidHistory`] otherwise); a violation names the values whose zones clash.
pub fn check(calls: &[RegisterCall]) -> Result<Linearizability, InvalidHistory> {
    Ok(match screen(calls)?.and_then(|()| zones(calls)) {
        Ok(()) => Linearizability::Linearizable,
        Err((why, _)) => Linearizability::Violated(why),
    })
}

/// The values whose calls no order can fit, when the history is not linearizable: a value's
/// write and the reads that returned it (None: the reads of the empty register). Empty when it
/// is linearizable or cannot be judged. What a drawn history marks.
pub fn clashing(calls: &[RegisterCall]) -> Vec<Option<u64>> {
    match screen(calls).map(|s| s.and_then(|()| zones(calls))) {
        Ok(Err((_, values))) => values,
        _ => Vec::new(),
    }
}

/// The zone check proper. [`screen`] has run: written values are unique, and every read's
/// value was written by a call made before the read returned.
fn zones(calls: &[RegisterCall]) -> Result<(), Clash> {
    let read: std::collections::BTreeSet<u64> =
        calls.iter().filter(|c| c.write.is_none()).filter_map(|c| c.returned.and_then(|r| r.1)).collect();
    // Time as signed numbers: the empty register's "write" happened before everything.
    let end = i128::MAX;
    let t = |x: Time| x.0 as i128;
    // value (None: the empty register) -> (latest call, earliest return)
    let mut clusters: std::collections::BTreeMap<Option<u64>, (i128, i128)> =
        std::collections::BTreeMap::new();
    clusters.insert(None, (i128::MIN, i128::MIN));
    for c in calls {
        let value = match (c.write, c.returned) {
            // A write that never returned and that nobody read may be left out.
            (Some(w), None) if !read.contains(&w) => continue,
            (Some(w), _) => Some(w),
            (None, Some((_, v))) => v,
            (None, None) => continue,
        };
        let returned = c.returned.map_or(end, |(r, _)| t(r));
        let e = clusters.entry(value).or_insert((i128::MIN, end));
        e.0 = e.0.max(t(c.invoked));
        e.1 = e.1.min(returned);
    }
    let name = |v: &Option<u64>| v.map_or("the empty register".to_string(), |v| format!("value {v}"));
    let forward: Vec<(&Option<u64>, i128, i128)> =
        clusters.iter().filter(|(_, (inv, res))| res < inv).map(|(v, (inv, res))| (v, *res, *inv)).collect();
    for (i, a) in forward.iter().enumerate() {
        for b in &forward[i + 1..] {
            if a.1.max(b.1) < a.2.min(b.2) {
                return Err((
                    format!("{} and {} must each be current over overlapping times", name(a.0), name(b.0)),
                    vec![*a.0, *b.0],
                ));
            }
        }
    }
    for (v, (inv, res)) in clusters.iter().filter(|(_, (inv, res))| res >= inv) {
        if let Some(f) = forward.iter().find(|f| f.0 != v && f.1 < *inv && *res < f.2) {
            return Err((
                format!(
                    "{} has no instant to take effect: {} must be current all that time",
                    name(v),
                    name(f.0)
                ),
                vec![*v, *f.0],
            ));
        }
    }
    Ok(())
}

/// The same verdict as [`check`] by the Wing-Gong search; exponential in the worst case, so
/// for small histories. An [`InvalidHistory`] when more than [`MAX_CALLS`] operations
/// constrain the order, or a value was written twice.
pub fn search(calls: &[RegisterCall]) -> Result<Linearizability, InvalidHistory> {
    if let Err((why, _)) = screen(calls)? {
        return Ok(Linearizability::Violated(why));
    }
    Ok(match search_orders(calls)? {
        Ok(()) => Linearizability::Linearizable,
        Err(why) => Linearizability::Violated(why),
    })
}

fn search_orders(calls: &[RegisterCall]) -> Result<Result<(), String>, InvalidHistory> {
    let read: std::collections::BTreeSet<u64> =
        calls.iter().filter(|c| c.write.is_none()).filter_map(|c| c.returned.and_then(|r| r.1)).collect();
    // Reads that never returned constrain nothing, and neither does a write that never
    // returned and that no read saw: leaving it out is always at least as good as placing it.
    // A write that never returned but was read must take effect, at some instant after its
    // call: it is kept, as if it returned at the end of time. With every write values unique,
    // no operation is optional any more, which keeps the search small.
    let calls: Vec<RegisterCall> = calls
        .iter()
        .copied()
        .filter(|c| c.returned.is_some() || c.write.is_some_and(|w| read.contains(&w)))
        .map(|c| RegisterCall { returned: c.returned.or(Some((Time(u64::MAX), None))), ..c })
        .collect();
    if calls.len() > MAX_CALLS {
        return Err(InvalidHistory::TooManyCalls { calls: calls.len(), max: MAX_CALLS });
    }
    let must: u128 = if calls.len() == 128 { u128::MAX } else { (1u128 << calls.len()) - 1 };
    let mut search = Search { calls: &calls, must, dead: HashSet::new() };
    if search.step(0, None) {
        return Ok(Ok(()));
    }
    // Name a read whose value no order explains, for the report.
    let culprit = calls.iter().filter(|c| c.write.is_none()).find_map(|c| {
        let (at, value) = c.returned?;
        let shown = value.map_or("nothing".to_string(), |v| v.to_string());
        Some(format!("a read called at {} returned {shown} at {at}", c.invoked))
    });
    Ok(Err(format!(
        "no order of the operations explains every read ({})",
        culprit.unwrap_or_else(|| "the writes' order".into())
    )))
}

struct Search<'a> {
    calls: &'a [RegisterCall],
    must: u128,
    dead: HashSet<(u128, Option<u64>)>,
}

impl Search<'_> {
    fn step(&mut self, done: u128, value: Option<u64>) -> bool {
        if done & self.must == self.must {
            return true;
        }
        if self.dead.contains(&(done, value)) {
            return false;
        }
        // The earliest return among the operations not done: nothing called after it can go
        // before it.
        let horizon = (0..self.calls.len())
            .filter(|&i| done & (1 << i) == 0)
            .filter_map(|i| self.calls[i].returned.map(|r| r.0))
            .min()
            .unwrap_or(Time(u64::MAX));
        let candidates =
            (0..self.calls.len()).filter(|&i| done & (1 << i) == 0 && self.calls[i].invoked <= horizon);
        // A read that can go now (it returned the current value) goes now, without trying
        // the other orders: nothing that must precede it is left (it is a candidate), and
        // reads change nothing, so any valid order with it later stays valid with it here.
        // This keeps concurrent reads of one value from multiplying the search.
        let candidates: Vec<usize> = candidates.collect();
        if let Some(&i) = candidates
            .iter()
            .find(|&&i| self.calls[i].write.is_none() && self.calls[i].returned.is_some_and(|r| r.1 == value))
        {
            let ok = self.step(done | 1 << i, value);
            if !ok {
                self.dead.insert((done, value));
            }
            return ok;
        }
        for i in candidates {
            let Some(w) = self.calls[i].write else { continue };
            if self.step(done | 1 << i, Some(w)) {
                return true;
            }
        }
        self.dead.insert((done, value));
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: u64, a: u64, b: Option<u64>) -> RegisterCall {
        RegisterCall { write: Some(v), invoked: Time(a), returned: b.map(|b| (Time(b), None)) }
    }
    fn r(value: Option<u64>, a: u64, b: u64) -> RegisterCall {
        RegisterCall { write: None, invoked: Time(a), returned: Some((Time(b), value)) }
    }

    #[test]
    fn the_zone_check_and_the_search_agree_on_random_small_histories() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        let (mut valid, mut invalid) = (0, 0);
        for _ in 0..30_000 {
            let ops = 1 + next(7) as usize;
            let mut h = Vec::new();
            let mut written = vec![];
            for k in 0..ops {
                let a = next(20);
                let b = a + next(8);
                let returns = next(8) != 0;
                if next(2) == 0 {
                    let v = k as u64 + 1;
                    written.push(v);
                    h.push(RegisterCall {
                        write: Some(v),
                        invoked: Time(a),
                        returned: returns.then_some((Time(b), None)),
                    });
                } else {
                    let pick = next(written.len() as u64 + 2);
                    let value = (pick as usize).checked_sub(1).and_then(|i| written.get(i).copied());
                    h.push(RegisterCall {
                        write: None,
                        invoked: Time(a),
                        returned: returns.then_some((Time(b), value)),
                    });
                }
            }
            let (z, s) = (ok(check(&h)), ok(search(&h)));
            assert_eq!(z, s, "zones say {z}, the search says {s}: {h:#?}");
            if z {
                valid += 1
            } else {
                invalid += 1
            }
        }
        assert!(valid > 5_000 && invalid > 5_000, "{valid} valid, {invalid} invalid");
    }

    type Check = fn(&[RegisterCall]) -> Result<Linearizability, InvalidHistory>;

    fn ok(verdict: Result<Linearizability, InvalidHistory>) -> bool {
        verdict.expect("a valid history").is_linearizable()
    }

    #[test]
    fn known_valid_histories_pass() {
        // Sequential write then read.
        for check in [check as Check, search] {
            let check = |h: &[RegisterCall]| -> Result<(), ()> { ok(check(h)).then_some(()).ok_or(()) };
            assert!(check(&[w(1, 0, Some(10)), r(Some(1), 20, 30)]).is_ok());
            // A read concurrent with a write may see either value.
            assert!(check(&[w(1, 0, Some(10)), w(2, 20, Some(40)), r(Some(1), 25, 30)]).is_ok());
            assert!(check(&[w(1, 0, Some(10)), w(2, 20, Some(40)), r(Some(2), 25, 30)]).is_ok());
            // A write that never returned may have happened...
            assert!(check(&[w(1, 0, None), r(Some(1), 20, 30)]).is_ok());
            // ...or not.
            assert!(check(&[w(1, 0, None), r(None, 20, 30)]).is_ok());
            // Reads before any write see nothing.
            assert!(check(&[r(None, 0, 5), w(3, 10, Some(20))]).is_ok());
        }
    }

    #[test]
    fn known_invalid_histories_fail() {
        for check in [check as Check, search] {
            let check = |h: &[RegisterCall]| -> Result<(), ()> { ok(check(h)).then_some(()).ok_or(()) };
            // A stale read after the write returned.
            assert!(check(&[w(1, 0, Some(10)), w(2, 20, Some(30)), r(Some(1), 40, 50)]).is_err());
            // A read of a value never written.
            assert!(check(&[w(1, 0, Some(10)), r(Some(7), 20, 30)]).is_err());
            // Two reads that see the writes in opposite orders, one after the other.
            let h = [
                w(1, 0, Some(100)),
                w(2, 0, Some(100)),
                r(Some(1), 110, 120),
                r(Some(2), 130, 140),
                r(Some(1), 150, 160),
            ];
            assert!(check(&h).is_err());
            // A read of nothing after a write was acknowledged.
            assert!(check(&[w(5, 0, Some(10)), r(None, 20, 30)]).is_err());
        }
    }

    #[test]
    fn a_long_sequential_history_is_quick_and_too_long_ones_are_refused() {
        let h: Vec<_> = (0..60u64)
            .flat_map(|i| [w(i, i * 100, Some(i * 100 + 10)), r(Some(i), i * 100 + 20, i * 100 + 30)])
            .collect();
        assert!(ok(check(&h)) && ok(search(&h)));
        let long: Vec<_> = (0..130u64).map(|i| w(i, i, Some(i + 1))).collect();
        assert!(ok(check(&long)));
        assert_eq!(search(&long), Err(InvalidHistory::TooManyCalls { calls: 130, max: 128 }));
        assert!(search(&long).unwrap_err().to_string().contains("at most 128"));
    }

    #[test]
    fn a_broken_precondition_is_an_error_not_a_verdict() {
        let twice = [w(1, 0, Some(10)), w(1, 20, Some(30)), r(Some(1), 40, 50)];
        for check in [check as Check, search] {
            assert_eq!(check(&twice), Err(InvalidHistory::WrittenTwice { value: 1 }));
        }
    }

    #[test]
    fn a_read_of_a_value_nobody_wrote_is_rejected_before_any_search() {
        // 49 concurrent writes at time 0 and a read of 999, which nobody wrote: the search
        // would try the writes' orders (over ten minutes) before giving up; the screen answers
        // at once.
        let mut h: Vec<_> = (1..50u64).map(|v| w(v, 0, Some(0))).collect();
        h.push(r(Some(999), 0, 0));
        let started = std::time::Instant::now();
        for check in [check as Check, search] {
            match check(&h) {
                Ok(Linearizability::Violated(why)) => assert!(why.contains("no call wrote"), "{why}"),
                other => panic!("expected a violation, got {other:?}"),
            }
        }
        // Generous: the screen is a pass over 50 calls; the search without it ran for minutes.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
