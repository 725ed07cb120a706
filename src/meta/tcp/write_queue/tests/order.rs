//! Byte order: whatever mix of direct writes, deferred writes, pool buffers, keepalive
//! bytes, partial sends, full sockets and flushes, the peer receives exactly the accepted
//! writes' bytes, in the order they were accepted. Sequences come from a fixed-seed
//! generator, so a failure is reproducible from its seed.

use super::fake_sink::Step;
use super::*;

/// xorshift64: small, deterministic, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Bytes numbered from `next`, so that any reordering or loss shows.
fn numbered(next: &mut u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *next = next.wrapping_add(1);
            *next
        })
        .collect()
}

fn run(seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let pool = Pool::new(64, 8);
    let queue = queue();
    let mut next = 0u8;
    let mut expected = Vec::new();
    let mut counted = 0u64;
    for _ in 0..200 {
        match rng.below(8) {
            kind @ 0..=2 => {
                // Mostly small replies, sometimes one past what a batch defers.
                let len = if rng.chance(10) { DEFER_MAX + rng.below(2000) as usize } else { rng.below(40) as usize };
                let bytes = numbered(&mut next, len);
                let defer = rng.chance(50);
                let source = if kind == 2 { Source::Pooled(pool.copy_from(&bytes)) } else { Source::Borrowed(&bytes) };
                let written = queue.write(source, defer, NO_LIMIT);
                assert!(written.is_ok(), "seed {seed}: an open queue without a limit accepts every write");
                expected.extend_from_slice(&bytes);
                counted += len as u64;
            }
            3 => {
                let bytes = numbered(&mut next, 1 + rng.below(4) as usize);
                queue.write_keepalive(&bytes, NO_LIMIT);
                expected.extend_from_slice(&bytes);
            }
            4 => {
                // A send that is only partly taken (a send taking nothing is an error).
                let step = if rng.chance(30) { Step::WouldBlock } else { Step::Take(1 + rng.below(60) as usize) };
                sink(&queue).script(&[step]);
            }
            5 => sink(&queue).set_full(rng.chance(50)),
            _ => {
                flush(&queue).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            }
        }
    }
    sink(&queue).set_full(false);
    // Scripted WouldBlocks may still be ahead: each flush uses up at least one step.
    let mut flushes = 0;
    while flush(&queue).unwrap().0 == Flushed::Pending {
        flushes += 1;
        assert!(flushes < 1000, "seed {seed}: the queue never drains");
    }
    assert!(sink(&queue).received() == expected, "seed {seed}: the bytes differ");
    assert_eq!(queue.bytes_out(), counted, "seed {seed}: keepalive bytes are not counted");
    assert_eq!(queue.queued(), 0);
    assert!(!queue.needs_flush());
    assert_eq!(pool.stats().outstanding, 0, "seed {seed}: every pool buffer went back");
}

#[test]
fn the_peer_receives_every_accepted_byte_in_order() {
    for seed in 0..300 {
        run(seed);
    }
}
