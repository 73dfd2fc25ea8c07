//! Text formatting as the Bot API server does it: `parse_mode` HTML, MarkdownV2 and legacy
//! Markdown turned into plain text plus entities (offsets in UTF-16 code units), with the
//! server's own error texts. The parsers follow TDLib's `MessageEntity.cpp`, which is what
//! the Bot API server runs, so a message the fake accepts is a message Telegram accepts.
//!
//! Also the entities Telegram detects by itself in a user's text (bot commands, mentions).

use serde_json::{json, Value};

/// One formatting entity of a message (`MessageEntity` in the Bot API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub kind: EntityKind,
    /// Offset in UTF-16 code units.
    pub offset: usize,
    /// Length in UTF-16 code units.
    pub length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityKind {
    Bold,
    Italic,
    Underline,
    Strikethrough,
    Spoiler,
    Code,
    Pre { language: Option<String> },
    TextLink { url: String },
    TextMention { user_id: i64 },
    CustomEmoji { custom_emoji_id: String },
    Blockquote,
    ExpandableBlockquote,
    BotCommand,
    Mention,
}

impl EntityKind {
    /// TDLib's name of the type, used in the server's error texts.
    fn td_name(&self) -> &'static str {
        match self {
            EntityKind::Bold => "Bold",
            EntityKind::Italic => "Italic",
            EntityKind::Underline => "Underline",
            EntityKind::Strikethrough => "Strikethrough",
            EntityKind::Spoiler => "Spoiler",
            EntityKind::Code => "Code",
            EntityKind::Pre { language: None } => "Pre",
            EntityKind::Pre { language: Some(_) } => "PreCode",
            EntityKind::TextLink { .. } => "TextUrl",
            EntityKind::TextMention { .. } => "MentionName",
            EntityKind::CustomEmoji { .. } => "CustomEmoji",
            EntityKind::Blockquote => "BlockQuote",
            EntityKind::ExpandableBlockquote => "ExpandableBlockQuote",
            EntityKind::BotCommand => "BotCommand",
            EntityKind::Mention => "Mention",
        }
    }

    /// TDLib's sort priority among entities with the same offset and length.
    fn priority(&self) -> u8 {
        match self {
            EntityKind::Mention | EntityKind::BotCommand => 50,
            EntityKind::Bold => 90,
            EntityKind::Italic => 91,
            EntityKind::Underline => 92,
            EntityKind::Strikethrough => 93,
            EntityKind::Spoiler => 94,
            EntityKind::CustomEmoji { .. } => 99,
            EntityKind::Code => 20,
            EntityKind::Pre { language: None } => 11,
            EntityKind::Pre { language: Some(_) } => 10,
            EntityKind::TextLink { .. } | EntityKind::TextMention { .. } => 49,
            EntityKind::Blockquote | EntityKind::ExpandableBlockquote => 0,
        }
    }
}

impl Entity {
    fn new(kind: EntityKind, offset: usize, length: usize) -> Self {
        Entity {
            kind,
            offset,
            length,
        }
    }

    /// The Bot API JSON of this entity. `user` supplies the `User` object of a text mention.
    pub fn to_json(&self, user: impl Fn(i64) -> Value) -> Value {
        let mut value = json!({ "offset": self.offset, "length": self.length });
        let (kind, extra) = match &self.kind {
            EntityKind::Bold => ("bold", None),
            EntityKind::Italic => ("italic", None),
            EntityKind::Underline => ("underline", None),
            EntityKind::Strikethrough => ("strikethrough", None),
            EntityKind::Spoiler => ("spoiler", None),
            EntityKind::Code => ("code", None),
            EntityKind::Pre { language } => {
                ("pre", language.as_ref().map(|l| ("language", json!(l))))
            }
            EntityKind::TextLink { url } => ("text_link", Some(("url", json!(url)))),
            EntityKind::TextMention { user_id } => ("text_mention", Some(("user", user(*user_id)))),
            EntityKind::CustomEmoji { custom_emoji_id } => (
                "custom_emoji",
                Some(("custom_emoji_id", json!(custom_emoji_id))),
            ),
            EntityKind::Blockquote => ("blockquote", None),
            EntityKind::ExpandableBlockquote => ("expandable_blockquote", None),
            EntityKind::BotCommand => ("bot_command", None),
            EntityKind::Mention => ("mention", None),
        };
        value["type"] = json!(kind);
        if let Some((key, extra)) = extra {
            value[key] = extra;
        }
        value
    }
}

/// Text after parsing: what the recipient sees, and its entities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormattedText {
    pub text: String,
    pub entities: Vec<Entity>,
}

/// Parses `text` in the given `parse_mode` ("HTML", "MarkdownV2", "Markdown"; matched
/// case-insensitively like the server does). `Err` carries the server's description
/// without the "Bad Request: " prefix.
pub fn parse(text: &str, parse_mode: Option<&str>) -> Result<FormattedText, String> {
    let parsed = match parse_mode.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => Ok(FormattedText {
            text: text.to_owned(),
            entities: Vec::new(),
        }),
        Some("html") => parse_html(text),
        Some("markdownv2") => parse_markdown_v2(text),
        Some("markdown") => parse_markdown(text),
        Some(_) => return Err("unsupported parse_mode".to_owned()),
    };
    parsed.map_err(|e| format!("can't parse entities: {e}"))
}

fn is_first_code_unit(c: u8) -> bool {
    (c & 0xC0) != 0x80
}

fn utf16_units_of_lead_byte(c: u8) -> usize {
    if c >= 0xF0 {
        2
    } else {
        1
    }
}

/// TDLib's `is_space`: the NUL terminator counts as space, which ends every scan at the end.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0 | 0x0B)
}

/// Byte access that reads NUL past the end, like TDLib's C strings.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn at(&self, i: usize) -> u8 {
        self.0.get(i).copied().unwrap_or(0)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn slice(&self, from: usize, to: usize) -> String {
        let to = to.min(self.0.len());
        let from = from.min(to);
        String::from_utf8_lossy(&self.0[from..to]).into_owned()
    }
}

fn push_char(out: &mut Vec<u8>, code: u32) -> Result<usize, String> {
    let ch = char::from_u32(code).ok_or_else(|| {
        "Text contains invalid Unicode characters after decoding HTML entities, check for \
         unmatched surrogate code units"
            .to_owned()
    })?;
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    Ok(ch.len_utf16())
}

/// `&lt;`, `&gt;`, `&amp;`, `&quot;` and numeric references; anything else stays literal.
/// Returns the code point and the position after the reference.
fn decode_html_entity(text: &Bytes, pos: usize) -> Option<(u32, usize)> {
    let mut end = pos + 1;
    let mut res: u64 = 0;
    if text.at(pos + 1) == b'#' {
        end += 1;
        if text.at(pos + 2) == b'x' {
            end += 1;
            while text.at(end).is_ascii_hexdigit() {
                let digit = (text.at(end) as char).to_digit(16).unwrap_or(0);
                res = res.saturating_mul(16).saturating_add(u64::from(digit));
                end += 1;
            }
        } else {
            while text.at(end).is_ascii_digit() {
                res = res
                    .saturating_mul(10)
                    .saturating_add(u64::from(text.at(end) - b'0'));
                end += 1;
            }
        }
        if res == 0 || res >= 0x10FFFF || end - pos >= 10 {
            return None;
        }
    } else {
        while text.at(end).is_ascii_alphabetic() {
            end += 1;
        }
        res = match &text.0[pos + 1..end] {
            b"lt" => u64::from(b'<'),
            b"gt" => u64::from(b'>'),
            b"amp" => u64::from(b'&'),
            b"quot" => u64::from(b'"'),
            _ => return None,
        };
    }
    if text.at(end) == b';' {
        end += 1;
    }
    Some((res as u32, end))
}

/// A link as Telegram keeps it: `tg://user?id=` becomes a mention, bare domains get
/// `http://`, anything that is not a usable link is dropped (`None`).
enum Link {
    User(i64),
    Url(String),
}

fn check_link(raw: &str) -> Option<Link> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if let Some(query) = raw.strip_prefix("tg://user?id=") {
        return query.parse().ok().map(Link::User);
    }
    let candidate = if raw.contains("://") || raw.starts_with("mailto:") {
        raw.to_owned()
    } else {
        format!("http://{raw}")
    };
    let url = url::Url::parse(&candidate).ok()?;
    match url.scheme() {
        "http" | "https" => {
            let host = url.host_str()?;
            let is_ip = host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[');
            if !is_ip && !host.contains('.') && host != "localhost" {
                return None;
            }
        }
        "tg" | "ton" | "ftp" | "mailto" => {}
        _ => return None,
    }
    Some(Link::Url(url.to_string()))
}

fn link_entity(url: &str, offset: usize, length: usize) -> Option<Entity> {
    match check_link(url)? {
        Link::User(user_id) => Some(Entity::new(
            EntityKind::TextMention { user_id },
            offset,
            length,
        )),
        Link::Url(url) => Some(Entity::new(EntityKind::TextLink { url }, offset, length)),
    }
}

fn sort_entities(entities: &mut [Entity]) {
    entities.sort_by(|a, b| {
        a.offset
            .cmp(&b.offset)
            .then(b.length.cmp(&a.length))
            .then(a.kind.priority().cmp(&b.kind.priority()))
    });
}

fn finish(out: Vec<u8>, mut entities: Vec<Entity>) -> Result<FormattedText, String> {
    sort_entities(&mut entities);
    let text = String::from_utf8(out).map_err(|_| "Strings must be encoded in UTF-8".to_owned())?;
    Ok(FormattedText { text, entities })
}

const HTML_TAGS: &[&str] = &[
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];

/// `parse_mode=HTML`.
pub fn parse_html(source: &str) -> Result<FormattedText, String> {
    struct Open {
        tag: String,
        argument: String,
        offset: usize,
        out_pos: usize,
    }
    let text = Bytes(source.as_bytes());
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut entities: Vec<Entity> = Vec::new();
    // The language of each `code` entity until its `pre` closes (parallel to `entities`).
    let mut code_languages: Vec<Option<String>> = Vec::new();
    let mut nested: Vec<Open> = Vec::new();
    let mut utf16 = 0usize;
    let mut i = 0usize;
    while i < text.len() {
        let c = text.at(i);
        if c == b'&' {
            if let Some((code, next)) = decode_html_entity(&text, i) {
                utf16 += push_char(&mut out, code)?;
                i = next;
                continue;
            }
        }
        if c != b'<' {
            if is_first_code_unit(c) {
                utf16 += utf16_units_of_lead_byte(c);
            }
            out.push(c);
            i += 1;
            continue;
        }

        let begin = i;
        i += 1;
        if text.at(i) != b'/' {
            while !is_space(text.at(i)) && text.at(i) != b'>' {
                i += 1;
            }
            if text.at(i) == 0 {
                return Err(format!("Unclosed start tag at byte offset {begin}"));
            }
            let tag = text.slice(begin + 1, i).to_lowercase();
            if !HTML_TAGS.contains(&tag.as_str()) {
                return Err(format!(
                    "Unsupported start tag \"{tag}\" at byte offset {begin}"
                ));
            }
            let mut argument = String::new();
            while text.at(i) != b'>' {
                while text.at(i) != 0 && is_space(text.at(i)) {
                    i += 1;
                }
                if text.at(i) == b'>' {
                    break;
                }
                let name_begin = i;
                while !is_space(text.at(i)) && text.at(i) != b'=' && text.at(i) != b'>' {
                    i += 1;
                }
                let name = text.slice(name_begin, i);
                if name.is_empty() {
                    return Err(format!(
                        "Empty attribute name in the tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                while text.at(i) != 0 && is_space(text.at(i)) {
                    i += 1;
                }
                if text.at(i) != b'=' {
                    // `<blockquote expandable>` is the one attribute without a value.
                    if tag == "blockquote" && name == "expandable" {
                        argument = "expandable".to_owned();
                        continue;
                    }
                    return Err(format!(
                        "Expected equal sign in declaration of an attribute of the tag \
                         \"{tag}\" at byte offset {begin}"
                    ));
                }
                i += 1;
                while text.at(i) != 0 && is_space(text.at(i)) {
                    i += 1;
                }
                if text.at(i) == 0 {
                    return Err(format!(
                        "Unclosed start tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                let mut value: Vec<u8> = Vec::new();
                if text.at(i) != b'\'' && text.at(i) != b'"' {
                    // A name token: letters, digits, periods, hyphens; not case sensitive.
                    let token_begin = i;
                    while text.at(i).is_ascii_alphanumeric()
                        || text.at(i) == b'.'
                        || text.at(i) == b'-'
                    {
                        i += 1;
                    }
                    value.extend(text.slice(token_begin, i).to_lowercase().bytes());
                    if !is_space(text.at(i)) && text.at(i) != b'>' {
                        return Err(format!(
                            "Unexpected end of name token at byte offset {token_begin}"
                        ));
                    }
                } else {
                    let quote = text.at(i);
                    i += 1;
                    while text.at(i) != quote && text.at(i) != 0 {
                        if text.at(i) == b'&' {
                            if let Some((code, next)) = decode_html_entity(&text, i) {
                                push_char(&mut value, code)?;
                                i = next;
                                continue;
                            }
                        }
                        value.push(text.at(i));
                        i += 1;
                    }
                    if text.at(i) == quote {
                        i += 1;
                    }
                }
                if text.at(i) == 0 {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                let value = String::from_utf8_lossy(&value).into_owned();
                match (tag.as_str(), name.as_str()) {
                    ("a", "href") => argument = value,
                    ("code", "class") if value.starts_with("language-") => {
                        argument = value["language-".len()..].to_owned()
                    }
                    ("span", "class") if value.starts_with("tg-") => {
                        argument = value["tg-".len()..].to_owned()
                    }
                    ("tg-emoji", "emoji-id") => argument = value,
                    _ => {}
                }
            }
            if tag == "span" && argument != "spoiler" {
                return Err(format!(
                    "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
                ));
            }
            nested.push(Open {
                tag,
                argument,
                offset: utf16,
                out_pos: out.len(),
            });
            i += 1;
        } else {
            let Some(open) = nested.pop() else {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            };
            while !is_space(text.at(i)) && text.at(i) != b'>' {
                i += 1;
            }
            let end_tag = text.slice(begin + 2, i).to_lowercase();
            while is_space(text.at(i)) && text.at(i) != 0 {
                i += 1;
            }
            if text.at(i) != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            if !end_tag.is_empty() && end_tag != open.tag {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \"</{end_tag}>\"",
                    open.tag
                ));
            }
            if utf16 > open.offset {
                let (offset, length) = (open.offset, utf16 - open.offset);
                let kind = match open.tag.as_str() {
                    "i" | "em" => Some(EntityKind::Italic),
                    "b" | "strong" => Some(EntityKind::Bold),
                    "s" | "strike" | "del" => Some(EntityKind::Strikethrough),
                    "u" | "ins" => Some(EntityKind::Underline),
                    "tg-spoiler" | "span" => Some(EntityKind::Spoiler),
                    "tg-emoji" => match open.argument.parse::<i64>() {
                        Ok(id) if id != 0 => Some(EntityKind::CustomEmoji {
                            custom_emoji_id: open.argument.clone(),
                        }),
                        _ => return Err("Invalid custom emoji identifier specified".to_owned()),
                    },
                    "a" => {
                        let url = if open.argument.is_empty() {
                            String::from_utf8_lossy(&out[open.out_pos..]).into_owned()
                        } else {
                            open.argument.clone()
                        };
                        link_entity(&url, offset, length).map(|e| e.kind)
                    }
                    "pre" => Some(EntityKind::Pre { language: None }),
                    "code" => Some(EntityKind::Code),
                    "blockquote" if open.argument == "expandable" => {
                        Some(EntityKind::ExpandableBlockquote)
                    }
                    "blockquote" => Some(EntityKind::Blockquote),
                    _ => None,
                };
                if let Some(kind) = kind {
                    push_html_entity(
                        &mut entities,
                        &mut code_languages,
                        kind,
                        &open.argument,
                        offset,
                        length,
                    );
                }
            }
            i += 1;
        }
    }
    if let Some(open) = nested.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            open.tag
        ));
    }
    finish(out, entities)
}

/// Adds an HTML entity. `<pre>` and `<code class="language-…">` over the same text become
/// one `pre` entity with a language, whichever closes first, as TDLib does.
fn push_html_entity(
    entities: &mut Vec<Entity>,
    code_languages: &mut Vec<Option<String>>,
    kind: EntityKind,
    argument: &str,
    offset: usize,
    length: usize,
) {
    let same_span = |e: &Entity| e.offset == offset && e.length == length;
    match kind {
        EntityKind::Pre { .. } => {
            if let (Some(last), Some(Some(language))) = (entities.last_mut(), code_languages.last())
            {
                if last.kind == EntityKind::Code && same_span(last) {
                    last.kind = EntityKind::Pre {
                        language: Some(language.clone()),
                    };
                    return;
                }
            }
            entities.push(Entity::new(
                EntityKind::Pre { language: None },
                offset,
                length,
            ));
            code_languages.push(None);
        }
        EntityKind::Code => {
            if !argument.is_empty() {
                if let Some(last) = entities.last_mut() {
                    if last.kind == (EntityKind::Pre { language: None }) && same_span(last) {
                        last.kind = EntityKind::Pre {
                            language: Some(argument.to_owned()),
                        };
                        return;
                    }
                }
            }
            entities.push(Entity::new(EntityKind::Code, offset, length));
            code_languages.push((!argument.is_empty()).then(|| argument.to_owned()));
        }
        other => {
            entities.push(Entity::new(other, offset, length));
            code_languages.push(None);
        }
    }
}

/// `parse_mode=MarkdownV2`.
pub fn parse_markdown_v2(source: &str) -> Result<FormattedText, String> {
    struct Open {
        kind: EntityKind,
        offset: usize,
        byte_offset: usize,
        out_pos: usize,
    }
    let text = Bytes(source.as_bytes());
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut entities: Vec<Entity> = Vec::new();
    let mut nested: Vec<Open> = Vec::new();
    let mut utf16 = 0usize;
    let mut have_blockquote = false;
    let reserved_error = |c: u8| {
        format!(
            "Character '{}' is reserved and must be escaped with the preceding '\\'",
            c as char
        )
    };
    let mut i = 0usize;
    while i < text.len() {
        let c = text.at(i);
        if c == b'\\' && text.at(i + 1) > 0 && text.at(i + 1) <= 126 {
            i += 1;
            utf16 += 1;
            out.push(text.at(i));
            i += 1;
            continue;
        }
        let in_code = matches!(
            nested.last().map(|o| &o.kind),
            Some(EntityKind::Code | EntityKind::Pre { .. })
        );
        let reserved: &[u8] = if in_code {
            b"`"
        } else {
            b"_*[]()~`>#+-=|{}.!\n"
        };
        if !reserved.contains(&c) {
            if is_first_code_unit(c) {
                utf16 += utf16_units_of_lead_byte(c);
            }
            out.push(c);
            i += 1;
            continue;
        }

        let is_end = match nested.last() {
            None => false,
            Some(_) if have_blockquote && c == b'\n' && text.at(i + 1) != b'>' => true,
            Some(open) => match open.kind {
                EntityKind::Bold => c == b'*',
                EntityKind::Italic => c == b'_' && text.at(i + 1) != b'_',
                EntityKind::Code => c == b'`',
                EntityKind::Pre { .. } => {
                    c == b'`' && text.at(i + 1) == b'`' && text.at(i + 2) == b'`'
                }
                EntityKind::TextLink { .. } | EntityKind::CustomEmoji { .. } => c == b']',
                EntityKind::Underline => c == b'_' && text.at(i + 1) == b'_',
                EntityKind::Strikethrough => c == b'~',
                EntityKind::Spoiler => c == b'|' && text.at(i + 1) == b'|',
                _ => false,
            },
        };

        if !is_end {
            let byte_offset = i;
            let kind = match c {
                b'_' if text.at(i + 1) == b'_' => {
                    i += 1;
                    EntityKind::Underline
                }
                b'_' => EntityKind::Italic,
                b'*' => EntityKind::Bold,
                b'~' => EntityKind::Strikethrough,
                b'|' if text.at(i + 1) == b'|' => {
                    i += 1;
                    EntityKind::Spoiler
                }
                b'[' => EntityKind::TextLink { url: String::new() },
                b'`' if text.at(i + 1) == b'`' && text.at(i + 2) == b'`' => {
                    i += 3;
                    let mut language = None;
                    let mut end = i;
                    while !is_space(text.at(end)) && text.at(end) != b'`' {
                        end += 1;
                    }
                    if i != end && end < text.len() && text.at(end) != b'`' {
                        language = Some(text.slice(i, end));
                        i = end;
                    }
                    if text.at(i) == b'\n' || text.at(i) == b'\r' {
                        if (text.at(i + 1) == b'\n' || text.at(i + 1) == b'\r')
                            && text.at(i) != text.at(i + 1)
                        {
                            i += 2;
                        } else {
                            i += 1;
                        }
                    }
                    nested.push(Open {
                        kind: EntityKind::Pre { language },
                        offset: utf16,
                        byte_offset,
                        out_pos: out.len(),
                    });
                    continue;
                }
                b'`' => EntityKind::Code,
                b'!' if text.at(i + 1) == b'[' => {
                    i += 1;
                    EntityKind::CustomEmoji {
                        custom_emoji_id: String::new(),
                    }
                }
                b'\n' => {
                    utf16 += 1;
                    out.push(b'\n');
                    let mut starts_quote = false;
                    if text.at(i + 1) == b'>' {
                        i += 1;
                        if !have_blockquote {
                            have_blockquote = true;
                            starts_quote = true;
                        }
                    }
                    i += 1;
                    if starts_quote {
                        nested.push(Open {
                            kind: EntityKind::Blockquote,
                            offset: utf16,
                            byte_offset,
                            out_pos: out.len(),
                        });
                    }
                    continue;
                }
                b'>' if i == 0 => {
                    have_blockquote = true;
                    EntityKind::Blockquote
                }
                other => return Err(reserved_error(other)),
            };
            nested.push(Open {
                kind,
                offset: utf16,
                byte_offset,
                out_pos: out.len(),
            });
            i += 1;
            continue;
        }

        let open = nested.pop().expect("is_end implies an open entity");
        if c == b'\n' && open.kind != EntityKind::Blockquote {
            return Err(format!(
                "Can't find end of {} entity at byte offset {}",
                open.kind.td_name(),
                open.byte_offset
            ));
        }
        let mut skip = utf16 == open.offset;
        let mut kind = open.kind.clone();
        match &open.kind {
            EntityKind::Underline | EntityKind::Spoiler => i += 1,
            EntityKind::Pre { .. } => i += 2,
            EntityKind::TextLink { .. } => {
                let url = if text.at(i + 1) != b'(' {
                    String::from_utf8_lossy(&out[open.out_pos..]).into_owned()
                } else {
                    i += 2;
                    let url_begin = i;
                    let mut url = Vec::new();
                    while i < text.len() && text.at(i) != b')' {
                        if text.at(i) == b'\\' && text.at(i + 1) > 0 && text.at(i + 1) <= 126 {
                            url.push(text.at(i + 1));
                            i += 2;
                            continue;
                        }
                        url.push(text.at(i));
                        i += 1;
                    }
                    if text.at(i) != b')' {
                        return Err(format!(
                            "Can't find end of a URL at byte offset {url_begin}"
                        ));
                    }
                    String::from_utf8_lossy(&url).into_owned()
                };
                match link_entity(&url, 0, 0) {
                    Some(entity) => kind = entity.kind,
                    None => skip = true,
                }
            }
            EntityKind::CustomEmoji { .. } => {
                if text.at(i + 1) != b'(' {
                    return Err("Custom emoji entity must contain a tg://emoji URL".to_owned());
                }
                i += 2;
                let url_begin = i;
                let mut url = Vec::new();
                while i < text.len() && text.at(i) != b')' {
                    if text.at(i) == b'\\' && text.at(i + 1) > 0 && text.at(i + 1) <= 126 {
                        url.push(text.at(i + 1));
                        i += 2;
                        continue;
                    }
                    url.push(text.at(i));
                    i += 1;
                }
                if text.at(i) != b')' {
                    return Err(format!(
                        "Can't find end of a custom emoji URL at byte offset {url_begin}"
                    ));
                }
                let url = String::from_utf8_lossy(&url).into_owned();
                let id = url
                    .strip_prefix("tg://emoji?id=")
                    .filter(|id| id.parse::<i64>().map(|n| n != 0).unwrap_or(false))
                    .ok_or_else(|| "Invalid custom emoji identifier specified".to_owned())?;
                kind = EntityKind::CustomEmoji {
                    custom_emoji_id: id.to_owned(),
                };
            }
            EntityKind::Blockquote => {
                have_blockquote = false;
                out.push(c);
                utf16 += 1;
            }
            _ => {}
        }
        if !skip {
            entities.push(Entity::new(kind, open.offset, utf16 - open.offset));
        }
        i += 1;
    }
    if have_blockquote {
        if let Some(open) = nested.last() {
            if open.kind == EntityKind::Blockquote {
                if utf16 > open.offset {
                    entities.push(Entity::new(
                        EntityKind::Blockquote,
                        open.offset,
                        utf16 - open.offset,
                    ));
                }
                nested.pop();
            }
        }
    }
    if let Some(open) = nested.last() {
        return Err(format!(
            "Can't find end of {} entity at byte offset {}",
            open.kind.td_name(),
            open.byte_offset
        ));
    }
    finish(out, entities)
}

/// Legacy `parse_mode=Markdown`.
pub fn parse_markdown(source: &str) -> Result<FormattedText, String> {
    let text = Bytes(source.as_bytes());
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut entities = Vec::new();
    let mut utf16 = 0usize;
    let mut i = 0usize;
    while i < text.len() {
        let c = text.at(i);
        if c == b'\\' && matches!(text.at(i + 1), b'_' | b'*' | b'`' | b'[') {
            out.push(text.at(i + 1));
            utf16 += 1;
            i += 2;
            continue;
        }
        if !matches!(c, b'_' | b'*' | b'`' | b'[') {
            if is_first_code_unit(c) {
                utf16 += utf16_units_of_lead_byte(c);
            }
            out.push(c);
            i += 1;
            continue;
        }
        let begin = i;
        let end_char = if c == b'[' { b']' } else { c };
        let mut is_pre = false;
        let mut language = None;
        i += 1;
        if c == b'`' && text.at(i) == b'`' && text.at(i + 1) == b'`' {
            i += 2;
            is_pre = true;
            let mut end = i;
            while !is_space(text.at(end)) && text.at(end) != b'`' {
                end += 1;
            }
            if i != end && end < text.len() && text.at(end) != b'`' {
                language = Some(text.slice(i, end));
                i = end;
            }
            if text.at(i) == b'\n' || text.at(i) == b'\r' {
                if (text.at(i + 1) == b'\n' || text.at(i + 1) == b'\r')
                    && text.at(i) != text.at(i + 1)
                {
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
        let entity_offset = utf16;
        let content_begin = out.len();
        while i < text.len()
            && (text.at(i) != end_char
                || (is_pre && !(text.at(i + 1) == b'`' && text.at(i + 2) == b'`')))
        {
            let ch = text.at(i);
            if is_first_code_unit(ch) {
                utf16 += utf16_units_of_lead_byte(ch);
            }
            out.push(ch);
            i += 1;
        }
        if i >= text.len() {
            return Err(format!(
                "Can't find end of the entity starting at byte offset {begin}"
            ));
        }
        if entity_offset != utf16 {
            let length = utf16 - entity_offset;
            let entity = match c {
                b'_' => Some(Entity::new(EntityKind::Italic, entity_offset, length)),
                b'*' => Some(Entity::new(EntityKind::Bold, entity_offset, length)),
                b'[' => {
                    let url = if text.at(i + 1) != b'(' {
                        String::from_utf8_lossy(&out[content_begin..]).into_owned()
                    } else {
                        i += 2;
                        let url_begin = i;
                        while i < text.len() && text.at(i) != b')' {
                            i += 1;
                        }
                        text.slice(url_begin, i)
                    };
                    link_entity(&url, entity_offset, length)
                }
                _ if is_pre => Some(Entity::new(
                    EntityKind::Pre {
                        language: language.clone(),
                    },
                    entity_offset,
                    length,
                )),
                _ => Some(Entity::new(EntityKind::Code, entity_offset, length)),
            };
            entities.extend(entity);
        }
        if is_pre {
            i += 2;
        }
        i += 1;
    }
    finish(out, entities)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Entities Telegram finds by itself in a user's plain text: `/commands` (optionally
/// `/command@botname`) and `@mentions`, with TDLib's boundary rules.
pub fn detect_entities(text: &str) -> Vec<Entity> {
    let chars: Vec<char> = text.chars().collect();
    let mut utf16_at = Vec::with_capacity(chars.len() + 1);
    let mut acc = 0;
    for c in &chars {
        utf16_at.push(acc);
        acc += c.len_utf16();
    }
    utf16_at.push(acc);
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut entities = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = if i == 0 { None } else { Some(chars[i - 1]) };
        if c == '/' && !prev.is_some_and(|p| is_word_char(p) || matches!(p, '/' | '<' | '>')) {
            let mut end = i + 1;
            while end < chars.len() && is_name(chars[end]) {
                end += 1;
            }
            let name_len = end - i - 1;
            if (1..=64).contains(&name_len) {
                let mut command_end = end;
                let mut valid = true;
                if end < chars.len() && chars[end] == '@' {
                    let mut m = end + 1;
                    while m < chars.len() && is_name(chars[m]) {
                        m += 1;
                    }
                    let mention_len = m - end - 1;
                    if (3..=32).contains(&mention_len) {
                        command_end = m;
                    } else {
                        valid = false;
                    }
                }
                let next = chars.get(command_end).copied();
                if valid && !next.is_some_and(|n| is_word_char(n) || matches!(n, '/' | '<' | '>')) {
                    entities.push(Entity::new(
                        EntityKind::BotCommand,
                        utf16_at[i],
                        utf16_at[command_end] - utf16_at[i],
                    ));
                    i = command_end;
                    continue;
                }
            }
        } else if c == '@' && !prev.is_some_and(is_word_char) {
            let mut end = i + 1;
            while end < chars.len() && is_name(chars[end]) {
                end += 1;
            }
            let len = end - i - 1;
            let next = chars.get(end).copied();
            if (2..=32).contains(&len) && !next.is_some_and(is_word_char) {
                entities.push(Entity::new(
                    EntityKind::Mention,
                    utf16_at[i],
                    utf16_at[end] - utf16_at[i],
                ));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    entities
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(f: &FormattedText) -> Vec<(&'static str, usize, usize)> {
        f.entities
            .iter()
            .map(|e| (e.kind.td_name(), e.offset, e.length))
            .collect()
    }

    #[test]
    fn html_bold_italic_link_and_escapes() {
        let f = parse_html("<b>Привет</b>, <i>мир</i> &amp; <a href=\"https://t.me/x\">ссылка</a>")
            .unwrap();
        assert_eq!(f.text, "Привет, мир & ссылка");
        assert_eq!(
            kinds(&f),
            vec![("Bold", 0, 6), ("Italic", 8, 3), ("TextUrl", 14, 6)]
        );
    }

    #[test]
    fn html_nested_and_utf16_offsets() {
        let f = parse_html("😀 <b>a <i>b</i></b>").unwrap();
        assert_eq!(f.text, "😀 a b");
        assert_eq!(kinds(&f), vec![("Bold", 3, 3), ("Italic", 5, 1)]);
    }

    #[test]
    fn html_errors_match_the_server() {
        assert_eq!(
            parse_html("<b>x").unwrap_err(),
            "Can't find end tag corresponding to start tag \"b\""
        );
        assert_eq!(
            parse_html("<foo>x</foo>").unwrap_err(),
            "Unsupported start tag \"foo\" at byte offset 0"
        );
        assert_eq!(
            parse_html("a</b>").unwrap_err(),
            "Unexpected end tag at byte offset 1"
        );
        assert_eq!(
            parse_html("<b>x</i>").unwrap_err(),
            "Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\""
        );
        assert_eq!(
            parse_html("x <b").unwrap_err(),
            "Unclosed start tag at byte offset 2"
        );
        assert_eq!(
            parse_html("1 < 2").unwrap_err(),
            "Unsupported start tag \"\" at byte offset 2"
        );
        assert_eq!(
            parse_html("<span>x</span>").unwrap_err(),
            "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0"
        );
    }

    #[test]
    fn html_unknown_entity_stays_literal() {
        assert_eq!(parse_html("a &nbsp; b &#65;").unwrap().text, "a &nbsp; b A");
    }

    #[test]
    fn html_pre_with_language() {
        let f = parse_html("<pre><code class=\"language-rust\">fn main()</code></pre>").unwrap();
        assert_eq!(f.text, "fn main()");
        assert_eq!(
            f.entities,
            vec![Entity::new(
                EntityKind::Pre {
                    language: Some("rust".into())
                },
                0,
                9
            )]
        );
    }

    #[test]
    fn html_all_allowed_tags() {
        let src = "<s>a</s><u>b</u><tg-spoiler>c</tg-spoiler><span class=\"tg-spoiler\">d</span>\
                   <code>e</code><blockquote>f</blockquote><blockquote expandable>g</blockquote>\
                   <strong>h</strong><em>i</em><ins>j</ins><del>k</del><strike>l</strike>";
        let f = parse_html(src).unwrap();
        assert_eq!(f.text, "abcdefghijkl");
        assert_eq!(f.entities.len(), 12);
    }

    #[test]
    fn markdown_v2_rules() {
        let f = parse_markdown_v2(
            "*жирный* _курсив_ __подч__ ~зач~ ||сп|| `код` [ссылка](https://t.me)",
        )
        .unwrap();
        assert_eq!(f.text, "жирный курсив подч зач сп код ссылка");
        assert_eq!(f.entities.len(), 7);
        assert_eq!(
            parse_markdown_v2("Итого: 5.").unwrap_err(),
            "Character '.' is reserved and must be escaped with the preceding '\\'"
        );
        assert_eq!(parse_markdown_v2("Итого: 5\\.").unwrap().text, "Итого: 5.");
        assert_eq!(
            parse_markdown_v2("*open").unwrap_err(),
            "Can't find end of Bold entity at byte offset 0"
        );
    }

    #[test]
    fn markdown_v2_pre_and_quote() {
        let f = parse_markdown_v2("```python\nprint(1)\n```").unwrap();
        assert_eq!(f.text, "print(1)\n");
        assert_eq!(
            f.entities[0].kind,
            EntityKind::Pre {
                language: Some("python".into())
            }
        );
        let q = parse_markdown_v2(">цитата\nпосле").unwrap();
        assert_eq!(q.text, "цитата\nпосле");
        assert_eq!(kinds(&q), vec![("BlockQuote", 0, 7)]);
    }

    #[test]
    fn legacy_markdown() {
        let f = parse_markdown("*b* _i_ `c` [t](http://example.com)").unwrap();
        assert_eq!(f.text, "b i c t");
        assert_eq!(f.entities.len(), 4);
        assert_eq!(
            parse_markdown("*open").unwrap_err(),
            "Can't find end of the entity starting at byte offset 0"
        );
    }

    #[test]
    fn parse_dispatches_and_prefixes_errors() {
        assert_eq!(parse("x", None).unwrap().text, "x");
        assert!(parse("<b>x", Some("html"))
            .unwrap_err()
            .starts_with("can't parse entities: "));
        assert!(parse("x", Some("bbcode")).is_err());
    }

    #[test]
    fn detects_commands_and_mentions() {
        let e = detect_entities("/start course_12");
        assert_eq!(e, vec![Entity::new(EntityKind::BotCommand, 0, 6)]);
        let e = detect_entities("/help@uchbot_bot ok");
        assert_eq!(e, vec![Entity::new(EntityKind::BotCommand, 0, 16)]);
        assert!(detect_entities("a/b 1/2").is_empty());
        let e = detect_entities("пишите @support_team");
        assert_eq!(e, vec![Entity::new(EntityKind::Mention, 7, 13)]);
    }
}
