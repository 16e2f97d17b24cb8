// `fastfs clone -r` and `fastfs copy -r` inside the mount: one FASTFS_IOC_TREE_COPY request per tree, in
// which this worker thread walks the source and builds the copy on the backing filesystem as the caller
// (copy::copy_tree), and FASTFS_IOC_TREE_PROGRESS, which tells the caller's second thread how far it got.
//
// Why one request per tree rather than one per directory driven by the command: the whole state of a copy
// (the hidden tree, the hard-link map, descriptors, the caller's rights) then lives in this one call and
// goes with it on every path out, including a caller killed part-way (the kernel sends INTERRUPT, the walk
// stops and removes the hidden tree before the reply); per-directory requests would need that state parked
// in the daemon between requests and an owner to clean it up when the command dies. The price is a long
// request, which is why the command reads progress with a second ioctl, and why the walk checks for an
// interrupt before every entry and every 64 MiB of data.
#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "fastfs/copy/tree_copy.hpp"
#include "fastfs/ioctl_abi.h"
#include "fastfs/sys/credentials.hpp"
#include "handlers.hpp"
#include "kernel_cache.hpp"

namespace fastfs::fuse {
namespace {

fastfs_tree_counts to_abi(const copy::TreeCounts& counts) {
    fastfs_tree_counts out{};
    out.files = counts.files;
    out.directories = counts.directories;
    out.symlinks = counts.symlinks;
    out.specials = counts.specials;
    out.hard_links = counts.hard_links;
    out.bytes = counts.bytes;
    out.bytes_shared = counts.bytes_shared;
    out.bytes_copied = counts.bytes_copied;
    out.bytes_holes = counts.bytes_holes;
    return out;
}

sys::Result<copy::TreeMode> mode_of(uint32_t flags) {
    constexpr uint32_t kKnown = FASTFS_TREE_CLONE | FASTFS_TREE_NO_REFLINK | FASTFS_TREE_MEASURE;
    if ((flags & ~kKnown) != 0) return sys::fail(EINVAL);
    bool clone = flags & FASTFS_TREE_CLONE, no_reflink = flags & FASTFS_TREE_NO_REFLINK;
    if (clone && no_reflink) return sys::fail(EINVAL);
    return clone ? copy::TreeMode::kClone : no_reflink ? copy::TreeMode::kNoReflink : copy::TreeMode::kAuto;
}

// The new directory's name: NUL-terminated inside the buffer, one component.
sys::Result<std::string> name_of(const fastfs_tree_copy& request) {
    const char* end = static_cast<const char*>(std::memchr(request.name, '\0', sizeof request.name));
    if (end == nullptr) return sys::fail(ENAMETOOLONG);
    std::string name(request.name, end);
    if (!copy::valid_tree_name(name)) return sys::fail(EINVAL);
    return name;
}

// The walk holds up to kTreeCopyMaxDescriptors descriptors: counted against the caller's share like open
// files, so tree copies cannot starve other users (EMFILE beyond the share).
sys::Result<std::vector<fs::DescriptorBudget::Hold>> reserve_descriptors(MountContext& ctx, uid_t uid) {
    std::vector<fs::DescriptorBudget::Hold> held;
    held.reserve(copy::kTreeCopyMaxDescriptors);
    for (size_t i = 0; i < copy::kTreeCopyMaxDescriptors; ++i) {
        auto hold = ctx.descriptors->acquire(uid);
        if (!hold) return sys::fail(EMFILE);
        held.push_back(std::move(*hold));
    }
    return held;
}

// The failing entry's path for the reply; its tail if it does not fit (the tail names the entry).
void set_failed_path(fastfs_tree_copy& reply, const std::string& path) {
    constexpr size_t kRoom = sizeof reply.failed_path - 1;
    std::string shown = path.size() <= kRoom ? path : "..." + path.substr(path.size() - (kRoom - 3));
    std::memcpy(reply.failed_path, shown.c_str(), shown.size() + 1);
}

void record(MountContext& ctx, const copy::TreeCounts& counts) {
    ctx.counters.tree_files.add(counts.files);
    ctx.counters.tree_bytes_reflinked.add(counts.bytes_shared);
    ctx.counters.tree_bytes_copied.add(counts.bytes_copied);
}

struct Checked {
    std::shared_ptr<OpenFile> proof, source;
    fs::Node* parent;  // held by the kernel while `proof` is open (OpenFile::made_in)
    std::string name;
    copy::TreeMode mode;
    RequestFd parent_fd{-1}, source_fd{-1};
};

// The directory a request may write into: the one its file was made in with O_TMPFILE, for writing. The
// kernel made that file only if the caller's view of the mount lets it write there (a read-only bind or
// volume refuses it with EROFS); an ioctl gets no such check of its own, and the daemon cannot see the
// view's flags. Anything else is EBADF.
sys::Result<fs::Node*> writable_directory(const OpenFile* proof) {
    if (proof == nullptr || proof->made_in == nullptr || (proof->flags & O_ACCMODE) == O_RDONLY)
        return sys::fail(EBADF);
    return proof->made_in;
}

// The request's parts, checked (a read-only mount never gets here: it refuses the O_TMPFILE): the directory
// it may write into, the token's source directory, the name.
sys::Result<Checked> check(fuse_req_t req, fuse_file_info* fi, const fastfs_tree_copy& request) {
    auto& ctx = context(req);
    auto name = name_of(request);
    if (!name) return sys::fail(name.error());
    auto mode = mode_of(request.flags);
    if (!mode) return sys::fail(mode.error());
    auto proof = ctx.open_files.find(fi->fh);
    auto parent = writable_directory(proof.get());
    if (!parent) return sys::fail(parent.error());
    auto source = ctx.clone_tokens.redeem(request.token, fuse_req_ctx(req)->uid);
    if (!source) return sys::fail(EBADF);  // unknown, expired, another user's, or its source was closed
    if (!source->dir) return sys::fail(ENOTDIR);
    auto parent_fd = ctx.nodes->open_fd(**parent, O_RDONLY | O_DIRECTORY);
    if (!parent_fd) return sys::fail(parent_fd.error());
    auto source_fd = request_fd(req, *source, Access::read);
    if (!source_fd) return sys::fail(source_fd.error());
    return Checked{std::move(proof),
                   std::move(source),
                   *parent,
                   std::move(*name),
                   *mode,
                   RequestFd(std::make_shared<const sys::UniqueFd>(std::move(*parent_fd))),
                   *source_fd};
}

// Every read, search and creation of the walk is the caller's; the walk never calls the node table, which
// would take the daemon's rights back. The modes are set explicitly at the end, so the hidden tree is
// private (umask 077) while it is built.
std::expected<copy::TreeCounts, copy::TreeCopyError> copy_as_caller(fuse_req_t req, const Checked& checked,
                                                                    const copy::TreeCopyOptions& options) {
    auto as_caller = act_as_caller(req);
    sys::CallerUmask umask(077);
    return copy::copy_tree(checked.source_fd.get(), checked.parent_fd.get(), checked.name, options);
}

// Made behind the kernel's back: it may cache "no such name" for DST, and the parent's attributes and
// listing. Sent from here, before the reply, so that a lookup right after the command sees DST. This request
// holds no inode lock; the parent's lock may be held by requests in that directory, which other threads
// serve (tree copies take at most half of them).
void invalidate_new_entry(MountContext& ctx, const fs::Node& parent, const std::string& name) {
    uint64_t parent_id = ctx.nodes->node_id(parent);
    int rc = fuse_lowlevel_notify_inval_entry(ctx.session, parent_id, name.c_str(), name.size());
    if (rc != 0 && rc != -ENOENT) spdlog::debug("invalidating a new tree's name: {}", std::strerror(-rc));
    invalidate_now(ctx.session, parent_id);
}

// Over io_uring, libfuse (3.18) does not match the kernel's INTERRUPT to a request that came on a ring, so
// fuse_req_interrupted() stays 0 there. The kernel sends one when the waiting caller has a signal to take;
// the walk then looks for that itself, at most every 20 ms (a /proc read each time).
class CallerSignals {
  public:
    CallerSignals(const MountContext& ctx, pid_t tid) : tid_(ctx.io_uring ? tid : 0) {}
    bool arrived() {
        if (tid_ <= 0 || seen_) return seen_;
        auto now = std::chrono::steady_clock::now();
        if (now < next_look_) return false;
        next_look_ = now + std::chrono::milliseconds(20);
        seen_ = sys::signal_to_take(tid_);
        return seen_;
    }

  private:
    pid_t tid_;
    bool seen_ = false;
    std::chrono::steady_clock::time_point next_look_{};
};

int run_tree_copy(fuse_req_t req, fuse_file_info* fi, fastfs_tree_copy& request) {
    auto& ctx = context(req);
    uid_t uid = fuse_req_ctx(req)->uid;
    auto checked = check(req, fi, request);
    if (!checked) return checked.error();
    auto slot = ctx.tree_jobs.start(request.token, uid, max_tree_copies(ctx.config));
    if (!slot) return slot.error();
    auto held = reserve_descriptors(ctx, uid);
    if (!held) return held.error();

    copy::TreeCopyOptions options{.mode = checked->mode,
                                  .measure_first = (request.flags & FASTFS_TREE_MEASURE) != 0};
    CallerSignals signals(ctx, fuse_req_ctx(req)->pid);
    options.cancelled = [&] {
        return fuse_req_interrupted(req) != 0 || fuse_session_exited(ctx.session) != 0 || signals.arrived();
    };
    options.progress = [&](const copy::TreeCounts& done, const copy::TreeCounts& total) {
        slot->update(done, total);
    };
    options.caps = &ctx.copy_caps;
    auto copied = copy_as_caller(req, *checked, options);
    if (!copied) {
        request.done = to_abi(slot->progress().done);
        set_failed_path(request, copied.error().path);
        spdlog::debug("tree copy by uid {} failed at '{}': {}", uid, copied.error().path,
                      std::strerror(copied.error().error));
        return copied.error().error;
    }
    request.done = to_abi(*copied);
    record(ctx, *copied);
    invalidate_new_entry(ctx, *checked->parent, checked->name);
    return 0;
}

}  // namespace

void tree_copy(fuse_req_t req, fuse_file_info* fi, const void* in_buf, size_t in_bufsz, size_t out_bufsz) {
    auto& ctx = context(req);
    ctx.counters.tree_requests.add();
    fastfs_tree_copy request{};
    if (in_bufsz < sizeof request || out_bufsz < sizeof request) return reply_error(req, EINVAL);
    std::memcpy(&request, in_buf, sizeof request);
    request.failed_path[0] = '\0';
    int error = run_tree_copy(req, fi, request);
    if (error != 0) ctx.counters.tree_failures.add();
    // A negative result with data: the kernel copies the counts and the failing path out, then the ioctl
    // fails with that errno.
    fuse_reply_ioctl(req, -error, &request, sizeof request);
}

void tree_progress(fuse_req_t req, const void* in_buf, size_t in_bufsz, size_t out_bufsz) {
    fastfs_tree_progress reply{};
    if (in_bufsz < sizeof reply || out_bufsz < sizeof reply) return reply_error(req, EINVAL);
    std::memcpy(&reply, in_buf, sizeof reply);
    auto progress = context(req).tree_jobs.progress(reply.token, fuse_req_ctx(req)->uid);
    if (!progress) return reply_error(req, ENOENT);
    reply.done = to_abi(progress->done);
    reply.total = to_abi(progress->total);
    fuse_reply_ioctl(req, 0, &reply, sizeof reply);
}

}  // namespace fastfs::fuse
