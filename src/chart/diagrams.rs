//! The charts without axes of numbers: the space-time diagram, the up/down timeline and
//! topology drawings. They are laid out in pixels directly.

mod marks;

use std::collections::BTreeMap;

use plotters::prelude::*;

use super::plots::{color, err, font, note, titled, Area, Drawn};
use crate::trace::{Body, DropCause, EventKind, Recorded, Trace};

/// Messages a space-time diagram draws; a longer run is cut, and the chart says so.
pub(crate) const MAX_DRAWN_MESSAGES: usize = 200;
/// Lanes (nodes) a diagram draws; with more nodes it keeps those that took part.
pub(crate) const MAX_LANES: usize = 40;
/// Nodes a topology drawing draws.
pub(crate) const MAX_DRAWN_NODES: usize = 60;

/// The colour of a dropped message's cross (vermillion, used for nothing else in a diagram;
/// a drawn history marks with it the calls no order can fit).
pub(crate) const DROP: RGBColor = RGBColor(213, 94, 0);

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Arrow {
    from: usize,
    to: usize,
    t0: f64,
    t1: f64,
    reply: bool,
    dropped: Option<DropCause>,
}

pub use marks::Stamp;

/// What a space-time diagram draws, copied out of a cluster's trace.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceTime {
    pub(crate) lanes: Vec<String>,
    /// The node drawn in each lane.
    lane_nodes: Vec<usize>,
    arrows: Vec<Arrow>,
    down: Spans,
    cuts: Vec<(f64, f64)>,
    pub(crate) horizon: f64,
    notes: Vec<String>,
    /// Events at nodes, when asked for (clocks, causal past).
    dots: Vec<marks::Dot>,
    /// Vertical marks: (time in ms, label).
    pub(crate) marks: Vec<(f64, String)>,
}

/// Down spans per node and partition spans, from the trace.
/// (node, from ms, to ms) spans.
type Spans = Vec<(usize, f64, f64)>;

fn spans(trace: &Trace, horizon: f64) -> (Spans, Vec<(f64, f64)>) {
    let mut down = Vec::new();
    let mut since: BTreeMap<usize, f64> = BTreeMap::new();
    let mut cuts = Vec::new();
    let mut cut_since: Option<f64> = None;
    for e in trace.iter() {
        let t = e.at.as_ms();
        match &e.kind {
            EventKind::Crashed { node } => {
                since.insert(node.index(), t);
            }
            EventKind::Recovered { node } => {
                if let Some(s) = since.remove(&node.index()) {
                    down.push((node.index(), s, t));
                }
            }
            EventKind::Partitioned { .. } => {
                cut_since.get_or_insert(t);
            }
            EventKind::Healed => {
                if let Some(s) = cut_since.take() {
                    cuts.push((s, t));
                }
            }
            _ => {}
        }
    }
    down.extend(since.into_iter().map(|(n, s)| (n, s, horizon)));
    down.sort_by(|a, b| a.partial_cmp(b).expect("times are finite"));
    if let Some(s) = cut_since {
        cuts.push((s, horizon));
    }
    (down, cuts)
}

/// Which nodes get a lane: all of them when they fit, else those that took part.
fn choose_lanes(total: usize, involved: impl Iterator<Item = usize>) -> (Vec<usize>, Option<String>) {
    if total <= MAX_LANES {
        return ((0..total).collect(), None);
    }
    let mut set: Vec<usize> = involved.collect();
    set.sort_unstable();
    set.dedup();
    set.truncate(MAX_LANES);
    let note = format!("showing {} of {total} nodes (those that sent, received or crashed first)", set.len());
    (set, Some(note))
}

impl SpaceTime {
    pub(crate) fn from_run(run: &(impl Recorded + ?Sized), max_messages: usize) -> SpaceTime {
        let trace = run.events();
        let mut sent: BTreeMap<u64, (f64, bool)> = BTreeMap::new();
        let mut raw = Vec::new();
        let mut messages = 0usize;
        let mut last = 0.0f64;
        for e in trace.iter() {
            let t = e.at.as_ms();
            match &e.kind {
                EventKind::Sent { msg, body, .. } => {
                    messages += 1;
                    if messages <= max_messages {
                        sent.insert(
                            msg.0,
                            (
                                t,
                                matches!(**body, Body::Ack | Body::SyncReply { .. } | Body::ReadReply { .. }),
                            ),
                        );
                    }
                }
                EventKind::Delivered { msg, from, to, .. } | EventKind::Dropped { msg, from, to, .. } => {
                    if let Some(&(t0, reply)) = sent.get(&msg.0) {
                        let dropped = match &e.kind {
                            EventKind::Dropped { cause, .. } => Some(*cause),
                            _ => None,
                        };
                        raw.push((from.index(), to.index(), t0, t, reply, dropped));
                        last = last.max(t);
                    }
                }
                _ => {}
            }
        }
        let cut_short = messages > max_messages;
        let horizon = if cut_short { last } else { run.clock().as_ms().max(last) }.max(1.0);
        let (down, cuts) = spans(&trace, horizon);
        let involved = raw.iter().flat_map(|a| [a.0, a.1]).chain(down.iter().map(|d| d.0));
        let (lanes, lane_note) = choose_lanes(run.node_count(), involved);
        let lane_of: BTreeMap<usize, usize> = lanes.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        let arrows = raw
            .into_iter()
            .filter_map(|(f, t, t0, t1, reply, dropped)| {
                Some(Arrow { from: *lane_of.get(&f)?, to: *lane_of.get(&t)?, t0, t1, reply, dropped })
            })
            .collect();
        let down = down
            .into_iter()
            .filter(|d| d.1 <= horizon)
            .filter_map(|(n, a, b)| Some((*lane_of.get(&n)?, a, b.min(horizon))))
            .collect();
        let mut notes = Vec::new();
        if cut_short {
            notes.push(format!("showing the first {max_messages} of {messages} messages"));
        }
        notes.extend(lane_note);
        if trace.is_empty() && !run.tracing() {
            notes.push("the trace is off: nothing to draw".to_string());
        }
        SpaceTime {
            lanes: lanes.iter().map(|&n| run.node_name(n)).collect(),
            lane_nodes: lanes,
            arrows,
            down,
            cuts,
            horizon,
            notes,
            dots: Vec::new(),
            marks: Vec::new(),
        }
    }
}

/// Lays out lanes and time in pixels (shared with the history bars of [`crate::check`]).
pub(crate) struct Frame {
    left: f64,
    right: f64,
    top: f64,
    lane_h: f64,
    horizon: f64,
}

impl Frame {
    pub(crate) fn new(area: &Area, lanes: usize, horizon: f64) -> Frame {
        let (w, h) = area.dim_in_pixel();
        let (left, top, bottom) = (100.0, 10.0, 58.0);
        let lane_h = ((h as f64 - top - bottom) / lanes.max(1) as f64).max(4.0);
        Frame { left, right: w as f64 - 24.0, top, lane_h, horizon }
    }
    pub(crate) fn x(&self, t: f64) -> i32 {
        (self.left + (t / self.horizon).clamp(0.0, 1.0) * (self.right - self.left)).round() as i32
    }
    pub(crate) fn y(&self, lane: usize) -> i32 {
        (self.top + (lane as f64 + 0.5) * self.lane_h).round() as i32
    }
    pub(crate) fn band(&self, lane: usize) -> (i32, i32) {
        let y0 = self.top + lane as f64 * self.lane_h;
        ((y0 + 2.0) as i32, (y0 + self.lane_h - 2.0) as i32)
    }
    pub(crate) fn bottom(&self, lanes: usize) -> i32 {
        (self.top + lanes as f64 * self.lane_h) as i32
    }

    /// Lane lines with names, and a time axis with round ticks.
    pub(crate) fn axes(&self, area: &Area, names: &[String]) -> Drawn {
        let grey = RGBColor(170, 170, 170);
        for (i, name) in names.iter().enumerate() {
            let y = self.y(i);
            area.draw(&PathElement::new(vec![(self.left as i32, y), (self.right as i32, y)], grey))
                .map_err(err)?;
            let label: String = name.chars().take(13).collect();
            area.draw(&Text::new(label, (6, y - 7), font(13))).map_err(err)?;
        }
        let base = self.bottom(names.len()) + 4;
        area.draw(&PathElement::new(vec![(self.left as i32, base), (self.right as i32, base)], BLACK))
            .map_err(err)?;
        let step = nice_step(self.horizon / 8.0);
        let mut t = 0.0;
        while t <= self.horizon + 1e-9 {
            let x = self.x(t);
            area.draw(&PathElement::new(vec![(x, base), (x, base + 5)], BLACK)).map_err(err)?;
            area.draw(&Text::new(format_ms(t), (x - 10, base + 8), font(11))).map_err(err)?;
            t += step;
        }
        area.draw(&Text::new("time (ms)", (self.right as i32 - 110, base + 22), font(12))).map_err(err)
    }
}

fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(1e-3);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag)
}

fn format_ms(t: f64) -> String {
    if t >= 10.0 || t == 0.0 {
        format!("{t:.0}")
    } else {
        format!("{t:.1}")
    }
}

/// An X-shaped polygon centred on (x, y): a dropped message.
fn cross(x: i32, y: i32, r: i32) -> Polygon<(i32, i32)> {
    let k = (r / 3).max(1);
    Polygon::new(
        vec![
            (x - r, y - r + k),
            (x - r + k, y - r),
            (x, y - k),
            (x + r - k, y - r),
            (x + r, y - r + k),
            (x + k, y),
            (x + r, y + r - k),
            (x + r - k, y + r),
            (x, y + k),
            (x - r + k, y + r),
            (x - r, y + r - k),
            (x - k, y),
        ],
        DROP.filled(),
    )
}

/// A small filled triangle at (x1, y1) pointing along the line from (x0, y0).
fn arrowhead(x0: i32, y0: i32, x1: i32, y1: i32, c: RGBColor) -> Polygon<(i32, i32)> {
    let (dx, dy) = ((x1 - x0) as f64, (y1 - y0) as f64);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let (bx, by) = (x1 as f64 - 8.0 * ux, y1 as f64 - 8.0 * uy);
    let p = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
    Polygon::new(vec![(x1, y1), p(bx - 4.0 * uy, by + 4.0 * ux), p(bx + 4.0 * uy, by - 4.0 * ux)], c.filled())
}

pub(crate) fn space_time(root: &Area, title: &str, s: &SpaceTime) -> Drawn {
    let area = titled(root, title)?;
    let f = Frame::new(&area, s.lanes.len(), s.horizon);
    let bottom = f.bottom(s.lanes.len());
    for &(a, b) in &s.cuts {
        area.draw(&Rectangle::new(
            [(f.x(a), f.top as i32), (f.x(b).max(f.x(a) + 2), bottom)],
            color(6).mix(0.25).filled(),
        ))
        .map_err(err)?;
        area.draw(&Text::new("partition", (f.x(a) + 3, f.top as i32 + 2), font(11))).map_err(err)?;
    }
    for &(lane, a, b) in &s.down {
        let (y0, y1) = f.band(lane);
        area.draw(&Rectangle::new([(f.x(a), y0), (f.x(b).max(f.x(a) + 2), y1)], color(4).mix(0.3).filled()))
            .map_err(err)?;
    }
    f.axes(&area, &s.lanes)?;
    for a in &s.arrows {
        let (x0, y0) = (f.x(a.t0), f.y(a.from));
        let c = if a.reply { color(1) } else { color(0) };
        match a.dropped {
            None => {
                let (x1, y1) = (f.x(a.t1), f.y(a.to));
                area.draw(&PathElement::new(vec![(x0, y0), (x1, y1)], c.stroke_width(1))).map_err(err)?;
                area.draw(&arrowhead(x0, y0, x1, y1, c)).map_err(err)?;
            }
            Some(DropCause::SenderDown) => area.draw(&cross(x0, y0, 5)).map_err(err)?,
            Some(_) => {
                // The message heads for its target and vanishes three quarters of the way.
                let xe = x0 + ((f.x(a.t1) - x0) as f64 * 0.75) as i32;
                let ye = y0 + ((f.y(a.to) - y0) as f64 * 0.75) as i32;
                area.draw(&PathElement::new(vec![(x0, y0), (xe, ye)], c.mix(0.6).stroke_width(1)))
                    .map_err(err)?;
                area.draw(&cross(xe, ye, 5)).map_err(err)?;
            }
        }
    }
    marks::draw(&area, &f, s)?;
    let key = "blue: request, orange: reply, X: dropped, purple: node down, yellow: partition";
    let mut text = vec![marks::key(s).unwrap_or(key).to_string()];
    text.extend(s.notes.iter().cloned());
    note(root, &text.join("; "))
}

/// Two space-time diagrams, one above the other, on the same time axis.
pub(crate) fn pair(root: &Area, titles: [&str; 2], s: &[SpaceTime; 2]) -> Drawn {
    let (_, h) = root.dim_in_pixel();
    let (top, bottom) = root.split_vertically(h / 2);
    space_time(&top, titles[0], &s[0])?;
    space_time(&bottom, titles[1], &s[1])
}

/// What a timeline draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub(crate) lanes: Vec<String>,
    down: Spans,
    horizon: f64,
    notes: Vec<String>,
}

impl Timeline {
    pub(crate) fn from_run(run: &(impl Recorded + ?Sized)) -> Timeline {
        let horizon = run.clock().as_ms().max(1.0);
        let (down, _) = spans(&run.events(), horizon);
        let (lanes, note) = choose_lanes(run.node_count(), down.iter().map(|d| d.0).chain(0..MAX_LANES));
        let lane_of: BTreeMap<usize, usize> = lanes.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        let down = down.into_iter().filter_map(|(n, a, b)| Some((*lane_of.get(&n)?, a, b))).collect();
        Timeline {
            lanes: lanes.iter().map(|&n| run.node_name(n)).collect(),
            down,
            horizon,
            notes: note.into_iter().collect(),
        }
    }
}

pub(crate) fn timeline(root: &Area, title: &str, t: &Timeline) -> Drawn {
    let area = titled(root, title)?;
    let f = Frame::new(&area, t.lanes.len(), t.horizon);
    for lane in 0..t.lanes.len() {
        let (y0, y1) = f.band(lane);
        area.draw(&Rectangle::new([(f.x(0.0), y0), (f.x(t.horizon), y1)], color(2).mix(0.7).filled()))
            .map_err(err)?;
    }
    for &(lane, a, b) in &t.down {
        let (y0, y1) = f.band(lane);
        area.draw(&Rectangle::new([(f.x(a), y0), (f.x(b).max(f.x(a) + 2), y1)], DROP.filled()))
            .map_err(err)?;
    }
    f.axes(&area, &t.lanes)?;
    let mut text = vec!["green: up, vermillion: down".to_string()];
    text.extend(t.notes.iter().cloned());
    note(root, &text.join("; "))
}
