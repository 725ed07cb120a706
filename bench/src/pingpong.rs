//! `actnet-bench mpsc-pingpong`: the reference for local messaging (case i). Each pair is two
//! tokio tasks, each with a bounded tokio mpsc channel as its inbox (capacity 1024, actnet's
//! default mailbox bound); one message is in flight per pair: a task that receives a number
//! sends the next one to the other task. Messages/s counts every message received, by both
//! tasks of every pair. The runtime is tokio's multi-thread runtime with `--threads` workers
//! (default: one per core, as an actnet node's default).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::args::Args;
use crate::util::{json_line, Cpu, J};

pub const USAGE: &str = "\
actnet-bench mpsc-pingpong [--pairs N] [--duration-s S] [--warmup-s S] [--threads N]
                           [--capacity N] [--label TEXT]";

/// A counter on its own cache lines, written by one task.
#[repr(align(128))]
#[derive(Default)]
struct Counter(AtomicU64);

pub fn main(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(argv, &["help"])?;
    if a.flag("help") {
        println!("{USAGE}");
        return Ok(());
    }
    let pairs: usize = a.get("pairs", 1)?;
    let duration = Duration::from_secs_f64(a.get("duration-s", 5.0)?);
    let warmup = Duration::from_secs_f64(a.get("warmup-s", 1.0)?);
    let default_threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let threads: usize = a.get("threads", default_threads)?;
    let capacity: usize = a.get("capacity", 1024)?;
    let label = a.str("label").unwrap_or_default();
    a.finish()?;
    if pairs == 0 || threads == 0 || capacity == 0 {
        return Err("--pairs, --threads and --capacity must be at least 1".into());
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    let counters: Vec<Arc<Counter>> = (0..2 * pairs).map(|_| Arc::new(Counter::default())).collect();
    for p in 0..pairs {
        let (to_b, mut b_inbox) = mpsc::channel::<u64>(capacity);
        let (to_a, mut a_inbox) = mpsc::channel::<u64>(capacity);
        let (ca, cb) = (counters[2 * p].clone(), counters[2 * p + 1].clone());
        let (sa, sb) = (stop.clone(), stop.clone());
        rt.spawn(async move {
            let mut n = 0u64;
            if to_b.send(0).await.is_err() {
                return;
            }
            while let Some(v) = a_inbox.recv().await {
                n += 1;
                ca.0.store(n, Ordering::Relaxed);
                if sa.load(Ordering::Relaxed) || to_b.send(v + 1).await.is_err() {
                    return;
                }
            }
        });
        rt.spawn(async move {
            let mut n = 0u64;
            while let Some(v) = b_inbox.recv().await {
                n += 1;
                cb.0.store(n, Ordering::Relaxed);
                if sb.load(Ordering::Relaxed) || to_a.send(v + 1).await.is_err() {
                    return;
                }
            }
        });
    }
    let total = || counters.iter().map(|c| c.0.load(Ordering::Relaxed)).sum::<u64>();
    std::thread::sleep(warmup);
    let (m0, t0, cpu0) = (total(), Instant::now(), Cpu::now());
    std::thread::sleep(duration);
    let (m1, elapsed, cpu) = (total(), t0.elapsed(), Cpu::now().since(cpu0));
    stop.store(true, Ordering::Relaxed);
    rt.shutdown_timeout(Duration::from_secs(1));

    let secs = elapsed.as_secs_f64();
    let rate = (m1 - m0) as f64 / secs;
    if m1 == m0 {
        return Err("no message was delivered in the measurement window".into());
    }
    println!(
        "# tokio mpsc ping-pong, {pairs} pair{}, {threads} worker thread{}: {:.0} messages/s, CPU {:.0}%",
        if pairs == 1 { "" } else { "s" },
        if threads == 1 { "" } else { "s" },
        rate,
        cpu.total_s() / secs * 100.0
    );
    println!(
        "{}",
        json_line(&[
            ("mode", J::S("mpsc-pingpong".into())),
            ("label", J::S(label)),
            ("pairs", J::U(pairs as u64)),
            ("threads", J::U(threads as u64)),
            ("duration_s", J::F(secs)),
            ("messages", J::U(m1 - m0)),
            ("msgs_per_s", J::F(rate)),
            ("cpu_user_s", J::F(cpu.user.as_secs_f64())),
            ("cpu_sys_s", J::F(cpu.sys.as_secs_f64())),
            ("cpu_pct", J::F(cpu.total_s() / secs * 100.0)),
        ])
    );
    Ok(())
}
