#!/usr/bin/env python3
"""Drives bindings/zig/examples/echo_server.zig (built by `zig build`) from outside.

Starts it with --workers 3 on an OS-picked port, checks the first line is
"listening on ADDR:PORT", then with plain sockets: several clients, each writing frames
(4-byte big-endian length + payload) in awkward pieces and reading the echoes byte for byte;
a frame over --max-length closes that connection and not the others; SIGTERM stops the
server with exit status 0. Every wait has a deadline. Standard library only.

  test_echo_example.py --echo-server PATH
"""

import argparse
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

DEADLINE_S = 20.0


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def first_line(proc, deadline):
    """Reads stdout up to the first newline, without blocking past the deadline."""
    out = b""
    fd = proc.stdout.fileno()
    while b"\n" not in out:
        left = deadline - time.monotonic()
        if left <= 0:
            fail("no 'listening on' line in time (got %r)" % out)
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                fail("echo_server exited before printing a line (status %r)" % proc.poll())
            out += chunk
    return out.split(b"\n", 1)[0].decode()


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def recv_exactly(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            fail("connection closed after %d of %d echoed bytes" % (len(data), n))
        data += chunk
    return bytes(data)


def echo_round_trip(port, seed):
    payloads = [b"", b"x", bytes((seed + i) % 256 for i in range(1000)),
                bytes((seed * 7 + i) % 256 for i in range(70000))]
    payloads += [("frame %d of client %d" % (i, seed)).encode() for i in range(50)]
    stream = b"".join(frame(p) for p in payloads)
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as sock:
        sock.settimeout(DEADLINE_S)
        # Awkward pieces: split headers, several frames per send.
        at, piece = 0, 3
        while at < len(stream):
            sock.sendall(stream[at:at + piece])
            at += piece
            piece = piece * 7 % 9973 + 1
        echoed = recv_exactly(sock, len(stream))
    if echoed != stream:
        fail("client %d: the echo differs from what was sent" % seed)


def oversized_frame_closes(port, max_length):
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as sock:
        sock.settimeout(DEADLINE_S)
        sock.sendall(struct.pack(">I", max_length + 1) + b"y" * 16)
        try:
            data = sock.recv(4096)
        except ConnectionResetError:
            data = b""
        if data:
            fail("an oversized frame was answered with %r instead of a close" % data[:40])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--echo-server", required=True)
    args = parser.parse_args()

    max_length = 100000
    proc = subprocess.Popen(
        [args.echo_server, "--host", "127.0.0.1", "--port", "0", "--workers", "3",
         "--header", "4,0,4", "--max-length", str(max_length), "--threads", "2"],
        stdout=subprocess.PIPE)
    try:
        line = first_line(proc, time.monotonic() + DEADLINE_S)
        prefix = "listening on 127.0.0.1:"
        if not line.startswith(prefix):
            fail("first line is %r" % line)
        port = int(line[len(prefix):])
        print(line)

        for seed in range(1, 5):
            echo_round_trip(port, seed)
        print("4 clients: every frame echoed byte for byte")
        oversized_frame_closes(port, max_length)
        echo_round_trip(port, 9)
        print("a frame over --max-length closed its connection; the server goes on")

        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            fail("echo_server did not stop within %.0f s of SIGTERM" % DEADLINE_S)
        if status != 0:
            fail("echo_server exited with %d after SIGTERM" % status)
        print("SIGTERM: exit status 0")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
