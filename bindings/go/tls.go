package actnet

// #include <stdlib.h>
// #include <actnet.h>
import "C"

import (
	"sync"
	"unsafe"
)

// CertManager holds the certificates a TLS server (chosen per handshake by SNI) or client
// presents, and the CA bundle that verifies peers. Servers and connections using it keep
// their own reference and see later changes (rotation, a new CA bundle) at their next
// handshakes. Safe for concurrent use; Close it when done.
type CertManager struct {
	mu  sync.RWMutex
	ptr *C.actnet_certmanager
}

// NewCertManager makes an empty certificate manager.
func NewCertManager() (*CertManager, error) {
	var ptr *C.actnet_certmanager
	if err := check(C.actnet_certmanager_new(&ptr)); err != nil {
		return nil, err
	}
	return &CertManager{ptr: ptr}, nil
}

// Close releases the caller's reference; servers and connections keep theirs. Later calls
// return ErrClosed.
func (m *CertManager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ptr == nil {
		return ErrClosed
	}
	err := check(C.actnet_certmanager_free(m.ptr))
	m.ptr = nil
	return err
}

func (m *CertManager) with(f func(*C.actnet_certmanager) C.actnet_status) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.ptr == nil {
		return ErrClosed
	}
	return check(f(m.ptr))
}

// optName is NULL for "" (the default certificate).
func optName(name string) *C.char {
	if name == "" {
		return nil
	}
	return C.CString(name)
}

// SetCertPEM sets or replaces the certificate chain (PEM, end entity first) and private key
// (PEM: PKCS#8, PKCS#1 or SEC1; RSA, ECDSA or Ed25519) presented for serverName as asked by
// SNI, or the default certificate for "". Clients present the default one when a server
// asks. ErrBadCertificate when they cannot be loaded (the reason is logged).
func (m *CertManager) SetCertPEM(serverName string, chainPEM, keyPEM []byte) error {
	name := optName(serverName)
	defer C.free(unsafe.Pointer(name))
	chain, chainLen := bytesArg(chainPEM)
	key, keyLen := bytesArg(keyPEM)
	return m.with(func(p *C.actnet_certmanager) C.actnet_status {
		return C.actnet_certmanager_set_cert_pem(p, name, chain, chainLen, key, keyLen)
	})
}

// SetCertFiles is SetCertPEM reading PEM files (ErrIO if one cannot be read).
func (m *CertManager) SetCertFiles(serverName, chainPath, keyPath string) error {
	name := optName(serverName)
	defer C.free(unsafe.Pointer(name))
	chain, key := C.CString(chainPath), C.CString(keyPath)
	defer C.free(unsafe.Pointer(chain))
	defer C.free(unsafe.Pointer(key))
	return m.with(func(p *C.actnet_certmanager) C.actnet_status {
		return C.actnet_certmanager_set_cert_files(p, name, chain, key)
	})
}

// RemoveCert removes the certificate for serverName ("" for the default one).
func (m *CertManager) RemoveCert(serverName string) error {
	name := optName(serverName)
	defer C.free(unsafe.Pointer(name))
	return m.with(func(p *C.actnet_certmanager) C.actnet_status {
		return C.actnet_certmanager_remove_cert(p, name)
	})
}

// SetCAPEM sets or replaces the CA bundle (PEM, one or more certificates) that verifies
// client certificates on servers that ask for them, and server certificates on clients
// (instead of the system's roots).
func (m *CertManager) SetCAPEM(pem []byte) error {
	p, l := bytesArg(pem)
	return m.with(func(cm *C.actnet_certmanager) C.actnet_status {
		return C.actnet_certmanager_set_ca_pem(cm, p, l)
	})
}

// SetCAFile is SetCAPEM reading a PEM file (ErrIO if it cannot be read).
func (m *CertManager) SetCAFile(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return m.with(func(p *C.actnet_certmanager) C.actnet_status {
		return C.actnet_certmanager_set_ca_file(p, cpath)
	})
}
