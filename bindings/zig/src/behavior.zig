//! Behaviours made from a Zig struct type, the C callbacks that call it, and `Process`.

const std = @import("std");
const c = @import("actnet_c");
const Pid = @import("actnet.zig").Pid;
const ExitReason = @import("enums.zig").ExitReason;
const Message = @import("message.zig").Message;
const Node = @import("node.zig").Node;
const status = @import("status.zig");
const Error = status.Error;
const check = status.check;
const errorCode = status.errorCode;

/// What a handler gets besides its state and message: the node and its own pid.
pub const Process = struct {
    node: Node,
    pid: Pid,

    /// Ends this process (reason `.normal`) once the current callback returns.
    pub fn stop(self: Process) Error!void {
        return self.node.stopProcess(self.pid);
    }
};

/// A behaviour: what processes are spawned from. Processes and supervisors keep their own
/// reference, so `deinit` may follow the spawns at once.
pub const Behavior = struct {
    handle: *c.actnet_behavior,

    pub const InitError = Error || std.mem.Allocator.Error;

    /// A behaviour from a struct type `Actor`. Each process gets its own copy of `prototype`
    /// (heap-allocated with `std.heap.c_allocator`, freed after `terminate`) and these
    /// declarations of `Actor` are called with a pointer to that copy:
    ///
    ///   pub fn init(self: *Actor, process: Process, args: []const u8) !void            (optional)
    ///   pub fn handleMessage(self: *Actor, process: Process, message: Message) !void  (required)
    ///   pub fn terminate(self: *Actor, process: Process, reason: ExitReason, code: i32) void
    ///                                                                                  (optional)
    ///
    /// (`void` instead of `!void` is fine too.) `init` runs on the spawning thread; an error
    /// from it fails the spawn with `error.InitFailed`. `handleMessage` and `terminate` run on
    /// runtime threads, one message at a time per process; an error from `handleMessage` ends
    /// the process with reason `.@"error"` and code `errorCode(err)`. Pointers in the
    /// prototype are shared by every process, on several threads: synchronise what they
    /// point to.
    pub fn init(comptime Actor: type, prototype: Actor) InitError!Behavior {
        const T = Trampolines(Actor);
        var callbacks: c.actnet_behavior_callbacks = undefined;
        try check(c.actnet_behavior_callbacks_init(&callbacks));
        callbacks.init = T.init;
        callbacks.handle_message = T.handleMessage;
        callbacks.terminate = T.terminate;

        const proto = try std.heap.c_allocator.create(Actor);
        proto.* = prototype;
        var b: ?*c.actnet_behavior = null;
        check(c.actnet_behavior_new(&callbacks, proto, T.freePrototype, &b)) catch |err| {
            std.heap.c_allocator.destroy(proto); // on error free_user_data is not called
            return err;
        };
        return .{ .handle = b.? };
    }

    /// Releases this reference; processes spawned from it keep running.
    pub fn deinit(self: Behavior) void {
        _ = c.actnet_behavior_free(self.handle);
    }
};

fn Trampolines(comptime Actor: type) type {
    if (!@hasDecl(Actor, "handleMessage"))
        @compileError(@typeName(Actor) ++ " has no pub fn handleMessage");
    return struct {
        const allocator = std.heap.c_allocator;

        fn process(node: ?*c.actnet_node, pid: c.actnet_pid) Process {
            return .{ .node = .{ .handle = node.? }, .pid = .fromC(pid) };
        }

        fn init(
            user_data: ?*anyopaque,
            node: ?*c.actnet_node,
            pid: c.actnet_pid,
            args: [*c]const u8,
            args_len: usize,
            state: [*c]?*anyopaque,
        ) callconv(.c) i32 {
            const proto: *const Actor = @ptrCast(@alignCast(user_data.?));
            const self = allocator.create(Actor) catch return errorCode(error.OutOfMemory);
            self.* = proto.*;
            if (@hasDecl(Actor, "init")) {
                const bytes: []const u8 = if (args_len == 0) &.{} else args[0..args_len];
                call(Actor.init, .{ self, process(node, pid), bytes }) catch |err| {
                    allocator.destroy(self);
                    return errorCode(err);
                };
            }
            state.* = self;
            return 0;
        }

        fn handleMessage(
            user_data: ?*anyopaque,
            node: ?*c.actnet_node,
            pid: c.actnet_pid,
            state: ?*anyopaque,
            message: [*c]const c.actnet_message,
        ) callconv(.c) i32 {
            _ = user_data;
            const self: *Actor = @ptrCast(@alignCast(state.?));
            call(Actor.handleMessage, .{ self, process(node, pid), Message.fromC(message) }) catch |err|
                return errorCode(err);
            return 0;
        }

        fn terminate(
            user_data: ?*anyopaque,
            node: ?*c.actnet_node,
            pid: c.actnet_pid,
            state: ?*anyopaque,
            reason: u32,
            reason_code: i32,
        ) callconv(.c) void {
            _ = user_data;
            const self: *Actor = @ptrCast(@alignCast(state.?));
            if (@hasDecl(Actor, "terminate"))
                Actor.terminate(self, process(node, pid), @enumFromInt(reason), reason_code);
            allocator.destroy(self);
        }

        fn freePrototype(user_data: ?*anyopaque) callconv(.c) void {
            const proto: *Actor = @ptrCast(@alignCast(user_data.?));
            allocator.destroy(proto);
        }

        /// Calls `f`, whether it returns `void` or an error union.
        fn call(comptime f: anytype, args: anytype) anyerror!void {
            const R = @typeInfo(@TypeOf(f)).@"fn".return_type.?;
            if (@typeInfo(R) == .error_union) return @call(.auto, f, args);
            @call(.auto, f, args);
        }
    };
}
