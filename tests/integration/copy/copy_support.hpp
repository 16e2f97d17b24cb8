// Helpers for the copy-offload integration tests: real clients (cp, python os.copy_file_range, the fastfs
// tools) run against a real fastfs mount, and byte-exact checks on the mount and on the backing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parity_env.hpp"

namespace fastfs::test::copy_it {

// Test names for suites parameterized by filesystem type: "xfs", "ext4", ...
std::string fs_type_name(const ::testing::TestParamInfo<FsType>& param_info);

// A fresh directory for one case in the shared mount of `type`, both as seen through the mount and on the
// backing filesystem (the same directory).
struct CaseDir {
    fs::path via_mount;
    fs::path on_backing;
    fs::path mount_root;  // the fastfs mountpoint, for `fastfs stats`
};
CaseDir make_case(MountedBacking& env, const std::string& name);
CaseDir make_case(const FastfsMount& mount, const fs::path& backing, const std::string& name);

// Deterministic pseudo-random bytes: different seeds give different content, so a misplaced range shows.
std::string pattern_bytes(size_t size, uint64_t seed);

// pwrite of `data` at `offset`; the file is created if missing and never truncated. Asserts on failure.
void write_at(const fs::path& path, uint64_t offset, std::string_view data);
// Up to `length` bytes at `offset` (fewer at EOF).
std::string read_at(const fs::path& path, uint64_t offset, size_t length);
uint64_t apparent_size(const fs::path& path);

// Byte equality with a short message (first differing offset) instead of a megabyte-long diff.
::testing::AssertionResult same_bytes(const std::string& actual, const std::string& expected);
bool all_zero(const std::string& bytes);

std::string quote(const std::string& text);
std::string sha256_of(const fs::path& path);

// `fastfs ARGS` with the built binary.
CommandResult fastfs_tool(const std::string& args);
// One counter of `fastfs stats MOUNT --json` (read loosely: "name": number), nullopt if absent/failed.
std::optional<uint64_t> stats_counter(const fs::path& mount_root, std::string_view name);

// What cfr.py (python os.copy_file_range) reported.
struct PythonCopy {
    bool ok = false;         // no call failed
    uint64_t copied = 0;     // bytes copied (before the failure, if one)
    uint64_t calls = 0;      // copy_file_range calls made (when none failed)
    std::string error_name;  // e.g. "ENOSPC" when a call failed
    std::string output;
};
struct CopyRange {
    uint64_t off_in = 0;
    uint64_t off_out = 0;
    int64_t length = -1;  // -1: the source's size
    bool loop = false;    // call again after a short count, like cp
};
PythonCopy python_copy(const fs::path& src, const fs::path& dst, const CopyRange& range);

// Whether one FUSE COPY_FILE_RANGE request can copy more than 4 GiB: the kernel sends COPY_FILE_RANGE_64
// (6.18 and later) and the libfuse fastfs is built with answers it (3.18 and later). Otherwise a request
// copies at most a page below 4 GiB and the application calls again for the rest.
bool copy_requests_are_64_bit();

}  // namespace fastfs::test::copy_it
