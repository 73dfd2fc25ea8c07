//! Page composition and PDF output of the sample: A4 landscape, like the real blanks.
//!
//! Every line is measured with the font's advances and fitted to the width it is given:
//! long names and program titles shrink, then wrap; if the page still overflows, all text
//! scales down together; past that the render fails with [`RenderError::DoesNotFit`]
//! rather than printing anything off the page.
use std::collections::{BTreeMap, BTreeSet};

use lopdf::{Dictionary, Object, StringFormat};
use printpdf::{
    Color, FontId, Op, PaintMode, PdfDocument, PdfFont, PdfFontHandle, PdfPage,
    PdfParseErrorSeverity, PdfSaveOptions, Pt, Rect, Rgb, TextItem, TextMatrix,
};
use sha2::{Digest, Sha256};

use super::fonts::{Face, FontError};
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

/// The large diagonal mark, drawn under everything else.
#[derive(Debug, Clone, PartialEq)]
struct Watermark {
    text: String,
    size: f32,
    angle: f32,
    x: f32,
    y: f32,
}

#[derive(Debug, Clone, PartialEq)]
struct Page {
    watermark: Watermark,
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

/// A block set at its final size, not yet positioned.
struct SetBlock {
    face: Face,
    size: f32,
    lines: Vec<Line>,
    align: Align,
    color: Ink,
    gap_before: f32,
}

impl SetBlock {
    fn new(spec: &Spec<'_>, scale: f32, width: f32) -> Self {
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
        }
    }

    fn height(&self) -> f32 {
        self.gap_before + self.lines.len() as f32 * self.size * LEADING
    }

    /// Places the block's lines from `top` down within `[left, left + width]`; returns the
    /// bottom of the block.
    fn place(&self, top: f32, left: f32, width: f32, out: &mut Vec<PlacedLine>) -> f32 {
        let first_baseline = top - self.gap_before - self.face.metrics().ascent(self.size);
        for (i, line) in self.lines.iter().enumerate() {
            let x = match self.align {
                Align::Left => left,
                Align::Center => left + (width - line.width) / 2.0,
                Align::Right => left + width - line.width,
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

fn fit(size: f32, min_size: f32, max_lines: usize) -> Fit {
    Fit {
        size,
        min_size,
        max_lines,
    }
}

fn compose(t: &PageTexts) -> Result<Page, RenderError> {
    use Face::{Bold, Regular};
    let spec = |text, face, fit, align, color, gap_before| Spec {
        text,
        face,
        fit,
        align,
        color,
        gap_before,
    };
    let header = [
        spec(
            &t.school,
            Regular,
            fit(11.0, 8.0, 2),
            Align::Center,
            GREY,
            0.0,
        ),
        spec(
            &t.title,
            Bold,
            fit(36.0, 20.0, 1),
            Align::Center,
            NAVY,
            14.0,
        ),
        spec(
            &t.subtitle,
            Regular,
            fit(17.0, 11.0, 2),
            Align::Center,
            NAVY,
            0.0,
        ),
    ];
    let body = [
        spec(
            &t.lead_in,
            Regular,
            fit(14.0, 10.0, 2),
            Align::Center,
            INK,
            0.0,
        ),
        spec(&t.name, Bold, fit(28.0, 16.0, 1), Align::Center, INK, 10.0),
        spec(
            &t.completion,
            Regular,
            fit(14.0, 10.0, 3),
            Align::Center,
            INK,
            10.0,
        ),
        spec(
            &t.program,
            Bold,
            fit(17.0, 11.0, 3),
            Align::Center,
            INK,
            6.0,
        ),
        spec(
            &t.volume,
            Regular,
            fit(14.0, 10.0, 1),
            Align::Center,
            INK,
            6.0,
        ),
    ];
    let row_left = spec(
        &t.registration,
        Regular,
        fit(11.0, 8.0, 1),
        Align::Left,
        INK,
        0.0,
    );
    let row_right = spec(
        &t.issued,
        Regular,
        fit(11.0, 8.0, 1),
        Align::Right,
        INK,
        0.0,
    );
    let footer = [
        spec(
            &t.place_and_year,
            Regular,
            fit(11.0, 8.0, 1),
            Align::Center,
            INK,
            8.0,
        ),
        spec(
            &t.disclaimer,
            Regular,
            fit(10.0, 7.0, 2),
            Align::Center,
            WARNING_RED,
            10.0,
        ),
    ];

    let width = CONTENT_RIGHT - CONTENT_LEFT;
    let row_gap = 36.0;
    let half_width = (width - row_gap) / 2.0;
    let available = CONTENT_TOP - CONTENT_BOTTOM;

    let mut scale = 1.0_f32;
    loop {
        let set = |specs: &[Spec<'_>]| -> Vec<SetBlock> {
            specs
                .iter()
                .map(|s| SetBlock::new(s, scale, width))
                .collect()
        };
        let header = set(&header);
        let body = set(&body);
        let footer = set(&footer);
        let left = SetBlock::new(&row_left, scale, half_width);
        let right = SetBlock::new(&row_right, scale, half_width);
        let total = |blocks: &[SetBlock]| blocks.iter().map(SetBlock::height).sum::<f32>();
        let row_height = left.height().max(right.height());
        let header_height = total(&header);
        let body_height = total(&body);
        let footer_height = row_height + total(&footer);
        let needed = header_height + body_height + footer_height + 2.0 * MIN_SECTION_GAP * scale;

        if needed <= available {
            let mut lines = Vec::new();
            let mut top = CONTENT_TOP;
            for block in &header {
                top = block.place(top, CONTENT_LEFT, width, &mut lines);
            }
            // The body sits in the middle of the space between header and footer.
            let footer_top = CONTENT_BOTTOM + footer_height;
            let free = top - footer_top - body_height;
            top -= free / 2.0;
            for block in &body {
                top = block.place(top, CONTENT_LEFT, width, &mut lines);
            }
            let row_bottom = footer_top - row_height;
            left.place(footer_top, CONTENT_LEFT, half_width, &mut lines);
            right.place(
                footer_top,
                CONTENT_RIGHT - half_width,
                half_width,
                &mut lines,
            );
            let mut top = row_bottom;
            for block in &footer {
                top = block.place(top, CONTENT_LEFT, width, &mut lines);
            }
            return Ok(Page {
                watermark: watermark(&t.watermark),
                lines,
            });
        }
        if scale - SCALE_STEP < MIN_SCALE - f32::EPSILON {
            return Err(RenderError::DoesNotFit);
        }
        scale -= SCALE_STEP;
    }
}

/// The watermark runs along the page diagonal, centred on the page.
fn watermark(text: &str) -> Watermark {
    let face = Face::Bold.metrics();
    let angle = PAGE_HEIGHT_PT.atan2(PAGE_WIDTH_PT);
    let diagonal = PAGE_WIDTH_PT.hypot(PAGE_HEIGHT_PT);
    let width_at_1pt = face.width(text, 1.0);
    let size = (WATERMARK_DIAGONAL_SHARE * diagonal / width_at_1pt).min(WATERMARK_MAX_SIZE);
    let half_width = face.width(text, size) / 2.0;
    let half_cap = face.cap_height(size) / 2.0;
    let (sin, cos) = angle.sin_cos();
    // Start of the baseline: from the page centre, back half the text's width along the
    // text direction and down half its cap height across it.
    let x = PAGE_WIDTH_PT / 2.0 - cos * half_width + sin * half_cap;
    let y = PAGE_HEIGHT_PT / 2.0 - sin * half_width - cos * half_cap;
    Watermark {
        text: text.to_string(),
        size,
        angle,
        x,
        y,
    }
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
    let mut ops = vec![Op::SaveGraphicsState];

    let w = &page.watermark;
    let (sin, cos) = w.angle.sin_cos();
    ops.extend([
        Op::StartTextSection,
        Op::SetFont {
            font: PdfFontHandle::External(font_id(Face::Bold)),
            size: Pt(w.size),
        },
        Op::SetFillColor {
            col: WATERMARK_PINK.color(),
        },
        Op::SetTextMatrix {
            matrix: TextMatrix::Raw([cos, sin, -sin, cos, w.x, w.y]),
        },
        Op::ShowText {
            items: vec![TextItem::Text(w.text.clone())],
        },
        Op::EndTextSection,
    ]);

    ops.extend([
        Op::SetOutlineColor { col: NAVY.color() },
        Op::SetOutlineThickness { pt: Pt(1.6) },
        frame(FRAME_OUTER_INSET),
        Op::SetOutlineThickness { pt: Pt(0.6) },
        frame(FRAME_INNER_INSET),
    ]);

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

fn frame(inset: f32) -> Op {
    Op::DrawRectangle {
        rectangle: Rect {
            mode: Some(PaintMode::Stroke),
            ..Rect::from_xywh(
                Pt(inset),
                Pt(inset),
                Pt(PAGE_WIDTH_PT - 2.0 * inset),
                Pt(PAGE_HEIGHT_PT - 2.0 * inset),
            )
        },
    }
}

fn write_pdf(page: &Page, texts: &PageTexts) -> Result<Vec<u8>, RenderError> {
    let mut chars_by_face: BTreeMap<Face, BTreeSet<char>> = BTreeMap::new();
    chars_by_face
        .entry(Face::Bold)
        .or_default()
        .extend(page.watermark.text.chars());
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
    fn watermark_is_centred_on_the_page() {
        let w = watermark("ОБРАЗЕЦ");
        let face = Face::Bold.metrics();
        let (sin, cos) = w.angle.sin_cos();
        let along = face.width(&w.text, w.size) / 2.0;
        let across = face.cap_height(w.size) / 2.0;
        let centre_x = w.x + cos * along - sin * across;
        let centre_y = w.y + sin * along + cos * across;
        assert!((centre_x - PAGE_WIDTH_PT / 2.0).abs() < 0.5, "{centre_x}");
        assert!((centre_y - PAGE_HEIGHT_PT / 2.0).abs() < 0.5, "{centre_y}");
        assert!(w.size > 60.0 && w.size <= WATERMARK_MAX_SIZE, "{}", w.size);
    }
}
