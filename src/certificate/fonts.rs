//! The two faces the sample is set in (DejaVu Serif, regular and bold), compiled into the
//! binary, their metrics for measuring text, and subsetting to the glyphs a page uses.
//!
//! Subsetting happens here rather than in printpdf: printpdf 0.12 subsets only with its
//! `text_layout` feature, which drags in the whole azul layout stack. We call allsorts (the
//! subsetter printpdf uses) ourselves and hand printpdf the small font, with the character to
//! glyph map we know to be right, so the content stream, `/W` widths and `/ToUnicode` agree.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::outline::{OutlineBuilder, OutlineSink};
use allsorts::pathfinder_geometry::line_segment::LineSegment2F;
use allsorts::pathfinder_geometry::vector::Vector2F;
use allsorts::subset::{subset, CmapTarget, SubsetProfile};
use allsorts::tables::glyf::{GlyfVisitorContext, LocaGlyf};
use allsorts::tables::loca::{owned, LocaTable};
use allsorts::tables::{FontTableProvider, HeadTable, MaxpTable};
use allsorts::tag;
use printpdf::ParsedFont;
use sha2::{Digest, Sha256};

const SERIF_REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSerif.ttf");
const SERIF_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSerif-Bold.ttf");

/// Which of the two faces a piece of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Face {
    Regular,
    Bold,
}

impl Face {
    pub const ALL: [Face; 2] = [Face::Regular, Face::Bold];

    pub fn metrics(self) -> &'static FaceMetrics {
        static FACES: OnceLock<[FaceMetrics; 2]> = OnceLock::new();
        let faces = FACES.get_or_init(|| {
            [
                FaceMetrics::parse("DejaVuSerif", SERIF_REGULAR),
                FaceMetrics::parse("DejaVuSerif-Bold", SERIF_BOLD),
            ]
        });
        match self {
            Face::Regular => &faces[0],
            Face::Bold => &faces[1],
        }
    }
}

/// What layout needs to know about a face: which characters it can draw and how wide they are.
#[derive(Debug)]
pub struct FaceMetrics {
    postscript_name: &'static str,
    bytes: &'static [u8],
    units_per_em: f32,
    glyph_of: BTreeMap<u32, u16>,
    advance_of: BTreeMap<u16, u16>,
    /// Height of capital letters above the baseline, in em; only centres the watermark.
    cap_height_em: f32,
    /// How far the tallest glyphs rise above the baseline, in em (hhea ascender).
    ascent_em: f32,
}

impl FaceMetrics {
    fn parse(postscript_name: &'static str, bytes: &'static [u8]) -> Self {
        let mut warnings = Vec::new();
        // The fonts are compiled in and covered by tests: failing here is a build defect.
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut warnings)
            .unwrap_or_else(|| panic!("embedded font {postscript_name} does not parse"));
        let units_per_em = f32::from(parsed.units_per_em);
        Self {
            postscript_name,
            bytes,
            units_per_em,
            glyph_of: parsed.codepoint_to_glyph,
            advance_of: parsed.glyph_widths,
            // DejaVu's OS/2 table (version 1) has no sCapHeight; its capitals stand 0.73 em.
            cap_height_em: 0.73,
            ascent_em: f32::from(parsed.font_metrics.ascent) / units_per_em,
        }
    }

    pub fn has_char(&self, ch: char) -> bool {
        self.glyph_of.contains_key(&u32::from(ch))
    }

    pub fn cap_height(&self, size: f32) -> f32 {
        self.cap_height_em * size
    }

    pub fn ascent(&self, size: f32) -> f32 {
        self.ascent_em * size
    }

    /// Advance width of `text` at `size` points, in points. Characters the face lacks
    /// count as zero: callers reject such text before layout.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .filter_map(|ch| self.glyph_of.get(&u32::from(ch)))
            .filter_map(|gid| self.advance_of.get(gid))
            .map(|&advance| u32::from(advance))
            .sum();
        units as f32 * size / self.units_per_em
    }

    /// A font program holding only the glyphs of `chars` (plus `.notdef`), ready for printpdf.
    pub fn subset(&self, chars: &BTreeSet<char>) -> Result<ParsedFont, FontError> {
        let err = |reason: String| FontError {
            font: self.postscript_name,
            reason,
        };
        let font_file = ReadScope::new(self.bytes)
            .read::<FontData<'_>>()
            .map_err(|e| err(e.to_string()))?;
        let provider = font_file
            .table_provider(0)
            .map_err(|e| err(e.to_string()))?;

        // allsorts renumbers the i-th requested glyph to i; `.notdef` must come first.
        let mut glyph_ids: Vec<u16> = vec![0];
        let mut new_glyph_of = BTreeMap::new();
        for &ch in chars {
            let Some(&gid) = self.glyph_of.get(&u32::from(ch)) else {
                return Err(err(format!("no glyph for {ch:?}")));
            };
            let new_gid = match glyph_ids.iter().position(|&g| g == gid) {
                Some(pos) => pos,
                None => {
                    glyph_ids.push(gid);
                    glyph_ids.len() - 1
                }
            };
            let new_gid = u16::try_from(new_gid).map_err(|_| err("too many glyphs".into()))?;
            new_glyph_of.insert(u32::from(ch), new_gid);
        }

        let program = subset(
            &provider,
            &glyph_ids,
            &SubsetProfile::Pdf,
            CmapTarget::Unicode,
        )
        .map_err(|e| err(e.to_string()))?;
        let mut warnings = Vec::new();
        let mut font = ParsedFont::from_bytes(&program, 0, &mut warnings)
            .ok_or_else(|| err("the subset font does not parse".into()))?;
        // The authoritative map is the renumbering above, not the subset's own cmap.
        font.codepoint_to_glyph = new_glyph_of;
        font.font_name = Some(format!(
            "{}+{}",
            subset_tag(self.postscript_name, chars),
            self.postscript_name
        ));
        Ok(font)
    }
}

/// One closed contour of a glyph outline, in points: `(x, y, is_cubic_control_point)`.
pub type Contour = Vec<(f32, f32, bool)>;

impl FaceMetrics {
    /// The outlines of `text` set at `size` points, the baseline starting at the origin:
    /// drawn as paths, the text shows but is not extractable as text.
    pub fn outline(&self, text: &str, size: f32) -> Result<Vec<Contour>, FontError> {
        let err = |reason: String| FontError {
            font: self.postscript_name,
            reason,
        };
        let font_file = ReadScope::new(self.bytes)
            .read::<FontData<'_>>()
            .map_err(|e| err(e.to_string()))?;
        let provider = font_file
            .table_provider(0)
            .map_err(|e| err(e.to_string()))?;
        let table = |tag| {
            provider
                .read_table_data(tag)
                .map_err(|e| err(format!("table {tag:08x}: {e}")))
        };
        let head_data = table(tag::HEAD)?;
        let head = ReadScope::new(&head_data)
            .read::<HeadTable>()
            .map_err(|e| err(e.to_string()))?;
        let maxp_data = table(tag::MAXP)?;
        let maxp = ReadScope::new(&maxp_data)
            .read::<MaxpTable>()
            .map_err(|e| err(e.to_string()))?;
        let loca_data = table(tag::LOCA)?;
        let loca = ReadScope::new(&loca_data)
            .read_dep::<LocaTable<'_>>((maxp.num_glyphs, head.index_to_loc_format))
            .map_err(|e| err(e.to_string()))?;
        let glyf_data: Box<[u8]> = table(tag::GLYF)?.into_owned().into_boxed_slice();
        let mut loca_glyf = LocaGlyf::loaded(owned::LocaTable::from(&loca), glyf_data);
        let mut glyphs = GlyfVisitorContext::new(&mut loca_glyf, None);

        let mut sink = PathSink {
            scale: size / self.units_per_em,
            pen_x: 0.0,
            last: (0.0, 0.0),
            contours: Vec::new(),
        };
        for ch in text.chars() {
            let gid = *self
                .glyph_of
                .get(&u32::from(ch))
                .ok_or_else(|| err(format!("no glyph for {ch:?}")))?;
            glyphs
                .visit(gid, None, &mut sink)
                .map_err(|e| err(e.to_string()))?;
            let advance = self.advance_of.get(&gid).copied().unwrap_or(0);
            sink.pen_x += f32::from(advance) * sink.scale;
        }
        sink.contours.retain(|c| c.len() > 1);
        Ok(sink.contours)
    }
}

/// Collects glyph outlines as contours of points; quadratic TrueType curves become the
/// cubic ones PDF paths have.
struct PathSink {
    scale: f32,
    pen_x: f32,
    last: (f32, f32),
    contours: Vec<Contour>,
}

impl PathSink {
    fn point(&self, v: Vector2F) -> (f32, f32) {
        (self.pen_x + v.x() * self.scale, v.y() * self.scale)
    }

    fn push(&mut self, p: (f32, f32), control: bool) {
        if let Some(contour) = self.contours.last_mut() {
            contour.push((p.0, p.1, control));
        }
        if !control {
            self.last = p;
        }
    }
}

impl OutlineSink for PathSink {
    fn move_to(&mut self, to: Vector2F) {
        let p = self.point(to);
        self.contours.push(Vec::new());
        self.push(p, false);
    }

    fn line_to(&mut self, to: Vector2F) {
        let p = self.point(to);
        self.push(p, false);
    }

    fn quadratic_curve_to(&mut self, ctrl: Vector2F, to: Vector2F) {
        let (p0, c, p) = (self.last, self.point(ctrl), self.point(to));
        let c1 = (
            p0.0 + 2.0 / 3.0 * (c.0 - p0.0),
            p0.1 + 2.0 / 3.0 * (c.1 - p0.1),
        );
        let c2 = (p.0 + 2.0 / 3.0 * (c.0 - p.0), p.1 + 2.0 / 3.0 * (c.1 - p.1));
        self.push(c1, true);
        self.push(c2, true);
        self.push(p, false);
    }

    fn cubic_curve_to(&mut self, ctrl: LineSegment2F, to: Vector2F) {
        let (c1, c2, p) = (
            self.point(ctrl.from()),
            self.point(ctrl.to()),
            self.point(to),
        );
        self.push(c1, true);
        self.push(c2, true);
        self.push(p, false);
    }

    fn close(&mut self) {}
}

/// The six-capital-letter tag PDF puts before a subset font's name (ISO 32000-1, 9.6.4),
/// derived from the glyph set so the same page always gets the same tag.
fn subset_tag(postscript_name: &str, chars: &BTreeSet<char>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(postscript_name.as_bytes());
    for ch in chars {
        hasher.update(u32::from(*ch).to_be_bytes());
    }
    hasher
        .finalize()
        .iter()
        .take(6)
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

#[derive(Debug, thiserror::Error)]
#[error("font {font}: {reason}")]
pub struct FontError {
    pub font: &'static str,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_faces_cover_russian_and_latin_letters_and_typography() {
        let needed = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя\
                      ABCXYZabcxyz0123456789«»„“—–-.,:;()№ \u{a0}";
        for face in Face::ALL {
            for ch in needed.chars() {
                assert!(face.metrics().has_char(ch), "{face:?} lacks {ch:?}");
            }
        }
    }

    #[test]
    fn width_grows_with_text_and_size_and_bold_is_wider() {
        let regular = Face::Regular.metrics();
        let one = regular.width("Иванова", 10.0);
        assert!(one > 30.0 && one < 60.0, "{one}");
        assert!((regular.width("Иванова", 20.0) - 2.0 * one).abs() < 0.01);
        assert!(regular.width("Иванова Мария", 10.0) > one);
        assert!(Face::Bold.metrics().width("Иванова", 10.0) > one);
    }

    #[test]
    fn subset_keeps_only_used_glyphs_and_maps_them_in_order() {
        let chars: BTreeSet<char> = "Ёж ёж".chars().collect();
        let font = Face::Regular.metrics().subset(&chars).unwrap();
        // The hinting tables (cvt, fpgm, prep) stay; the glyphs go.
        assert!(
            font.original_bytes.len() < 20_000,
            "{}",
            font.original_bytes.len()
        );
        assert!(font.original_bytes.len() * 20 < SERIF_REGULAR.len());
        // `chars` iterates ' ', 'Ё', 'ж', 'ё': glyphs 1..=4 after .notdef.
        assert_eq!(font.lookup_glyph_index(u32::from(' ')), Some(1));
        assert_eq!(font.lookup_glyph_index(u32::from('ё')), Some(4));
        assert_eq!(font.lookup_glyph_index(u32::from('a')), None);
        let name = font.font_name.unwrap();
        assert!(
            name.ends_with("+DejaVuSerif") && name.len() == 6 + 1 + 11,
            "{name}"
        );
    }

    #[test]
    fn outline_of_a_word_spans_its_advance_width_and_cap_height() {
        let face = Face::Bold.metrics();
        let contours = face.outline("ОБРАЗЕЦ", 100.0).unwrap();
        // О has two contours, Б two, Р two, А two, З one, Е one, Ц one.
        assert!(contours.len() >= 10, "{}", contours.len());
        let points = contours.iter().flatten().filter(|p| !p.2);
        let (mut min_x, mut max_x, mut max_y) = (f32::MAX, f32::MIN, f32::MIN);
        for &(x, y, _) in points {
            min_x = min_x.min(x);
            max_x = max_x.max(x);
            max_y = max_y.max(y);
        }
        let advance = face.width("ОБРАЗЕЦ", 100.0);
        assert!((0.0..10.0).contains(&min_x), "{min_x}");
        assert!(
            max_x <= advance && max_x > advance - 10.0,
            "{max_x} vs {advance}"
        );
        assert!((max_y - face.cap_height(100.0)).abs() < 5.0, "{max_y}");
    }

    #[test]
    fn subset_refuses_a_character_the_face_lacks() {
        let chars: BTreeSet<char> = ['🙂'].into_iter().collect();
        assert!(Face::Bold.metrics().subset(&chars).is_err());
    }
}
