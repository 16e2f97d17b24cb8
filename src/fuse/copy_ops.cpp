// COPY_FILE_RANGE: a copy made inside the mount, done by the copy engine on the backing files as the
// caller. (The ioctls are in ioctl_allowlist.cpp.)
#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "handlers.hpp"

namespace fastfs::fuse {

namespace {

// The most one COPY_FILE_RANGE request copies. The kernel (6.18+) sends COPY_FILE_RANGE_64 (opcode 53, 64-bit
// reply) first; a library without a handler for it answers ENOSYS, and the kernel falls back to opcode 47,
// whose reply (fuse_write_out) is 32-bit. Either way the answer goes through fuse_reply_write().
// - libfuse >= 3.18 answers opcode 53 with a 64-bit count (fuse_reply_write() knows which request it
//   answers), so one request copies any length; it cuts opcode 47 requests to 4 GiB - 4 KiB itself before
//   they reach us. No limit of ours.
// - libfuse 3.17 knows opcode 47 only, which kernels before 6.18 send uncut: stay a page below 4 GiB. The
//   application gets a short count and asks again for the rest (cp does).
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 18)
constexpr uint64_t kMaxCopyPerRequest = UINT64_MAX;
#else
constexpr uint64_t kMaxCopyPerRequest = 0xFFFFF000ull;
#endif

}  // namespace

namespace ops {

void copy_file_range(fuse_req_t req, fuse_ino_t, off_t off_in, fuse_file_info* fi_in, fuse_ino_t,
                     off_t off_out, fuse_file_info* fi_out, size_t len, int flags) {
    auto& ctx = context(req);
    if (flags != 0) return reply_error(req, EINVAL);
    uint64_t asked = std::min<uint64_t>(len, kMaxCopyPerRequest);
    ctx.counters.copy_requests.add();
    ctx.counters.copy_bytes_requested.add(asked);
    auto in = request_fd(req, open_file(fi_in), Access::read);
    if (!in) return reply_error(req, in.error());
    auto out = request_fd(req, open_file(fi_out), Access::write);
    if (!out) return reply_error(req, out.error());
    copy::CopyReport report;
    // The destination is written as the caller: reserved blocks, quotas, set-user-ID bits as natively.
    auto as_caller = act_as_caller(req);
    auto copied = copy::copy_range(in->get(), off_in, out->get(), off_out, asked, ctx.copy_caps, report);
    ctx.counters.record_copy(report);
    if (!copied) {
        ctx.counters.copy_errors.add();
        spdlog::debug("copy_file_range off_in={} off_out={} len={}: {}", off_in, off_out, asked,
                      std::strerror(copied.error()));
        return reply_error(req, copied.error());
    }
    ctx.counters.copy_bytes_done.add(*copied);
    spdlog::debug(
        "copy_file_range off_in={} off_out={} len={}: {} bytes (reflink {}, cfr {}, splice {}, rw {}, hole "
        "{})",
        off_in, off_out, asked, *copied, report.bytes_reflinked, report.bytes_copy_file_range,
        report.bytes_splice, report.bytes_read_write, report.bytes_hole);
    fuse_reply_write(req, size_t(*copied));
}

}  // namespace ops
}  // namespace fastfs::fuse
