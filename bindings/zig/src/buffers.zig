//! Buffers the caller holds and the pools they come from.

const c = @import("actnet_c");
const status = @import("status.zig");
const Error = status.Error;
const check = status.check;

/// A buffer the caller holds (from a pool, a DATA message or a call's reply).
pub const Buf = struct {
    handle: *c.actnet_buf,

    /// The content (valid while the buffer is held).
    pub fn bytes(self: Buf) []u8 {
        const len = c.actnet_buf_len(self.handle);
        if (len == 0) return &.{};
        return c.actnet_buf_data(self.handle)[0..len];
    }

    /// All the memory, to fill before `setLen`.
    pub fn memory(self: Buf) []u8 {
        const cap = c.actnet_buf_capacity(self.handle);
        if (cap == 0) return &.{};
        return c.actnet_buf_data(self.handle)[0..cap];
    }

    pub fn setLen(self: Buf, len: usize) Error!void {
        return check(c.actnet_buf_set_len(self.handle, len));
    }

    /// Returns the buffer to its pool. `error.DoubleFree` if it is no longer held.
    pub fn free(self: Buf) Error!void {
        return check(c.actnet_buf_free(self.handle));
    }
};

/// A pool of buffers, for `ConnectionOptions.read_buffer_pool`.
pub const Pool = struct {
    handle: *c.actnet_pool,

    pub fn init(buffer_size: usize, max_idle: usize) Error!Pool {
        var p: ?*c.actnet_pool = null;
        try check(c.actnet_pool_new(buffer_size, max_idle, &p));
        return .{ .handle = p.? };
    }

    /// Releases this reference; servers, connections and buffers keep the pool alive.
    pub fn deinit(self: Pool) void {
        _ = c.actnet_pool_free(self.handle);
    }

    pub fn get(self: Pool) Error!Buf {
        var b: ?*c.actnet_buf = null;
        try check(c.actnet_pool_get(self.handle, &b));
        return .{ .handle = b.? };
    }
};
