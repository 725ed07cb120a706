package actnet

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The TLS test certificates: from $ACTNET_TLS_CERTS (the test workflow's tls_certs fixture),
// else made once by tests/tls/make_certs.sh (needs sh and openssl) in a temporary directory.
var (
	certsOnce sync.Once
	certsDir  string
	certsErr  error
	certsTmp  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if certsTmp != "" {
		_ = os.RemoveAll(certsTmp)
	}
	os.Exit(code)
}

func tlsCerts(t *testing.T) string {
	t.Helper()
	certsOnce.Do(func() {
		if dir := os.Getenv("ACTNET_TLS_CERTS"); dir != "" {
			certsDir = dir
			return
		}
		script, err := filepath.Abs(filepath.Join("..", "..", "tests", "tls", "make_certs.sh"))
		if err != nil {
			certsErr = err
			return
		}
		if _, err := exec.LookPath("openssl"); err != nil {
			certsErr = errors.New("openssl not found: cannot make the TLS test certificates (or set ACTNET_TLS_CERTS)")
			return
		}
		certsTmp, err = os.MkdirTemp("", "actnet-go-certs-")
		if err != nil {
			certsErr = err
			return
		}
		out, err := exec.Command("sh", script, certsTmp).CombinedOutput()
		if err != nil {
			certsErr = errors.New("make_certs.sh: " + err.Error() + ": " + string(out))
			return
		}
		certsDir = certsTmp
	})
	if certsErr != nil {
		t.Fatal(certsErr)
	}
	return certsDir
}

func certPath(t *testing.T, name string) string { return filepath.Join(tlsCerts(t), name) }

func caPool(t *testing.T) *x509.CertPool {
	pem, err := os.ReadFile(certPath(t, "ca.pem"))
	ok(t, err)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("bad ca.pem")
	}
	return pool
}

func TestTLSEchoServer(t *testing.T) {
	n := startNode(t, nil)
	events := newEvents()
	owner := must(n.Spawn(func() Actor { return &echoActor{events: events} }, nil))
	cm := must(NewCertManager())
	defer cm.Close()
	ok(t, cm.SetCertFiles("", certPath(t, "server.pem"), certPath(t, "server.key")))
	ok(t, cm.SetCertFiles("alt.test", certPath(t, "alt.pem"), certPath(t, "alt.key")))
	_, port := must2(n.SpawnTCPServer(owner, &TCPServerOptions{
		Host: "127.0.0.1",
		Conn: ConnOptions{Framing: HeaderFraming(4, 0, 4, false)},
		TLS:  &ServerTLS{Certs: cm, ALPN: []string{"echo/1"}, HandshakeTimeout: wait},
	}))

	for _, serverName := range []string{"localhost", "alt.test"} {
		raw := dial(t, port)
		c := tls.Client(raw, &tls.Config{RootCAs: caPool(t), ServerName: serverName, NextProtos: []string{"echo/1"}})
		ok(t, c.Handshake())
		if got := c.ConnectionState().PeerCertificates[0].Subject.CommonName; got != serverName {
			t.Fatalf("SNI %s: the server presented %s", serverName, got)
		}
		frames := [][]byte{frame([]byte("over tls")), frame(payload(100000, 3)), frame(nil)}
		ok(t, exchange(c, frames))
		connect, _ := expect[*Connect](t, events)
		if connect.TLS == nil || connect.TLS.Version != "TLSv1.3" || connect.TLS.ALPN != "echo/1" ||
			connect.TLS.ServerName != serverName || connect.TLS.Cipher == "" {
			t.Fatalf("Connect.TLS = %+v", connect.TLS)
		}
		ok(t, c.Close())
		if d, _ := expect[*Disconnect](t, events); d.Conn != connect.Conn {
			t.Fatalf("Disconnect of %d, connected %d", d.Conn, connect.Conn)
		}
	}

	ok(t, cm.Close())
	wantErr(t, cm.Close(), ErrClosed)
	wantErr(t, cm.SetCAFile(certPath(t, "ca.pem")), ErrClosed)
}

func TestTLSClient(t *testing.T) {
	n := startNode(t, nil)
	ch := newEvents()
	owner := must(n.Spawn(probeOf(ch), nil))

	serve := func(certName string) (int, <-chan error) {
		cert, err := tls.LoadX509KeyPair(certPath(t, certName+".pem"), certPath(t, certName+".key"))
		ok(t, err)
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert},
			NextProtos: []string{"h2", "echo/1"}})
		ok(t, err)
		t.Cleanup(func() { _ = ln.Close() })
		done := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(wait))
			buf := make([]byte, 4)
			if _, err := io.ReadFull(c, buf); err != nil {
				done <- err
				return
			}
			_, err = c.Write(append(buf, []byte(" back")...))
			done <- err
		}()
		return ln.Addr().(*net.TCPAddr).Port, done
	}

	cm := must(NewCertManager())
	defer cm.Close()
	ok(t, cm.SetCAFile(certPath(t, "ca.pem")))

	port, done := serve("server")
	alias := must(n.ConnectTCP(owner, &TCPClientOptions{Host: "127.0.0.1", Port: port,
		TLS: &ClientTLS{Certs: cm, ServerName: "localhost", ALPN: []string{"echo/1"}}}))
	ok(t, n.Write(alias, []byte("ping")))
	connect, _ := expect[*Connect](t, ch)
	if connect.TLS == nil || connect.TLS.ALPN != "echo/1" || connect.TLS.PeerSubject == "" {
		t.Fatalf("client Connect.TLS = %+v", connect.TLS)
	}
	var got []byte
	for len(got) < len("ping back") {
		d, _ := expect[*Data](t, ch)
		got = append(got, d.Bytes...)
	}
	if string(got) != "ping back" {
		t.Fatalf("got %q", got)
	}
	ok(t, recv(t, done, "the Go TLS server"))

	// A server certificate that does not verify.
	port, _ = serve("selfsigned")
	_, err := n.ConnectTCP(owner, &TCPClientOptions{Host: "127.0.0.1", Port: port,
		TLS: &ClientTLS{Certs: cm, ServerName: "localhost"}})
	wantErr(t, err, ErrCertificateInvalid)
	// ... accepted when told to skip verification.
	port, done = serve("selfsigned")
	alias = must(n.ConnectTCP(owner, &TCPClientOptions{Host: "127.0.0.1", Port: port,
		TLS: &ClientTLS{InsecureSkipVerify: true}}))
	ok(t, n.Write(alias, []byte("skip")))
	ok(t, recv(t, done, "the self-signed server"))

	// Bad certificates are refused when loaded.
	wantErr(t, cm.SetCertPEM("", []byte("not a certificate"), []byte("nor a key")), ErrBadCertificate)
	wantErr(t, cm.SetCertFiles("", certPath(t, "server.pem"), certPath(t, "alt.key")), ErrBadCertificate)
	wantErr(t, cm.SetCertFiles("", certPath(t, "missing.pem"), certPath(t, "server.key")), ErrIO)
	wantErr(t, cm.SetCAPEM([]byte("garbage")), ErrBadCertificate)
	chain, err := os.ReadFile(certPath(t, "client.pem"))
	ok(t, err)
	key, err := os.ReadFile(certPath(t, "client.key"))
	ok(t, err)
	ok(t, cm.SetCertPEM("", chain, key))
	ok(t, cm.RemoveCert(""))
	wantErr(t, cm.RemoveCert("nothing.test"), ErrNotFound)
	_, _, err = n.SpawnTCPServer(owner, &TCPServerOptions{Host: "127.0.0.1", TLS: &ServerTLS{}})
	wantErr(t, err, ErrInvalidArgument)
}
