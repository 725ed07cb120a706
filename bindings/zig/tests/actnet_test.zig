//! Tests of the Zig binding against a running node: spawn/send (order, several messages,
//! call, init and handler errors, inspect, stale ids), the node's lifetime (stop keeps the
//! handle, deinit frees it), typed ids (forwarders, monitors of meta-processes, ids of the
//! wrong kind), an echo round trip over 127.0.0.1 with 4-byte header framing and a worker
//! pool (a plain std.net client, byte-exact; and an actnet client connection), and a client
//! connect failure. Every wait is bounded.

const std = @import("std");
const actnet = @import("actnet");

const testing = std.testing;
const timeout_ns = 10 * std.time.ns_per_s;

// ---- A thread-safe log the handlers write to and the test waits on ---------------------------

const Event = struct {
    kind: std.meta.Tag(actnet.Message) = .user,
    /// The process that handled it.
    pid: actnet.Pid = .none,
    /// As in actnet_message: the process it is from or about, and the meta-process.
    from: actnet.Pid = .none,
    alias: actnet.Alias = .none,
    tag: u64 = 0,
    reason: u32 = 0,
    code: i32 = 0,
    len: usize = 0,
    bytes: [32]u8 = undefined,

    fn data(self: *const Event) []const u8 {
        return self.bytes[0..@min(self.len, self.bytes.len)];
    }
};

const Log = struct {
    mutex: std.Thread.Mutex = .{},
    cond: std.Thread.Condition = .{},
    events: [256]Event = undefined,
    count: usize = 0,
    terminated: usize = 0,
    last_exit: actnet.ExitReason = .normal,

    fn add(self: *Log, event: Event) void {
        self.mutex.lock();
        defer self.mutex.unlock();
        if (self.count < self.events.len) {
            self.events[self.count] = event;
            self.count += 1;
        }
        self.cond.broadcast();
    }

    fn addTerminated(self: *Log, reason: actnet.ExitReason) void {
        self.mutex.lock();
        defer self.mutex.unlock();
        self.terminated += 1;
        self.last_exit = reason;
        self.cond.broadcast();
    }

    /// Waits (bounded) until `count` events of `kind` were logged.
    fn waitFor(self: *Log, kind: std.meta.Tag(actnet.Message), count: usize) !void {
        self.mutex.lock();
        defer self.mutex.unlock();
        var timer = try std.time.Timer.start();
        while (self.countLocked(kind) < count) {
            const elapsed = timer.read();
            if (elapsed >= timeout_ns) return error.Timeout;
            self.cond.timedWait(&self.mutex, timeout_ns - elapsed) catch {};
        }
    }

    fn waitTerminated(self: *Log, count: usize) !void {
        self.mutex.lock();
        defer self.mutex.unlock();
        var timer = try std.time.Timer.start();
        while (self.terminated < count) {
            const elapsed = timer.read();
            if (elapsed >= timeout_ns) return error.Timeout;
            self.cond.timedWait(&self.mutex, timeout_ns - elapsed) catch {};
        }
    }

    fn countLocked(self: *Log, kind: std.meta.Tag(actnet.Message)) usize {
        var n: usize = 0;
        for (self.events[0..self.count]) |e| {
            if (e.kind == kind) n += 1;
        }
        return n;
    }

    /// The events of `kind`, in order (call after waitFor: no more are expected).
    fn ofKind(self: *Log, kind: std.meta.Tag(actnet.Message), out: []Event) []Event {
        self.mutex.lock();
        defer self.mutex.unlock();
        var n: usize = 0;
        for (self.events[0..self.count]) |e| {
            if (e.kind == kind and n < out.len) {
                out[n] = e;
                n += 1;
            }
        }
        return out[0..n];
    }
};

fn eventOf(pid: actnet.Pid, message: actnet.Message) Event {
    var e: Event = .{ .kind = message, .pid = pid };
    var bytes: []const u8 = &.{};
    switch (message) {
        .user => |m| {
            e.from = m.from;
            e.alias = m.forwarder;
            e.tag = m.tag;
            bytes = m.bytes;
        },
        .call => |m| {
            e.from = m.from;
            e.tag = m.tag;
            bytes = m.bytes;
        },
        .connect => |m| {
            e.alias = m.alias;
            bytes = m.remote_addr;
        },
        .data => |m| {
            e.alias = m.alias;
            bytes = m.bytes;
        },
        .disconnect => |m| {
            e.alias = m.alias;
            e.reason = @intFromEnum(m.reason);
        },
        .writable => |alias| e.alias = alias,
        .down => |m| {
            switch (m.of) {
                .process => |process| e.from = process,
                .meta => |alias| e.alias = alias,
            }
            e.reason = @intFromEnum(m.reason);
            e.code = m.code;
        },
        .exit => |m| {
            e.from = m.from;
            e.reason = @intFromEnum(m.reason);
            e.code = m.code;
        },
        .unknown => {},
    }
    e.len = bytes.len;
    @memcpy(e.bytes[0..@min(bytes.len, e.bytes.len)], bytes[0..@min(bytes.len, e.bytes.len)]);
    return e;
}

// ---- Behaviours -----------------------------------------------------------------------------

/// Logs every message; answers CALLs with "re:" ++ bytes and "args:" ++ its init args;
/// fails with error.Boom on tag 99.
const Recorder = struct {
    log: *Log,
    args: [16]u8 = undefined,
    args_len: usize = 0,

    pub fn init(self: *Recorder, _: actnet.Process, args: []const u8) !void {
        if (args.len > self.args.len) return error.ArgsTooLong;
        @memcpy(self.args[0..args.len], args);
        self.args_len = args.len;
    }

    pub fn handleMessage(self: *Recorder, process: actnet.Process, message: actnet.Message) !void {
        switch (message) {
            .call => |m| {
                var buf: [64]u8 = undefined;
                const answer = if (m.tag == 2)
                    try std.fmt.bufPrint(&buf, "args:{s}", .{self.args[0..self.args_len]})
                else
                    try std.fmt.bufPrint(&buf, "re:{s}", .{m.bytes});
                try process.node.reply(m.reference, answer);
            },
            .user => |m| if (m.tag == 99) return error.Boom,
            else => {},
        }
        self.log.add(eventOf(process.pid, message));
    }

    pub fn terminate(self: *Recorder, _: actnet.Process, reason: actnet.ExitReason, _: i32) void {
        self.log.addTerminated(reason);
    }
};

const FailingInit = struct {
    log: *Log,

    pub fn init(_: *FailingInit, _: actnet.Process, _: []const u8) !void {
        return error.NotToday;
    }

    pub fn handleMessage(_: *FailingInit, _: actnet.Process, _: actnet.Message) void {}

    pub fn terminate(self: *FailingInit, _: actnet.Process, reason: actnet.ExitReason, _: i32) void {
        self.log.addTerminated(reason);
    }
};

/// Echoes every DATA to its connection and logs connection events.
const EchoWorker = struct {
    log: *Log,

    pub fn handleMessage(self: *EchoWorker, process: actnet.Process, message: actnet.Message) !void {
        switch (message) {
            .data => |d| try process.node.write(d.alias, d.bytes),
            .connect, .disconnect => self.log.add(eventOf(process.pid, message)),
            else => {},
        }
    }
};

/// Does nothing: owns servers and client connections.
const Idle = struct {
    pub fn handleMessage(_: *Idle, _: actnet.Process, _: actnet.Message) void {}
};

// ---- spawn / send / call ------------------------------------------------------------------------

test "spawn and send: one process receives several messages, in order" {
    var log: Log = .{};
    const node = try actnet.Node.start(.{ .worker_threads = 2 });
    defer node.deinit();

    const behavior = try actnet.Behavior.init(Recorder, .{ .log = &log });
    defer behavior.deinit();
    const pid = try node.spawn(behavior, .{});

    const n = 50;
    var i: u64 = 1;
    while (i <= n) : (i += 1) {
        var buf: [16]u8 = undefined;
        try node.send(pid, i, try std.fmt.bufPrint(&buf, "message {d}", .{i}));
    }
    try log.waitFor(.user, n);

    var events: [n]Event = undefined;
    const got = log.ofKind(.user, &events);
    try testing.expectEqual(@as(usize, n), got.len);
    for (got, 1..) |e, tag| {
        var buf: [16]u8 = undefined;
        try testing.expectEqual(@as(u64, tag), e.tag);
        try testing.expectEqual(pid, e.pid);
        try testing.expectEqual(actnet.Pid.none, e.from); // sent from a foreign thread
        try testing.expectEqual(actnet.Alias.none, e.alias); // not through a forwarder
        try testing.expectEqualStrings(try std.fmt.bufPrint(&buf, "message {d}", .{tag}), e.data());
    }

    // Several processes from one behaviour, each with its own state and its own order.
    const other = try node.spawnRegister("recorder", behavior, .{});
    try testing.expectEqual(other, try node.lookup("recorder"));
    try node.sendName("recorder", 1000, "to a name");
    try node.send(pid, 1001, "");
    try log.waitFor(.user, n + 2);

    const info = try node.inspect(other);
    defer info.deinit();
    try testing.expectEqualStrings("recorder", info.get("name").?);
    try testing.expect(info.count() > 0);
}

test "call, init args, handler errors and stale ids" {
    var log: Log = .{};
    const node = try actnet.Node.start(.{ .worker_threads = 2 });
    defer node.deinit();

    const behavior = try actnet.Behavior.init(Recorder, .{ .log = &log });
    defer behavior.deinit();
    const pid = try node.spawn(behavior, .{ .args = "xyz" });

    const answer = try node.call(pid, 1, "ping", 5000);
    try testing.expectEqualStrings("re:ping", answer.bytes());
    try answer.free();
    try testing.expectError(error.DoubleFree, answer.free());
    const args = try node.call(pid, 2, "", 5000);
    defer args.free() catch unreachable;
    try testing.expectEqualStrings("args:xyz", args.bytes());

    // init's error fails the spawn; terminate is not called.
    const failing = try actnet.Behavior.init(FailingInit, .{ .log = &log });
    defer failing.deinit();
    try testing.expectError(error.InitFailed, node.spawn(failing, .{}));
    try testing.expectError(error.InitFailed, node.spawn(behavior, .{ .args = "far too long for sixteen bytes" }));

    // A handler's error ends the process with reason "error" and the error's code.
    const watcher = try node.spawn(behavior, .{});
    _ = try node.monitor(watcher, pid);
    try node.send(pid, 99, "boom");
    try log.waitFor(.down, 1);
    var downs: [1]Event = undefined;
    const down = log.ofKind(.down, &downs)[0];
    try testing.expectEqual(pid, down.from);
    try testing.expectEqual(actnet.Alias.none, down.alias);
    try testing.expectEqual(actnet.ExitReason.@"error", @as(actnet.ExitReason, @enumFromInt(down.reason)));
    try testing.expectEqual(actnet.errorCode(error.Boom), down.code);
    try log.waitTerminated(1);
    {
        log.mutex.lock();
        defer log.mutex.unlock();
        // Only that process ended: the failed spawns ran no terminate.
        try testing.expectEqual(@as(usize, 1), log.terminated);
        try testing.expectEqual(actnet.ExitReason.@"error", log.last_exit);
    }

    // Ids are never reused: the ended process is cleanly not found.
    try testing.expectError(error.NotFound, node.send(pid, 1, "late"));
    try testing.expectError(error.NotFound, node.inspect(pid));
    _ = try node.spawnRegister("unique", behavior, .{});
    try testing.expectError(error.NameTaken, node.spawnRegister("unique", behavior, .{}));
}

// ---- The node's lifetime ------------------------------------------------------------------------

test "stop keeps the handle: calls on every copy give error.NodeStopping until deinit" {
    var log: Log = .{};
    const node = try actnet.Node.start(.{ .worker_threads = 2 });
    defer node.deinit();
    const copy = node; // e.g. held by another thread

    const behavior = try actnet.Behavior.init(Recorder, .{ .log = &log });
    defer behavior.deinit();
    const pid = try node.spawn(behavior, .{});
    try node.send(pid, 1, "before stop");

    try node.stop();
    {
        // The stop returned after the process handled its mailbox and ended.
        log.mutex.lock();
        defer log.mutex.unlock();
        try testing.expectEqual(@as(usize, 1), log.countLocked(.user));
        try testing.expectEqual(@as(usize, 1), log.terminated);
        try testing.expectEqual(actnet.ExitReason.shutdown, log.last_exit);
    }

    try testing.expectError(error.NodeStopping, copy.send(pid, 2, "after stop"));
    try testing.expectError(error.NodeStopping, copy.spawn(behavior, .{}));
    try testing.expectError(error.NodeStopping, copy.lookup("anything"));
    try testing.expectError(error.NodeStopping, copy.call(pid, 1, "", 1000));
    try testing.expectError(error.NodeStopping, copy.inspect(pid));
    try testing.expectError(error.NodeStopping, copy.tcpServer(pid, .{ .host = "127.0.0.1" }));
    try copy.stop(); // idempotent
    try testing.expectError(error.NodeStopping, node.send(pid, 3, ""));
}

test "deinit alone stops a running node first" {
    var log: Log = .{};
    const node = try actnet.Node.start(.{ .worker_threads = 1 });
    const behavior = try actnet.Behavior.init(Recorder, .{ .log = &log });
    defer behavior.deinit();
    const pid = try node.spawn(behavior, .{});
    try node.send(pid, 1, "a");
    try node.send(pid, 2, "b");
    node.deinit();

    // Nothing of the node is left to wait for: both messages were handled, then terminate.
    log.mutex.lock();
    defer log.mutex.unlock();
    try testing.expectEqual(@as(usize, 2), log.countLocked(.user));
    try testing.expectEqual(@as(u64, 2), log.events[1].tag);
    try testing.expectEqual(@as(usize, 1), log.terminated);
}

/// Tries to stop its own node from a handler and logs the status it got.
const SelfStopper = struct {
    log: *Log,

    pub fn handleMessage(self: *SelfStopper, process: actnet.Process, message: actnet.Message) void {
        const status: u32 = if (process.node.stop()) |_| 0 else |err| actnet.statusOf(err);
        self.log.add(.{ .kind = message, .pid = process.pid, .code = @intCast(status) });
    }
};

test "stop from a handler gives error.WrongContext and the node goes on" {
    var log: Log = .{};
    const node = try actnet.Node.start(.{ .worker_threads = 1 });
    defer node.deinit();
    const behavior = try actnet.Behavior.init(SelfStopper, .{ .log = &log });
    defer behavior.deinit();
    const pid = try node.spawn(behavior, .{});
    try node.send(pid, 1, "");
    try log.waitFor(.user, 1);
    try node.send(pid, 2, ""); // still running
    try log.waitFor(.user, 2);
    var events: [2]Event = undefined;
    for (log.ofKind(.user, &events)) |e|
        try testing.expectEqual(@as(i32, actnet.c.ACTNET_STATUS_WRONG_CONTEXT), e.code);
}

// ---- Typed ids ----------------------------------------------------------------------------------

test "forwarders: sendMeta, monitorMeta, and ids of the wrong kind give error.WrongKind" {
    var log: Log = .{};
    const node = try actnet.Node.start(.{ .worker_threads = 2 });
    defer node.deinit();

    const behavior = try actnet.Behavior.init(Recorder, .{ .log = &log });
    defer behavior.deinit();
    const target = try node.spawnRegister("target", behavior, .{});
    const owner = try node.spawn(behavior, .{});
    const forwarder = try node.spawnForwarder(owner, "target");

    // Through the forwarder: a USER from no process, with the forwarder's alias.
    try node.sendMeta(forwarder, 7, "via forwarder");
    try log.waitFor(.user, 1);
    var users: [1]Event = undefined;
    const user = firstOf(&log, .user, &users);
    try testing.expectEqual(target, user.pid);
    try testing.expectEqual(actnet.Pid.none, user.from);
    try testing.expectEqual(forwarder, user.alias);
    try testing.expectEqual(@as(u64, 7), user.tag);
    try testing.expectEqualStrings("via forwarder", user.data());

    const info = try node.inspectMeta(forwarder);
    defer info.deinit();
    try testing.expectEqualStrings("forwarder", info.get("kind").?);
    try testing.expectEqualStrings("1", info.get("forwarded").?);

    // The types keep pids and aliases apart; a value moved from one to the other by hand
    // is refused by the library.
    const as_pid: actnet.Pid = .{ .id = forwarder.id };
    const as_alias: actnet.Alias = .{ .id = target.id };
    try testing.expectError(error.WrongKind, node.send(as_pid, 1, ""));
    try testing.expectError(error.WrongKind, node.inspect(as_pid));
    try testing.expectError(error.WrongKind, node.monitor(owner, as_pid));
    try testing.expectError(error.WrongKind, node.sendMeta(as_alias, 1, ""));
    try testing.expectError(error.WrongKind, node.inspectMeta(as_alias));
    try testing.expectError(error.WrongKind, node.write(as_alias, "x"));
    try testing.expectError(error.WrongKind, node.terminate(as_alias));

    // A DOWN about a meta-process names it as such.
    const reference = try node.monitorMeta(target, forwarder);
    try node.terminate(forwarder);
    try log.waitFor(.down, 1);
    var downs: [1]Event = undefined;
    const down = firstOf(&log, .down, &downs);
    try testing.expectEqual(target, down.pid);
    try testing.expectEqual(forwarder, down.alias);
    try testing.expectEqual(actnet.Pid.none, down.from);
    try testing.expectError(error.NotFound, node.demonitor(target, reference)); // already fired
    try testing.expectError(error.NotFound, node.sendMeta(forwarder, 1, ""));
}

// ---- TCP ----------------------------------------------------------------------------------------

/// Frames with a 4-byte big-endian payload length, then the payload.
fn appendFrame(out: []u8, pos: *usize, payload_len: usize, seed: u8) void {
    std.mem.writeInt(u32, out[pos.*..][0..4], @intCast(payload_len), .big);
    pos.* += 4;
    for (out[pos.*..][0..payload_len], 0..) |*b, k| b.* = seed +% @as(u8, @truncate(k *% 31));
    pos.* += payload_len;
}

fn setReceiveTimeout(stream: std.net.Stream, seconds: i64) !void {
    const tv: std.posix.timeval = .{ .sec = seconds, .usec = 0 };
    try std.posix.setsockopt(stream.handle, std.posix.SOL.SOCKET, std.posix.SO.RCVTIMEO, std.mem.asBytes(&tv));
}

test "echo over 127.0.0.1 with 4-byte header framing and a worker pool" {
    var log: Log = .{};
    const node = try actnet.Node.start(.{ .worker_threads = 2 });
    defer node.deinit();

    // Three workers under a supervisor, registered as tcp_worker_0..2.
    const worker = try actnet.Behavior.init(EchoWorker, .{ .log = &log });
    defer worker.deinit();
    const names = [_][*:0]const u8{ "tcp_worker_0", "tcp_worker_1", "tcp_worker_2" };
    var children: [names.len]actnet.ChildSpec = undefined;
    for (&children, names) |*child, name| child.* = .{ .name = std.mem.span(name), .behavior = worker };
    _ = try node.spawnSupervisor(testing.allocator, .{ .children = &children });

    const idle = try actnet.Behavior.init(Idle, .{});
    defer idle.deinit();
    const owner = try node.spawn(idle, .{});
    const server = try node.tcpServer(owner, .{
        .host = "127.0.0.1",
        .process_pool = &names,
        .connection = .{ .framing = .{ .header = .{ .size = 4, .length_size = 4 } }, .max_length = 1 << 20 },
    });
    try testing.expect(server.port != 0);

    // Frames of 0, 1, 1000 and 70000 payload bytes (more than one read), and 20 small ones.
    const input = try testing.allocator.alloc(u8, 4 * 24 + 71001 + 20 * 10);
    defer testing.allocator.free(input);
    var len: usize = 0;
    appendFrame(input, &len, 0, 0);
    appendFrame(input, &len, 1, 1);
    appendFrame(input, &len, 1000, 2);
    appendFrame(input, &len, 70000, 3);
    for (0..20) |k| appendFrame(input, &len, 10, @intCast(k));

    const echoed = try testing.allocator.alloc(u8, len);
    defer testing.allocator.free(echoed);

    const clients = 3;
    for (0..clients) |_| {
        const address = try std.net.Address.parseIp4("127.0.0.1", server.port);
        const stream = try std.net.tcpConnectToAddress(address);
        defer stream.close();
        try setReceiveTimeout(stream, 10);

        // Written in awkward pieces: headers split, several frames per write.
        var wbuf: [0]u8 = .{};
        var writer = stream.writer(&wbuf);
        var at: usize = 0;
        var piece: usize = 3;
        while (at < len) : (piece = piece * 7 % 9973 + 1) {
            const end = @min(len, at + piece);
            try writer.interface.writeAll(input[at..end]);
            at = end;
        }
        var rbuf: [4096]u8 = undefined;
        var reader = stream.reader(&rbuf);
        reader.interface().readSliceAll(echoed) catch |err| {
            std.debug.print("read failed: {} ({?})\n", .{ err, reader.getError() });
            return err;
        };
        try testing.expect(std.mem.eql(u8, input[0..len], echoed));
    }

    // Each connection went to another worker and ended with one DISCONNECT (peer closed).
    try log.waitFor(.disconnect, clients);
    var connects: [clients]Event = undefined;
    const got = log.ofKind(.connect, &connects);
    try testing.expectEqual(@as(usize, clients), got.len);
    for (got, 0..) |a, i| for (got[i + 1 ..]) |b| try testing.expect(!a.pid.eql(b.pid));
    var disconnects: [clients]Event = undefined;
    for (log.ofKind(.disconnect, &disconnects)) |d|
        try testing.expectEqual(actnet.DisconnectReason.peer_closed, @as(actnet.DisconnectReason, @enumFromInt(d.reason)));

    const info = try node.inspectMeta(server.alias);
    defer info.deinit();
    try testing.expectEqualStrings("tcp server", info.get("kind").?);
    try testing.expectEqualStrings("3", info.get("accepted").?);

    // An actnet client connection to the same server: a frame goes out and comes back as
    // one DATA to the client's process.
    var client_log: Log = .{};
    const recorder = try actnet.Behavior.init(ClientRecorder, .{ .log = &client_log });
    defer recorder.deinit();
    const client_owner = try node.spawn(recorder, .{});
    const conn = try node.tcpConnect(client_owner, .{
        .host = "127.0.0.1",
        .port = server.port,
        .connection = .{ .framing = .{ .header = .{} } },
    });
    try node.write(conn, "\x00\x00\x00\x05hello");
    try client_log.waitFor(.data, 1);
    var datas: [1]Event = undefined;
    try testing.expectEqualStrings("\x00\x00\x00\x05hello", firstOf(&client_log, .data, &datas).data());
    try node.terminate(conn);
    try client_log.waitFor(.disconnect, 1);
    var ends: [1]Event = undefined;
    try testing.expectEqual(
        actnet.DisconnectReason.closed,
        @as(actnet.DisconnectReason, @enumFromInt(firstOf(&client_log, .disconnect, &ends).reason)),
    );
    // Aliases are odd (the kind is the id's lowest bit): a stale-looking one is not found.
    try testing.expectError(error.NotFound, node.abort(.{ .id = 12345679 }));
}

fn firstOf(log: *Log, kind: std.meta.Tag(actnet.Message), out: []Event) Event {
    return log.ofKind(kind, out)[0];
}

/// Logs every message (a client connection's owner).
const ClientRecorder = struct {
    log: *Log,

    pub fn handleMessage(self: *ClientRecorder, process: actnet.Process, message: actnet.Message) void {
        self.log.add(eventOf(process.pid, message));
    }
};

test "connecting to a closed port gives error.ConnectionRefused" {
    // A port that was just free: bind one, note it, close it.
    const port = blk: {
        var listener = try (try std.net.Address.parseIp4("127.0.0.1", 0)).listen(.{});
        defer listener.deinit();
        break :blk listener.listen_address.getPort();
    };

    const node = try actnet.Node.start(.{ .worker_threads = 1 });
    defer node.deinit();
    const idle = try actnet.Behavior.init(Idle, .{});
    defer idle.deinit();
    const owner = try node.spawn(idle, .{});

    try testing.expectError(error.ConnectionRefused, node.tcpConnect(owner, .{
        .host = "127.0.0.1",
        .port = port,
        .connect_timeout_ms = 5000,
    }));
    // Bad options come back as errors too, before anything connects.
    try testing.expectError(error.InvalidArgument, node.tcpConnect(owner, .{
        .host = "127.0.0.1",
        .port = port,
        .connection = .{ .framing = .{ .header = .{ .size = 4, .length_size = 3 } } },
    }));
}
