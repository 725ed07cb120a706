#!/usr/bin/env python3
"""Drives the example programs (c-examples/) as an outside tool would, and checks that they
behave as issue 3 specifies: the command lines of echo_server and tcp_client are a contract.

    test_examples.py --echo-server PATH --tcp-client PATH --chat-server PATH
                     [--group echo_server|tcp_client|chat_server|all] [-k SUBSTRING] [--list]

Standard library only. Every wait is bounded (sockets have timeouts, the first stdout line
and process exits have deadlines), so a hang fails the case instead of stalling CI. Each case
starts its own server on an OS-picked port, read from the "listening on ADDR:PORT" line, and
every child process is stopped (SIGTERM, then SIGKILL as a last resort) even when a check
fails. Exit status: 0 when every selected case passed, 1 otherwise.
"""

import argparse
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
FIRST_LINE_TIMEOUT = 5.0   # the "listening on" line is flushed right after binding
EXIT_TIMEOUT = 5.0         # SIGINT/SIGTERM must end a server within this
IO_TIMEOUT = 10.0          # any single expected exchange over loopback
LISTENING = re.compile(rb"^listening on (?P<addr>[^\s:]+):(?P<port>[0-9]+)\n$")

PATHS = {}  # "echo_server" / "tcp_client" / "chat_server" -> executable


class Failure(Exception):
    """A check failed; the message says what was expected and what happened."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def show(data, limit=120):
    """A short printable form of bytes for failure messages."""
    text = repr(bytes(data[:limit]))
    return text + ("... (%d bytes)" % len(data) if len(data) > limit else "")


# ---- Child processes ---------------------------------------------------------------------

def _die_with_parent():
    """In the child, before exec: get SIGKILL if this test runner dies (e.g. killed by a
    ctest timeout), so no server outlives the test. Linux only; harmless elsewhere."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


LIVE_CHILDREN = set()


def stop_process(proc, sig=signal.SIGTERM, timeout=EXIT_TIMEOUT):
    """Stops proc: sig, then SIGKILL if it has not exited after timeout. Returns the exit
    status after sig (None if SIGKILL was needed)."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
    try:
        status = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
        status = None
    LIVE_CHILDREN.discard(proc)
    return status


class Server:
    """A server example program (echo_server or chat_server) started with `args`. Entering
    the context starts it and reads its first stdout line; leaving it stops it."""

    def __init__(self, program, *args, host=HOST):
        self.program = program
        self.args = [str(a) for a in args]
        self.host = host
        self.proc = None
        self.port = None
        self.first_line = b""
        self.stderr_file = tempfile.TemporaryFile()

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def command(self):
        return [PATHS[self.program]] + self.args

    def start(self):
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.stderr_file, preexec_fn=_die_with_parent)
        LIVE_CHILDREN.add(self.proc)
        self.first_line = self._read_first_line(FIRST_LINE_TIMEOUT)
        m = LISTENING.match(self.first_line)
        check(m is not None, "%s: first stdout line %s does not match 'listening on ADDR:PORT'; stderr: %s"
              % (self.describe(), show(self.first_line), self.stderr()))
        check(m.group("addr") == self.host.encode(), "%s: listening on %s, expected %s"
              % (self.describe(), m.group("addr"), self.host))
        self.port = int(m.group("port"))
        check(0 < self.port < 65536, "%s: bad port in %s" % (self.describe(), show(self.first_line)))

    def _read_first_line(self, timeout):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("%s: no complete first stdout line within %.1f s (got %s); stderr: %s"
                              % (self.describe(), timeout, show(line), self.stderr()))
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1)  # one byte at a time: never read past the first line
            if not chunk:
                raise Failure("%s: stdout closed before a complete first line (got %s); exit %s; stderr: %s"
                              % (self.describe(), show(line), self.proc.poll(), self.stderr()))
            line += chunk
        return line

    def describe(self):
        return " ".join([self.program] + self.args)

    def stderr(self):
        self.stderr_file.seek(0)
        text = self.stderr_file.read().decode(errors="replace").strip()
        return repr(text[-2000:]) if text else "(empty)"

    def stop(self, sig=signal.SIGTERM, timeout=EXIT_TIMEOUT):
        """Sends sig and returns (exit status or None if it had to be killed, seconds taken)."""
        started = time.monotonic()
        status = stop_process(self.proc, sig, timeout)
        return status, time.monotonic() - started

    def close(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                stop_process(self.proc)
            LIVE_CHILDREN.discard(self.proc)
            self.proc.stdout.close()
        self.stderr_file.close()

    def connect(self):
        return connect(self.port)


def run_program(program, args, timeout):
    """Runs a program to completion (bounded); returns (status, stdout, stderr, seconds)."""
    started = time.monotonic()
    proc = subprocess.Popen([PATHS[program]] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
    LIVE_CHILDREN.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_process(proc, signal.SIGTERM, 2.0)
        out, err = proc.communicate(timeout=EXIT_TIMEOUT)
        raise Failure("%s %s: still running after %.1f s (stdout %s, stderr %r)"
                      % (program, " ".join(map(str, args)), timeout, show(out), err.decode(errors="replace")))
    finally:
        if proc.poll() is None:
            stop_process(proc)
        LIVE_CHILDREN.discard(proc)
    return proc.returncode, out, err, time.monotonic() - started


# ---- Sockets -------------------------------------------------------------------------------

def connect(port):
    s = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(sock, n, timeout=IO_TIMEOUT, what="data"):
    """Reads exactly n bytes within timeout."""
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("timed out after %.1f s waiting for %s: got %d of %d bytes: %s"
                          % (timeout, what, len(data), n, show(data)))
        sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(data))
        except socket.timeout:
            continue
        except ConnectionError as e:
            raise Failure("connection error while waiting for %s after %d of %d bytes (%s): %s"
                          % (what, len(data), n, e, show(data)))
        if not chunk:
            raise Failure("EOF while waiting for %s: got %d of %d bytes: %s" % (what, len(data), n, show(data)))
        data += chunk
    return data


def expect_exact(sock, expected, what=None, timeout=IO_TIMEOUT):
    got = recv_exact(sock, len(expected), timeout, what or show(expected))
    check(got == expected, "expected %s, got %s" % (show(expected), show(got)))


def recv_line(sock, timeout=IO_TIMEOUT):
    """Reads one line ending in \\n (byte by byte: nothing past it is consumed)."""
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        line += recv_exact(sock, 1, max(deadline - time.monotonic(), 0.001), "a line (so far %s)" % show(line))
    return line


def expect_silence(sock, seconds, what):
    """Asserts that nothing arrives (and the connection stays open) for `seconds`. Used only
    where the absence of an event is the point; it never replaces waiting for an event."""
    ready, _, _ = select.select([sock], [], [], seconds)
    if ready:
        sock.settimeout(1.0)
        try:
            data = sock.recv(65536)
        except ConnectionError as e:
            data = ("<%s>" % e).encode()
        raise Failure("%s: expected nothing for %.0f ms, got %s"
                      % (what, seconds * 1000, show(data) if data else "EOF"))


def expect_closed(sock, timeout=IO_TIMEOUT, what="the server to close the connection"):
    """Waits until the peer closes (EOF or reset); data arriving first is a failure."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("timed out after %.1f s waiting for %s" % (timeout, what))
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionError:
            return
        if not data:
            return
        raise Failure("waiting for %s, got data instead: %s" % (what, show(data)))


def exchange(plan, timeout=IO_TIMEOUT):
    """Writes and reads several sockets at once. plan: list of (sock, chunks, expected): each
    socket writes its chunks (one send per chunk as far as the kernel takes it) while reading,
    until it has read len(expected) bytes, which must equal expected."""
    state = []
    for sock, chunks, expected in plan:
        sock.setblocking(False)
        state.append({"sock": sock, "chunks": [bytes(c) for c in chunks if c], "expected": expected,
                      "got": bytearray()})
    deadline = time.monotonic() + timeout
    try:
        while True:
            readers = [s["sock"] for s in state if len(s["got"]) < len(s["expected"])]
            writers = [s["sock"] for s in state if s["chunks"]]
            if not readers and not writers:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                progress = "; ".join("read %d of %d, %d chunks unsent" % (len(s["got"]), len(s["expected"]),
                                                                       len(s["chunks"])) for s in state)
                raise Failure("exchange timed out after %.1f s: %s" % (timeout, progress))
            r, w, _ = select.select(readers, writers, [], left)
            for s in state:
                if s["sock"] in w:
                    chunk = s["chunks"][0]
                    try:
                        n = s["sock"].send(chunk)
                    except BlockingIOError:
                        n = 0
                    s["chunks"][0] = chunk[n:]
                    if not s["chunks"][0]:
                        s["chunks"].pop(0)
                if s["sock"] in r:
                    want = len(s["expected"]) - len(s["got"])
                    try:
                        data = s["sock"].recv(min(want, 1 << 20))
                    except BlockingIOError:
                        continue
                    except ConnectionError as e:
                        raise Failure("connection error after reading %d of %d bytes: %s"
                                      % (len(s["got"]), len(s["expected"]), e))
                    if not data:
                        raise Failure("EOF after reading %d of %d bytes" % (len(s["got"]), len(s["expected"])))
                    start = len(s["got"])
                    s["got"] += data
                    if s["got"] != s["expected"][:len(s["got"])]:
                        at = next(i for i in range(start, len(s["got"])) if s["got"][i] != s["expected"][i])
                        raise Failure("received bytes differ from expected at offset %d of %d: got %s, expected %s"
                                      % (at, len(s["expected"]), show(s["got"][at:at + 16]),
                                         show(s["expected"][at:at + 16])))
    finally:
        for s in state:
            s["sock"].setblocking(True)
            s["sock"].settimeout(IO_TIMEOUT)


def payload(n, seed):
    return random.Random(seed).getrandbits(8 * n).to_bytes(n, "little") if n else b""


def split(data, sizes):
    """Cuts data into pieces of the given sizes, cycling through them."""
    pieces, i, k = [], 0, 0
    while i < len(data):
        pieces.append(data[i:i + sizes[k % len(sizes)]])
        i += sizes[k % len(sizes)]
        k += 1
    return pieces


def echo_roundtrip(srv, sizes=(1, 100, 4096, 65535, 65536 + 7, 1 << 20), seed=1):
    """One connection per size, each sending its payload in several writes, read back fully."""
    socks = []
    try:
        for n in sizes:
            socks.append(srv.connect())
        for sock, n in zip(socks, sizes):
            data = payload(n, seed + n)
            exchange([(sock, split(data, [max(1, n // 5), 3, 1000, 70001]), data)], timeout=20.0)
    finally:
        for s in socks:
            s.close()


def header404(payload_bytes):
    return struct.pack(">I", len(payload_bytes)) + payload_bytes


# ---- echo_server cases ---------------------------------------------------------------------

def case_echo_first_line_and_defaults():
    """Port 0 explicit, --host explicit, and no --port at all: 'listening on 127.0.0.1:P'."""
    for args in (["--port", "0"], ["--host", "127.0.0.1", "--port", "0"], []):
        with Server("echo_server", *args) as srv:
            with srv.connect() as s:
                exchange([(s, [b"ping"], b"ping")])


def case_echo_sizes():
    """Bytes come back unchanged: 1 B .. 1 MiB, each in several writes."""
    with Server("echo_server", "--port", "0") as srv:
        echo_roundtrip(srv)


def case_echo_concurrent_clients():
    """Eight clients at once, each with its own data, interleaved."""
    with Server("echo_server", "--port", "0") as srv:
        socks = [srv.connect() for _ in range(8)]
        try:
            plan = []
            for i, s in enumerate(socks):
                data = payload(200000 + 997 * i, 100 + i)
                plan.append((s, split(data, [1 + i, 4096, 33333]), data))
            exchange(plan, timeout=20.0)
        finally:
            for s in socks:
                s.close()


def case_greet_workers():
    """--workers 3 --greet: connection k is greeted by tcp_worker_(k mod 3), then echoes."""
    with Server("echo_server", "--port", "0", "--workers", "3", "--greet") as srv:
        socks = []
        try:
            for k in range(7):
                s = srv.connect()
                socks.append(s)
                expected = b"welcome tcp_worker_%d\n" % (k % 3)
                expect_exact(s, expected, "greeting of connection %d" % k)
                # Nothing else precedes the echo: the next byte back is the one sent.
                exchange([(s, [b"x%d" % k], b"x%d" % k)])
        finally:
            for s in socks:
                s.close()


def case_greet_echo():
    """--greet without --workers: the parent, registered as 'echo', greets."""
    with Server("echo_server", "--greet") as srv:
        for k in range(2):
            with srv.connect() as s:
                expect_exact(s, b"welcome echo\n", "greeting of connection %d" % k)
                exchange([(s, [b"after greeting"], b"after greeting")])


def case_report_lengths_fixed():
    """--report-lengths --fixed 8: 40 bytes in odd-sized pieces give five '8\\n'."""
    with Server("echo_server", "--report-lengths", "--fixed", "8") as srv:
        with srv.connect() as s:
            data = payload(40, 7)
            exchange([(s, [data[0:3], data[3:8], data[8:15], data[15:26], data[26:39], data[39:40]],
                       b"8\n" * 5)])
            # A partial frame is not delivered...
            s.sendall(b"abc")
            expect_silence(s, 0.1, "3 bytes of an 8-byte fixed frame")
            # ...and completing it gives exactly one more answer (nothing else was pending).
            exchange([(s, [b"defgh"], b"8\n")])


def case_report_lengths_header():
    """--report-lengths --header 4,0,4: each frame's DATA is header + payload."""
    with Server("echo_server", "--report-lengths", "--header", "4,0,4") as srv:
        with srv.connect() as s:
            sizes = [0, 1, 5, 100, 70000, 3]
            frames = b"".join(header404(payload(n, n)) for n in sizes)
            expected = b"".join(b"%d\n" % (4 + n) for n in sizes)
            # All frames in one write (several frames per read; one larger than the read buffer).
            exchange([(s, [frames], expected)])
            # The same frames cut at odd places.
            exchange([(s, split(frames, [1, 2, 3, 5, 7, 11, 13, 4099]), expected)])
            # A frame whose header arrives in pieces is delivered only when complete.
            frame = header404(b"0123456789")
            s.sendall(frame[:3])
            expect_silence(s, 0.1, "3 bytes of a 4-byte header")
            s.sendall(frame[3:9])
            expect_silence(s, 0.1, "a frame missing 5 payload bytes")
            exchange([(s, [frame[9:]], b"14\n")])


def case_report_lengths_header_incl():
    """--report-lengths --header 4,2,2,incl: a 2-byte length at offset 2 counting the header."""
    with Server("echo_server", "--report-lengths", "--header", "4,2,2,incl") as srv:
        with srv.connect() as s:
            totals = [4, 5, 16, 300, 1000, 65535]
            frames = b"".join(b"\xab\xcd" + struct.pack(">H", t) + payload(t - 4, t) for t in totals)
            exchange([(s, split(frames, [3, 1, 250, 9000]), b"".join(b"%d\n" % t for t in totals))])


def case_header_echo():
    """--header 4,0,4 without --report-lengths: frames come back unchanged."""
    with Server("echo_server", "--header", "4,0,4") as srv:
        with srv.connect() as s:
            frames = b"".join(header404(payload(n, 50 + n)) for n in (0, 1, 17, 4096, 100000))
            exchange([(s, split(frames, [2, 5, 3000]), frames)])


def case_max_length():
    """--header 4,0,4 --max-length 16: a header claiming more closes that connection only."""
    with Server("echo_server", "--header", "4,0,4", "--max-length", "16") as srv:
        with srv.connect() as s:
            ok = header404(b"1234")  # 8 bytes in all: within the limit however it is counted
            exchange([(s, [ok], ok)])
            s.sendall(struct.pack(">I", 1000))
            expect_closed(s, what="the server to close a connection whose header claims 1000 bytes")
        # The server keeps serving new clients.
        for i in range(2):
            with srv.connect() as s2:
                ok = header404(b"abcd%d" % i)
                exchange([(s2, [ok], ok)])


def case_buffer_pool():
    """--buffer-pool (zero-copy writes of the received buffers): still exact, many messages."""
    with Server("echo_server", "--buffer-pool") as srv:
        echo_roundtrip(srv, sizes=(1, 1000, 65535, 65536, 300000, 1 << 20), seed=9)
        with srv.connect() as s:
            for i in range(300):  # one request at a time
                msg = payload(1 + (i * 37) % 3000, 1000 + i)
                exchange([(s, [msg], msg)])
        socks = [srv.connect() for _ in range(4)]
        try:  # pipelined, concurrent
            plan = []
            for i, s in enumerate(socks):
                msgs = [payload(1 + (j * 131 + i) % 5000, 5000 + 100 * i + j) for j in range(100)]
                plan.append((s, msgs, b"".join(msgs)))
            exchange(plan)
        finally:
            for s in socks:
                s.close()


def case_buffer_pool_small_reads():
    """--buffer-pool --read-buffer 16: many small pool buffers per message, still exact."""
    with Server("echo_server", "--buffer-pool", "--read-buffer", "16") as srv:
        with srv.connect() as s:
            data = payload(100000, 77)
            exchange([(s, split(data, [999, 1, 16, 17]), data)])


def case_read_buffer():
    """--read-buffer 4 --report-lengths: 10 bytes at once come as DATA of at most 4 bytes."""
    with Server("echo_server", "--read-buffer", "4", "--report-lengths") as srv:
        with srv.connect() as s:
            s.sendall(b"0123456789")
            lengths, total = [], 0
            while total < 10:
                line = recv_line(s)
                try:
                    n = int(line)
                except ValueError:
                    raise Failure("expected a decimal length, got %s (after %s)" % (show(line), lengths))
                lengths.append(n)
                total += n
            check(total == 10 and all(1 <= n <= 4 for n in lengths),
                  "DATA lengths %s: expected each 1..4, summing to 10" % lengths)
            # Nothing else pending: the next answer is for the next byte.
            exchange([(s, [b"z"], b"1\n")])


def case_keepalive_bytes():
    """--keepalive-bytes 4b --keepalive-period-ms 100: 'K' repeatedly on an idle connection,
    not at once on connect."""
    with Server("echo_server", "--keepalive-bytes", "4b", "--keepalive-period-ms", "100") as srv:
        with srv.connect() as s:
            connected = time.monotonic()
            expect_silence(s, 0.05, "keepalive right after connect (period 100 ms)")
            got = b""
            s.settimeout(0.1)
            while time.monotonic() - connected < 0.65 and got.count(b"K") < 3:
                try:
                    chunk = s.recv(100)
                except socket.timeout:
                    continue
                check(chunk != b"", "EOF on an idle connection with keepalive")
                got += chunk
            elapsed = time.monotonic() - connected
            check(set(got) <= {ord("K")}, "expected only keepalive bytes 'K', got %s" % show(got))
            check(got.count(b"K") >= 3, "expected at least 3 'K' within 650 ms of connect, got %s in %.0f ms"
                  % (show(got), elapsed * 1000))
            # Echo still works on that connection (keepalive bytes may precede the echo).
            s.sendall(b"hello")
            s.settimeout(IO_TIMEOUT)
            rest = b""
            while not rest.endswith(b"hello") and len(rest) < 1000:
                rest += recv_exact(s, 1, what="the echo of 'hello' after keepalives")
            check(re.fullmatch(rb"K*hello", rest) is not None, "expected 'K'* then 'hello', got %s" % show(rest))


def case_keepalive_bytes_without_period():
    """--keepalive-bytes without a period, or with period 0: an error, exit non-zero."""
    for args in (["--keepalive-bytes", "4b"], ["--keepalive-bytes", "4b", "--keepalive-period-ms", "0"]):
        status, out, err, _ = run_program("echo_server", ["--port", "0"] + args, timeout=EXIT_TIMEOUT)
        check(status not in (0, None) and status > 0,
              "echo_server %s: expected a non-zero exit, got %s" % (" ".join(args), status))
        check(b"listening on" not in out, "echo_server %s: printed %s" % (" ".join(args), show(out)))
        check(err.strip() != b"", "echo_server %s: exit %d without an error message" % (" ".join(args), status))


def case_tcp_keepalive_and_mailbox_policy():
    """--tcp-keepalive-s 30, --mailbox-policy pause|terminate are accepted; echo works."""
    for args in (["--tcp-keepalive-s", "30"], ["--tcp-keepalive-s", "-1"], ["--mailbox-policy", "pause"],
                 ["--mailbox-policy", "terminate"],
                 ["--tcp-keepalive-s", "30", "--mailbox-policy", "terminate", "--workers", "2"]):
        with Server("echo_server", "--port", "0", *args) as srv:
            with srv.connect() as s:
                data = payload(100000, 3)
                exchange([(s, split(data, [4096, 1]), data)])


def case_bad_arguments():
    """An unknown flag or a bad value: exit 2, usage on stderr, never listens."""
    bad = [["--bogus"], ["--port"], ["--port", "abc"], ["--port", "70000"], ["--port", "-1"],
           ["--workers", "x"], ["--fixed", "0"], ["--fixed", "eight"], ["--header", "4,0"],
           ["--header", "4,0,4,excl"], ["--header", "a,b,c"], ["--max-length", "-5"], ["--read-buffer", "0"],
           ["--keepalive-bytes", "zz", "--keepalive-period-ms", "100"], ["--keepalive-bytes", "4"],
           ["--keepalive-period-ms", "soon"], ["--tcp-keepalive-s", "x"], ["--mailbox-policy", "sometimes"],
           ["--mailbox-policy"], ["extra"]]
    problems = []
    for args in bad:
        status, out, err, _ = run_program("echo_server", args, timeout=EXIT_TIMEOUT)
        if status != 2 or b"usage:" not in err or b"listening on" in out:
            problems.append("echo_server %s: exit %s, stdout %s, stderr %r"
                            % (" ".join(args), status, show(out), err.decode(errors="replace")[:200]))
    check(not problems, "expected exit 2 with a usage message on stderr:\n    " + "\n    ".join(problems))


def _signal_case(sig, with_clients):
    with Server("echo_server", "--port", "0") as srv:
        socks = []
        try:
            if with_clients:
                for i in range(3):
                    s = srv.connect()
                    socks.append(s)
                    exchange([(s, [b"hi %d" % i], b"hi %d" % i)])  # the connection is live server-side
            status, took = srv.stop(sig)
            check(status == 0, "echo_server: expected exit 0 within %.0f s of %s%s, got %s (None: SIGKILL was "
                  "needed); stderr: %s" % (EXIT_TIMEOUT, signal.Signals(sig).name,
                                          " with clients connected" if with_clients else "", status, srv.stderr()))
            for s in socks:
                expect_closed(s, timeout=5.0, what="EOF after the server stopped")
        finally:
            for s in socks:
                s.close()


def case_sigint_idle():
    _signal_case(signal.SIGINT, False)


def case_sigterm_idle():
    _signal_case(signal.SIGTERM, False)


def case_sigint_with_clients():
    _signal_case(signal.SIGINT, True)


def case_sigterm_with_clients():
    _signal_case(signal.SIGTERM, True)


NODE_STOP_FLUSH = 1.0  # a node stop gives queued writes at most 1 s (actnet_node_stop, include/actnet.h)


def case_sigterm_with_peer_not_reading():
    """SIGTERM while a client floods the server and never reads its echoes: exit 0, bounded.
    (The node's stop flushes queued writes for at most a second; a peer that does not read
    must not hold it longer.)"""
    with Server("echo_server", "--port", "0") as srv:
        socks = []
        try:
            reader = srv.connect()
            socks.append(reader)
            exchange([(reader, [b"still here"], b"still here")])
            hog = srv.connect()
            socks.append(hog)
            exchange([(hog, [b"hi"], b"hi")])
            # Flood until the server has stopped taking bytes (its write queue to us is full and
            # it stopped reading or gave up on us), bounded in time.
            hog.setblocking(False)
            flood_deadline = time.monotonic() + 10.0
            block = b"\0" * 65536
            while time.monotonic() < flood_deadline:
                _, writable, _ = select.select([], [hog], [], 0.3)
                if not writable:
                    break
                try:
                    hog.send(block)
                except BlockingIOError:
                    pass
                except ConnectionError:
                    break  # the server closed us: also a state to stop from
            hog.setblocking(True)
            status, took = srv.stop(signal.SIGTERM, timeout=NODE_STOP_FLUSH + 2.0)
            check(status == 0, "echo_server: expected exit 0 within %.1f s of SIGTERM with a client that does not "
                  "read, got %s (None: SIGKILL was needed); stderr: %s" % (NODE_STOP_FLUSH + 2.0, status, srv.stderr()))
            print("    (exit %.2f s after SIGTERM)" % took)
            expect_closed(reader, timeout=5.0, what="EOF after the server stopped")
        finally:
            for s in socks:
                s.close()


# ---- tcp_client cases ----------------------------------------------------------------------

def client(args, timeout=10.0):
    return run_program("tcp_client", args, timeout)


def case_client_echo():
    """tcp_client against echo_server prints exactly the echoed TEXT, exit 0, after ~timeout."""
    with Server("echo_server", "--port", "0") as srv:
        for text in ("hello, actnet", "x", "with spaces\nand a newline"):
            status, out, err, took = client(["--host", HOST, "--port", srv.port, "--message", text,
                                              "--timeout-ms", "300"])
            check(status == 0, "tcp_client: exit %s, stderr %r" % (status, err))
            check(out == text.encode(), "tcp_client: stdout %s, expected %s" % (show(out), show(text.encode())))
            # The echo server never closes: the client ends after 300 ms without data.
            check(0.25 <= took < 3.0, "tcp_client --timeout-ms 300 took %.2f s" % took)


def case_client_greet():
    """Against echo_server --greet: the greeting, then TEXT."""
    with Server("echo_server", "--greet") as srv:
        status, out, err, took = client(["--host", HOST, "--port", srv.port, "--message", "TEXT",
                                          "--timeout-ms", "300"])
        check(status == 0, "tcp_client: exit %s, stderr %r" % (status, err))
        check(out == b"welcome echo\nTEXT", "tcp_client: stdout %s, expected %s" % (show(out), show(b"welcome echo\nTEXT")))
        check(took < 3.0, "tcp_client took %.2f s" % took)


def _python_peer(reply, message, timeout_ms):
    """A plain listening socket: accepts tcp_client, reads its message, sends reply, closes.
    tcp_client must print exactly reply and exit 0 well before its timeout."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    out_file, err_file = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    proc = None
    try:
        listener.bind((HOST, 0))
        listener.listen(1)
        listener.settimeout(IO_TIMEOUT)
        port = listener.getsockname()[1]
        args = ["--host", HOST, "--port", str(port), "--timeout-ms", str(timeout_ms)]
        if message is not None:
            args += ["--message", message]
        started = time.monotonic()
        # Output goes to files, not pipes: a pipe nobody reads yet would block the client.
        proc = subprocess.Popen([PATHS["tcp_client"]] + args, stdin=subprocess.DEVNULL, stdout=out_file,
                                stderr=err_file, preexec_fn=_die_with_parent)
        LIVE_CHILDREN.add(proc)
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            raise Failure("tcp_client did not connect within %.0f s" % IO_TIMEOUT)
        with conn:
            if message is not None:
                expect_exact(conn, message.encode(), "the client's message")
            conn.sendall(reply)
            conn.shutdown(socket.SHUT_WR)
            # Wait for the client to close its side too (it ends on our close), bounded.
            conn.settimeout(5.0)
            try:
                extra = conn.recv(1000)
            except (socket.timeout, ConnectionError):
                extra = b""
            check(extra == b"", "tcp_client sent more than its message: %s" % show(extra))
        try:
            proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            raise Failure("tcp_client still running 5 s after the peer closed (its timeout is %d ms)" % timeout_ms)
        took = time.monotonic() - started
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
        check(proc.returncode == 0, "tcp_client: exit %s, stderr %r" % (proc.returncode, err))
        check(out == reply, "tcp_client: stdout %s, expected %s" % (show(out), show(reply)))
        check(took < timeout_ms / 1000.0 / 2,
              "tcp_client took %.2f s: the peer's close should end it well before its %d ms timeout"
              % (took, timeout_ms))
    finally:
        if proc is not None:
            if proc.poll() is None:
                stop_process(proc)
            LIVE_CHILDREN.discard(proc)
        out_file.close()
        err_file.close()
        listener.close()


def case_client_peer_closes():
    """Against a plain socket that sends bytes and closes: exactly those bytes, exit 0, promptly."""
    _python_peer(b"bytes from a plain socket\n\x00\x01\xfe\xff end", "ping", 8000)
    _python_peer(b"no message sent", None, 8000)
    _python_peer(payload(300000, 5), "big", 8000)


def case_client_refused():
    """Against a port nobody listens on: exit 1, an error mentioning 'refused' on stderr."""
    # Bound but not listening: connections are refused, and no other process can take the port.
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind((HOST, 0))
        port = holder.getsockname()[1]
        status, out, err, took = client(["--host", HOST, "--port", port, "--message", "x", "--timeout-ms", "300"])
        check(status == 1, "tcp_client to a closed port: exit %s (expected 1), stderr %r" % (status, err))
        check(b"refused" in err.lower(), "tcp_client to a closed port: stderr %r does not mention 'refused'" % err)
        check(out == b"", "tcp_client to a closed port: stdout %s" % show(out))
        check(took < 3.0, "tcp_client to a closed port took %.2f s" % took)
    finally:
        holder.close()


def case_client_bad_arguments():
    """tcp_client with missing or bad arguments: exit 2 and a usage message."""
    problems = []
    for args in (["--port", "1"], ["--host", HOST], ["--host", HOST, "--port", "x"], ["--host", HOST, "--bogus", "1"],
                 ["--host", HOST, "--port", "1", "--timeout-ms"], ["--host", HOST, "--port", "99999"]):
        status, out, err, _ = client(args, timeout=EXIT_TIMEOUT)
        if status != 2 or b"usage:" not in err:
            problems.append("tcp_client %s: exit %s, stderr %r" % (" ".join(args), status, err))
    check(not problems, "expected exit 2 with a usage message:\n    " + "\n    ".join(problems))


# ---- chat_server cases ---------------------------------------------------------------------

def joined(srv, tag, others):
    """Connects a client and waits until the server has registered it: its own probe line
    comes back to it. Every already joined client in `others` receives the probe too."""
    s = srv.connect()
    probe = b"probe %s\n" % tag
    s.sendall(probe)
    expect_exact(s, probe, "the client's own probe (it has joined)")
    for o in others:
        expect_exact(o, probe, "another client's probe")
    return s


def case_chat_broadcast():
    """Two clients: a line sent in pieces by one reaches both; a partial line waits for its newline."""
    with Server("chat_server") as srv:
        a = joined(srv, b"a", [])
        b = joined(srv, b"b", [a])
        try:
            # A line in pieces.
            for piece in (b"hel", b"lo ", b"wor", b"ld\n"):
                a.sendall(piece)
            expect_exact(a, b"hello world\n")
            expect_exact(b, b"hello world\n")
            # A partial line is not broadcast until its newline arrives.
            b.sendall(b"partial line")
            expect_silence(a, 0.2, "a line without its newline (at the other client)")
            expect_silence(b, 0.0, "a line without its newline (at the sender)")
            b.sendall(b" done\n")
            expect_exact(a, b"partial line done\n")
            expect_exact(b, b"partial line done\n")
            # Several lines in one write, the last one finished by the next write.
            a.sendall(b"one\ntwo\nthr")
            b.sendall(b"from b\n")
            a.sendall(b"ee\n")
            for s in (a, b):
                got = recv_exact(s, len(b"one\ntwo\nthree\nfrom b\n"))
                lines = got.splitlines(keepends=True)
                check(sorted(lines) == sorted([b"one\n", b"two\n", b"three\n", b"from b\n"])
                      and [l for l in lines if l != b"from b\n"] == [b"one\n", b"two\n", b"three\n"],
                      "expected a's lines in order and b's line, got %s" % show(got))
            # A client that leaves is dropped from the room; the others go on.
            c = joined(srv, b"c", [a, b])
            c.close()
            a.sendall(b"after c left\n")
            expect_exact(a, b"after c left\n")
            expect_exact(b, b"after c left\n")
        finally:
            a.close()
            b.close()
        status, took = srv.stop(signal.SIGTERM)
        check(status == 0, "chat_server: exit %s after SIGTERM (%.2f s); stderr: %s" % (status, took, srv.stderr()))


# ---- Runner --------------------------------------------------------------------------------

GROUPS = {
    "echo_server": [case_echo_first_line_and_defaults, case_echo_sizes, case_echo_concurrent_clients,
                    case_greet_workers, case_greet_echo, case_report_lengths_fixed, case_report_lengths_header,
                    case_report_lengths_header_incl, case_header_echo, case_max_length, case_buffer_pool,
                    case_buffer_pool_small_reads, case_read_buffer, case_keepalive_bytes,
                    case_keepalive_bytes_without_period, case_tcp_keepalive_and_mailbox_policy,
                    case_bad_arguments, case_sigint_idle, case_sigterm_idle, case_sigint_with_clients,
                    case_sigterm_with_clients, case_sigterm_with_peer_not_reading],
    "tcp_client": [case_client_echo, case_client_greet, case_client_peer_closes, case_client_refused,
                   case_client_bad_arguments],
    "chat_server": [case_chat_broadcast],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--echo-server", required=True)
    parser.add_argument("--tcp-client", required=True)
    parser.add_argument("--chat-server", required=True)
    parser.add_argument("--group", choices=sorted(GROUPS) + ["all"], default="all")
    parser.add_argument("-k", dest="select", default="", help="run only cases whose name contains this")
    parser.add_argument("--list", action="store_true")
    opts = parser.parse_args()
    PATHS.update({"echo_server": opts.echo_server, "tcp_client": opts.tcp_client, "chat_server": opts.chat_server})
    for name, path in PATHS.items():
        if not os.access(path, os.X_OK):
            print("not an executable: %s = %s" % (name, path))
            return 1

    # ctest stops a test that runs past its TIMEOUT with a signal: turn SIGTERM into an
    # exception so the finally blocks stop every child.
    def terminated(signum, frame):
        raise SystemExit("test_examples.py: terminated by signal %d" % signum)
    signal.signal(signal.SIGTERM, terminated)

    groups = sorted(GROUPS) if opts.group == "all" else [opts.group]
    cases = [c for g in groups for c in GROUPS[g] if opts.select in c.__name__]
    if opts.list:
        for c in cases:
            print(c.__name__)
        return 0
    if not cases:
        print("no case selected")
        return 1

    failed = []
    started = time.monotonic()
    try:
        for case in cases:
            t0 = time.monotonic()
            try:
                case()
                print("PASS %-45s %6.2f s" % (case.__name__, time.monotonic() - t0), flush=True)
            except Failure as e:
                failed.append(case.__name__)
                print("FAIL %-45s %6.2f s\n    %s" % (case.__name__, time.monotonic() - t0, e), flush=True)
            except Exception as e:  # an unexpected error in a case is a failure of that case
                failed.append(case.__name__)
                print("FAIL %-45s %6.2f s\n    %s: %s" % (case.__name__, time.monotonic() - t0,
                                                        type(e).__name__, e), flush=True)
    finally:
        for proc in list(LIVE_CHILDREN):
            stop_process(proc, signal.SIGKILL, 2.0)
    print("%d of %d cases passed in %.2f s%s" % (len(cases) - len(failed), len(cases), time.monotonic() - started,
                                               "; failed: " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
