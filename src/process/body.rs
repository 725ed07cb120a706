//! The bytes of a user message or a call, stored in the message itself when they are small.

use bytes::Bytes;

/// The bytes of a user message or a call. Small ones (ids, counters, short commands: most
/// messages) are stored in the message itself; larger ones are shared `Bytes`.
///
/// Why inline: a heap copy per message was a malloc on the sender's thread and a free on the
/// receiver's, about a tenth of a local message's instructions; and two workers ping-ponging
/// ended up cycling adjacent heap chunks, so their cache lines moved between the cores. The
/// inline size keeps `Message` as large as it already was (its CONNECT variant).
#[derive(Clone)]
pub struct Body(BodyRepr);

#[derive(Clone)]
enum BodyRepr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(Bytes),
}

/// Bodies up to this many bytes are stored inline: with the length and the variant's tag, a
/// `Body` is 48 bytes, and a CALL (the largest user of it) stays within the size of CONNECT.
const INLINE: usize = 46;

impl Body {
    /// Copies `data`: inline if it is small, to the heap otherwise.
    pub fn copy_from_slice(data: &[u8]) -> Body {
        if data.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..data.len()].copy_from_slice(data);
            Body(BodyRepr::Inline { len: data.len() as u8, bytes })
        } else {
            Body(BodyRepr::Shared(Bytes::copy_from_slice(data)))
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            BodyRepr::Inline { len, bytes } => &bytes[..*len as usize],
            BodyRepr::Shared(b) => b,
        }
    }

    /// The bytes as `Bytes` (a copy if they were inline).
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            BodyRepr::Inline { .. } => Bytes::copy_from_slice(self.as_slice()),
            BodyRepr::Shared(b) => b,
        }
    }
}

impl Default for Body {
    fn default() -> Body {
        Body::copy_from_slice(&[])
    }
}

impl std::ops::Deref for Body {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for Body {
    fn eq(&self, other: &Body) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Body {}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // As `Bytes` shows itself: b"…" with escapes.
        write!(f, "b\"{}\"", self.as_slice().escape_ascii())
    }
}

/// Shared bytes are kept as they are: they are already on the heap.
impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Body {
        Body(BodyRepr::Shared(bytes))
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Body {
        Body::from(Bytes::from(bytes))
    }
}

impl From<&[u8]> for Body {
    fn from(bytes: &[u8]) -> Body {
        Body::copy_from_slice(bytes)
    }
}

impl<const N: usize> From<&[u8; N]> for Body {
    fn from(bytes: &[u8; N]) -> Body {
        Body::copy_from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::message::Message;

    #[test]
    fn small_bodies_are_inline_and_large_ones_shared() {
        for len in [0, 1, 8, INLINE, INLINE + 1, 1000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let body = Body::copy_from_slice(&data);
            assert_eq!(&*body, &data[..]);
            assert_eq!(matches!(body.0, BodyRepr::Inline { .. }), len <= INLINE);
            assert_eq!(body.clone().into_bytes(), data);
        }
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_body_does_not_make_a_message_larger() {
        // CONNECT (an id, two addresses and a pointer) sets the size, 80 bytes before bodies.
        assert_eq!(std::mem::size_of::<Body>(), 48);
        assert_eq!(std::mem::size_of::<Message>(), 80);
    }
}
