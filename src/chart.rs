//! Charts drawn with plotters' SVG backend, shown inline in a notebook.
//!
//! A [`Chart`] keeps the data it draws and renders when shown or saved, so its size and title
//! can still be changed: `chart::space_time(&cluster).size(1200, 500)`. Rendering is pure:
//! the same data and size give the same SVG bytes. Text is left to the browser (`<text>`
//! elements), so no system font library is needed.
//!
//! In a notebook a chart is shown both as `image/svg+xml` and as `text/html` holding an
//! `<img>` with the SVG as a data URI: JupyterLab prefers the HTML, which it shows even in an
//! untrusted notebook (where it hides raw SVG), and nbconvert keeps it in HTML exports.

mod diagrams;
mod plots;

use std::path::Path;

use plotters::prelude::IntoDrawingArea;

use crate::error::{Error, Result};
use crate::stats::RunStats;
use crate::trace::Recorded;

pub use diagrams::Stamp;
pub(crate) use diagrams::{Frame, SpaceTime, Timeline, DROP, MAX_DRAWN_MESSAGES, MAX_DRAWN_NODES};
pub(crate) use plots::{color, err, font, legend, note, titled, Area, Drawn};

/// The Okabe-Ito palette: distinguishable with the common forms of colour blindness.
pub const PALETTE: [(u8, u8, u8); 8] = [
    (0, 114, 178),   // blue
    (230, 159, 0),   // orange
    (0, 158, 115),   // bluish green
    (213, 94, 0),    // vermillion
    (204, 121, 167), // reddish purple
    (86, 180, 233),  // sky blue
    (240, 228, 66),  // yellow
    (0, 0, 0),       // black
];

/// Smallest and largest width or height accepted by [`Chart::size`], in pixels.
pub const SIZE_RANGE: (u32, u32) = (200, 4000);

/// What a chart draws: owned copies of the data, so a chart can outlive the cluster.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plot {
    Counts(plots::Counts),
    Histogram(plots::Histogram),
    SpaceTime(SpaceTime),
    /// Two runs on one time axis (a what-if): as they ran, and changed.
    Pair(Box<[SpaceTime; 2]>),
    Timeline(Timeline),
    /// Data from a layer above that draws itself (an experiment's sweep, a topology): charts
    /// draw what they are given and import no experiment.
    Drawing(Drawing),
}

/// Something a layer above the charts knows how to draw with the charts' primitives (the
/// `pub(crate)` helpers re-exported here: [`titled`], [`legend`], [`note`], [`color`], ...).
/// The chart keeps it and draws it when shown, like its own plots.
pub(crate) trait Draw: std::fmt::Debug + Send + Sync {
    /// Draws onto `root` under `title`.
    fn draw(&self, root: &Area, title: &str) -> Drawn;
}

/// A shared [`Draw`]. Two are equal when their data is: the same `Debug` text (each
/// implementation's data derives `Debug`, and its drawing depends on nothing else).
#[derive(Debug, Clone)]
pub(crate) struct Drawing(pub(crate) std::sync::Arc<dyn Draw>);

impl Drawing {
    pub(crate) fn of(data: impl Draw + 'static) -> Plot {
        Plot::Drawing(Drawing(std::sync::Arc::new(data)))
    }
}

impl PartialEq for Drawing {
    fn eq(&self, other: &Drawing) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || format!("{:?}", self.0) == format!("{:?}", other.0)
    }
}

/// A chart: a title, a size, and the data it draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    title: String,
    width: u32,
    height: u32,
    plot: Plot,
}

impl Chart {
    pub(crate) fn new(title: impl Into<String>, (width, height): (u32, u32), plot: Plot) -> Self {
        Chart { title: title.into(), width, height, plot }
    }
    /// Changes the size in pixels; values are clamped to [`SIZE_RANGE`].
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = width.clamp(SIZE_RANGE.0, SIZE_RANGE.1);
        self.height = height.clamp(SIZE_RANGE.0, SIZE_RANGE.1);
        self
    }
    /// Changes the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }
    /// The title.
    pub fn title_text(&self) -> &str {
        &self.title
    }
    /// (width, height) in pixels.
    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The chart as an SVG document. A drawing error gives an SVG that shows the error.
    pub fn svg(&self) -> String {
        let mut svg = String::new();
        let drawn = {
            let root = plotters::prelude::SVGBackend::with_string(&mut svg, (self.width, self.height))
                .into_drawing_area();
            match &self.plot {
                Plot::Counts(c) => plots::counts(&root, &self.title, c),
                Plot::Histogram(h) => plots::histogram(&root, &self.title, h),
                Plot::SpaceTime(s) => diagrams::space_time(&root, &self.title, s),
                Plot::Pair(p) => {
                    let second = self.title.split_once(" | ").map_or("changed", |(_, b)| b);
                    let first = self.title.split_once(" | ").map_or(self.title.as_str(), |(a, _)| a);
                    diagrams::pair(&root, [first, second], p)
                }
                Plot::Timeline(t) => diagrams::timeline(&root, &self.title, t),
                Plot::Drawing(d) => d.0.draw(&root, &self.title),
            }
            .and_then(|()| root.present().map_err(|e| e.to_string()))
        };
        match drawn {
            Ok(()) => svg,
            Err(e) => format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\"><text x=\"10\" y=\"20\">{}: could not draw: {}</text></svg>",
                self.width,
                self.height,
                crate::table::escape(&self.title),
                crate::table::escape(&e)
            ),
        }
    }

    /// An `<img>` tag holding the SVG as a data URI: shown by JupyterLab even in untrusted
    /// notebooks, and self-contained in HTML exports.
    pub fn to_html(&self) -> String {
        format!(
            "<img src=\"data:image/svg+xml;base64,{}\" alt=\"{}\" width=\"{}\" height=\"{}\"/>",
            base64(self.svg().as_bytes()),
            crate::table::escape(&self.title),
            self.width,
            self.height
        )
    }

    /// Writes the SVG to `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.svg()).map_err(|e| Error::io(path, &e))
    }

    /// Shows the chart under the cell in evcxr: `image/svg+xml` and `text/html`.
    pub fn evcxr_display(&self) {
        let svg = self.svg();
        println!("EVCXR_BEGIN_CONTENT image/svg+xml\n{svg}\nEVCXR_END_CONTENT");
        crate::table::emit_html(&self.to_html());
    }
}

/// Standard base64 (RFC 4648) with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Messages per node: sent, delivered, and dropped by cause (a).
pub fn message_counts(stats: &RunStats) -> Chart {
    Chart::new("messages per node", (800, 420), Plot::Counts(plots::Counts::from_stats(stats)))
}

/// Space-time (Lamport) diagram of a run: one lane per node, an arrow per delivered message,
/// a cross per dropped one, shaded spans while a node is down, partitions marked (c).
pub fn space_time(run: &(impl Recorded + ?Sized)) -> Chart {
    let s = SpaceTime::from_run(run, diagrams::MAX_DRAWN_MESSAGES);
    let height = (110 + 46 * s.lanes.len() as u32).clamp(SIZE_RANGE.0, 1400);
    Chart::new("space-time diagram", (960, height), Plot::SpaceTime(s))
}

/// The space-time diagram with a dot per event at a node, labelled with its number, its
/// Lamport timestamp or its vector clock ([`crate::causality`]).
pub fn clocks(run: &(impl Recorded + ?Sized), stamp: Stamp) -> Result<Chart> {
    let s = SpaceTime::from_run(run, diagrams::MAX_DRAWN_MESSAGES).with_dots(run, stamp, None)?;
    let what = match stamp {
        Stamp::Number => "event numbers",
        Stamp::Lamport => "Lamport timestamps",
        Stamp::Vector => "vector clocks",
    };
    let height = (150 + 56 * s.lanes.len() as u32).clamp(SIZE_RANGE.0, 1400);
    Ok(Chart::new(format!("space-time diagram with {what}"), (960, height), Plot::SpaceTime(s)))
}

/// The space-time diagram with `event` ringed, its causal past in green, the events
/// concurrent with it in orange and those after it in grey; dots labelled by number.
pub fn causal(run: &(impl Recorded + ?Sized), event: usize) -> Result<Chart> {
    let s =
        SpaceTime::from_run(run, diagrams::MAX_DRAWN_MESSAGES).with_dots(run, Stamp::Number, Some(event))?;
    let height = (150 + 56 * s.lanes.len() as u32).clamp(SIZE_RANGE.0, 1400);
    Ok(Chart::new(format!("what event #{event} can know of"), (960, height), Plot::SpaceTime(s)))
}

/// Each node's up and down spans over the run (d).
pub fn timeline(run: &(impl Recorded + ?Sized)) -> Chart {
    let t = Timeline::from_run(run);
    let height = (100 + 30 * t.lanes.len() as u32).clamp(SIZE_RANGE.0, 1400);
    Chart::new("nodes up and down", (860, height), Plot::Timeline(t))
}

/// Latency histogram of delivered messages (e).
pub fn latency_histogram(run: &(impl Recorded + ?Sized)) -> Chart {
    Chart::new(
        "latency of delivered messages",
        (760, 420),
        Plot::Histogram(plots::Histogram::from_buckets(&run.latency_histogram())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }
}
