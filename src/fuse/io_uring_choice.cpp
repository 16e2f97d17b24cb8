#include "fastfs/fuse/io_uring_choice.hpp"

#include <fstream>

namespace fastfs::fuse {

IoUringSupport io_uring_support() {
#if !FASTFS_HAVE_FUSE_IO_URING
    return IoUringSupport::not_built;
#else
    std::ifstream parameter(kFuseUringParameter);
    std::string value;
    if (!(parameter >> value)) return IoUringSupport::no_kernel;
    return value == "Y" ? IoUringSupport::available : IoUringSupport::parameter_off;
#endif
}

IoUringChoice choose_io_uring(const MountConfig& config) {
    using Mode = MountConfig::IoUring;
    if (config.io_uring == Mode::off) return {false, "-o no_io_uring"};
    // -o io_uring was checked before mounting (it refuses to mount without); libfuse falls back to
    // /dev/fuse itself should the kernel still not offer it at INIT.
    if (config.io_uring == Mode::on) return {true, ""};
    // One queue thread per CPU serves the rings; a single-threaded mount stays single-threaded.
    if (config.max_threads == 1) return {false, "max_threads=1"};
    switch (io_uring_support()) {
        case IoUringSupport::available:
            return {true, ""};
        case IoUringSupport::not_built:
            return {false, "this fastfs's libfuse has no io_uring"};
        case IoUringSupport::no_kernel:
            return {false, "the kernel has no FUSE over io_uring (Linux 6.14+ with CONFIG_FUSE_IO_URING)"};
        case IoUringSupport::parameter_off:
            break;
    }
    return {false,
            "the fuse module's enable_uring is N; with Y, mounts made after use it (docs/operations.md)"};
}

}  // namespace fastfs::fuse
