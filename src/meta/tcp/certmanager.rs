//! The certificate manager: what TLS servers and clients present and trust, shareable
//! between them and changeable at runtime.
//!
//! Certificates are chosen per handshake by the name the client asks for (SNI), falling back
//! to the default; replacing one (rotation) affects new handshakes only, live connections go
//! on. The CA bundle verifies peers: client certificates on servers that ask for them, server
//! certificates on clients. Everything is checked when it is loaded (PEM syntax, key type,
//! key matching the certificate), never at the first handshake.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

#[derive(Default)]
struct Certificates {
    default: Option<Arc<CertifiedKey>>,
    by_name: HashMap<String, Arc<CertifiedKey>>,
}

struct Inner {
    certificates: RwLock<Certificates>,
    ca: RwLock<Option<Arc<RootCertStore>>>,
    /// Bumped whenever the CA bundle changes, so cached TLS configurations are rebuilt.
    generation: AtomicU64,
}

/// Certificates to present and CAs to trust. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct CertManager {
    inner: Arc<Inner>,
}

/// The crypto provider every TLS configuration uses.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())).clone()
}

fn bad(what: &str, detail: impl std::fmt::Display) -> Error {
    tracing::warn!("TLS {what}: {detail}");
    Error::BadCertificate
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        tracing::warn!(path = %path.display(), error = %e, "cannot read a TLS file");
        Error::Io
    })
}

/// Parses a PEM certificate chain (end entity first) and its private key.
fn certified_key(chain_pem: &[u8], key_pem: &[u8]) -> Result<Arc<CertifiedKey>> {
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad("certificate chain", e))?;
    if chain.is_empty() {
        return Err(bad("certificate chain", "no CERTIFICATE block in the PEM"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| bad("private key", e))?;
    let certified = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| bad("certificate and key", e))?;
    Ok(Arc::new(certified))
}

/// Parses a PEM bundle of CA certificates.
fn root_store(pem: &[u8]) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| bad("CA bundle", e))?;
        store.add(cert).map_err(|e| bad("CA certificate", e))?;
    }
    if store.is_empty() {
        return Err(bad("CA bundle", "no CERTIFICATE block in the PEM"));
    }
    Ok(store)
}

impl Default for CertManager {
    fn default() -> Self {
        Self::new()
    }
}

impl CertManager {
    pub fn new() -> CertManager {
        CertManager {
            inner: Arc::new(Inner {
                certificates: RwLock::new(Certificates::default()),
                ca: RwLock::new(None),
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// Sets (or replaces) the certificate presented for `server_name`, or the default one
    /// when None. Clients present the default one when a server asks for a certificate.
    pub fn set_certificate_pem(&self, server_name: Option<&str>, chain_pem: &[u8], key_pem: &[u8]) -> Result<()> {
        let key = certified_key(chain_pem, key_pem)?;
        let mut certificates = self.inner.certificates.write().unwrap();
        match server_name {
            None => certificates.default = Some(key),
            Some("") => return Err(Error::InvalidArgument),
            Some(name) => {
                certificates.by_name.insert(name.to_ascii_lowercase(), key);
            }
        }
        Ok(())
    }

    pub fn set_certificate_files(&self, server_name: Option<&str>, chain: &Path, key: &Path) -> Result<()> {
        self.set_certificate_pem(server_name, &read_file(chain)?, &read_file(key)?)
    }

    /// Removes the certificate for `server_name` (or the default). NotFound if absent.
    pub fn remove_certificate(&self, server_name: Option<&str>) -> Result<()> {
        let mut certificates = self.inner.certificates.write().unwrap();
        let removed = match server_name {
            None => certificates.default.take().is_some(),
            Some(name) => certificates.by_name.remove(&name.to_ascii_lowercase()).is_some(),
        };
        removed.then_some(()).ok_or(Error::NotFound)
    }

    /// Sets (or replaces) the CA bundle used to verify peers.
    pub fn set_ca_pem(&self, pem: &[u8]) -> Result<()> {
        let store = Arc::new(root_store(pem)?);
        *self.inner.ca.write().unwrap() = Some(store);
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    pub fn set_ca_file(&self, path: &Path) -> Result<()> {
        self.set_ca_pem(&read_file(path)?)
    }

    pub(crate) fn ca(&self) -> Option<Arc<RootCertStore>> {
        self.inner.ca.read().unwrap().clone()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    pub(crate) fn default_certificate(&self) -> Option<Arc<CertifiedKey>> {
        self.inner.certificates.read().unwrap().default.clone()
    }

    pub(crate) fn has_certificates(&self) -> bool {
        let certificates = self.inner.certificates.read().unwrap();
        certificates.default.is_some() || !certificates.by_name.is_empty()
    }

    /// Picks the certificate for a handshake: the one for the requested name, else default.
    pub(crate) fn resolve(&self, server_name: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let certificates = self.inner.certificates.read().unwrap();
        let named = server_name.and_then(|n| certificates.by_name.get(&n.to_ascii_lowercase()));
        named.or(certificates.default.as_ref()).cloned()
    }
}

impl std::fmt::Debug for CertManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let certificates = self.inner.certificates.read().unwrap();
        f.debug_struct("CertManager")
            .field("default", &certificates.default.is_some())
            .field("names", &certificates.by_name.keys().collect::<Vec<_>>())
            .field("ca", &self.ca().is_some())
            .finish()
    }
}

/// Answers rustls's per-handshake question "which certificate?".
#[derive(Debug)]
pub(crate) struct Resolver(pub(crate) CertManager);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.resolve(hello.server_name())
    }
}
