// What `docker volume create -d fastfs -o KEY=VALUE ...` means. Three kinds of keys:
//   backing=DIR         the plugin's own: the volume shows DIR instead of a new directory under the data
//   root; ro, nosuid, ...     flags of this volume's own bind mount (one fastfs mount serves many volumes, so
//   a
//                       read-only volume cannot be a read-only fastfs mount);
//   anything else       fastfs -o options of the mount that serves the volume's filesystem.
// Checked with the daemon's own -o parser, so a volume that would not mount is refused at create time.
#pragma once

#include <expected>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fastfs::docker_plugin {

// Docker's "Opts" object: option name -> value ("" when given as `-o name`).
using OptionMap = std::map<std::string, std::string>;

struct VolumeOptions {
    std::string backing;                     // empty: a directory under the plugin's data root
    unsigned long bind_flags = 0;            // MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_*ATIME
    std::vector<std::string> mount_options;  // fastfs -o items, in order, without the bind flags

    bool operator==(const VolumeOptions&) const = default;
};

inline constexpr std::string_view kBackingKey = "backing";
inline constexpr std::string_view kRawListKey = "o";  // -o o=a,b,c: a fastfs option list as it is

// Parses and checks Docker's options. The error is one line, e.g. "unknown option 'foo'".
std::expected<VolumeOptions, std::string> parse_volume_options(const OptionMap& opts);

// "a", "b,c" -> "a,b\,c": one fastfs -o argument that splits back into the same items.
std::string join_option_list(const std::vector<std::string>& items);

}  // namespace fastfs::docker_plugin
