// FUSE passthrough (the default for a root mount on this kernel): the kernel reads, writes and maps regular
// files on their backing files and the daemon sees none of that traffic; with -o passthrough=off it does.
// Either way the bytes are the backing file's.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "parity_env.hpp"

namespace fastfs::test {
namespace {

constexpr size_t kFileBytes = 16u << 20;

std::string pattern(size_t size) {
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i)
        data[i] = char('a' + (i * 7 + i / 4096) % 26);
    return data;
}

// Writes, reads back with read(2) and through a mapping, and returns what the backing file holds.
std::string write_and_read_back(const fs::path& file, const std::string& data) {
    int fd = ::open(file.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::pwrite(fd, data.data(), data.size(), 0), ssize_t(data.size()));
    std::string back(data.size(), '\0');
    EXPECT_EQ(::pread(fd, back.data(), back.size(), 0), ssize_t(back.size()));
    EXPECT_EQ(back, data);
    void* map = ::mmap(nullptr, data.size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    EXPECT_NE(map, MAP_FAILED);
    if (map != MAP_FAILED) {
        EXPECT_EQ(std::memcmp(map, data.data(), data.size()), 0);
        std::memcpy(static_cast<char*>(map) + 8192, "mapped!", 7);  // through the mapping...
        ::munmap(map, data.size());
    }
    char seen[7] = {};
    EXPECT_EQ(::pread(fd, seen, sizeof(seen), 8192), 7);  // ...seen by read(2) at once
    EXPECT_EQ(std::string(seen, 7), "mapped!");
    ::fsync(fd);
    ::close(fd);
    return read_file(file);
}

uint64_t counter(MountedBacking& env, const char* name) {
    auto value = mount_counter(env.mount->path(), name);
    EXPECT_TRUE(value) << name;
    return value.value_or(0);
}

class Passthrough : public ::testing::TestWithParam<FsType> {};

TEST_P(Passthrough, FileDataNeverReachesTheDaemon) {
    auto& env = shared_mount(GetParam(), {"-o", "passthrough=on"});
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dirs = make_case_dirs(env, "passthrough-on");
    uint64_t reads = counter(env, "read_requests"), writes = counter(env, "write_requests");
    uint64_t opens = counter(env, "passthrough_opens");
    std::string data = pattern(kFileBytes);
    std::string on_backing = write_and_read_back(dirs.via_mount / "f", data);
    data.replace(8192, 7, "mapped!");
    EXPECT_EQ(on_backing.size(), data.size());
    EXPECT_TRUE(on_backing == data) << "the backing file does not hold what was written";
    EXPECT_EQ(counter(env, "read_requests"), reads);
    EXPECT_EQ(counter(env, "write_requests"), writes);
    EXPECT_GT(counter(env, "passthrough_opens"), opens);
    EXPECT_EQ(counter(env, "passthrough_refused"), 0u);
}

TEST_P(Passthrough, OffSendsFileDataThroughTheDaemon) {
    auto& env = shared_mount(GetParam(), {"-o", "passthrough=off"});
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dirs = make_case_dirs(env, "passthrough-off");
    uint64_t writes = counter(env, "write_requests");
    std::string data = pattern(kFileBytes);
    std::string on_backing = write_and_read_back(dirs.via_mount / "f", data);
    data.replace(8192, 7, "mapped!");
    EXPECT_TRUE(on_backing == data) << "the backing file does not hold what was written";
    EXPECT_GT(counter(env, "write_requests"), writes);
    EXPECT_EQ(counter(env, "passthrough_opens"), 0u);
}

// What still reaches the daemon on a passthrough file (fallocate, truncate, a copy) changes the bytes under
// another process's mapping, and that process sees it at once, as natively; so does a plain write.
void expect_a_mapping_follows_changes(MountedBacking& env, const std::string& case_name) {
    constexpr size_t kSize = 1u << 20, kHole = 256u << 10, kHoleBytes = 128u << 10, kCut = 512u << 10;
    auto dirs = make_case_dirs(env, case_name);
    const fs::path file = dirs.via_mount / "mapped", copy = dirs.via_mount / "copy";
    const std::string data = pattern(kSize);
    int writer = ::open(file.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
    ASSERT_GE(writer, 0) << std::strerror(errno);
    ASSERT_EQ(::pwrite(writer, data.data(), kSize, 0), ssize_t(kSize));
    int reader = ::open(file.c_str(), O_RDONLY);
    ASSERT_GE(reader, 0) << std::strerror(errno);
    auto* map = static_cast<const char*>(::mmap(nullptr, kSize, PROT_READ, MAP_SHARED, reader, 0));
    ASSERT_NE(map, MAP_FAILED) << std::strerror(errno);
    auto mapped = [&](size_t from, size_t bytes) { return std::string(map + from, bytes); };
    EXPECT_TRUE(mapped(0, kSize) == data);

    ASSERT_EQ(::fallocate(writer, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, kHole, kHoleBytes), 0)
        << std::strerror(errno);
    EXPECT_EQ(mapped(kHole, kHoleBytes), std::string(kHoleBytes, '\0')) << "punched range still mapped";
    EXPECT_EQ(mapped(0, kHole), data.substr(0, kHole));
    EXPECT_EQ(::lseek(reader, 0, SEEK_HOLE), off_t(kHole));

    ASSERT_EQ(::ftruncate(writer, kCut), 0);  // cut, then grown back: the tail reads as zeros
    ASSERT_EQ(::ftruncate(writer, kSize), 0);
    EXPECT_EQ(mapped(kCut, kSize - kCut), std::string(kSize - kCut, '\0')) << "cut tail still mapped";

    ASSERT_EQ(::pwrite(writer, "fresh", 5, kCut + 4096), 5);
    EXPECT_EQ(mapped(kCut + 4096, 5), "fresh");
    EXPECT_EQ(::lseek(reader, kCut, SEEK_DATA), off_t(kCut + 4096)) << "SEEK_DATA missed a write just made";

    int target = ::open(copy.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    ASSERT_GE(target, 0);
    loff_t in = 0, out = 0;
    size_t copied = 0;
    while (copied < kSize) {
        ssize_t n = ::copy_file_range(writer, &in, target, &out, kSize - copied, 0);
        ASSERT_GT(n, 0) << std::strerror(errno);
        copied += size_t(n);
    }
    ::close(target);
    EXPECT_TRUE(read_file(copy) == mapped(0, kSize)) << "a copy made right after the changes differs";
    ::munmap(const_cast<char*>(map), kSize);
    ::close(reader);
    ::close(writer);
}

TEST_P(Passthrough, AMappingFollowsWhatStillReachesTheDaemon) {
    auto& env = shared_mount(GetParam(), {"-o", "passthrough=on"});
    FASTFS_REQUIRE(env.ready(), env.why);
    uint64_t opens = counter(env, "passthrough_opens");
    expect_a_mapping_follows_changes(env, "passthrough-on-mapped");
    EXPECT_GT(counter(env, "passthrough_opens"), opens) << "the files were not opened in passthrough";
}

TEST_P(Passthrough, AMappingFollowsChangesWithPassthroughOff) {
    auto& env = shared_mount(GetParam(), {"-o", "passthrough=off"});
    FASTFS_REQUIRE(env.ready(), env.why);
    expect_a_mapping_follows_changes(env, "passthrough-off-mapped");
}

// read_bytes counts what reads delivered, not what the kernel asked for: a direct read of 64 KiB from a file
// of 10 bytes is one READ of 64 KiB that delivers 10 (O_DIRECT: the page cache cannot answer it).
TEST_P(Passthrough, OffCountsTheBytesReadsDeliver) {
    auto& env = shared_mount(GetParam(), {"-o", "passthrough=off"});
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dirs = make_case_dirs(env, "read-bytes");
    write_file(dirs.via_mount / "short", "ten bytes!");
    uint64_t requests = counter(env, "read_requests"), bytes = counter(env, "read_bytes");
    int fd = ::open((dirs.via_mount / "short").c_str(), O_RDONLY | O_DIRECT);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    alignas(4096) static char buffer[64 * 1024];
    EXPECT_EQ(::pread(fd, buffer, sizeof(buffer), 0), 10);
    ::close(fd);
    EXPECT_GT(counter(env, "read_requests"), requests);
    EXPECT_EQ(counter(env, "read_bytes") - bytes, 10u);
}

INSTANTIATE_TEST_SUITE_P(Filesystems, Passthrough,
                         ::testing::Values(FsType::xfs, FsType::ext4, FsType::btrfs),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

}  // namespace
}  // namespace fastfs::test
