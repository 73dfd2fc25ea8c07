//! Line breaking and size fitting, measured with the face's real glyph advances, so
//! nothing printed can run past the width it was given.
use std::collections::VecDeque;

use super::fonts::FaceMetrics;

/// Slack for float rounding when comparing widths, in points.
const EPSILON: f32 = 0.01;

/// One laid-out line and its advance width in points.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    pub width: f32,
}

/// How a block of text may be set: its preferred size, how far it may shrink, and how
/// many lines it may take before shrinking stops being the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub size: f32,
    pub min_size: f32,
    pub max_lines: usize,
}

/// Nothing on the page is set smaller than this, whatever the scale.
pub const SMALLEST_SIZE: f32 = 7.0;

impl Fit {
    /// The fit with both sizes multiplied by `scale`, never below [`SMALLEST_SIZE`].
    pub fn scaled(self, scale: f32) -> Self {
        let min_size = (self.min_size * scale).max(SMALLEST_SIZE);
        Self {
            size: (self.size * scale).max(min_size),
            min_size,
            max_lines: self.max_lines,
        }
    }
}

/// `text` set at the largest size from `fit.size` down to `fit.min_size` (in half-point
/// steps) that takes at most `fit.max_lines` lines of `max_width`; at `fit.min_size` it
/// takes as many lines as it needs. Returns the size and the lines.
pub fn fit_text(face: &FaceMetrics, text: &str, fit: Fit, max_width: f32) -> (f32, Vec<Line>) {
    let mut size = fit.size;
    loop {
        let lines = wrap(face, text, size, max_width);
        if lines.len() <= fit.max_lines || size <= fit.min_size {
            return (size, lines);
        }
        size = (size - 0.5).max(fit.min_size);
    }
}

/// A piece of text that is never broken inside unless it cannot fit a line on its own.
#[derive(Debug, Clone)]
struct Piece {
    text: String,
    space_before: bool,
}

/// Greedy line breaking at spaces. A piece too wide for a whole line is split finer: at its
/// spaces, then after its hyphens («Римская-» / «Корсакова»), then between characters.
pub fn wrap(face: &FaceMetrics, text: &str, size: f32, max_width: f32) -> Vec<Line> {
    let space = face.width(" ", size);
    let mut queue: VecDeque<Piece> = unbreakable_groups(text)
        .into_iter()
        .map(|text| Piece {
            text,
            space_before: true,
        })
        .collect();
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut current_width = 0.0_f32;

    while let Some(piece) = queue.pop_front() {
        let width = face.width(&piece.text, size);
        let gap = if current.is_empty() || !piece.space_before {
            0.0
        } else {
            space
        };
        if current_width + gap + width <= max_width + EPSILON {
            if gap > 0.0 {
                current.push(' ');
            }
            current.push_str(&piece.text);
            current_width += gap + width;
            continue;
        }
        if !current.is_empty() && width <= max_width + EPSILON {
            lines.push(finish_line(face, &mut current, size));
            current.push_str(&piece.text);
            current_width = width;
            continue;
        }
        match split_finer(&piece) {
            Some(parts) => {
                for part in parts.into_iter().rev() {
                    queue.push_front(part);
                }
            }
            // A single character wider than the line: only at absurd sizes. Set it alone.
            None => {
                if !current.is_empty() {
                    lines.push(finish_line(face, &mut current, size));
                }
                current.push_str(&piece.text);
                current_width = width;
            }
        }
    }
    if !current.is_empty() {
        lines.push(finish_line(face, &mut current, size));
    }
    lines
}

fn finish_line(face: &FaceMetrics, current: &mut String, size: f32) -> Line {
    let text = std::mem::take(current);
    let width = face.width(&text, size);
    Line { text, width }
}

fn split_finer(piece: &Piece) -> Option<Vec<Piece>> {
    let text = piece.text.as_str();
    let parts: Vec<Piece> = if text.contains(' ') {
        text.split(' ')
            .enumerate()
            .map(|(i, word)| Piece {
                text: word.to_string(),
                space_before: i > 0 || piece.space_before,
            })
            .collect()
    } else if text.trim_end_matches('-').contains('-') {
        text.split_inclusive('-')
            .enumerate()
            .map(|(i, part)| Piece {
                text: part.to_string(),
                space_before: i == 0 && piece.space_before,
            })
            .collect()
    } else {
        text.chars()
            .enumerate()
            .map(|(i, ch)| Piece {
                text: ch.to_string(),
                space_before: i == 0 && piece.space_before,
            })
            .collect()
    };
    (parts.len() > 1).then_some(parts)
}

/// Words joined where Russian typography forbids a line break: after a number
/// («7 декабря», «72 часа»), after a one-letter preposition or conjunction («в объёме»,
/// «с 1 декабря»), and before the abbreviation «г.»/«гг.» («2026 г.»).
fn unbreakable_groups(text: &str) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    let mut glue_next = false;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let glue_to_previous = glue_next || matches!(word, "г." | "гг." | "г.," | "г.;");
        match groups.last_mut() {
            Some(last) if glue_to_previous => {
                last.push(' ');
                last.push_str(word);
            }
            _ => groups.push(word.to_string()),
        }
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        let is_number = word.chars().all(|c| c.is_ascii_digit());
        glue_next = is_number || (letters == 1 && word.chars().count() == 1);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::super::fonts::Face;
    use super::*;

    fn texts(lines: &[Line]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn short_text_stays_on_one_line() {
        let face = Face::Regular.metrics();
        let lines = wrap(face, "Иванова Мария Сергеевна", 12.0, 500.0);
        assert_eq!(texts(&lines), ["Иванова Мария Сергеевна"]);
        assert!((lines[0].width - face.width("Иванова Мария Сергеевна", 12.0)).abs() < 0.01);
    }

    #[test]
    fn every_line_fits_and_no_word_is_lost() {
        let face = Face::Regular.metrics();
        let text = "по дополнительной профессиональной программе повышения квалификации \
                    «Охрана труда для руководителей и специалистов организаций» в объёме 72 часа";
        // Every single word fits these widths; narrower ones split words (tested below).
        for width in [200.0, 333.0, 700.0] {
            let lines = wrap(face, text, 13.0, width);
            for line in &lines {
                assert!(line.width <= width + EPSILON, "{line:?} wider than {width}");
            }
            let joined = texts(&lines).join(" ");
            assert_eq!(
                joined,
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
    }

    #[test]
    fn numbers_prepositions_and_year_abbreviation_stay_with_their_word() {
        let groups = unbreakable_groups("с 1 декабря 2026 г. по 7 декабря в объёме 72 часа");
        assert_eq!(
            groups,
            [
                "с 1 декабря",
                "2026 г.",
                "по",
                "7 декабря",
                "в объёме",
                "72 часа"
            ]
        );
    }

    #[test]
    fn a_word_wider_than_the_line_breaks_after_its_hyphen() {
        let face = Face::Bold.metrics();
        let name = "Римская-Корсакова";
        let width = face.width("Корсакова", 20.0) + 5.0;
        assert!(face.width(name, 20.0) > width);
        let lines = wrap(face, name, 20.0, width);
        assert_eq!(texts(&lines), ["Римская-", "Корсакова"]);
    }

    #[test]
    fn a_word_with_no_break_point_is_split_between_letters() {
        let face = Face::Regular.metrics();
        let lines = wrap(face, "Аааааааааааааааааааа", 12.0, 40.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.width <= 40.0 + EPSILON));
        assert_eq!(texts(&lines).concat(), "Аааааааааааааааааааа");
    }

    #[test]
    fn scaling_never_goes_below_the_smallest_size() {
        let fit = Fit {
            size: 10.0,
            min_size: 8.0,
            max_lines: 2,
        };
        assert_eq!(fit.scaled(0.5).min_size, SMALLEST_SIZE);
        assert_eq!(fit.scaled(0.5).size, SMALLEST_SIZE);
        assert_eq!(fit.scaled(0.9).size, 9.0);
    }

    #[test]
    fn fit_shrinks_before_it_wraps_and_wraps_at_the_minimum() {
        let face = Face::Bold.metrics();
        let name = "Иванова Мария Сергеевна";
        let fit = Fit {
            size: 26.0,
            min_size: 16.0,
            max_lines: 1,
        };
        let at_26 = face.width(name, 26.0);
        let (size, lines) = fit_text(face, name, fit, at_26 * 0.8);
        assert_eq!(lines.len(), 1);
        assert!((16.0..26.0).contains(&size), "{size}");
        let (size, lines) = fit_text(face, name, fit, at_26 * 0.3);
        assert_eq!(size, 16.0);
        assert!(lines.len() > 1);
    }
}
