// DescriptorBudget: the fair share of the daemon's descriptors. Pure logic.
#include <gtest/gtest.h>

#include <vector>

#include "fastfs/fs/descriptor_budget.hpp"

namespace fastfs::fs {
namespace {

std::vector<DescriptorBudget::Hold> take_all(DescriptorBudget& budget, uid_t uid) {
    std::vector<DescriptorBudget::Hold> held;
    while (auto hold = budget.acquire(uid))
        held.push_back(std::move(*hold));
    return held;
}

TEST(DescriptorBudgetTest, OneUserGetsAboutHalf) {
    DescriptorBudget budget(1000);
    auto greedy = take_all(budget, 1000);
    EXPECT_GE(greedy.size(), 498u);
    EXPECT_LE(greedy.size(), 500u);
    EXPECT_EQ(budget.held_by(1000), greedy.size());
    EXPECT_EQ(budget.refused(), 1u);
}

// Spare descriptors (kept by passthrough opens only to save work) stop at a quarter, are not counted as
// refusals, and leave the user room for the opens that need one.
TEST(DescriptorBudgetTest, SpareDescriptorsStopAtAQuarterAndLeaveRoom) {
    DescriptorBudget budget(1000);
    std::vector<DescriptorBudget::Hold> spare;
    while (auto hold = budget.acquire_spare(1000))
        spare.push_back(std::move(*hold));
    EXPECT_GE(spare.size(), 248u);
    EXPECT_LE(spare.size(), 250u);
    EXPECT_EQ(budget.refused(), 0u) << "a spare refused is no EMFILE";
    auto needed = take_all(budget, 1000);
    EXPECT_GT(needed.size(), 200u) << "after its spares the user still opens files";
}

TEST(DescriptorBudgetTest, WhatIsLeftIsAlwaysEnoughForAnotherUser) {
    DescriptorBudget budget(1000);
    auto first = take_all(budget, 1000);
    auto second = take_all(budget, 1001);
    auto third = take_all(budget, 1002);
    EXPECT_GT(second.size(), 200u);
    EXPECT_GT(third.size(), 100u);
    EXPECT_TRUE(budget.acquire(1003)) << "a newcomer still gets one";
}

TEST(DescriptorBudgetTest, ReleasingGivesTheShareBack) {
    DescriptorBudget budget(100);
    {
        auto all = take_all(budget, 1000);
        EXPECT_EQ(budget.held(), all.size());
    }
    EXPECT_EQ(budget.held(), 0u);
    EXPECT_EQ(budget.held_by(1000), 0u);
    EXPECT_EQ(take_all(budget, 1000).size(), 50u);
}

TEST(DescriptorBudgetTest, AHoldMovesWithoutCountingTwice) {
    DescriptorBudget budget(100);
    auto hold = budget.acquire(7);
    ASSERT_TRUE(hold);
    DescriptorBudget::Hold moved = std::move(*hold);
    DescriptorBudget::Hold assigned;
    assigned = std::move(moved);
    EXPECT_EQ(budget.held(), 1u);
}

}  // namespace
}  // namespace fastfs::fs
