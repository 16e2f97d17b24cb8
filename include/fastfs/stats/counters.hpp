// Per-mount counters: cheap relaxed atomics bumped on the request path, exported through the
// FASTFS_IOC_GET_STATS ioctl (see fastfs/ioctl_abi.h) to `fastfs stats`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "fastfs/copy/engine.hpp"
#include "fastfs/ioctl_abi.h"

namespace fastfs::stats {

class Counter {
  public:
    void add(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<uint64_t> value_{0};
};

// One Counter per COUNTER of the ABI's list (FASTFS_STATS_COUNTERS), named as there.
struct MountCounters {
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

#define FASTFS_COUNTER_MEMBER_COUNTER(name) Counter name;
#define FASTFS_COUNTER_MEMBER_GAUGE(name)
#define FASTFS_COUNTER_MEMBER(name, unit, source) FASTFS_COUNTER_MEMBER_##source(name)
    FASTFS_STATS_COUNTERS(FASTFS_COUNTER_MEMBER)
#undef FASTFS_COUNTER_MEMBER
#undef FASTFS_COUNTER_MEMBER_GAUGE
#undef FASTFS_COUNTER_MEMBER_COUNTER

    // Adds what one engine call did.
    void record_copy(const copy::CopyReport& report);

    // The counters and the uptime; the other gauges are filled in by the caller, which knows the state.
    fastfs_stats snapshot() const;
};

}  // namespace fastfs::stats
