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

struct MountCounters {
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    Counter copy_requests, copy_bytes_requested, copy_bytes_done, copy_errors;
    Counter bytes_reflinked, bytes_copy_file_range, bytes_splice, bytes_read_write, bytes_hole, holes_punched;
    Counter fallback_no_reflink, fallback_cross_fs, fallback_unaligned, fallback_no_copy_file_range,
        fallback_no_splice, fallback_no_punch;
    Counter clone_requests, clone_failures;
    Counter read_requests, read_bytes, write_requests, write_bytes, lseek_requests, ioctl_refused;

    // Adds what one engine call did.
    void record_copy(const copy::CopyReport& report);

    // A consistent-enough snapshot for the ioctl; node-table figures are filled in by the caller.
    fastfs_stats snapshot() const;
};

}  // namespace fastfs::stats
