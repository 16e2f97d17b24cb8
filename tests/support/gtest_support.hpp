// GoogleTest glue for real-resource tests: outside CI a missing facility (no loop devices, no /dev/fuse)
// skips; in CI (CI=true) it fails, so a green CI always means the real thing was exercised.
#pragma once

#include <gtest/gtest.h>

#include "fixtures.hpp"

#define FASTFS_REQUIRE(optional_value, why)                                    \
    do {                                                                       \
        if (!(optional_value)) {                                               \
            if (::fastfs::test::in_ci()) FAIL() << "cannot set up: " << (why); \
            GTEST_SKIP() << "cannot set up (not in CI, skipping): " << (why);  \
        }                                                                      \
    } while (0)
