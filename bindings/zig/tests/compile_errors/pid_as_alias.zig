//! Must not compile: a `Pid` where an `Alias` is expected. `zig build test` checks that the
//! compiler refuses it with the error build.zig names.
const actnet = @import("actnet");

pub fn main() !void {
    const node = try actnet.Node.start(.{});
    defer node.deinit();
    const process: actnet.Pid = .none;
    try node.write(process, "a connection's alias is expected here");
}
