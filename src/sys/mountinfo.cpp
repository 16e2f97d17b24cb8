#include "fastfs/sys/mountinfo.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fastfs::sys {

std::string unescape_mountinfo(std::string_view field) {
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            out += static_cast<char>(std::strtol(std::string(field.substr(i + 1, 3)).c_str(), nullptr, 8));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return out;
}

std::optional<MountinfoLine> parse_mountinfo_line(std::string_view line) {
    std::istringstream fields{std::string(line)};
    MountinfoLine entry;
    unsigned long parent = 0;
    std::string root, mount_point;
    if (!(fields >> entry.id >> parent >> entry.device >> root >> mount_point)) return std::nullopt;
    // Optional fields ("shared:1", "master:3") come before the " - " separator.
    auto dash = line.find(" - ");
    if (dash == std::string_view::npos) return std::nullopt;
    std::istringstream tail{std::string(line.substr(dash + 3))};
    std::string source;
    if (!(tail >> entry.fstype >> source)) return std::nullopt;
    tail >> entry.super_options;  // may be absent in hand-made lines
    entry.source = unescape_mountinfo(source);
    entry.root = unescape_mountinfo(root);
    entry.mount_point = unescape_mountinfo(mount_point);
    return entry;
}

Result<MountinfoLine> mount_of(const std::filesystem::path& path) {
    struct statx stx {};
    if (::statx(AT_FDCWD, path.c_str(), 0, STATX_MNT_ID, &stx) != 0) return fail_errno();
    if ((stx.stx_mask & STATX_MNT_ID) == 0) return fail(ENOSYS);
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mountinfo, line)) {
        auto entry = parse_mountinfo_line(line);
        if (entry && entry->id == stx.stx_mnt_id) return std::move(*entry);
    }
    return fail(ENOENT);
}

std::optional<std::string> mounted_type_at(const std::filesystem::path& canonical_path) {
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line;
    std::optional<std::string> type;
    while (std::getline(mountinfo, line)) {
        auto entry = parse_mountinfo_line(line);
        if (entry && entry->mount_point == canonical_path.string())
            type = entry->fstype;  // the last entry is the one on top
    }
    return type;
}

}  // namespace fastfs::sys
