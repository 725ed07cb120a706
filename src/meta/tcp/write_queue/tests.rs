//! The write queue against a scripted socket (`fake_sink`): what each write and flush
//! reports, and the exact bytes the peer receives.

mod fake_sink;
mod order;
mod race;

use std::io;

use fake_sink::{FakeSink, Step};

use super::*;
use crate::buf::pool::Pool;

/// Large enough never to refuse, where a test is not about the limit.
const NO_LIMIT: usize = usize::MAX / 2;

fn queue() -> WriteQueue<FakeSink> {
    let queue = WriteQueue::new(false);
    queue.attach(FakeSink::open());
    queue
}

fn sink(queue: &WriteQueue<FakeSink>) -> &FakeSink {
    queue.socket().expect("attached")
}

/// A borrowed write, not deferred, with no limit; the error if refused.
fn write(queue: &WriteQueue<FakeSink>, bytes: &[u8]) -> Result<Written, Error> {
    queue.write(Source::Borrowed(bytes), false, NO_LIMIT).map_err(|r| r.error)
}

/// A borrowed write as a handler in a batch makes it.
fn write_deferred(queue: &WriteQueue<FakeSink>, bytes: &[u8]) -> Result<Written, Error> {
    queue.write(Source::Borrowed(bytes), true, NO_LIMIT).map_err(|r| r.error)
}

fn flush(queue: &WriteQueue<FakeSink>) -> io::Result<(Flushed, Writable)> {
    queue.flush(NO_LIMIT)
}

#[test]
fn a_write_to_an_empty_queue_goes_straight_out() {
    let queue = queue();
    assert_eq!(write(&queue, b"hello"), Ok(Written::Done));
    assert_eq!(sink(&queue).received(), b"hello");
    assert_eq!(sink(&queue).calls(), 1);
    assert_eq!(queue.queued(), 0);
    assert!(!queue.needs_flush());
    assert_eq!(queue.bytes_out(), 5);
}

#[test]
fn an_empty_write_is_done_without_a_send() {
    let queue = queue();
    assert_eq!(write(&queue, b""), Ok(Written::Done));
    assert_eq!(sink(&queue).calls(), 0);
}

#[test]
fn what_a_partial_write_leaves_is_queued_and_flushed_after() {
    let queue = queue();
    sink(&queue).script(&[Step::Take(3)]);
    assert_eq!(write(&queue, b"abcdefgh"), Ok(Written::Queued));
    assert_eq!(queue.queued(), 5);
    assert!(queue.needs_flush());
    assert_eq!(queue.bytes_out(), 3);
    // The flush meets another partial write, then takes the rest.
    sink(&queue).script(&[Step::Take(2)]);
    assert_eq!(flush(&queue).unwrap(), (Flushed::Drained, Writable::NotOwed));
    assert_eq!(sink(&queue).received(), b"abcdefgh");
    assert_eq!(queue.queued(), 0);
    assert!(!queue.needs_flush());
    assert_eq!(queue.bytes_out(), 8);
}

#[test]
fn a_full_socket_queues_writes_for_the_task_until_writable() {
    let queue = queue();
    sink(&queue).set_full(true);
    assert_eq!(write(&queue, b"one "), Ok(Written::Queued));
    assert_eq!(flush(&queue).unwrap(), (Flushed::Pending, Writable::NotOwed));
    let calls = sink(&queue).calls();
    // The socket is full: a write joins the queue without trying it again.
    assert_eq!(write(&queue, b"two "), Ok(Written::Queued));
    assert_eq!(sink(&queue).calls(), calls);
    // Writable again: one vectored write takes both.
    sink(&queue).set_full(false);
    assert_eq!(flush(&queue).unwrap(), (Flushed::Drained, Writable::NotOwed));
    assert_eq!(sink(&queue).calls(), calls + 1);
    assert_eq!(sink(&queue).received(), b"one two ");
    // Drained: the next write goes straight out again.
    assert_eq!(write(&queue, b"three"), Ok(Written::Done));
    assert_eq!(sink(&queue).received(), b"one two three");
}

#[test]
fn a_flush_of_an_empty_queue_is_drained() {
    let queue = queue();
    assert_eq!(flush(&queue).unwrap(), (Flushed::Drained, Writable::NotOwed));
    assert_eq!(sink(&queue).calls(), 0);
}

#[test]
fn a_failed_direct_write_is_captured_and_closes_the_queue() {
    let pool = Pool::new(64, 4);
    let queue = queue();
    sink(&queue).script(&[Step::Fail(io::ErrorKind::BrokenPipe)]);
    let refused = queue.write(Source::Pooled(pool.copy_from(b"lost")), false, NO_LIMIT).expect_err("refused");
    assert_eq!(refused.error, Error::Closed);
    assert!(refused.buf.is_some(), "the pool buffer is handed back");
    drop(refused);
    assert_eq!(pool.stats().outstanding, 0);
    // The connection task sees the error without the lock, and with it.
    assert!(queue.needs_flush());
    assert_eq!(queue.error(), Some(io::ErrorKind::BrokenPipe));
    assert_eq!(queue.error_now(), Some(io::ErrorKind::BrokenPipe));
    // Nothing more is accepted, and a flush reports the first error.
    assert_eq!(write(&queue, b"after"), Err(Error::Closed));
    assert_eq!(flush(&queue).unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    assert!(sink(&queue).received().is_empty());
}

#[test]
fn a_failed_flush_is_captured_and_closes_the_queue() {
    let queue = queue();
    sink(&queue).script(&[Step::WouldBlock, Step::Fail(io::ErrorKind::ConnectionReset)]);
    assert_eq!(write(&queue, b"queued"), Ok(Written::Queued));
    assert_eq!(flush(&queue).unwrap_err().kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(queue.error(), Some(io::ErrorKind::ConnectionReset));
    assert_eq!(write(&queue, b"after"), Err(Error::Closed));
    // Flushed again (the close path): the same error, with no further send.
    let calls = sink(&queue).calls();
    assert_eq!(flush(&queue).unwrap_err().kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(sink(&queue).calls(), calls);
}

#[test]
fn a_send_that_takes_nothing_is_a_write_zero_error() {
    let queue = queue();
    sink(&queue).script(&[Step::WouldBlock, Step::Take(0)]);
    assert_eq!(write(&queue, b"x"), Ok(Written::Queued));
    assert_eq!(flush(&queue).unwrap_err().kind(), io::ErrorKind::WriteZero);
    assert_eq!(queue.error_now(), Some(io::ErrorKind::WriteZero));
}

#[test]
fn closing_refuses_writes_but_flushes_what_was_queued() {
    let queue = queue();
    sink(&queue).set_full(true);
    assert_eq!(write(&queue, b"before"), Ok(Written::Queued));
    queue.stop_accepting();
    assert_eq!(write(&queue, b"after"), Err(Error::Closed));
    assert_eq!(queue.write_keepalive(b"ka", NO_LIMIT), Written::Done, "a refused keepalive is dropped");
    assert_eq!(flush(&queue).unwrap(), (Flushed::Pending, Writable::NotOwed));
    sink(&queue).set_full(false);
    assert_eq!(flush(&queue).unwrap(), (Flushed::Drained, Writable::NotOwed));
    assert_eq!(sink(&queue).received(), b"before");
    queue.release();
    assert!(queue.open_socket().is_none());
    assert!(queue.socket().is_some());
}

#[test]
fn release_drops_what_is_queued_and_returns_pool_buffers() {
    let pool = Pool::new(64, 4);
    let queue = queue();
    sink(&queue).set_full(true);
    assert!(queue.write(Source::Pooled(pool.copy_from(b"pooled")), false, NO_LIMIT).is_ok());
    assert_eq!(write(&queue, b"copied"), Ok(Written::Queued));
    assert_eq!(pool.stats().outstanding, 1);
    queue.stop_accepting();
    queue.release();
    assert_eq!(pool.stats().outstanding, 0);
    assert_eq!(queue.queued(), 0);
    // Released: nothing goes out, and a flush has nothing to do.
    sink(&queue).set_full(false);
    assert_eq!(flush(&queue).unwrap(), (Flushed::Drained, Writable::NotOwed));
    assert!(sink(&queue).received().is_empty());
    assert_eq!(write(&queue, b"late"), Err(Error::Closed));
}

#[test]
fn pool_buffers_return_to_their_pool_once_written() {
    let pool = Pool::new(64, 4);
    let queue = queue();
    // Straight out.
    assert_eq!(queue.write(Source::Pooled(pool.copy_from(b"a-")), false, NO_LIMIT).ok(), Some(Written::Done));
    assert_eq!(pool.stats().outstanding, 0);
    // Partly written, the rest queued without a copy, then flushed in pieces.
    sink(&queue).script(&[Step::Take(1), Step::Take(2)]);
    assert_eq!(queue.write(Source::Pooled(pool.copy_from(b"bcdef-")), false, NO_LIMIT).ok(), Some(Written::Queued));
    assert_eq!(pool.stats().outstanding, 1);
    assert_eq!(flush(&queue).unwrap().0, Flushed::Drained);
    assert_eq!(pool.stats().outstanding, 0);
    assert_eq!(sink(&queue).received(), b"a-bcdef-");
}

#[test]
fn the_limit_refuses_with_would_block_and_owes_one_writable() {
    let limit = 100;
    let pool = Pool::new(64, 4);
    let queue = queue();
    sink(&queue).set_full(true);
    // One write larger than the limit is accepted into an empty queue.
    assert_eq!(queue.write(Source::Borrowed(&[1; 120]), false, limit).ok(), Some(Written::Queued));
    let refused = queue.write(Source::Pooled(pool.copy_from(&[2; 10])), false, limit).expect_err("refused");
    assert_eq!(refused.error, Error::WouldBlock);
    assert!(refused.buf.is_some(), "the pool buffer is handed back");
    drop(refused);
    assert_eq!(queue.queued(), 120, "nothing of a refused write is queued");
    assert_eq!(queue.flush(limit).unwrap(), (Flushed::Pending, Writable::NotOwed));
    // Drained to 60, above half the limit: not yet.
    sink(&queue).script(&[Step::Take(60), Step::WouldBlock]);
    assert_eq!(queue.flush(limit).unwrap(), (Flushed::Pending, Writable::NotOwed));
    // To 50, half the limit: owed, once.
    sink(&queue).script(&[Step::Take(10), Step::WouldBlock]);
    assert_eq!(queue.flush(limit).unwrap(), (Flushed::Pending, Writable::Owed));
    sink(&queue).script(&[Step::Take(10), Step::WouldBlock]);
    assert_eq!(queue.flush(limit).unwrap(), (Flushed::Pending, Writable::NotOwed));
    sink(&queue).set_full(false);
    assert_eq!(queue.flush(limit).unwrap(), (Flushed::Drained, Writable::NotOwed));
    assert_eq!(sink(&queue).received(), [1; 120]);
}

#[test]
fn a_refusal_while_draining_owes_a_writable_at_the_drain() {
    let limit = 100;
    let queue = queue();
    sink(&queue).set_full(true);
    assert_eq!(queue.write(Source::Borrowed(&[1; 80]), false, limit).ok(), Some(Written::Queued));
    assert_eq!(queue.write(Source::Borrowed(&[2; 30]), false, limit).err().map(|r| r.error), Some(Error::WouldBlock));
    sink(&queue).set_full(false);
    assert_eq!(queue.flush(limit).unwrap(), (Flushed::Drained, Writable::Owed));
    assert_eq!(queue.flush(limit).unwrap(), (Flushed::Drained, Writable::NotOwed));
}

#[test]
fn a_batch_defers_small_writes_to_one_send() {
    let queue = queue();
    assert_eq!(write_deferred(&queue, b"a"), Ok(Written::Deferred { first: true }));
    assert_eq!(write_deferred(&queue, b"b"), Ok(Written::Deferred { first: false }));
    assert_eq!(write_deferred(&queue, b"c"), Ok(Written::Deferred { first: false }));
    assert_eq!(sink(&queue).calls(), 0);
    assert!(queue.needs_flush());
    // The batch's end.
    assert_eq!(flush(&queue).unwrap(), (Flushed::Drained, Writable::NotOwed));
    assert_eq!(sink(&queue).slices_per_call(), [1], "one send of the shared copy buffer");
    assert_eq!(sink(&queue).received(), b"abc");
    // The next batch arranges its own flush.
    assert_eq!(write_deferred(&queue, b"d"), Ok(Written::Deferred { first: true }));
}

#[test]
fn a_write_that_is_not_deferred_takes_the_batch_along() {
    let queue = queue();
    assert_eq!(write_deferred(&queue, b"ab"), Ok(Written::Deferred { first: true }));
    assert_eq!(write(&queue, b"cd"), Ok(Written::Done));
    assert_eq!(sink(&queue).slices_per_call(), [2], "what waits and the new write in one send");
    assert_eq!(sink(&queue).received(), b"abcd");
    assert_eq!(queue.queued(), 0);
}

#[test]
fn a_large_write_in_a_batch_is_not_deferred() {
    let queue = queue();
    assert_eq!(write_deferred(&queue, b"small"), Ok(Written::Deferred { first: true }));
    let large = vec![7; DEFER_MAX + 1];
    assert_eq!(write_deferred(&queue, &large), Ok(Written::Done));
    let mut expected = b"small".to_vec();
    expected.extend_from_slice(&large);
    assert_eq!(sink(&queue).received(), expected);
}

#[test]
fn a_batch_write_that_meets_a_full_socket_stays_with_the_batch() {
    let queue = queue();
    assert_eq!(write_deferred(&queue, b"ab"), Ok(Written::Deferred { first: true }));
    sink(&queue).script(&[Step::Take(1)]);
    // Not deferred, sent with the batch, which the socket took only part of: the rest waits
    // for the batch-end flush already arranged.
    assert_eq!(write(&queue, b"cd"), Ok(Written::Deferred { first: false }));
    assert_eq!(flush(&queue).unwrap().0, Flushed::Drained);
    assert_eq!(sink(&queue).received(), b"abcd");
}

#[test]
fn a_batch_write_that_fills_the_socket_after_the_batch_is_the_tasks() {
    let queue = queue();
    assert_eq!(write_deferred(&queue, b"ab"), Ok(Written::Deferred { first: true }));
    sink(&queue).script(&[Step::Take(3)]);
    // The batch went out, the new write only partly: its rest waits for a writable socket.
    assert_eq!(write(&queue, b"cd"), Ok(Written::Queued));
    assert_eq!(queue.queued(), 1);
    assert_eq!(flush(&queue).unwrap().0, Flushed::Drained);
    assert_eq!(sink(&queue).received(), b"abcd");
}

#[test]
fn a_write_never_overtakes_a_queue_longer_than_one_vectored_write() {
    let pool = Pool::new(64, 4);
    let queue = queue();
    let mut expected = Vec::new();
    // More pool buffers than one vectored write takes, each deferred in the batch.
    for i in 0..MAX_IOVECS as u8 + 6 {
        let written = queue.write(Source::Pooled(pool.copy_from(&[i])), true, NO_LIMIT).ok();
        assert!(matches!(written, Some(Written::Deferred { .. })));
        expected.push(i);
    }
    // Sent now only if it can go behind all of them in one call: it cannot.
    assert_eq!(write(&queue, b"last"), Ok(Written::Deferred { first: false }));
    assert_eq!(sink(&queue).calls(), 0);
    expected.extend_from_slice(b"last");
    assert_eq!(flush(&queue).unwrap().0, Flushed::Drained);
    assert_eq!(sink(&queue).slices_per_call(), [MAX_IOVECS, 7]);
    assert_eq!(sink(&queue).received(), expected);
    assert_eq!(pool.stats().outstanding, 0);
}

#[test]
fn a_deferred_write_behind_a_full_socket_arranges_a_batch_flush() {
    let queue = queue();
    sink(&queue).set_full(true);
    assert_eq!(write(&queue, b"ab"), Ok(Written::Queued));
    assert_eq!(write_deferred(&queue, b"cd"), Ok(Written::Deferred { first: true }));
    // The batch's end finds the socket full: left to the task.
    assert_eq!(flush(&queue).unwrap().0, Flushed::Pending);
    assert_eq!(write(&queue, b"ef"), Ok(Written::Queued));
    sink(&queue).set_full(false);
    assert_eq!(flush(&queue).unwrap().0, Flushed::Drained);
    assert_eq!(sink(&queue).received(), b"abcdef");
}

#[test]
fn keepalive_bytes_go_out_in_order_but_do_not_count() {
    let queue = queue();
    sink(&queue).set_full(true);
    assert_eq!(write(&queue, b"data1"), Ok(Written::Queued));
    assert_eq!(queue.write_keepalive(b"KA", NO_LIMIT), Written::Queued);
    assert_eq!(write(&queue, b"data2"), Ok(Written::Queued));
    sink(&queue).set_full(false);
    // Sent a byte at a time across the chunk boundaries.
    sink(&queue).script(&[Step::Take(1); 12]);
    assert_eq!(flush(&queue).unwrap().0, Flushed::Drained);
    assert_eq!(sink(&queue).received(), b"data1KAdata2");
    assert_eq!(queue.bytes_out(), 10);
}

#[test]
fn a_keepalive_write_records_the_time() {
    let queue = WriteQueue::new(true);
    queue.attach(FakeSink::open());
    let before = queue.last_write();
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(queue.write_keepalive(b"KA", NO_LIMIT), Written::Done);
    assert!(queue.last_write() > before);
    assert_eq!(queue.bytes_out(), 0);
}

#[test]
fn writes_before_the_socket_is_attached_wait_for_it() {
    let queue = WriteQueue::new(false);
    assert_eq!(write(&queue, b"early"), Ok(Written::Queued));
    assert!(queue.open_socket().is_none());
    assert_eq!(flush(&queue).unwrap().0, Flushed::Drained, "nothing can go out yet");
    assert!(queue.needs_flush(), "still to be flushed once attached");
    queue.attach(FakeSink::open());
    assert_eq!(write(&queue, b"-late"), Ok(Written::Queued), "behind what waits");
    assert_eq!(flush(&queue).unwrap().0, Flushed::Drained);
    assert_eq!(sink(&queue).received(), b"early-late");
}

#[test]
fn bytes_the_sink_holds_itself_are_flushed_by_the_task() {
    let queue = queue();
    // As TLS: the write was taken, but records wait for the socket.
    sink(&queue).hold_records(b"<rec>");
    sink(&queue).set_full(true);
    assert_eq!(write(&queue, b"x"), Ok(Written::Queued));
    assert_eq!(flush(&queue).unwrap().0, Flushed::Pending);
    sink(&queue).set_full(false);
    assert_eq!(flush(&queue).unwrap().0, Flushed::Drained);
    assert!(!queue.needs_flush());
}

#[test]
fn a_written_write_with_records_left_needs_the_task() {
    let queue = queue();
    sink(&queue).hold_records(b"<rec>");
    assert_eq!(write(&queue, b"x"), Ok(Written::Queued));
    assert!(queue.needs_flush());
    assert_eq!(flush(&queue).unwrap().0, Flushed::Drained);
    assert_eq!(sink(&queue).received(), b"x<rec>");
}

#[test]
fn a_new_copy_buffer_is_sized_from_its_first_write_and_kept_for_the_thread() {
    // A thread of its own: the spare copy buffer is per thread.
    std::thread::spawn(|| {
        let queue = queue();
        assert_eq!(queued::spare_copy_buffer_capacity(), 0);
        write_deferred(&queue, &[0; 16]).unwrap();
        // Sixteen times the first write, at least 256 bytes.
        assert_eq!(queue.state.lock().unwrap().queued.copy_buffer_capacity(), 256);
        flush(&queue).unwrap();
        assert_eq!(queue.state.lock().unwrap().queued.copy_buffer_capacity(), 0, "a drained queue holds none");
        assert_eq!(queued::spare_copy_buffer_capacity(), 256);
        // The next connection on the thread takes the spare, grown for its first write.
        let other = self::queue();
        write_deferred(&other, &[0; 100]).unwrap();
        assert_eq!(other.state.lock().unwrap().queued.copy_buffer_capacity(), 1600);
        assert_eq!(queued::spare_copy_buffer_capacity(), 0);
        flush(&other).unwrap();
        assert_eq!(queued::spare_copy_buffer_capacity(), 1600);
        // A smaller drained buffer does not replace the larger spare.
        write_deferred(&queue, &[0; 16]).unwrap();
        write_deferred(&other, &[0; 16]).unwrap();
        flush(&queue).unwrap();
        flush(&other).unwrap();
        assert_eq!(queued::spare_copy_buffer_capacity(), 1600);
        // Capped at 4 KiB; one grown past that is freed, not kept.
        write_deferred(&queue, &[0; 1000]).unwrap();
        assert_eq!(queue.state.lock().unwrap().queued.copy_buffer_capacity(), 4096);
        for _ in 0..5 {
            write_deferred(&queue, &[0; 1000]).unwrap();
        }
        flush(&queue).unwrap();
        assert_eq!(queued::spare_copy_buffer_capacity(), 0);
    })
    .join()
    .unwrap();
}

#[test]
fn the_queue_keeps_its_size() {
    // A connection's shared state is sized to fit a heap bucket (see `ConnShared`).
    assert!(std::mem::size_of::<WriteQueue>() <= 128, "{}", std::mem::size_of::<WriteQueue>());
}
