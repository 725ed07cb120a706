//! The layering rule (DESIGN.md): the actor core, `src/node` and `src/process`, imports
//! nothing from `meta` (the meta-processes built on it), `ffi` (the C ABI that translates
//! it) or `buf` (the buffer pools of those two). Where the core must carry something for
//! them, it defines the type or trait and they implement it.
//!
//! Checked on the source text, comments and string literals removed, for any path that
//! names one of those modules: `use` lines, fully qualified paths in code
//! (`crate::meta::…`), paths through the crate's name, and `super::` chains that climb out
//! of the core (`super::super::meta`).

use std::fs;
use std::path::{Path, PathBuf};

const CORE: [&str; 2] = ["node", "process"];
const FORBIDDEN: [&str; 3] = ["meta", "ffi", "buf"];

#[test]
fn the_core_imports_nothing_from_meta_ffi_or_buf() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut checked = 0;
    for dir in CORE {
        for file in rust_files(&src.join(dir)) {
            checked += 1;
            let code = strip_comments_and_strings(&fs::read_to_string(&file).unwrap());
            let depth = file.strip_prefix(&src).unwrap().components().count() - 1;
            for (n, line) in code.lines().enumerate() {
                for name in forbidden_paths(line, depth) {
                    violations.push(format!("{}:{}: {name}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(checked > 10, "found the core's files ({checked})");
    assert!(violations.is_empty(), "the core imports from meta, ffi or buf:\n{}", violations.join("\n"));
}

/// The forbidden modules a line's paths reach. `depth` is how many folders below `src/` the
/// file is, so how many `super::` lead from its module to the crate root (a `mod.rs` is one
/// fewer, which only makes the check stricter).
fn forbidden_paths(line: &str, depth: usize) -> Vec<&'static str> {
    let mut found = Vec::new();
    let compact = compact(line);
    for name in FORBIDDEN {
        let mut roots = vec![format!("crate::{name}"), format!("actnet::{name}")];
        // `super::` repeated up to the root and beyond, then the name.
        for ups in 1..=depth + 1 {
            roots.push(format!("{}{name}", "super::".repeat(ups)));
        }
        // A grouped import from the root: `use crate::{meta::…}` or `crate::{x, buf}`.
        for root in ["crate::{", "actnet::{"] {
            if let Some(at) = compact.find(root) {
                let group = &compact[at + root.len()..];
                let group = &group[..group.find('}').unwrap_or(group.len())];
                if group.split(',').any(|item| item == name || item.starts_with(&format!("{name}::"))) {
                    found.push(name);
                }
            }
        }
        if roots.iter().any(|root| contains_path(&compact, root)) {
            found.push(name);
        }
    }
    found.dedup();
    found
}

/// The line with the spaces inside paths and groups removed (`crate :: meta`, `{ meta }`).
fn compact(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let joins = |c: Option<&char>| c.is_some_and(|c| matches!(c, ':' | '{' | '}' | ','));
    let mut out = String::with_capacity(line.len());
    for (i, c) in chars.iter().enumerate() {
        if c.is_whitespace() {
            let before = chars[..i].iter().rev().find(|c| !c.is_whitespace());
            let after = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if joins(before) || joins(after) || before.is_some_and(|b| b.is_whitespace()) {
                continue;
            }
        }
        out.push(*c);
    }
    out
}

/// Whether `root` occurs as a path (not as the tail of a longer identifier, like
/// `metadata` for `meta`).
fn contains_path(code: &str, root: &str) -> bool {
    code.match_indices(root).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + root.len()..].chars().next();
        let starts = !before.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let ends = !after.is_some_and(|c| c.is_alphanumeric() || c == '_');
        starts && ends
    })
}

/// The code without comments, string and char literals (their text would otherwise count).
fn strip_comments_and_strings(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let (c, next) = (chars[i], chars.get(i + 1).copied());
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                } else if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            // A char literal like 'x' (lifetimes have no closing quote two on).
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_check_catches_every_form_of_path() {
    let caught = |line: &str| forbidden_paths(&strip_comments_and_strings(line), 1);
    assert_eq!(caught("use crate::meta::meta_process::MetaShared;"), ["meta"]);
    assert_eq!(caught("use crate::meta;"), ["meta"]);
    assert_eq!(caught("use crate::{error::Error, ffi::status};"), ["ffi"]);
    assert_eq!(caught("use crate::{buf, error};"), ["buf"]);
    assert_eq!(caught("    let p = crate::buf::pool::Pool::new(0, 1);"), ["buf"]);
    assert_eq!(caught("    x: crate :: meta :: tcp :: pool :: Buf,"), ["meta"]);
    assert_eq!(caught("use super::super::meta::tcp;"), ["meta"]);
    assert_eq!(caught("fn f() -> super::super::ffi::Status {"), ["ffi"]);
    assert_eq!(caught("use actnet::ffi::status;"), ["ffi"]);
    assert_eq!(caught("    ::actnet::buf::pool::Pool::new(1, 1)"), ["buf"]);
    // Not paths into those modules.
    assert!(caught("use crate::node::meta_entry::MetaEntry;").is_empty());
    assert!(caught("let metadata = crate::node::metas(); // crate::meta::x").is_empty());
    assert!(caught("let s = \"crate::ffi::x\"; /* crate::buf */").is_empty());
    assert!(caught("use super::buffer;").is_empty());
}
