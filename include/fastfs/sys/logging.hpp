// Process-wide logging on spdlog: stderr while attached to a terminal or in the foreground; once
// daemonized, the first of these that is there: the file the user named (-o log_file=), the systemd
// journal, syslog (/dev/log), a default file. One logger, named "fastfs".
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace fastfs::logging {

// Installs the stderr logger at `level` ("trace", "debug", "info", "warn", "error", "off").
// Returns false for an unknown level name.
bool init(std::string_view level);
bool valid_level(std::string_view level);

// Where a daemon's log lines go, decided before daemonizing (so that a problem can still be said on
// stderr). Without journald and a syslog daemon (a container, a minimal host) the lines would otherwise be
// lost: then they go to a file.
struct LogDestination {
    enum class Kind { file, journal, syslog } kind;
    std::filesystem::path file;    // Kind::file
    std::string describe() const;  // "journal", "syslog", "file /var/log/fastfs.log"
};
// `requested` (empty: none) wins; then the journal's socket, /dev/log, and the default file:
// /var/log/fastfs.log for root, $XDG_STATE_HOME/fastfs.log (~/.local/state/fastfs.log) for a user.
LogDestination choose_destination(const std::filesystem::path& requested);

// Replaces the stderr sink by `destination`, keeping the level; false (and stderr kept) if a file cannot be
// opened. Call after daemonizing. Lines carry the time and pid where the destination does not.
bool switch_to(const LogDestination& destination);
// Where this process logs now ("stderr" before switch_to).
std::string current_destination();

}  // namespace fastfs::logging
