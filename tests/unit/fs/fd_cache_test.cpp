// FdCache: a bounded LRU of shared descriptors. Pure logic on real descriptors; needs no privileges.
#include <fcntl.h>
#include <gtest/gtest.h>

#include "fastfs/fs/fd_cache.hpp"

namespace fastfs::fs {
namespace {

SharedFd open_dev_null() {
    return std::make_shared<const sys::UniqueFd>(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

bool is_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1;
}

TEST(FdCacheTest, KeepsAtMostCapacityEvictingTheLeastRecentlyUsed) {
    FdCache cache(2);
    cache.insert(1, open_dev_null());
    cache.insert(2, open_dev_null());
    ASSERT_NE(cache.find(1), nullptr);  // 1 is now the most recently used
    cache.insert(3, open_dev_null());
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_NE(cache.find(1), nullptr);
    EXPECT_EQ(cache.find(2), nullptr);
    EXPECT_NE(cache.find(3), nullptr);
}

TEST(FdCacheTest, EvictionNeverClosesADescriptorInUse) {
    FdCache cache(1);
    cache.insert(1, open_dev_null());
    SharedFd in_use = cache.find(1);
    int raw = in_use->get();
    cache.insert(2, open_dev_null());  // evicts 1
    EXPECT_EQ(cache.find(1), nullptr);
    EXPECT_TRUE(is_open(raw));
    in_use.reset();
    EXPECT_FALSE(is_open(raw));  // closed with its last user
}

TEST(FdCacheTest, InsertReplacesAndEraseRemoves) {
    FdCache cache(4);
    cache.insert(7, open_dev_null());
    SharedFd second = open_dev_null();
    cache.insert(7, second);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.find(7), second);
    cache.erase(7);
    cache.erase(7);  // erasing what is not there is fine
    EXPECT_EQ(cache.size(), 0u);
}

TEST(FdCacheTest, CountsHitsAndMisses) {
    FdCache cache(4);
    cache.insert(1, open_dev_null());
    cache.find(1);
    cache.find(1);
    cache.find(2);
    EXPECT_EQ(cache.hits(), 2u);
    EXPECT_EQ(cache.misses(), 1u);
}

TEST(FdCacheTest, ZeroCapacityStillHoldsOne) {
    FdCache cache(0);
    EXPECT_EQ(cache.capacity(), 1u);
}

}  // namespace
}  // namespace fastfs::fs
