#include "fastfs/sys/credentials.hpp"

#include <linux/capability.h>
#include <sched.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace fastfs::sys {

namespace {

// The capability sets of this thread, as capget/capset exchange them (two 32-bit words per set).
struct CapabilitySets {
    uint64_t effective = 0;
    uint64_t permitted = 0;
    uint64_t inheritable = 0;
};

CapabilitySets read_capabilities() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    CapabilitySets sets;
    if (::syscall(SYS_capget, &header, data) != 0) return sets;
    auto join = [](uint32_t low, uint32_t high) { return uint64_t(high) << 32 | low; };
    sets.effective = join(data[0].effective, data[1].effective);
    sets.permitted = join(data[0].permitted, data[1].permitted);
    sets.inheritable = join(data[0].inheritable, data[1].inheritable);
    return sets;
}

void write_effective_capabilities(const CapabilitySets& sets, uint64_t effective) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    for (int word = 0; word < 2; ++word) {
        unsigned shift = unsigned(word) * 32;
        data[word].effective = uint32_t(effective >> shift);
        data[word].permitted = uint32_t(sets.permitted >> shift);
        data[word].inheritable = uint32_t(sets.inheritable >> shift);
    }
    ::syscall(SYS_capset, &header, data);
}

Identity read_daemon_identity() {
    Identity self{::geteuid(), ::getegid(), {}, read_capabilities().permitted};
    int count = ::getgroups(0, nullptr);
    if (count > 0) {
        self.groups.resize(size_t(count));
        count = ::getgroups(count, self.groups.data());
        self.groups.resize(size_t(std::max(count, 0)));
        std::sort(self.groups.begin(), self.groups.end());
    }
    return self;
}

// What this thread acts as now; unknown until its first act_as(). A new thread inherits the credentials of
// the thread that made it, which may have been acting as some caller at that moment (libfuse starts
// workers from workers), so the first switch sets everything.
std::optional<Identity>& thread_identity() {
    thread_local std::optional<Identity> current;
    return current;
}

// Each worker thread gets its own fs struct once, so that umask() affects only that thread.
bool ensure_private_umask() {
    thread_local int state = 0;  // 0 unknown, 1 private, -1 impossible
    if (state == 0) state = (::unshare(CLONE_FS) == 0) ? 1 : -1;
    return state == 1;
}

// The value of the line starting with `key` in a /proc status file, or "".
std::string_view status_field(std::string_view status, std::string_view key) {
    size_t at = 0;
    while (at < status.size()) {
        size_t end = status.find('\n', at);
        if (end == std::string_view::npos) end = status.size();
        std::string_view line = status.substr(at, end - at);
        if (line.starts_with(key)) return line.substr(key.size());
        at = end + 1;
    }
    return {};
}

std::vector<gid_t> parse_groups(std::string_view field) {
    std::vector<gid_t> groups;
    const char* p = field.data();
    const char* end = field.data() + field.size();
    while (p < end) {
        gid_t gid = 0;
        auto [next, error] = std::from_chars(p, end, gid);
        if (error == std::errc()) {
            groups.push_back(gid);
            p = next;
        } else {
            ++p;  // the tab and spaces between numbers
        }
    }
    std::sort(groups.begin(), groups.end());
    return groups;
}

uint64_t parse_hex(std::string_view field) {
    while (!field.empty() && (field.front() == '\t' || field.front() == ' '))
        field.remove_prefix(1);
    uint64_t value = 0;
    std::from_chars(field.data(), field.data() + field.size(), value, 16);
    return value;
}

bool in_our_user_namespace(pid_t tid) {
    struct stat ours {
    }, theirs{};
    std::string path = "/proc/" + std::to_string(tid) + "/ns/user";
    return ::stat("/proc/self/ns/user", &ours) == 0 && ::stat(path.c_str(), &theirs) == 0 &&
           ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev;
}

// /proc/<tid>/status of a thread (readable by everyone), with the rights the calling thread has now.
class ThreadStatus {
  public:
    bool read(pid_t tid) {
        std::string path = "/proc/" + std::to_string(tid) + "/status";
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return false;
        ssize_t n = ::read(fd, buffer_, sizeof(buffer_) - 1);
        ::close(fd);
        if (n <= 0) return false;
        text_ = std::string_view(buffer_, size_t(n));
        return true;
    }
    std::string_view field(std::string_view key) const { return status_field(text_, key); }

  private:
    char buffer_[4096];
    std::string_view text_;
};

}  // namespace

Identity identity_of_process(pid_t tid, uid_t uid, gid_t gid) {
    Identity who{uid, gid, {}, uid == 0 ? daemon_identity().capabilities : 0};
    if (tid <= 0) return who;
    // With the daemon's rights: a thread still acting as an unprivileged caller may not look at another
    // user's /proc/<tid>/ns (ptrace rules), and would then take a root caller for one without capabilities.
    act_as_daemon();
    ThreadStatus status;
    if (!status.read(tid)) return who;
    who.groups = parse_groups(status.field("Groups:"));
    std::string_view effective = status.field("CapEff:");
    if (!effective.empty()) who.capabilities = in_our_user_namespace(tid) ? parse_hex(effective) : 0;
    return who;
}

bool signal_to_take(pid_t tid) {
    if (tid <= 0) return false;
    ThreadStatus status;
    if (!status.read(tid)) return true;  // it is gone: nobody waits for the answer
    uint64_t pending = parse_hex(status.field("SigPnd:")) | parse_hex(status.field("ShdPnd:"));
    return (pending & ~parse_hex(status.field("SigBlk:")) & ~parse_hex(status.field("SigIgn:"))) != 0;
}

bool in_initial_user_namespace() {
    // The initial namespace maps every id to itself: one line "0 0 4294967295".
    static const bool initial = [] {
        int fd = ::open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
        if (fd < 0) return true;
        char buffer[256];
        ssize_t n = ::read(fd, buffer, sizeof(buffer) - 1);
        ::close(fd);
        if (n <= 0) return true;
        unsigned long inside = 1, outside = 1, count = 0;
        buffer[n] = '\0';
        return std::sscanf(buffer, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 &&
               outside == 0 && count == 4294967295ul;
    }();
    return initial;
}

bool host_capable(int cap) {
    return in_initial_user_namespace() && (daemon_identity().capabilities & (uint64_t(1) << cap)) != 0;
}

const Identity& daemon_identity() {
    static const Identity self = read_daemon_identity();
    return self;
}

void act_as(const Identity& who) {
    const Identity& daemon = daemon_identity();
    std::optional<Identity>& current = thread_identity();
    // An unprivileged daemon (a user's own mount) cannot change its ids; it only ever serves its owner.
    if (daemon.uid != 0) return;
    uint64_t capabilities = who.capabilities & daemon.capabilities;
    bool same_ids =
        current && current->uid == who.uid && current->gid == who.gid && current->groups == who.groups;
    if (same_ids && current->capabilities == capabilities) return;
    if (!same_ids) {
        // setgroups and setfsgid need CAP_SETGID, setfsuid CAP_SETUID, in the effective set: a thread acting
        // as a caller does not have them, so it takes its own back first (and an unknown thread may not
        // either).
        if (!current || current->capabilities != daemon.capabilities)
            write_effective_capabilities(read_capabilities(), daemon.capabilities);
        ::syscall(SYS_setgroups, who.groups.size(), who.groups.data());
        ::setfsgid(who.gid);
        ::setfsuid(who.uid);
    }
    // setfsuid itself drops the filesystem capabilities when leaving uid 0 and restores them when coming
    // back: read what is effective now and set exactly what the caller holds.
    CapabilitySets sets = read_capabilities();
    if (sets.effective != capabilities) write_effective_capabilities(sets, capabilities);
    // A switch that did not take would leave every later call judged as someone else: never remember one.
    if (::setfsuid(uid_t(-1)) != int(who.uid) || ::setfsgid(gid_t(-1)) != int(who.gid)) {
        current.reset();
        return;
    }
    current = who;
    current->capabilities = capabilities;
}

void act_as_daemon() {
    act_as(daemon_identity());
}

bool acting_as_daemon() {
    return thread_identity() == daemon_identity();
}

bool CallerUmask::thread_umask_supported() {
    return ensure_private_umask();
}

CallerUmask::CallerUmask(int umask_bits) {
    if (umask_bits >= 0 && ensure_private_umask()) saved_umask_ = int(::umask(mode_t(umask_bits)));
}

CallerUmask::~CallerUmask() {
    if (saved_umask_ >= 0) ::umask(mode_t(saved_umask_));
}

}  // namespace fastfs::sys
