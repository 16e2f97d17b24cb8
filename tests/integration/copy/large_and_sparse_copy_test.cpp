// Files past 4 GiB and sparse files copied with cp inside the mount. Where the kernel sends
// COPY_FILE_RANGE_64 and libfuse answers it (kernel 6.18, libfuse 3.18), one request copies past 4 GiB;
// elsewhere the reply is 32-bit, each request stops a page below 4 GiB and the application asks again for
// the rest. A sparse file must stay sparse (holes are not read or written as zeros).
#include <sys/stat.h>

#include <iostream>

#include "copy_support.hpp"

namespace fastfs::test::copy_it {
namespace {

constexpr uint64_t kKiB = 1ull << 10;
constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;
// Where a 32-bit request stops (a page below 4 GiB): data must cross it intact either way.
constexpr uint64_t kRequestCut = 0xFFFFF000ull;

struct Region {
    uint64_t offset;
    uint64_t length;
};

void write_regions(const fs::path& file, const std::vector<Region>& regions) {
    for (size_t i = 0; i < regions.size(); ++i)
        write_at(file, regions[i].offset, pattern_bytes(regions[i].length, 100 + i));
}

void expect_regions(const fs::path& file, const std::vector<Region>& data, const std::vector<Region>& zeros) {
    for (size_t i = 0; i < data.size(); ++i)
        EXPECT_TRUE(
            same_bytes(read_at(file, data[i].offset, data[i].length), pattern_bytes(data[i].length, 100 + i)))
            << file << " data region at " << data[i].offset;
    for (const auto& zero : zeros) {
        auto bytes = read_at(file, zero.offset, zero.length);
        EXPECT_EQ(bytes.size(), zero.length) << file << " zero region at " << zero.offset;
        EXPECT_TRUE(all_zero(bytes)) << file << " zero region at " << zero.offset << " has data";
    }
}

CommandResult cp_inside(const fs::path& from, const fs::path& to) {
    return run("cp " + quote(from.string()) + " " + quote(to.string()));
}

// 5 GiB allocated with fallocate through the mount, data at scattered offsets including across the request
// cut and past 4 GiB; cp inside the mount must reproduce it (XFS: as a reflink).
TEST(LargeCopy, FallocatedFileBeyond4GiBOnXfs) {
    std::string why;
    auto backing = LoopFilesystem::create(FsType::xfs, 8 * kGiB, &why);
    FASTFS_REQUIRE(backing, why);
    auto mount = FastfsMount::start(backing->path(), {}, &why);
    FASTFS_REQUIRE(mount, why);
    auto dir = make_case(*mount, backing->path(), "big");
    const uint64_t size = 5 * kGiB;
    auto falloc = run("fallocate -l " + std::to_string(size) + " " + quote((dir.via_mount / "src").string()));
    ASSERT_EQ(falloc.exit_code, 0) << falloc.output;
    // Regions must not overlap: each has its own pattern.
    const std::vector<Region> data = {{0, 64 * kKiB + 7},
                                      {kGiB - 3, 100 * kKiB},
                                      {kRequestCut - 5000, 8000},
                                      {4 * kGiB + 64 * kKiB + 123, 256 * kKiB},
                                      {size - 70000, 70000}};
    const std::vector<Region> zeros = {{2 * kGiB, 64 * kKiB},
                                       {kRequestCut + 3000, 1000},
                                       {4 * kGiB, 64 * kKiB},
                                       {4 * kGiB + kGiB / 2, 64 * kKiB}};
    write_regions(dir.via_mount / "src", data);
    auto requests_before = stats_counter(dir.mount_root, "copy_requests");
    ASSERT_TRUE(requests_before);

    auto cp = cp_inside(dir.via_mount / "src", dir.via_mount / "dst");
    ASSERT_EQ(cp.exit_code, 0) << cp.output << mount->log();

    EXPECT_EQ(apparent_size(dir.via_mount / "dst"), size);
    EXPECT_EQ(apparent_size(dir.on_backing / "dst"), size);
    expect_regions(dir.via_mount / "dst", data, zeros);
    expect_regions(dir.on_backing / "dst", data, zeros);
    EXPECT_GT(shared_extent_count(dir.on_backing / "dst"), 0);
    auto requests_after = stats_counter(dir.mount_root, "copy_requests");
    auto done = stats_counter(dir.mount_root, "copy_bytes_done");
    ASSERT_TRUE(requests_after && done);
    if (!copy_requests_are_64_bit()) {
        EXPECT_GE(*requests_after - *requests_before, 2u) << "more than 4 GiB cannot be one 32-bit request";
    }
    EXPECT_GE(*done, size);

    // One copy_file_range call of the whole file: one request, a reflink past 4 GiB where replies are 64-bit.
    auto py = python_copy(dir.via_mount / "src", dir.via_mount / "by-python", {});
    ASSERT_TRUE(py.ok) << py.output;
    auto requests_after_python = stats_counter(dir.mount_root, "copy_requests");
    ASSERT_TRUE(requests_after_python);
    EXPECT_EQ(*requests_after_python - *requests_after, 1u);
    EXPECT_EQ(py.copied, copy_requests_are_64_bit() ? size : kRequestCut);
    if (copy_requests_are_64_bit()) {
        expect_regions(dir.via_mount / "by-python", data, zeros);
        EXPECT_GT(shared_extent_count(dir.on_backing / "by-python"), 0);
    }
}

// The same shape as a sparse file without reflink (ext4): the engine's extent walk past 4 GiB.
TEST(LargeCopy, SparseFileBeyond4GiBOnExt4) {
    auto& env = shared_mount(FsType::ext4);
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dir = make_case(env, "big-sparse");
    const uint64_t size = 5 * kGiB + 4097;
    const std::vector<Region> data = {{5, 64 * kKiB},
                                      {kRequestCut - 5000, 8000},
                                      {4 * kGiB + 64 * kKiB + 123, 256 * kKiB},
                                      {size - 1000, 1000}};
    const std::vector<Region> zeros = {{kGiB, 64 * kKiB},
                                       {kRequestCut + 3000, 1000},
                                       {4 * kGiB, 64 * kKiB},
                                       {4 * kGiB + kGiB / 2, 64 * kKiB}};
    write_regions(dir.via_mount / "src", data);
    ASSERT_EQ(apparent_size(dir.via_mount / "src"), size);

    auto cp = cp_inside(dir.via_mount / "src", dir.via_mount / "by-cp");
    ASSERT_EQ(cp.exit_code, 0) << cp.output;
    auto requests_before = stats_counter(dir.mount_root, "copy_requests");
    ASSERT_TRUE(requests_before);
    auto py = python_copy(dir.via_mount / "src", dir.via_mount / "by-python", {.loop = true});
    ASSERT_TRUE(py.ok) << py.output;
    EXPECT_EQ(py.copied, size);
    auto requests_after = stats_counter(dir.mount_root, "copy_requests");
    ASSERT_TRUE(requests_after);
    if (copy_requests_are_64_bit()) {
        EXPECT_EQ(py.calls, 1u) << "one copy_file_range call copies past 4 GiB with 64-bit replies";
        EXPECT_EQ(*requests_after - *requests_before, 1u);
    } else {
        EXPECT_GE(py.calls, 2u) << "one copy_file_range call cannot copy past 4 GiB with 32-bit replies";
    }

    for (const char* name : {"by-cp", "by-python"}) {
        SCOPED_TRACE(name);
        EXPECT_EQ(apparent_size(dir.via_mount / name), size);
        expect_regions(dir.via_mount / name, data, zeros);
        expect_regions(dir.on_backing / name, data, zeros);
        EXPECT_LE(allocated_bytes(dir.on_backing / name), 2 * allocated_bytes(dir.on_backing / "src") + kMiB)
            << "the copy did not stay sparse";
    }
}

// 8 GiB apparent, a few MiB of data: cp inside the mount keeps it sparse and exact; a whole-file
// copy_file_range goes through fastfs's extent walk and is counted as holes.
class SparseCopy : public ::testing::TestWithParam<FsType> {};

TEST_P(SparseCopy, EightGiBSparseFileStaysSparse) {
    auto& env = shared_mount(GetParam());
    FASTFS_REQUIRE(env.ready(), env.why);
    auto dir = make_case(env, "sparse");
    const uint64_t size = 8 * kGiB;
    std::vector<Region> data;
    for (uint64_t i = 0; i < 8; ++i)
        data.push_back({i * kGiB + i * 12345, 512 * kKiB + i});
    data.push_back({size - 3000, 3000});
    const std::vector<Region> zeros = {
        {kGiB / 2, 64 * kKiB}, {3 * kGiB + 2 * kMiB, 64 * kKiB}, {size - 3000 - 64 * kKiB, 64 * kKiB}};
    write_regions(dir.via_mount / "src", data);
    ASSERT_EQ(apparent_size(dir.via_mount / "src"), size);
    const uint64_t source_allocated = allocated_bytes(dir.on_backing / "src");
    ASSERT_LT(source_allocated, 64 * kMiB) << "the source is not sparse on the backing";
    auto holes_before = stats_counter(dir.mount_root, "copy_bytes_hole");
    auto requests_before = stats_counter(dir.mount_root, "copy_requests");
    ASSERT_TRUE(holes_before && requests_before);

    auto cp = cp_inside(dir.via_mount / "src", dir.via_mount / "by-cp");
    ASSERT_EQ(cp.exit_code, 0) << cp.output;
    auto holes_after_cp = stats_counter(dir.mount_root, "copy_bytes_hole");
    auto requests_after_cp = stats_counter(dir.mount_root, "copy_requests");
    ASSERT_TRUE(holes_after_cp && requests_after_cp);
    auto py = python_copy(dir.via_mount / "src", dir.via_mount / "by-python", {.loop = true});
    ASSERT_TRUE(py.ok) << py.output;
    EXPECT_EQ(py.copied, size);
    auto holes_after_python = stats_counter(dir.mount_root, "copy_bytes_hole");
    ASSERT_TRUE(holes_after_cp && holes_after_python);

    for (const char* name : {"by-cp", "by-python"}) {
        SCOPED_TRACE(name);
        EXPECT_EQ(apparent_size(dir.via_mount / name), size);
        EXPECT_EQ(apparent_size(dir.on_backing / name), size);
        expect_regions(dir.via_mount / name, data, zeros);
        expect_regions(dir.on_backing / name, data, zeros);
        EXPECT_LE(allocated_bytes(dir.on_backing / name), 2 * source_allocated)
            << "source allocates " << source_allocated << " bytes";
    }
    // cp 9.1 walks SEEK_DATA itself and copies only the data extents, so its requests may contain no hole;
    // the whole-file copy_file_range hands fastfs the holes.
    std::cout << "[ info ] cp made " << (*requests_after_cp - *requests_before)
              << " COPY_FILE_RANGE requests; copy_bytes_hole: +" << (*holes_after_cp - *holes_before)
              << " by cp, +" << (*holes_after_python - *holes_after_cp) << " by copy_file_range\n";
    EXPECT_GT(*holes_after_python - *holes_before, 0u) << "no copy reproduced holes as holes";
    EXPECT_GE(*holes_after_python - *holes_after_cp, size - 16 * kMiB);
}

INSTANTIATE_TEST_SUITE_P(Sparse, SparseCopy, ::testing::Values(FsType::ext4, FsType::tmpfs), fs_type_name);

}  // namespace
}  // namespace fastfs::test::copy_it
