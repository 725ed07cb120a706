//! Spawning processes, names, sending, stopping, links and monitors.

use std::ffi::c_char;

use crate::ffi::args::{self, actnet_node, FfiResult, Options};
use crate::ffi::behavior::{self, actnet_behavior};
use crate::ffi::boundary::guard;
use crate::ffi::ids::{actnet_alias, actnet_pid};
use crate::ffi::status::{actnet_status, check};
use crate::node::ids::Id;
use crate::process::message::Body;
use crate::process::process::SpawnOptions;

/// `mailbox_size` value meaning "no bound".
pub const ACTNET_MAILBOX_UNBOUNDED: u32 = u32::MAX;

/// How to spawn a process. Fill with `actnet_spawn_options_init` first.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct actnet_spawn_options {
    /// `sizeof(actnet_spawn_options)`.
    pub struct_size: u32,
    /// Mailbox bound in messages: 0 (default) takes the node's default,
    /// `ACTNET_MAILBOX_UNBOUNDED` means no bound. The frames one read of a framed connection
    /// completes (at most 64) travel together and take one place; each is still its own
    /// DATA message to the handler.
    pub mailbox_size: u32,
    /// Register the process under this name (copied) as part of the spawn; NULL for none.
    pub name: *const c_char,
    /// Bytes handed to `init` (borrowed for the call).
    pub args: *const u8,
    pub args_len: usize,
    /// Link to this process before `init` runs; `{0}` (default) for none.
    pub link_to: actnet_pid,
    /// Receive ACTNET_MSG_EXIT from linked processes instead of ending with them.
    pub trap_exits: bool,
}

impl Options for actnet_spawn_options {
    fn defaults() -> Self {
        actnet_spawn_options {
            struct_size: std::mem::size_of::<actnet_spawn_options>() as u32,
            mailbox_size: 0,
            name: std::ptr::null(),
            args: std::ptr::null(),
            args_len: 0,
            link_to: actnet_pid::default(),
            trap_exits: false,
        }
    }
}

/// Fills `options` with defaults.
#[no_mangle]
pub extern "C" fn actnet_spawn_options_init(options: *mut actnet_spawn_options) -> actnet_status {
    guard(|| args::init_options(options))
}

pub(crate) fn mailbox_size(value: u32) -> Option<usize> {
    match value {
        0 => None,
        ACTNET_MAILBOX_UNBOUNDED => Some(0),
        n => Some(n as usize),
    }
}

fn spawn_options(options: *const actnet_spawn_options, name: Option<&str>) -> FfiResult<SpawnOptions> {
    let mut spawn = SpawnOptions { name: name.map(str::to_owned), ..Default::default() };
    if options.is_null() {
        return Ok(spawn);
    }
    let options = &args::options(options)?;
    if let Some(own) = unsafe { args::optional_string(options.name)? } {
        if spawn.name.is_some() {
            return Err(actnet_status::ACTNET_STATUS_INVALID_ARGUMENT);
        }
        spawn.name = Some(own.to_owned());
    }
    spawn.mailbox_size = mailbox_size(options.mailbox_size);
    spawn.args = unsafe { args::bytes(options.args, options.args_len)? }.to_vec();
    spawn.link_to = options.link_to.optional()?;
    spawn.trap_exits = options.trap_exits;
    Ok(spawn)
}

/// Spawns a process running `behavior` (the process takes its own reference). `options` may
/// be NULL. `init` runs on the calling thread before this returns. Any thread, including
/// handlers. On success `*pid_out` receives the new process id.
///
/// Errors: `NULL_ARGUMENT`, `STRUCT_SIZE`, `INVALID_ARGUMENT`, `NAME_TAKEN`, `NOT_FOUND`
/// (`link_to` is not alive), `INIT_FAILED` (nothing is left running), `NODE_STOPPING`.
#[no_mangle]
pub extern "C" fn actnet_process_spawn(
    node: *mut actnet_node,
    behavior: *const actnet_behavior,
    options: *const actnet_spawn_options,
    pid_out: *mut actnet_pid,
) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let out = args::out(pid_out)?;
        let factory = behavior::factory(behavior)?;
        let options = spawn_options(options, None)?;
        *out = actnet_pid::of(check(node.spawn(factory.create(), options))?);
        Ok(())
    })
}

/// Spawns a process registered under `name` (as `actnet_process_spawn` with `name` set;
/// `options->name` must then be NULL).
#[no_mangle]
pub extern "C" fn actnet_process_spawn_register(
    node: *mut actnet_node,
    name: *const c_char,
    behavior: *const actnet_behavior,
    options: *const actnet_spawn_options,
    pid_out: *mut actnet_pid,
) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let out = args::out(pid_out)?;
        let name = unsafe { args::string(name)? };
        let factory = behavior::factory(behavior)?;
        let options = spawn_options(options, Some(name))?;
        *out = actnet_pid::of(check(node.spawn(factory.create(), options))?);
        Ok(())
    })
}

/// Finds the process registered under `name`. Errors: `NULL_ARGUMENT`, `NOT_FOUND`.
#[no_mangle]
pub extern "C" fn actnet_name_lookup(node: *mut actnet_node, name: *const c_char, pid_out: *mut actnet_pid) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let out = args::out(pid_out)?;
        *out = actnet_pid::of(check(node.whereis(unsafe { args::string(name)? }))?);
        Ok(())
    })
}

/// Registers `name` (copied) for a live process that has no name yet.
/// Errors: `NULL_ARGUMENT`, `INVALID_ARGUMENT` (empty), `NAME_TAKEN`, `NOT_FOUND`.
#[no_mangle]
pub extern "C" fn actnet_name_register(node: *mut actnet_node, name: *const c_char, pid: actnet_pid) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        check(node.register(unsafe { args::string(name)? }, pid.get()?))
    })
}

/// Frees a registered name; the process keeps running. Errors: `NULL_ARGUMENT`, `NOT_FOUND`.
#[no_mangle]
pub extern "C" fn actnet_name_unregister(node: *mut actnet_node, name: *const c_char) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        check(node.unregister(unsafe { args::string(name)? }))
    })
}

/// Sends an opaque message (`len` bytes at `data`, copied before returning, plus `tag`) to a
/// process. The receiver sees as `from` the process whose callback is running on this
/// thread, or `{0}`. A send that returns before another begins is delivered before it. Any
/// thread. (To a forwarder meta-process: `actnet_meta_send`; to a connection's peer:
/// `actnet_tcp_write`.)
///
/// Errors: `NULL_ARGUMENT` (data NULL with len > 0), `NOT_FOUND`, `WRONG_KIND` (`to` is a
/// meta-process's alias), `MAILBOX_FULL` (nothing queued).
#[no_mangle]
pub extern "C" fn actnet_message_send(node: *mut actnet_node, to: actnet_pid, tag: u64, data: *const u8, len: usize) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let data = Body::copy_from_slice(unsafe { args::bytes(data, len)? });
        check(node.send(to.get()?, tag, data))
    })
}

/// Sends an opaque message to a meta-process that takes messages (a forwarder, which
/// passes it on). Connections take none: their peer is written with `actnet_tcp_write`.
///
/// Errors: `NULL_ARGUMENT`, `NOT_FOUND`, `WRONG_KIND` (`to` is a process id),
/// `UNSUPPORTED` (a meta-process that takes no messages), `MAILBOX_FULL`.
#[no_mangle]
pub extern "C" fn actnet_meta_send(node: *mut actnet_node, to: actnet_alias, tag: u64, data: *const u8, len: usize) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let data = Body::copy_from_slice(unsafe { args::bytes(data, len)? });
        check(node.meta_send(to.get()?, tag, data))
    })
}

/// As `actnet_message_send`, to the process registered under `name`.
#[no_mangle]
pub extern "C" fn actnet_message_send_name(
    node: *mut actnet_node,
    name: *const c_char,
    tag: u64,
    data: *const u8,
    len: usize,
) -> actnet_status {
    guard(|| {
        let node = unsafe { args::node(node)? };
        let name = unsafe { args::string(name)? };
        let data = Body::copy_from_slice(unsafe { args::bytes(data, len)? });
        check(node.send_named(name, tag, data))
    })
}

/// Stops a process with reason `ACTNET_EXIT_SHUTDOWN` after the messages already in its
/// mailbox. Called by a process on itself (from its callback), it ends with reason
/// `ACTNET_EXIT_NORMAL` as soon as the callback returns. Errors: `NOT_FOUND`.
#[no_mangle]
pub extern "C" fn actnet_process_stop(node: *mut actnet_node, pid: actnet_pid) -> actnet_status {
    guard(|| check(unsafe { args::node(node)? }.stop_process(pid.get()?)))
}

/// Ends a process with reason `ACTNET_EXIT_KILLED` as soon as its current callback returns,
/// dropping queued messages. Errors: `NOT_FOUND`.
#[no_mangle]
pub extern "C" fn actnet_process_kill(node: *mut actnet_node, pid: actnet_pid) -> actnet_status {
    guard(|| check(unsafe { args::node(node)? }.kill(pid.get()?)))
}

/// Sets whether a process receives EXIT messages from linked processes (true) or ends with
/// them when they end abnormally (false, the default). Errors: `NOT_FOUND`.
#[no_mangle]
pub extern "C" fn actnet_process_trap_exits(node: *mut actnet_node, pid: actnet_pid, trap: bool) -> actnet_status {
    guard(|| check(unsafe { args::node(node)? }.set_trap_exits(pid.get()?, trap)))
}

/// Links two processes: when one ends abnormally (not NORMAL or SHUTDOWN), the other ends
/// with the same reason, or receives EXIT if it traps exits. Errors: `NOT_FOUND`,
/// `INVALID_ARGUMENT` (a == b).
#[no_mangle]
pub extern "C" fn actnet_process_link(node: *mut actnet_node, a: actnet_pid, b: actnet_pid) -> actnet_status {
    guard(|| check(unsafe { args::node(node)? }.link(a.get()?, b.get()?)))
}

/// Removes a link. Errors: `NOT_FOUND` (a is gone).
#[no_mangle]
pub extern "C" fn actnet_process_unlink(node: *mut actnet_node, a: actnet_pid, b: actnet_pid) -> actnet_status {
    guard(|| check(unsafe { args::node(node)? }.unlink(a.get()?, b.get()?)))
}

/// Makes `watcher` receive one DOWN message when process `target` ends (`from` in DOWN).
/// `*reference_out` identifies the monitor (it is in DOWN).
/// Errors: `NOT_FOUND` (either is already gone: no DOWN will come), `WRONG_KIND`.
#[no_mangle]
pub extern "C" fn actnet_process_monitor(
    node: *mut actnet_node,
    watcher: actnet_pid,
    target: actnet_pid,
    reference_out: *mut u64,
) -> actnet_status {
    guard(|| monitor(node, watcher, || target.get(), reference_out))
}

/// Makes `watcher` receive one DOWN message when meta-process `target` ends (`alias` in
/// DOWN). Errors: as `actnet_process_monitor`.
#[no_mangle]
pub extern "C" fn actnet_meta_monitor(
    node: *mut actnet_node,
    watcher: actnet_pid,
    target: actnet_alias,
    reference_out: *mut u64,
) -> actnet_status {
    guard(|| monitor(node, watcher, || target.get(), reference_out))
}

/// Either kind of monitor: the node is checked first, then the ids.
fn monitor(node: *mut actnet_node, watcher: actnet_pid, target: impl FnOnce() -> FfiResult<Id>, reference_out: *mut u64) -> FfiResult<()> {
    let node = unsafe { args::node(node)? };
    let out = args::out(reference_out)?;
    *out = check(node.monitor(watcher.get()?, target()?))?;
    Ok(())
}

/// Removes a monitor (of a process or a meta-process); no DOWN will come for it.
/// Errors: `NOT_FOUND`, `WRONG_KIND`.
#[no_mangle]
pub extern "C" fn actnet_process_demonitor(node: *mut actnet_node, watcher: actnet_pid, reference: u64) -> actnet_status {
    guard(|| check(unsafe { args::node(node)? }.demonitor(watcher.get()?, reference)))
}
