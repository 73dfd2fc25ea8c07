//! The catalog file an office manager edits (`dialogues/catalog.example.toml` shows the
//! format): loading, checking, and errors that name the file, line, entry and field.
mod file;
mod locate;

use std::fmt;

pub use file::{load_catalog, parse_catalog, DEFAULT_TIMEZONE};

/// The kinds of entry the file lists, used to say where an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Course,
    Group,
    Lesson,
    Question,
}

impl EntryKind {
    pub fn noun(self) -> &'static str {
        match self {
            Self::Course => "course",
            Self::Group => "group",
            Self::Lesson => "lesson",
            Self::Question => "question",
        }
    }
}

/// One entry on the way to an error: `course "pk-fgos"`, or `lesson #3` when it has no id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef {
    pub kind: EntryKind,
    pub id: Option<String>,
    /// 1-based position among its siblings.
    pub position: usize,
}

impl fmt::Display for EntryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{} \"{}\"", self.kind.noun(), id),
            None => write!(f, "{} #{}", self.kind.noun(), self.position),
        }
    }
}

/// A catalog that cannot be loaded. `Display` gives one line for the operator:
/// `dialogues/catalog.toml:57: course "pk-fgos", group "pk-fgos-2026-12", field "ends_on": …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    pub file: String,
    /// 1-based; `None` when the error concerns the whole file.
    pub line: Option<usize>,
    pub entries: Vec<EntryRef>,
    /// Dotted path within the innermost entry: `ends_on`, `attestation.pass_percent`,
    /// `materials[2].url`.
    pub field: Option<String>,
    pub reason: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        let mut place: Vec<String> = self.entries.iter().map(ToString::to_string).collect();
        if let Some(field) = &self.field {
            place.push(format!("field \"{field}\""));
        }
        if !place.is_empty() {
            write!(f, "{}: ", place.join(", "))?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for CatalogError {}

/// The example catalog built into the binary (`uchbot shell` loads it): the files are
/// written to a temporary folder so the offer document is read and hashed as on import.
pub fn example_catalog() -> Result<crate::domain::catalog::Catalog, CatalogError> {
    const CATALOG: &str = include_str!("../../dialogues/catalog.example.toml");
    const OFFER: &str = include_str!("../../dialogues/offer.md");
    // One folder per call: threads of one process (tests) must not remove each other's.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("uchbot-example-{}-{call}", std::process::id()));
    let written = std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(dir.join("offer.md"), OFFER))
        .and_then(|_| std::fs::write(dir.join("catalog.example.toml"), CATALOG));
    if let Err(e) = written {
        return Err(CatalogError {
            file: dir.display().to_string(),
            line: None,
            entries: Vec::new(),
            field: None,
            reason: format!("cannot write the example catalog: {e}"),
        });
    }
    let result = load_catalog(&dir.join("catalog.example.toml"));
    let _ = std::fs::remove_dir_all(&dir);
    result
}
