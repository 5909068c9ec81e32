//! What a space-time diagram can add to its arrows: dots for the events at nodes, labelled
//! with their number, Lamport timestamp or vector clock and coloured by their causal relation
//! to one chosen event; and vertical marks (a what-if's change and first difference).

use plotters::prelude::*;

use super::super::plots::{color, err, font, Area, Drawn};
use super::{Frame, SpaceTime};
use crate::causality::{bracket, Clocks, Order};
use crate::error::Result;
use crate::trace::Recorded;

/// Dots a diagram labels; past this many it draws them unlabelled.
const MAX_LABELS: usize = 80;

/// How a dot relates to the chosen event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    /// No event chosen.
    Plain,
    /// The chosen event.
    Chosen,
    /// In its causal past.
    Past,
    /// Concurrent with it.
    Concurrent,
    /// In its causal future.
    Future,
}

/// One event at a node, as drawn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dot {
    lane: usize,
    t: f64,
    label: String,
    relation: Relation,
}

/// What a dot's label shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// The event's number in the trace.
    Number,
    /// Its Lamport timestamp.
    Lamport,
    /// Its vector clock.
    Vector,
}

impl SpaceTime {
    /// Adds a dot per event at a node, labelled by `stamp`; with `focus`, coloured by each
    /// event's order relative to that one.
    pub(crate) fn with_dots(
        mut self,
        run: &(impl Recorded + ?Sized),
        stamp: Stamp,
        focus: Option<usize>,
    ) -> Result<SpaceTime> {
        let clocks = Clocks::of(run)?;
        if let Some(f) = focus {
            clocks.vector(f)?;
        }
        let trace = run.events();
        for i in clocks.events() {
            let (Some(node), Some(e)) = (clocks.node(i), trace.get(i)) else { continue };
            let t = e.at.as_ms();
            let Some(lane) = self.lane_nodes.iter().position(|&n| n == node) else { continue };
            if t > self.horizon {
                continue;
            }
            let relation = match focus.map(|f| clocks.order(i, f)) {
                None => Relation::Plain,
                Some(Ok(Order::Same)) => Relation::Chosen,
                Some(Ok(Order::Before)) => Relation::Past,
                Some(Ok(Order::After)) => Relation::Future,
                Some(_) => Relation::Concurrent,
            };
            let label = match stamp {
                Stamp::Number => format!("#{i}"),
                Stamp::Lamport => clocks.lamport(i)?.to_string(),
                Stamp::Vector => bracket(clocks.vector(i)?),
            };
            self.dots.push(Dot { lane, t, label, relation });
        }
        if self.dots.len() > MAX_LABELS {
            self.notes.push(format!("{} events: labels left off past {MAX_LABELS}", self.dots.len()));
        }
        Ok(self)
    }
}

/// Draws the dots, then the vertical marks.
pub(super) fn draw(area: &Area, f: &Frame, s: &SpaceTime) -> Drawn {
    let labelled = s.dots.len() <= MAX_LABELS;
    // Where the last label on each lane ended, so close neighbours alternate above and below.
    let mut last: Vec<(i32, bool)> = vec![(i32::MIN, false); s.lanes.len()];
    for d in &s.dots {
        let (x, y) = (f.x(d.t), f.y(d.lane));
        let (fill, r) = match d.relation {
            Relation::Plain => (RGBColor(60, 60, 60), 3),
            Relation::Chosen => (BLACK, 6),
            Relation::Past => (color(2), 5),
            Relation::Concurrent => (color(1), 5),
            Relation::Future => (RGBColor(175, 175, 175), 4),
        };
        area.draw(&Circle::new((x, y), r, fill.filled())).map_err(err)?;
        if d.relation == Relation::Chosen {
            area.draw(&Circle::new((x, y), r + 3, BLACK.stroke_width(2))).map_err(err)?;
        }
        if labelled {
            let (end, below) = last[d.lane];
            let below = x < end && !below;
            let dy = if below { 6 } else { -18 };
            // About 6 px a character at 11 px: a label that would run off the right edge
            // goes to the left of its dot.
            let width = 6 * d.label.chars().count() as i32;
            let (w, _) = area.dim_in_pixel();
            let lx = if x + 3 + width > w as i32 - 2 { x - 3 - width } else { x + 3 };
            area.draw(&Text::new(d.label.clone(), (lx, y + dy), font(11))).map_err(err)?;
            last[d.lane] = (lx.max(x) + width + 4, below);
        }
    }
    let bottom = f.bottom(s.lanes.len());
    for (k, (t, label)) in s.marks.iter().enumerate() {
        let x = f.x(*t);
        let mut y = f.top as i32;
        while y < bottom {
            area.draw(&PathElement::new(
                vec![(x, y), (x, (y + 6).min(bottom))],
                RGBColor(90, 90, 90).stroke_width(2),
            ))
            .map_err(err)?;
            y += 10;
        }
        area.draw(&Text::new(label.clone(), (x + 4, f.top as i32 + 2 + 14 * k as i32), font(12)))
            .map_err(err)?;
    }
    Ok(())
}

/// The key for the dots, when there are any.
pub(super) fn key(s: &SpaceTime) -> Option<&'static str> {
    if s.dots.iter().any(|d| d.relation != Relation::Plain) {
        Some("black ring: chosen event, green: its causal past, orange: concurrent, grey: after it")
    } else if !s.dots.is_empty() {
        Some("dots: events at nodes")
    } else {
        None
    }
}
