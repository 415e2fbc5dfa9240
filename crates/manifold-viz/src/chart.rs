//! Line charts and scatter plots as PNG, drawn with plotters.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::raster::{save_png, RgbImage};
use crate::VizError;

/// The size of a chart in pixels, width × height.
const SIZE: (u32, u32) = (800, 500);

static FONT: Once = Once::new();

/// Registers the shipped DejaVu Sans as plotters' `sans-serif` (once per process).
pub(crate) fn ensure_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../../assets/DejaVuSans.ttf");
        // The font is compiled in and known good; a failure would only lose labels.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, bytes);
    });
}

/// One named curve of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// The `(x, y)` points, drawn in order.
    pub points: Vec<(f64, f64)>,
    /// Half-heights of error bars at the points (`y ± sd`; empty or 0: none).
    pub sd: Vec<f64>,
    /// Drawn as a line with dots on a scatter chart (a line chart draws every series so).
    pub line: bool,
}

impl Series {
    /// A series named `name` through `points`.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            sd: Vec::new(),
            line: false,
        }
    }

    /// The same series with error bars `y ± sd[k]` at point k.
    pub fn with_sd(mut self, sd: Vec<f64>) -> Self {
        self.sd = sd;
        self
    }

    /// The same series drawn as a line through dots, also on a scatter chart.
    pub fn as_line(mut self) -> Self {
        self.line = true;
        self
    }

    /// The points with their error bars: `(x, y, sd)`, sd 0 where none is given.
    fn with_bars(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.points
            .iter()
            .enumerate()
            .map(|(k, &(x, y))| (x, y, self.sd.get(k).copied().unwrap_or(0.0)))
    }
}

/// Range of finite values, padded so a flat series still has a visible extent.
fn finite_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9 + lo.abs() * 1e-3);
    (lo - pad, hi + pad)
}

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
];

/// The legend places tried, best first (plotters' own default, middle right, then the
/// corners, then the other middles), each with where its box sits across the plot: 0
/// at the low edge, ½ in the middle, 1 at the high edge (x, then y from the bottom).
const LEGEND_PLACES: [(SeriesLabelPosition, (f64, f64)); 8] = [
    (SeriesLabelPosition::MiddleRight, (1.0, 0.5)),
    (SeriesLabelPosition::UpperRight, (1.0, 1.0)),
    (SeriesLabelPosition::LowerRight, (1.0, 0.0)),
    (SeriesLabelPosition::UpperLeft, (0.0, 1.0)),
    (SeriesLabelPosition::LowerLeft, (0.0, 0.0)),
    (SeriesLabelPosition::MiddleLeft, (0.0, 0.5)),
    (SeriesLabelPosition::UpperMiddle, (0.5, 1.0)),
    (SeriesLabelPosition::LowerMiddle, (0.5, 0.0)),
];

/// Where the legend hides the fewest data: the first of [`LEGEND_PLACES`] whose box (the
/// legend's estimated size in a plotting area of `area` pixels: 20 px a row, 8 px a
/// character plus the marker) covers the fewest points, or, where each of them covers
/// some, the position of an 11 × 11 grid across the plot that covers fewer. `lines` also
/// counts points along each segment (closer together than half the box's smaller side),
/// so that a line crossing the box counts even between its samples. `x` and `y` are the
/// chart's ranges.
pub(crate) fn legend_place(
    series: &[Series],
    x: (f64, f64),
    y: (f64, f64),
    area: (f64, f64),
    lines: bool,
) -> SeriesLabelPosition {
    let chars = series
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0);
    let w = ((40.0 + 8.0 * chars as f64) / area.0).min(1.0);
    let h = ((10.0 + 20.0 * series.len() as f64) / area.1).min(1.0);
    // Points as fractions of the plot, (0, 0) bottom left.
    let unit = |p: (f64, f64)| ((p.0 - x.0) / (x.1 - x.0), (p.1 - y.0) / (y.1 - y.0));
    let mut points = Vec::new();
    for s in series {
        let finite: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .map(unit)
            .collect();
        points.extend(finite.iter().copied());
        if lines {
            let step = 0.5 * w.min(h);
            for pair in finite.windows(2) {
                let length = (pair[1].0 - pair[0].0).hypot(pair[1].1 - pair[0].1);
                let pieces = ((length / step).ceil() as usize).clamp(1, 1000);
                points.extend((1..pieces).map(|k| {
                    let t = k as f64 / pieces as f64;
                    (
                        pair[0].0 + t * (pair[1].0 - pair[0].0),
                        pair[0].1 + t * (pair[1].1 - pair[0].1),
                    )
                }));
            }
        }
    }
    // The box of a place at `side` across an axis, as a fraction of the plot.
    let span = |side: f64, size: f64| side * (1.0 - size)..=side * (1.0 - size) + size;
    let covered = |(sx, sy): (f64, f64)| {
        let (across, up) = (span(sx, w), span(sy, h));
        points
            .iter()
            .filter(|p| across.contains(&p.0) && up.contains(&p.1))
            .count()
    };
    let (fewest, place) = LEGEND_PLACES
        .iter()
        .map(|(place, sides)| (covered(*sides), place))
        .min_by_key(|(count, _)| *count)
        .expect("eight places");
    if fewest == 0 {
        return place.clone();
    }
    // Every named place hides some data: the box at any of 11 × 11 positions across the
    // plot, top right first, at its top-left corner in the plotting area's pixels.
    let (count, (sx, sy)) = (0..=10)
        .rev()
        .flat_map(|j| {
            (0..=10)
                .rev()
                .map(move |i| (f64::from(i) / 10.0, f64::from(j) / 10.0))
        })
        .map(|sides| (covered(sides), sides))
        .min_by_key(|(count, _)| *count)
        .expect("121 positions");
    if count >= fewest {
        return place.clone();
    }
    SeriesLabelPosition::Coordinate(
        (sx * (1.0 - w) * area.0).round() as i32,
        ((1.0 - sy) * (1.0 - h) * area.1).round() as i32,
    )
}

/// The ticks of a logarithmic axis over `lo … hi` (values, not logarithms): the finest
/// of 1 … 9, then 1, 2, 3, 5, then 1, 3, then 1 × 10^k that gives at most nine (so
/// 50 … 400 keeps every digit: 50, 60 … 100, 200, 300, 400).
pub(crate) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi >= lo && hi.is_finite()) {
        return Vec::new();
    }
    let (k0, k1) = (lo.log10().floor() as i32 - 1, hi.log10().ceil() as i32 + 1);
    let within = |mantissas: &[f64]| -> Vec<f64> {
        (k0..=k1)
            .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|v| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9))
            .collect()
    };
    let every: [f64; 9] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
    for mantissas in [&every[..], &[1.0, 2.0, 3.0, 5.0], &[1.0, 3.0], &[1.0]] {
        let ticks = within(mantissas);
        if ticks.len() <= 9 {
            return ticks;
        }
    }
    within(&[1.0]).into_iter().step_by(2).collect()
}

/// A count or size as a tick label: `300`, `3k`, `30k`, `1.5M`, `0.02`, `0.0003` (below 1:
/// three significant digits, so that 3 × 10⁻⁴ does not print as `0.00030000000000000003`).
pub(crate) fn tick_label(v: f64) -> String {
    let trim = |x: f64, decimals: usize| {
        let s = format!("{x:.decimals$}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    match v.abs() {
        a if a >= 1e9 => format!("{}G", trim(v / 1e9, 2)),
        a if a >= 1e6 => format!("{}M", trim(v / 1e6, 2)),
        a if a >= 1e3 => format!("{}k", trim(v / 1e3, 2)),
        a if a >= 1.0 || a == 0.0 => trim(v, 2),
        a => trim(v, (2.0 - a.log10().floor()) as usize),
    }
}

/// How a chart draws its series: lines or dots, and which axes are logarithmic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChartStyle {
    /// Every series as a line (a line chart); otherwise dots, a series marked
    /// [`Series::as_line`] as a line through its dots.
    pub lines: bool,
    /// A logarithmic x axis: points with x ≤ 0 are left out.
    pub log_x: bool,
    /// A logarithmic y axis: points with y ≤ 0 are left out, and an error bar reaching
    /// 0 or below stops at the bottom of the chart.
    pub log_y: bool,
}

/// Draws `series` on one PNG chart (800×500) as `style` says, written atomically like
/// [`save_png`](crate::save_png). A logarithmic axis has at most nine ticks at round
/// values labelled `10k`, `30k`, `1M`, `0.001` (the values as they are, not their
/// logarithms).
pub fn chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    style: ChartStyle,
) -> Result<(), VizError> {
    ensure_font();
    let err = |e: &dyn std::fmt::Display| VizError::new(path, e);
    // On a log axis the chart's coordinate is log10 of the value. Error bars are kept as
    // their two ends in chart coordinates, since y ± sd is not symmetric on a log axis.
    let fx = |x: f64| if style.log_x { x.log10() } else { x };
    let fy = |y: f64| {
        if !style.log_y {
            y
        } else if y > 0.0 {
            y.log10()
        } else {
            f64::NEG_INFINITY
        }
    };
    let shown = |p: &(f64, f64, f64)| (!style.log_x || p.0 > 0.0) && (!style.log_y || p.1 > 0.0);
    let bars: Vec<Vec<(f64, f64, f64)>> = series
        .iter()
        .map(|s| {
            s.with_bars()
                .filter(|p| shown(p) && p.2 > 0.0)
                .map(|(x, y, sd)| (fx(x), fy(y - sd), fy(y + sd)))
                .collect()
        })
        .collect();
    let series: Vec<Series> = series
        .iter()
        .map(|s| Series {
            name: s.name.clone(),
            points: s
                .with_bars()
                .filter(shown)
                .map(|(x, y, _)| (fx(x), fy(y)))
                .collect(),
            sd: Vec::new(),
            line: s.line,
        })
        .collect();
    let series = &series[..];
    let (x0, x1) = finite_range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (y0, y1) = finite_range(
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(bars.iter().flatten().flat_map(|b| [b.1, b.2])),
    );
    // Drawn in memory, then encoded and written atomically by `save_png`: a failed write
    // never leaves a truncated chart behind.
    let (w, h) = SIZE;
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| err(&e))?;
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(x_label)
            .y_desc(y_label)
            .label_style(("sans-serif", 14));
        if style.log_x {
            mesh.x_labels(0);
        }
        if style.log_y {
            mesh.y_labels(0);
        }
        mesh.draw().map_err(|e| err(&e))?;
        let grid = RGBColor(220, 220, 220);
        // A logarithmic axis: a grid line, a tick mark and a label at each round value.
        for (log, (lo, hi), is_x) in [
            (style.log_x, (x0, x1), true),
            (style.log_y, (y0, y1), false),
        ] {
            if !log {
                continue;
            }
            for t in log_ticks(10f64.powf(lo), 10f64.powf(hi)) {
                let at = t.log10();
                let (from, to) = if is_x {
                    ((at, y0), (at, y1))
                } else {
                    ((x0, at), (x1, at))
                };
                chart
                    .draw_series(LineSeries::new([from, to], grid))
                    .map_err(|e| err(&e))?;
                let (px, py) = chart.backend_coord(&from);
                let (mark, text, pos) = if is_x {
                    (
                        (px, py + 5),
                        (px, py + 7),
                        Pos::new(HPos::Center, VPos::Top),
                    )
                } else {
                    (
                        (px - 5, py),
                        (px - 7, py),
                        Pos::new(HPos::Right, VPos::Center),
                    )
                };
                let font = ("sans-serif", 14).into_font().color(&BLACK).pos(pos);
                root.draw(&PathElement::new(vec![(px, py), mark], BLACK))
                    .map_err(|e| err(&e))?;
                root.draw(&Text::new(tick_label(t), text, font))
                    .map_err(|e| err(&e))?;
            }
        }
        for (k, s) in series.iter().enumerate() {
            let colour = PALETTE[k % PALETTE.len()];
            let pts = s
                .points
                .iter()
                .copied()
                .filter(|p| p.0.is_finite() && p.1.is_finite());
            // Error bars: a vertical stroke over y ± sd with short caps.
            for &(x, lo, hi) in bars[k]
                .iter()
                .filter(|b| b.0.is_finite() && b.2.is_finite())
            {
                let (px, top) = chart.backend_coord(&(x, hi));
                // A bar down to 0 or below on a log axis (lo = -∞) ends at the plot's
                // bottom edge: the chart clamps coordinates to its area.
                let (_, bottom) = chart.backend_coord(&(x, lo));
                for path in [
                    vec![(px, top), (px, bottom)],
                    vec![(px - 4, top), (px + 4, top)],
                    vec![(px - 4, bottom), (px + 4, bottom)],
                ] {
                    root.draw(&PathElement::new(path, colour.stroke_width(1)))
                        .map_err(|e| err(&e))?;
                }
            }
            if style.lines {
                chart
                    .draw_series(LineSeries::new(pts, colour.stroke_width(2)))
                    .map_err(|e| err(&e))?
                    .label(s.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
            } else if s.line {
                let dots: Vec<(f64, f64)> = pts.collect();
                chart
                    .draw_series(LineSeries::new(dots.clone(), colour.stroke_width(2)))
                    .map_err(|e| err(&e))?;
                chart
                    .draw_series(dots.into_iter().map(|p| Circle::new(p, 4, colour.filled())))
                    .map_err(|e| err(&e))?
                    .label(s.name.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                    });
            } else {
                chart
                    .draw_series(pts.map(|p| Circle::new(p, 5, colour.filled())))
                    .map_err(|e| err(&e))?
                    .label(s.name.clone())
                    .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
            }
        }
        if series.len() > 1 {
            let (width, height) = chart.plotting_area().dim_in_pixel();
            let area = (f64::from(width), f64::from(height));
            chart
                .configure_series_labels()
                .position(legend_place(series, (x0, x1), (y0, y1), area, style.lines))
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    let img = RgbImage::from_raw(w, h, pixels).expect("the buffer holds w × h RGB pixels");
    save_png(&img, path)
}

/// Draws `series` as lines on one PNG chart (800×500), written atomically like
/// [`save_png`](crate::save_png).
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), VizError> {
    let style = ChartStyle {
        lines: true,
        ..ChartStyle::default()
    };
    chart(path, title, x_label, y_label, series, style)
}

/// Draws `series` as dots on one PNG chart (800×500), written atomically like
/// [`save_png`](crate::save_png).
pub fn scatter_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), VizError> {
    chart(path, title, x_label, y_label, series, ChartStyle::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unit ranges on both axes, in a plotting area of 706 × 400 pixels.
    fn unit_ranges() -> ((f64, f64), (f64, f64), (f64, f64)) {
        ((0.0, 1.0), (0.0, 1.0), (706.0, 400.0))
    }

    #[test]
    fn a_chart_is_written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accuracy.png");
        let series = [
            Series::new("train", vec![(1.0, 0.5), (2.0, 0.8)]),
            Series::new("test", vec![(1.0, 0.4), (2.0, 0.7)]),
        ];
        line_chart(&path, "accuracy", "epoch", "accuracy", &series).unwrap();
        let old = std::fs::read(&path).unwrap();
        let img = image::load_from_memory_with_format(&old, image::ImageFormat::Png).unwrap();
        assert_eq!((img.width(), img.height()), SIZE);
        // Not all white: the chart was drawn.
        assert!(img.to_rgb8().pixels().any(|p| p.0 != [255, 255, 255]));

        let err = scatter_chart(&path.join("b.png"), "t", "x", "y", &series).unwrap_err();
        assert!(
            err.to_string().contains("accuracy.png/b.png: cannot write"),
            "{err}"
        );
        let missing = dir.path().join("missing/accuracy.png");
        let err = line_chart(&missing, "t", "x", "y", &series).unwrap_err();
        assert_eq!(err.path, missing);
        assert_eq!(std::fs::read(&path).unwrap(), old);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only accuracy.png, no temporary file");
    }

    /// An error bar is drawn over `y ± sd` in the series' colour: a point with sd 0.3 on
    /// a range of about 0.66 colours a few hundred more pixels than the same point
    /// without; a line series is joined in its colour.
    #[test]
    fn error_bars_and_lines_are_drawn_in_the_series_colour() {
        let dir = tempfile::tempdir().unwrap();
        let coloured = |series: Series| {
            let path = dir.path().join("c.png");
            scatter_chart(&path, "t", "x", "y", &[series]).unwrap();
            let img = image::open(&path).unwrap().to_rgb8();
            let c = PALETTE[0];
            img.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count()
        };
        let points = vec![(1.0, 0.5), (2.0, 0.6)];
        let plain = coloured(Series::new("a", points.clone()));
        let barred = coloured(Series::new("a", points.clone()).with_sd(vec![0.3, 0.0]));
        assert!(barred > plain + 200, "{barred} against {plain} pixels");
        let line = coloured(Series::new("a", points).as_line());
        assert!(line > plain + 200, "{line} against {plain} pixels");
    }

    #[test]
    fn log_ticks_are_round_counts_labelled_in_words() {
        assert_eq!(log_ticks(8_000.0, 130_000.0), [1e4, 2e4, 3e4, 5e4, 1e5]);
        assert_eq!(
            log_ticks(5_000.0, 1.3e6),
            [1e4, 3e4, 1e5, 3e5, 1e6],
            "thinned to 1 and 3 × 10^k"
        );
        assert_eq!(
            log_ticks(4_600.0, 6_100.0),
            [5e3, 6e3],
            "a narrow range: every digit"
        );
        assert_eq!(log_ticks(0.0, 1.0), Vec::<f64>::new());
        assert_eq!(
            log_ticks(45.0, 443.0),
            [50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 200.0, 300.0, 400.0],
            "nine ticks: every digit"
        );
        let labels: Vec<String> = [300.0, 3e3, 3e4, 1.5e6, 0.02, 1.0, 3e-4, 1.25e-5]
            .iter()
            .map(|v| tick_label(*v))
            .collect();
        assert_eq!(
            labels,
            [
                "300",
                "3k",
                "30k",
                "1.5M",
                "0.02",
                "1",
                "0.0003",
                "0.0000125"
            ]
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.png");
        let s = [Series::new("a", vec![(1e4, 0.9), (1e5, 0.95), (0.0, 0.1)])];
        let style = ChartStyle {
            log_x: true,
            ..ChartStyle::default()
        };
        chart(&path, "t", "connections", "accuracy", &s, style).unwrap();
        assert!(path.is_file());
    }

    /// On a log y axis 1e-4, 1e-2 and 1 are equally spaced (on a linear one the first
    /// two would nearly touch); a bar reaching below 0 stops at the chart's bottom.
    #[test]
    fn a_log_y_axis_spaces_decades_evenly() {
        let dir = tempfile::tempdir().unwrap();
        let style = ChartStyle {
            log_y: true,
            ..ChartStyle::default()
        };
        let barred = [Series::new("a", vec![(0.0, 1e-3), (1.0, 0.1)]).with_sd(vec![0.01, 0.0])];
        let bar_path = dir.path().join("bar.png");
        chart(&bar_path, "t", "x", "mse", &barred, style).unwrap();
        let bar = image::open(&bar_path).unwrap().to_rgb8();
        let c = PALETTE[0];
        let lowest = bar
            .enumerate_pixels()
            .filter(|(x, _, p)| *x < bar.width() / 3 && p.0 == [c.0, c.1, c.2])
            .map(|(_, y, _)| y)
            .max();
        // The plotting area ends 12 + 40 px above the image's bottom (margin, x labels).
        let bottom = bar.height() - 12 - 40;
        assert!(
            lowest.is_some_and(|y| (bottom - 8..bottom).contains(&y)),
            "the bar to 1e-3 - 0.01 < 0 ends at row {lowest:?}, not at the plot's bottom {bottom}"
        );
        let path = dir.path().join("log-y.png");
        let s = [Series::new("a", vec![(0.0, 1e-4), (1.0, 1e-2), (2.0, 1.0)])];
        chart(&path, "t", "x", "mse", &s, style).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        // The dots' mean row, by thirds of the image's width.
        let rows = |third: u32| {
            let (lo, hi) = (third * img.width() / 3, (third + 1) * img.width() / 3);
            let ys: Vec<f64> = img
                .enumerate_pixels()
                .filter(|(x, _, p)| (lo..hi).contains(x) && p.0 == [c.0, c.1, c.2])
                .map(|(_, y, _)| f64::from(y))
                .collect();
            assert!(!ys.is_empty(), "no dot in third {third}");
            ys.iter().sum::<f64>() / ys.len() as f64
        };
        let (low, middle, high) = (rows(0), rows(1), rows(2));
        let halfway = (low + high) / 2.0;
        assert!(
            (middle - halfway).abs() < 0.1 * (low - high),
            "rows {low} / {middle} / {high}: the middle decade is not halfway"
        );
    }

    #[test]
    fn legend_stays_middle_right_over_an_empty_right_side() {
        let (x, y, area) = unit_ranges();
        let left = Series::new("a", vec![(0.1, 0.5), (0.2, 0.6)]);
        let place = legend_place(&[left.clone(), left], x, y, area, false);
        assert!(matches!(place, SeriesLabelPosition::MiddleRight));
    }

    #[test]
    fn legend_moves_off_the_points_it_would_hide() {
        let (x, y, area) = unit_ranges();
        // Two one-character series: a box 48/706 ≈ 0.068 wide and 50/400 = 0.125 tall.
        // A point in the middle right and one in the upper right leave the lower right.
        let a = Series::new("a", vec![(0.97, 0.5)]);
        let b = Series::new("b", vec![(0.97, 0.97)]);
        let place = legend_place(&[a, b], x, y, area, false);
        assert!(matches!(place, SeriesLabelPosition::LowerRight));
    }

    /// Dots in every corner and every middle of the edges leave no named place free; the
    /// box goes to a free position inside, top right first.
    #[test]
    fn legend_finds_a_free_spot_when_every_named_place_hides_dots() {
        let (x, y, area) = unit_ranges();
        let edges: Vec<(f64, f64)> = [0.02, 0.5, 0.98]
            .iter()
            .flat_map(|&a| [0.02, 0.5, 0.98].map(move |b| (a, b)))
            .filter(|&p| p != (0.5, 0.5))
            .collect();
        let s = Series::new("a", edges.clone());
        let place = legend_place(&[s.clone(), s], x, y, area, false);
        let SeriesLabelPosition::Coordinate(px, py) = place else {
            panic!("a named place, each of which hides a dot")
        };
        // The box (48 × 50 px, estimated) at (px, py) from the top left holds no dot.
        let inside = |p: &(f64, f64)| {
            let (dx, dy) = (p.0 * area.0, (1.0 - p.1) * area.1);
            (f64::from(px)..=f64::from(px) + 48.0).contains(&dx)
                && (f64::from(py)..=f64::from(py) + 50.0).contains(&dy)
        };
        assert!(
            !edges.iter().any(inside),
            "the box at ({px}, {py}) hides a dot"
        );
    }

    #[test]
    fn a_line_through_the_box_counts_between_its_samples() {
        let (x, y, area) = unit_ranges();
        // A steep line from (0.9, 0) to the upper right corner: no sample lies in the
        // middle-right box (x ≥ 0.93, y in 0.44 … 0.56), but its segment crosses it there,
        // at x ≈ 0.95; near the bottom it runs left of the lower-right box.
        let line = Series::new("a", vec![(0.9, 0.0), (1.0, 1.0)]);
        let other = Series::new("b", vec![(0.0, 0.0)]);
        let as_dots = legend_place(&[line.clone(), other.clone()], x, y, area, false);
        assert!(matches!(as_dots, SeriesLabelPosition::MiddleRight));
        let as_line = legend_place(&[line, other], x, y, area, true);
        assert!(matches!(as_line, SeriesLabelPosition::LowerRight));
    }
}
