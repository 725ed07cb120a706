#!/usr/bin/env python3
"""The benchmark runner of issue 5 (bench/README.md): actnet against its references, case by
case, in one run, printed as one table of medians and ratios.

    cmake --workflow --preset bench            # release build, then this script

or, with the tools already built (`cmake --preset release && cmake --build build/release
--target echo_server pingpong actnet_bench`):

    python3 bench/run.py --build-dir build/release [--cases a,b,...] [--duration S]
                         [--repetitions N] [--smoke] [--json-out FILE]

Python 3 standard library only. For every case, each side (actnet, then the reference) runs
in turn, interleaved A B A B ... for --repetitions, each run on a fresh server: the server is
pinned to one core and the load generator to the other (taskset; sched_setaffinity when
taskset is missing; no pinning, with a note, on one core). The runner waits for each server's
"listening on ADDR:PORT" line (never a sleep), samples the server's CPU time when the load
generator says the measurement window opens and closes, and stops the server with SIGTERM.
Every wait is bounded, every child dies with the runner (PR_SET_PDEATHSIG), and any failed
run (a wrong echo, a server that dies or exits non-zero, a stall) makes the exit status 1.
--smoke runs every case for about a second with small counts and judges no ratio.
"""

import argparse
import ctypes
import json
import os
import platform
import queue
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTENING = re.compile(r"^listening on (?P<host>\S+):(?P<port>[0-9]+)$")
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
LIVE = set()  # child processes to kill if the runner is interrupted


class RunFailed(Exception):
    pass


# ---- Cases ---------------------------------------------------------------------------------

# Each case: what the load generator does and how each server is started. "rows" are the table
# rows made from its runs: (label, metric, better, target).
#   metric: a key of the load generator's JSON (or "rss_per_conn" for g)
#   better: "high" or "low"; target: (op, value) on the ratio, or ("abs<=", bytes) for g.
FULL = {
    "a": dict(title="64 B, 1 conn, depth 1", mode="echo", connections=1, size=64, depth=1,
              rows=[("a   p50 µs", "p50_us", "low", ("<=", 1.25)),
                    ("a   p99 µs", "p99_us", "low", ("<=", 1.25))]),
    "a1": dict(title="case a, server and load generator on the same core", mode="echo",
               connections=1, size=64, depth=1, same_core=True, parent="a",
               rows=[("a'  p50 µs same core", "p50_us", "low", ("<=", 1.25)),
                     ("a'  p99 µs same core", "p99_us", "low", ("<=", 1.25))]),
    "b": dict(title="64 B, 64 conns, depth 16", mode="echo", connections=64, size=64, depth=16,
              rows=[("b   msg/s 64 B, {connections} conns × {depth}", "msgs_per_s", "high", (">=", 0.80))]),
    "c": dict(title="4096 B, 16 conns, depth 4", mode="echo", connections=16, size=4096, depth=4,
              rows=[("c   msg/s 4 KiB, {connections} conns × {depth}", "msgs_per_s", "high", (">=", 0.90))]),
    "d": dict(title="64 B + 4 B header, 64 conns, depth 16", mode="echo", connections=64, size=64,
              depth=16, framing="header4",
              rows=[("d   msg/s 64+4 B, {connections} conns × {depth}", "msgs_per_s", "high", (">=", 0.80))]),
    "e": dict(title="case b, 2 workers + pool buffers", mode="echo", connections=64, size=64, depth=16,
              actnet_extra=["--workers", "2", "--buffer-pool"],
              rows=[("e   msg/s b, 2 workers + pool", "msgs_per_s", "high", (">=", 0.80))]),
    "f": dict(title="case c over TLS", mode="echo", connections=16, size=4096, depth=4, tls=True,
              rows=[("f   msg/s c over TLS", "msgs_per_s", "high", (">=", 0.85))]),
    "g": dict(title="idle connections", mode="idle", connections=10000,
              rows=[("g   RSS B per idle conn ({connections})", "rss_per_conn", "low", ("abs<=", 1024))]),
    "h": dict(title="accept rate, 1,000 at a time", mode="accept", batch=1000, size=64,
              rows=[("h   conn/s, {batch} at a time", "conns_per_s", "high", (">=", 0.80))]),
    "i": dict(title="local messaging, 1 pair", mode="pingpong", pairs=1,
              rows=[("i   msg/s ping-pong 1 pair", "msgs_per_s", "high", (">=", 0.50))]),
    "i2": dict(title="local messaging, 2 pairs", mode="pingpong", pairs=2, parent="i",
               rows=[("i   msg/s ping-pong 2 pairs", "msgs_per_s", "high", (">=", 0.50))]),
}
ORDER = ["a", "a1", "b", "c", "d", "e", "f", "g", "h", "i", "i2"]

# --smoke: the same cases with small counts (every case about a second, no ratio judged).
SMOKE = {"b": dict(connections=8, depth=4), "d": dict(connections=8, depth=4),
         "e": dict(connections=8, depth=4), "c": dict(connections=4, depth=2),
         "f": dict(connections=4, depth=2), "g": dict(connections=200), "h": dict(batch=100)}


# ---- Child processes -----------------------------------------------------------------------

try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # resolved before any fork
except (OSError, AttributeError):
    _PRCTL = None


def _child_setup(cpus):
    """Runs in the child before exec: nothing that imports or allocates much."""
    def setup():
        if _PRCTL is not None:  # die with the runner (ctest timeouts, ^C)
            _PRCTL(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
    return setup


class Pinning:
    """Where servers and load generators run."""

    def __init__(self, disabled=False):
        cpus = sorted(os.sched_getaffinity(0))
        self.taskset = shutil.which("taskset")
        self.notes = []
        if disabled:
            self.server = self.client = None
            self.notes.append("pinning disabled (--no-pin)")
        elif len(cpus) < 2:
            self.server = self.client = None
            self.notes.append("only one core available: nothing pinned, server and load generator share it")
        else:
            self.server, self.client = cpus[1], cpus[0]
            if self.taskset:
                self.notes.append("server on cpu %d, load generator on cpu %d (taskset)" % (self.server, self.client))
            else:
                self.notes.append("taskset not found: pinned with sched_setaffinity instead "
                                  "(server cpu %d, load generator cpu %d)" % (self.server, self.client))
        self.both = None if self.server is None else sorted({self.server, self.client})

    def wrap(self, cmd, cpus):
        """(command, cpu set for preexec) for a child on `cpus` (a list, or None)."""
        if not cpus:
            return cmd, None
        if self.taskset:
            return [self.taskset, "-c", ",".join(map(str, cpus))] + cmd, None
        return cmd, set(cpus)


class Child:
    """A child process whose stdout lines arrive on a queue (read by a thread), so that every
    wait can have a deadline; stderr goes to a temporary file."""

    def __init__(self, cmd, pinning, cpus, stdin=subprocess.DEVNULL):
        self.cmd = cmd
        full, affinity = pinning.wrap(cmd, cpus)
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(full, stdin=stdin, stdout=subprocess.PIPE, stderr=self.err,
                                     preexec_fn=_child_setup(affinity), text=True, bufsize=1)
        LIVE.add(self.proc)
        self.lines = queue.Queue()
        self.all_lines = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.all_lines.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def next_line(self, deadline):
        """The next stdout line, None at EOF; RunFailed when the deadline passes."""
        left = deadline - time.monotonic()
        try:
            return self.lines.get(timeout=max(left, 0.001))
        except queue.Empty:
            raise RunFailed("%s: no output within the time allowed" % os.path.basename(self.cmd[0]))

    def stderr_text(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops it (sig, then SIGKILL after timeout); returns the exit status or None."""
        status = self.proc.poll()
        if status is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                status = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                status = None
        LIVE.discard(self.proc)
        return status

    def wait(self, deadline):
        try:
            status = self.proc.wait(timeout=max(deadline - time.monotonic(), 0.001))
        except subprocess.TimeoutExpired:
            self.stop(signal.SIGKILL)
            raise RunFailed("%s did not finish in time" % os.path.basename(self.cmd[0]))
        LIVE.discard(self.proc)
        return status


def proc_cpu_s(pid):
    """utime + stime of a process, in seconds (/proc/PID/stat)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def json_from(lines, what):
    for line in reversed(lines):
        if line.startswith("{"):
            return json.loads(line)
    raise RunFailed("%s printed no JSON line" % what)


# ---- One run -------------------------------------------------------------------------------

class Runner:
    def __init__(self, opts, tools, pinning):
        self.o = opts
        self.t = tools
        self.pin = pinning

    def server_cmd(self, case, side):
        c = case
        if side == "actnet":
            cmd = [self.t["echo_server"], "--host", HOST, "--port", "0", "--threads", "1"]
            if c.get("framing") == "header4":
                cmd += ["--header", "4,0,4"]
            if c.get("tls"):
                cmd += ["--tls-cert", self.t["certs"] + "/server.pem", "--tls-key", self.t["certs"] + "/server.key"]
            cmd += c.get("actnet_extra", [])
        else:
            cmd = [self.t["bench"], "tokio-echo", "--host", HOST, "--port", "0", "--threads", "1"]
            if c.get("framing") == "header4":
                cmd += ["--framing", "header4"]
            if c.get("tls"):
                cmd += ["--tls-cert", self.t["certs"] + "/server.pem", "--tls-key", self.t["certs"] + "/server.key"]
        return cmd

    def start_server(self, case, side):
        cpus = [self.pin.client] if case.get("same_core") and self.pin.client is not None else (
            [self.pin.server] if self.pin.server is not None else None)
        srv = Child(self.server_cmd(case, side), self.pin, cpus)
        line = srv.next_line(time.monotonic() + 30)
        m = LISTENING.match(line or "")
        if not m:
            srv.stop(signal.SIGKILL)
            raise RunFailed("%s server: expected 'listening on ADDR:PORT', got %r; stderr: %s"
                            % (side, line, srv.stderr_text().strip()[-500:]))
        return srv, int(m.group("port"))

    def stop_server(self, srv, side, result):
        alive = srv.proc.poll() is None
        status = srv.stop()
        err = srv.stderr_text().strip()
        if not alive:
            raise RunFailed("%s server died during the run (status %s): %s" % (side, status, err[-500:]))
        if side == "actnet" and status != 0:
            raise RunFailed("echo_server exited with status %s after SIGTERM: %s" % (status, err[-500:]))
        if err:
            lines = err.splitlines()
            result["server_stderr"] = "%d line%s, first: %s" % (len(lines), "" if len(lines) == 1 else "s", lines[0][:160])

    def loadgen_cmd(self, case, port):
        c = case
        cmd = [self.t["bench"], "loadgen", "--addr", "%s:%d" % (HOST, port),
               "--duration-s", str(self.o.duration), "--warmup-s", str(self.o.warmup),
               "--threads", str(self.o.client_threads)]
        if c["mode"] == "echo":
            cmd += ["--connections", str(c["connections"]), "--size", str(c["size"]), "--depth", str(c["depth"])]
        elif c["mode"] == "accept":
            cmd += ["--accept", "--batch", str(c["batch"]), "--size", str(c["size"])]
        if c.get("framing"):
            cmd += ["--framing", c["framing"]]
        if c.get("tls"):
            cmd += ["--tls", "--ca", self.t["certs"] + "/ca.pem", "--server-name", "localhost"]
        return cmd

    def run_load(self, case, side):
        """An echo or accept run: server, load generator, server CPU over the window."""
        srv, port = self.start_server(case, side)
        result = {}
        lg = None
        try:
            lg = Child(self.loadgen_cmd(case, port), self.pin, [self.pin.client] if self.pin.client is not None else None)
            deadline = time.monotonic() + self.o.warmup + self.o.duration + 60
            cpu0 = t0 = None
            while True:
                line = lg.next_line(deadline)
                if line is None:
                    break
                if line == "# measure start":
                    cpu0, t0 = proc_cpu_s(srv.proc.pid), time.monotonic()
                elif line == "# measure end" and cpu0 is not None:
                    cpu1 = proc_cpu_s(srv.proc.pid)
                    if cpu1 is not None:
                        result["server_cpu_pct"] = 100 * (cpu1 - cpu0) / (time.monotonic() - t0)
            status = lg.wait(deadline)
            if status != 0:
                raise RunFailed("load generator failed (status %s): %s" % (status, lg.stderr_text().strip()[-800:]))
            result.update(json_from(lg.all_lines, "the load generator"))
            result["loadgen_cpu_pct"] = result.get("cpu_pct")
        except BaseException:
            if lg is not None:
                lg.stop(signal.SIGKILL)
            srv.stop(signal.SIGKILL)
            raise
        self.stop_server(srv, side, result)
        return result

    def run_idle(self, case, side):
        """Case g: the server's RSS before and with N idle connections (each echoed once)."""
        n = case["connections"]
        srv, port = self.start_server(case, side)
        result = {"connections": n}
        lg = None
        try:
            rss0 = proc_status_kb(srv.proc.pid, "VmRSS")
            anon0 = proc_status_kb(srv.proc.pid, "RssAnon")
            cmd = [self.t["bench"], "loadgen", "--addr", "%s:%d" % (HOST, port), "--idle", str(n), "--size", "16"]
            lg = Child(cmd, self.pin, [self.pin.client] if self.pin.client is not None else None, stdin=subprocess.PIPE)
            deadline = time.monotonic() + 120
            while True:
                line = lg.next_line(deadline)
                if line is None:
                    raise RunFailed("idle load generator ended early: %s" % lg.stderr_text().strip()[-800:])
                if line.startswith("established"):
                    break
            # Every connection has been echoed once: the server has them all. Give deferred
            # frees and allocations 0.5 s to settle before reading (measurement, not a wait).
            time.sleep(0.5)
            rss1 = proc_status_kb(srv.proc.pid, "VmRSS")
            anon1 = proc_status_kb(srv.proc.pid, "RssAnon")
            if None in (rss0, rss1):
                raise RunFailed("cannot read /proc/%d/status" % srv.proc.pid)
            result.update(rss_before_kb=rss0, rss_after_kb=rss1, rss_anon_before_kb=anon0, rss_anon_after_kb=anon1,
                          rss_per_conn=(rss1 - rss0) * 1024.0 / n)
            lg.proc.stdin.close()  # let it go
            status = lg.wait(time.monotonic() + 60)
            if status != 0:
                raise RunFailed("idle load generator failed (status %s): %s" % (status, lg.stderr_text().strip()[-800:]))
        except BaseException:
            if lg is not None:
                lg.stop(signal.SIGKILL)
            srv.stop(signal.SIGKILL)
            raise
        self.stop_server(srv, side, result)
        return result

    def run_pingpong(self, case, side):
        threads = str(len(self.pin.both) if self.pin.both else os.cpu_count() or 1)
        common = ["--pairs", str(case["pairs"]), "--duration-s", str(self.o.duration),
                  "--warmup-s", str(self.o.warmup), "--threads", threads]
        if side == "actnet":
            cmd = [self.t["pingpong"]] + common
        else:
            cmd = [self.t["bench"], "mpsc-pingpong"] + common
        p = Child(cmd, self.pin, self.pin.both)
        status = p.wait(time.monotonic() + self.o.warmup + self.o.duration + 60)
        # The pump thread may still be reading the last lines.
        while p.next_line(time.monotonic() + 10) is not None:
            pass
        if status != 0:
            raise RunFailed("%s failed (status %s): %s" % (os.path.basename(cmd[0]), status, p.stderr_text().strip()[-800:]))
        result = json_from(p.all_lines, os.path.basename(cmd[0]))
        err = p.stderr_text().strip()
        if err:
            result["server_stderr"] = err.splitlines()[0][:160]
        return result

    def run(self, case, side):
        mode = case["mode"]
        if mode == "idle":
            return self.run_idle(case, side)
        if mode == "pingpong":
            return self.run_pingpong(case, side)
        return self.run_load(case, side)


# ---- Table ---------------------------------------------------------------------------------

def fmt_value(metric, v):
    if v is None:
        return "-"
    if metric in ("msgs_per_s", "conns_per_s"):
        return "%.2f M" % (v / 1e6) if v >= 1e6 else "%.1f k" % (v / 1e3) if v >= 1e4 else "%.0f" % v
    if metric == "rss_per_conn":
        return "{:,.0f}".format(v)
    return "%.1f" % v


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def build_rows(results, opts, cases_run):
    rows = []
    for key in cases_run:
        case = results[key]["case"]
        runs = results[key]["runs"]
        ok = {s: [r for r in runs[s] if "error" not in r] for s in ("actnet", "reference")}
        for label, metric, better, target in case["rows"]:
            a = median(r.get(metric) for r in ok["actnet"])
            r = median(r.get(metric) for r in ok["reference"])
            ratio = a / r if a is not None and r not in (None, 0) else None
            notes = []
            for side in ("actnet", "reference"):
                fails = [x["error"] for x in runs[side] if "error" in x]
                if fails:
                    notes.append("%s FAILED %d/%d: %s" % (side, len(fails), len(runs[side]), fails[0][:200]))
            lg = [median(x.get("loadgen_cpu_pct") for x in ok[s]) for s in ("actnet", "reference")]
            sc = [median(x.get("server_cpu_pct") for x in ok[s]) for s in ("actnet", "reference")]
            if case["mode"] in ("echo", "accept") and None not in sc:
                notes.append("server CPU %.0f%%/%.0f%%" % tuple(sc))
            if case["mode"] == "echo" and metric == "msgs_per_s":
                mb = [median(x.get("mb_per_s") for x in ok[s]) for s in ("actnet", "reference")]
                if None not in mb:
                    notes.append("%.0f/%.0f MB/s" % tuple(mb))
            if case["mode"] in ("echo", "accept") and metric not in ("p50_us", "p99_us"):
                bound = [s for s, v in zip(("actnet", "reference"), lg) if v is not None and v >= 90]
                if bound:
                    notes.append("load generator ≥ 90%% CPU on %s: client-bound?" % " and ".join(bound))
            if case["mode"] == "idle":
                cpr = case["connections"]
                notes.append("%d idle conns, each echoed once" % cpr)
            if case["mode"] == "pingpong":
                cpu = [median(x.get("cpu_pct") for x in ok[s]) for s in ("actnet", "reference")]
                if None not in cpu:
                    notes.append("process CPU %.0f%%/%.0f%%" % tuple(cpu))
            for side in ("actnet", "reference"):
                errs = [x["server_stderr"] for x in ok[side] if x.get("server_stderr")]
                if errs:
                    notes.append("%s stderr: %s" % (side, errs[0]))
            op, bound = target
            if op == "abs<=":
                tgt = "≤ %d B" % bound
                met = a is not None and a <= bound
            else:
                tgt = "%s %.2f" % ("≤" if op == "<=" else "≥", bound)
                met = ratio is not None and (ratio <= bound if op == "<=" else ratio >= bound)
            if opts.smoke:
                verdict = "(smoke)"
            elif a is None or (ratio is None and op != "abs<="):
                verdict = "n/a"
            else:
                verdict = "ok" if met else "MISS"
            label = label.format(**case)
            rows.append(dict(case=key, label=label, metric=metric, better=better, actnet=a, reference=r,
                             ratio=ratio, target=tgt, verdict=verdict,
                             loadgen_cpu_pct=lg, server_cpu_pct=sc, note="; ".join(notes)))
    return rows


def print_table(rows, out=sys.stdout):
    head = ["case / measure", "actnet", "reference", "ratio", "target", "", "loadgen CPU a/r", "note"]
    body = []
    for r in rows:
        lg = r["loadgen_cpu_pct"]
        body.append([r["label"], fmt_value(r["metric"], r["actnet"]), fmt_value(r["metric"], r["reference"]),
                     "-" if r["ratio"] is None else "%.2f" % r["ratio"], r["target"], r["verdict"],
                     "-" if None in lg else "%.0f%%/%.0f%%" % tuple(lg), r["note"]])
    widths = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head) - 1)]
    def line(cells):
        parts = [str(c).ljust(w) if i in (0, 4, 5, 6) else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts + [cells[-1]]).rstrip()
    print(line(head), file=out)
    print("-" * (sum(widths) + 2 * len(widths) + 4), file=out)
    for b in body:
        print(line(b), file=out)


# ---- Main ----------------------------------------------------------------------------------

def find_tools(o):
    tools = {}
    build = o.build_dir
    def pick(explicit, *candidates):
        if explicit:
            return os.path.abspath(explicit)
        for c in candidates:
            if c and os.path.exists(c):
                return os.path.abspath(c)
        return None
    tools["echo_server"] = pick(o.echo_server, build and os.path.join(build, "c-examples", "echo_server"))
    tools["pingpong"] = pick(o.pingpong, build and os.path.join(build, "bench", "pingpong"))
    tools["bench"] = pick(o.bench, build and os.path.join(build, "cargo", "release", "actnet-bench"),
                          build and os.path.join(build, "cargo", "debug", "actnet-bench"))
    missing = [k for k, v in tools.items() if not v or not os.access(v, os.X_OK)]
    if missing:
        sys.exit("run.py: cannot find %s (give --build-dir, or --echo-server/--pingpong/--bench)" % ", ".join(missing))
    return tools


def make_certs(o, work):
    if o.certs:
        return os.path.abspath(o.certs), None
    if not shutil.which("openssl"):
        return None, "openssl not found: no certificates for case f"
    d = tempfile.mkdtemp(prefix="certs-", dir=work)  # fresh: concurrent runs may share work
    p = subprocess.run(["sh", os.path.join(ROOT, "tests", "tls", "make_certs.sh"), d],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)
    if p.returncode != 0:
        return None, "tests/tls/make_certs.sh failed: %s" % p.stderr.strip()[-300:]
    return d, None


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard == resource.RLIM_INFINITY else max(soft, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if soft != resource.RLIM_INFINITY else 1 << 30


def cpu_pressure():
    """The machine's recent CPU contention: load average (1 min) and, where the kernel has
    PSI, the share of time tasks waited for a CPU (avg10). Other work makes figures noisy."""
    parts = ["load %.2f" % os.getloadavg()[0]]
    try:
        with open("/proc/pressure/cpu") as f:
            some = f.readline().split()
        parts.append("cpu pressure %s%%" % some[1].split("=")[1])
    except (OSError, IndexError):
        pass
    return ", ".join(parts)


def machine_description():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores available, Linux %s, Python %s" % (model or platform.machine(), len(os.sched_getaffinity(0)),
                                                          platform.release(), platform.python_version())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", help="a CMake build tree (finds echo_server, pingpong, actnet-bench in it)")
    ap.add_argument("--echo-server")
    ap.add_argument("--pingpong")
    ap.add_argument("--bench", help="the actnet-bench binary")
    ap.add_argument("--certs", help="directory with ca.pem, server.pem, server.key (default: made with "
                                    "tests/tls/make_certs.sh in the work dir)")
    ap.add_argument("--work-dir", help="scratch directory (default: a temporary one)")
    ap.add_argument("--cases", default="a,b,c,d,e,f,g,h,i",
                    help="comma-separated letters among a-i (default all; a includes the same-core variant, "
                         "i both pair counts)")
    ap.add_argument("--duration", type=float, help="measurement seconds per run (default 8; smoke 0.5)")
    ap.add_argument("--warmup", type=float, help="warm-up seconds per run (default 1; smoke 0.2)")
    ap.add_argument("--repetitions", type=int, help="runs per side, interleaved (default 3; smoke 1)")
    ap.add_argument("--idle-connections", type=int, help="case g (default 10000; smoke 200)")
    ap.add_argument("--client-threads", type=int, default=1, help="load generator threads (default 1)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin anything")
    ap.add_argument("--smoke", action="store_true",
                    help="every case about a second, 1 repetition, small counts; judge no ratio")
    ap.add_argument("--json-out", help="write every run and the table here")
    o = ap.parse_args()
    o.duration = o.duration if o.duration is not None else (0.5 if o.smoke else 8.0)
    o.warmup = o.warmup if o.warmup is not None else (0.2 if o.smoke else 1.0)
    o.repetitions = o.repetitions if o.repetitions is not None else (1 if o.smoke else 3)
    if o.duration <= 0 or o.warmup < 0 or o.repetitions < 1 or o.client_threads < 1:
        sys.exit("run.py: --duration > 0, --warmup >= 0, --repetitions >= 1, --client-threads >= 1")

    wanted = [c.strip() for c in o.cases.split(",") if c.strip()]
    bad = [c for c in wanted if c not in "abcdefghi" or len(c) != 1]
    if bad:
        sys.exit("run.py: unknown case(s) %s (letters a-i)" % ", ".join(bad))
    keys = [k for k in ORDER if (FULL[k].get("parent") or k) in wanted]

    tools = find_tools(o)
    work = o.work_dir or tempfile.mkdtemp(prefix="actnet-bench-")
    os.makedirs(work, exist_ok=True)
    pinning = Pinning(o.no_pin)
    fd_limit = raise_fd_limit(0)
    notes = list(pinning.notes)

    cases = {}
    for k in keys:
        c = dict(FULL[k])
        if o.smoke:
            c.update(SMOKE.get(k, {}))
        if k == "g":
            if o.idle_connections:
                c["connections"] = o.idle_connections
            room = fd_limit - 200
            if c["connections"] > room:
                notes.append("fd limit %d: case g uses %d connections instead of %d" % (fd_limit, room, c["connections"]))
                c["connections"] = max(room, 10)
        cases[k] = c

    certs_note = None
    if "f" in keys:
        tools["certs"], certs_note = make_certs(o, work)
        if certs_note:
            notes.append(certs_note)

    # Measured: a run takes its warm-up and duration plus ~0.1 s; an idle run 1-3 s.
    per_run = o.warmup + o.duration + 0.15
    estimate = sum((3 if cases[k]["mode"] == "idle" else per_run) * 2 * o.repetitions for k in keys)
    print("actnet benchmarks: %s" % machine_description())
    print("  before: %s (anything but idle means other work competes: noisy figures)" % cpu_pressure())
    for n in notes:
        print("  note: " + n)
    print("  cases %s; %d × (%.1f s warm-up + %.1f s) per side, interleaved actnet/reference; "
          "about %.0f s in all" % (",".join(wanted), o.repetitions, o.warmup, o.duration, estimate))
    sys.stdout.flush()

    runner = Runner(o, tools, pinning)
    results = {k: {"case": cases[k], "runs": {"actnet": [], "reference": []}} for k in keys}
    started = time.monotonic()
    for k in keys:
        case = cases[k]
        for rep in range(o.repetitions):
            for side in ("actnet", "reference"):
                t0 = time.monotonic()
                if case.get("tls") and not tools.get("certs"):
                    r = {"error": certs_note or "no certificates"}
                else:
                    try:
                        r = runner.run(case, side)
                    except RunFailed as e:
                        r = {"error": str(e)}
                    except (OSError, ValueError, subprocess.SubprocessError) as e:
                        r = {"error": "%s: %s" % (type(e).__name__, e)}
                r["wall_s"] = time.monotonic() - t0
                results[k]["runs"][side].append(r)
                m = case["rows"][0][1]
                shown = "FAILED: " + r["error"] if "error" in r else fmt_value(m, r.get(m))
                print("  [%3.0f s] %-3s %-9s rep %d: %-10s (%.1f s)" % (time.monotonic() - started, k, side, rep + 1,
                                                                        shown[:300], time.monotonic() - t0))
                sys.stdout.flush()

    rows = build_rows(results, o, keys)
    total = time.monotonic() - started
    print()
    print("actnet ÷ reference, medians of %d run%s per side (%s s each; %s)" % (
        o.repetitions, "" if o.repetitions == 1 else "s", o.duration, "; ".join(pinning.notes)))
    print("reference: actnet-bench tokio-echo (tokio current-thread runtime, 1 thread) / mpsc-pingpong; "
          "actnet: echo_server --threads 1 / pingpong")
    print()
    print_table(rows)
    print()
    print("total time %.0f s%s; after: %s" % (total, " (smoke run: no ratio judged)" if o.smoke else "",
                                              cpu_pressure()))
    if "f" in keys and tools.get("certs") and not o.certs:
        shutil.rmtree(tools["certs"], ignore_errors=True)
    if not o.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    failed = any("error" in r for k in keys for s in ("actnet", "reference") for r in results[k]["runs"][s])
    if o.json_out:
        with open(o.json_out, "w") as f:
            json.dump({"machine": machine_description(), "notes": notes, "options": vars(o), "total_s": total,
                       "rows": rows, "cases": results}, f, indent=1, default=str)
        print("results in %s" % o.json_out)
    if failed:
        print("run.py: some runs FAILED (see the notes above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        for p in list(LIVE):
            try:
                p.kill()
            except OSError:
                pass
        sys.exit(130)
