// Helpers for the copy engine suites: files on real loop-mounted filesystems, contents modelled in
// memory, and checks that read the destination back.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "fastfs/copy/engine.hpp"
#include "fastfs/sys/syscalls.hpp"
#include "fastfs/sys/unique_fd.hpp"
#include "gtest_support.hpp"

namespace fastfs::copy::testing {

using fastfs::test::FsType;
using fastfs::test::LoopFilesystem;
namespace fs = std::filesystem;

inline constexpr uint64_t KiB = 1024;
inline constexpr uint64_t MiB = 1024 * KiB;
inline constexpr uint64_t GiB = 1024 * MiB;

// Deterministic noise, so a failure reproduces.
inline std::string random_bytes(size_t len, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string out(len, '\0');
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t word = rng();
        std::memcpy(out.data() + i, &word, 8);
    }
    for (; i < len; ++i)
        out[i] = char(rng());
    return out;
}

inline sys::UniqueFd open_file(const fs::path& path, int flags = O_RDWR | O_CREAT) {
    auto fd = sys::open_at(AT_FDCWD, path.c_str(), flags, 0644);
    EXPECT_TRUE(fd.has_value()) << path << ": " << std::strerror(fd ? 0 : fd.error());
    return fd ? std::move(*fd) : sys::UniqueFd();
}

inline void write_at(int fd, off_t off, std::string_view data) {
    auto n = sys::pwrite_full(fd, data.data(), data.size(), off);
    ASSERT_TRUE(n.has_value()) << std::strerror(n.error());
    ASSERT_EQ(*n, data.size());
}

inline std::string read_at(int fd, off_t off, size_t len) {
    std::string out(len, '\0');
    auto n = sys::pread_full(fd, out.data(), len, off);
    EXPECT_TRUE(n.has_value());
    out.resize(n ? *n : 0);
    return out;
}

inline off_t size_of(int fd) {
    auto st = sys::stat_fd(fd);
    return st ? st->st_size : -1;
}

inline std::string read_all(int fd) {
    return read_at(fd, 0, size_t(size_of(fd)));
}

// Equal bytes, or where they first differ (instead of dumping megabytes of binary).
inline ::testing::AssertionResult same_bytes(const std::string& actual, const std::string& expected) {
    if (actual == expected) return ::testing::AssertionSuccess();
    size_t common = std::min(actual.size(), expected.size());
    size_t at = 0;
    while (at < common && actual[at] == expected[at])
        ++at;
    return ::testing::AssertionFailure() << "sizes " << actual.size() << " vs expected " << expected.size()
                                         << ", first difference at byte " << at;
}

// True when [off, off+len) of fd holds no data (SEEK_DATA skips past it).
inline bool is_hole(int fd, off_t off, off_t len) {
    off_t data = ::lseek(fd, off, SEEK_DATA);
    return (data < 0 && errno == ENXIO) || data >= off + len;
}

inline uint64_t report_total(const CopyReport& r) {
    return r.bytes_reflinked + r.bytes_copy_file_range + r.bytes_splice + r.bytes_read_write + r.bytes_hole;
}

// What a file holds after a copy, by the copy_file_range(2) rules, computed in memory.
inline std::string expected_after_copy(std::string dst, const std::string& src, uint64_t off_in,
                                       uint64_t off_out, uint64_t copied) {
    if (dst.size() < off_out + copied) dst.resize(off_out + copied, '\0');
    dst.replace(off_out, copied, src, off_in, copied);
    return dst;
}

// The errno of a failed result, 0 for a success.
template <typename T>
int error_of(const sys::Result<T>& result) {
    return result ? 0 : result.error();
}

inline bool shares_blocks(FsType type) {
    return type == FsType::xfs || type == FsType::btrfs;
}

// A fresh filesystem of the parameter's type for each test.
class OnEachFilesystem : public ::testing::TestWithParam<FsType> {
  protected:
    void SetUp() override {
        std::string why;
        auto created = LoopFilesystem::create(GetParam(), image_bytes(), &why);
        if (created) fs_.emplace(std::move(*created));
        FASTFS_REQUIRE(fs_, why);
    }
    virtual uint64_t image_bytes() const { return GiB; }
    fs::path path(const std::string& name) const { return fs_->path() / name; }
    FsType type() const { return GetParam(); }

    std::optional<LoopFilesystem> fs_;
    CapabilityCache caps_;
};

inline std::string fs_name(const ::testing::TestParamInfo<FsType>& info) {
    return fastfs::test::to_string(info.param);
}

#define FASTFS_ON_EACH_FILESYSTEM(suite)                                                                 \
    INSTANTIATE_TEST_SUITE_P(AllFs, suite,                                                               \
                             ::testing::Values(FsType::xfs, FsType::btrfs, FsType::ext4, FsType::tmpfs), \
                             ::fastfs::copy::testing::fs_name)

}  // namespace fastfs::copy::testing
