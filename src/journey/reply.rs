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
}
