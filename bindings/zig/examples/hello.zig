const std = @import("std");
const actnet = @import("actnet");

// A behaviour: each process gets its own Greeter; handleMessage runs on a runtime thread.
const Greeter = struct {
    pub fn handleMessage(_: *Greeter, process: actnet.Process, message: actnet.Message) void {
        if (message == .user) std.debug.print("process {d} got tag {d}: {s}\n", .{
            process.pid.id, message.user.tag, message.user.bytes,
        });
    }
};

pub fn main() !void {
    const node = try actnet.Node.start(.{});
    defer node.deinit(); // frees the node (stopping it first if an error skipped the stop)
    const behavior = try actnet.Behavior.init(Greeter, .{});
    const pid = try node.spawn(behavior, .{});
    behavior.deinit(); // the process keeps its own reference
    try node.send(pid, 1, "hello");
    try node.stop(); // each process handles the messages already in its mailbox first
}
