// `mount -o remount,... MOUNTPOINT`: mount(8) runs the helper, hence fastfs, with "remount" among the
// options. A live FUSE mount can change what the kernel keeps for it, read-only or read-write and the
// per-mount flags; the daemon's own settings (timeouts, passthrough, allow_other, ...) are fixed when it
// starts.
#include "fastfs/cli/remount.hpp"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fastfs/cli/errors.hpp"
#include "fastfs/cli/options.hpp"
#include "fastfs/sys/mountinfo.hpp"

namespace fastfs::cli {
namespace {

// A per-mount flag: its option, the option that clears it, the mount(2) bit and statvfs's bit for it.
struct MountFlag {
    std::string_view set;
    std::string_view clear;
    unsigned long mount_bit;
    unsigned long statvfs_bit;
};
constexpr std::array kMountFlags = {
    MountFlag{"ro", "rw", MS_RDONLY, ST_RDONLY},
    MountFlag{"nosuid", "suid", MS_NOSUID, ST_NOSUID},
    MountFlag{"nodev", "dev", MS_NODEV, ST_NODEV},
    MountFlag{"noexec", "exec", MS_NOEXEC, ST_NOEXEC},
    MountFlag{"sync", "async", MS_SYNCHRONOUS, ST_SYNCHRONOUS},
    MountFlag{"noatime", "atime", MS_NOATIME, ST_NOATIME},
    MountFlag{"nodiratime", "diratime", MS_NODIRATIME, ST_NODIRATIME},
    MountFlag{"relatime", "norelatime", MS_RELATIME, ST_RELATIME},
};
// Flags that statvfs does not report back; set when asked, never cleared by omission.
constexpr std::array<std::pair<std::string_view, unsigned long>, 3> kSetOnlyFlags = {
    {{"strictatime", MS_STRICTATIME}, {"dirsync", MS_DIRSYNC}, {"lazytime", MS_LAZYTIME}}};

unsigned long current_flags(const struct statvfs& sv) {
    unsigned long flags = 0;
    for (const auto& flag : kMountFlags)
        if (sv.f_flag & flag.statvfs_bit) flags |= flag.mount_bit;
    return flags;
}

// Applies one option to `flags`; false if it is not a per-mount flag.
bool apply_flag(std::string_view option, unsigned long& flags) {
    for (const auto& flag : kMountFlags) {
        if (option == flag.set) return (flags |= flag.mount_bit), true;
        if (option == flag.clear) return (flags &= ~flag.mount_bit), true;
    }
    for (const auto& [name, bit] : kSetOnlyFlags)
        if (option == name) return (flags |= bit), true;
    return false;
}

// The backing root's own nosuid, nodev and noexec stay on the view, as at mount (fuse/session.cpp).
unsigned long backing_restrictions(const std::string& backing) {
    struct statvfs sv {};
    if (backing.empty() || ::statvfs(backing.c_str(), &sv) != 0) return 0;
    return current_flags(sv) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

std::string joined(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items)
        text += (text.empty() ? "" : ", ") + item;
    return text;
}

}  // namespace

bool asks_for_remount(const std::vector<std::string>& option_lists) {
    for (const auto& list : option_lists)
        for (const auto& option : split_option_list(list))
            if (option == "remount") return true;
    return false;
}

int run_remount(const MountRequest& request) {
    // mount(8) passes SOURCE MOUNTPOINT; by hand, `fastfs -o remount,ro MOUNTPOINT` is enough.
    const std::string& target = request.mountpoint.empty() ? request.backing : request.mountpoint;
    const std::string backing = request.mountpoint.empty() ? std::string() : request.backing;
    std::error_code ec;
    auto canonical = std::filesystem::canonical(target, ec);
    if (ec) return report(CliError{kExitFailure, "remount: " + target + ": " + ec.message()});
    auto mount = sys::mount_of(canonical);
    if (!mount || mount->mount_point != canonical.string() || !mount->fstype.starts_with("fuse"))
        return report(CliError{kExitFailure, "remount: " + target + " is not a fastfs mount"});
    // mount(8) repeats what the mount has (user_id=0, allow_other, ...): those change nothing.
    auto has = split_option_list(mount->super_options);
    struct statvfs sv {};
    if (::statvfs(canonical.c_str(), &sv) != 0)
        return report(CliError{kExitFailure, "remount: " + target + ": " + errno_text(errno)});

    unsigned long flags = current_flags(sv);
    std::vector<std::string> fixed;
    for (const auto& list : request.option_lists)
        for (const auto& option : split_option_list(list))
            if (option != "remount" && !apply_flag(option, flags) && !is_dropped_option(option) &&
                std::ranges::find(has, option) == has.end())
                fixed.push_back(option);
    flags |= backing_restrictions(backing);
    if (::mount(nullptr, canonical.c_str(), nullptr, MS_REMOUNT | flags, nullptr) != 0)
        return report(CliError{kExitFailure, "remount of " + target + " failed: " + errno_text(errno)});
    if (!fixed.empty())
        report(CliError{kExitOk, "warning: remount of " + target + " changed only the kernel's flags; " +
                                     joined(fixed) +
                                     " cannot change on a live mount (unmount and mount again)"});
    return kExitOk;
}

}  // namespace fastfs::cli
