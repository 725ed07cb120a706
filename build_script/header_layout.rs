//! Rearranges the header cbindgen writes so that it reads as a first introduction to actnet.
//!
//! cbindgen orders items by kind (enums, opaque types, structs, then every function) and
//! within that by the Rust sources. Here its text is cut into items (an item is a doc
//! comment and its declaration; blank lines separate items), each item is given a section
//! by the table in sections.rs, and the sections are written in order, each opening with a
//! banner. The rewrite is a pure function of cbindgen's text, so the header stays the same
//! from one build to the next. On the way:
//! - enums lose cbindgen's preprocessor scaffolding for their 32-bit type, in favour of two
//!   macros defined once (`ENUM_MACROS`);
//! - doc comments of enum variants and struct fields that hold one line become `/** ... */`.
//!
//! Anything unexpected (an item matching no section, an enum in another shape, a type used
//! before its declaration) panics: the build fails with a message saying what to change.

use crate::sections::{Pattern, Section, GROUPS};
use std::collections::HashSet;

/// cbindgen's line length: one-line doc comments are only made when they fit.
const LINE_LENGTH: usize = 100;

/// Replaces, for every enum, cbindgen's `#if`s choosing between a `uint32_t` underlying type
/// (C++, C23) and a `uint32_t` typedef (C11, which has no fixed underlying types).
const ENUM_MACROS: &str = "\
/* Enums are 32-bit. C++ and C23 give them uint32_t as their underlying type: `enum x
 * ACTNET_ENUM_UINT32 { ... }`. C11 cannot, so there the enum's name is a typedef of
 * uint32_t: `typedef ACTNET_ENUM_TYPE(x) x;`. */
#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 202311L)
#define ACTNET_ENUM_UINT32 : uint32_t
#define ACTNET_ENUM_TYPE(name) enum name
#else
#define ACTNET_ENUM_UINT32
#define ACTNET_ENUM_TYPE(name) uint32_t
#endif";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Macro,
    Enum,
    OpaqueHandle,
    /// A struct, union or other typedef.
    Type,
    Function,
}

/// One declaration with its doc comment.
struct Item {
    text: String,
    name: String,
    kind: Kind,
}

/// The parts of cbindgen's output around the items, written back unchanged.
struct Frame {
    /// Preamble, include guard, warning, includes.
    head: Vec<String>,
    extern_c_open: String,
    extern_c_close: String,
    /// The include guard's `#endif`.
    tail: String,
}

/// The header from cbindgen's `generated` text, with `version_macros` (`#define` lines)
/// opening the first section.
pub fn arrange(generated: &str, version_macros: &str) -> String {
    let (frame, chunks) = split_frame(blocks(generated));
    let items: Vec<Item> = std::iter::once(version_macros.trim().to_owned()).chain(chunks).map(Item::parse).collect();
    let placed = place(items);
    check_declared_before_use(placed.iter().map(|(_, item)| item));
    render(&frame, &placed)
}

/// The text's runs of non-blank lines.
fn blocks(text: &str) -> Vec<String> {
    let mut blocks = vec![String::new()];
    for line in text.lines() {
        let current = blocks.last_mut().unwrap();
        match (line.trim().is_empty(), current.is_empty()) {
            (true, true) => {}
            (true, false) => blocks.push(String::new()),
            (false, _) => {
                if !current.is_empty() {
                    current.push('\n');
                }
                current.push_str(line);
            }
        }
    }
    blocks.retain(|b| !b.is_empty());
    blocks
}

/// Separates the frame (everything up to the includes, the `extern "C"` block's ends and
/// the closing `#endif`) from the items. The `extern "C"` block, which cbindgen opens before
/// the first function, is widened to every item, since functions now come between types.
fn split_frame(mut blocks: Vec<String>) -> (Frame, Vec<String>) {
    let includes = blocks.iter().position(|b| b.starts_with("#include")).expect("cbindgen output has no #include");
    let head: Vec<String> = blocks.drain(..=includes).collect();
    let tail =
        blocks.pop().filter(|b| b.starts_with("#endif")).expect("cbindgen output does not end with the include guard");
    let mut take = |prefix: &str| {
        let i = blocks
            .iter()
            .position(|b| b.starts_with(prefix))
            .unwrap_or_else(|| panic!("cbindgen output has no {prefix:?}"));
        blocks.remove(i)
    };
    let extern_c_open = take("#ifdef __cplusplus\nextern \"C\" {");
    let extern_c_close = take("#ifdef __cplusplus\n}");
    (Frame { head, extern_c_open, extern_c_close, tail }, blocks)
}

impl Item {
    fn parse(text: String) -> Item {
        let (kind, name) = kind_and_name(declaration(&text))
            .unwrap_or_else(|| panic!("include/actnet.h: cannot tell what this cbindgen item declares:\n{text}"));
        let text = if kind == Kind::Enum { compact_enum(&text, &name) } else { text };
        Item { text: compact_docs(&text), name, kind }
    }
}

/// The item's first line after its doc comment.
fn declaration(text: &str) -> &str {
    let mut lines = text.lines();
    let mut line = lines.next().unwrap_or("");
    if line == "/**" {
        lines.by_ref().find(|l| *l == " */");
        line = lines.next().unwrap_or("");
    }
    line
}

/// What the declaration starting with `line` declares, and its name.
fn kind_and_name(line: &str) -> Option<(Kind, String)> {
    let word_after = |prefix: &str| line.strip_prefix(prefix).map(first_identifier);
    // Function pointer typedefs first: their return type may be `struct x *`.
    if let Some((_, pointer)) = line.split_once("(*").filter(|_| line.starts_with("typedef ")) {
        Some((Kind::Type, first_identifier(pointer)))
    } else if let Some(name) = word_after("#define ") {
        Some((Kind::Macro, name))
    } else if let Some(name) = word_after("enum ") {
        Some((Kind::Enum, name))
    } else if let Some(name) = word_after("typedef struct ").or_else(|| word_after("typedef union ")) {
        let opaque = line.ends_with(&format!(" {name};"));
        Some((if opaque { Kind::OpaqueHandle } else { Kind::Type }, name))
    } else if line.starts_with("typedef ") {
        line.strip_suffix(';').map(|l| (Kind::Type, last_identifier(l)))
    } else if let Some((before, _)) = line.split_once('(') {
        Some((Kind::Function, last_identifier(before)))
    } else {
        None
    }
    .filter(|(_, name)| !name.is_empty())
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn first_identifier(s: &str) -> String {
    s.chars().take_while(|&c| is_identifier_char(c)).collect()
}

fn last_identifier(s: &str) -> String {
    let start = s.trim_end().rfind(|c| !is_identifier_char(c)).map_or(0, |i| i + 1);
    s.trim_end()[start..].to_owned()
}

/// `enum x ACTNET_ENUM_UINT32 { ... }; typedef ACTNET_ENUM_TYPE(x) x;` for cbindgen's form
/// of a `#[repr(u32)]` enum (see `ENUM_MACROS`).
fn compact_enum(text: &str, name: &str) -> String {
    let cbindgen_open = format!(
        "enum {name}\n#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L\n  : uint32_t\n\
         #endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L\n {{\n"
    );
    let cbindgen_typedef = format!(
        "#ifndef __cplusplus\n#if __STDC_VERSION__ >= 202311L\ntypedef enum {name} {name};\n#else\n\
         typedef uint32_t {name};\n#endif // __STDC_VERSION__ >= 202311L\n#endif // __cplusplus"
    );
    if text.matches(&cbindgen_open).count() != 1 || !text.ends_with(&cbindgen_typedef) {
        panic!(
            "include/actnet.h: enum {name} is not in the form expected of a #[repr(u32)] enum \
             (build_script/header_layout.rs, compact_enum); make it #[repr(u32)] or teach \
             compact_enum the new form:\n{text}"
        );
    }
    text.replace(&cbindgen_open, &format!("enum {name} ACTNET_ENUM_UINT32 {{\n"))
        .replace(&cbindgen_typedef, &format!("typedef ACTNET_ENUM_TYPE({name}) {name};"))
}

/// Makes indented (field and variant) doc comments of one line `/** text */` when that fits
/// the line length, and drops empty lines that end a doc comment.
fn compact_docs(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let next = lines.get(i + 1).copied().unwrap_or("");
        if let Some(one_line) = one_line_doc(&lines[i..]) {
            out.push(one_line);
            i += 3;
            continue;
        }
        let empty_last_doc_line = lines[i].trim() == "*" && next.trim() == "*/" && lines[i].find('*') == next.find('*');
        if !empty_last_doc_line {
            out.push(lines[i].to_owned());
        }
        i += 1;
    }
    out.join("\n")
}

fn one_line_doc(lines: &[&str]) -> Option<String> {
    let [open, text, close, ..] = lines else { return None };
    let indent = open.strip_suffix("/**")?;
    if indent.is_empty() || indent.trim() != "" || *close != format!("{indent} */") {
        return None;
    }
    let text = text.strip_prefix(indent)?.strip_prefix(" * ")?;
    let one_line = format!("{indent}/** {text} */");
    (one_line.chars().count() <= LINE_LENGTH).then_some(one_line)
}

/// How specifically `pattern` matches `item`, if at all: the higher, the more specific.
fn specificity(pattern: &Pattern, item: &Item) -> Option<(u8, usize)> {
    let name = item.name.as_str();
    match *pattern {
        Pattern::OpaqueHandle => (item.kind == Kind::OpaqueHandle).then_some((3, 0)),
        Pattern::Name(n) => (name == n).then_some((2, n.len())),
        Pattern::Prefix(p) => {
            let rest = name.strip_prefix(p)?;
            (rest.is_empty() || rest.starts_with('_')).then_some((1, p.len()))
        }
        Pattern::Suffix(s) => name.ends_with(s).then_some((0, s.len())),
    }
}

/// The index in `GROUPS` of the group `item` belongs to.
fn group_of(item: &Item) -> usize {
    let mut best: Option<((u8, usize), usize)> = None;
    for (group, (_, patterns)) in GROUPS.iter().enumerate() {
        for rank in patterns.iter().filter_map(|p| specificity(p, item)) {
            match best {
                Some((best_rank, other)) if best_rank == rank && other != group => panic!(
                    "include/actnet.h: `{}` matches groups {other} and {group} of GROUPS in \
                     build_script/sections.rs equally well; make one pattern more specific",
                    item.name
                ),
                Some((best_rank, _)) if best_rank >= rank => {}
                _ => best = Some((rank, group)),
            }
        }
    }
    best.map(|(_, group)| group).unwrap_or_else(|| {
        panic!(
            "include/actnet.h: `{}` ({:?}) matches no section of the header. Add a name or \
             prefix for it to GROUPS in build_script/sections.rs, in the section where a reader \
             should meet it.",
            item.name, item.kind
        )
    })
}

/// Orders the items by group, types (and macros) before functions within a group, and
/// otherwise as cbindgen wrote them (which puts a struct after the types it contains).
fn place(items: Vec<Item>) -> Vec<(Section, Item)> {
    assert!(
        GROUPS.windows(2).all(|w| w[0].0 <= w[1].0),
        "GROUPS in build_script/sections.rs must list each section's groups together, in section order"
    );
    let mut keyed: Vec<((usize, bool, usize), Item)> = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| ((group_of(&item), item.kind == Kind::Function, i), item))
        .collect();
    keyed.sort_by_key(|(key, _)| *key);
    keyed.into_iter().map(|((group, _, _), item)| (GROUPS[group].0, item)).collect()
}

/// C needs a type declared before any use: a `struct x` first met in a parameter list is
/// another type, local to that prototype. Checks every type name an item uses (outside
/// comments) was declared by an earlier item.
fn check_declared_before_use<'a>(items: impl Iterator<Item = &'a Item> + Clone) {
    let all_types: HashSet<&str> =
        items.clone().filter(|i| i.kind != Kind::Function).map(|i| i.name.as_str()).collect();
    let mut declared: HashSet<&str> = HashSet::new();
    for item in items {
        let code = without_comments(&item.text);
        for word in code.split(|c| !is_identifier_char(c)) {
            if word != item.name && all_types.contains(word) && !declared.contains(word) {
                panic!(
                    "include/actnet.h: `{}` uses `{word}`, which the header declares only later. \
                     Move one of them in GROUPS (build_script/sections.rs).",
                    item.name
                );
            }
        }
        if item.kind != Kind::Function {
            declared.insert(&item.name);
        }
    }
}

fn without_comments(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        rest = rest[start..].find("*/").map_or("", |end| &rest[start + end + 2..]);
    }
    code.push_str(rest);
    code.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

fn banner(section: Section) -> String {
    let (title, lines) = section.banner();
    let mut text = format!("/* ===== {title} =====");
    for line in lines {
        text.push_str("\n * ");
        text.push_str(line);
    }
    text + " */"
}

fn render(frame: &Frame, items: &[(Section, Item)]) -> String {
    let mut blocks: Vec<String> = frame.head.clone();
    blocks.push(ENUM_MACROS.to_owned());
    blocks.push(frame.extern_c_open.clone());
    let mut section = None;
    for (this, item) in items {
        if section != Some(*this) {
            section = Some(*this);
            blocks.push(banner(*this));
        }
        blocks.push(item.text.clone());
    }
    blocks.push(frame.extern_c_close.clone());
    blocks.push(frame.tail.clone());
    blocks.join("\n\n") + "\n"
}
