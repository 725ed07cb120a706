//! echo_server: a TCP echo server with header framing and a worker pool, in Zig.
//!
//!   echo_server [--host H] [--port P] [--workers N] [--header SIZE,POS,LENSIZE[,incl]]
//!               [--max-length N] [--threads N]
//!
//! The first line on stdout is "listening on ADDR:PORT". Incoming bytes are cut into frames
//! by a length header (default 4,0,4: a 4-byte big-endian payload length, then the payload)
//! and every frame is echoed unchanged, header included, to the connection it came from.
//! N workers (default 2) registered as tcp_worker_0..N-1 run under a supervisor and get the
//! connections round-robin; with --workers 0 the server's owner, registered as "echo",
//! handles them. SIGINT or SIGTERM stops the node cleanly (exit 0).

const std = @import("std");
const actnet = @import("actnet");

const max_workers = 64;

const Config = struct {
    host: [:0]const u8 = "127.0.0.1",
    port: u16 = 0,
    workers: usize = 2,
    threads: u32 = 0,
    header: actnet.Framing.Header = .{ .size = 4, .length_position = 0, .length_size = 4 },
    max_length: u31 = 0,
};

/// Every process of the server runs this: echo each frame back to its connection.
const Echo = struct {
    pub fn handleMessage(_: *Echo, process: actnet.Process, message: actnet.Message) void {
        switch (message) {
            .data => |frame| process.node.write(frame.alias, frame.bytes) catch |err| switch (err) {
                // The peer stopped reading and its write queue is full: what is queued could
                // never be flushed, so reset the connection.
                error.WouldBlock => {
                    std.debug.print("echo_server: connection {d} is not reading; dropping it\n", .{frame.alias.id});
                    process.node.abort(frame.alias) catch {};
                },
                // The connection is already closing: nothing to do.
                else => {},
            },
            else => {},
        }
    }
};

pub fn main() !void {
    const config = parseArgs() catch |err| {
        std.debug.print(
            "echo_server: {s}\nusage: echo_server [--host H] [--port P] [--workers N] " ++
                "[--header SIZE,POS,LENSIZE[,incl]] [--max-length N] [--threads N]\n",
            .{@errorName(err)},
        );
        std.process.exit(2);
    };

    // Block SIGINT/SIGTERM before the runtime's threads start, so they inherit the mask and
    // only the main thread takes the signal (with sigwait).
    var stop_signals = std.posix.sigemptyset();
    std.posix.sigaddset(&stop_signals, std.posix.SIG.INT);
    std.posix.sigaddset(&stop_signals, std.posix.SIG.TERM);
    std.posix.sigprocmask(std.posix.SIG.BLOCK, &stop_signals, null);

    const node = try actnet.Node.start(.{ .worker_threads = config.threads });
    defer node.deinit();
    const behavior = try actnet.Behavior.init(Echo, .{});

    // The workers first, under a supervisor, so the pool's names exist when clients arrive.
    var name_bufs: [max_workers][24]u8 = undefined;
    var names: [max_workers][*:0]const u8 = undefined;
    var children: [max_workers]actnet.ChildSpec = undefined;
    for (0..config.workers) |i| {
        const name = try std.fmt.bufPrintZ(&name_bufs[i], "tcp_worker_{d}", .{i});
        names[i] = name.ptr;
        children[i] = .{ .name = name, .behavior = behavior };
    }
    if (config.workers > 0)
        _ = try node.spawnSupervisor(std.heap.c_allocator, .{ .children = children[0..config.workers] });

    const owner = try node.spawnRegister("echo", behavior, .{});
    behavior.deinit(); // the processes keep their own references

    const server = node.tcpServer(owner, .{
        .host = config.host,
        .port = config.port,
        .process_pool = names[0..config.workers],
        .connection = .{ .framing = .{ .header = config.header }, .max_length = config.max_length },
    }) catch |err| {
        std.debug.print("echo_server: cannot listen on {s}:{d}: {s}\n", .{ config.host, config.port, @errorName(err) });
        std.process.exit(1);
    };

    var buf: [128]u8 = undefined;
    var stdout = std.fs.File.stdout().writer(&buf);
    try stdout.interface.print("listening on {s}:{d}\n", .{ config.host, server.port });
    try stdout.interface.flush();

    var signal: c_int = 0;
    _ = std.c.sigwait(&stop_signals, &signal);
    try node.stop();
}

fn parseArgs() !Config {
    var config: Config = .{};
    var args = std.process.args();
    _ = args.skip();
    while (args.next()) |arg| {
        const value = args.next() orelse return error.MissingValue;
        if (std.mem.eql(u8, arg, "--host")) {
            config.host = value;
        } else if (std.mem.eql(u8, arg, "--port")) {
            config.port = try std.fmt.parseInt(u16, value, 10);
        } else if (std.mem.eql(u8, arg, "--workers")) {
            config.workers = try std.fmt.parseInt(usize, value, 10);
            if (config.workers > max_workers) return error.TooManyWorkers;
        } else if (std.mem.eql(u8, arg, "--threads")) {
            config.threads = try std.fmt.parseInt(u32, value, 10);
        } else if (std.mem.eql(u8, arg, "--max-length")) {
            config.max_length = try std.fmt.parseInt(u31, value, 10);
        } else if (std.mem.eql(u8, arg, "--header")) {
            var fields = std.mem.splitScalar(u8, value, ',');
            config.header.size = try std.fmt.parseInt(u31, fields.next() orelse "", 10);
            config.header.length_position = try std.fmt.parseInt(u31, fields.next() orelse "", 10);
            config.header.length_size = try std.fmt.parseInt(u31, fields.next() orelse "", 10);
            if (fields.next()) |flag| {
                if (!std.mem.eql(u8, flag, "incl")) return error.BadHeader;
                config.header.includes_header = true;
            }
        } else {
            return error.UnknownOption;
        }
    }
    return config;
}
