// FUSE passthrough (the default for a root mount on this kernel): the kernel reads, writes and maps regular
// files on their backing files and the daemon sees none of that traffic; with -o passthrough=off it does.
// Either way the bytes are the backing file's.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

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
