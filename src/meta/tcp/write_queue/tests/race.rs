//! A close racing with a handler's writes: a handler thread writes numbered records while
//! the connection task flushes and then stops accepting. Every write accepted before the
//! stop reaches the peer whole and in order; every write after the first refusal is refused
//! too; nothing refused goes out.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::fake_sink::Step;
use super::*;

const RECORD: usize = 8;

fn record(i: usize) -> [u8; RECORD] {
    (i as u64).to_be_bytes()
}

fn race(stop_after: usize) {
    let queue = queue();
    // A socket that keeps taking part of a write and filling up.
    let pattern = [Step::Take(5), Step::WouldBlock, Step::Take(13), Step::Take(64), Step::WouldBlock];
    for _ in 0..2000 {
        sink(&queue).script(&pattern);
    }
    let accepted = AtomicUsize::new(0);
    let writer_done = AtomicBool::new(false);
    std::thread::scope(|s| {
        // The handler: writes until refused, then checks that refusal sticks.
        s.spawn(|| {
            let mut i = 0;
            loop {
                let defer = i % 3 != 0;
                match queue.write(Source::Borrowed(&record(i)), defer, NO_LIMIT) {
                    Ok(_) => {
                        i += 1;
                        accepted.store(i, Ordering::Release);
                    }
                    Err(refused) => {
                        assert_eq!(refused.error, Error::Closed);
                        break;
                    }
                }
                if i % 16 == 0 {
                    // The batch's end.
                    flush(&queue).unwrap();
                }
            }
            for j in 0..100 {
                assert!(queue.write(Source::Borrowed(&record(i + j)), false, NO_LIMIT).is_err());
            }
            writer_done.store(true, Ordering::Release);
        });
        // The connection task: flushes, and stops accepting while the handler writes.
        s.spawn(|| {
            while accepted.load(Ordering::Acquire) < stop_after {
                flush(&queue).unwrap();
                std::hint::spin_loop();
            }
            queue.stop_accepting();
            while !writer_done.load(Ordering::Acquire) {
                flush(&queue).unwrap();
            }
        });
    });
    // The close: flush what was accepted.
    sink(&queue).set_full(false);
    while flush(&queue).unwrap().0 == Flushed::Pending {}
    let accepted = accepted.load(Ordering::Acquire);
    let expected: Vec<u8> = (0..accepted).flat_map(record).collect();
    assert!(sink(&queue).received() == expected, "{accepted} records accepted, {} bytes received", sink(&queue).received().len());
    queue.release();
    assert_eq!(queue.queued(), 0);
}

#[test]
fn a_stop_racing_with_writes_keeps_every_accepted_write_and_nothing_else() {
    for stop_after in [0, 1, 7, 50, 300] {
        race(stop_after);
    }
}
