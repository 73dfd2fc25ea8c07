//! The texts file and the code agree: every message id the code uses is in
//! `dialogues/ru.ftl`, and every message there is used by the code.
use std::collections::BTreeSet;
use std::path::Path;

use uchbot::texts::{Texts, RU_FTL};

fn rust_files(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The string literal right after `start` in `text`, if the next token is one.
fn literal_after(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix('"')?;
    Some(&rest[..rest.find('"')?])
}

const DOCUMENT_KINDS: [&str; 3] = ["certificate", "diploma", "svidetelstvo"];

/// Message ids the code refers to: `tr!(texts, "id" …)`, `msg_id!("id")`, the literals of
/// `fn message_id` bodies, and the certificate wording's `get("id")` (with `{kind}`
/// expanded to every document kind).
fn ids_in_code() -> BTreeSet<String> {
    let mut sources = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut sources,
    );
    let mut ids = BTreeSet::new();
    for src in &sources {
        for (i, _) in src.match_indices("tr!(") {
            let args = &src[i + 4..];
            let Some(comma) = args.find(',') else {
                continue;
            };
            if let Some(id) = literal_after(&args[comma + 1..]) {
                ids.insert(id.to_owned());
            }
        }
        for (i, _) in src.match_indices("msg_id!(") {
            if let Some(id) = literal_after(&src[i + 8..]) {
                ids.insert(id.to_owned());
            }
        }
        for (i, _) in src.match_indices("fn message_id(") {
            let body = &src[i..];
            let end = body.find("\n    }\n").unwrap_or(body.len());
            for piece in body[..end].split("=> \"").skip(1) {
                ids.insert(piece[..piece.find('"').unwrap()].to_owned());
            }
        }
        for (i, _) in src.match_indices("get(\"doc-sample-") {
            if let Some(id) = literal_after(&src[i + 4..]) {
                ids.insert(id.to_owned());
            }
        }
        for (i, _) in src.match_indices("format!(\"doc-sample-{kind}-") {
            let rest = &src[i + 9..];
            let id = &rest[..rest.find('"').unwrap()];
            for kind in DOCUMENT_KINDS {
                ids.insert(id.replace("{kind}", kind));
            }
        }
    }
    ids
}

#[test]
fn every_id_the_code_uses_is_in_the_file() {
    let texts = Texts::russian();
    let missing: Vec<_> = ids_in_code()
        .into_iter()
        .filter(|id| !texts.has(id))
        .collect();
    assert!(
        missing.is_empty(),
        "missing from dialogues/ru.ftl: {missing:?}"
    );
}

#[test]
fn every_message_in_the_file_is_used() {
    let used = ids_in_code();
    let unused: Vec<_> = Texts::ids(RU_FTL)
        .into_iter()
        .filter(|id| !used.contains(id))
        .collect();
    assert!(
        unused.is_empty(),
        "in dialogues/ru.ftl but never used: {unused:?}"
    );
}

#[test]
fn the_file_parses_without_errors() {
    Texts::from_source(RU_FTL).expect("valid Fluent");
}
