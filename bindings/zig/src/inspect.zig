//! What `Node.inspect` and `Node.inspectMeta` return.

const std = @import("std");
const c = @import("actnet_c");

/// The result of `Node.inspect`: ordered key/value strings, owned by it until `deinit`.
pub const Info = struct {
    handle: *c.actnet_info,

    pub fn deinit(self: Info) void {
        _ = c.actnet_info_free(self.handle);
    }

    pub fn get(self: Info, name: [:0]const u8) ?[:0]const u8 {
        return optSpan(c.actnet_info_get(self.handle, name.ptr));
    }

    pub fn count(self: Info) usize {
        return c.actnet_info_count(self.handle);
    }

    pub fn key(self: Info, index: usize) ?[:0]const u8 {
        return optSpan(c.actnet_info_key(self.handle, index));
    }

    pub fn value(self: Info, index: usize) ?[:0]const u8 {
        return optSpan(c.actnet_info_value(self.handle, index));
    }
};

fn optSpan(p: [*c]const u8) ?[:0]const u8 {
    return if (p == null) null else std.mem.span(@as([*:0]const u8, p));
}
