#include "fastfs/sys/pseudo_filesystem.hpp"

#include <linux/magic.h>
#include <sys/statfs.h>

#include <array>

#include "fastfs/sys/mountinfo.hpp"

namespace fastfs::sys {
namespace {

struct PseudoFilesystem {
    std::string_view name;  // as mountinfo names its type
    uint64_t f_type;        // 0: none in <linux/magic.h>, or shared with a real filesystem
};

// configfs, fusectl and mqueue keep their f_type in the kernel's own sources, not <linux/magic.h>: their
// mount's type names them as exactly.
constexpr std::array kPseudoFilesystems{
    PseudoFilesystem{"proc", PROC_SUPER_MAGIC},
    PseudoFilesystem{"sysfs", SYSFS_MAGIC},
    PseudoFilesystem{"devtmpfs", 0},  // f_type is TMPFS_MAGIC, as a real tmpfs's
    PseudoFilesystem{"devpts", DEVPTS_SUPER_MAGIC},
    PseudoFilesystem{"cgroup", CGROUP_SUPER_MAGIC},
    PseudoFilesystem{"cgroup2", CGROUP2_SUPER_MAGIC},
    PseudoFilesystem{"debugfs", DEBUGFS_MAGIC},
    PseudoFilesystem{"tracefs", TRACEFS_MAGIC},
    PseudoFilesystem{"securityfs", SECURITYFS_MAGIC},
    PseudoFilesystem{"bpf", BPF_FS_MAGIC},
    PseudoFilesystem{"pstore", PSTOREFS_MAGIC},
    PseudoFilesystem{"efivarfs", EFIVARFS_MAGIC},
    PseudoFilesystem{"selinuxfs", SELINUX_MAGIC},
    PseudoFilesystem{"smackfs", SMACK_MAGIC},
    PseudoFilesystem{"binfmt_misc", BINFMTFS_MAGIC},
    PseudoFilesystem{"nsfs", NSFS_MAGIC},
    PseudoFilesystem{"resctrl", RDTGROUP_SUPER_MAGIC},
    PseudoFilesystem{"configfs", 0},
    PseudoFilesystem{"fusectl", 0},
    PseudoFilesystem{"mqueue", 0},
};

}  // namespace

std::optional<std::string_view> pseudo_filesystem_name(uint64_t f_type, std::string_view mount_type) {
    for (const auto& fs : kPseudoFilesystems) {
        if ((fs.f_type != 0 && fs.f_type == f_type) || fs.name == mount_type) return fs.name;
    }
    return std::nullopt;
}

Result<std::optional<std::string>> pseudo_filesystem_of(const std::filesystem::path& dir) {
    struct statfs st {};
    if (::statfs(dir.c_str(), &st) != 0) return fail_errno();
    auto mount = mount_of(dir);
    auto name = pseudo_filesystem_name(static_cast<uint64_t>(st.f_type), mount ? mount->fstype : "");
    if (!name) return std::optional<std::string>();
    return std::optional<std::string>(*name);
}

std::string pseudo_filesystem_refusal(std::string_view subject, std::string_view name) {
    return std::string(subject) + " is on " + std::string(name) +
           ", a pseudo filesystem: fastfs serves files of a real filesystem";
}

}  // namespace fastfs::sys
