// Pseudo filesystems: the ones whose files are the kernel's interfaces (processes, devices, control files)
// rather than data stored on them. None can be a backing directory: a FUSE mount of one would hand every
// user of the mount what the daemon reads and writes there, with the daemon's rights and as the daemon
// (/proc/self would be the daemon, /dev's nodes opened by root), which is not what the directory gives them.
//
// Refused: proc, sysfs, devtmpfs, devpts, cgroup, cgroup2, debugfs, tracefs, securityfs, bpf, pstore,
// efivarfs, selinuxfs, smackfs, binfmt_misc, nsfs, resctrl, configfs, fusectl, mqueue.
// Not refused, because their files are data, as on any filesystem: tmpfs (also a container's /dev and
// /dev/shm), ramfs, hugetlbfs (memory pages their users map), autofs (a stand-in for the real filesystems it
// mounts on access: statfs of a direct mount mounts it, and what an indirect one holds is real mounts).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "fastfs/sys/result.hpp"

namespace fastfs::sys {

// The rule, on the two facts it needs: the name of the pseudo filesystem a directory is on, given its statfs
// f_type and the type mountinfo gives the mount it is reached through ("" if unknown); nullopt for a real
// filesystem. Both facts count: devtmpfs reports tmpfs's f_type, and configfs, fusectl and mqueue have no
// constant in <linux/magic.h>, so those are known by their mount's type only.
std::optional<std::string_view> pseudo_filesystem_name(uint64_t f_type, std::string_view mount_type);

// The same for a directory: statfs, then the type of the mount it is reached through, so a directory below
// /dev counts as devtmpfs. Without a readable /proc/self/mountinfo only f_type decides. An error is statfs's.
Result<std::optional<std::string>> pseudo_filesystem_of(const std::filesystem::path& dir);

// The one line that refuses one: "<subject> is on proc, a pseudo filesystem: fastfs serves files of a real
// filesystem", where subject names the directory ("backing /proc").
std::string pseudo_filesystem_refusal(std::string_view subject, std::string_view name);

}  // namespace fastfs::sys
