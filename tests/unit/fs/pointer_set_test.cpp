// PointerSet (the node table's indexes) against a std::unordered_map. Pure logic; needs no privileges.
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <vector>

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
    EXPECT_EQ(set.capacity(), 16384u);
    for (uint64_t k = 100; k < items.size(); ++k)
        ASSERT_TRUE(set.erase(&items[k]));
    EXPECT_LE(set.capacity(), 1024u);  // less than 1/8 used triggers a shrink to at most half used
    for (uint64_t k = 0; k < 100; ++k)
        EXPECT_EQ(set.find(k), &items[k]);
    for (uint64_t k = 0; k < 100; ++k)
        ASSERT_TRUE(set.erase(&items[k]));
    EXPECT_EQ(set.capacity(), 0u);
    EXPECT_EQ(set.find(5), nullptr);
    EXPECT_FALSE(set.erase(&items[5]));
}

}  // namespace
}  // namespace fastfs::fs
