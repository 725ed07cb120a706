//! Errors: one `Error` member per `actnet_status`, and the mappings between the two.

const std = @import("std");
const c = @import("actnet_c");

/// One member per `actnet_status` other than OK (same order, same meaning: see actnet.h),
/// plus `Unknown` for a code this binding does not know.
pub const Error = error{
    NullArgument,
    InvalidArgument,
    StructSize,
    NotFound,
    MailboxFull,
    Timeout,
    NameTaken,
    NodeStopping,
    WrongContext,
    InitFailed,
    Unsupported,
    WouldBlock,
    AddressInUse,
    ConnectionRefused,
    HostUnreachable,
    DnsFailure,
    IoError,
    DoubleFree,
    Closed,
    TlsError,
    CertificateInvalid,
    BadCertificate,
    Panic,
    WrongKind,
    Unknown,
};

/// Turns an `actnet_status` into `void` (OK) or its `Error` member.
pub fn check(status: c.actnet_status) Error!void {
    return switch (status) {
        c.ACTNET_STATUS_OK => {},
        c.ACTNET_STATUS_NULL_ARGUMENT => error.NullArgument,
        c.ACTNET_STATUS_INVALID_ARGUMENT => error.InvalidArgument,
        c.ACTNET_STATUS_STRUCT_SIZE => error.StructSize,
        c.ACTNET_STATUS_NOT_FOUND => error.NotFound,
        c.ACTNET_STATUS_MAILBOX_FULL => error.MailboxFull,
        c.ACTNET_STATUS_TIMEOUT => error.Timeout,
        c.ACTNET_STATUS_NAME_TAKEN => error.NameTaken,
        c.ACTNET_STATUS_NODE_STOPPING => error.NodeStopping,
        c.ACTNET_STATUS_WRONG_CONTEXT => error.WrongContext,
        c.ACTNET_STATUS_INIT_FAILED => error.InitFailed,
        c.ACTNET_STATUS_UNSUPPORTED => error.Unsupported,
        c.ACTNET_STATUS_WOULD_BLOCK => error.WouldBlock,
        c.ACTNET_STATUS_ADDRESS_IN_USE => error.AddressInUse,
        c.ACTNET_STATUS_CONNECTION_REFUSED => error.ConnectionRefused,
        c.ACTNET_STATUS_HOST_UNREACHABLE => error.HostUnreachable,
        c.ACTNET_STATUS_DNS_FAILURE => error.DnsFailure,
        c.ACTNET_STATUS_IO_ERROR => error.IoError,
        c.ACTNET_STATUS_DOUBLE_FREE => error.DoubleFree,
        c.ACTNET_STATUS_CLOSED => error.Closed,
        c.ACTNET_STATUS_TLS_ERROR => error.TlsError,
        c.ACTNET_STATUS_CERTIFICATE_INVALID => error.CertificateInvalid,
        c.ACTNET_STATUS_BAD_CERTIFICATE => error.BadCertificate,
        c.ACTNET_STATUS_PANIC => error.Panic,
        c.ACTNET_STATUS_WRONG_KIND => error.WrongKind,
        else => error.Unknown,
    };
}

/// The `actnet_status` of an `Error` member (`Unknown` has none and gives `maxInt(u32)`).
pub fn statusOf(err: Error) c.actnet_status {
    return switch (err) {
        error.NullArgument => c.ACTNET_STATUS_NULL_ARGUMENT,
        error.InvalidArgument => c.ACTNET_STATUS_INVALID_ARGUMENT,
        error.StructSize => c.ACTNET_STATUS_STRUCT_SIZE,
        error.NotFound => c.ACTNET_STATUS_NOT_FOUND,
        error.MailboxFull => c.ACTNET_STATUS_MAILBOX_FULL,
        error.Timeout => c.ACTNET_STATUS_TIMEOUT,
        error.NameTaken => c.ACTNET_STATUS_NAME_TAKEN,
        error.NodeStopping => c.ACTNET_STATUS_NODE_STOPPING,
        error.WrongContext => c.ACTNET_STATUS_WRONG_CONTEXT,
        error.InitFailed => c.ACTNET_STATUS_INIT_FAILED,
        error.Unsupported => c.ACTNET_STATUS_UNSUPPORTED,
        error.WouldBlock => c.ACTNET_STATUS_WOULD_BLOCK,
        error.AddressInUse => c.ACTNET_STATUS_ADDRESS_IN_USE,
        error.ConnectionRefused => c.ACTNET_STATUS_CONNECTION_REFUSED,
        error.HostUnreachable => c.ACTNET_STATUS_HOST_UNREACHABLE,
        error.DnsFailure => c.ACTNET_STATUS_DNS_FAILURE,
        error.IoError => c.ACTNET_STATUS_IO_ERROR,
        error.DoubleFree => c.ACTNET_STATUS_DOUBLE_FREE,
        error.Closed => c.ACTNET_STATUS_CLOSED,
        error.TlsError => c.ACTNET_STATUS_TLS_ERROR,
        error.CertificateInvalid => c.ACTNET_STATUS_CERTIFICATE_INVALID,
        error.BadCertificate => c.ACTNET_STATUS_BAD_CERTIFICATE,
        error.Panic => c.ACTNET_STATUS_PANIC,
        error.WrongKind => c.ACTNET_STATUS_WRONG_KIND,
        error.Unknown => std.math.maxInt(u32),
    };
}

/// The library's description of a status code (static).
pub fn statusString(status: c.actnet_status) [:0]const u8 {
    return std.mem.span(c.actnet_status_str(status));
}

/// The exit code a handler's error becomes (`@intFromError`, never 0): it is the
/// `reason_code` monitors see in DOWN.
pub fn errorCode(err: anyerror) i32 {
    return @intCast(@intFromError(err));
}

test "every actnet_status of the header has its own Error member" {
    @setEvalBranchQuota(1_000_000);
    const members = @typeInfo(Error).error_set.?.len; // every status but OK, plus Unknown
    var seen = std.StaticBitSet(members).initEmpty();
    inline for (@typeInfo(c).@"struct".decls) |decl| {
        if (comptime std.mem.startsWith(u8, decl.name, "ACTNET_STATUS_")) {
            const code: u32 = @field(c, decl.name);
            if (code == 0) {
                try check(code);
            } else {
                const err = if (check(code)) |_| unreachable else |e| e;
                try std.testing.expect(err != error.Unknown);
                try std.testing.expectEqual(code, statusOf(err));
                // CONNECTION_REFUSED -> ConnectionRefused: the names match, modulo case.
                var buf: [64]u8 = undefined;
                var n: usize = 0;
                var upper = true;
                for (decl.name["ACTNET_STATUS_".len..]) |ch| {
                    if (ch == '_') {
                        upper = true;
                        continue;
                    }
                    buf[n] = if (upper) ch else std.ascii.toLower(ch);
                    upper = false;
                    n += 1;
                }
                try std.testing.expectEqualStrings(buf[0..n], @errorName(err));
            }
            try std.testing.expect(!seen.isSet(code));
            seen.set(code);
        }
    }
    try std.testing.expectEqual(members, seen.count());
    try std.testing.expectError(error.Unknown, check(9999));
    try std.testing.expect(statusString(c.ACTNET_STATUS_CONNECTION_REFUSED).len > 0);
}
