//! Supervisors: child specs and spawning.

use std::ffi::c_char;

use crate::ffi::args::{self, actnet_node, FfiResult, Options};
use crate::ffi::behavior::{self, actnet_behavior};
use crate::ffi::boundary::guard;
use crate::ffi::ids::actnet_pid;
use crate::ffi::process::mailbox_size;
use crate::ffi::status::{actnet_status, actnet_status::*, check};
use crate::c_enum::CEnum;
use crate::process::process::SpawnOptions;
use crate::process::supervisor::{ChildSpec, Restart, Strategy, SupervisorSpec};

/// One child of a supervisor. Fill with `actnet_child_spec_init` first.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct actnet_child_spec {
    /// `sizeof(actnet_child_spec)`.
    pub struct_size: u32,
    /// An `actnet_restart`; default `ACTNET_RESTART_PERMANENT`.
    pub restart: u32,
    /// Required: the child is registered under this name (copied), again after each restart.
    pub name: *const c_char,
    /// Required: the child's behaviour; the supervisor keeps its own reference.
    pub behavior: *const actnet_behavior,
    /// Bytes handed to the child's init on every start (copied).
    pub args: *const u8,
    pub args_len: usize,
    /// As `actnet_spawn_options.mailbox_size`.
    pub mailbox_size: u32,
}

impl Options for actnet_child_spec {
    fn defaults() -> Self {
        actnet_child_spec {
            struct_size: std::mem::size_of::<actnet_child_spec>() as u32,
            restart: Restart::Permanent as u32,
            name: std::ptr::null(),
            behavior: std::ptr::null(),
            args: std::ptr::null(),
            args_len: 0,
            mailbox_size: 0,
        }
    }
}

/// How to run a supervisor. Fill with `actnet_supervisor_options_init` first.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct actnet_supervisor_options {
    /// `sizeof(actnet_supervisor_options)`.
    pub struct_size: u32,
    /// An `actnet_strategy`; default `ACTNET_STRATEGY_ONE_FOR_ONE`.
    pub strategy: u32,
    /// More than `intensity` restarts within `period_ms` ends the supervisor with reason
    /// `ACTNET_EXIT_MAX_RESTARTS` (its children are stopped). Defaults 3 and 5000.
    pub intensity: u32,
    pub period_ms: u32,
    /// The children, started in this order (the array is read during the call).
    pub children: *const actnet_child_spec,
    pub children_len: usize,
    /// Register the supervisor under this name; NULL for none.
    pub name: *const c_char,
}

impl Options for actnet_supervisor_options {
    fn defaults() -> Self {
        actnet_supervisor_options {
            struct_size: std::mem::size_of::<actnet_supervisor_options>() as u32,
            strategy: Strategy::OneForOne as u32,
            intensity: 3,
            period_ms: 5000,
            children: std::ptr::null(),
            children_len: 0,
            name: std::ptr::null(),
        }
    }
}

/// Fills `spec` with defaults (name and behavior must still be set).
#[no_mangle]
pub extern "C" fn actnet_child_spec_init(spec: *mut actnet_child_spec) -> actnet_status {
    guard(|| args::init_options(spec))
}

/// Fills `options` with defaults and no children.
#[no_mangle]
pub extern "C" fn actnet_supervisor_options_init(options: *mut actnet_supervisor_options) -> actnet_status {
    guard(|| args::init_options(options))
}

fn child_spec(spec: *const actnet_child_spec) -> FfiResult<ChildSpec> {
    let spec = args::options(spec)?;
    let name = unsafe { args::string(spec.name)? };
    if name.is_empty() {
        return Err(ACTNET_STATUS_INVALID_ARGUMENT);
    }
    Ok(ChildSpec {
        name: name.to_owned(),
        factory: behavior::factory(spec.behavior)?,
        args: unsafe { args::bytes(spec.args, spec.args_len)? }.to_vec(),
        restart: args::enum_value(spec.restart, Restart::from_code)?,
        mailbox_size: mailbox_size(spec.mailbox_size),
    })
}

/// The child specs of an array. Its stride is the caller's `sizeof(actnet_child_spec)`,
/// which the first spec's `struct_size` gives: a caller built against an older header has
/// smaller specs, and every spec of one array has that caller's size.
fn child_specs(first: *const actnet_child_spec, len: usize) -> FfiResult<Vec<ChildSpec>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let stride = args::options(first)?.struct_size as usize;
    (0..len).map(|i| child_spec(unsafe { (first as *const u8).add(i * stride) } as *const actnet_child_spec)).collect()
}

/// Spawns a supervisor and starts its children in order before returning (each child's init
/// runs on the calling thread). On success `*pid_out` receives the supervisor's pid.
///
/// Errors: `NULL_ARGUMENT`, `STRUCT_SIZE` (options or any child spec), `INVALID_ARGUMENT`
/// (an unknown strategy or restart, an empty or repeated child name), `NAME_TAKEN`,
/// `INIT_FAILED` (a child failed to start, e.g. its init failed or its name is taken: the
/// ones started are stopped), `NODE_STOPPING`.
#[no_mangle]
pub extern "C" fn actnet_supervisor_spawn(
    node: *mut actnet_node,
    options: *const actnet_supervisor_options,
    pid_out: *mut actnet_pid,
) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let out = args::out(pid_out)?;
        let options = args::options(options)?;
        if options.children.is_null() && options.children_len > 0 {
            return Err(ACTNET_STATUS_NULL_ARGUMENT);
        }
        let children = child_specs(options.children, options.children_len)?;
        // Two children under one name could never both be registered.
        if children.iter().enumerate().any(|(i, c)| children[..i].iter().any(|d| d.name == c.name)) {
            return Err(ACTNET_STATUS_INVALID_ARGUMENT);
        }
        let spec = SupervisorSpec {
            strategy: args::enum_value(options.strategy, Strategy::from_code)?,
            intensity: options.intensity,
            period: args::millis(options.period_ms),
            children,
        };
        let name = unsafe { args::optional_string(options.name)? }.map(str::to_owned);
        *out = actnet_pid::of(check(node.spawn_supervisor(spec, SpawnOptions { name, ..Default::default() }))?);
        Ok(())
    })
}
