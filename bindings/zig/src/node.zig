//! The node: the handle every call goes through.

const std = @import("std");
const c = @import("actnet_c");
const actnet = @import("actnet.zig");
const Pid = actnet.Pid;
const Alias = actnet.Alias;
const Behavior = @import("behavior.zig").Behavior;
const Buf = @import("buffers.zig").Buf;
const Info = @import("inspect.zig").Info;
const LogLevel = @import("enums.zig").LogLevel;
const SpawnOptions = @import("options.zig").SpawnOptions;
const SupervisorOptions = @import("options.zig").SupervisorOptions;
const TcpServerOptions = @import("options.zig").TcpServerOptions;
const TcpClientOptions = @import("options.zig").TcpClientOptions;
const status = @import("status.zig");
const Error = status.Error;
const check = status.check;

pub const TcpServer = struct { alias: Alias, port: u16 };

/// A node (a copyable handle). Copies share one node: after `stop` every call on any of
/// them returns `error.NodeStopping` (the handle stays valid), until `deinit` frees it.
pub const Node = struct {
    handle: *c.actnet_node,

    pub const Options = struct {
        /// 0: one per core.
        worker_threads: u32 = 0,
        name: ?[:0]const u8 = null,
        /// Log lines go to stderr.
        log_level: LogLevel = .warn,
        /// 0: the library default (1024); `mailbox_unbounded`: no bound.
        default_mailbox_size: u32 = 0,
    };

    /// Starts a node; release it with `deinit`.
    pub fn start(options: Options) Error!Node {
        var o: c.actnet_node_options = undefined;
        try check(c.actnet_node_options_init(&o));
        o.worker_threads = options.worker_threads;
        o.name = if (options.name) |n| n.ptr else null;
        o.log_level = @intFromEnum(options.log_level);
        o.default_mailbox_size = options.default_mailbox_size;
        var n: ?*c.actnet_node = null;
        try check(c.actnet_node_start(&o, &n));
        return .{ .handle = n.? };
    }

    /// Stops meta-processes, then every process after the messages already in its mailbox,
    /// then the threads; blocks until done. The handle stays valid: from then on every call
    /// on it (on any copy) returns `error.NodeStopping`; `stop` again returns at once. Not
    /// from a handler (`error.WrongContext`).
    pub fn stop(self: Node) Error!void {
        return check(c.actnet_node_stop(self.handle));
    }

    /// Frees the node, stopping it first if it is still running. Call it once, when no
    /// thread will use the node (or any copy of it, or a `Process` of it) again: every copy
    /// is then dangling. A thread that might still call should be given a stopped node
    /// instead (`stop`), which is why the two are separate.
    ///
    /// Freeing from one of the node's own handlers would stop the node from inside itself;
    /// the library refuses it and this panics, as it is a bug in the caller.
    pub fn deinit(self: Node) void {
        check(c.actnet_node_free(self.handle)) catch |err|
            std.debug.panic("actnet.Node.deinit: {s} (called from a handler of this node?)", .{@errorName(err)});
    }

    pub fn spawn(self: Node, behavior: Behavior, options: SpawnOptions) Error!Pid {
        const o = try options.toC();
        var pid: c.actnet_pid = .{ .id = 0 };
        try check(c.actnet_process_spawn(self.handle, behavior.handle, &o, &pid));
        return .fromC(pid);
    }

    /// Spawns a process registered under `name` (`options.name` must be null).
    pub fn spawnRegister(self: Node, name: [:0]const u8, behavior: Behavior, options: SpawnOptions) Error!Pid {
        const o = try options.toC();
        var pid: c.actnet_pid = .{ .id = 0 };
        try check(c.actnet_process_spawn_register(self.handle, name.ptr, behavior.handle, &o, &pid));
        return .fromC(pid);
    }

    /// Starts a supervisor and its children (in order) before returning. `allocator` holds
    /// the C child specs for the duration of the call.
    pub fn spawnSupervisor(
        self: Node,
        allocator: std.mem.Allocator,
        options: SupervisorOptions,
    ) (Error || std.mem.Allocator.Error)!Pid {
        const specs = try allocator.alloc(c.actnet_child_spec, options.children.len);
        defer allocator.free(specs);
        for (options.children, specs) |child, *spec| {
            try check(c.actnet_child_spec_init(spec));
            spec.restart = @intFromEnum(child.restart);
            spec.name = child.name.ptr;
            spec.behavior = child.behavior.handle;
            spec.args = child.args.ptr;
            spec.args_len = child.args.len;
            spec.mailbox_size = child.mailbox_size;
        }
        var o: c.actnet_supervisor_options = undefined;
        try check(c.actnet_supervisor_options_init(&o));
        o.strategy = @intFromEnum(options.strategy);
        o.intensity = options.intensity;
        o.period_ms = options.period_ms;
        o.children = specs.ptr;
        o.children_len = specs.len;
        o.name = if (options.name) |n| n.ptr else null;
        var pid: c.actnet_pid = .{ .id = 0 };
        try check(c.actnet_supervisor_spawn(self.handle, &o, &pid));
        return .fromC(pid);
    }

    pub fn lookup(self: Node, name: [:0]const u8) Error!Pid {
        var pid: c.actnet_pid = .{ .id = 0 };
        try check(c.actnet_name_lookup(self.handle, name.ptr, &pid));
        return .fromC(pid);
    }

    /// Sends `tag` and `bytes` (copied) to a process. Messages from one thread arrive in
    /// the order sent.
    pub fn send(self: Node, to: Pid, tag: u64, bytes: []const u8) Error!void {
        return check(c.actnet_message_send(self.handle, to.toC(), tag, bytes.ptr, bytes.len));
    }

    /// Sends `tag` and `bytes` (copied) to a meta-process that takes messages (a forwarder,
    /// which passes them on as a USER with `forwarder` set). A connection's peer is written
    /// only with `write` and `writeBuf`.
    pub fn sendMeta(self: Node, to: Alias, tag: u64, bytes: []const u8) Error!void {
        return check(c.actnet_meta_send(self.handle, to.toC(), tag, bytes.ptr, bytes.len));
    }

    pub fn sendName(self: Node, name: [:0]const u8, tag: u64, bytes: []const u8) Error!void {
        return check(c.actnet_message_send_name(self.handle, name.ptr, tag, bytes.ptr, bytes.len));
    }

    /// Spawns a forwarder owned by `owner` (it ends with it): a meta-process that passes
    /// what `sendMeta` gives it to the process registered as `target_name` (looked up at
    /// each message), or to the owner when null.
    pub fn spawnForwarder(self: Node, owner: Pid, target_name: ?[:0]const u8) Error!Alias {
        var alias: c.actnet_alias = .{ .id = 0 };
        const name: [*c]const u8 = if (target_name) |n| n.ptr else null;
        try check(c.actnet_forwarder_spawn(self.handle, owner.toC(), name, &alias));
        return .fromC(alias);
    }

    /// Sends a CALL and waits up to `timeout_ms` for the answer, which the caller owns
    /// (`Buf.free`).
    pub fn call(self: Node, to: Pid, tag: u64, bytes: []const u8, timeout_ms: u32) Error!Buf {
        var reply_buf: ?*c.actnet_buf = null;
        try check(c.actnet_process_call(self.handle, to.toC(), tag, bytes.ptr, bytes.len, timeout_ms, &reply_buf));
        return .{ .handle = reply_buf.? };
    }

    /// Answers a CALL (`Message.Call.reference`) with `bytes` (copied).
    pub fn reply(self: Node, reference: u64, bytes: []const u8) Error!void {
        return check(c.actnet_process_reply(self.handle, reference, bytes.ptr, bytes.len));
    }

    /// Stops a process after the messages already in its mailbox.
    pub fn stopProcess(self: Node, pid: Pid) Error!void {
        return check(c.actnet_process_stop(self.handle, pid.toC()));
    }

    pub fn kill(self: Node, pid: Pid) Error!void {
        return check(c.actnet_process_kill(self.handle, pid.toC()));
    }

    /// `watcher` gets one DOWN (`.of = .{ .process = target }`) when `target` ends; returns
    /// the monitor's reference.
    pub fn monitor(self: Node, watcher: Pid, target: Pid) Error!u64 {
        var reference: u64 = 0;
        try check(c.actnet_process_monitor(self.handle, watcher.toC(), target.toC(), &reference));
        return reference;
    }

    /// `watcher` gets one DOWN (`.of = .{ .meta = target }`) when the meta-process `target`
    /// ends; returns the monitor's reference.
    pub fn monitorMeta(self: Node, watcher: Pid, target: Alias) Error!u64 {
        var reference: u64 = 0;
        try check(c.actnet_meta_monitor(self.handle, watcher.toC(), target.toC(), &reference));
        return reference;
    }

    /// Removes a monitor (of a process or a meta-process); no DOWN will come for it.
    pub fn demonitor(self: Node, watcher: Pid, reference: u64) Error!void {
        return check(c.actnet_process_demonitor(self.handle, watcher.toC(), reference));
    }

    pub fn tcpServer(self: Node, owner: Pid, options: TcpServerOptions) Error!TcpServer {
        var chunk: c.actnet_chunk_options = undefined;
        const connection = try options.connection.toC(&chunk);
        const o = try options.toC(&connection);
        return self.tcpServerC(owner, &o);
    }

    /// Binds and spawns a TCP server owned by `owner` from C options.
    pub fn tcpServerC(self: Node, owner: Pid, options: *const c.actnet_tcp_server_options) Error!TcpServer {
        var alias: c.actnet_alias = .{ .id = 0 };
        var port: u16 = 0;
        try check(c.actnet_tcp_server_spawn(self.handle, owner.toC(), options, &alias, &port));
        return .{ .alias = .fromC(alias), .port = port };
    }

    /// Connects (refused, unreachable, timeout and DNS errors come back here) and spawns the
    /// connection owned by `owner`; returns its alias, writable at once.
    pub fn tcpConnect(self: Node, owner: Pid, options: TcpClientOptions) Error!Alias {
        var chunk: c.actnet_chunk_options = undefined;
        const connection = try options.connection.toC(&chunk);
        const o = try options.toC(&connection);
        return self.tcpConnectC(owner, &o);
    }

    pub fn tcpConnectC(self: Node, owner: Pid, options: *const c.actnet_tcp_client_options) Error!Alias {
        var alias: c.actnet_alias = .{ .id = 0 };
        try check(c.actnet_tcp_connect(self.handle, owner.toC(), options, &alias));
        return .fromC(alias);
    }

    /// Writes `bytes` (copied if they cannot go out at once) to a connection.
    /// `error.WouldBlock`: the write queue is full, nothing queued, `.writable` follows.
    pub fn write(self: Node, conn: Alias, bytes: []const u8) Error!void {
        return check(c.actnet_tcp_write(self.handle, conn.toC(), bytes.ptr, bytes.len));
    }

    /// Writes a buffer the caller holds; on success it belongs to the runtime.
    pub fn writeBuf(self: Node, conn: Alias, buf: Buf) Error!void {
        return check(c.actnet_tcp_write_buf(self.handle, conn.toC(), buf.handle));
    }

    /// Ends a meta-process gracefully (a connection flushes its queued writes first).
    pub fn terminate(self: Node, alias: Alias) Error!void {
        return check(c.actnet_meta_terminate(self.handle, alias.toC()));
    }

    /// Ends a meta-process at once (a connection is reset).
    pub fn abort(self: Node, alias: Alias) Error!void {
        return check(c.actnet_meta_abort(self.handle, alias.toC()));
    }

    /// Describes a process; the caller owns the result (`Info.deinit`).
    pub fn inspect(self: Node, pid: Pid) Error!Info {
        var info: ?*c.actnet_info = null;
        try check(c.actnet_process_inspect(self.handle, pid.toC(), &info));
        return .{ .handle = info.? };
    }

    /// Describes a meta-process (server, connection, forwarder); the caller owns the result
    /// (`Info.deinit`).
    pub fn inspectMeta(self: Node, alias: Alias) Error!Info {
        var info: ?*c.actnet_info = null;
        try check(c.actnet_meta_inspect(self.handle, alias.toC(), &info));
        return .{ .handle = info.? };
    }
};
