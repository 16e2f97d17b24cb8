// The -o option language, mount(8) style: "opt[,opt...]", "key=value", "\," escapes a comma. A pure
// function over strings, so mount helpers (mount.fuse3, systemd, fstab) and tests can rely on it exactly.
#pragma once

#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fastfs/fuse/mount_config.hpp"

namespace fastfs::cli {

struct MountOptions {
    fuse::MountConfig config;
    std::string log_level;                           // from -o log_level=; empty when not given
    std::optional<bool> default_permissions_choice;  // explicit default_permissions / no_default_permissions
};

// Applies one -o argument to `options`, left to right (a later option wins over an earlier one).
// The error text is one line, without the "fastfs: " prefix, e.g. "unknown option 'foo'".
std::expected<void, std::string> apply_option_list(std::string_view list, MountOptions& options);

// Applies every -o argument in order, then the rules that depend on the whole set: allow_other turns
// default_permissions on unless no_default_permissions was given; allow_other and allow_root exclude
// each other.
std::expected<MountOptions, std::string> parse_mount_options(std::span<const std::string> lists);

// Whether mount(8)/fstab/systemd pass `option` along with no meaning for fastfs (defaults, nofail, x-*, ...).
bool is_dropped_option(std::string_view option);

// Kernel mount flags passed through untouched, and options accepted from mount(8)/fstab/systemd and
// dropped (a trailing '*' marks a prefix), for --help.
std::span<const std::string_view> kernel_option_names();
std::vector<std::string> dropped_option_names();
// Every option the parser accepts: fastfs's own flags ("ro"), its options with a value ("fsname="), then
// the kernel flags and the dropped options as above. --help and the man page must list exactly these.
std::vector<std::string> mount_option_names();

// Splits "a,b\,c,,d" into {"a", "b,c", "d"} (empty items dropped).
std::vector<std::string> split_option_list(std::string_view list);

}  // namespace fastfs::cli
