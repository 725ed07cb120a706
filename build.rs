//! Generates `include/actnet.h` with cbindgen, then arranges it in sections that read as a
//! tutorial (build_script/: sections.rs says which item goes where). The header is
//! committed; the test workflow checks that a build leaves it unchanged. It is rewritten
//! only when its text changes, so builds do not touch its modification time needlessly.

#[path = "build_script/header_layout.rs"]
mod header_layout;
#[path = "build_script/sections.rs"]
mod sections;

use std::path::PathBuf;

const PREAMBLE: &str = "\
/*
 * actnet: an actor runtime whose TCP sockets are meta-processes.
 *
 * Conventions (see README.md and docs/):
 * - Every fallible function returns an actnet_status; 0 (ACTNET_STATUS_OK) is success and
 *   out-parameters are written only on success. actnet_status_str() describes a code.
 * - The node, behaviours, pools, buffers and inspect results are opaque pointers. The node
 *   handle outlives actnet_node_stop (later calls return ACTNET_STATUS_NODE_STOPPING) until
 *   actnet_node_free releases it.
 * - Processes are actnet_pid and meta-processes (servers, connections, forwarders)
 *   actnet_alias: distinct one-field structs passed by value, so one cannot stand for the
 *   other. Ids are never reused during a node's life: a stale id gives
 *   ACTNET_STATUS_NOT_FOUND, an id of the other kind ACTNET_STATUS_WRONG_KIND, never a crash.
 * - Options structs start with struct_size; fill them with their _init() function first.
 *   Fields are only ever appended and nested options go by pointer: a program built
 *   against an older header passes a smaller struct_size and gets the defaults of the
 *   fields it does not know.
 * - Callbacks take user_data first. A registration's free_user_data runs exactly once; if
 *   the registering call fails, no callback runs and user_data stays the caller's.
 * - A process's handle_message runs on a runtime worker thread, one message at a time,
 *   never concurrently for one process; different processes run in parallel. Every function
 *   may be called from any thread, including from callbacks, unless its comment says
 *   otherwise (actnet_node_stop, actnet_node_free). Callbacks receive the same actnet_node
 *   pointer that actnet_node_start returned.
 * - Order: sends (and connection writes) take effect when the call returns, so two calls
 *   where the first returns before the second begins are delivered in that order, whatever
 *   threads make them.
 * - Bytes handed to a callback are borrowed until it returns, unless the field says that
 *   ownership moves (actnet_message.buf).
 * - Callbacks must not unwind (no C++ exceptions or longjmp out of them).
 */";

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build_script");
    link_args();

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    config.header = Some(PREAMBLE.to_owned());
    let bindings = cbindgen::Builder::new().with_crate(&crate_dir).with_config(config).generate().expect("cbindgen");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("cbindgen wrote UTF-8");
    let text = header_layout::arrange(&generated, &version_macros()).into_bytes();
    let path = crate_dir.join("include/actnet.h");
    if std::fs::read(&path).ok().as_deref() != Some(&text[..]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
}

fn version_macros() -> String {
    let v = |k: &str| std::env::var(k).unwrap();
    format!(
        "/**\n * The version of this header (`actnet_version` gives the library's).\n */\n\
         #define ACTNET_VERSION_MAJOR {}\n#define ACTNET_VERSION_MINOR {}\n#define ACTNET_VERSION_PATCH {}\n#define ACTNET_VERSION_STRING \"{}\"",
        v("CARGO_PKG_VERSION_MAJOR"),
        v("CARGO_PKG_VERSION_MINOR"),
        v("CARGO_PKG_VERSION_PATCH"),
        v("CARGO_PKG_VERSION"),
    )
}

/// The shared library's SONAME names its ABI (`soversion`); only `actnet_*` is exported.
fn link_args() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let crate_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libactnet.so.{}", soversion());
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={crate_dir}/src/ffi/exports.map");
        println!("cargo:rerun-if-changed=src/ffi/exports.map");
    }
}

/// The major version from 1.0; before 1.0, where a minor release may break the ABI
/// (CHANGELOG.md), major.minor. cmake/Cargo.cmake applies the same rule.
fn soversion() -> String {
    let (major, minor) = (std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap(), std::env::var("CARGO_PKG_VERSION_MINOR").unwrap());
    match major.as_str() {
        "0" => format!("0.{minor}"),
        _ => major,
    }
}
