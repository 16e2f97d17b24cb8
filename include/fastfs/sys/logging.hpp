// Process-wide logging on spdlog: stderr while attached to a terminal or in the foreground, syslog once
// daemonized. One logger, named "fastfs".
#pragma once

#include <string_view>

namespace fastfs::logging {

// Installs the stderr logger at `level` ("trace", "debug", "info", "warn", "error", "off").
// Returns false for an unknown level name.
bool init(std::string_view level);
bool valid_level(std::string_view level);

// Replaces the stderr sink by syslog (ident "fastfs"), keeping the level. Call after daemonizing.
void switch_to_syslog();

}  // namespace fastfs::logging
