#include "kernel_features.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "fastfs/sys/syscalls.hpp"

namespace fastfs::fuse {
namespace {

// The parts of the kernel's FUSE protocol (include/uapi/linux/fuse.h) needed here; libfuse 3.14 does not
// install its copy of that header.
constexpr uint32_t kOpcodeInit = 26;
constexpr uint32_t kHandleKillprivV2 = 1u << 28;
constexpr size_t kInitOutFlagsOffset = 12;  // fuse_init_out: major, minor, max_readahead, flags
struct InHeader {
    uint32_t len, opcode;
    uint64_t unique, nodeid;
    uint32_t uid, gid, pid;
    uint16_t total_extlen, padding;
};
struct OutHeader {
    uint32_t len;
    int32_t error;
    uint64_t unique;
};

MountContext& ctx_of(void* userdata) {
    return *static_cast<MountContext*>(userdata);
}

ssize_t read_request(int fd, void* buf, size_t len, void* userdata) {
    ssize_t n = ::read(fd, buf, len);
    if (n >= ssize_t(sizeof(InHeader)) && !ctx_of(userdata).killpriv_v2.load(std::memory_order_relaxed)) {
        InHeader header;
        std::memcpy(&header, buf, sizeof(header));
        if (header.opcode == kOpcodeInit) ctx_of(userdata).init_unique.store(header.unique);
    }
    return n;
}

ssize_t write_reply(int fd, struct iovec* iov, int count, void* userdata) {
    auto& ctx = ctx_of(userdata);
    uint64_t init_unique = ctx.init_unique.load();
    if (init_unique != 0 && count >= 2 && iov[0].iov_len >= sizeof(OutHeader) &&
        iov[1].iov_len >= kInitOutFlagsOffset + sizeof(uint32_t)) {
        OutHeader header;
        std::memcpy(&header, iov[0].iov_base, sizeof(header));
        if (header.unique == init_unique && header.error == 0) {
            uint32_t flags;
            auto* field = static_cast<char*>(iov[1].iov_base) + kInitOutFlagsOffset;
            std::memcpy(&flags, field, sizeof(flags));
            flags |= kHandleKillprivV2;
            std::memcpy(field, &flags, sizeof(flags));
            ctx.init_unique.store(0);
            ctx.killpriv_v2 = true;
            spdlog::debug("asked the kernel for HANDLE_KILLPRIV_V2");
        }
    }
    return ::writev(fd, iov, count);
}

ssize_t splice_in(int fdin, off_t* offin, int fdout, off_t* offout, size_t len, unsigned flags, void*) {
    return ::splice(fdin, offin, fdout, offout, len, flags);
}

}  // namespace

bool request_killpriv_v2(fuse_session* se) {
    static const fuse_custom_io io{write_reply, read_request, splice_in, splice_in};
    return fuse_session_custom_io(se, &io, fuse_session_fd(se)) == 0;
}

void drop_privileges_after_modification(fuse_req_t req, int fd) {
    if (!context(req).killpriv_v2 || fuse_req_ctx(req)->uid == 0) return;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
    mode_t mode = st.st_mode & 07777;
    mode_t kept = mode & ~S_ISUID;
    if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) kept &= ~S_ISGID;
    if (kept == mode) return;
    // The descriptor may be O_PATH (a truncate by path): fchmod refuses those, the /proc link does not.
    if (::fchmod(fd, kept) != 0 && errno == EBADF) ::chmod(sys::proc_fd_path(fd).c_str(), kept);
}

}  // namespace fastfs::fuse
