//! `actnet-bench loadgen`: the load generator.
//!
//! Three modes:
//! - echo (default): N connections, each keeping `depth` messages in flight; every echoed
//!   byte is checked (each message carries its sequence number and connection id, the rest is
//!   a pattern that depends on the position, so lost, repeated, reordered or shifted bytes
//!   all fail); reports messages/s, MB/s, round-trip latency percentiles (HDR histogram) and
//!   this process's CPU time over the measurement window.
//! - `--idle N`: opens N connections, echoes one message on each (so the server has accepted
//!   and served every one), prints `established N connections`, then holds them until stdin
//!   is closed (or a signal ends the process).
//! - `--accept`: repeatedly opens a batch of connections at once (default 1,000), each sends
//!   one message, reads its echo and closes; reports connections per second.
//!
//! Client threads (`--threads T`) each run a single-threaded tokio runtime with their share
//! of the connections, so the load generator itself has no cross-thread traffic.
//!
//! On stdout: `# measure start` and `# measure end` when the measurement window opens and
//! closes (the runner samples the server's CPU time then), one human line starting with `#`,
//! and one JSON line last. A wrong echo ends the process at once with status 1 and a message
//! on stderr naming the connection, the message and the first differing byte.

use std::cell::RefCell;
use std::io::{Read as _, Write as _};
use std::rc::Rc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::LocalSet;

use crate::args::Args;
use crate::util::{json_line, raise_nofile, tls_client_config, Cpu, J};

pub const USAGE: &str = "\
actnet-bench loadgen --addr HOST:PORT [options]
  --connections N     connections (default 1)
  --size BYTES        message payload size (default 64)
  --depth D           messages in flight per connection (default 1)
  --duration-s S      measurement window (default 5)
  --warmup-s S        load before the window opens, not counted (default 1)
  --framing MODE      none (default) | header4: each message is a 4-byte big-endian payload
                      length followed by the payload (--size is the payload)
  --threads T         client threads, each a single-threaded runtime (default 1)
  --tls --ca PEM      TLS client trusting the CA in PEM [--server-name NAME, default the host]
  --label TEXT        copied into the JSON line
  --idle N            idle mode: hold N connections until stdin closes [--idle-no-ping]
  --accept            accept mode: batches of --batch N (default 1000) connect, echo once, close
  --connect-timeout-s S (default 10)   --drain-timeout-s S (default 10)";

#[derive(Clone, Copy, PartialEq)]
enum Framing {
    None,
    Header4,
}

struct Cfg {
    addr: String,
    connections: usize,
    size: usize,
    depth: usize,
    duration: Duration,
    warmup: Duration,
    framing: Framing,
    threads: usize,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    label: String,
    batch: usize,
    connect_timeout: Duration,
    drain_timeout: Duration,
}

impl Cfg {
    fn header_len(&self) -> usize {
        match self.framing {
            Framing::None => 0,
            Framing::Header4 => 4,
        }
    }
    fn frame_len(&self) -> usize {
        self.header_len() + self.size
    }
}

/// One connection's messages: a template frame (header, then the payload with the connection
/// id at bytes 8..16 and a position-dependent pattern after it) into which each message's
/// sequence number is stamped at payload bytes 0..8.
struct Pattern {
    frame: Vec<u8>,
    hdr: usize,
    seq_len: usize,
    conn: u64,
}

impl Pattern {
    fn new(cfg: &Cfg, conn: u64) -> Pattern {
        let hdr = cfg.header_len();
        let mut frame = Vec::with_capacity(cfg.frame_len());
        if cfg.framing == Framing::Header4 {
            frame.extend_from_slice(&(cfg.size as u32).to_be_bytes());
        }
        for i in 0..cfg.size as u64 {
            frame.push((i.wrapping_mul(131) ^ conn.wrapping_mul(29)).wrapping_add(7) as u8);
        }
        let id = conn.to_le_bytes();
        for (i, b) in id.iter().enumerate() {
            if let Some(slot) = frame.get_mut(hdr + 8 + i) {
                *slot = *b;
            }
        }
        Pattern {
            frame,
            hdr,
            seq_len: cfg.size.min(8),
            conn,
        }
    }

    fn push(&self, out: &mut Vec<u8>, seq: u64) {
        let at = out.len() + self.hdr;
        out.extend_from_slice(&self.frame);
        out[at..at + self.seq_len].copy_from_slice(&seq.to_le_bytes()[..self.seq_len]);
    }

    /// Checks one echoed frame; on a difference, ends the process with a precise message.
    fn check(&self, got: &[u8], seq: u64) {
        let seq_bytes = seq.to_le_bytes();
        let (h, s) = (self.hdr, self.seq_len);
        if got[..h] == self.frame[..h] && got[h..h + s] == seq_bytes[..s] && got[h + s..] == self.frame[h + s..] {
            return;
        }
        let mut expected = self.frame.clone();
        expected[h..h + s].copy_from_slice(&seq_bytes[..s]);
        let at = expected.iter().zip(got).position(|(a, b)| a != b).unwrap_or(0);
        let mut got_seq = [0u8; 8];
        got_seq[..s].copy_from_slice(&got[h..h + s]);
        eprintln!(
            "loadgen: ECHO MISMATCH on connection {}: message {} (frame of {} bytes) differs at \
             byte {}: expected 0x{:02x}, got 0x{:02x}; the sequence field reads {}",
            self.conn,
            seq,
            got.len(),
            at,
            expected[at],
            got[at],
            u64::from_le_bytes(got_seq)
        );
        std::process::exit(1);
    }
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

async fn connect(cfg: &Cfg) -> Result<Conn, String> {
    let work = async {
        let tcp = TcpStream::connect(&cfg.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", cfg.addr))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        match &cfg.tls {
            None => Ok(Conn::Plain(tcp)),
            Some((connector, name)) => {
                let s = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| format!("TLS handshake: {e}"))?;
                Ok(Conn::Tls(Box::new(s)))
            }
        }
    };
    match tokio::time::timeout(cfg.connect_timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "connect {}: no connection within {:?}",
            cfg.addr, cfg.connect_timeout
        )),
    }
}

fn new_histogram() -> Histogram<u64> {
    // Nanoseconds, 1 ns .. 100 s, 3 significant digits.
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("histogram bounds")
}

#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

/// What one thread measured.
struct ThreadResult {
    messages: u64,
    hist: Histogram<u64>,
}

struct Shared {
    connected: Barrier,
    go: Barrier,
    failed: Mutex<Option<String>>,
    window: Mutex<Option<Window>>,
}

pub fn main(argv: &[String]) -> Result<(), String> {
    let flags = ["tls", "accept", "idle-no-ping", "help"];
    let a = Args::parse(argv, &flags)?;
    if a.flag("help") {
        println!("{USAGE}");
        return Ok(());
    }
    let addr = a.str("addr").ok_or("--addr HOST:PORT is required")?;
    let framing = match a.str("framing").as_deref() {
        None | Some("none") => Framing::None,
        Some("header4") => Framing::Header4,
        Some(other) => return Err(format!("--framing: none or header4, not '{other}'")),
    };
    let tls = if a.flag("tls") {
        let ca = a.str("ca").ok_or("--tls needs --ca PEM")?;
        let host = addr
            .rsplit_once(':')
            .map(|(h, _)| h.trim_matches(['[', ']']))
            .unwrap_or(&addr);
        let name = a.str("server-name").unwrap_or_else(|| host.to_string());
        let name = ServerName::try_from(name.clone()).map_err(|_| format!("bad server name '{name}'"))?;
        let config = Arc::new(tls_client_config(&ca)?);
        Some((tokio_rustls::TlsConnector::from(config), name))
    } else {
        None
    };
    let secs = |name: &str, default: f64| -> Result<Duration, String> {
        let v: f64 = a.get(name, default)?;
        if !(0.0..1e6).contains(&v) {
            return Err(format!("--{name}: out of range"));
        }
        Ok(Duration::from_secs_f64(v))
    };
    let cfg = Cfg {
        addr,
        connections: a.get("connections", 1usize)?.max(1),
        size: a.get("size", 64usize)?,
        depth: a.get("depth", 1usize)?.max(1),
        duration: secs("duration-s", 5.0)?,
        warmup: secs("warmup-s", 1.0)?,
        framing,
        threads: a.get("threads", 1usize)?.max(1),
        tls,
        label: a.str("label").unwrap_or_default(),
        batch: a.get("batch", 1000usize)?.max(1),
        connect_timeout: secs("connect-timeout-s", 10.0)?,
        drain_timeout: secs("drain-timeout-s", 10.0)?,
    };
    let idle: Option<usize> = a.opt("idle")?;
    let idle_ping = !a.flag("idle-no-ping");
    let accept = a.flag("accept");
    a.finish()?;
    if cfg.framing == Framing::Header4 && cfg.size > u32::MAX as usize {
        return Err("--size too large for a 4-byte header".into());
    }
    if cfg.depth * cfg.frame_len() > 1 << 20 {
        // The loop writes a batch and then reads: with more than this in flight both sides
        // could block in writes whose peer is not reading.
        return Err("--depth × message size must stay within 1 MiB per connection".into());
    }
    let cfg = Arc::new(cfg);
    raise_nofile();
    if let Some(n) = idle {
        return idle_mode(cfg, n, idle_ping);
    }
    if accept {
        return accept_mode(cfg);
    }
    echo_mode(cfg)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

fn marker(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Runs `per_thread` on `threads` threads after all have connected; returns their results,
/// and the CPU time and length of the measurement window.
fn run_threads<F>(cfg: &Arc<Cfg>, threads: usize, per_thread: F) -> Result<(Vec<ThreadResult>, Cpu, Duration), String>
where
    F: Fn(usize, Arc<Shared>) -> Result<ThreadResult, String> + Send + Sync + 'static,
{
    let shared = Arc::new(Shared {
        connected: Barrier::new(threads + 1),
        go: Barrier::new(threads + 1),
        failed: Mutex::new(None),
        window: Mutex::new(None),
    });
    let per_thread = Arc::new(per_thread);
    let (tx, rx) = std::sync::mpsc::channel();
    for t in 0..threads {
        let (shared, per_thread, tx) = (shared.clone(), per_thread.clone(), tx.clone());
        std::thread::Builder::new()
            .name(format!("loadgen-{t}"))
            .spawn(move || {
                let _ = tx.send(per_thread(t, shared));
            })
            .map_err(|e| e.to_string())?;
    }
    drop(tx);
    shared.connected.wait();
    if let Some(e) = shared.failed.lock().unwrap().clone() {
        return Err(e);
    }
    let t0 = Instant::now();
    let window = Window {
        start: t0 + cfg.warmup,
        end: t0 + cfg.warmup + cfg.duration,
    };
    *shared.window.lock().unwrap() = Some(window);
    shared.go.wait();

    sleep_until(window.start);
    let cpu0 = Cpu::now();
    let w0 = Instant::now();
    marker("# measure start");
    sleep_until(window.end);
    let cpu = Cpu::now().since(cpu0);
    let elapsed = w0.elapsed();
    marker("# measure end");

    let deadline = window.end + cfg.drain_timeout + Duration::from_secs(5);
    let mut results = Vec::new();
    while results.len() < threads {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(r) => results.push(r?),
            Err(_) => {
                return Err(format!(
                    "stalled: {} of {threads} client threads still waiting for echoes {:?} after the end",
                    threads - results.len(),
                    cfg.drain_timeout + Duration::from_secs(5)
                ))
            }
        }
    }
    Ok((results, cpu, elapsed))
}

/// Connects this thread's connections, joins the barriers, returns the window to measure.
fn connect_phase(
    cfg: &Arc<Cfg>,
    rt: &tokio::runtime::Runtime,
    local: &LocalSet,
    ids: &[u64],
    shared: &Shared,
) -> Result<(Vec<Conn>, Window), String> {
    let conns = local.block_on(rt, async {
        let mut handles = Vec::new();
        for _ in ids {
            let cfg = cfg.clone();
            handles.push(tokio::task::spawn_local(async move { connect(&cfg).await }));
        }
        let mut conns = Vec::new();
        for h in handles {
            conns.push(h.await.map_err(|e| e.to_string())??);
        }
        Ok::<_, String>(conns)
    });
    if let Err(e) = &conns {
        shared.failed.lock().unwrap().get_or_insert(e.clone());
    }
    shared.connected.wait();
    shared.go.wait();
    let window = shared.window.lock().unwrap().ok_or("aborted")?;
    Ok((conns?, window))
}

fn echo_mode(cfg: Arc<Cfg>) -> Result<(), String> {
    let threads = cfg.threads.min(cfg.connections);
    let c2 = cfg.clone();
    let (results, cpu, elapsed) = run_threads(&cfg, threads, move |t, shared| {
        let cfg = &c2;
        let ids: Vec<u64> = (0..cfg.connections as u64)
            .filter(|i| (*i as usize) % threads == t)
            .collect();
        let rt = runtime();
        let local = LocalSet::new();
        let (conns, window) = connect_phase(cfg, &rt, &local, &ids, &shared)?;
        let hist = Rc::new(RefCell::new(new_histogram()));
        let messages = local.block_on(&rt, async {
            let mut handles = Vec::new();
            for (conn, id) in conns.into_iter().zip(ids.iter().copied()) {
                let (cfg, hist) = (cfg.clone(), hist.clone());
                handles.push(tokio::task::spawn_local(async move {
                    match conn {
                        Conn::Plain(s) => echo_conn(s, &cfg, id, window, &hist).await,
                        Conn::Tls(s) => echo_conn(*s, &cfg, id, window, &hist).await,
                    }
                }));
            }
            let mut total = 0;
            for h in handles {
                total += h.await.map_err(|e| e.to_string())??;
            }
            Ok::<u64, String>(total)
        })?;
        let hist = hist.borrow().clone();
        Ok(ThreadResult { messages, hist })
    })?;
    let mut hist = new_histogram();
    let mut messages = 0;
    for r in &results {
        hist.add(&r.hist).map_err(|e| e.to_string())?;
        messages += r.messages;
    }
    let secs = elapsed.as_secs_f64();
    let rate = messages as f64 / secs;
    let mb = rate * cfg.frame_len() as f64 / 1e6;
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "# {} conns × depth {} × {} B{}{}: {:.0} msg/s, {:.1} MB/s, latency p50 {:.1} µs p99 {:.1} µs \
         p99.9 {:.1} µs, loadgen CPU {:.0}% of one core ({} thread{})",
        cfg.connections,
        cfg.depth,
        cfg.size,
        if cfg.framing == Framing::Header4 {
            " +4 B header"
        } else {
            ""
        },
        if cfg.tls.is_some() { " TLS" } else { "" },
        rate,
        mb,
        us(0.5),
        us(0.99),
        us(0.999),
        cpu.total_s() / secs * 100.0,
        threads,
        if threads == 1 { "" } else { "s" }
    );
    println!(
        "{}",
        json_line(&[
            ("mode", J::S("echo".into())),
            ("label", J::S(cfg.label.clone())),
            ("addr", J::S(cfg.addr.clone())),
            ("connections", J::U(cfg.connections as u64)),
            ("size", J::U(cfg.size as u64)),
            ("frame_bytes", J::U(cfg.frame_len() as u64)),
            ("depth", J::U(cfg.depth as u64)),
            (
                "framing",
                J::S(
                    if cfg.framing == Framing::Header4 {
                        "header4"
                    } else {
                        "none"
                    }
                    .into()
                )
            ),
            ("tls", J::B(cfg.tls.is_some())),
            ("threads", J::U(threads as u64)),
            ("duration_s", J::F(secs)),
            ("messages", J::U(messages)),
            ("msgs_per_s", J::F(rate)),
            ("mb_per_s", J::F(mb)),
            ("p50_us", J::F(us(0.5))),
            ("p90_us", J::F(us(0.9))),
            ("p99_us", J::F(us(0.99))),
            ("p999_us", J::F(us(0.999))),
            ("max_us", J::F(hist.max() as f64 / 1000.0)),
            ("mean_us", J::F(hist.mean() / 1000.0)),
            ("cpu_user_s", J::F(cpu.user.as_secs_f64())),
            ("cpu_sys_s", J::F(cpu.sys.as_secs_f64())),
            ("cpu_pct", J::F(cpu.total_s() / secs * 100.0)),
        ])
    );
    Ok(())
}

/// One connection of the echo mode: keeps `depth` messages in flight, checks every echo,
/// records round trips that end inside the window, and after the window stops sending and
/// reads what is still in flight. Returns the messages counted in the window.
async fn echo_conn<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    cfg: &Cfg,
    id: u64,
    window: Window,
    hist: &RefCell<Histogram<u64>>,
) -> Result<u64, String> {
    let pattern = Pattern::new(cfg, id);
    let frame = cfg.frame_len();
    let mut rbuf = vec![0u8; (2 * cfg.depth * frame).max(64 * 1024)];
    let mut have = 0usize;
    let mut wbuf = Vec::with_capacity(cfg.depth * frame);
    let mut sent_at = std::collections::VecDeque::with_capacity(cfg.depth);
    let (mut next_send, mut next_recv) = (0u64, 0u64);
    let mut counted = 0u64;
    let err = |what: &str, e: std::io::Error| format!("connection {id}: {what}: {e}");

    let now = Instant::now();
    for _ in 0..cfg.depth {
        pattern.push(&mut wbuf, next_send);
        next_send += 1;
        sent_at.push_back(now);
    }
    s.write_all(&wbuf).await.map_err(|e| err("write", e))?;
    s.flush().await.map_err(|e| err("flush", e))?;
    wbuf.clear();
    let mut stopping = false;
    let mut stop_deadline = None;
    while !sent_at.is_empty() {
        let n = if let Some(deadline) = stop_deadline {
            match tokio::time::timeout_at(deadline, s.read(&mut rbuf[have..])).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(format!(
                        "connection {id}: {} echoes still missing {:?} after the end",
                        sent_at.len(),
                        cfg.drain_timeout
                    ))
                }
            }
        } else {
            s.read(&mut rbuf[have..]).await
        }
        .map_err(|e| err("read", e))?;
        if n == 0 {
            return Err(format!(
                "connection {id}: the server closed the connection with {} echoes outstanding",
                sent_at.len()
            ));
        }
        have += n;
        let now = Instant::now();
        if !stopping && now >= window.end {
            stopping = true;
            stop_deadline = Some(tokio::time::Instant::from_std(now + cfg.drain_timeout));
        }
        let in_window = now >= window.start && now < window.end;
        let mut off = 0;
        while have - off >= frame {
            pattern.check(&rbuf[off..off + frame], next_recv);
            next_recv += 1;
            off += frame;
            let t = sent_at.pop_front().expect("a message in flight");
            if in_window {
                let ns = now.duration_since(t).as_nanos() as u64;
                hist.borrow_mut().saturating_record(ns.max(1));
                counted += 1;
            }
            if !stopping {
                pattern.push(&mut wbuf, next_send);
                next_send += 1;
                sent_at.push_back(now);
            }
        }
        if off > 0 {
            rbuf.copy_within(off..have, 0);
            have -= off;
        }
        if !wbuf.is_empty() {
            s.write_all(&wbuf).await.map_err(|e| err("write", e))?;
            s.flush().await.map_err(|e| err("flush", e))?;
            wbuf.clear();
        }
    }
    if have != 0 {
        return Err(format!("connection {id}: {have} bytes arrived that were never sent"));
    }
    let _ = tokio::time::timeout(Duration::from_millis(500), s.shutdown()).await;
    Ok(counted)
}

/// Sends one message on a fresh connection and checks its echo.
async fn one_echo<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, pattern: &Pattern, seq: u64) -> Result<(), String> {
    let mut msg = Vec::with_capacity(pattern.frame.len());
    pattern.push(&mut msg, seq);
    s.write_all(&msg).await.map_err(|e| format!("write: {e}"))?;
    s.flush().await.map_err(|e| format!("flush: {e}"))?;
    let mut got = vec![0u8; msg.len()];
    s.read_exact(&mut got).await.map_err(|e| format!("read: {e}"))?;
    pattern.check(&got, seq);
    Ok(())
}

fn accept_mode(cfg: Arc<Cfg>) -> Result<(), String> {
    let threads = cfg.threads.min(cfg.batch);
    let c2 = cfg.clone();
    let (results, cpu, elapsed) = run_threads(&cfg, threads, move |t, shared| {
        let cfg = c2.clone();
        let rt = runtime();
        let local = LocalSet::new();
        // Nothing to connect up front: join the barriers for the common window.
        let (_, window) = connect_phase(&cfg, &rt, &local, &[], &shared)?;
        let per_batch = cfg.batch / threads + usize::from(t < cfg.batch % threads);
        let hist = Rc::new(RefCell::new(new_histogram()));
        let h2 = hist.clone();
        let messages = local.block_on(&rt, async move {
            let mut counted = 0u64;
            let mut next_id = (t as u64) << 40;
            while Instant::now() < window.end {
                let mut handles = Vec::with_capacity(per_batch);
                for _ in 0..per_batch {
                    let cfg = cfg.clone();
                    let id = next_id;
                    next_id += 1;
                    handles.push(tokio::task::spawn_local(async move {
                        let t0 = Instant::now();
                        let pattern = Pattern::new(&cfg, id);
                        let conn = connect(&cfg).await?;
                        let work = async {
                            match conn {
                                Conn::Plain(mut s) => one_echo(&mut s, &pattern, 0).await,
                                Conn::Tls(mut s) => {
                                    one_echo(&mut *s, &pattern, 0).await?;
                                    let _ = s.shutdown().await;
                                    Ok(())
                                }
                            }
                        };
                        match tokio::time::timeout(cfg.drain_timeout, work).await {
                            Ok(r) => r.map_err(|e| format!("connection {id}: {e}"))?,
                            Err(_) => return Err(format!("connection {id}: no echo within {:?}", cfg.drain_timeout)),
                        }
                        Ok::<_, String>((t0, Instant::now()))
                    }));
                }
                for h in handles {
                    let (t0, done) = h.await.map_err(|e| e.to_string())??;
                    if done >= window.start && done < window.end {
                        counted += 1;
                        h2.borrow_mut()
                            .saturating_record(done.duration_since(t0).as_nanos().max(1) as u64);
                    }
                }
            }
            Ok::<u64, String>(counted)
        })?;
        let hist = hist.borrow().clone();
        Ok(ThreadResult { messages, hist })
    })?;
    let mut hist = new_histogram();
    let mut conns = 0;
    for r in &results {
        hist.add(&r.hist).map_err(|e| e.to_string())?;
        conns += r.messages;
    }
    let secs = elapsed.as_secs_f64();
    let rate = conns as f64 / secs;
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "# accept: batches of {} × ({} B echo once, close){}: {:.0} connections/s, connect-to-echo p50 {:.0} µs \
         p99 {:.0} µs, loadgen CPU {:.0}%",
        cfg.batch,
        cfg.size,
        if cfg.tls.is_some() { " TLS" } else { "" },
        rate,
        us(0.5),
        us(0.99),
        cpu.total_s() / secs * 100.0
    );
    println!(
        "{}",
        json_line(&[
            ("mode", J::S("accept".into())),
            ("label", J::S(cfg.label.clone())),
            ("addr", J::S(cfg.addr.clone())),
            ("batch", J::U(cfg.batch as u64)),
            ("size", J::U(cfg.size as u64)),
            ("tls", J::B(cfg.tls.is_some())),
            ("threads", J::U(threads as u64)),
            ("duration_s", J::F(secs)),
            ("connections", J::U(conns)),
            ("conns_per_s", J::F(rate)),
            ("p50_us", J::F(us(0.5))),
            ("p99_us", J::F(us(0.99))),
            ("cpu_user_s", J::F(cpu.user.as_secs_f64())),
            ("cpu_sys_s", J::F(cpu.sys.as_secs_f64())),
            ("cpu_pct", J::F(cpu.total_s() / secs * 100.0)),
        ])
    );
    Ok(())
}

fn idle_mode(cfg: Arc<Cfg>, n: usize, ping: bool) -> Result<(), String> {
    let rt = runtime();
    let local = LocalSet::new();
    let t0 = Instant::now();
    let conns = local.block_on(&rt, async {
        // At most 256 handshakes at a time: a burst of 10,000 SYNs would overflow the backlog.
        let gate = Rc::new(tokio::sync::Semaphore::new(256));
        let mut handles = Vec::with_capacity(n);
        for id in 0..n as u64 {
            let (cfg, gate) = (cfg.clone(), gate.clone());
            handles.push(tokio::task::spawn_local(async move {
                let _permit = gate.acquire().await.expect("semaphore");
                let mut conn = connect(&cfg).await.map_err(|e| format!("connection {id}: {e}"))?;
                if ping {
                    let pattern = Pattern::new(&cfg, id);
                    let work = async {
                        match &mut conn {
                            Conn::Plain(s) => one_echo(s, &pattern, 0).await,
                            Conn::Tls(s) => one_echo(&mut **s, &pattern, 0).await,
                        }
                    };
                    match tokio::time::timeout(cfg.drain_timeout, work).await {
                        Ok(r) => r.map_err(|e| format!("connection {id}: {e}"))?,
                        Err(_) => return Err(format!("connection {id}: no echo within {:?}", cfg.drain_timeout)),
                    }
                }
                Ok::<_, String>(conn)
            }));
        }
        let mut conns = Vec::with_capacity(n);
        for h in handles {
            conns.push(h.await.map_err(|e| e.to_string())??);
        }
        Ok::<_, String>(conns)
    })?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "# established {} connections in {:.2} s{}",
        conns.len(),
        secs,
        if ping { " (one echo each)" } else { "" }
    );
    println!(
        "{}",
        json_line(&[
            ("mode", J::S("idle".into())),
            ("label", J::S(cfg.label.clone())),
            ("connections", J::U(conns.len() as u64)),
            ("ping", J::B(ping)),
            ("connect_s", J::F(secs)),
        ])
    );
    marker(&format!("established {} connections", conns.len()));
    // Hold them until stdin closes (or a signal ends the process).
    let mut sink = [0u8; 256];
    let mut stdin = std::io::stdin();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    drop(conns);
    Ok(())
}
