//! Labelled figures: raster panels in a grid under a title, a caption above each panel,
//! optional axes (descriptions and index ticks) and an optional colour bar that shows
//! the value range of the colours and names what they mean.
//!
//! Rasters are copied pixel for pixel (a lone raster under 160 pixels a side is
//! enlarged by a whole factor, each pixel becoming a square block); text is drawn with
//! plotters in the shipped font.

use std::path::Path;

use image::Rgb;
use plotters::prelude::{
    BitMapBackend, FontTransform, IntoDrawingArea, IntoFont, RGBColor, TextStyle,
};
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::chart::ensure_font;
use crate::raster::{bar_charts, bar_range, heatmap, save_png, RgbImage, Scale};
use crate::VizError;

/// Font size of the figure title.
const TITLE_SIZE: u32 = 20;
/// Font size of notes, captions, axis descriptions and the colour-bar label.
const TEXT_SIZE: u32 = 14;
/// Font size of tick labels.
const TICK_SIZE: u32 = 12;
/// Length of a tick mark.
const TICK_LEN: u32 = 4;
/// Blank space around the figure.
const MARGIN: u32 = 12;
/// Horizontal space between panel columns.
const GAP_X: u32 = 16;
/// Vertical space between panel rows.
const GAP_Y: u32 = 10;
/// Space between the panels and the colour bar.
const BAR_GAP: u32 = 20;
/// Width of the colour bar.
const BAR_W: u32 = 16;
/// Shortest colour bar.
const MIN_BAR_H: u32 = 100;
/// A lone raster whose longer side is shorter than this is enlarged.
const MIN_SIDE: u32 = 160;
/// The widest tick label the colour bar reserves room for (see [`tick_label`]).
const WIDEST_TICK: &str = "-8.88e-88";

const WHITE_PX: Rgb<u8> = Rgb([255, 255, 255]);
/// Colour of text and tick marks.
const INK: Rgb<u8> = Rgb([20, 20, 20]);
/// Colour of the one-pixel frame around each raster and the colour bar.
const FRAME: Rgb<u8> = Rgb([110, 110, 110]);
/// Colour of notes.
const NOTE_INK: Rgb<u8> = Rgb([70, 70, 70]);

/// One raster of a figure and the caption drawn above it.
#[derive(Debug, Clone)]
pub struct Panel {
    /// The caption above the raster (empty for none).
    pub title: String,
    /// The raster, copied pixel for pixel.
    pub image: RgbImage,
}

impl Panel {
    /// The raster `image` captioned `title`.
    pub fn new(title: impl Into<String>, image: RgbImage) -> Self {
        Self {
            title: title.into(),
            image,
        }
    }
}

/// The axes of a figure whose panels each show a `rows × cols` matrix (row 0 at the
/// top, column 0 at the left).
#[derive(Debug, Clone)]
pub struct Axes {
    /// What the columns are, written under the panels.
    pub x_label: String,
    /// What the rows are, written up the left side.
    pub y_label: String,
    /// Rows of each panel's matrix.
    pub rows: usize,
    /// Columns of each panel's matrix.
    pub cols: usize,
}

/// A colour bar: the colours of `scale` from its low end (bottom) to its high end
/// (top), with ticks at both ends (and at 0 for a diverging scale, the middle for a
/// sequential one), and `label` saying what colour means.
#[derive(Debug, Clone)]
pub struct ColourBar {
    /// The scale every coloured panel of the figure is drawn with.
    pub scale: Scale,
    /// What colour means, e.g. "connections per pixel".
    pub label: String,
}

/// A figure: a title, an optional note under it, panels in a grid of `columns`
/// columns, optional [`Axes`] and an optional [`ColourBar`] to the right.
///
/// With axes, tick marks sit at cell centres and are labelled with the row or column
/// index, the first and the last index always among them; the x ticks are drawn under
/// the panels of the bottom row, the y ticks left of the panels of the first column.
///
/// The figure's size depends on the panels' sizes and on the texts, not on the values
/// of the colour bar, so frames that differ only in their values are the same size.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The title across the top.
    pub title: String,
    /// Lines under the title (`\n` separates them; empty for none).
    pub note: String,
    /// The panels, row by row.
    pub panels: Vec<Panel>,
    /// Panels per row.
    pub columns: usize,
    /// The axes of every panel.
    pub axes: Option<Axes>,
    /// The colour bar.
    pub colour_bar: Option<ColourBar>,
}

impl Figure {
    /// A figure titled `title` with `panels` in one row, no note, axes or colour bar.
    pub fn new(title: impl Into<String>, panels: Vec<Panel>) -> Self {
        let columns = panels.len().max(1);
        Self {
            title: title.into(),
            note: String::new(),
            panels,
            columns,
            axes: None,
            colour_bar: None,
        }
    }

    /// The same figure with `columns` panels per row.
    pub fn with_columns(mut self, columns: usize) -> Self {
        self.columns = columns.max(1);
        self
    }

    /// The same figure with `note` under the title (`\n` separates lines).
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// The same figure with axes: each panel shows a `rows × cols` matrix whose columns
    /// are `x_label` and rows `y_label`.
    pub fn with_axes(
        mut self,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
        rows: usize,
        cols: usize,
    ) -> Self {
        self.axes = Some(Axes {
            x_label: x_label.into(),
            y_label: y_label.into(),
            rows,
            cols,
        });
        self
    }

    /// The same figure with a colour bar of `scale` labelled `label`.
    pub fn with_colour_bar(mut self, scale: Scale, label: impl Into<String>) -> Self {
        self.colour_bar = Some(ColourBar {
            scale,
            label: label.into(),
        });
        self
    }

    /// Draws the figure.
    ///
    /// Text is drawn in the shipped font; were it ever unavailable the figure would
    /// come out without its text rather than fail.
    pub fn render(&self) -> RgbImage {
        let layout = self.layout();
        let (w, h) = layout.size;
        let mut img = RgbImage::from_pixel(w, h, WHITE_PX);
        {
            let root = BitMapBackend::with_buffer(&mut img, (w, h)).into_drawing_area();
            for t in &layout.texts {
                // The font is compiled in; an error would only lose this text.
                let _ = root.draw_text(&t.text, &t.style(), t.anchor);
            }
            let _ = root.present();
        }
        for (p, &(x, y)) in self.panels.iter().zip(&layout.rasters) {
            let (pw, ph) = (
                p.image.width() * layout.zoom,
                p.image.height() * layout.zoom,
            );
            frame(&mut img, x, y, pw, ph);
            for dy in 0..ph {
                for dx in 0..pw {
                    let px = *p.image.get_pixel(dx / layout.zoom, dy / layout.zoom);
                    img.put_pixel(x + dx, y + dy, px);
                }
            }
        }
        if let (Some(bar), Some(r)) = (&self.colour_bar, layout.bar) {
            let (lo, hi) = bar.scale.range();
            frame(&mut img, r.x, r.y, r.w, r.h);
            for dy in 0..r.h {
                let v = if r.h > 1 {
                    hi - (hi - lo) * dy as f32 / (r.h - 1) as f32
                } else {
                    hi
                };
                let colour = bar.scale.colour(v);
                for dx in 0..r.w {
                    img.put_pixel(r.x + dx, r.y + dy, colour);
                }
            }
        }
        for m in &layout.marks {
            for dy in 0..m.h {
                for dx in 0..m.w {
                    img.put_pixel(m.x + dx, m.y + dy, INK);
                }
            }
        }
        img
    }

    /// Draws the figure and writes it as PNG at `path`, atomically ([`save_png`]).
    pub fn save(&self, path: &Path) -> Result<(), VizError> {
        save_png(&self.render(), path)
    }

    /// Where everything goes: the sizes ([`Figure::measure`]), then the title and note,
    /// the panels with their captions and ticks, the axis descriptions and the colour
    /// bar, each placed in the order its text is drawn.
    fn layout(&self) -> Layout {
        ensure_font();
        let m = self.measure();
        let mut texts = Vec::new();
        let mut marks = Vec::new();
        self.place_heading(&m, &mut texts);
        let rasters = self.place_panels(&m, &mut texts, &mut marks);
        self.place_axis_labels(&m, &mut texts);
        let bar = self.place_colour_bar(&m, &mut texts, &mut marks);
        Layout {
            size: (m.width, m.height),
            zoom: m.grid.zoom,
            rasters,
            bar,
            texts,
            marks,
        }
    }

    /// The panel grid's sizes: columns and rows of panels, the zoom of a lone small
    /// raster, the size of a grid cell (caption line and raster) and of the whole grid.
    fn measure_grid(&self) -> Grid {
        let n = self.panels.len();
        let columns = self.columns.clamp(1, n.max(1));
        let rows = n.div_ceil(columns);
        let zoom = match self.panels.as_slice() {
            [p] => {
                let side = p.image.width().max(p.image.height()).max(1);
                MIN_SIDE.div_ceil(side).max(1)
            }
            _ => 1,
        };
        let pw = self
            .panels
            .iter()
            .map(|p| p.image.width())
            .max()
            .unwrap_or(0)
            * zoom;
        let ph = self
            .panels
            .iter()
            .map(|p| p.image.height())
            .max()
            .unwrap_or(0)
            * zoom;
        let caption_h = if self.panels.iter().any(|p| !p.title.is_empty()) {
            line(TEXT_SIZE)
        } else {
            0
        };
        let caption_w = self
            .panels
            .iter()
            .map(|p| text_width(&p.title, TEXT_SIZE))
            .max()
            .unwrap_or(0);
        let col_w = pw.max(caption_w);
        let row_h = caption_h + ph;
        let grid_w = columns as u32 * col_w + (columns as u32).saturating_sub(1) * GAP_X;
        let grid_h = rows as u32 * row_h + (rows as u32).saturating_sub(1) * GAP_Y;
        Grid {
            columns,
            rows,
            zoom,
            col_w,
            row_h,
            caption_h,
            grid_w,
            grid_h,
        }
    }

    /// The x ticks of a panel's matrix drawn `width` pixels wide, in pixels from the
    /// raster's left edge (none without axes).
    fn x_ticks(&self, width: u32) -> Vec<(u32, String)> {
        let Some(a) = &self.axes else {
            return Vec::new();
        };
        let widest = text_width(&a.cols.saturating_sub(1).to_string(), TICK_SIZE);
        index_ticks(a.cols, width, (widest + 12).max(60))
    }

    /// The y ticks of a panel's matrix drawn `height` pixels high, in pixels from the
    /// raster's top edge (none without axes).
    fn y_ticks(&self, height: u32) -> Vec<(u32, String)> {
        let Some(a) = &self.axes else {
            return Vec::new();
        };
        index_ticks(a.rows, height, line(TICK_SIZE) + 8)
    }

    /// The room the axes take: the width left of the grid (the y description, the
    /// widest y tick label of the first column's panels, the tick marks) and the height
    /// under it (tick marks, tick labels, the x description); `(0, 0)` without axes.
    fn axis_margins(&self, grid: &Grid) -> (u32, u32) {
        match &self.axes {
            Some(_) => {
                let widest = self
                    .panels
                    .iter()
                    .step_by(grid.columns)
                    .flat_map(|p| self.y_ticks(p.image.height() * grid.zoom))
                    .map(|(_, s)| text_width(&s, TICK_SIZE))
                    .max()
                    .unwrap_or(0);
                (
                    line(TEXT_SIZE) + 6 + widest + 3 + TICK_LEN + 1,
                    1 + TICK_LEN + 2 + line(TICK_SIZE) + 4 + line(TEXT_SIZE),
                )
            }
            None => (0, 0),
        }
    }

    /// The width right of the grid that the colour bar takes: the gap, the bar, its
    /// ticks, room for the widest possible tick label and the label's column (0 without
    /// a colour bar).
    fn bar_area_width(&self) -> u32 {
        match &self.colour_bar {
            Some(_) => {
                BAR_GAP
                    + BAR_W
                    + 1
                    + TICK_LEN
                    + 3
                    + text_width(WIDEST_TICK, TICK_SIZE)
                    + 8
                    + line(TEXT_SIZE)
            }
            None => 0,
        }
    }

    /// Every size of the figure: the grid ([`Figure::measure_grid`]), the margins of
    /// the axes and the colour bar around it, the title and note bands above it, the
    /// figure's width (the content or the widest text) and height, and where the
    /// content and the grid start.
    fn measure(&self) -> Measure {
        let grid = self.measure_grid();
        let (left_w, bottom_h) = self.axis_margins(&grid);
        let bar_area_w = self.bar_area_width();
        let bar_h = (grid.grid_h.saturating_sub(grid.caption_h)).max(MIN_BAR_H);

        let notes: Vec<&str> = self.note.lines().collect();
        let note_h = notes.len() as u32 * line(TEXT_SIZE) + if notes.is_empty() { 0 } else { 8 };
        let title_h = line(TITLE_SIZE) + 6;
        let content_w = left_w + grid.grid_w + bar_area_w;
        let x_label_w = self.axes.as_ref().map_or(0, |a| {
            // The x description is centred under the grid; it must fit the figure.
            let overhang = text_width(&a.x_label, TEXT_SIZE).saturating_sub(grid.grid_w);
            content_w + overhang
        });
        let text_w = notes
            .iter()
            .map(|l| text_width(l, TEXT_SIZE))
            .chain([text_width(&self.title, TITLE_SIZE), x_label_w])
            .max()
            .unwrap_or(0);
        let inner_w = content_w.max(text_w);
        let width = inner_w + 2 * MARGIN;
        let content_h = if self.colour_bar.is_some() {
            grid.grid_h.max(grid.caption_h + bar_h)
        } else {
            grid.grid_h
        };
        let grid_y = MARGIN + title_h + note_h;
        let height = grid_y + content_h + bottom_h + MARGIN;
        let x0 = MARGIN + (inner_w - content_w) / 2;
        let grid_x = x0 + left_w;
        Measure {
            grid,
            title_h,
            bar_h,
            width,
            height,
            x0,
            grid_x,
            grid_y,
        }
    }

    /// The title and the note's lines, centred across the figure.
    fn place_heading(&self, m: &Measure, texts: &mut Vec<Text>) {
        let centre = (m.width / 2) as i32;
        texts.push(
            Text::new(&self.title, TITLE_SIZE, INK, HPos::Center)
                .at(centre, (MARGIN + ascent(TITLE_SIZE)) as i32),
        );
        for (i, l) in self.note.lines().enumerate() {
            let top = MARGIN + m.title_h + i as u32 * line(TEXT_SIZE);
            texts.push(
                Text::new(l, TEXT_SIZE, NOTE_INK, HPos::Center)
                    .at(centre, (top + ascent(TEXT_SIZE)) as i32),
            );
        }
    }

    /// The top-left corner of each panel's raster (centred in its grid cell, under the
    /// caption line), its caption centred above it and its ticks
    /// ([`Figure::place_ticks`]).
    fn place_panels(
        &self,
        m: &Measure,
        texts: &mut Vec<Text>,
        marks: &mut Vec<Rect>,
    ) -> Vec<(u32, u32)> {
        let g = &m.grid;
        let mut rasters = Vec::with_capacity(self.panels.len());
        for (i, p) in self.panels.iter().enumerate() {
            let (c, r) = ((i % g.columns) as u32, (i / g.columns) as u32);
            let cell_x = m.grid_x + c * (g.col_w + GAP_X);
            let cell_y = m.grid_y + r * (g.row_h + GAP_Y);
            let (w, h) = (p.image.width() * g.zoom, p.image.height() * g.zoom);
            let (x, y) = (cell_x + (g.col_w - w) / 2, cell_y + g.caption_h);
            rasters.push((x, y));
            if !p.title.is_empty() {
                texts.push(
                    Text::new(&p.title, TEXT_SIZE, INK, HPos::Center)
                        .at((cell_x + g.col_w / 2) as i32, y as i32 - 5),
                );
            }
            let raster = Rect::new(x, y, w, h);
            self.place_ticks(raster, r as usize == g.rows - 1, c == 0, texts, marks);
        }
        rasters
    }

    /// The tick marks and index labels of the panel whose raster is `raster`: the x
    /// ticks under it when it is in the `bottom` row, the y ticks left of it when it is
    /// in the `left` column (none without axes).
    fn place_ticks(
        &self,
        raster: Rect,
        bottom: bool,
        left: bool,
        texts: &mut Vec<Text>,
        marks: &mut Vec<Rect>,
    ) {
        let Rect { x, y, w, h } = raster;
        if bottom {
            for (dx, label) in self.x_ticks(w) {
                marks.push(Rect::new(x + dx, y + h + 1, 1, TICK_LEN));
                let base = y + h + 1 + TICK_LEN + 2 + ascent(TICK_SIZE);
                texts.push(
                    Text::new(&label, TICK_SIZE, INK, HPos::Center)
                        .at((x + dx) as i32, base as i32),
                );
            }
        }
        if left {
            for (dy, label) in self.y_ticks(h) {
                marks.push(Rect::new(x - 1 - TICK_LEN, y + dy, TICK_LEN, 1));
                let right = x - 1 - TICK_LEN - 3;
                texts.push(
                    Text::new(&label, TICK_SIZE, INK, HPos::Right)
                        .at(right as i32, (y + dy + digit_half(TICK_SIZE)) as i32),
                );
            }
        }
    }

    /// The axis descriptions: the x description centred under the grid's tick labels,
    /// the y description reading upward at the content's left edge, centred on the
    /// rasters (nothing without axes).
    fn place_axis_labels(&self, m: &Measure, texts: &mut Vec<Text>) {
        let g = &m.grid;
        if let Some(a) = &self.axes {
            let base =
                m.grid_y + g.grid_h + 1 + TICK_LEN + 2 + line(TICK_SIZE) + 4 + ascent(TEXT_SIZE);
            texts.push(
                Text::new(&a.x_label, TEXT_SIZE, INK, HPos::Center)
                    .at((m.grid_x + g.grid_w / 2) as i32, base as i32),
            );
            let mid = m.grid_y + g.caption_h + g.grid_h.saturating_sub(g.caption_h) / 2;
            texts.push(Text::upward(&a.y_label, TEXT_SIZE, m.x0, mid));
        }
    }

    /// The colour bar's pixels right of the grid, level with the rasters' tops, its tick
    /// marks and labels ([`bar_ticks`], the high end at the top) and its label reading
    /// upward beside them (`None` without a colour bar).
    fn place_colour_bar(
        &self,
        m: &Measure,
        texts: &mut Vec<Text>,
        marks: &mut Vec<Rect>,
    ) -> Option<Rect> {
        let (g, bar_h) = (&m.grid, m.bar_h);
        self.colour_bar.as_ref().map(|b| {
            let r = Rect::new(
                m.grid_x + g.grid_w + BAR_GAP,
                m.grid_y + g.caption_h,
                BAR_W,
                bar_h,
            );
            let (lo, hi) = b.scale.range();
            let label_x = r.x + BAR_W + 1 + TICK_LEN + 3;
            let ticks = bar_ticks(b.scale);
            let widest = ticks
                .iter()
                .map(|&v| text_width(&tick_label(v), TICK_SIZE))
                .max()
                .unwrap_or(0);
            for v in ticks {
                let frac = if hi > lo { (hi - v) / (hi - lo) } else { 0.0 };
                let dy = (frac * (bar_h - 1) as f32).round() as u32;
                marks.push(Rect::new(r.x + BAR_W + 1, r.y + dy, TICK_LEN, 1));
                texts.push(
                    Text::new(&tick_label(v), TICK_SIZE, INK, HPos::Left)
                        .at(label_x as i32, (r.y + dy + digit_half(TICK_SIZE)) as i32),
                );
            }
            // The label hugs this figure's tick labels; the width stays reserved for
            // the widest possible ones.
            let column = label_x + widest + 8;
            texts.push(Text::upward(&b.label, TEXT_SIZE, column, r.y + bar_h / 2));
            r
        })
    }
}

/// The sizes of a figure's panel grid ([`Figure::measure_grid`]).
struct Grid {
    /// Panels per row (at least 1, at most the number of panels when there are any).
    columns: usize,
    /// Rows of panels.
    rows: usize,
    /// How many pixels a side each raster pixel becomes.
    zoom: u32,
    /// Width of a grid cell: the widest raster or caption.
    col_w: u32,
    /// Height of a grid cell: the caption line and the tallest raster.
    row_h: u32,
    /// Height of the caption line (0 when no panel has a caption).
    caption_h: u32,
    /// Width of the grid, gaps included.
    grid_w: u32,
    /// Height of the grid, gaps included.
    grid_h: u32,
}

/// Every size of a figure and where its content starts ([`Figure::measure`]).
struct Measure {
    /// The panel grid's sizes.
    grid: Grid,
    /// Height of the title band (the title line and the space under it).
    title_h: u32,
    /// Height of the colour bar.
    bar_h: u32,
    /// Width of the figure.
    width: u32,
    /// Height of the figure.
    height: u32,
    /// Left edge of the content (the y description's column).
    x0: u32,
    /// Left edge of the grid.
    grid_x: u32,
    /// Top edge of the grid.
    grid_y: u32,
}

/// Where a figure's parts go.
struct Layout {
    /// Width and height of the figure.
    size: (u32, u32),
    /// How many pixels a side each raster pixel becomes.
    zoom: u32,
    /// Top-left corner of each panel's raster.
    rasters: Vec<(u32, u32)>,
    /// The colour bar's pixels (inside its frame).
    bar: Option<Rect>,
    /// Every piece of text.
    texts: Vec<Text>,
    /// Tick marks, filled with ink.
    marks: Vec<Rect>,
}

/// A rectangle of pixels.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

impl Rect {
    fn new(x: u32, y: u32, w: u32, h: u32) -> Self {
        Self { x, y, w, h }
    }
}

/// One line of text and where plotters anchors it.
struct Text {
    text: String,
    size: u32,
    colour: RGBColor,
    align: HPos,
    upward: bool,
    anchor: (i32, i32),
}

impl Text {
    /// Horizontal text, placed with [`Text::at`].
    fn new(text: &str, size: u32, colour: Rgb<u8>, align: HPos) -> Self {
        Self {
            text: text.to_string(),
            size,
            colour: RGBColor(colour.0[0], colour.0[1], colour.0[2]),
            align,
            upward: false,
            anchor: (0, 0),
        }
    }

    /// The text aligned at `x` (by its left end, centre or right end) with its
    /// baseline at `baseline`.
    fn at(mut self, x: i32, baseline: i32) -> Self {
        // Plotters' ab_glyph backend puts the baseline half a font size below a
        // top-anchored text's anchor.
        self.anchor = (x, baseline - (self.size / 2) as i32);
        self
    }

    /// Text reading bottom to top in the column of `line(size)` pixels starting at `x`,
    /// centred on `mid`.
    fn upward(text: &str, size: u32, x: u32, mid: u32) -> Self {
        // Turned a quarter anticlockwise, the glyphs reach from about a quarter of the
        // size left of the anchor to three quarters right of it.
        Self {
            text: text.to_string(),
            size,
            colour: RGBColor(INK.0[0], INK.0[1], INK.0[2]),
            align: HPos::Center,
            upward: true,
            anchor: ((x + size * 3 / 10) as i32, mid as i32),
        }
    }

    fn style(&self) -> TextStyle<'_> {
        let style = TextStyle::from(("sans-serif", self.size).into_font())
            .color(&self.colour)
            .pos(Pos::new(self.align, VPos::Top));
        if self.upward {
            style.transform(FontTransform::Rotate270)
        } else {
            style
        }
    }
}

/// Height of a line of text of font size `size`.
fn line(size: u32) -> u32 {
    size + size / 4 + 2
}

/// Height of capitals and digits above the baseline, with a pixel to spare.
fn ascent(size: u32) -> u32 {
    (size * 3).div_ceil(4) + 1
}

/// Half the height of a digit: the baseline offset that centres digits on a tick.
fn digit_half(size: u32) -> u32 {
    (size * 73).div_ceil(200)
}

/// Width of `text` in the shipped font at `size` (an estimate when it is unavailable).
fn text_width(text: &str, size: u32) -> u32 {
    if text.is_empty() {
        return 0;
    }
    ("sans-serif", size)
        .into_font()
        .box_size(text)
        .map(|(w, _)| w)
        .unwrap_or(text.chars().count() as u32 * size * 6 / 10)
        + 2
}

/// Ticks of `n` cells spread over `extent` pixels: `(pixel offset of the cell's centre,
/// index)` every 1, 2, 5, 10, 20, 50 … cells, at least `spacing` pixels apart, with the
/// first and last index always present.
fn index_ticks(n: usize, extent: u32, spacing: u32) -> Vec<(u32, String)> {
    if n == 0 || extent == 0 {
        return Vec::new();
    }
    let per_cell = extent as f64 / n as f64;
    let at = |i: usize| ((i as f64 + 0.5) * per_cell).floor() as u32;
    let step = (0..)
        .flat_map(|e| [1, 2, 5].map(|m| m * 10usize.pow(e)))
        .find(|&s| s as f64 * per_cell >= spacing as f64 || s >= n)
        .unwrap_or(n);
    let mut ticks: Vec<usize> = (0..n).step_by(step).collect();
    let last = n - 1;
    if ticks.last() != Some(&last) {
        if let Some(&prev) = ticks.last() {
            if prev > 0 && at(last) - at(prev) < spacing {
                ticks.pop();
            }
        }
        if ticks
            .last()
            .is_none_or(|&p| at(last) - at(p) >= spacing / 2)
        {
            ticks.push(last);
        }
    }
    ticks.into_iter().map(|i| (at(i), i.to_string())).collect()
}

/// The values a colour bar of `scale` labels: its ends, and 0 (diverging) or the middle
/// (sequential).
fn bar_ticks(scale: Scale) -> Vec<f32> {
    let (lo, hi) = scale.range();
    match scale {
        Scale::Diverging { .. } => vec![lo, 0.0, hi],
        Scale::Sequential { .. } => vec![lo, (lo + hi) / 2.0, hi],
    }
}

/// `v` in at most three significant digits, no longer than [`WIDEST_TICK`]:
/// `0`, `7`, `4.5`, `0.0123`, `250`, `1.5e-5`, `-2.4e4`.
fn tick_label(v: f32) -> String {
    let a = v.abs();
    if !v.is_finite() {
        return v.to_string();
    }
    if a == 0.0 {
        return "0".to_string();
    }
    if (1e-2..1e4).contains(&a) {
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        return s;
    }
    let s = format!("{v:.2e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let m = if m.contains('.') {
                m.trim_end_matches('0').trim_end_matches('.')
            } else {
                m
            };
            format!("{m}e{e}")
        }
        None => s,
    }
}

/// A one-pixel frame just outside the `w × h` rectangle at `(x, y)`.
fn frame(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32) {
    let (iw, ih) = img.dimensions();
    let mut put = |px: i64, py: i64| {
        if px >= 0 && py >= 0 && (px as u32) < iw && (py as u32) < ih {
            img.put_pixel(px as u32, py as u32, FRAME);
        }
    };
    let (x, y, w, h) = (x as i64, y as i64, w as i64, h as i64);
    for px in x - 1..=x + w {
        put(px, y - 1);
        put(px, y + h);
    }
    for py in y..y + h {
        put(x - 1, py);
        put(x + w, py);
    }
}

/// What [`labelled_heatmap`] writes around the matrix.
#[derive(Debug, Clone, Copy)]
pub struct HeatmapLabels<'a> {
    /// The figure title.
    pub title: &'a str,
    /// What the columns are, e.g. "sending neuron".
    pub x: &'a str,
    /// What the rows are, e.g. "receiving neuron".
    pub y: &'a str,
    /// What colour means, e.g. "closeness D".
    pub colour: &'a str,
}

/// A `rows × cols` matrix (row-major) as a labelled heatmap: cells of `cell × cell`
/// pixels (enlarged by a whole factor when the matrix is under 160 pixels a side) under
/// `labels.title`, column indices along the bottom (`labels.x`), row indices down the
/// left side from the top (`labels.y`), and a colour bar of `scale` labelled
/// `labels.colour`.
pub fn labelled_heatmap(
    values: &[f32],
    rows: usize,
    cols: usize,
    cell: u32,
    scale: Scale,
    labels: &HeatmapLabels<'_>,
) -> RgbImage {
    Figure::new(
        labels.title,
        vec![Panel::new("", heatmap(values, rows, cols, cell, scale))],
    )
    .with_axes(labels.x, labels.y, rows, cols)
    .with_colour_bar(scale, labels.colour)
    .render()
}

/// `k` bar charts of `bars` values each (chart after chart, see
/// [`bar_charts`](crate::bar_charts)) in a grid of `grid_cols` columns under `title`,
/// each captioned with its index; `note` (what a panel and its bars are) goes under the
/// title, followed by the bars' shared vertical range. Colour marks each chart's
/// tallest bar and carries no value, so there is no colour bar.
pub fn labelled_bar_grid(
    values: &[f32],
    k: usize,
    bars: usize,
    grid_cols: usize,
    title: &str,
    note: &str,
) -> RgbImage {
    let (lo, hi) = bar_range(values);
    let panels = bar_charts(values, k, bars)
        .into_iter()
        .enumerate()
        .map(|(i, img)| Panel::new(i.to_string(), img))
        .collect();
    let range = format!(
        "bar height: one scale for all panels, {} to {} (black line at 0); dark bar: the largest",
        tick_label(lo),
        tick_label(hi)
    );
    let note = if note.is_empty() {
        range
    } else {
        format!("{note}\n{range}")
    };
    Figure::new(title, panels)
        .with_columns(grid_cols)
        .with_note(note)
        .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHITE: Rgb<u8> = Rgb([255, 255, 255]);

    fn gradient(rows: usize, cols: usize) -> Vec<f32> {
        (0..rows * cols)
            .map(|i| (i as f32 / (rows * cols) as f32) * 2.0 - 1.0)
            .collect()
    }

    #[test]
    fn figure_grows_by_its_margins_and_keeps_the_raster_exact() {
        let scale = Scale::Diverging { max: 1.0 };
        let raster = heatmap(&gradient(216, 990), 216, 990, 1, scale);
        let fig = Figure::new("D", vec![Panel::new("", raster.clone())])
            .with_axes("sending neuron", "receiving neuron", 216, 990)
            .with_colour_bar(scale, "closeness D");
        let layout = fig.layout();
        let img = fig.render();
        assert_eq!(layout.zoom, 1);
        assert_eq!(img.dimensions(), layout.size);
        let (x, y) = layout.rasters[0];
        assert!(x > MARGIN && y > MARGIN + line(TITLE_SIZE));
        assert!(img.width() > x + 990 + BAR_GAP + BAR_W);
        assert!(img.height() > y + 216 + line(TEXT_SIZE));
        for dy in 0..216 {
            for dx in 0..990 {
                assert_eq!(img.get_pixel(x + dx, y + dy), raster.get_pixel(dx, dy));
            }
        }
        // The frame sits just outside the raster.
        assert_eq!(img.get_pixel(x - 1, y - 1), &FRAME);
        assert_eq!(img.get_pixel(x + 990, y + 216), &FRAME);
    }

    #[test]
    fn a_tiny_raster_is_enlarged_by_a_whole_factor() {
        let scale = Scale::Sequential { lo: 0.0, hi: 1.0 };
        let values: Vec<f32> = (0..20 * 21).map(|i| (i % 7) as f32 / 6.0).collect();
        let raster = heatmap(&values, 20, 21, 8, scale);
        let labels = HeatmapLabels {
            title: "tiny",
            x: "column",
            y: "row",
            colour: "value",
        };
        let img = labelled_heatmap(&values, 20, 21, 8, scale, &labels);
        let fig = Figure::new("tiny", vec![Panel::new("", raster.clone())])
            .with_axes("column", "row", 20, 21)
            .with_colour_bar(scale, "value");
        let layout = fig.layout();
        assert_eq!(img, fig.render());
        assert_eq!(layout.zoom, 1);
        let small = heatmap(&values, 20, 21, 2, scale);
        let fig = Figure::new("tiny", vec![Panel::new("", small.clone())]);
        let layout = fig.layout();
        assert_eq!(layout.zoom, 4);
        let img = fig.render();
        let (x, y) = layout.rasters[0];
        for dy in 0..small.height() * 4 {
            for dx in 0..small.width() * 4 {
                assert_eq!(
                    img.get_pixel(x + dx, y + dy),
                    small.get_pixel(dx / 4, dy / 4)
                );
            }
        }
    }

    #[test]
    fn colour_bar_runs_from_the_scale_maximum_down_to_its_minimum() {
        for scale in [
            Scale::Diverging { max: 0.37 },
            Scale::Sequential { lo: 2.0, hi: 9.0 },
        ] {
            let raster = heatmap(&gradient(30, 40), 30, 40, 6, scale);
            let fig =
                Figure::new("bar", vec![Panel::new("a", raster)]).with_colour_bar(scale, "meaning");
            let layout = fig.layout();
            let img = fig.render();
            let r = layout.bar.expect("a colour bar");
            let (lo, hi) = scale.range();
            assert_eq!(img.get_pixel(r.x + r.w / 2, r.y), &scale.colour(hi));
            assert_eq!(
                img.get_pixel(r.x + r.w / 2, r.y + r.h - 1),
                &scale.colour(lo)
            );
            assert_eq!(img.get_pixel(r.x, r.y - 1), &FRAME);
            assert_eq!(r.h, 30 * 6);
        }
    }

    #[test]
    fn colour_bar_ticks_name_its_ends_and_zero() {
        let scale = Scale::Diverging { max: 0.37 };
        let fig = Figure::new(
            "bar",
            vec![Panel::new("", heatmap(&[0.1; 4], 2, 2, 90, scale))],
        )
        .with_colour_bar(scale, "meaning");
        let layout = fig.layout();
        let r = layout.bar.unwrap();
        let labels: Vec<(&str, i32)> = layout
            .texts
            .iter()
            .filter(|t| matches!(t.align, HPos::Left))
            .map(|t| (t.text.as_str(), t.anchor.1))
            .collect();
        assert_eq!(
            labels.iter().map(|l| l.0).collect::<Vec<_>>(),
            ["-0.37", "0", "0.37"]
        );
        // Top tick (0.37) above zero above the bottom tick (-0.37), zero in the middle.
        assert!(labels[2].1 < labels[1].1 && labels[1].1 < labels[0].1);
        let zero = layout
            .marks
            .iter()
            .filter(|m| m.x == r.x + BAR_W + 1)
            .nth(1)
            .unwrap();
        assert_eq!(zero.y, r.y + ((r.h - 1) as f32 / 2.0).round() as u32);
        let img = fig.render();
        let white = img.get_pixel(r.x + 1, zero.y);
        assert!(
            white.0.iter().all(|&c| c > 230),
            "0 should be white, got {white:?}"
        );
    }

    #[test]
    fn title_band_holds_text() {
        let scale = Scale::Sequential { lo: 0.0, hi: 1.0 };
        let raster = heatmap(&gradient(10, 10), 10, 10, 20, scale);
        let fig = Figure::new("A title", vec![Panel::new("", raster)]);
        let img = fig.render();
        let band = MARGIN..MARGIN + line(TITLE_SIZE);
        let inked = band
            .clone()
            .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y) != &WHITE)
            .count();
        assert!(inked > 20, "only {inked} inked pixels in the title band");
        let untitled = Figure::new("", fig.panels.clone()).render();
        assert!(band
            .flat_map(|y| (0..untitled.width()).map(move |x| (x, y)))
            .all(|(x, y)| untitled.get_pixel(x, y) == &WHITE));
    }

    #[test]
    fn panels_sit_in_a_grid_with_captions_and_shared_axes() {
        let scale = Scale::Sequential { lo: 0.0, hi: 1.0 };
        let panels: Vec<Panel> = (0..5)
            .map(|i| {
                Panel::new(
                    format!("epoch {i}"),
                    heatmap(&[0.5; 28 * 28], 28, 28, 4, scale),
                )
            })
            .collect();
        let fig = Figure::new("grid", panels)
            .with_columns(2)
            .with_axes("pixel column", "pixel row", 28, 28)
            .with_colour_bar(scale, "connections");
        let layout = fig.layout();
        let r = &layout.rasters;
        assert_eq!(r[0].1, r[1].1);
        assert!(r[1].0 >= r[0].0 + 112 + GAP_X);
        assert_eq!(r[2].0, r[0].0);
        assert!(r[2].1 >= r[0].1 + 112 + GAP_Y + line(TEXT_SIZE));
        let img = fig.render();
        // Caption ink just above each raster.
        for &(x, y) in r {
            let inked = (y - line(TEXT_SIZE)..y - 1)
                .flat_map(|yy| (x..x + 112).map(move |xx| (xx, yy)))
                .filter(|&(xx, yy)| img.get_pixel(xx, yy) != &WHITE)
                .count();
            assert!(inked > 10);
        }
        // x ticks only under the bottom row, y ticks only left of the first column.
        let below = |(x, y): (u32, u32)| layout.marks.iter().any(|m| m.y == y + 113 && m.x >= x);
        assert!(below(r[4]) && !below(r[0]) && !below(r[2]));
        let left = |(x, y): (u32, u32)| {
            layout
                .marks
                .iter()
                .any(|m| m.x == x - 1 - TICK_LEN && (y..y + 112).contains(&m.y))
        };
        assert!(left(r[0]) && left(r[2]) && !left(r[1]));
    }

    #[test]
    fn index_ticks_cover_first_and_last_cells() {
        let t = index_ticks(990, 990, 48);
        assert_eq!(t.first().unwrap(), &(0, "0".to_string()));
        assert_eq!(t.last().unwrap(), &(989, "989".to_string()));
        assert!(t.windows(2).all(|w| w[1].0 - w[0].0 >= 48));
        let t: Vec<String> = index_ticks(28, 224, 48).into_iter().map(|t| t.1).collect();
        assert_eq!(t, ["0", "10", "20", "27"]);
        let t: Vec<String> = index_ticks(216, 216, 25).into_iter().map(|t| t.1).collect();
        assert_eq!(t, ["0", "50", "100", "150", "215"]);
        assert_eq!(index_ticks(1, 8, 48), [(4, "0".to_string())]);
        assert!(index_ticks(0, 8, 48).is_empty());
    }

    #[test]
    fn tick_labels_are_short() {
        for (v, s) in [
            (0.0, "0"),
            (7.0, "7"),
            (4.5, "4.5"),
            (-0.37, "-0.37"),
            (0.0123, "0.0123"),
            (250.0, "250"),
            (1234.4, "1234"),
            (1.5e-5, "1.5e-5"),
            (-2.4e4, "-2.4e4"),
            (1.0e-3, "1e-3"),
        ] {
            assert_eq!(tick_label(v), s);
            assert!(text_width(s, TICK_SIZE) <= text_width(WIDEST_TICK, TICK_SIZE));
        }
    }

    #[test]
    fn bar_grid_figure_captions_each_chart_and_has_no_colour_bar() {
        let values: Vec<f32> = (0..6 * 10).map(|i| (i % 10) as f32 / 10.0 - 0.2).collect();
        let img = labelled_bar_grid(&values, 6, 10, 3, "labels", "classes 0–9");
        let charts = bar_charts(&values, 6, 10);
        let panels = charts
            .iter()
            .enumerate()
            .map(|(i, c)| Panel::new(i.to_string(), c.clone()))
            .collect();
        let fig = Figure::new("labels", panels).with_columns(3).with_note(
            "classes 0–9\nbar height: one scale for all panels, -0.2 to 0.7 (black line at 0); dark bar: the largest",
        );
        assert_eq!(img, fig.render());
        let layout = fig.layout();
        assert!(layout.bar.is_none());
        let (x, y) = layout.rasters[4];
        for dy in 0..40 {
            for dx in 0..40 {
                assert_eq!(img.get_pixel(x + dx, y + dy), charts[4].get_pixel(dx, dy));
            }
        }
    }

    #[test]
    fn figures_with_the_same_texts_have_the_same_size() {
        let a = labelled_heatmap(
            &[0.001, -0.002, 0.0, 0.0],
            2,
            2,
            50,
            Scale::diverging_for(&[0.001, -0.002]),
            &HeatmapLabels {
                title: "t",
                x: "x",
                y: "y",
                colour: "c",
            },
        );
        let b = labelled_heatmap(
            &[100.0, -3.0, 0.0, 0.0],
            2,
            2,
            50,
            Scale::diverging_for(&[100.0, -3.0]),
            &HeatmapLabels {
                title: "t",
                x: "x",
                y: "y",
                colour: "c",
            },
        );
        assert_eq!(a.dimensions(), b.dimensions());
    }

    #[test]
    fn save_names_the_file_it_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let fig = Figure::new("t", vec![Panel::new("", RgbImage::new(3, 3))]);
        fig.save(&dir.path().join("f.png")).unwrap();
        let err = fig.save(&dir.path().join("missing/f.png")).unwrap_err();
        assert!(err.to_string().contains("missing/f.png"));
    }

    #[test]
    fn degenerate_figures_still_render() {
        let empty = Figure::new("nothing", Vec::new())
            .with_axes("x", "y", 0, 0)
            .with_colour_bar(Scale::Diverging { max: f32::NAN }, "c")
            .render();
        assert!(empty.width() > 2 * MARGIN && empty.height() > 2 * MARGIN + MIN_BAR_H);
        let blank = Figure::new("", vec![Panel::new("", RgbImage::new(0, 0))])
            .with_axes("x", "y", 3, 3)
            .render();
        assert!(blank.width() >= 2 * MARGIN);
    }
}
