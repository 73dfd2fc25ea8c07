//! What the bot shows: text (Telegram HTML) with buttons. Channels render it: Telegram as a
//! message with an inline keyboard, email as a letter, the shell as numbered choices.
use super::action::Action;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Button {
    Action { label: String, action: Action },
    Url { label: String, url: String },
}

impl Button {
    pub fn action(label: impl Into<String>, action: Action) -> Self {
        Self::Action {
            label: label.into(),
            action,
        }
    }

    pub fn url(label: impl Into<String>, url: impl Into<String>) -> Self {
        Self::Url {
            label: label.into(),
            url: url.into(),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Self::Action { label, .. } | Self::Url { label, .. } => label,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    /// Telegram HTML: values inside are escaped by `Texts`.
    pub text: String,
    pub buttons: Vec<Vec<Button>>,
    /// Show the main menu keyboard under the input field.
    pub menu: bool,
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    pub fn row(mut self, row: Vec<Button>) -> Self {
        if !row.is_empty() {
            self.buttons.push(row);
        }
        self
    }

    pub fn button(self, button: Button) -> Self {
        self.row(vec![button])
    }

    pub fn with_menu(mut self) -> Self {
        self.menu = true;
        self
    }

    /// Every button, row by row (the shell numbers them in this order).
    pub fn all_buttons(&self) -> impl Iterator<Item = &Button> {
        self.buttons.iter().flatten()
    }
}

/// The text without HTML tags and entities, for letters and logs.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// A reply as the text of a letter: links keep their addresses («Запись (https://…)») and
/// URL buttons become lines «label: address», which a letter could not show otherwise.
pub fn letter_text(reply: &Reply) -> String {
    let mut html = String::with_capacity(reply.text.len());
    let mut rest = reply.text.as_str();
    while let Some(start) = rest.find("<a href=\"") {
        let after = &rest[start + 9..];
        let parsed = after.find('"').and_then(|q| {
            let url = &after[..q];
            let body = &after[q..];
            let open_end = body.find('>')?;
            let inner = &body[open_end + 1..];
            let close = inner.find("</a>")?;
            Some((url, &inner[..close], &inner[close + 4..]))
        });
        let Some((url, label, tail)) = parsed else {
            break;
        };
        html.push_str(&rest[..start]);
        html.push_str(label);
        if plain_text(label).trim() != plain_text(url).trim() {
            html.push_str(" (");
            html.push_str(url);
            html.push(')');
        }
        rest = tail;
    }
    html.push_str(rest);
    let mut text = plain_text(&html);
    for button in reply.all_buttons() {
        if let Button::Url { label, url } = button {
            text.push_str(&format!("\n\n{label}: {url}"));
        }
    }
    text
}

/// Escapes text for Telegram HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_through_plain_text() {
        let raw = "ООО «Центр» <b>&</b> \"x\"";
        assert_eq!(plain_text(&escape(raw)), raw);
        assert_eq!(plain_text("<b>Курс</b> &amp; ещё"), "Курс & ещё");
    }

    #[test]
    fn letters_keep_link_addresses_and_url_buttons() {
        let reply = Reply::text(
            "<b>Материалы</b>\n• <a href=\"https://e.org/a?x=1&amp;y=2\">Презентация</a>\n\
             • <a href=\"https://e.org/b\">https://e.org/b</a>",
        )
        .button(Button::url(
            "▶️ Войти на вебинар",
            "https://my.mts-link.ru/j/1",
        ))
        .button(Button::action("Статус", Action::Status));
        assert_eq!(
            letter_text(&reply),
            "Материалы\n• Презентация (https://e.org/a?x=1&y=2)\n• https://e.org/b\n\n\
             ▶️ Войти на вебинар: https://my.mts-link.ru/j/1"
        );
        // Broken markup does not panic; plain text survives.
        assert_eq!(letter_text(&Reply::text("Текст <a href=\"x")), "Текст ");
    }
}
