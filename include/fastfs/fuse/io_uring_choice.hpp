// Whether a mount is served over FUSE's io_uring queues (mount_config.hpp, MountConfig::IoUring).
//
// The kernel offers FUSE over io_uring (Linux 6.14+, CONFIG_FUSE_IO_URING) to mounts made while the fuse
// module's enable_uring parameter is on. It is off by default, and fastfs never turns it on: it is the
// administrator's choice (docs/operations.md). By default fastfs uses io_uring whenever it is on.
#pragma once

#include <string>

#include "fastfs/fuse/mount_config.hpp"

namespace fastfs::fuse {

inline constexpr const char* kFuseUringParameter = "/sys/module/fuse/parameters/enable_uring";

enum class IoUringSupport {
    available,      // built with it, and the kernel offers it to new mounts now
    not_built,      // this fastfs's libfuse has no io_uring
    no_kernel,      // no such parameter: a kernel before 6.14 or without CONFIG_FUSE_IO_URING
    parameter_off,  // the parameter is off
};
IoUringSupport io_uring_support();

struct IoUringChoice {
    bool use = false;
    std::string why_not;  // when not used: why, for the log and `fastfs status` ("off (why)")
};
// Decided once, just before mounting: the kernel reads the parameter when the rings register.
IoUringChoice choose_io_uring(const MountConfig& config);

}  // namespace fastfs::fuse
