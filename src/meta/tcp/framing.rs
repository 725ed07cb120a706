//! Framing (chunking): turns the byte stream of a connection into frames.
//!
//! Fixed length: every frame is exactly N bytes. Header: a header of `header_size` bytes
//! holds a big-endian length of `length_size` bytes at `length_position`; the length counts
//! the payload, or header plus payload. A frame is delivered as header + payload. The declared
//! length is checked against `max_length` as soon as the header is complete, before anything
//! is allocated for the payload.
//!
//! Bytes arrive as shared chunks. Whole frames inside a chunk are split off without copying;
//! only a partial frame at the end of a chunk is copied into the decoder's own buffer, which
//! is released as soon as it is empty, so an idle connection holds none.

use bytes::{Bytes, BytesMut};

use crate::error::{Error, Result};

/// How a connection's byte stream is cut into frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    /// Each read is delivered as it came.
    #[default]
    None,
    Fixed {
        length: usize,
    },
    Header {
        header_size: usize,
        length_position: usize,
        length_size: usize,
        includes_header: bool,
        /// 0 means no limit.
        max_length: usize,
    },
}

/// Framing options as a user states them (signed, like the reference's ints, so that
/// negative values can be seen and refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkOptions {
    pub enable: bool,
    pub fixed_length: i64,
    pub header_size: i64,
    pub length_position: i64,
    pub length_size: i64,
    pub includes_header: bool,
    pub max_length: i64,
}

/// Largest header accepted: a header is buffered whole before its length is read.
const MAX_HEADER_SIZE: i64 = 64 * 1024;

impl ChunkOptions {
    /// Validates the options once, when a server or client is created.
    pub fn framing(&self) -> Result<Framing> {
        if !self.enable {
            return Ok(Framing::None);
        }
        let ChunkOptions { fixed_length, header_size, length_position, length_size, max_length, .. } = *self;
        if fixed_length < 0 || max_length < 0 || header_size < 0 || length_position < 0 || length_size < 0 {
            return Err(Error::InvalidArgument);
        }
        if fixed_length > 0 {
            if max_length > 0 && fixed_length > max_length {
                return Err(Error::InvalidArgument);
            }
            return Ok(Framing::Fixed { length: fixed_length as usize });
        }
        let valid = header_size > 0
            && header_size <= MAX_HEADER_SIZE
            && matches!(length_size, 1 | 2 | 4)
            // Not `length_position + length_size <= header_size`: that sum can overflow.
            && length_position <= header_size - length_size
            && (max_length == 0 || max_length >= header_size);
        if !valid {
            return Err(Error::InvalidArgument);
        }
        Ok(Framing::Header {
            header_size: header_size as usize,
            length_position: length_position as usize,
            length_size: length_size as usize,
            includes_header: self.includes_header,
            max_length: max_length as usize,
        })
    }
}

/// Why the stream cannot be framed any further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// A header declared a frame longer than `max_length`.
    TooLong { length: u64 },
    /// A header declared a length smaller than the header itself.
    InvalidLength { length: u64 },
}

/// Cuts a byte stream into frames.
#[derive(Debug)]
pub struct Decoder {
    framing: Framing,
    /// A whole chunk as it arrived, while no partial frame is buffered.
    chunk: Bytes,
    /// A partial frame (and whatever followed it).
    partial: BytesMut,
}

impl Decoder {
    pub fn new(framing: Framing) -> Decoder {
        Decoder { framing, chunk: Bytes::new(), partial: BytesMut::new() }
    }

    /// Adds bytes read from the connection.
    pub fn push(&mut self, bytes: Bytes) {
        if self.partial.is_empty() && self.chunk.is_empty() {
            self.chunk = bytes;
        } else {
            self.hold_chunk();
            self.partial.extend_from_slice(&bytes);
        }
    }

    /// Whether bytes of an incomplete frame are waiting (at end of stream: a truncated frame).
    pub fn has_partial(&self) -> bool {
        !self.chunk.is_empty() || !self.partial.is_empty()
    }

    /// The next complete frame, if the buffered bytes hold one.
    pub fn next_frame(&mut self) -> std::result::Result<Option<Bytes>, FrameError> {
        let available = self.chunk.len() + self.partial.len();
        if available == 0 {
            return Ok(None);
        }
        let needed = match self.frame_length()? {
            Some(n) if n <= available => n,
            _ => {
                // Keep the partial frame in our own buffer rather than pinning the chunk.
                self.hold_chunk();
                return Ok(None);
            }
        };
        if self.partial.is_empty() {
            return Ok(Some(self.chunk.split_to(needed)));
        }
        let frame = self.partial.split_to(needed).freeze();
        if self.partial.is_empty() {
            self.partial = BytesMut::new();
        }
        Ok(Some(frame))
    }

    /// The length of the frame at the front, once enough of it is buffered to tell.
    fn frame_length(&self) -> std::result::Result<Option<usize>, FrameError> {
        match self.framing {
            Framing::None => Ok(Some(self.chunk.len() + self.partial.len())),
            Framing::Fixed { length } => Ok(Some(length)),
            Framing::Header { header_size, length_position, length_size, includes_header, max_length } => {
                let front: &[u8] = if self.partial.is_empty() { &self.chunk } else { &self.partial };
                if front.len() < header_size {
                    return Ok(None);
                }
                let declared = big_endian(&front[length_position..length_position + length_size]);
                let total = if includes_header {
                    if declared < header_size as u64 {
                        return Err(FrameError::InvalidLength { length: declared });
                    }
                    declared
                } else {
                    declared + header_size as u64
                };
                if max_length > 0 && total > max_length as u64 {
                    return Err(FrameError::TooLong { length: total });
                }
                Ok(Some(total as usize))
            }
        }
    }

    fn hold_chunk(&mut self) {
        if !self.chunk.is_empty() {
            let chunk = std::mem::take(&mut self.chunk);
            self.partial.extend_from_slice(&chunk);
        }
    }
}

/// A length field of 1, 2 or 4 bytes, big-endian. Read as a whole (not through
/// `Buf::get_uint`, whose byte copy into a wider buffer stalled the load that followed it:
/// half of the frame decoder's time on 64-byte frames).
fn big_endian(field: &[u8]) -> u64 {
    match *field {
        [a] => u64::from(a),
        [a, b] => u64::from(u16::from_be_bytes([a, b])),
        [a, b, c, d] => u64::from(u32::from_be_bytes([a, b, c, d])),
        _ => unreachable!("length sizes are validated to 1, 2 or 4"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(size: i64, position: i64, length_size: i64, includes: bool, max: i64) -> Framing {
        ChunkOptions {
            enable: true,
            header_size: size,
            length_position: position,
            length_size,
            includes_header: includes,
            max_length: max,
            ..Default::default()
        }
        .framing()
        .unwrap()
    }

    /// Feeds `stream` split at `cuts` and returns the frames, or the error.
    fn decode(framing: Framing, stream: &[u8], cuts: &[usize]) -> std::result::Result<Vec<Vec<u8>>, FrameError> {
        let mut d = Decoder::new(framing);
        let mut frames = Vec::new();
        let mut start = 0;
        for &end in cuts.iter().chain(std::iter::once(&stream.len())) {
            d.push(Bytes::copy_from_slice(&stream[start..end]));
            start = end;
            while let Some(f) = d.next_frame()? {
                frames.push(f.to_vec());
            }
        }
        Ok(frames)
    }

    #[test]
    fn validation_rejects_what_the_reference_accepts_by_mistake() {
        let base = ChunkOptions { enable: true, header_size: 4, length_size: 4, ..Default::default() };
        assert!(base.framing().is_ok());
        for bad in [
            ChunkOptions { fixed_length: -1, ..base },
            ChunkOptions { length_position: -1, ..base },
            ChunkOptions { length_size: 3, ..base },
            ChunkOptions { length_position: 2, ..base },
            ChunkOptions { header_size: 0, ..base },
            ChunkOptions { max_length: 2, ..base },
            ChunkOptions { fixed_length: 100, max_length: 10, ..base },
        ] {
            assert_eq!(bad.framing(), Err(Error::InvalidArgument), "{bad:?}");
        }
        assert_eq!(ChunkOptions { fixed_length: -1, ..Default::default() }.framing(), Ok(Framing::None));
    }

    #[test]
    fn fixed_frames_survive_every_split() {
        let stream: Vec<u8> = (0..40u8).collect();
        let want: Vec<Vec<u8>> = stream.chunks(8).map(|c| c.to_vec()).collect();
        for cut in 0..=stream.len() {
            assert_eq!(decode(Framing::Fixed { length: 8 }, &stream, &[cut]).unwrap(), want, "cut at {cut}");
        }
    }

    #[test]
    fn header_frames_survive_every_split_and_keep_their_header() {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for payload in [&b"hello"[..], b"", b"a much longer payload than the others"] {
            let mut frame = (payload.len() as u16).to_be_bytes().to_vec();
            frame.extend_from_slice(payload);
            stream.extend_from_slice(&frame);
            want.push(frame);
        }
        let framing = header(2, 0, 2, false, 0);
        for a in 0..=stream.len() {
            for b in a..=stream.len() {
                assert_eq!(decode(framing, &stream, &[a, b]).unwrap(), want, "cuts {a},{b}");
            }
        }
    }

    #[test]
    fn length_at_an_offset_and_including_the_header() {
        // [type][flags][len hi][len lo] payload, length counting the whole frame.
        let frame = [7u8, 0, 0, 6, b'h', b'i'];
        assert_eq!(decode(header(4, 2, 2, true, 0), &frame, &[]).unwrap(), vec![frame.to_vec()]);
    }

    #[test]
    fn declared_length_over_max_fails_before_the_payload_arrives() {
        let header_only = 0xFFFF_FFFFu32.to_be_bytes();
        assert_eq!(
            decode(header(4, 0, 4, false, 1024), &header_only, &[]),
            Err(FrameError::TooLong { length: 0xFFFF_FFFF + 4 })
        );
    }

    #[test]
    fn length_smaller_than_the_header_is_an_error_not_a_loop() {
        assert_eq!(decode(header(4, 0, 4, true, 0), &[0, 0, 0, 0], &[]), Err(FrameError::InvalidLength { length: 0 }));
        assert_eq!(decode(header(4, 0, 4, true, 0), &[0, 0, 0, 3, 9], &[]), Err(FrameError::InvalidLength { length: 3 }));
    }

    #[test]
    fn a_frame_larger_than_any_read_is_assembled() {
        let mut stream = 3000u32.to_be_bytes().to_vec();
        stream.extend((0..3000).map(|i| i as u8));
        let cuts: Vec<usize> = (1..stream.len()).step_by(100).collect();
        assert_eq!(decode(header(4, 0, 4, false, 0), &stream, &cuts).unwrap(), vec![stream.clone()]);
    }

    #[test]
    fn partial_frame_is_reported_and_buffer_released_when_empty() {
        let mut d = Decoder::new(Framing::Fixed { length: 4 });
        d.push(Bytes::from_static(b"abcdef"));
        assert_eq!(d.next_frame().unwrap().unwrap(), Bytes::from_static(b"abcd"));
        assert_eq!(d.next_frame().unwrap(), None);
        assert!(d.has_partial());
        d.push(Bytes::from_static(b"gh"));
        assert_eq!(d.next_frame().unwrap().unwrap(), Bytes::from_static(b"efgh"));
        assert!(!d.has_partial());
        assert_eq!(d.partial.capacity(), 0, "no buffer held between frames");
    }
}
