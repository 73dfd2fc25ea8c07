//! Splitting a long Telegram HTML text into messages of at most 4096 characters.
//!
//! Telegram refuses longer messages ("message is too long"), and long texts do happen: a
//! group's roster, an audit trail, a schedule. Parts break at line breaks (else at a space,
//! else anywhere between characters), never inside a tag or an entity; tags open at a break
//! are closed at the end of the part and opened again at the start of the next one, so every
//! part is valid HTML on its own.

/// Telegram's limit for a message text.
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// Lengths are counted in UTF-16 code units: never less than Telegram's own count (which is
/// taken after the markup is parsed), so a part that fits here fits there.
fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Open,
    Close,
    /// Text: one character or one entity (`&amp;`), never cut.
    Text,
}

/// The text as atoms: tags, entities and single characters.
fn tokens(text: &str) -> Vec<(Kind, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = match c {
            // Our own tags are short; a lone `<` in a text is just a character.
            '<' => rest
                .find('>')
                .filter(|&end| end <= 256 && !rest[1..end].contains(['<', '\n']))
                .map(|end| end + 1),
            '&' => rest
                .find(';')
                .filter(|&end| end <= 12 && !rest[1..end].contains([' ', '<', '&'])),
            _ => None,
        }
        .map_or(c.len_utf8(), |end| end);
        let (token, tail) = rest.split_at(len);
        let kind = if token.len() > 1 && token.starts_with("</") {
            Kind::Close
        } else if token.len() > 1 && token.starts_with('<') && !token.ends_with("/>") {
            Kind::Open
        } else {
            Kind::Text
        };
        out.push((kind, token));
        rest = tail;
    }
    out
}

/// `<a href="…">` → `a`.
fn tag_name(tag: &str) -> &str {
    let inner = tag.trim_start_matches(['<', '/']).trim_end_matches('>');
    inner
        .split(|c: char| c.is_whitespace() || c == '/')
        .next()
        .unwrap_or("")
}

fn closers(open: &[&str]) -> String {
    open.iter()
        .rev()
        .map(|tag| format!("</{}>", tag_name(tag)))
        .collect()
}

/// A place where the text may be cut: the byte offset in the part being built, how many
/// bytes to drop there (the line break or space itself), and the tags open at that point.
#[derive(Clone)]
struct Cut<'a> {
    at: usize,
    skip: usize,
    open: Vec<&'a str>,
}

/// Parts of at most `limit` UTF-16 units, in order; a text that fits is returned whole.
/// Parts with nothing visible in them are left out.
pub fn split_html(text: &str, limit: usize) -> Vec<String> {
    if units(text) <= limit {
        return vec![text.to_owned()];
    }
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut open: Vec<&str> = Vec::new();
    let mut line_break: Option<Cut> = None;
    let mut space: Option<Cut> = None;
    for (kind, token) in tokens(text) {
        let mut after = open.clone();
        match kind {
            Kind::Open => after.push(token),
            Kind::Close => {
                if let Some(i) = after.iter().rposition(|t| tag_name(t) == tag_name(token)) {
                    after.remove(i);
                }
            }
            Kind::Text => {}
        }
        // Room for the token and for closing what is open after it.
        while units(&part) + units(token) + units(&closers(&after)) > limit {
            if !has_visible_text(&part) {
                // Only tags so far: keep the ones still open, drop emptied elements.
                part = open.concat();
                line_break = None;
                space = None;
                break;
            }
            let hard = Cut {
                at: part.len(),
                skip: 0,
                open: open.clone(),
            };
            let mut cut = line_break.take().or(space.take()).unwrap_or(hard.clone());
            // Tags reopened after an early break could leave the next part no shorter.
            if cut.open.concat().len() >= cut.at + cut.skip {
                cut = hard;
            }
            let rest = part[cut.at + cut.skip..].to_owned();
            part.truncate(cut.at);
            part.push_str(&closers(&cut.open));
            parts.push(std::mem::take(&mut part));
            part = cut.open.concat();
            part.push_str(&rest);
            space = None;
        }
        match (kind, token) {
            (Kind::Text, "\n") => {
                line_break = Some(Cut {
                    at: part.len(),
                    skip: 1,
                    open: open.clone(),
                })
            }
            (Kind::Text, " ") => {
                space = Some(Cut {
                    at: part.len(),
                    skip: 1,
                    open: open.clone(),
                })
            }
            _ => {}
        }
        part.push_str(token);
        open = after;
    }
    parts.push(part);
    parts.retain(|p| has_visible_text(p));
    parts
}

fn has_visible_text(part: &str) -> bool {
    tokens(part)
        .iter()
        .any(|(kind, t)| *kind == Kind::Text && !t.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a reader sees: tags dropped, the usual entities decoded.
    fn visible(html: &str) -> String {
        tokens(html)
            .into_iter()
            .filter(|(kind, _)| *kind == Kind::Text)
            .map(|(_, t)| match t {
                "&lt;" => "<",
                "&gt;" => ">",
                "&amp;" => "&",
                "&quot;" => "\"",
                other => other,
            })
            .collect()
    }

    /// Every tag closed, in order, and nothing closed that was not open.
    fn balanced(html: &str) -> bool {
        let mut stack = Vec::new();
        for (kind, t) in tokens(html) {
            match kind {
                Kind::Open => stack.push(tag_name(t).to_owned()),
                Kind::Close => {
                    if stack.pop().as_deref() != Some(tag_name(t)) {
                        return false;
                    }
                }
                Kind::Text => {}
            }
        }
        stack.is_empty()
    }

    fn squeeze(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn a_short_text_is_one_part() {
        assert_eq!(split_html("<b>Привет</b>", 4096), vec!["<b>Привет</b>"]);
    }

    #[test]
    fn long_lists_break_between_lines() {
        let text: String = (1..=400)
            .map(|n| format!("{n}. <b>Иванова Мария Сергеевна</b> — документы на проверке\n"))
            .collect();
        let parts = split_html(&text, MAX_MESSAGE_CHARS);
        assert!(parts.len() > 1);
        for part in &parts {
            assert!(units(part) <= MAX_MESSAGE_CHARS);
            assert!(part.trim_end().ends_with("проверке"), "{part}");
            assert!(part.starts_with(char::is_numeric));
        }
        assert_eq!(squeeze(&parts.concat()), squeeze(&text));
    }

    #[test]
    fn a_tag_open_across_the_break_is_closed_and_reopened() {
        let text = format!("<pre>{}</pre>", "строка кода\n".repeat(30));
        let parts = split_html(&text, 100);
        assert!(parts.len() > 3);
        for part in &parts {
            assert!(
                part.starts_with("<pre>") && part.ends_with("</pre>"),
                "{part}"
            );
            assert!(units(part) <= 100);
        }
    }

    #[test]
    fn entities_and_links_are_never_cut() {
        let text = "&amp;<a href=\"https://example.org/x?a=1&amp;b=2\">ссылка</a> ".repeat(100);
        for part in split_html(&text, 150) {
            assert!(balanced(&part), "{part}");
            assert!(!part.ends_with('&') && !part.contains("&amp<"), "{part}");
            assert!(units(&part) <= 150);
        }
    }

    fn html_text() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            "[а-яА-Я0-9 ,.]{0,40}",
            Just("\n".to_owned()),
            Just("&amp;".to_owned()),
            Just("&lt;".to_owned()),
            Just("😀".to_owned()),
            "[a-z]{1,8}".prop_map(|w| format!("<b>{w}</b>")),
            "[а-я ]{1,30}".prop_map(|w| format!("<i>{w}\n{w}</i>")),
            "[а-я ]{1,20}".prop_map(|w| format!("<a href=\"https://e.org/?q={w}\">{w}</a>")),
        ];
        proptest::collection::vec(atom, 0..300).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn parts_fit_stay_balanced_and_keep_every_visible_character(
            text in html_text(),
            limit in 60usize..600,
        ) {
            let parts = split_html(&text, limit);
            for part in &parts {
                prop_assert!(units(part) <= limit, "{} > {limit}: {part:?}", units(part));
                prop_assert!(balanced(part), "{part:?}");
            }
            let joined: String = parts.iter().map(|p| visible(p)).collect();
            prop_assert_eq!(squeeze(&joined), squeeze(&visible(&text)));
        }

        #[test]
        fn any_string_splits_without_panic(text in any::<String>(), limit in 20usize..200) {
            let parts = split_html(&text, limit);
            if !text.contains('<') {
                for part in &parts {
                    prop_assert!(units(part) <= limit);
                }
            }
        }
    }
}
