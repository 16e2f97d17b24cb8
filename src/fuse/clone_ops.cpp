// `fastfs clone` inside a mount, in two ioctls: FASTFS_IOC_CLONE_SOURCE on the source hands out a one-time
// token (clone_tokens.hpp), FASTFS_IOC_CLONE_INTO on the destination redeems it and clones on the backing.
#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "fastfs/ioctl_abi.h"
#include "handlers.hpp"
#include "kernel_cache.hpp"

namespace fastfs::fuse {

namespace {

bool readable(const OpenFile& file) {
    return (file.flags & O_ACCMODE) != O_WRONLY;
}
bool writable(const OpenFile& file) {
    return (file.flags & O_ACCMODE) != O_RDONLY;
}

}  // namespace

// Step 1 of `fastfs clone`: the caller proves read access by having the source open for reading. For
// `fastfs clone -r` and `copy -r` the source is a directory (tree_ops.cpp).
void clone_source(fuse_req_t req, fuse_file_info* fi, size_t out_bufsz) {
    auto& ctx = context(req);
    auto source = ctx.open_files.find(fi->fh);
    if (!source || !readable(*source)) return reply_error(req, EBADF);
    auto token = ctx.clone_tokens.issue(source, fuse_req_ctx(req)->uid);
    if (!token) return reply_error(req, token.error());
    fastfs_clone_token reply{};
    reply.token = *token;
    reply_ioctl_out(req, &reply, sizeof(reply), out_bufsz);
}

// Step 2: the caller proves write access by having the destination open for writing. Never copies.
void clone_into(fuse_req_t req, OpenFile& destination, const void* in_buf, size_t in_bufsz) {
    auto& ctx = context(req);
    ctx.counters.clone_requests.add();
    fastfs_clone_request request{};
    if (in_bufsz < sizeof(request)) return reply_error(req, EINVAL);
    std::memcpy(&request, in_buf, sizeof(request));
    // As FICLONE natively: the destination must be open for writing, and not for appending only.
    if (!writable(destination) || (destination.flags & O_APPEND)) return reply_error(req, EBADF);
    auto source = ctx.clone_tokens.redeem(request.token, fuse_req_ctx(req)->uid);
    if (!source) return reply_error(req, EINVAL);
    auto from = request_fd(req, *source, Access::read);
    if (!from) return reply_error(req, from.error());
    auto to = request_fd(req, destination, Access::write);
    if (!to) return reply_error(req, to.error());
    // A clone is a write: as the caller, so a non-owner's clone clears set-user-ID bits as natively.
    auto as_caller = act_as_caller(req);
    auto cloned = request.length == 0
                      ? copy::clone_whole_file(from->get(), to->get())
                      : copy::clone_exact_range(from->get(), off_t(request.src_offset), to->get(),
                                                off_t(request.dst_offset), request.length);
    if (!cloned) {
        ctx.counters.clone_failures.add();
        spdlog::debug("clone refused by the backing filesystem: {}", std::strerror(cloned.error()));
        return reply_error(req, cloned.error());
    }
    // The kernel did not ask for this change as such (it only saw an ioctl): it must drop what it caches of
    // the destination before the caller learns the clone is done, or a stat right after would show the old
    // size and mode. An ioctl holds no inode lock, and the pages' locks are not held by anyone waiting for
    // this request, so the notification can be sent from here (kernel_cache.hpp).
    invalidate_now(ctx.session, ctx.nodes->node_id(*destination.node));
    fuse_reply_ioctl(req, 0, nullptr, 0);
}

}  // namespace fastfs::fuse
