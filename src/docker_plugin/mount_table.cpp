#include "fastfs/docker_plugin/mount_table.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <fstream>
#include <set>

#include "fastfs/sys/mountinfo.hpp"

namespace fastfs::docker_plugin {
namespace fs = std::filesystem;
namespace {

MountEntry to_entry(sys::MountinfoLine&& line) {
    return MountEntry{line.id,
                      std::move(line.device),
                      std::move(line.root),
                      std::move(line.mount_point),
                      std::move(line.fstype),
                      std::move(line.source)};
}

// The per-mount flags a bind has now, as mount(2) spells them.
sys::Result<unsigned long> mount_flags(const fs::path& path) {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) return sys::fail_errno();
    constexpr std::pair<unsigned long, unsigned long> kFlags[] = {
        {ST_RDONLY, MS_RDONLY},    {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},
        {ST_NOEXEC, MS_NOEXEC},    {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME},
        {ST_RELATIME, MS_RELATIME}};
    unsigned long flags = 0;
    for (auto [statvfs_flag, mount_flag] : kFlags) {
        if ((st.f_flag & statvfs_flag) != 0) flags |= mount_flag;
    }
    return flags;
}

// A bind remount replaces every per-mount flag: keep the ones the mount has (a FUSE mount is nosuid,nodev),
// except the access-time mode when a new one is asked for.
unsigned long combined_flags(unsigned long current, unsigned long wanted) {
    constexpr unsigned long kAtime = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
    if ((wanted & kAtime) != 0) current &= ~kAtime;
    return current | wanted;
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(std::istream& in) {
    std::vector<MountEntry> table;
    std::string line;
    while (std::getline(in, line)) {
        if (auto entry = sys::parse_mountinfo_line(line)) table.push_back(to_entry(std::move(*entry)));
    }
    return table;
}

std::vector<MountEntry> read_mount_table(const fs::path& file) {
    std::ifstream in(file);
    return parse_mountinfo(in);
}

std::vector<std::vector<MountEntry>> other_namespaces_mount_tables() {
    struct stat own {};
    ::stat("/proc/self/ns/mnt", &own);
    std::set<ino_t> seen = {own.st_ino};
    std::vector<std::vector<MountEntry>> tables;
    std::error_code error;
    for (const auto& process : fs::directory_iterator("/proc", error)) {
        const auto name = process.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        struct stat ns {};
        if (::stat((process.path() / "ns" / "mnt").c_str(), &ns) != 0 || !seen.insert(ns.st_ino).second)
            continue;
        tables.push_back(read_mount_table(process.path() / "mountinfo"));
    }
    return tables;
}

sys::Result<MountEntry> mount_of(const fs::path& path) {
    auto line = sys::mount_of(path);
    if (!line) return std::unexpected(line.error());
    return to_entry(std::move(*line));
}

std::optional<MountEntry> mount_at(const std::vector<MountEntry>& table, const fs::path& path) {
    std::optional<MountEntry> found;
    for (const auto& entry : table) {
        if (entry.mount_point == path) found = entry;  // later lines are mounted on top
    }
    return found;
}

bool is_within(const fs::path& path, const fs::path& dir) {
    auto relative = path.lexically_normal().lexically_relative(dir.lexically_normal());
    return !relative.empty() && *relative.begin() != "..";
}

sys::Result<void> bind_private(const fs::path& source, const fs::path& target, unsigned long flags) {
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) return sys::fail_errno();
    // A bind of a shared mount joins its peer group: mounts made later below the source would appear here.
    bool ok = ::mount(nullptr, target.c_str(), nullptr, MS_PRIVATE, nullptr) == 0;
    if (ok && flags != 0) {
        auto current = mount_flags(target);
        ok = current && ::mount(nullptr, target.c_str(), nullptr,
                                MS_REMOUNT | MS_BIND | combined_flags(*current, flags), nullptr) == 0;
    }
    if (!ok) {
        int error = errno;
        ::umount2(target.c_str(), MNT_DETACH);
        return sys::fail(error);
    }
    return {};
}

sys::Result<void> unmount(const fs::path& path) {
    if (::umount2(path.c_str(), UMOUNT_NOFOLLOW) == 0) return {};
    if (errno != EBUSY) return sys::fail_errno();
    return detach(path);
}

sys::Result<void> detach(const fs::path& path) {
    if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0) return sys::fail_errno();
    return {};
}

}  // namespace fastfs::docker_plugin
