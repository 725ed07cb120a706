//! Behaviours: a set of foreign callbacks with their user_data. A behaviour is a factory:
//! every spawn calls `init`, which may create per-process state, so a supervisor restarting a
//! child gets fresh state.

use std::ffi::c_void;
use std::sync::Arc;

use crate::ffi::args::{self, actnet_node, node_handle, Options};
use crate::ffi::boundary::guard;
use crate::ffi::ids::actnet_pid;
use crate::ffi::message::{actnet_message, exit_reason, with_view};
use crate::ffi::status::{actnet_status, actnet_status::*};
use crate::ffi::user_data::{actnet_free_fn, UserData};
use crate::process::behavior::{Behavior, Context, Factory, Flow};
use crate::process::message::{ExitReason, Message};

/// Runs once per spawn, on the spawning thread, before the process receives anything. May
/// store per-process state in `*state` (initially NULL). Return 0 to start the process; any
/// other value fails the spawn with `ACTNET_STATUS_INIT_FAILED` (terminate is then not
/// called, so free anything allocated before returning).
#[allow(non_camel_case_types)]
pub type actnet_init_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        node: *mut actnet_node,
        pid: actnet_pid,
        args: *const u8,
        args_len: usize,
        state: *mut *mut c_void,
    ) -> i32,
>;

/// Handles one message, on a runtime worker thread, never concurrently for one process.
/// Return 0 to go on; any other value ends the process with reason `ACTNET_EXIT_ERROR` and
/// that code. May call any actnet function except `actnet_node_stop`.
#[allow(non_camel_case_types)]
pub type actnet_handle_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        node: *mut actnet_node,
        pid: actnet_pid,
        state: *mut c_void,
        message: *const actnet_message,
    ) -> i32,
>;

/// Runs once when the process ends (if init succeeded), on a runtime worker thread: free
/// `state` here. `reason` is an `actnet_exit_reason`, `reason_code` its code.
#[allow(non_camel_case_types)]
pub type actnet_terminate_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, node: *mut actnet_node, pid: actnet_pid, state: *mut c_void, reason: u32, reason_code: i32)>;

/// The callbacks of a behaviour. Fill with `actnet_behavior_callbacks_init` first.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct actnet_behavior_callbacks {
    /// `sizeof(actnet_behavior_callbacks)`.
    pub struct_size: u32,
    /// Optional.
    pub init: actnet_init_fn,
    /// Required.
    pub handle_message: actnet_handle_fn,
    /// Optional.
    pub terminate: actnet_terminate_fn,
}

impl Options for actnet_behavior_callbacks {
    fn defaults() -> Self {
        actnet_behavior_callbacks {
            struct_size: std::mem::size_of::<actnet_behavior_callbacks>() as u32,
            init: None,
            handle_message: None,
            terminate: None,
        }
    }
}

struct Callbacks {
    init: actnet_init_fn,
    handle_message: unsafe extern "C" fn(*mut c_void, *mut actnet_node, actnet_pid, *mut c_void, *const actnet_message) -> i32,
    terminate: actnet_terminate_fn,
    user_data: UserData,
}

/// A behaviour handle (opaque). Processes and supervisor specs hold their own reference, so
/// it may be freed right after spawning.
pub struct actnet_behavior {
    callbacks: Arc<Callbacks>,
}

/// Fills `callbacks` with NULL callbacks and the right `struct_size`.
#[no_mangle]
pub extern "C" fn actnet_behavior_callbacks_init(callbacks: *mut actnet_behavior_callbacks) -> actnet_status {
    guard(|| args::init_options(callbacks))
}

/// Creates a behaviour from `callbacks` (copied) and `user_data`, which is passed to every
/// callback of every process spawned from it, possibly concurrently from several threads.
/// `free_user_data` (may be NULL) runs exactly once, when the behaviour handle has been freed
/// and the last process and supervisor using it have ended. On error it is not called.
///
/// Errors: `NULL_ARGUMENT` (callbacks, out, or `handle_message` NULL), `STRUCT_SIZE`.
#[no_mangle]
pub extern "C" fn actnet_behavior_new(
    callbacks: *const actnet_behavior_callbacks,
    user_data: *mut c_void,
    free_user_data: actnet_free_fn,
    behavior_out: *mut *mut actnet_behavior,
) -> actnet_status {
    guard(|| {
        let out = args::out(behavior_out)?;
        let callbacks = args::options(callbacks)?;
        let handle_message = callbacks.handle_message.ok_or(ACTNET_STATUS_NULL_ARGUMENT)?;
        let callbacks = Arc::new(Callbacks {
            init: callbacks.init,
            handle_message,
            terminate: callbacks.terminate,
            user_data: UserData::new(user_data, free_user_data),
        });
        *out = Box::into_raw(Box::new(actnet_behavior { callbacks }));
        Ok(())
    })
}

/// Releases the caller's reference to a behaviour. Processes spawned from it keep running.
/// Errors: `NULL_ARGUMENT`. Freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn actnet_behavior_free(behavior: *mut actnet_behavior) -> actnet_status {
    guard(|| {
        if behavior.is_null() {
            return Err(ACTNET_STATUS_NULL_ARGUMENT);
        }
        drop(unsafe { Box::from_raw(behavior) });
        Ok(())
    })
}

/// The factory a behaviour handle stands for.
pub(crate) fn factory(behavior: *const actnet_behavior) -> Result<Arc<dyn Factory>, actnet_status> {
    let behavior = args::required(behavior)?;
    Ok(Arc::new(ForeignFactory(behavior.callbacks.clone())))
}

struct ForeignFactory(Arc<Callbacks>);

impl Factory for ForeignFactory {
    fn create(&self) -> Box<dyn Behavior> {
        Box::new(ForeignProcess { callbacks: self.0.clone(), state: std::ptr::null_mut() })
    }
}

struct ForeignProcess {
    callbacks: Arc<Callbacks>,
    state: *mut c_void,
}

// The state pointer is only ever used by the one process that owns it, one call at a time.
unsafe impl Send for ForeignProcess {}

impl Behavior for ForeignProcess {
    fn init(&mut self, ctx: &Context<'_>, args: &[u8]) -> Result<(), i32> {
        let Some(init) = self.callbacks.init else { return Ok(()) };
        let mut state = std::ptr::null_mut();
        let node = node_handle(ctx.node);
        let code = unsafe { init(self.callbacks.user_data.ptr, node, actnet_pid::of(ctx.pid), args.as_ptr(), args.len(), &mut state) };
        match code {
            0 => {
                self.state = state;
                Ok(())
            }
            code => Err(code),
        }
    }

    fn handle(&mut self, ctx: &Context<'_>, message: Message) -> Flow {
        let node = node_handle(ctx.node);
        let code = with_view(message, |view| unsafe {
            (self.callbacks.handle_message)(self.callbacks.user_data.ptr, node, actnet_pid::of(ctx.pid), self.state, view)
        });
        match code {
            0 => Flow::Continue,
            code => Flow::Stop(ExitReason::Error(code)),
        }
    }

    fn terminate(&mut self, ctx: &Context<'_>, reason: ExitReason) {
        if let Some(terminate) = self.callbacks.terminate {
            let (reason, code) = exit_reason(reason);
            let node = node_handle(ctx.node);
            unsafe { terminate(self.callbacks.user_data.ptr, node, actnet_pid::of(ctx.pid), self.state, reason as u32, code) };
        }
    }
}
