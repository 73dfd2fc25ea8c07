//! Page composition and PDF output of the sample: A4 landscape, like the real blanks.
//!
//! Every line is measured with the font's advances and fitted to the width it is given:
//! long names and program titles shrink, then wrap; if the page still overflows, all text
//! scales down together; past that the render fails with [`RenderError::DoesNotFit`]
//! rather than printing anything off the page.
use std::collections::{BTreeMap, BTreeSet};

use lopdf::{Dictionary, Object, StringFormat};
use printpdf::{
    Color, CurTransMat, FontId, LinePoint, Op, PaintMode, PdfDocument, PdfFont, PdfFontHandle,
    PdfPage, PdfParseErrorSeverity, PdfSaveOptions, Point, Polygon, PolygonRing, Pt, Rect, Rgb,
    TextItem, TextMatrix, WindingOrder,
};
use sha2::{Digest, Sha256};

use super::fonts::{Contour, Face, FontError};
use super::layout::{fit_text, Fit, Line};
use super::wording::{strip_invisible_controls, SampleWording};
use super::SampleData;

/// A4 landscape, in points (297 × 210 mm).
pub const PAGE_WIDTH_PT: f32 = 841.889_8;
pub const PAGE_HEIGHT_PT: f32 = 595.275_6;

/// The text column: left and right edges, top and bottom limits, in points.
const CONTENT_LEFT: f32 = 64.0;
const CONTENT_RIGHT: f32 = PAGE_WIDTH_PT - 64.0;
const CONTENT_TOP: f32 = PAGE_HEIGHT_PT - 54.0;
const CONTENT_BOTTOM: f32 = 44.0;
/// Double frame: outer and inner insets from the page edge.
const FRAME_OUTER_INSET: f32 = 22.0;
const FRAME_INNER_INSET: f32 = 27.0;
/// Baseline-to-baseline distance, as a multiple of the type size.
const LEADING: f32 = 1.25;
/// Least free space kept between the header, the body and the footer.
const MIN_SECTION_GAP: f32 = 16.0;
/// How far all text may shrink together before the page is declared overfull.
const MIN_SCALE: f32 = 0.6;
const SCALE_STEP: f32 = 0.05;
/// The watermark spans at most this share of the page diagonal.
const WATERMARK_DIAGONAL_SHARE: f32 = 0.62;
const WATERMARK_MAX_SIZE: f32 = 150.0;

/// An RGB colour, each channel 0.0 to 1.0.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ink(f32, f32, f32);

impl Ink {
    fn color(self) -> Color {
        Color::Rgb(Rgb {
            r: self.0,
            g: self.1,
            b: self.2,
            icc_profile: None,
        })
    }
}

const INK: Ink = Ink(0.08, 0.08, 0.1);
const NAVY: Ink = Ink(0.1, 0.19, 0.42);
const GREY: Ink = Ink(0.3, 0.3, 0.33);
const WARNING_RED: Ink = Ink(0.68, 0.08, 0.08);
const WATERMARK_PINK: Ink = Ink(0.97, 0.83, 0.83);

/// Which input a [`RenderError`] is about, so the caller can tell the learner or the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    FullName,
    ProgramTitle,
    SchoolName,
    RegistrationNumber,
    City,
    /// A [`SampleWording`] field, by its name: a Fluent text problem, not the learner's.
    Wording(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{field:?} is empty")]
    EmptyField { field: Field },
    /// The fonts cannot print this character (an emoji in a name, say).
    #[error("{field:?} contains {character:?} (U+{:04X}), which the document font cannot print", u32::from(*character))]
    UnsupportedCharacter { field: Field, character: char },
    /// Even at the smallest type size the text would run off the page.
    #[error("the sample does not fit on one page even at the smallest type size")]
    DoesNotFit,
    #[error(transparent)]
    Font(#[from] FontError),
    #[error("PDF serialization: {0}")]
    Pdf(String),
}

/// Hex SHA-256 of the PDF bytes: a stable identity of a sample, since the same input always
/// renders to the same bytes.
pub fn sha256_hex(pdf: &[u8]) -> String {
    hex::encode(Sha256::digest(pdf))
}

/// The sample as PDF bytes: one A4 landscape page, DejaVu Serif subset and embedded, text
/// extractable (Identity-H with `/ToUnicode`), no timestamps, so equal input gives equal bytes.
pub fn render_sample(data: &SampleData, wording: &SampleWording) -> Result<Vec<u8>, RenderError> {
    let texts = PageTexts::checked(data, wording)?;
    let page = compose(&texts)?;
    write_pdf(&page, &texts)
}

/// Every string the page prints, cleaned and checked against the fonts.
struct PageTexts {
    school: String,
    title: String,
    subtitle: String,
    lead_in: String,
    name: String,
    completion: String,
    program: String,
    volume: String,
    registration: String,
    issued: String,
    place_and_year: String,
    disclaimer: String,
    watermark: String,
}

impl PageTexts {
    fn checked(data: &SampleData, wording: &SampleWording) -> Result<Self, RenderError> {
        // Data first, so a bad character in the name is reported as the name's, not as the
        // wording's that quotes it.
        let name = clean(&data.full_name, Field::FullName)?;
        clean(&data.program_title, Field::ProgramTitle)?;
        let school = clean(&data.school_name, Field::SchoolName)?;
        clean(&data.registration_number, Field::RegistrationNumber)?;
        clean(&data.city, Field::City)?;
        let w = |text: &str, field: &'static str| clean(text, Field::Wording(field));
        Ok(Self {
            school,
            title: w(&wording.title, "title")?,
            subtitle: w(&wording.subtitle, "subtitle")?,
            lead_in: w(&wording.lead_in, "lead_in")?,
            name,
            completion: w(&wording.completion, "completion")?,
            program: w(&wording.program, "program")?,
            volume: w(&wording.volume, "volume")?,
            registration: w(&wording.registration, "registration")?,
            issued: w(&wording.issued, "issued")?,
            place_and_year: w(&wording.place_and_year, "place_and_year")?,
            disclaimer: w(&wording.disclaimer, "disclaimer")?,
            watermark: w(&wording.watermark, "watermark")?,
        })
    }
}

/// Drops invisible controls, turns any run of whitespace (line breaks from a multi-line
/// Fluent message included) into one space, keeps no-break spaces, and refuses characters
/// the fonts lack.
fn clean(text: &str, field: Field) -> Result<String, RenderError> {
    let visible = strip_invisible_controls(text);
    let words: Vec<&str> = visible
        .split(|c: char| c.is_whitespace() && c != '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect();
    let cleaned = words.join(" ");
    if cleaned.trim_matches('\u{a0}').is_empty() {
        return Err(RenderError::EmptyField { field });
    }
    for character in cleaned.chars() {
        if !Face::ALL.iter().all(|f| f.metrics().has_char(character)) {
            return Err(RenderError::UnsupportedCharacter { field, character });
        }
    }
    Ok(cleaned)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Align {
    Left,
    Center,
    Right,
}

/// One line placed on the page: baseline origin in points from the lower-left corner.
#[derive(Debug, Clone, PartialEq)]
struct PlacedLine {
    face: Face,
    size: f32,
    color: Ink,
    x: f32,
    baseline: f32,
    text: String,
}

/// The large diagonal mark under the text, drawn as glyph outlines (a path, not text), so
/// copying or extracting the page's text is not littered with its letters. The same word
/// is printed as text in the stamp beside the title.
#[derive(Debug, Clone, PartialEq)]
struct Watermark {
    contours: Vec<Contour>,
    /// Text space to page: rotation about the baseline origin, then translation.
    matrix: [f32; 6],
}

/// A stroked rectangle: the page frame and the stamp's box.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Outline {
    x: f32,
    y: f32,
    width: f32,
    height: f32,
    thickness: f32,
    color: Ink,
}

#[derive(Debug, Clone, PartialEq)]
struct Page {
    watermark: Watermark,
    boxes: Vec<Outline>,
    lines: Vec<PlacedLine>,
}

/// A block of text before placement: what to set, how, and the space above it.
#[derive(Clone, Copy)]
struct Spec<'a> {
    text: &'a str,
    face: Face,
    fit: Fit,
    align: Align,
    color: Ink,
    gap_before: f32,
}

impl<'a> Spec<'a> {
    fn new(text: &'a str, face: Face, (size, min_size, max_lines): (f32, f32, usize)) -> Self {
        Self {
            text,
            face,
            fit: Fit {
                size,
                min_size,
                max_lines,
            },
            align: Align::Center,
            color: INK,
            gap_before: 0.0,
        }
    }

    fn color(self, color: Ink) -> Self {
        Self { color, ..self }
    }

    fn align(self, align: Align) -> Self {
        Self { align, ..self }
    }

    fn gap(self, gap_before: f32) -> Self {
        Self { gap_before, ..self }
    }
}

/// A block set at its final size for a column, not yet positioned vertically.
struct SetBlock {
    face: Face,
    size: f32,
    lines: Vec<Line>,
    align: Align,
    color: Ink,
    gap_before: f32,
    left: f32,
    width: f32,
}

impl SetBlock {
    fn new(spec: &Spec<'_>, scale: f32, left: f32, width: f32) -> Self {
        let (size, lines) = fit_text(
            spec.face.metrics(),
            spec.text,
            spec.fit.scaled(scale),
            width,
        );
        Self {
            face: spec.face,
            size,
            lines,
            align: spec.align,
            color: spec.color,
            gap_before: spec.gap_before * scale,
            left,
            width,
        }
    }

    fn height(&self) -> f32 {
        self.gap_before + self.lines.len() as f32 * self.size * LEADING
    }

    fn first_baseline(&self, top: f32) -> f32 {
        top - self.gap_before - self.face.metrics().ascent(self.size)
    }

    /// Places the block's lines from `top` down; returns the bottom of the block.
    fn place(&self, top: f32, out: &mut Vec<PlacedLine>) -> f32 {
        let first_baseline = self.first_baseline(top);
        for (i, line) in self.lines.iter().enumerate() {
            let x = match self.align {
                Align::Left => self.left,
                Align::Center => self.left + (self.width - line.width) / 2.0,
                Align::Right => self.left + self.width - line.width,
            };
            out.push(PlacedLine {
                face: self.face,
                size: self.size,
                color: self.color,
                x,
                baseline: first_baseline - i as f32 * self.size * LEADING,
                text: line.text.clone(),
            });
        }
        top - self.height()
    }
}

fn total_height(blocks: &[SetBlock]) -> f32 {
    blocks.iter().map(SetBlock::height).sum()
}

/// Lays the page out at the largest common scale (1.0 down to [`MIN_SCALE`]) at which
/// header, body and footer fit between the margins.
fn compose(t: &PageTexts) -> Result<Page, RenderError> {
    use Face::{Bold, Regular};
    let school = Spec::new(&t.school, Regular, (11.0, 8.0, 2)).color(GREY);
    let title = Spec::new(&t.title, Bold, (36.0, 20.0, 1))
        .color(NAVY)
        .gap(14.0);
    let subtitle = Spec::new(&t.subtitle, Regular, (17.0, 11.0, 2)).color(NAVY);
    let body = [
        Spec::new(&t.lead_in, Regular, (14.0, 10.0, 2)),
        Spec::new(&t.name, Bold, (28.0, 16.0, 1)).gap(10.0),
        Spec::new(&t.completion, Regular, (14.0, 10.0, 3)).gap(10.0),
        Spec::new(&t.program, Bold, (17.0, 11.0, 3)).gap(6.0),
        Spec::new(&t.volume, Regular, (14.0, 10.0, 1)).gap(6.0),
    ];
    let registration = Spec::new(&t.registration, Regular, (11.0, 8.0, 1)).align(Align::Left);
    let issued = Spec::new(&t.issued, Regular, (11.0, 8.0, 1)).align(Align::Right);
    let footer = [
        Spec::new(&t.place_and_year, Regular, (11.0, 8.0, 1)).gap(8.0),
        Spec::new(&t.disclaimer, Regular, (10.0, 7.0, 2))
            .color(WARNING_RED)
            .gap(10.0),
    ];

    let width = CONTENT_RIGHT - CONTENT_LEFT;
    let half_width = (width - 36.0) / 2.0;
    let available = CONTENT_TOP - CONTENT_BOTTOM;

    let mut scale = 1.0_f32;
    loop {
        let full = |spec: &Spec<'_>| SetBlock::new(spec, scale, CONTENT_LEFT, width);
        let stamp = Stamp::new(&t.watermark, scale);
        // The title keeps clear of the stamp on its right, and stays centred.
        let title_inset = stamp.width + 16.0 * scale;
        let header = [
            full(&school),
            SetBlock::new(
                &title,
                scale,
                CONTENT_LEFT + title_inset,
                width - 2.0 * title_inset,
            ),
            full(&subtitle),
        ];
        let body: Vec<SetBlock> = body.iter().map(full).collect();
        let footer: Vec<SetBlock> = footer.iter().map(full).collect();
        let registration = SetBlock::new(&registration, scale, CONTENT_LEFT, half_width);
        let issued = SetBlock::new(&issued, scale, CONTENT_RIGHT - half_width, half_width);
        let row_height = registration.height().max(issued.height());
        let header_height = total_height(&header).max(header[0].height() + stamp.height);
        let body_height = total_height(&body);
        let footer_height = row_height + total_height(&footer);
        let needed = header_height + body_height + footer_height + 2.0 * MIN_SECTION_GAP * scale;
        if needed > available {
            if scale - SCALE_STEP < MIN_SCALE - f32::EPSILON {
                return Err(RenderError::DoesNotFit);
            }
            scale -= SCALE_STEP;
            continue;
        }

        let mut lines = Vec::new();
        let mut boxes = frame();
        let mut top = CONTENT_TOP;
        top = header[0].place(top, &mut lines);
        let title_baseline = header[1].first_baseline(top);
        let title_cap_middle = title_baseline + Bold.metrics().cap_height(header[1].size) / 2.0;
        stamp.place(title_cap_middle, &mut lines, &mut boxes);
        for block in &header[1..] {
            top = block.place(top, &mut lines);
        }
        // The body sits in the middle of the space between header and footer.
        let footer_top = CONTENT_BOTTOM + footer_height;
        top -= (top - footer_top - body_height) / 2.0;
        for block in &body {
            top = block.place(top, &mut lines);
        }
        registration.place(footer_top, &mut lines);
        issued.place(footer_top, &mut lines);
        let mut top = footer_top - row_height;
        for block in &footer {
            top = block.place(top, &mut lines);
        }
        return Ok(Page {
            watermark: watermark(&t.watermark)?,
            boxes,
            lines,
        });
    }
}

/// The word «ОБРАЗЕЦ» as text in a red box at the right end of the title line, like a
/// rubber stamp.
struct Stamp {
    text: String,
    size: f32,
    padding: f32,
    width: f32,
    height: f32,
}

impl Stamp {
    fn new(text: &str, scale: f32) -> Self {
        let face = Face::Bold.metrics();
        let size = 15.0 * scale;
        let padding = 6.0 * scale;
        Self {
            text: text.to_string(),
            size,
            padding,
            width: face.width(text, size) + 2.0 * padding,
            height: face.cap_height(size) + 2.0 * padding,
        }
    }

    fn place(&self, middle: f32, lines: &mut Vec<PlacedLine>, boxes: &mut Vec<Outline>) {
        let face = Face::Bold.metrics();
        let left = CONTENT_RIGHT - self.width;
        let bottom = middle - self.height / 2.0;
        boxes.push(Outline {
            x: left,
            y: bottom,
            width: self.width,
            height: self.height,
            thickness: 1.4,
            color: WARNING_RED,
        });
        lines.push(PlacedLine {
            face: Face::Bold,
            size: self.size,
            color: WARNING_RED,
            x: left + self.padding,
            baseline: middle - face.cap_height(self.size) / 2.0,
            text: self.text.clone(),
        });
    }
}

/// The double frame around the page.
fn frame() -> Vec<Outline> {
    let outline = |inset: f32, thickness: f32| Outline {
        x: inset,
        y: inset,
        width: PAGE_WIDTH_PT - 2.0 * inset,
        height: PAGE_HEIGHT_PT - 2.0 * inset,
        thickness,
        color: NAVY,
    };
    vec![
        outline(FRAME_OUTER_INSET, 1.6),
        outline(FRAME_INNER_INSET, 0.6),
    ]
}

/// The watermark runs along the page diagonal, centred on the page.
fn watermark(text: &str) -> Result<Watermark, RenderError> {
    let face = Face::Bold.metrics();
    let angle = PAGE_HEIGHT_PT.atan2(PAGE_WIDTH_PT);
    let diagonal = PAGE_WIDTH_PT.hypot(PAGE_HEIGHT_PT);
    let size =
        (WATERMARK_DIAGONAL_SHARE * diagonal / face.width(text, 1.0)).min(WATERMARK_MAX_SIZE);
    let (x, y) = watermark_origin(face.width(text, size), face.cap_height(size), angle);
    let (sin, cos) = angle.sin_cos();
    Ok(Watermark {
        contours: face.outline(text, size)?,
        matrix: [cos, sin, -sin, cos, x, y],
    })
}

/// Where the baseline of a text `width` wide and `cap_height` tall starts so that, turned
/// by `angle`, the text's middle falls on the page centre: back half the width along the
/// text direction and down half the cap height across it.
fn watermark_origin(width: f32, cap_height: f32, angle: f32) -> (f32, f32) {
    let (sin, cos) = angle.sin_cos();
    let (half_width, half_cap) = (width / 2.0, cap_height / 2.0);
    (
        PAGE_WIDTH_PT / 2.0 - cos * half_width + sin * half_cap,
        PAGE_HEIGHT_PT / 2.0 - sin * half_width - cos * half_cap,
    )
}

fn font_id(face: Face) -> FontId {
    FontId(
        match face {
            Face::Regular => "F1",
            Face::Bold => "F2",
        }
        .to_string(),
    )
}

fn page_ops(page: &Page) -> Vec<Op> {
    let mut ops = vec![
        Op::SaveGraphicsState,
        Op::SetTransformationMatrix {
            matrix: CurTransMat::Raw(page.watermark.matrix),
        },
        Op::SetFillColor {
            col: WATERMARK_PINK.color(),
        },
        Op::DrawPolygon {
            polygon: Polygon {
                rings: page
                    .watermark
                    .contours
                    .iter()
                    .map(|contour| PolygonRing {
                        points: contour
                            .iter()
                            .map(|&(x, y, control)| LinePoint {
                                p: Point { x: Pt(x), y: Pt(y) },
                                bezier: control,
                            })
                            .collect(),
                    })
                    .collect(),
                mode: PaintMode::Fill,
                // TrueType outlines are drawn for the non-zero winding rule.
                winding_order: WindingOrder::NonZero,
            },
        },
        Op::RestoreGraphicsState,
        Op::SaveGraphicsState,
    ];

    for b in &page.boxes {
        ops.extend([
            Op::SetOutlineColor {
                col: b.color.color(),
            },
            Op::SetOutlineThickness {
                pt: Pt(b.thickness),
            },
            Op::DrawRectangle {
                rectangle: Rect {
                    mode: Some(PaintMode::Stroke),
                    ..Rect::from_xywh(Pt(b.x), Pt(b.y), Pt(b.width), Pt(b.height))
                },
            },
        ]);
    }

    ops.push(Op::StartTextSection);
    let mut font: Option<(Face, f32)> = None;
    let mut color: Option<Ink> = None;
    for line in &page.lines {
        if font != Some((line.face, line.size)) {
            ops.push(Op::SetFont {
                font: PdfFontHandle::External(font_id(line.face)),
                size: Pt(line.size),
            });
            font = Some((line.face, line.size));
        }
        if color != Some(line.color) {
            ops.push(Op::SetFillColor {
                col: line.color.color(),
            });
            color = Some(line.color);
        }
        ops.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(Pt(line.x), Pt(line.baseline)),
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(line.text.clone())],
        });
    }
    ops.push(Op::EndTextSection);
    ops.push(Op::RestoreGraphicsState);
    ops
}

fn write_pdf(page: &Page, texts: &PageTexts) -> Result<Vec<u8>, RenderError> {
    let mut chars_by_face: BTreeMap<Face, BTreeSet<char>> = BTreeMap::new();
    for line in &page.lines {
        chars_by_face
            .entry(line.face)
            .or_default()
            .extend(line.text.chars());
    }

    let title = format!(
        "{}: {} {} — {}",
        texts.watermark, texts.title, texts.subtitle, texts.name
    );
    let mut doc = PdfDocument::new(&title);
    for (face, chars) in &chars_by_face {
        let font = face.metrics().subset(chars)?;
        doc.resources
            .fonts
            .map
            .insert(font_id(*face), PdfFont::new(font));
    }
    let ops = page_ops(page);
    let fingerprint = fingerprint(&ops)?;
    doc.pages.push(PdfPage::new(
        Pt(PAGE_WIDTH_PT).into(),
        Pt(PAGE_HEIGHT_PT).into(),
        ops,
    ));

    let options = PdfSaveOptions {
        optimize: true,
        // Already subset above; printpdf's own subsetting needs its `text_layout` feature.
        subset_fonts: false,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lo = printpdf::serialize::to_lopdf_doc(&doc, &options, &mut warnings);
    if let Some(error) = warnings
        .iter()
        .find(|w| w.severity == PdfParseErrorSeverity::Error)
    {
        return Err(RenderError::Pdf(error.msg.clone()));
    }
    make_reproducible(&mut lo, &title, &fingerprint)?;
    lo.compress();
    let mut bytes = Vec::new();
    lo.save_to(&mut bytes)
        .map_err(|e| RenderError::Pdf(e.to_string()))?;
    Ok(bytes)
}

/// A digest of everything drawn: the content operators, which carry every string, size,
/// position and colour.
fn fingerprint(ops: &[Op]) -> Result<[u8; 16], RenderError> {
    let json = serde_json::to_vec(ops).map_err(|e| RenderError::Pdf(e.to_string()))?;
    let digest = Sha256::digest(&json);
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    Ok(id)
}

/// printpdf stamps a per-process counter into the trailer `/ID` and writes empty or epoch
/// entries into `/Info`. Replace both with values that depend on the content alone.
fn make_reproducible(
    lo: &mut lopdf::Document,
    title: &str,
    fingerprint: &[u8; 16],
) -> Result<(), RenderError> {
    let id = Object::String(fingerprint.to_vec(), StringFormat::Hexadecimal);
    lo.trailer.set("ID", Object::Array(vec![id.clone(), id]));

    let info_id = lo
        .trailer
        .get(b"Info")
        .and_then(Object::as_reference)
        .map_err(|e| RenderError::Pdf(format!("trailer has no /Info: {e}")))?;
    let mut info = Dictionary::new();
    info.set("Title", utf16_text(title));
    info.set("Producer", utf16_text("uchbot"));
    lo.objects.insert(info_id, Object::Dictionary(info));
    Ok(())
}

/// A PDF text string in UTF-16BE with a byte order mark, the form that carries Cyrillic.
fn utf16_text(text: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    Object::String(bytes, StringFormat::Hexadecimal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_collapses_whitespace_and_keeps_no_break_spaces() {
        assert_eq!(
            clean("  Иванова\n Мария\tСергеевна ", Field::FullName).unwrap(),
            "Иванова Мария Сергеевна"
        );
        assert_eq!(
            clean("72\u{a0}часа", Field::Wording("volume")).unwrap(),
            "72\u{a0}часа"
        );
    }

    #[test]
    fn clean_names_the_field_of_an_unprintable_character_or_an_empty_text() {
        match clean("Иванова 🙂", Field::FullName) {
            Err(RenderError::UnsupportedCharacter { field, character }) => {
                assert_eq!(field, Field::FullName);
                assert_eq!(character, '🙂');
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            clean(" \u{2068}\u{2069} ", Field::City),
            Err(RenderError::EmptyField { field: Field::City })
        ));
    }

    #[test]
    fn watermark_is_centred_on_the_page_and_runs_along_its_diagonal() {
        let face = Face::Bold.metrics();
        let w = watermark("ОБРАЗЕЦ").unwrap();
        let [cos, sin, _, _, x, y] = w.matrix;
        let to_page = |px: f32, py: f32| (x + cos * px - sin * py, y + sin * px + cos * py);
        // The ink's middle (in the text's own frame: its x extent, half the cap height)
        // lands on the page centre, within the glyphs' side bearings.
        let xs = w.contours.iter().flatten().map(|p| p.0);
        let (min_x, max_x) = xs.fold((f32::MAX, f32::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
        let size = w
            .contours
            .iter()
            .flatten()
            .map(|p| p.1)
            .fold(f32::MIN, f32::max)
            / 0.73;
        let (cx, cy) = to_page((min_x + max_x) / 2.0, face.cap_height(size) / 2.0);
        assert!((cx - PAGE_WIDTH_PT / 2.0).abs() < 5.0, "{cx}");
        assert!((cy - PAGE_HEIGHT_PT / 2.0).abs() < 5.0, "{cy}");
        // Every point of the drawing stays inside the frame.
        for &(px, py, _) in w.contours.iter().flatten() {
            let (qx, qy) = to_page(px, py);
            assert!(qx > FRAME_INNER_INSET && qx < PAGE_WIDTH_PT - FRAME_INNER_INSET);
            assert!(qy > FRAME_INNER_INSET && qy < PAGE_HEIGHT_PT - FRAME_INNER_INSET);
        }
        let diagonal_angle = PAGE_HEIGHT_PT.atan2(PAGE_WIDTH_PT);
        assert!((sin.atan2(cos) - diagonal_angle).abs() < 1e-5);
    }
}
