//! Fuzz target for the framing decoder (src/meta/tcp/framing.rs). See fuzz/README.md.
//!
//! The input states options, a chunking and a byte stream (tests/support/framing_fuzz.rs).
//! Checked on every input:
//! - `ChunkOptions::framing()` follows its documented rules and never panics;
//! - the decoder never panics, every frame has the length its framing requires (fixed: N;
//!   header: the total its header declares, within max_length), and it agrees with the
//!   reference model (tests/support/framing_model.rs) on every frame, on every error and
//!   the chunk after which it comes (so a declared length over max_length fails as soon as
//!   the header is complete), and on `has_partial` at the end;
//! - no allocation while pushing and taking frames is larger than a small multiple of the
//!   bytes pushed so far: nothing is ever allocated for a declared length.

#![no_main]

#[path = "../../tests/support/framing_fuzz.rs"]
mod framing_fuzz;
#[path = "../../tests/support/framing_model.rs"]
mod framing_model;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use actnet::meta::tcp::framing::Decoder;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

/// The system allocator, noting the largest single request while armed.
struct Probe;

static ARMED: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

impl Probe {
    fn note(size: usize) {
        if ARMED.load(Ordering::Relaxed) {
            LARGEST.fetch_max(size, Ordering::Relaxed);
        }
    }
}

unsafe impl GlobalAlloc for Probe {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Probe::note(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Probe::note(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Probe::note(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Probe = Probe;

/// Runs the decoder alone over the case, frames taken after every push, and bounds what
/// the decoder allocates by what it was given.
fn allocations_follow_the_bytes_pushed(case: &framing_fuzz::Case) {
    let mut decoder = Decoder::new(case.framing);
    let mut pushed = 0usize;
    for chunk in case.chunks() {
        let bytes = Bytes::copy_from_slice(chunk);
        pushed += chunk.len();
        LARGEST.store(0, Ordering::Relaxed);
        ARMED.store(true, Ordering::Relaxed);
        decoder.push(bytes);
        let result = loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => drop(frame),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        ARMED.store(false, Ordering::Relaxed);
        let largest = LARGEST.load(Ordering::Relaxed);
        // A partial frame is copied into a buffer that grows by doubling: at most a few
        // times the bytes pushed so far, never the declared length.
        assert!(
            largest <= 4 * pushed + 4096,
            "allocated {largest} bytes after {pushed} bytes pushed ({:?})",
            case.framing
        );
        if result.is_err() {
            return;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    framing_fuzz::check(data);
    if let Some(case) = framing_fuzz::case(data) {
        allocations_follow_the_bytes_pushed(&case);
    }
});
