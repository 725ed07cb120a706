#!/usr/bin/env python3
"""Drives the Go example echo server (bindings/go/examples/echo) under load from outside, as
issue 7 asks ("echoes under load from an outside client without error").

    echo_load.py --echo PATH [--connections 16] [--messages 2000]

Standard library only. Two runs of the server, each started on an OS-picked port read from
its first stdout line ("listening on ADDR:PORT"):
  1. --workers 4 --greet --header 4,0,4 --max-length 65536: the connections are opened one at
     a time and each must be greeted by tcp_worker_(k mod 4) (round-robin routing); then all
     of them send MESSAGES length-prefixed frames at once (1..4000 bytes, pipelined in
     windows), and every byte of every echo is checked. Stopped with SIGTERM: exit 0.
  2. --workers 2 --buffer-pool --read-buffer 1024 (raw bytes, zero-copy echo of pool buffers):
     the same load without framing. Stopped with SIGINT: exit 0.
The server must not report dropped connections on stderr. Every wait is bounded (socket
timeouts, first-line and exit deadlines); exit status 0 when everything passed.
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
import threading
import time

HOST = "127.0.0.1"
IO_TIMEOUT = 20.0
LISTENING = re.compile(rb"^listening on 127\.0\.0\.1:(?P<port>[0-9]+)\n$")


class Failure(Exception):
    pass


def start(program, args):
    stderr = tempfile.TemporaryFile()
    proc = subprocess.Popen([program] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + 10.0
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        if not ready:
            proc.kill()
            raise Failure("no first line within 10 s (got %r)" % line)
        chunk = os.read(fd, 1)
        if not chunk:
            proc.wait(5)
            stderr.seek(0)
            raise Failure("exited %s before its first line; stderr %r" % (proc.returncode, stderr.read()))
        line += chunk
    m = LISTENING.match(line)
    if not m:
        proc.kill()
        raise Failure("first line %r is not 'listening on 127.0.0.1:PORT'" % line)
    return proc, int(m.group("port")), stderr


def stop(proc, stderr, sig):
    proc.send_signal(sig)
    try:
        status = proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise Failure("still running 5 s after %s" % signal.Signals(sig).name)
    stderr.seek(0)
    err = stderr.read()
    if status != 0:
        raise Failure("exit status %s after %s; stderr %r" % (status, signal.Signals(sig).name, err[-2000:]))
    if b"dropping" in err or b"panic" in err:
        raise Failure("the server reported problems on stderr: %r" % err[-2000:])


def recv_exact(sock, n):
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise Failure("connection closed after %d of %d bytes" % (got, n))
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def load(socks, messages, framed, seed):
    """Every connection sends `messages` messages in windows of 32, from its own thread,
    and checks the echo of each window byte for byte."""
    errors = []

    def run(k, sock):
        rng = random.Random(seed * 1000 + k)
        try:
            sent = 0
            while sent < messages:
                window = []
                for _ in range(min(32, messages - sent)):
                    body = rng.randbytes(rng.randint(1, 4000))
                    window.append(struct.pack(">I", len(body)) + body if framed else body)
                data = b"".join(window)
                sock.sendall(data)
                echo = recv_exact(sock, len(data))
                if echo != data:
                    first = next(i for i in range(len(data)) if echo[i] != data[i])
                    raise Failure("connection %d: echo differs at byte %d of a %d-byte window"
                                  % (k, first, len(data)))
                sent += len(window)
        except Exception as e:  # reported below, with the connection number
            errors.append("connection %d: %s: %s" % (k, type(e).__name__, e))

    threads = [threading.Thread(target=run, args=(k, s)) for k, s in enumerate(socks)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if any(t.is_alive() for t in threads):
        raise Failure("load did not finish within 120 s")
    if errors:
        raise Failure("; ".join(errors))
    return time.monotonic() - started


def connect(port):
    s = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def run_framed(program, n_conn, messages):
    proc, port, stderr = start(program, ["--port", "0", "--workers", "4", "--greet", "--header", "4,0,4",
                                         "--max-length", "65536"])
    socks = []
    try:
        for k in range(n_conn):
            s = connect(port)
            socks.append(s)
            want = b"welcome tcp_worker_%d\n" % (k % 4)
            got = recv_exact(s, len(want))
            if got != want:
                raise Failure("connection %d greeted with %r, want %r" % (k, got, want))
        took = load(socks, messages, True, 1)
        print("framed: %d connections x %d messages echoed in %.2f s" % (n_conn, messages, took), flush=True)
        # A frame over --max-length closes that connection only.
        socks[0].sendall(struct.pack(">I", 1 << 20))
        socks[0].settimeout(IO_TIMEOUT)
        try:
            if socks[0].recv(1) != b"":
                raise Failure("data after a frame over --max-length")
        except ConnectionResetError:
            pass
        load(socks[1:2], 10, True, 2)
    finally:
        for s in socks:
            s.close()
        if proc.poll() is None:
            stop(proc, stderr, signal.SIGTERM)


def run_pool(program, n_conn, messages):
    proc, port, stderr = start(program, ["--port", "0", "--workers", "2", "--buffer-pool", "--read-buffer", "1024"])
    socks = []
    try:
        socks = [connect(port) for _ in range(n_conn)]
        took = load(socks, messages, False, 3)
        print("buffer pool: %d connections x %d messages echoed in %.2f s" % (n_conn, messages, took), flush=True)
    finally:
        for s in socks:
            s.close()
        if proc.poll() is None:
            stop(proc, stderr, signal.SIGINT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--echo", required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--messages", type=int, default=2000)
    opts = parser.parse_args()
    try:
        run_framed(opts.echo, opts.connections, opts.messages)
        run_pool(opts.echo, opts.connections, opts.messages)
    except Failure as e:
        print("FAIL: %s" % e, flush=True)
        return 1
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
