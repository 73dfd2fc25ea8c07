//! Finds which entry and field a byte offset of the catalog file falls in, for the errors
//! the deserializer reports with a span only (unknown key, wrong type, missing field).
use std::ops::Range;

use toml_edit::{ImDocument, Item, Table, Value};

use super::{EntryKind, EntryRef};

#[derive(Debug, Default)]
pub(super) struct Location {
    pub entries: Vec<EntryRef>,
    /// The key or value the offset is on, as a dotted path within the innermost entry.
    pub field: Option<String>,
    /// The path prefix of the innermost table holding the offset (`""`, `attestation.`,
    /// `materials[2].`): a missing field is named relative to it.
    pub container: String,
}

/// `None` when the text is not even valid TOML (then the parser's own line is all we have).
pub(super) fn locate(text: &str, offset: usize) -> Option<Location> {
    let doc = ImDocument::parse(text).ok()?;
    let mut location = Location::default();
    walk_table(doc.as_table(), offset, "", &mut location);
    Some(location)
}

fn entry_kind(array_key: &str) -> Option<EntryKind> {
    match array_key {
        "courses" => Some(EntryKind::Course),
        "groups" => Some(EntryKind::Group),
        "lessons" => Some(EntryKind::Lesson),
        "questions" => Some(EntryKind::Question),
        _ => None,
    }
}

fn contains(span: Option<Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|r| r.start <= offset && offset < r.end.max(r.start + 1))
}

fn entry_ref(kind: EntryKind, table_id: Option<&str>, position: usize) -> EntryRef {
    EntryRef {
        kind,
        id: table_id.map(str::to_string),
        position,
    }
}

/// True when `offset` lies within `table` (its header, keys, values or nested tables);
/// fills `location` on the way.
fn walk_table(table: &Table, offset: usize, prefix: &str, location: &mut Location) -> bool {
    for (key, item) in table.iter() {
        let path = format!("{prefix}{key}");
        if contains(table.key(key).and_then(|k| k.span()), offset) {
            location.field = Some(path);
            location.container = prefix.to_string();
            return true;
        }
        let found = match item {
            Item::Value(value) => walk_value(value, offset, &path, location),
            Item::Table(sub) => walk_table(sub, offset, &format!("{path}."), location),
            Item::ArrayOfTables(array) => array.iter().enumerate().any(|(i, sub)| {
                let Some(kind) = entry_kind(key) else {
                    return walk_table(sub, offset, &format!("{path}[{}].", i + 1), location);
                };
                let mut inner = Location::default();
                if !walk_table(sub, offset, "", &mut inner) {
                    return false;
                }
                let id = sub.get("id").and_then(Item::as_str);
                location.entries.push(entry_ref(kind, id, i + 1));
                location.entries.append(&mut inner.entries);
                location.field = inner.field;
                location.container = inner.container;
                true
            }),
            Item::None => false,
        };
        if found {
            return true;
        }
    }
    if contains(table.span(), offset) {
        location.container = prefix.to_string();
        return true;
    }
    false
}

fn walk_value(value: &Value, offset: usize, path: &str, location: &mut Location) -> bool {
    match value {
        Value::InlineTable(table) => {
            for (key, item) in table.iter() {
                let inner_path = format!("{path}.{key}");
                if contains(table.key(key).and_then(|k| k.span()), offset)
                    || walk_value(item, offset, &inner_path, location)
                {
                    if location.field.is_none() {
                        location.field = Some(inner_path);
                        location.container = format!("{path}.");
                    }
                    return true;
                }
            }
        }
        Value::Array(array) => {
            for (i, item) in array.iter().enumerate() {
                if walk_value(item, offset, &format!("{path}[{}]", i + 1), location) {
                    return true;
                }
            }
        }
        _ => {}
    }
    if contains(value.span(), offset) {
        location.field = Some(path.to_string());
        location.container = format!("{path}.");
        return true;
    }
    false
}
