//! A deliberately simple reference model of the framing in `src/meta/tcp/framing.rs`, and
//! the drivers that run the model and the real `Decoder` over the same chunks.
//!
//! Shared by the property tests (`tests/framing_props.rs`) and the fuzz target
//! (`fuzz/fuzz_targets/framing.rs`), both of which include this file with `#[path]`. It uses
//! only `actnet`'s public framing types (as plain data) and `bytes`.
//!
//! The model is written to be obviously right rather than fast: every byte pushed goes into
//! one `Vec`; a frame is taken from the front of it when the whole frame is there. It shares
//! no code with the decoder (no `bytes::Buf`, no zero-copy split, no chunk/partial split).

#![allow(dead_code)] // each includer uses a different part

use actnet::meta::tcp::framing::{ChunkOptions, Decoder, FrameError, Framing};
use bytes::Bytes;

/// The reference model of `Decoder`.
pub struct Model {
    framing: Framing,
    bytes: Vec<u8>,
}

impl Model {
    pub fn new(framing: Framing) -> Model {
        Model { framing, bytes: Vec::new() }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
    }

    pub fn has_partial(&self) -> bool {
        !self.bytes.is_empty()
    }

    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let total: u64 = match self.framing {
            // No framing: whatever is buffered is one frame.
            Framing::None => self.bytes.len() as u64,
            Framing::Fixed { length } => length as u64,
            Framing::Header { header_size, length_position, length_size, includes_header, max_length } => {
                if self.bytes.len() < header_size {
                    return Ok(None);
                }
                // Big-endian, one byte at a time.
                let mut length: u64 = 0;
                for i in 0..length_size {
                    length = length * 256 + u64::from(self.bytes[length_position + i]);
                }
                let total = if includes_header {
                    if length < header_size as u64 {
                        return Err(FrameError::InvalidLength { length });
                    }
                    length
                } else {
                    length + header_size as u64
                };
                if max_length > 0 && total > max_length as u64 {
                    return Err(FrameError::TooLong { length: total });
                }
                total
            }
        };
        if (self.bytes.len() as u64) < total {
            return Ok(None);
        }
        let frame: Vec<u8> = self.bytes.drain(..total as usize).collect();
        Ok(Some(frame))
    }
}

/// What a run over a chunked stream observed, in order. `chunk` is the index of the chunk
/// after whose push the event happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Frame {
        chunk: usize,
        bytes: Vec<u8>,
    },
    /// The run stops at the first error (as a connection does: it disconnects).
    Error {
        chunk: usize,
        error: FrameError,
    },
    /// After the last chunk, when no error stopped the run.
    End {
        has_partial: bool,
    },
}

/// Cuts `stream` at `cuts` (positions, in any order, duplicates giving empty chunks).
pub fn split<'a>(stream: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(stream.len())).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for end in cuts {
        chunks.push(&stream[start..end]);
        start = end;
    }
    chunks.push(&stream[start..]);
    chunks
}

/// Whether frames are taken after the push of chunk `i`: as `drain` says (cycled), and
/// always after the last chunk.
fn drains(drain: &[bool], i: usize, chunks: usize) -> bool {
    i + 1 == chunks || drain.is_empty() || drain[i % drain.len()]
}

/// Runs the reference model over `chunks`.
pub fn run_model(framing: Framing, chunks: &[&[u8]], drain: &[bool]) -> Vec<Event> {
    let mut model = Model::new(framing);
    let mut events = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        model.push(chunk);
        if !drains(drain, i, chunks.len()) {
            continue;
        }
        loop {
            match model.next_frame() {
                Ok(Some(bytes)) => events.push(Event::Frame { chunk: i, bytes }),
                Ok(None) => break,
                Err(error) => {
                    events.push(Event::Error { chunk: i, error });
                    return events;
                }
            }
        }
    }
    events.push(Event::End { has_partial: model.has_partial() });
    events
}

/// Runs the real decoder over `chunks`, each pushed as its own `Bytes`. Checks on the way
/// what holds whatever the model says: every frame has the length its framing requires
/// (`check_frame_shape`), and an error, once returned, is returned again.
pub fn run_decoder(framing: Framing, chunks: &[&[u8]], drain: &[bool]) -> Vec<Event> {
    let mut decoder = Decoder::new(framing);
    let mut events = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        decoder.push(Bytes::copy_from_slice(chunk));
        if !drains(drain, i, chunks.len()) {
            continue;
        }
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    check_frame_shape(framing, &frame);
                    events.push(Event::Frame { chunk: i, bytes: frame.to_vec() });
                }
                Ok(None) => break,
                Err(error) => {
                    assert_eq!(decoder.next_frame(), Err(error), "the error is sticky");
                    events.push(Event::Error { chunk: i, error });
                    return events;
                }
            }
        }
    }
    events.push(Event::End { has_partial: decoder.has_partial() });
    events
}

/// A frame has the length its framing requires: fixed, exactly N; header, the total its own
/// header declares, within `max_length`, never shorter than the header.
pub fn check_frame_shape(framing: Framing, frame: &[u8]) {
    assert!(!frame.is_empty(), "empty frame");
    match framing {
        Framing::None => {}
        Framing::Fixed { length } => assert_eq!(frame.len(), length, "fixed frame of the wrong length"),
        Framing::Header { header_size, length_position, length_size, includes_header, max_length } => {
            assert!(frame.len() >= header_size, "frame shorter than its header");
            let declared = frame[length_position..length_position + length_size]
                .iter()
                .fold(0u64, |n, &b| (n << 8) | u64::from(b));
            let total = if includes_header { declared } else { declared + header_size as u64 };
            assert_eq!(frame.len() as u64, total, "frame length differs from its header's");
            assert!(max_length == 0 || frame.len() <= max_length, "frame over max_length");
        }
    }
}

/// What `ChunkOptions::framing()` should answer, from its documented rules, computed in
/// `i128` so that no sum can overflow. `None`: refused (`InvalidArgument`).
pub fn expected_framing(o: &ChunkOptions) -> Option<Framing> {
    if !o.enable {
        return Some(Framing::None);
    }
    let [fixed, header, position, size, max] =
        [o.fixed_length, o.header_size, o.length_position, o.length_size, o.max_length].map(i128::from);
    if fixed < 0 || header < 0 || position < 0 || size < 0 || max < 0 {
        return None;
    }
    if fixed > 0 {
        if max > 0 && fixed > max {
            return None;
        }
        return Some(Framing::Fixed { length: fixed as usize });
    }
    if header == 0 || header > 65536 {
        return None;
    }
    if !(size == 1 || size == 2 || size == 4) {
        return None;
    }
    if position + size > header {
        return None;
    }
    if max > 0 && max < header {
        return None;
    }
    Some(Framing::Header {
        header_size: header as usize,
        length_position: position as usize,
        length_size: size as usize,
        includes_header: o.includes_header,
        max_length: max as usize,
    })
}
