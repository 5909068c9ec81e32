//! How the experiments draw themselves: the loss sweep, the broadcast reach and the
//! availability curves, with the charts' primitives. The charts module draws data it is
//! given ([`crate::chart`]); what an experiment's rows mean is said here, beside them.

use plotters::prelude::*;

use super::{Availability, LossSweep, ReachSweep};
use crate::chart::{color, err, font, legend, note, titled, Area, Draw, Drawn};

impl Draw for LossSweep {
    fn draw(&self, root: &Area, title: &str) -> Drawn {
        let s = self;
        let area = titled(root, title)?;
        let x_max = s.rows.iter().map(|r| r.loss).fold(0.0, f64::max).max(0.01);
        let y_max = s.rows.iter().map(|r| r.max.max(r.loss)).fold(0.0, f64::max).max(0.01);
        let mut chart = ChartBuilder::on(&area)
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_max * 1.02, 0f64..y_max * 1.08)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("configured loss probability")
            .y_desc("observed share not delivered")
            .label_style(font(12))
            .draw()
            .map_err(err)?;
        let band: Vec<(f64, f64)> = s
            .rows
            .iter()
            .map(|r| (r.loss, r.max))
            .chain(s.rows.iter().rev().map(|r| (r.loss, r.min)))
            .collect();
        let runs = s.rows.first().map_or(0, |r| r.seeds);
        chart
            .draw_series(std::iter::once(Polygon::new(band, color(5).mix(0.35).filled())))
            .map_err(err)?
            .label(format!("min-max over {runs} seeds"))
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color(5).mix(0.35).filled()));
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, 0.0), (x_max, x_max)],
                6,
                4,
                color(7).stroke_width(1),
            ))
            .map_err(err)?
            .label("expected (observed = configured)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color(7)));
        chart
            .draw_series(LineSeries::new(s.rows.iter().map(|r| (r.loss, r.mean)), color(0).stroke_width(2)))
            .map_err(err)?
            .label("observed mean")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color(0).stroke_width(2)));
        chart
            .draw_series(s.rows.iter().map(|r| Circle::new((r.loss, r.mean), 3, color(0).filled())))
            .map_err(err)?;
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

impl Draw for ReachSweep {
    fn draw(&self, root: &Area, title: &str) -> Drawn {
        let s = self;
        let area = titled(root, title)?;
        let x_max = s.rows.iter().map(|r| r.loss).fold(0.0, f64::max).max(0.01);
        let mut chart = ChartBuilder::on(&area)
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_max * 1.02, 0f64..1.05)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("loss probability p")
            .y_desc("P(every target got it)")
            .label_style(font(12))
            .draw()
            .map_err(err)?;
        let k = s.targets as i32;
        chart
            .draw_series(LineSeries::new(
                (0..=60).map(|i| {
                    let p = x_max * i as f64 / 60.0;
                    (p, (1.0 - p).powi(k))
                }),
                color(1).stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("expected (1-p)^{k}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color(1).stroke_width(2)));
        let trials = s.rows.first().map_or(0, |r| r.trials);
        chart
            .draw_series(s.rows.iter().map(|r| Circle::new((r.loss, r.observed), 4, color(0).filled())))
            .map_err(err)?
            .label(format!("observed ({trials} broadcasts each)"))
            .legend(|(x, y)| Circle::new((x + 6, y), 4, color(0).filled()));
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

impl Draw for Availability {
    fn draw(&self, root: &Area, title: &str) -> Drawn {
        let a = self;
        let area = titled(root, title)?;
        let y_min = a.rows.iter().map(|r| r.observed.min(r.expected)).fold(1.0, f64::min).min(0.9);
        let mut chart = ChartBuilder::on(&area)
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..1.0, (y_min - 0.02).max(0.0)..1.01)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("probability that a node is down")
            .y_desc("requests answered")
            .label_style(font(12))
            .draw()
            .map_err(err)?;
        let mut archs = Vec::new();
        for r in &a.rows {
            if !archs.contains(&r.architecture) {
                archs.push(r.architecture);
            }
        }
        for (i, arch) in archs.iter().enumerate() {
            let col = color(i);
            chart
                .draw_series(LineSeries::new(
                    (0..=50).map(|j| j as f64 / 50.0).map(|p| (p, arch.expected(p))),
                    col,
                ))
                .map_err(err)?
                .label(arch.label())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], col.stroke_width(2)));
            chart
                .draw_series(
                    a.rows
                        .iter()
                        .filter(|r| r.architecture == *arch)
                        .map(|r| Circle::new((r.p_fail, r.observed), 4, col.filled())),
                )
                .map_err(err)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        note(root, "lines: 1 - p^k, k = nodes that can answer; dots: simulated requests")
    }
}
