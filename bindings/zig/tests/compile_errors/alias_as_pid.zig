//! Must not compile: an `Alias` where a `Pid` is expected. `zig build test` checks that the
//! compiler refuses it with the error build.zig names.
const actnet = @import("actnet");

pub fn main() !void {
    const node = try actnet.Node.start(.{});
    defer node.deinit();
    const forwarder: actnet.Alias = .none;
    try node.send(forwarder, 1, "a process id is expected here");
}
