// The text format of /proc/self/mountinfo, read by the mount checks and by the Docker plugin.
#pragma once

#include <string>
#include <string_view>

namespace fastfs::sys {

// A path field of mountinfo as the path it stands for: the kernel writes space, tab, newline and backslash
// as a backslash and three octal digits.
std::string unescape_mountinfo(std::string_view field);

}  // namespace fastfs::sys
