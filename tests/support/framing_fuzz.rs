//! The body of the `framing` fuzz target (`fuzz/fuzz_targets/framing.rs`), shared with the
//! plain tests in `tests/framing_props.rs` so that an input the fuzzer found replays under
//! `cargo test` on the stable toolchain (put the file in `tests/framing_fuzz_regressions/`).
//!
//! An input is read as: options, a chunking, then the byte stream itself (all the rest).
//! Missing bytes read as 0, so every input is a case.
//!
//! ```text
//! byte 0        mode: low 3 bits 0 = raw option values through ChunkOptions::framing()
//!               (checked against the documented rules); 1 = fixed; otherwise header
//! ...           the options' values (see `case`)
//! next byte     n = byte % 17 chunk sizes follow, one byte each (0 = an empty push),
//!               used in turn until the stream is cut up
//! next byte     bit i set: do not take frames after push i (mod 8); 0 = after every push
//! rest          the stream
//! ```

#![allow(dead_code)] // each includer uses a different part

use actnet::meta::tcp::framing::{ChunkOptions, Framing};
use actnet::Error;

use crate::framing_model::{expected_framing, run_decoder, run_model, split};

/// One fuzz case: how to frame, where to cut, when to take frames, and the stream.
#[derive(Debug)]
pub struct Case<'a> {
    pub framing: Framing,
    pub cuts: Vec<usize>,
    pub drain: Vec<bool>,
    pub stream: &'a [u8],
}

impl Case<'_> {
    pub fn chunks(&self) -> Vec<&[u8]> {
        split(self.stream, &self.cuts)
    }
}

struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
}

/// Option values on every boundary `ChunkOptions::framing()` has.
const EDGES: [i64; 16] = [
    i64::MIN,
    -1,
    0,
    1,
    2,
    3,
    4,
    5,
    65535,
    65536,
    65537,
    i32::MAX as i64,
    i64::MAX - 4,
    i64::MAX - 3,
    i64::MAX - 1,
    i64::MAX,
];

/// Reads a case from fuzz input. `None` when the input states options that `framing()`
/// (rightly) refuses. Panics if `framing()` disagrees with its documented rules.
pub fn case(data: &[u8]) -> Option<Case<'_>> {
    let mut r = Reader { data };
    let mode = r.byte();
    let options = match mode & 7 {
        0 => {
            // Raw values: small ones, or (high bit set) one of the edges.
            let value = |r: &mut Reader| {
                let b = r.byte();
                if b & 0x80 != 0 {
                    EDGES[usize::from(b & 15)]
                } else {
                    i64::from(b)
                }
            };
            ChunkOptions {
                enable: mode & 0x80 == 0,
                fixed_length: value(&mut r),
                header_size: value(&mut r),
                length_position: value(&mut r),
                length_size: value(&mut r),
                includes_header: mode & 0x40 != 0,
                max_length: value(&mut r),
            }
        }
        1 => {
            let n = r.byte();
            let length = if n & 0x80 != 0 { 1 + i64::from(r.u16()) } else { 1 + i64::from(n & 63) };
            let m = r.byte();
            let max_length = match m & 3 {
                0 => 0,
                1 => length + i64::from(m >> 2),
                2 => length + i64::from(r.u16()),
                _ => length,
            };
            ChunkOptions { enable: true, fixed_length: length, max_length, ..Default::default() }
        }
        _ => {
            let h = r.byte();
            let header_size = if h & 0x80 != 0 { 1 + i64::from(r.u16() % 1024) } else { 1 + i64::from(h % 16) };
            let mut length_size = [1, 2, 4][usize::from(r.byte() % 3)];
            while length_size > header_size {
                length_size /= 2;
            }
            let length_position = i64::from(r.u16()) % (header_size - length_size + 1);
            let max_length = match (mode >> 3) & 3 {
                0 => 0,
                1 => header_size + i64::from(r.byte()),
                2 => header_size + i64::from(r.u16()),
                _ => header_size + i64::from(r.u32() % (1 << 24)),
            };
            ChunkOptions {
                enable: true,
                header_size,
                length_position,
                length_size,
                includes_header: mode & 0x20 != 0,
                max_length,
                ..Default::default()
            }
        }
    };
    let framing = match (expected_framing(&options), options.framing()) {
        (Some(want), Ok(got)) if want == got => got,
        (None, Err(Error::InvalidArgument)) => return None,
        (want, got) => panic!("framing() of {options:?}: {got:?}, documented rules say {want:?}"),
    };

    let sizes: Vec<usize> = (0..r.byte() % 17).map(|_| usize::from(r.byte())).collect();
    let drain_mask = r.byte();
    let drain: Vec<bool> = (0..8).map(|i| drain_mask & (1 << i) == 0).collect();
    let stream = r.data;

    let mut cuts = Vec::new();
    if sizes.iter().sum::<usize>() > 0 {
        let mut at = 0;
        for size in sizes.iter().cycle() {
            at += size;
            if at >= stream.len() {
                break;
            }
            cuts.push(at);
        }
    }
    Some(Case { framing, cuts, drain, stream })
}

/// The fuzz target's checks: `framing()` follows its rules (in `case`); the decoder does not
/// panic, returns frames of the right length (`run_decoder`), and agrees with the model on
/// every frame, error and the final `has_partial`.
pub fn check(data: &[u8]) {
    let Some(case) = case(data) else { return };
    let chunks = case.chunks();
    let want = run_model(case.framing, &chunks, &case.drain);
    let got = run_decoder(case.framing, &chunks, &case.drain);
    assert_eq!(got, want, "decoder and model differ for {case:?}");
}
