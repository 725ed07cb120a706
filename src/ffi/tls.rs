//! The certificate manager handle and TLS option translation.

use std::ffi::c_char;
use std::path::Path;
use std::time::Duration;

use crate::ffi::args::{self, FfiResult};
use crate::ffi::boundary::guard;
use crate::ffi::status::{actnet_status, actnet_status::*, check};
use crate::meta::tcp::certmanager::CertManager;
use crate::node::logging::outside_node;

/// Certificates to present and CA certificates to trust (opaque). Shareable between servers,
/// clients and threads; changes (rotation, a new CA bundle) apply to later handshakes.
pub struct actnet_certmanager {
    manager: CertManager,
}

pub(crate) fn manager(ptr: *const actnet_certmanager) -> FfiResult<CertManager> {
    Ok(args::required(ptr)?.manager.clone())
}

/// A list of ALPN protocol names (`len` C strings).
pub(crate) fn alpn(list: *const *const c_char, len: usize) -> FfiResult<Vec<Vec<u8>>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if list.is_null() {
        return Err(ACTNET_STATUS_NULL_ARGUMENT);
    }
    let raw = unsafe { std::slice::from_raw_parts(list, len) };
    raw.iter()
        .map(|&name| match unsafe { args::string(name) }? {
            "" => Err(ACTNET_STATUS_INVALID_ARGUMENT),
            name => Ok(name.as_bytes().to_vec()),
        })
        .collect()
}

pub(crate) fn timeout(ms: u32) -> Duration {
    args::millis(ms)
}

/// Creates an empty certificate manager. Free it with `actnet_certmanager_free`.
#[no_mangle]
pub extern "C" fn actnet_certmanager_new(out: *mut *mut actnet_certmanager) -> actnet_status {
    guard(|| {
        // The out-parameter is checked before the manager exists: in `*place? = value` the
        // value is evaluated first, so a NULL `out` would leak it.
        let out = args::out(out)?;
        *out = Box::into_raw(Box::new(actnet_certmanager { manager: CertManager::new() }));
        Ok(())
    })
}

/// Releases the caller's reference. Servers and connections using it keep their own.
/// Freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn actnet_certmanager_free(manager: *mut actnet_certmanager) -> actnet_status {
    guard(|| {
        if manager.is_null() {
            return Err(ACTNET_STATUS_NULL_ARGUMENT);
        }
        drop(unsafe { Box::from_raw(manager) });
        Ok(())
    })
}

/// Sets or replaces (rotation) the certificate chain (PEM, end entity first) and private key
/// (PEM: PKCS#8, PKCS#1 or SEC1; RSA, ECDSA or Ed25519) presented for `server_name` (as
/// requested by SNI), or the default certificate when `server_name` is NULL. Clients present
/// the default certificate when a server asks for one. New handshakes use it; live
/// connections are not affected. Any thread.
///
/// Errors: `NULL_ARGUMENT`, `INVALID_ARGUMENT` (empty name), `BAD_CERTIFICATE` (bad PEM, no
/// certificate, unsupported key type, key not matching the certificate; the reason is written
/// to stderr as a warning).
#[no_mangle]
pub extern "C" fn actnet_certmanager_set_cert_pem(
    manager: *mut actnet_certmanager,
    server_name: *const c_char,
    chain_pem: *const u8,
    chain_len: usize,
    key_pem: *const u8,
    key_len: usize,
) -> actnet_status {
    guard(|| {
        let manager = self::manager(manager)?;
        let name = unsafe { args::optional_string(server_name)? };
        let chain = unsafe { args::bytes(chain_pem, chain_len)? };
        let key = unsafe { args::bytes(key_pem, key_len)? };
        check(outside_node(|| manager.set_certificate_pem(name, chain, key)))
    })
}

/// As `actnet_certmanager_set_cert_pem`, reading the PEM files at `chain_path` and
/// `key_path`. Errors: as that function, plus `IO_ERROR` (a file cannot be read).
#[no_mangle]
pub extern "C" fn actnet_certmanager_set_cert_files(
    manager: *mut actnet_certmanager,
    server_name: *const c_char,
    chain_path: *const c_char,
    key_path: *const c_char,
) -> actnet_status {
    guard(|| {
        let manager = self::manager(manager)?;
        let name = unsafe { args::optional_string(server_name)? };
        let chain = Path::new(unsafe { args::string(chain_path)? });
        let key = Path::new(unsafe { args::string(key_path)? });
        check(outside_node(|| manager.set_certificate_files(name, chain, key)))
    })
}

/// Removes the certificate for `server_name` (or the default when NULL).
/// Errors: `NULL_ARGUMENT`, `NOT_FOUND`.
#[no_mangle]
pub extern "C" fn actnet_certmanager_remove_cert(manager: *mut actnet_certmanager, server_name: *const c_char) -> actnet_status {
    guard(|| {
        let manager = self::manager(manager)?;
        check(manager.remove_certificate(unsafe { args::optional_string(server_name)? }))
    })
}

/// Sets or replaces the CA bundle (PEM, one or more certificates) that verifies peers:
/// client certificates on servers that ask for them (later handshakes of live servers use
/// the new bundle), and server certificates on clients (instead of the system's roots).
/// Errors: `NULL_ARGUMENT`, `BAD_CERTIFICATE`.
#[no_mangle]
pub extern "C" fn actnet_certmanager_set_ca_pem(manager: *mut actnet_certmanager, pem: *const u8, len: usize) -> actnet_status {
    guard(|| {
        let manager = self::manager(manager)?;
        let pem = unsafe { args::bytes(pem, len)? };
        check(outside_node(|| manager.set_ca_pem(pem)))
    })
}

/// As `actnet_certmanager_set_ca_pem`, reading the PEM file at `path`.
/// Errors: as that function, plus `IO_ERROR`.
#[no_mangle]
pub extern "C" fn actnet_certmanager_set_ca_file(manager: *mut actnet_certmanager, path: *const c_char) -> actnet_status {
    guard(|| {
        let manager = self::manager(manager)?;
        let path = Path::new(unsafe { args::string(path)? });
        check(outside_node(|| manager.set_ca_file(path)))
    })
}
