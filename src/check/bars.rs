//! A history drawn: one bar per call on a time axis, a lane per node (more when one node's
//! calls overlap), each bar labelled with what it did and what it got. When the register's
//! calls are not linearizable, the calls no order can fit are drawn in vermillion: a value's
//! write and the reads that returned it ([`linearizable::clashing`]). Porcupine and Knossos
//! draw failed histories this way; this one stays a few kilobytes for 100 calls (a rectangle
//! and a label per call).

use plotters::prelude::*;

use super::linearizable::{self, RegisterCall};
use super::{ClientOp, History};
use crate::chart::{color, err, font, note, titled, Area, Chart, Draw, Drawing, Drawn, Frame, DROP};

/// One call's bar.
#[derive(Debug, Clone, PartialEq)]
struct Bar {
    lane: usize,
    from_ms: f64,
    /// None: never answered (the bar runs to the end, hollow).
    to_ms: Option<f64>,
    label: String,
    marked: bool,
}

/// What the bars chart draws.
#[derive(Debug, Clone, PartialEq)]
struct Bars {
    lanes: Vec<String>,
    bars: Vec<Bar>,
    horizon: f64,
    notes: Vec<String>,
}

impl History {
    /// The history as bars on a time axis: one per call, by node; the calls a failed
    /// linearizability check cannot order are marked.
    pub fn chart(&self) -> Chart {
        let bars = Bars::from_history(self);
        let height = (110 + 34 * bars.lanes.len() as u32).clamp(200, 1400);
        Chart::new(format!("history ({} calls)", self.calls.len()), (960, height), Drawing::of(bars))
    }
}

impl Bars {
    fn from_history(h: &History) -> Bars {
        let register: Vec<(usize, RegisterCall)> =
            h.calls.iter().enumerate().filter_map(|(i, c)| Some((i, c.as_register()?))).collect();
        let calls: Vec<RegisterCall> = register.iter().map(|r| r.1).collect();
        let clash = linearizable::clashing(&calls);
        let marked = |c: &RegisterCall| match (c.write, c.returned) {
            (Some(w), _) => clash.contains(&Some(w)),
            (None, Some((_, v))) => clash.contains(&v),
            (None, None) => false,
        };
        let marks: Vec<bool> = {
            let mut m = vec![false; h.calls.len()];
            for (i, c) in &register {
                m[*i] = marked(c);
            }
            m
        };
        let horizon = h
            .calls
            .iter()
            .map(|c| c.returned.map_or(c.invoked, |r| r.0).as_ms())
            .fold(0.0, f64::max)
            .max(1.0)
            * 1.04;
        // Lanes: a node's calls, in call order, each in the first of its node's rows that is
        // free when it starts.
        let mut nodes: Vec<u32> = h.calls.iter().map(|c| c.node.0).collect();
        nodes.sort_unstable();
        nodes.dedup();
        let mut lanes = Vec::new();
        let mut rows: Vec<f64> = Vec::new(); // each row busy until
        let mut bars = Vec::new();
        let mut order: Vec<usize> = (0..h.calls.len()).collect();
        order.sort_by_key(|&i| (h.calls[i].node.0, h.calls[i].invoked, i));
        for &node in &nodes {
            let first_row = rows.len();
            for &i in order.iter().filter(|&&i| h.calls[i].node.0 == node) {
                let c = &h.calls[i];
                let from = c.invoked.as_ms();
                let to = c.returned.map(|r| r.0.as_ms());
                let lane = match (first_row..rows.len()).find(|&r| rows[r] <= from) {
                    Some(r) => r,
                    None => {
                        rows.push(0.0);
                        let k = rows.len() - first_row;
                        lanes.push(if k == 1 {
                            format!("Node-{node}")
                        } else {
                            format!("Node-{node} ({k})")
                        });
                        rows.len() - 1
                    }
                };
                rows[lane] = to.unwrap_or(f64::INFINITY);
                bars.push(Bar { lane, from_ms: from, to_ms: to, label: label(c), marked: marks[i] });
            }
        }
        let mut notes =
            vec!["blue: a call, from its start to its answer; hollow: never answered".to_string()];
        if marks.iter().any(|&m| m) {
            notes.push("vermillion: calls no order can fit (a value's write and its reads)".to_string());
        }
        Bars { lanes, bars, horizon, notes }
    }
}

fn label(c: &super::Call) -> String {
    let answer = match c.returned {
        None => "?".to_string(),
        Some((_, Some(v))) => v.to_string(),
        Some((_, None)) => "-".to_string(),
    };
    match c.op {
        ClientOp::Write { value } => format!("W {value}"),
        ClientOp::Read => format!("R {answer}"),
        ClientOp::Send { to, value } => format!("send {value} to {to}"),
        ClientOp::Broadcast { value } => format!("bcast {value}"),
    }
}

impl Draw for Bars {
    fn draw(&self, root: &Area, title: &str) -> Drawn {
        let area = titled(root, title)?;
        let f = Frame::new(&area, self.lanes.len(), self.horizon);
        f.axes(&area, &self.lanes)?; // first, so the bars lie over the lane lines
        for b in &self.bars {
            let (y0, y1) = f.band(b.lane);
            let (y0, y1) = (y0 + 3, (y1 - 3).max(y0 + 5));
            let x0 = f.x(b.from_ms);
            let x1 = f.x(b.to_ms.unwrap_or(self.horizon)).max(x0 + 3);
            let c = if b.marked { DROP } else { color(0) };
            let rect = Rectangle::new([(x0, y0), (x1, y1)], c.mix(0.85).filled());
            match b.to_ms {
                Some(_) => area.draw(&rect).map_err(err)?,
                None => area.draw(&Rectangle::new([(x0, y0), (x1, y1)], c.stroke_width(2))).map_err(err)?,
            }
            let text_color = if b.to_ms.is_some() { WHITE } else { BLACK };
            area.draw(&Text::new(b.label.clone(), (x0 + 4, y0 + 2), font(12).color(&text_color)))
                .map_err(err)?;
        }
        note(root, &self.notes.join("; "))
    }
}
