#!/usr/bin/env python3
"""TLS interoperability with peers that are not ours (issue 4, "What it must show", item 3).

    test_interop.py --echo-server PATH --tcp-client PATH --certs DIR [--openssl PATH]
                    [--group python_client|s_client|mtls|tcp_client|all] [-k SUBSTRING] [--list]

DIR holds the certificates made by tests/tls/make_certs.sh (the ctest fixture "tls_certs").
Groups:
  python_client  Python's ssl module as a client of `echo_server --tls-cert/--tls-key`
                 (with --tls-sni alt.test=...): verified against ca.pem; SNI "localhost",
                 "alt.test" and none (an IP address) pick the right certificate; TLS 1.2 and
                 TLS 1.3 forced in turn; echo byte-exact (also through --buffer-pool with a
                 small read buffer, and with several clients at once); a name the certificate
                 does not cover and an unknown CA fail verification.
  s_client       `openssl s_client -CAfile ca.pem -servername localhost -verify_return_error
                 -no_ign_eof` as a client of echo_server: a line is echoed, s_client exits 0
                 by itself when its stdin closes, verification OK, TLS 1.2 and 1.3; SNI
                 alt.test; an unknown CA makes it fail.
  mtls           `echo_server --tls-client-ca ca.pem`: a Python client presenting
                 client.pem is accepted (TLS 1.2 and 1.3), one without a certificate or with
                 an unverifiable one is refused (no echo ever comes back); s_client with
                 -cert/-key is accepted.
  tcp_client     `openssl s_server -rev` as the server of `tcp_client --tls --ca ca.pem
                 --server-name localhost --message TEXT` (prints the reversed line, exits 0;
                 TLS 1.3 and TLS 1.2; TEXT ends with a "CLOSE" line, on which s_server closes,
                 so tcp_client ends without waiting for its quiet timeout); a self-signed s_server makes tcp_client exit 1 with a
                 verification error, unless --insecure (then it works and warns on stderr); a
                 Python ssl server requiring client certificates verifies tcp_client's
                 --cert/--key (CN=test-client) and refuses it without them.

Standard library only (ssl, socket, subprocess, threading) plus the openssl command. Every
wait is bounded: sockets have timeouts, child output is read with deadlines, s_server's port
comes from its "ACCEPT host:port" line and echo_server's from "listening on ADDR:PORT", and
every child process is stopped in a finally block (SIGTERM, then SIGKILL). Exit status 0 when
every selected case passed, 1 otherwise.
"""

import argparse
import os
import queue
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback

HOST = "127.0.0.1"
IO_TIMEOUT = 10.0      # one expected exchange over loopback
LINE_TIMEOUT = 10.0    # a child's expected output line
EXIT_TIMEOUT = 10.0    # a child that should exit by itself
LISTENING = re.compile(r"^listening on (?P<addr>[^\s:]+):(?P<port>[0-9]+)$")
ACCEPT = re.compile(r"^ACCEPT .*:(?P<port>[0-9]+)$")

ARGS = None
VERSIONS = (("TLSv1.2", ssl.TLSVersion.TLSv1_2), ("TLSv1.3", ssl.TLSVersion.TLSv1_3))


class Failure(Exception):
    """A check failed; the message says what was expected and what happened."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def cert(name):
    return os.path.join(ARGS.certs, name)


# ---- Child processes ---------------------------------------------------------------------

def _die_with_parent():
    """In the child: SIGKILL when this runner dies (e.g. a ctest timeout). Linux only."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Child:
    """A child process whose stdout and stderr lines are collected by threads, so the test
    can wait for a line with a deadline."""

    def __init__(self, argv, stdin=False):
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        self.lines = queue.Queue()
        self.stdout = []
        self.stderr = []
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout, True), daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr, False), daemon=True)]
        for t in self.readers:
            t.start()

    def _read(self, pipe, store, to_queue):
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            store.append(line)
            if to_queue:
                self.lines.put(line)
        if to_queue:
            self.lines.put(None)  # EOF

    def wait_line(self, match, what, timeout=LINE_TIMEOUT):
        """The first stdout line for which match(line) is true (its result is returned)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.001))
            except queue.Empty:
                raise Failure("%s: no %s within %.0f s\n%s" % (self.name(), what, timeout, self.output()))
            if line is None:
                self.proc.wait(timeout=EXIT_TIMEOUT)
                raise Failure("%s ended (status %s) before %s\n%s" % (
                    self.name(), self.proc.returncode, what, self.output()))
            result = match(line)
            if result:
                return result

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self):
        self.proc.stdin.close()

    def wait_exit(self, timeout=EXIT_TIMEOUT):
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("%s did not exit by itself within %.0f s\n%s" % (self.name(), timeout, self.output()))
        for t in self.readers:
            t.join(timeout=EXIT_TIMEOUT)
        return status

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            except ProcessLookupError:
                pass
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe:
                try:
                    pipe.close()
                except OSError:
                    pass
        for t in self.readers:
            t.join(timeout=EXIT_TIMEOUT)

    def name(self):
        return os.path.basename(self.argv[0]) + (" " + self.argv[1] if "openssl" in self.argv[0] else "")

    def output(self):
        return "  stdout: %r\n  stderr: %r" % ("\n".join(self.stdout[-30:]), "\n".join(self.stderr[-30:]))


class EchoServer:
    """echo_server on an OS-picked port (read from its first line)."""

    def __init__(self, *flags):
        self.child = Child([ARGS.echo_server, "--port", "0"] + list(flags))
        try:
            m = self.child.wait_line(LISTENING.match, '"listening on ADDR:PORT" line')
            self.port = int(m.group("port"))
        except BaseException:
            self.child.stop()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.child.stop()


def tls_echo_server(*more):
    return EchoServer("--tls-cert", cert("server.pem"), "--tls-key", cert("server.key"), *more)


class SServer:
    """openssl s_server on an OS-picked port (from its "ACCEPT host:port" line)."""

    def __init__(self, *flags):
        self.child = Child([ARGS.openssl, "s_server", "-accept", HOST + ":0", "-naccept", "1"] + list(flags))
        try:
            m = self.child.wait_line(ACCEPT.match, '"ACCEPT host:port" line')
            self.port = int(m.group("port"))
        except BaseException:
            self.child.stop()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.child.stop()


def run_tcp_client(port, *flags, message="hello interop\nCLOSE\n"):
    """Runs tcp_client to completion. The default message ends with "CLOSE", which makes
    `s_server -rev` close the connection after its answer, so tcp_client exits as soon as the
    answer is in (its quiet timeout is only a backstop)."""
    argv = [ARGS.tcp_client, "--host", HOST, "--port", str(port), "--timeout-ms", "5000", "--message", message]
    argv += list(flags)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=EXIT_TIMEOUT + 10,
                              preexec_fn=_die_with_parent)
    except subprocess.TimeoutExpired:
        raise Failure("tcp_client %s did not exit" % " ".join(flags))
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


# ---- Python ssl helpers ------------------------------------------------------------------

def client_context(ca="ca.pem", version=None, cert_name=None):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cert(ca))
    if version is not None:
        ctx.minimum_version = version
        ctx.maximum_version = version
    if cert_name:
        ctx.load_cert_chain(cert(cert_name + ".pem"), cert(cert_name + ".key"))
    return ctx


def subject_of(tls_sock):
    """The peer certificate's subject as a dict (commonName, organizationName)."""
    peer = tls_sock.getpeercert()
    return {k: v for rdn in peer["subject"] for (k, v) in rdn}


def tls_connect(port, ctx, server_hostname):
    raw = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
    try:
        return ctx.wrap_socket(raw, server_hostname=server_hostname)
    except BaseException:
        raw.close()
        raise


def echo_exact(sock, data):
    """Sends data, then reads the same bytes back. One thread only: an SSLSocket must not be
    read and written from two threads at once (OpenSSL's SSL object is not thread-safe, and
    doing so corrupts the session). Sending everything first is safe because echo_server
    queues up to 4 MiB per connection, far more than any payload here."""
    check(len(data) <= 1 << 20, "echo_exact: keep payloads well under echo_server's write queue limit")
    sock.sendall(data)
    got = bytearray()
    end = time.monotonic() + IO_TIMEOUT
    while len(got) < len(data):
        check(time.monotonic() < end, "echo: %d of %d bytes after %.0f s" % (len(got), len(data), IO_TIMEOUT))
        chunk = sock.recv(65536)
        check(chunk, "echo: EOF after %d of %d bytes" % (len(got), len(data)))
        got += chunk
    check(bytes(got) == data, "echo: %d bytes came back but they differ" % len(data))


def payload(n, seed):
    return bytes((i * 31 + seed * 7 + (i >> 8)) & 0xFF for i in range(n))


def expect_refused(port, ctx, what):
    """A client the server refuses (mutual TLS): the handshake fails, or (TLS 1.3, where the
    client finishes first) the first read fails or sees EOF. Never an echo."""
    try:
        s = tls_connect(port, ctx, "localhost")
    except (ssl.SSLError, ConnectionError) as e:
        return "%s: handshake failed (%s)" % (what, e.__class__.__name__)
    with s:
        try:
            s.sendall(b"let me in\n")
            data = s.recv(100)
        except (ssl.SSLError, ConnectionError) as e:
            return "%s: handshake done, then %s" % (what, e.__class__.__name__)
        except socket.timeout:
            raise Failure("%s: neither refused nor answered within %.0f s" % (what, IO_TIMEOUT))
        check(data == b"", "%s: got %r back: the server accepted it" % (what, data))
        return "%s: handshake done, then EOF" % what


# ---- python_client -----------------------------------------------------------------------

def case_python_versions_and_sni():
    sni = "alt.test=%s,%s" % (cert("alt.pem"), cert("alt.key"))
    with tls_echo_server("--tls-sni", sni) as server:
        for name, version in VERSIONS:
            for hostname, want_cn in (("localhost", "localhost"), ("alt.test", "alt.test"), (HOST, "localhost")):
                with tls_connect(server.port, client_context(version=version), hostname) as s:
                    check(s.version() == name, "%s to %s: negotiated %s" % (name, hostname, s.version()))
                    subject = subject_of(s)
                    check(subject.get("commonName") == want_cn,
                          "%s, SNI %s: the server presented %r, wanted CN=%s" % (name, hostname, subject, want_cn))
                    echo_exact(s, payload(100_000, len(hostname)))
                print("  %s, server_hostname %-9s -> CN=%s, echo ok" % (name, hostname, want_cn))


def case_python_verification_failures():
    with tls_echo_server() as server:
        for what, ctx, hostname in (("a name the certificate does not cover", client_context(), "nobody.test"),
                                    ("an unknown CA", client_context(ca="other-ca.pem"), "localhost")):
            try:
                with tls_connect(server.port, ctx, hostname):
                    pass
                raise Failure("Python accepted the server's certificate with %s" % what)
            except ssl.SSLCertVerificationError as e:
                print("  %s: %s" % (what, e.verify_message))
        with tls_connect(server.port, client_context(), "localhost") as s:  # the server goes on
            echo_exact(s, b"still serving\n")


def case_python_buffer_pool_and_concurrency():
    with tls_echo_server("--buffer-pool", "--read-buffer", "512") as server:
        errors = []

        def client(i):
            try:
                version = VERSIONS[i % 2][1]
                with tls_connect(server.port, client_context(version=version), "localhost") as s:
                    echo_exact(s, payload(60_000 + i * 1000, i))
            except Exception as e:
                errors.append("client %d: %r" % (i, e))

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=IO_TIMEOUT * 2)
            check(not t.is_alive(), "a client is stuck")
        check(not errors, "; ".join(errors))
        print("  6 concurrent clients (TLS 1.2 and 1.3) through pool buffers of 512 bytes: echo ok")


# ---- s_client ----------------------------------------------------------------------------

def s_client(port, *flags):
    return Child([ARGS.openssl, "s_client", "-connect", "%s:%d" % (HOST, port), "-CAfile", cert("ca.pem"),
                  "-verify_return_error", "-no_ign_eof"] + list(flags), stdin=True)


def s_client_echo(port, line, *flags):
    """s_client sends `line`, the echo comes back, stdin closes, s_client exits 0 by itself."""
    client = s_client(port, *flags)
    try:
        client.write(line.encode() + b"\n")
        client.wait_line(lambda l: l == line, "echo of %r" % line)
        client.close_stdin()
        status = client.wait_exit()
        check(status == 0, "s_client exited with %s\n%s" % (status, client.output()))
        out = "\n".join(client.stdout)
        check("Verify return code: 0 (ok)" in out, "s_client did not verify the server\n%s" % client.output())
        return out
    finally:
        client.stop()


def case_s_client_echo():
    sni = "alt.test=%s,%s" % (cert("alt.pem"), cert("alt.key"))
    with tls_echo_server("--tls-sni", sni) as server:
        for flag, name in (("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")):
            out = s_client_echo(server.port, "hello from s_client %s" % name, "-servername", "localhost",
                                "-verify_hostname", "localhost", flag)
            check(re.search(r"subject=.*CN ?= ?localhost", out), "s_client saw another subject:\n%s" % out)
            check(re.search(r"Protocol\s*: %s" % re.escape(name), out) or (", %s," % name) in out,
                  "s_client did not negotiate %s:\n%s" % (name, out))
            print("  s_client %s -servername localhost: echo ok, verified, %s" % (flag, name))
        out = s_client_echo(server.port, "hello alt", "-servername", "alt.test", "-verify_hostname", "alt.test")
        check(re.search(r"subject=.*CN ?= ?alt\.test", out), "s_client saw another subject for alt.test:\n%s" % out)
        print("  s_client -servername alt.test: CN=alt.test, echo ok")


def case_s_client_unknown_ca():
    with tls_echo_server() as server:
        client = Child([ARGS.openssl, "s_client", "-connect", "%s:%d" % (HOST, server.port), "-CAfile",
                        cert("other-ca.pem"), "-servername", "localhost", "-verify_return_error", "-no_ign_eof"],
                       stdin=True)
        try:
            status = client.wait_exit()
            check(status != 0, "s_client trusting another CA exited 0\n%s" % client.output())
            text = "\n".join(client.stdout + client.stderr)
            check("verify error" in text or "certificate verify failed" in text,
                  "s_client failed, but not on verification:\n%s" % client.output())
            print("  s_client -CAfile other-ca.pem: exit %d, verify error" % status)
        finally:
            client.stop()


# ---- mtls --------------------------------------------------------------------------------

def case_mtls_python():
    with tls_echo_server("--tls-client-ca", cert("ca.pem")) as server:
        for name, version in VERSIONS:
            with tls_connect(server.port, client_context(version=version, cert_name="client"), "localhost") as s:
                check(s.version() == name, "negotiated %s" % s.version())
                echo_exact(s, payload(50_000, 3))
            print("  %s with client.pem: accepted, echo ok" % name)
            print("  " + expect_refused(server.port, client_context(version=version),
                                        "%s without a client certificate" % name))
            print("  " + expect_refused(server.port, client_context(version=version, cert_name="selfsigned"),
                                        "%s with a self-signed client certificate" % name))
        with tls_connect(server.port, client_context(cert_name="client"), "localhost") as s:
            echo_exact(s, b"the server went on\n")


def case_mtls_s_client():
    with tls_echo_server("--tls-client-ca", cert("ca.pem")) as server:
        s_client_echo(server.port, "hello with a client certificate", "-servername", "localhost",
                      "-cert", cert("client.pem"), "-key", cert("client.key"))
        print("  s_client -cert client.pem: accepted, echo ok")


# ---- tcp_client --------------------------------------------------------------------------

def case_tcp_client_s_server():
    for flag in ("-tls1_3", "-tls1_2"):
        with SServer("-cert", cert("server.pem"), "-key", cert("server.key"), "-rev", flag) as server:
            status, out, err = run_tcp_client(server.port, "--tls", "--ca", cert("ca.pem"), "--server-name", "localhost")
            check(status == 0, "tcp_client exited %d against s_server %s\n  stderr: %s" % (status, flag, err))
            check(out == "poretni olleh\n", "tcp_client printed %r, wanted the reversed line" % out)
            print("  tcp_client --tls against s_server -rev %s: %r, exit 0" % (flag, out))


def case_tcp_client_self_signed():
    with SServer("-cert", cert("selfsigned.pem"), "-key", cert("selfsigned.key"), "-rev") as server:
        status, out, err = run_tcp_client(server.port, "--tls", "--ca", cert("ca.pem"), "--server-name", "localhost")
        check(status == 1, "tcp_client exited %d against a self-signed server (wanted 1)\n  stdout: %r" % (status, out))
        check("certificate verification failed" in err, "tcp_client's error does not say why: %r" % err)
        check(out == "", "tcp_client printed %r" % out)
        print("  tcp_client --tls against a self-signed s_server: exit 1, %r" % err.strip().splitlines()[-1])
    with SServer("-cert", cert("selfsigned.pem"), "-key", cert("selfsigned.key"), "-rev") as server:
        status, out, err = run_tcp_client(server.port, "--tls", "--insecure")
        check(status == 0, "tcp_client --insecure exited %d\n  stderr: %s" % (status, err))
        check(out == "poretni olleh\n", "tcp_client --insecure printed %r" % out)
        check(re.search(r"WARN.*not verified", err, re.IGNORECASE),
              "tcp_client --insecure did not warn on stderr: %r" % err)
        print("  tcp_client --tls --insecure: works, warns: %r" % err.strip().splitlines()[-1])


class PythonTlsServer:
    """A one-connection Python ssl server that requires a client certificate signed by
    ca.pem, answers "got: LINE" to the first line and closes."""

    def __init__(self, version=None):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert("server.pem"), cert("server.key"))
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.ctx.load_verify_locations(cert("ca.pem"))
        if version is not None:
            self.ctx.minimum_version = version
            self.ctx.maximum_version = version
        self.listener = socket.create_server((HOST, 0))
        self.listener.settimeout(IO_TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.subject = None
        self.version = None
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            raw, _ = self.listener.accept()
            raw.settimeout(IO_TIMEOUT)
            with self.ctx.wrap_socket(raw, server_side=True) as s:
                self.subject = subject_of(s)
                self.version = s.version()
                line = b""
                while not line.endswith(b"\n"):
                    chunk = s.recv(1024)
                    if not chunk:
                        break
                    line += chunk
                s.sendall(b"got: " + line)
        except Exception as e:
            self.error = e

    def finish(self):
        self.thread.join(timeout=IO_TIMEOUT + 5)
        self.listener.close()
        check(not self.thread.is_alive(), "the Python server is stuck")


def case_tcp_client_python_mtls():
    for name, version in ((None, None),) + VERSIONS:
        server = PythonTlsServer(version)
        try:
            status, out, err = run_tcp_client(server.port, "--tls", "--ca", cert("ca.pem"), "--server-name", "localhost",
                                              "--cert", cert("client.pem"), "--key", cert("client.key"),
                                              message="hello mtls\n")
        finally:
            server.finish()
        check(server.error is None, "the Python server failed: %r" % server.error)
        check(server.subject and server.subject.get("commonName") == "test-client",
              "the Python server saw the client as %r" % server.subject)
        check(status == 0 and out == "got: hello mtls\n", "tcp_client: exit %d, printed %r, stderr %r" % (status, out, err))
        print("  tcp_client --cert client.pem against a Python server (%s): CN=test-client, %r" % (
            server.version, out))

    server = PythonTlsServer()
    try:
        status, out, err = run_tcp_client(server.port, "--tls", "--ca", cert("ca.pem"), "--server-name", "localhost",
                                          message="hello without a certificate\n")
    finally:
        server.finish()
    check(isinstance(server.error, (ssl.SSLError, ConnectionError)),
          "the Python server accepted a client without a certificate (error %r)" % server.error)
    check(server.subject is None, "the Python server saw a client certificate %r" % server.subject)
    check(out == "", "tcp_client without a certificate got %r" % out)
    check(status == 1 and "ended" in err, "tcp_client refused by mutual TLS: exit %d, stderr %r" % (status, err))
    print("  tcp_client without --cert against the same server: refused (%s), tcp_client exit %d" % (
        server.error.__class__.__name__, status))


# ---- Runner ------------------------------------------------------------------------------

GROUPS = {
    "python_client": [case_python_versions_and_sni, case_python_verification_failures,
                      case_python_buffer_pool_and_concurrency],
    "s_client": [case_s_client_echo, case_s_client_unknown_ca],
    "mtls": [case_mtls_python, case_mtls_s_client],
    "tcp_client": [case_tcp_client_s_server, case_tcp_client_self_signed, case_tcp_client_python_mtls],
}


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--echo-server", required=True)
    parser.add_argument("--tcp-client", required=True)
    parser.add_argument("--certs", required=True)
    parser.add_argument("--openssl", default="openssl")
    parser.add_argument("--group", default="all", choices=sorted(GROUPS) + ["all"])
    parser.add_argument("-k", default="", help="run only cases whose name contains this")
    parser.add_argument("--list", action="store_true")
    ARGS = parser.parse_args()
    cases = [c for g, cs in GROUPS.items() if ARGS.group in (g, "all") for c in cs if ARGS.k in c.__name__]
    if ARGS.list:
        print("\n".join(c.__name__ for c in cases))
        return 0
    check(os.path.exists(cert("ca.pem")), "no certificates in %s (run tests/tls/make_certs.sh DIR)" % ARGS.certs)
    failed = []
    for case in cases:
        start = time.monotonic()
        print("%s:" % case.__name__, flush=True)
        try:
            case()
            print("  ok (%.2f s)" % (time.monotonic() - start), flush=True)
        except Exception as e:
            failed.append(case.__name__)
            if isinstance(e, Failure):
                print("  FAILED: %s" % e, flush=True)
            else:
                print("  FAILED with an exception:\n%s" % traceback.format_exc(), flush=True)
    print("%d of %d cases passed%s" % (len(cases) - len(failed), len(cases),
                                        (": failed " + ", ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
