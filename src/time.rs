//! Time in a run: microseconds since the cluster started, virtual in the simulation and real
//! on sockets.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A point in time, in microseconds since the cluster started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Time(pub u64);

impl Time {
    /// The time in milliseconds.
    pub fn as_ms(self) -> f64 {
        self.0 as f64 / 1000.0
    }
    /// A time from milliseconds (negative and NaN become 0).
    pub fn from_ms(ms: f64) -> Time {
        Time((ms * 1000.0).round().max(0.0) as u64)
    }
    /// `self - earlier`, or zero when `earlier` is later.
    pub fn since(self, earlier: Time) -> Time {
        Time(self.0.saturating_sub(earlier.0))
    }
    /// `self + d`, saturating at the end of time.
    pub fn after(self, d: Time) -> Time {
        Time(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} ms", self.as_ms())
    }
}
