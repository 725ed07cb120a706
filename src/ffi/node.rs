//! Node options, start and stop, logging, version.

use std::cell::Cell;
use std::ffi::{c_char, c_void, CString};
use std::sync::{Arc, Mutex};

use crate::ffi::args::{self, actnet_node, FfiResult, Options};
use crate::ffi::boundary::{guard, guard_or};
use crate::ffi::process::mailbox_size;
use crate::ffi::status::{actnet_status, actnet_status::*, check};
use crate::ffi::user_data::{actnet_free_fn, UserData};
use crate::c_enum::CEnum;
use crate::node::logging::{LogLevel, LogSink};
use crate::node::node::{Node, NodeOptions, DEFAULT_MAILBOX_SIZE};

/// Receives one log line: `level` is an `actnet_log_level`, `line` is borrowed for the call.
/// Called from runtime threads and from threads calling into the library, possibly
/// concurrently.
#[allow(non_camel_case_types)]
pub type actnet_log_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, level: u32, line: *const c_char)>;

/// How to start a node. Fill with `actnet_node_options_init` first, then change fields.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct actnet_node_options {
    /// `sizeof(actnet_node_options)`, set by `actnet_node_options_init`.
    pub struct_size: u32,
    /// Runtime worker threads; 0 (default) = one per core.
    pub worker_threads: u32,
    /// Node name (copied); NULL (default) means "actnet".
    pub name: *const c_char,
    /// An `actnet_log_level`; default `ACTNET_LOG_LEVEL_WARN`.
    pub log_level: u32,
    /// Mailbox bound of processes spawned without one: 0 means the library default (1024),
    /// `ACTNET_MAILBOX_UNBOUNDED` means no bound.
    pub default_mailbox_size: u32,
    /// Log callback; NULL (default) writes human-readable lines to stderr.
    pub log: actnet_log_fn,
    /// Passed to `log`.
    pub log_user_data: *mut c_void,
    /// Called once with `log_user_data` when the node has stopped (may be NULL). Not called
    /// if `actnet_node_start` fails.
    pub free_log_user_data: actnet_free_fn,
}

impl Options for actnet_node_options {
    fn defaults() -> Self {
        actnet_node_options {
            struct_size: std::mem::size_of::<actnet_node_options>() as u32,
            worker_threads: 0,
            name: std::ptr::null(),
            log_level: LogLevel::Warn as u32,
            default_mailbox_size: DEFAULT_MAILBOX_SIZE as u32,
            log: None,
            log_user_data: std::ptr::null_mut(),
            free_log_user_data: None,
        }
    }
}

/// Fills `options` with defaults. Returns `ACTNET_STATUS_NULL_ARGUMENT` if it is NULL.
#[no_mangle]
pub extern "C" fn actnet_node_options_init(options: *mut actnet_node_options) -> actnet_status {
    guard(|| args::init_options(options))
}

/// Forwards log lines to the foreign callback until the node stops.
struct ForeignLog {
    callback: Mutex<Option<(unsafe extern "C" fn(*mut c_void, u32, *const c_char), UserData)>>,
}

thread_local! {
    /// The thread is inside a foreign log callback (of any node).
    static IN_LOG_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// True inside a log callback. A stop from there is refused: the line may be logged by the
/// stop itself, or by a call the stop waits for, or with the log lock held that the stop
/// takes to close the log.
fn in_log_callback() -> bool {
    IN_LOG_CALLBACK.with(Cell::get)
}

impl LogSink for ForeignLog {
    fn log(&self, level: LogLevel, line: &str) {
        // A log function that calls into the library, which logs again, would wait for the
        // lock it holds: the nested line is dropped instead.
        if in_log_callback() {
            return;
        }
        let callback = self.callback.lock().unwrap();
        if let Some((log, user_data)) = callback.as_ref() {
            let line = CString::new(line.replace('\0', " ")).unwrap_or_default();
            IN_LOG_CALLBACK.with(|c| c.set(true));
            unsafe { log(user_data.ptr, level as u32, line.as_ptr()) };
            IN_LOG_CALLBACK.with(|c| c.set(false));
        }
    }

    fn close(&self) {
        let taken = self.callback.lock().unwrap().take();
        drop(taken);
    }
}

impl ForeignLog {
    /// Forgets the callback without freeing its user_data (the caller keeps it).
    fn disarm(&self) {
        if let Some((_, user_data)) = self.callback.lock().unwrap().take() {
            user_data.forget();
        }
    }
}

/// Reads the options; the log sink is made last, once nothing else can be refused.
fn node_options(options: &actnet_node_options) -> FfiResult<(NodeOptions, Option<Arc<ForeignLog>>)> {
    let name = unsafe { args::optional_string(options.name)? }.unwrap_or("actnet");
    if name.is_empty() {
        return Err(ACTNET_STATUS_INVALID_ARGUMENT);
    }
    let log_level = args::enum_value(options.log_level, LogLevel::from_code)?;
    let log = options.log.map(|log| {
        let user_data = UserData::new(options.log_user_data, options.free_log_user_data);
        Arc::new(ForeignLog { callback: Mutex::new(Some((log, user_data))) })
    });
    let node_options = NodeOptions {
        name: name.to_owned(),
        worker_threads: options.worker_threads as usize,
        log_level,
        log_sink: log.clone().map(|l| l as Arc<dyn LogSink>),
        default_mailbox_size: mailbox_size(options.default_mailbox_size).unwrap_or(DEFAULT_MAILBOX_SIZE),
    };
    Ok((node_options, log))
}

/// Starts a node: its runtime threads, registry and logger. `options` may be NULL for the
/// defaults. On success `*node_out` receives the node handle, valid until
/// `actnet_node_free`. Any thread.
///
/// Errors: `NULL_ARGUMENT`, `STRUCT_SIZE`, `INVALID_ARGUMENT` (bad level, empty name),
/// `IO_ERROR` (threads could not start). On error `free_log_user_data` is not called: the
/// caller still owns `log_user_data`.
#[no_mangle]
pub extern "C" fn actnet_node_start(options: *const actnet_node_options, node_out: *mut *mut actnet_node) -> actnet_status {
    guard(|| {
        let out = args::out(node_out)?;
        let (options, log) = match options.is_null() {
            true => (NodeOptions::default(), None),
            false => node_options(&args::options(options)?)?,
        };
        match Node::start(options) {
            Ok(node) => {
                *out = node.into_raw() as *mut actnet_node;
                Ok(())
            }
            Err(e) => {
                if let Some(log) = log {
                    log.disarm();
                }
                Err(e.into())
            }
        }
    })
}

/// Stops a node: meta-processes first (connections flush their queued writes for at most a
/// second, or their close timeout if shorter, and deliver DISCONNECT with reason
/// `NODE_STOPPING`), then every process after the messages already in its mailbox (each
/// runs `terminate`), then the runtime threads are joined. Blocks until done; a handler that
/// never returns keeps it waiting. The handle stays valid: from then on every call on it
/// returns `NODE_STOPPING`, until `actnet_node_free` releases it. Idempotent: a stop of a
/// stopped node returns OK, and a stop while another is under way waits for it.
///
/// Errors: `NULL_ARGUMENT`; `WRONG_CONTEXT` when called from a callback or runtime thread of
/// this node, or from any node's log callback (the node keeps running; stop it from another
/// thread).
#[no_mangle]
pub extern "C" fn actnet_node_stop(node: *mut actnet_node) -> actnet_status {
    guard(|| stop(node))
}

fn stop(node: *mut actnet_node) -> FfiResult<()> {
    let node = unsafe { args::node_in_any_state(node)? };
    if in_log_callback() {
        return Err(ACTNET_STATUS_WRONG_CONTEXT);
    }
    check(node.stop())
}

/// Releases a node handle, stopping the node first if it is still running (as
/// `actnet_node_stop`, whose errors it returns without freeing anything). After OK, `node`
/// is freed: no thread may use it again, so call this once every thread that used the
/// handle is done with it (a thread that might still call should see `NODE_STOPPING` from a
/// stopped node instead, which is why stop and free are separate).
///
/// Errors: `NULL_ARGUMENT`, `WRONG_CONTEXT` (as for `actnet_node_stop`).
#[no_mangle]
pub extern "C" fn actnet_node_free(node: *mut actnet_node) -> actnet_status {
    guard(|| {
        stop(node)?;
        drop(unsafe { Node::from_raw(node as *const c_void) });
        Ok(())
    })
}

/// The library version, e.g. "0.2.0" (static; matches `ACTNET_VERSION_STRING`).
#[no_mangle]
pub extern "C" fn actnet_version() -> *const c_char {
    guard_or(c"unknown".as_ptr(), || concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char)
}
