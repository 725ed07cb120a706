//! Builds the Zig binding of actnet: the `actnet` module (src/actnet.zig over the C API,
//! translated from actnet.h by the build system's translate-c step), the examples, and
//! the tests.
//!
//!   zig build test [-Dactnet-lib=DIR] [-Dactnet-include=DIR]   run the tests
//!   zig build [--prefix P]                                     install the examples in P/bin
//!
//! DIR defaults to the CMake build tree of this repository (build/default/cargo/debug for
//! libactnet.so, include/ for actnet.h); point them at an installed prefix's lib/ and
//! include/ to use that instead. Executables get DIR as their RPATH.

const std = @import("std");
const builtin = @import("builtin");

comptime {
    // Written for Zig 0.15 (the Io and build APIs change between minor versions).
    if (builtin.zig_version.major != 0 or builtin.zig_version.minor != 15)
        @compileError("actnet's Zig binding needs Zig 0.15.x (tested with 0.15.2: " ++
            "python3 -m pip install ziglang==0.15.2), not " ++ builtin.zig_version_string);
}

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});

    const lib_dir = lazyDir(b, b.option(
        []const u8,
        "actnet-lib",
        "Directory holding libactnet.so (default: ../../build/default/cargo/debug)",
    ), "../../build/default/cargo/debug");
    const include_dir = lazyDir(b, b.option(
        []const u8,
        "actnet-include",
        "Directory holding actnet.h (default: ../../include)",
    ), "../../include");

    // actnet.h as a Zig module, made by the build system's C translation step.
    const translate = b.addTranslateC(.{
        .root_source_file = include_dir.path(b, "actnet.h"),
        .target = target,
        .optimize = optimize,
    });
    translate.addIncludePath(include_dir);
    const c_module = translate.createModule();

    // The wrapper; anything importing it links libactnet (dynamically, found through RPATH).
    const actnet = b.addModule("actnet", .{
        .root_source_file = b.path("src/actnet.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .imports = &.{.{ .name = "actnet_c", .module = c_module }},
    });
    actnet.addLibraryPath(lib_dir);
    actnet.addRPath(lib_dir);
    actnet.linkSystemLibrary("actnet", .{ .use_pkg_config = .no, .preferred_link_mode = .dynamic });

    // Examples: installed by `zig build`, and compiled (hello also run) by `zig build test`.
    const test_step = b.step("test", "Run the binding's tests (needs libactnet built)");
    const examples = [_][]const u8{ "hello", "echo_server" };
    var hello_exe: ?*std.Build.Step.Compile = null;
    for (examples) |name| {
        const exe = b.addExecutable(.{
            .name = name,
            .root_module = b.createModule(.{
                .root_source_file = b.path(b.fmt("examples/{s}.zig", .{name})),
                .target = target,
                .optimize = optimize,
                .imports = &.{.{ .name = "actnet", .module = actnet }},
            }),
        });
        b.installArtifact(exe);
        test_step.dependOn(&exe.step);
        if (std.mem.eql(u8, name, "hello")) hello_exe = exe;
    }

    // The README's example runs and prints what it says.
    const run_hello = b.addRunArtifact(hello_exe.?);
    run_hello.addCheck(.{ .expect_stderr_match = "got tag 1: hello\n" });
    run_hello.has_side_effects = true; // always run: libactnet may have changed
    test_step.dependOn(&run_hello.step);

    // Unit tests of the wrapper (status mapping) and the tests against a running node.
    const unit_tests = b.addTest(.{ .name = "actnet-unit", .root_module = actnet });
    test_step.dependOn(&b.addRunArtifact(unit_tests).step);

    const node_tests = b.addTest(.{
        .name = "actnet-test",
        .root_module = b.createModule(.{
            .root_source_file = b.path("tests/actnet_test.zig"),
            .target = target,
            .optimize = optimize,
            .imports = &.{.{ .name = "actnet", .module = actnet }},
        }),
    });
    test_step.dependOn(&b.addRunArtifact(node_tests).step);

    // Ids of one kind where the other is expected do not compile: these programs must fail
    // with exactly this error.
    const wrong_kind = [_]struct { name: []const u8, err: []const u8 }{
        .{ .name = "alias_as_pid", .err = "error: expected type 'actnet.Pid', found 'actnet.Alias'" },
        .{ .name = "pid_as_alias", .err = "error: expected type 'actnet.Alias', found 'actnet.Pid'" },
    };
    for (wrong_kind) |case| {
        const exe = b.addExecutable(.{
            .name = case.name,
            .root_module = b.createModule(.{
                .root_source_file = b.path(b.fmt("tests/compile_errors/{s}.zig", .{case.name})),
                .target = target,
                .optimize = optimize,
                .imports = &.{.{ .name = "actnet", .module = actnet }},
            }),
        });
        exe.expect_errors = .{ .contains = case.err };
        test_step.dependOn(&exe.step);
    }

    // The sources are as `zig fmt` writes them.
    test_step.dependOn(&b.addFmt(.{ .paths = &.{ "build.zig", "build.zig.zon", "src", "examples", "tests" }, .check = true }).step);
}

/// A directory given on the command line (absolute, or relative to the current directory),
/// or a default relative to this build.zig.
fn lazyDir(b: *std.Build, given: ?[]const u8, default: []const u8) std.Build.LazyPath {
    if (given) |dir| return .{ .cwd_relative = dir };
    return b.path(default);
}
