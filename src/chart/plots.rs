//! The charts with axes: bars, sweeps, curves and histograms.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PALETTE;
use crate::stats::RunStats;

pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(crate) type Drawn = Result<(), String>;

/// The most bars groups a count chart draws; more nodes are grouped, and the chart says so.
pub(crate) const MAX_GROUPS: usize = 40;

pub(crate) fn color(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

pub(crate) fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

pub(crate) fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}

/// Fills the background and draws the title; returns the area below it.
pub(crate) fn titled<'a>(root: &Area<'a>, title: &str) -> Result<Area<'a>, String> {
    root.fill(&WHITE).map_err(err)?;
    root.titled(title, font(20)).map_err(err)
}

/// Writes a note in the bottom-left corner (used to say what a chart left out).
pub(crate) fn note(root: &Area, text: &str) -> Drawn {
    let (_, h) = root.dim_in_pixel();
    root.draw(&Text::new(text.to_string(), (10, h as i32 - 18), font(13).color(&RGBColor(90, 90, 90))))
        .map_err(err)
}

/// Draws the series labels in a framed box at `position`.
pub(crate) fn legend<'a, 'b: 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(font(12))
        .draw()
        .map_err(err)
}

/// Per-node (or per-group) message counts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Counts {
    pub(crate) labels: Vec<String>,
    pub(crate) series: Vec<(&'static str, Vec<u64>)>,
    pub(crate) note: Option<String>,
}

impl Counts {
    pub(crate) fn from_stats(stats: &RunStats) -> Counts {
        let n = stats.nodes.len();
        let per = n.div_ceil(MAX_GROUPS).max(1);
        let groups: Vec<&[crate::stats::NodeStatus]> = stats.nodes.chunks(per).collect();
        let labels = groups
            .iter()
            .map(|g| match g {
                [one] => one.name.clone(),
                _ => format!("{}..{}", g[0].name, g[g.len() - 1].name),
            })
            .collect();
        let sum = |f: fn(&crate::node::Counters) -> u64| -> Vec<u64> {
            groups.iter().map(|g| g.iter().map(|s| f(&s.counters)).sum()).collect()
        };
        Counts {
            labels,
            series: vec![
                ("sent", sum(|c| c.sent)),
                ("delivered", sum(|c| c.delivered)),
                ("lost", sum(|c| c.dropped_lost)),
                ("target down", sum(|c| c.dropped_target_down)),
                ("sender down", sum(|c| c.dropped_sender_down)),
                ("partitioned", sum(|c| c.dropped_partitioned)),
            ],
            note: (per > 1).then(|| format!("{n} nodes: grouped {per} per bar (sums)")),
        }
    }
}

pub(crate) fn counts(root: &Area, title: &str, c: &Counts) -> Drawn {
    let area = titled(root, title)?;
    let groups = c.labels.len();
    let max = c.series.iter().flat_map(|(_, v)| v.iter()).copied().max().unwrap_or(0).max(1) as f64;
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .margin_bottom(if c.note.is_some() { 30 } else { 12 })
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.5f64..groups as f64 - 0.5, 0f64..max * 1.15)
        .map_err(err)?;
    let labels = &c.labels;
    let label = |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 {
            labels.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups.max(2))
        .x_label_formatter(&label)
        .x_desc("node")
        .y_desc("messages")
        .label_style(font(12))
        .draw()
        .map_err(err)?;
    let width = 0.84 / c.series.len() as f64;
    for (s, (name, values)) in c.series.iter().enumerate() {
        let col = color(s);
        chart
            .draw_series(values.iter().enumerate().map(|(i, &v)| {
                let x0 = i as f64 - 0.42 + s as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width * 0.92, v as f64)], col.filled())
            }))
            .map_err(err)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], col.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    if let Some(n) = &c.note {
        note(root, n)?;
    }
    Ok(())
}

/// Latency counts re-binned into equal-width bins.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Histogram {
    pub(crate) bins: Vec<(f64, f64, u64)>,
}

impl Histogram {
    pub(crate) fn from_buckets(buckets: &[(f64, u64)]) -> Histogram {
        let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
            return Histogram { bins: Vec::new() };
        };
        let (lo, hi) = (first.0, last.0.max(first.0 + 0.001));
        let n = 30usize;
        let w = (hi - lo) / n as f64;
        let mut bins: Vec<(f64, f64, u64)> =
            (0..n).map(|i| (lo + w * i as f64, lo + w * (i + 1) as f64, 0)).collect();
        for &(x, c) in buckets {
            let i = (((x - lo) / w) as usize).min(n - 1);
            bins[i].2 += c;
        }
        Histogram { bins }
    }
}

pub(crate) fn histogram(root: &Area, title: &str, h: &Histogram) -> Drawn {
    let area = titled(root, title)?;
    if h.bins.is_empty() {
        return area.draw(&Text::new("no message was delivered yet", (40, 60), font(16))).map_err(err);
    }
    let x0 = h.bins[0].0;
    let x1 = h.bins[h.bins.len() - 1].1;
    let max = h.bins.iter().map(|b| b.2).max().unwrap_or(1).max(1) as f64;
    let mut chart = ChartBuilder::on(&area)
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, 0f64..max * 1.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("one-way latency (ms)")
        .y_desc("messages")
        .label_style(font(12))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(
            h.bins.iter().map(|&(a, b, c)| Rectangle::new([(a, 0.0), (b, c as f64)], color(0).filled())),
        )
        .map_err(err)?;
    Ok(())
}
