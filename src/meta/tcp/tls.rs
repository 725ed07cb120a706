//! TLS for servers and clients: configurations built from a certificate manager, the
//! handshakes (with timeouts), what a session shows (version, cipher, ALPN, server name,
//! peer subject), and how failures are reported.

use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;

use crate::error::{Error, Result};
use crate::meta::tcp::certmanager::{provider, CertManager, Resolver};
use crate::process::message::TlsInfo;

pub(crate) const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a TLS server asks clients for a certificate (verified against the manager's CA
/// bundle).
///
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u32)]
pub enum ClientAuth {
    /// Never (the default).
    #[default]
    None = 0,
    /// Verify a certificate if the client presents one; clients without one are accepted.
    Optional = 1,
    /// Refuse clients without a valid certificate (mutual TLS).
    Required = 2,
}

crate::c_enum::c_enum!(ClientAuth { None, Optional, Required });

/// TLS on a server.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub manager: CertManager,
    pub client_auth: ClientAuth,
    pub handshake_timeout: Duration,
    /// ALPN protocols offered, most preferred first.
    pub alpn: Vec<Vec<u8>>,
}

/// TLS on a client connection.
#[derive(Debug, Clone, Default)]
pub struct ClientTls {
    /// CA bundle to verify the server (default: the system's roots) and the default
    /// certificate to present if the server asks for one.
    pub manager: Option<CertManager>,
    /// Name sent as SNI and verified; default: the host.
    pub server_name: Option<String>,
    /// Accept any server certificate (logged as a warning at every connect).
    pub insecure_skip_verify: bool,
    pub alpn: Vec<Vec<u8>>,
    /// Zero means DEFAULT_HANDSHAKE_TIMEOUT.
    pub handshake_timeout: Duration,
}

/// A server's TLS configuration, rebuilt when the manager's CA bundle changes.
pub(crate) struct ServerTlsConfig {
    tls: ServerTls,
    cached: Mutex<Option<(u64, Arc<ServerConfig>)>>,
}

impl ServerTlsConfig {
    /// Checks the options once, when the server is created.
    pub(crate) fn new(tls: ServerTls) -> Result<ServerTlsConfig> {
        if !tls.manager.has_certificates() {
            tracing::warn!("a TLS server needs a certificate in its certificate manager");
            return Err(Error::InvalidArgument);
        }
        let config = ServerTlsConfig { tls, cached: Mutex::new(None) };
        config.config()?;
        Ok(config)
    }

    pub(crate) fn handshake_timeout(&self) -> Duration {
        match self.tls.handshake_timeout {
            Duration::ZERO => DEFAULT_HANDSHAKE_TIMEOUT,
            t => t,
        }
    }

    /// The configuration for the next handshake.
    pub(crate) fn config(&self) -> Result<Arc<ServerConfig>> {
        let generation = self.tls.manager.generation();
        let mut cached = self.cached.lock().unwrap();
        if let Some((built_for, config)) = cached.as_ref() {
            if *built_for == generation {
                return Ok(config.clone());
            }
        }
        let config = Arc::new(self.build()?);
        *cached = Some((generation, config.clone()));
        Ok(config)
    }

    fn build(&self) -> Result<ServerConfig> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|_| Error::Tls)?;
        let builder = match self.tls.client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            auth => {
                let Some(roots) = self.tls.manager.ca() else {
                    tracing::warn!("client certificate verification needs a CA bundle in the certificate manager");
                    return Err(Error::InvalidArgument);
                };
                let mut verifier = WebPkiClientVerifier::builder_with_provider(roots, provider());
                if auth == ClientAuth::Optional {
                    verifier = verifier.allow_unauthenticated();
                }
                builder.with_client_cert_verifier(verifier.build().map_err(|_| Error::BadCertificate)?)
            }
        };
        let mut config = builder.with_cert_resolver(Arc::new(Resolver(self.tls.manager.clone())));
        config.alpn_protocols = self.tls.alpn.clone();
        Ok(config)
    }
}

/// The system's trusted roots, loaded once.
fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let loaded = rustls_native_certs::load_native_certs();
            let mut store = RootCertStore::empty();
            let (added, _) = store.add_parsable_certificates(loaded.certs);
            if added == 0 {
                tracing::warn!("no system root certificates found; TLS clients without a CA bundle will fail");
            }
            Arc::new(store)
        })
        .clone()
}

fn client_config(tls: &ClientTls) -> Result<Arc<ClientConfig>> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|_| Error::Tls)?;
    let builder = if tls.insecure_skip_verify {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAnyServer))
    } else {
        let roots = tls.manager.as_ref().and_then(CertManager::ca).unwrap_or_else(system_roots);
        builder.with_root_certificates(roots)
    };
    let certificate = tls.manager.as_ref().and_then(CertManager::default_certificate);
    let mut config = match certificate {
        Some(key) => builder.with_client_cert_resolver(Arc::new(PresentCertificate(key))),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = tls.alpn.clone();
    Ok(Arc::new(config))
}

/// Runs the server side of a handshake within the timeout.
pub(crate) async fn accept(tcp: TcpStream, config: &ServerTlsConfig) -> io::Result<(TcpStream, rustls::Connection)> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config.config().map_err(|e| io::Error::other(e.to_string()))?);
    match tokio::time::timeout(config.handshake_timeout(), acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => {
            let (tcp, session) = stream.into_inner();
            Ok((tcp, session.into()))
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// Runs the client side of a handshake with `host` (or the configured server name).
/// Also returns the server name used (sent as SNI and verified).
pub(crate) async fn connect(tcp: TcpStream, host: &str, tls: &ClientTls) -> Result<(TcpStream, rustls::Connection, String)> {
    let name = tls.server_name.as_deref().unwrap_or(host);
    let server_name = ServerName::try_from(name.to_owned()).map_err(|_| Error::InvalidArgument)?;
    if tls.insecure_skip_verify {
        tracing::warn!(server = %name, "TLS server certificate NOT verified (insecure_skip_verify)");
    }
    let connector = tokio_rustls::TlsConnector::from(client_config(tls)?);
    let limit = if tls.handshake_timeout.is_zero() { DEFAULT_HANDSHAKE_TIMEOUT } else { tls.handshake_timeout };
    match tokio::time::timeout(limit, connector.connect(server_name, tcp)).await {
        Ok(Ok(stream)) => {
            let (tcp, session) = stream.into_inner();
            Ok((tcp, session.into(), name.to_owned()))
        }
        Ok(Err(e)) => Err(classify(&e)),
        Err(_) => Err(Error::Timeout),
    }
}

/// The error a failed handshake or TLS session means for the caller.
pub(crate) fn classify(e: &io::Error) -> Error {
    use rustls::AlertDescription as Alert;
    let tls = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(rustls::Error::InvalidCertificate(_)) | Some(rustls::Error::NoCertificatesPresented) => {
            Error::CertificateInvalid
        }
        Some(rustls::Error::AlertReceived(
            Alert::BadCertificate
            | Alert::CertificateRequired
            | Alert::UnknownCA
            | Alert::CertificateExpired
            | Alert::CertificateUnknown,
        )) => Error::CertificateInvalid,
        Some(_) => Error::Tls,
        None if e.kind() == io::ErrorKind::TimedOut => Error::Timeout,
        None => Error::Tls,
    }
}

/// What CONNECT and inspect show of a TLS session.
pub(crate) fn session_info(session: &rustls::Connection) -> TlsInfo {
    let version = session.protocol_version().map(|v| format!("{v:?}").replace('_', ".")).unwrap_or_default();
    let cipher = session.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())).unwrap_or_default();
    let alpn = session.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned());
    let server_name = match session {
        rustls::Connection::Server(s) => s.server_name().map(str::to_owned),
        rustls::Connection::Client(_) => None,
    };
    let peer_subject = session.peer_certificates().and_then(|chain| chain.first()).and_then(|cert| subject(cert));
    TlsInfo { protocol_version: version, cipher_suite: cipher, alpn, server_name, peer_subject }
}

fn subject(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    Some(parsed.subject().to_string())
}

/// The client certificate: always the manager's default one.
#[derive(Debug)]
struct PresentCertificate(Arc<CertifiedKey>);

impl ResolvesClientCert for PresentCertificate {
    fn resolve(&self, _issuers: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// insecure_skip_verify: accepts any server certificate, still checking the handshake's
/// signatures so the session is at least with the holder of that certificate's key.
#[derive(Debug)]
struct AcceptAnyServer;

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}
