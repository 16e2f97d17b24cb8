// The -o option language. Table-driven: mount_option_names() reads the tables, and a test checks --help and
// the man page against it (tests/unit/cli/help_test.cpp).
#include "fastfs/cli/options.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

#include "fastfs/sys/logging.hpp"

namespace fastfs::cli {
namespace {

using Outcome = std::expected<void, std::string>;

struct FlagOption {
    std::string_view name;
    void (*apply)(MountOptions&);
};

struct ValueOption {
    std::string_view name;
    Outcome (*apply)(MountOptions&, std::string_view key, std::string_view value);
};

Outcome bad_value(std::string_view key, std::string_view value, std::string_view expected) {
    return std::unexpected("option '" + std::string(key) + "' has an invalid value '" + std::string(value) +
                           "' (expected " + std::string(expected) + ")");
}

std::expected<double, std::string> parse_seconds(std::string_view key, std::string_view value) {
    double seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{} || end != value.data() + value.size() || !std::isfinite(seconds) || seconds < 0)
        return std::unexpected(bad_value(key, value, "a number of seconds >= 0").error());
    return seconds;
}

template <typename Unsigned>
std::expected<Unsigned, std::string> parse_count(std::string_view key, std::string_view value) {
    Unsigned count = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), count);
    if (ec != std::errc{} || end != value.data() + value.size())
        return std::unexpected(bad_value(key, value, "a whole number >= 0").error());
    return count;
}

Outcome set_seconds(std::optional<double>& field, std::string_view key, std::string_view value) {
    auto seconds = parse_seconds(key, value);
    if (!seconds) return std::unexpected(seconds.error());
    field = *seconds;
    return {};
}

// Flags that change fastfs itself. "rw" is here (not among the dropped ones) because it undoes "ro".
constexpr std::array kFlagOptions = {
    FlagOption{"allow_other", [](MountOptions& o) { o.config.allow_other = true; }},
    FlagOption{"allow_root", [](MountOptions& o) { o.config.allow_root = true; }},
    FlagOption{"default_permissions", [](MountOptions& o) { o.default_permissions_choice = true; }},
    FlagOption{"no_default_permissions", [](MountOptions& o) { o.default_permissions_choice = false; }},
    FlagOption{"ro", [](MountOptions& o) { o.config.read_only = true; }},
    FlagOption{"rw", [](MountOptions& o) { o.config.read_only = false; }},
    // A remount never reaches the parser's result: run_mount hands it to run_remount (remount.hpp).
    FlagOption{"remount", [](MountOptions&) {}},
    FlagOption{"keep_cache", [](MountOptions& o) { o.config.keep_cache = true; }},
    FlagOption{"watch_backing", [](MountOptions& o) { o.config.watch_backing = true; }},
    FlagOption{"no_watch_backing", [](MountOptions& o) { o.config.watch_backing = false; }},
    FlagOption{"no_keep_cache", [](MountOptions& o) { o.config.keep_cache = false; }},
    FlagOption{"writeback_cache", [](MountOptions& o) { o.config.writeback_cache = true; }},
    FlagOption{"no_writeback_cache", [](MountOptions& o) { o.config.writeback_cache = false; }},
    FlagOption{"splice", [](MountOptions& o) { o.config.splice = true; }},
    FlagOption{"no_splice", [](MountOptions& o) { o.config.splice = false; }},
    FlagOption{"io_uring", [](MountOptions& o) { o.config.io_uring = fuse::MountConfig::IoUring::on; }},
    FlagOption{"no_io_uring", [](MountOptions& o) { o.config.io_uring = fuse::MountConfig::IoUring::off; }},
};

constexpr std::array kValueOptions = {
    ValueOption{"fsname",
                [](MountOptions& o, std::string_view, std::string_view v) -> Outcome {
                    o.config.fsname = std::string(v);
                    return {};
                }},
    ValueOption{"subtype",
                [](MountOptions& o, std::string_view k, std::string_view v) -> Outcome {
                    // The kernel shows the type as "fuse.<subtype>" in a whitespace-separated table.
                    if (v.find_first_of(" \t\n/") != std::string_view::npos)
                        return bad_value(k, v, "a name without spaces or '/'");
                    o.config.subtype = std::string(v);
                    return {};
                }},
    ValueOption{"entry_timeout",
                [](MountOptions& o, std::string_view k, std::string_view v) {
                    return set_seconds(o.config.entry_timeout, k, v);
                }},
    ValueOption{"attr_timeout", [](MountOptions& o, std::string_view k,
                                   std::string_view v) { return set_seconds(o.config.attr_timeout, k, v); }},
    ValueOption{"negative_timeout",
                [](MountOptions& o, std::string_view k, std::string_view v) {
                    return set_seconds(o.config.negative_timeout, k, v);
                }},
    ValueOption{"max_threads",
                [](MountOptions& o, std::string_view k, std::string_view v) -> Outcome {
                    auto count = parse_count<unsigned>(k, v);
                    if (!count) return std::unexpected(count.error());
                    o.config.max_threads = *count;
                    return {};
                }},
    ValueOption{"fd_cache",
                [](MountOptions& o, std::string_view k, std::string_view v) -> Outcome {
                    auto count = parse_count<size_t>(k, v);
                    if (!count) return std::unexpected(count.error());
                    o.config.fd_cache_size = *count;
                    return {};
                }},
    ValueOption{"passthrough",
                [](MountOptions& o, std::string_view k, std::string_view v) -> Outcome {
                    if (v != "on" && v != "off") return bad_value(k, v, "on or off");
                    o.config.passthrough = v == "on";
                    return {};
                }},
    ValueOption{"log_file",
                [](MountOptions& o, std::string_view k, std::string_view v) -> Outcome {
                    if (!v.starts_with('/')) return bad_value(k, v, "an absolute path");
                    o.config.log_file = std::string(v);
                    return {};
                }},
    ValueOption{"log_level",
                [](MountOptions& o, std::string_view k, std::string_view v) -> Outcome {
                    if (!logging::valid_level(v))
                        return bad_value(k, v, "trace, debug, info, warn, error or off");
                    o.log_level = std::string(v);
                    return {};
                }},
};

// Mount flags the kernel understands for any filesystem; fastfs hands them over untouched.
constexpr std::array<std::string_view, 18> kKernelOptions = {
    "nosuid",   "suid",  "nodev",    "dev",        "noexec",      "exec",
    "noatime",  "atime", "relatime", "norelatime", "strictatime", "nodiratime",
    "diratime", "sync",  "async",    "dirsync",    "lazytime",    "nolazytime",
};

// Options mount(8), fstab and systemd pass along that mean nothing to a FUSE daemon.
constexpr std::array<std::string_view, 10> kDroppedOptions = {
    "defaults", "auto", "noauto", "nofail", "_netdev", "user", "nouser", "users", "owner", "group",
};
constexpr std::array<std::string_view, 2> kDroppedPrefixes = {"comment=", "x-"};

Outcome apply_one(std::string_view option, MountOptions& options) {
    if (is_dropped_option(option)) return {};
    auto equals = option.find('=');
    std::string_view key = option.substr(0, equals);
    if (auto flag = std::ranges::find(kFlagOptions, key, &FlagOption::name); flag != kFlagOptions.end()) {
        if (equals != std::string_view::npos)
            return std::unexpected("option '" + std::string(key) + "' takes no value");
        flag->apply(options);
        return {};
    }
    if (auto valued = std::ranges::find(kValueOptions, key, &ValueOption::name);
        valued != kValueOptions.end()) {
        if (equals == std::string_view::npos || equals + 1 == option.size())
            return std::unexpected("option '" + std::string(key) + "' needs a value: " + std::string(key) +
                                   "=VALUE");
        return valued->apply(options, key, option.substr(equals + 1));
    }
    if (std::ranges::find(kKernelOptions, option) != kKernelOptions.end()) {
        options.config.kernel_options.emplace_back(option);
        return {};
    }
    return std::unexpected("unknown option '" + std::string(option) + "'");
}

}  // namespace

bool is_dropped_option(std::string_view option) {
    if (std::ranges::find(kDroppedOptions, option) != kDroppedOptions.end()) return true;
    return std::ranges::any_of(kDroppedPrefixes,
                               [&](std::string_view prefix) { return option.starts_with(prefix); });
}

std::span<const std::string_view> kernel_option_names() {
    return kKernelOptions;
}
std::vector<std::string> dropped_option_names() {
    std::vector<std::string> names(kDroppedOptions.begin(), kDroppedOptions.end());
    for (auto prefix : kDroppedPrefixes)
        names.push_back(std::string(prefix) + "*");
    return names;
}

std::vector<std::string> mount_option_names() {
    std::vector<std::string> names;
    for (const auto& flag : kFlagOptions)
        names.emplace_back(flag.name);
    for (const auto& valued : kValueOptions)
        names.push_back(std::string(valued.name) + "=");
    names.insert(names.end(), kKernelOptions.begin(), kKernelOptions.end());
    auto dropped = dropped_option_names();
    names.insert(names.end(), dropped.begin(), dropped.end());
    return names;
}

std::vector<std::string> split_option_list(std::string_view list) {
    std::vector<std::string> items;
    std::string current;
    for (size_t i = 0; i < list.size(); ++i) {
        char c = list[i];
        if (c == '\\' && i + 1 < list.size() && list[i + 1] == ',') {
            current += ',';
            ++i;
        } else if (c == ',') {
            if (!current.empty()) items.push_back(std::move(current));
            current.clear();
        } else {
            current += c;
        }
    }
    if (!current.empty()) items.push_back(std::move(current));
    return items;
}

std::expected<void, std::string> apply_option_list(std::string_view list, MountOptions& options) {
    for (const auto& option : split_option_list(list)) {
        if (auto applied = apply_one(option, options); !applied) return applied;
    }
    return {};
}

std::expected<MountOptions, std::string> parse_mount_options(std::span<const std::string> lists) {
    MountOptions options;
    for (const auto& list : lists) {
        if (auto applied = apply_option_list(list, options); !applied)
            return std::unexpected(applied.error());
    }
    if (options.config.allow_other && options.config.allow_root)
        return std::unexpected("options 'allow_other' and 'allow_root' exclude each other");
    // With allow_other, users other than the mounter reach the files; without default_permissions the
    // kernel would not check their access against the modes at all.
    options.config.default_permissions =
        options.default_permissions_choice.value_or(options.config.allow_other);
    return options;
}

}  // namespace fastfs::cli
