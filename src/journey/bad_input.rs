//! Text that is no answer to any question: invisible characters pasted with a value, and
//! texts far longer than any field. Cleaned or refused here, before a step reads them, so no
//! state changes and nothing half-typed is saved.
use super::{Ctx, Dialogue, Outcome};
use crate::journey::reply::Reply;
use crate::tr;

/// The longest text taken as an answer; the longest field (the postal address) is 300.
pub const MAX_TEXT_CHARS: usize = 1000;

/// Zero-width characters, direction marks and overrides, the soft hyphen, the BOM: they are
/// invisible in a chat but would be stored with a name or an address and printed on a
/// document or an envelope.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        || (c.is_control() && c != '\n' && c != '\t')
}

/// The text without invisible and control characters (line breaks and tabs kept).
pub fn clean(text: &str) -> String {
    text.chars().filter(|&c| !invisible(c)).collect()
}

/// `Some` refusal when the text is too long to be an answer; the dialogue stays.
pub fn refuse_long(ctx: &Ctx, dialogue: &Dialogue, text: &str) -> Option<Outcome> {
    (text.chars().count() > MAX_TEXT_CHARS)
        .then(|| Outcome::stay(dialogue.clone()).say(Reply::text(tr!(ctx.texts, "text-too-long"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_go_and_visible_ones_stay() {
        assert_eq!(clean("Ива\u{200B}нова\u{200D}"), "Иванова");
        assert_eq!(
            clean("\u{202E}620014\u{202C}, ул. Ленина\0"),
            "620014, ул. Ленина"
        );
        assert_eq!(
            clean("строка\nвторая\tтаб 😀 עברית"),
            "строка\nвторая\tтаб 😀 עברית"
        );
        assert_eq!(clean("\u{FEFF}\u{00AD}\u{7}"), "");
    }
}
