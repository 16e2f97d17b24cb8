// FASTFS_IOC_GET_STATS: the mount's counters (stats::MountCounters) and the gauges read from its state at
// the moment of asking, in the ABI of ioctl_abi.h, for `fastfs stats`.
#include <unistd.h>

#include "fastfs/ioctl_abi.h"
#include "handlers.hpp"

namespace fastfs::fuse {

// The mount's counters: for root and the mount's owner only (they show what every user does).
void export_stats(fuse_req_t req, size_t out_bufsz) {
    auto& ctx = context(req);
    uid_t caller = fuse_req_ctx(req)->uid;
    if (caller != 0 && caller != ::getuid()) return reply_error(req, EACCES);
    fastfs_stats s = ctx.counters.snapshot();
    s.nodes = ctx.nodes->node_count();
    s.cached_fds = ctx.nodes->fd_cache().size();
    s.fd_cache_hits = ctx.nodes->fd_cache().hits();
    s.fd_cache_misses = ctx.nodes->fd_cache().misses();
    s.removed_inodes_held = ctx.nodes->removed_pin_count();
    s.open_file_descriptors = ctx.descriptors->held();
    s.opens_refused = ctx.descriptors->refused();
    s.passthrough_backing_files = ctx.passthrough_files.backing_files();
    reply_ioctl_out(req, &s, sizeof(s), out_bufsz);
}

}  // namespace fastfs::fuse
