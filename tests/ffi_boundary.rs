//! The C ABI's panic boundary, checked on the source: every function exported from
//! `src/ffi/` (`#[no_mangle]` or `#[export_name]`)
//!   (a) is named `actnet_*` and is `extern "C"`,
//!   (b) has a body that is exactly one expression, a call to `guard(...)` or `guard_or(...)`
//!       from `src/ffi/boundary.rs`, so no panic can unwind into foreign code,
//!   (c) has a doc comment (cbindgen copies it into `include/actnet.h`).
//! It also checks that the functions found here are exactly the ones listed in
//! `tests/exported_symbols.txt` (which ctest compares with `nm -D` of the built library), so
//! an export this parser cannot see (one made by a macro, say) fails instead of slipping by.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

const BOUNDARY_FUNCTIONS: [&str; 2] = ["guard", "guard_or"];

/// One exported function as found in the source.
struct Export {
    file: String,
    line: usize,
    name: String,
    problems: Vec<String>,
}

struct Finder<'a> {
    file: &'a str,
    text: &'a str,
    exports: Vec<Export>,
    /// Functions named like the boundary helpers, defined outside boundary.rs.
    shadows: Vec<String>,
}

impl<'a> Finder<'a> {
    fn check_fn(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature, block: &syn::Block) {
        let name = sig.ident.to_string();
        if BOUNDARY_FUNCTIONS.contains(&name.as_str()) && !self.file.ends_with("boundary.rs") {
            self.shadows.push(format!("{}: fn {name} shadows the panic boundary helper", self.file));
        }
        let Some(symbol) = exported_name(attrs, &name) else { return };
        let mut problems = Vec::new();
        if !symbol.starts_with("actnet_") {
            problems.push(format!("exported name `{symbol}` does not start with `actnet_`"));
        }
        let abi = sig.abi.as_ref().map(|abi| abi.name.as_ref().map_or("C".to_owned(), |n| n.value()));
        if abi.as_deref() != Some("C") {
            problems.push(format!("not `extern \"C\"` (ABI: {})", abi.as_deref().unwrap_or("Rust")));
        }
        if let Err(why) = body_is_one_guard_call(block) {
            problems.push(why);
        }
        if !has_doc_comment(attrs) {
            problems.push("no doc comment".to_owned());
        }
        self.exports.push(Export { file: self.file.to_owned(), line: line_of(self.text, &format!("fn {}", sig.ident)), name: symbol, problems });
    }
}

impl<'ast, 'a> Visit<'ast> for Finder<'a> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.check_fn(&item.attrs, &item.sig, &item.block);
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.check_fn(&item.attrs, &item.sig, &item.block);
        syn::visit::visit_impl_item_fn(self, item);
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        let name = item.ident.to_string();
        if let Some(symbol) = exported_name(&item.attrs, &name) {
            self.exports.push(Export {
                file: self.file.to_owned(),
                line: line_of(self.text, &format!("static {}", item.ident)),
                name: symbol,
                problems: vec!["exported static: the ABI exports functions only".to_owned()],
            });
        }
        syn::visit::visit_item_static(self, item);
    }
}

/// The symbol name if the item is exported: `#[no_mangle]`, `#[unsafe(no_mangle)]`,
/// `#[export_name = "..."]` or `#[unsafe(export_name = "...")]`.
fn exported_name(attrs: &[syn::Attribute], ident: &str) -> Option<String> {
    for attr in attrs {
        let meta = match &attr.meta {
            syn::Meta::List(list) if list.path.is_ident("unsafe") => match list.parse_args::<syn::Meta>() {
                Ok(inner) => inner,
                Err(_) => continue,
            },
            other => other.clone(),
        };
        if meta.path().is_ident("no_mangle") {
            return Some(ident.to_owned());
        }
        if meta.path().is_ident("export_name") {
            if let syn::Meta::NameValue(syn::MetaNameValue {
                value: syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }),
                ..
            }) = &meta
            {
                return Some(s.value());
            }
            return Some(format!("{ident} (unreadable export_name)"));
        }
    }
    None
}

/// Ok if the block is exactly `guard(...)` or `guard_or(...)` as its tail expression (also
/// accepted: a path ending in `boundary::guard`).
fn body_is_one_guard_call(block: &syn::Block) -> Result<(), String> {
    let [stmt] = block.stmts.as_slice() else {
        return Err(format!("body has {} statements; it must be one call to guard(...) or guard_or(...)", block.stmts.len()));
    };
    let syn::Stmt::Expr(expr, None) = stmt else {
        return Err("body is not a single tail expression (a `;` or a `let`?); it must be one call to guard(...) or guard_or(...)".to_owned());
    };
    let syn::Expr::Call(call) = expr else {
        return Err("body is not a call; it must be one call to guard(...) or guard_or(...)".to_owned());
    };
    let syn::Expr::Path(path) = &*call.func else {
        return Err("body calls something that is not guard or guard_or".to_owned());
    };
    let segments: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
    let last = segments.last().map(String::as_str).unwrap_or("");
    let qualified_ok = segments.len() == 1 || segments[segments.len() - 2] == "boundary";
    if BOUNDARY_FUNCTIONS.contains(&last) && qualified_ok {
        Ok(())
    } else {
        Err(format!("body calls `{}`, not guard or guard_or", segments.join("::")))
    }
}

fn has_doc_comment(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| match &attr.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => !s.value().trim().is_empty(),
            _ => true, // #[doc = include_str!(...)]
        },
        _ => false,
    })
}

/// The line (1-based) where `needle` (e.g. "fn actnet_version") first appears as whole
/// words; 0 if it does not. (syn's spans carry no line numbers without proc-macro2's
/// span-locations feature, so the text is searched instead.)
fn line_of(text: &str, needle: &str) -> usize {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    for (number, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(at) = line[from..].find(needle).map(|i| i + from) {
            let before = line[..at].chars().next_back();
            let after = line[at + needle.len()..].chars().next();
            if !before.is_some_and(is_word) && !after.is_some_and(is_word) {
                return number + 1;
            }
            from = at + needle.len();
        }
    }
    0
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every export in src/ffi/, and every helper that shadows guard/guard_or.
fn scan() -> (Vec<Export>, Vec<String>) {
    let mut files = Vec::new();
    rust_files(&root().join("src/ffi"), &mut files);
    assert!(!files.is_empty(), "no .rs files under src/ffi");
    let mut exports = Vec::new();
    let mut shadows = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let relative = path.strip_prefix(root()).unwrap().display().to_string();
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{relative}: cannot parse: {e}"));
        let mut finder = Finder { file: &relative, text: &text, exports: Vec::new(), shadows: Vec::new() };
        finder.visit_file(&ast);
        exports.extend(finder.exports);
        shadows.extend(finder.shadows);
    }
    (exports, shadows)
}

#[test]
fn every_export_is_named_guarded_and_documented() {
    let (exports, shadows) = scan();
    assert!(
        exports.iter().any(|e| e.name == "actnet_version"),
        "found no actnet_version in src/ffi: the scan is broken ({} exports found)",
        exports.len()
    );
    let mut report = String::new();
    for e in exports.iter().filter(|e| !e.problems.is_empty()) {
        for problem in &e.problems {
            writeln!(report, "  {}:{}: {}: {}", e.file, e.line, e.name, problem).unwrap();
        }
    }
    for shadow in &shadows {
        writeln!(report, "  {shadow}").unwrap();
    }
    let offenders = exports.iter().filter(|e| !e.problems.is_empty()).count();
    assert!(
        report.is_empty(),
        "{offenders} of {} exported functions break the C ABI rules (src/ffi/boundary.rs):\n{report}",
        exports.len()
    );
}

#[test]
fn exports_found_match_exported_symbols_txt() {
    let (exports, _) = scan();
    let found: BTreeSet<&str> = exports.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(found.len(), exports.len(), "a symbol is exported twice");
    let listed_path = root().join("tests/exported_symbols.txt");
    let listed_text = std::fs::read_to_string(&listed_path).unwrap_or_else(|e| panic!("{}: {e}", listed_path.display()));
    let listed: BTreeSet<&str> = listed_text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let mut report = String::new();
    for name in found.difference(&listed) {
        let e = exports.iter().find(|e| e.name == *name).unwrap();
        writeln!(report, "  + {name} ({}:{}) is exported but not in tests/exported_symbols.txt", e.file, e.line).unwrap();
    }
    for name in listed.difference(&found) {
        writeln!(report, "  - {name} is in tests/exported_symbols.txt but no #[no_mangle] fn in src/ffi defines it").unwrap();
    }
    assert!(
        report.is_empty(),
        "the exports in src/ffi differ from tests/exported_symbols.txt:\n{report}\
         After a deliberate ABI change, regenerate the list with\n  \
         cmake --build --preset default --target update-exported-symbols"
    );
}
