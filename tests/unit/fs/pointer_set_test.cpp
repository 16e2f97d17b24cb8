// PointerSet (the node table's indexes) against a std::unordered_map, and the Node's single allocation
// (handle bytes and pin after the fields). Pure logic; needs no privileges.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "fastfs/fs/node_table.hpp"
#include "fastfs/fs/pointer_set.hpp"

namespace fastfs::fs {
namespace {

struct Item {
    uint64_t key;
    int value;
};

// Few distinct hashes: long probe runs that wrap around the end of the array.
struct CollidingKey {
    using Key = uint64_t;
    static Key key(const Item& item) { return item.key; }
    static uint64_t hash(const Key& key) { return key % 7; }
};

using Set = PointerSet<Item, CollidingKey>;

bool power_of_two_at_most_three_quarters_full(const Set& set) {
    size_t capacity = set.capacity();
    return (capacity == 0 && set.size() == 0) ||
           ((capacity & (capacity - 1)) == 0 && set.size() * 4 <= capacity * 3);
}

TEST(PointerSetTest, FindsInsertsReplacesAndErases) {
    Set set;
    Item a{1, 10}, b{2, 20}, a2{1, 11};
    EXPECT_EQ(set.find(1), nullptr);
    EXPECT_EQ(set.insert_or_replace(&a), nullptr);
    EXPECT_EQ(set.insert_or_replace(&b), nullptr);
    EXPECT_EQ(set.find(1), &a);
    EXPECT_EQ(set.find(2), &b);
    EXPECT_EQ(set.find(3), nullptr);
    EXPECT_EQ(set.insert_or_replace(&a2), &a);  // the same key: the newer element takes its place
    EXPECT_EQ(set.size(), 2u);
    EXPECT_EQ(set.find(1), &a2);
    EXPECT_FALSE(set.erase(&a));  // no longer the set's element for key 1
    EXPECT_EQ(set.find(1), &a2);
    EXPECT_TRUE(set.erase(&a2));
    EXPECT_FALSE(set.erase(&a2));
    EXPECT_EQ(set.find(1), nullptr);
    EXPECT_EQ(set.find(2), &b);
    EXPECT_EQ(set.size(), 1u);
}

TEST(PointerSetTest, AgreesWithAMapUnderCollisions) {
    constexpr uint64_t kKeys = 3000;
    std::vector<Item> items(kKeys);
    for (uint64_t k = 0; k < kKeys; ++k)
        items[k] = Item{k, int(k)};
    Set set;
    std::unordered_map<uint64_t, Item*> model;
    std::mt19937_64 random(22);
    for (int step = 0; step < 40000; ++step) {
        uint64_t k = random() % kKeys;
        // Mostly inserts at first, mostly erases later: the array grows and shrinks several times.
        bool insert = (random() % 100) < (step % 10000 < 5000 ? 70u : 30u);
        if (insert) {
            Item* replaced = set.insert_or_replace(&items[k]);
            EXPECT_EQ(replaced, model.contains(k) ? &items[k] : nullptr);
            model[k] = &items[k];
        } else {
            EXPECT_EQ(set.erase(&items[k]), model.erase(k) == 1);
        }
        ASSERT_EQ(set.size(), model.size());
        ASSERT_TRUE(power_of_two_at_most_three_quarters_full(set)) << set.capacity();
        if (step % 997 == 0) {
            for (uint64_t key = 0; key < kKeys; ++key) {
                auto it = model.find(key);
                ASSERT_EQ(set.find(key), it == model.end() ? nullptr : it->second) << key;
            }
            size_t seen = 0;
            set.for_each([&](Item* item) {
                ++seen;
                EXPECT_EQ(model.at(item->key), item);
            });
            EXPECT_EQ(seen, model.size());
        }
    }
}

TEST(PointerSetTest, GivesItsArrayBackAsItEmpties) {
    std::vector<Item> items(10000);
    Set set;
    for (uint64_t k = 0; k < items.size(); ++k) {
        items[k] = Item{k, 0};
        set.insert_or_replace(&items[k]);
    }
    EXPECT_EQ(set.capacity(), 16384u);  // 128 KiB: mapped
    for (uint64_t k = 100; k < items.size(); ++k)
        ASSERT_TRUE(set.erase(&items[k]));
    EXPECT_LE(set.capacity(), 1024u);  // less than 1/8 used: shrinks to at most half used, in the heap
    for (uint64_t k = 0; k < 100; ++k)
        EXPECT_EQ(set.find(k), &items[k]);
    for (uint64_t k = 0; k < 100; ++k)
        ASSERT_TRUE(set.erase(&items[k]));
    EXPECT_EQ(set.capacity(), 0u);
    EXPECT_EQ(set.find(5), nullptr);
    EXPECT_FALSE(set.erase(&items[5]));
}

// A struct file_handle as bytes: the 8-byte header (handle_bytes, handle_type), then `bytes` of f_handle.
std::string handle_of(size_t bytes, char fill) {
    std::string handle(sizeof(struct file_handle) + bytes, fill);
    auto size = uint32_t(bytes);
    std::memcpy(handle.data(), &size, sizeof(size));
    return handle;
}

TEST(NodeTest, KeepsItsHandleAndPinInItsOwnAllocation) {
    std::string longest = handle_of(128, 'x');  // MAX_HANDLE_SZ
    auto node = Node::make({7, 42}, S_IFREG, 3, longest, nullptr);
    EXPECT_EQ(node->handle(), longest);
    EXPECT_EQ(node->pin(), nullptr);
    EXPECT_EQ(node->key, (InodeKey{7, 42}));
    EXPECT_EQ(node->generation, 3u);
    EXPECT_EQ(node->type, mode_t(S_IFREG));

    auto fd = std::make_shared<const sys::UniqueFd>(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    std::string small = handle_of(12, 'y');
    auto root = Node::make({7, 128}, S_IFDIR, 0, small, fd);  // the root: a pin and a handle
    ASSERT_NE(root->pin(), nullptr);
    EXPECT_EQ(*root->pin(), fd);
    EXPECT_EQ(root->handle(), small);
    EXPECT_EQ(fd.use_count(), 2);

    auto pinned = Node::make({8, 5}, S_IFDIR, 4, {}, fd);  // a filesystem without handles
    EXPECT_EQ(*pinned->pin(), fd);
    EXPECT_TRUE(pinned->handle().empty());
    EXPECT_EQ(fd.use_count(), 3);
    pinned.reset();
    root.reset();
    EXPECT_EQ(fd.use_count(), 1);  // destroying a node lets its pin go
}

TEST(NodeTest, EqualHandlesOnTwoFilesystemsAreTwoNodes) {
    std::string handle = handle_of(12, 'h');
    auto on_one = Node::make({1, 99}, S_IFREG, 1, handle, nullptr);
    auto on_two = Node::make({2, 99}, S_IFREG, 2, handle, nullptr);
    PointerSet<Node, NodeByHandle> by_handle;
    PointerSet<Node, NodeByInode> by_inode;
    for (Node* node : {on_one.get(), on_two.get()}) {
        EXPECT_EQ(by_handle.insert_or_replace(node), nullptr);
        EXPECT_EQ(by_inode.insert_or_replace(node), nullptr);
    }
    EXPECT_EQ(by_handle.find({1, handle}), on_one.get());
    EXPECT_EQ(by_handle.find({2, handle}), on_two.get());
    EXPECT_EQ(by_handle.find({3, handle}), nullptr);
    EXPECT_EQ(by_handle.find({1, handle_of(12, 'i')}), nullptr);
    EXPECT_EQ(by_handle.find({1, handle_of(16, 'h')}), nullptr);
    EXPECT_EQ(by_inode.find({2, 99}), on_two.get());
    EXPECT_TRUE(by_handle.erase(on_one.get()));
    EXPECT_TRUE(by_inode.erase(on_one.get()));
    EXPECT_EQ(by_handle.find({2, handle}), on_two.get());
    EXPECT_EQ(by_inode.find({1, 99}), nullptr);
}

}  // namespace
}  // namespace fastfs::fs
