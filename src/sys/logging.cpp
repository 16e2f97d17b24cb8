#include "fastfs/sys/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>

namespace fastfs::logging {
namespace {

constexpr const char* kJournalSocket = "/run/systemd/journal/socket";
constexpr const char* kSyslogSocket = "/dev/log";

std::mutex destination_mutex;  // guards destination_text
std::string destination_text = "stderr";

bool is_socket(const char* path) {
    struct stat st {};
    return ::stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

std::filesystem::path default_file() {
    if (::geteuid() == 0) return "/var/log/fastfs.log";
    if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state == '/')
        return std::filesystem::path(state) / "fastfs.log";
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home != nullptr && *home == '/' ? home : "/tmp") / ".local/state/fastfs.log";
}

std::shared_ptr<spdlog::logger> make_logger(const LogDestination& destination) {
    switch (destination.kind) {
        case LogDestination::Kind::journal: {
            // The journal keeps time, pid and identifier, and the level as PRIORITY: the message alone.
            return std::make_shared<spdlog::logger>("fastfs",
                                                    std::make_shared<spdlog::sinks::systemd_sink_mt>("fastfs"));
        }
        case LogDestination::Kind::syslog: {
            auto logger = spdlog::syslog_logger_mt("fastfs", "fastfs", LOG_PID, LOG_DAEMON);
            logger->set_pattern("%l: %v");
            return logger;
        }
        case LogDestination::Kind::file: {
            std::error_code ignored;
            std::filesystem::create_directories(destination.file.parent_path(), ignored);
            auto logger = spdlog::basic_logger_mt("fastfs", destination.file.string());
            logger->set_pattern("%Y-%m-%dT%H:%M:%S%z fastfs[%P] %l: %v");
            logger->flush_on(spdlog::level::trace);  // a crash must not take the last lines with it
            return logger;
        }
    }
    return nullptr;
}

}  // namespace

bool valid_level(std::string_view level) {
    auto parsed = spdlog::level::from_str(std::string(level));
    // from_str maps unknown names to "off"; only "off" itself may legitimately give that.
    return parsed != spdlog::level::off || level == "off";
}

bool init(std::string_view level) {
    if (!valid_level(level)) return false;
    auto logger = spdlog::stderr_color_mt("fastfs");
    logger->set_pattern("fastfs: %^%l%$: %v");
    logger->set_level(spdlog::level::from_str(std::string(level)));
    spdlog::set_default_logger(logger);
    return true;
}

std::string LogDestination::describe() const {
    switch (kind) {
        case Kind::journal:
            return "journal";
        case Kind::syslog:
            return "syslog";
        case Kind::file:
            return "file " + file.string();
    }
    return "?";
}

LogDestination choose_destination(const std::filesystem::path& requested) {
    if (!requested.empty()) return {LogDestination::Kind::file, requested};
    if (is_socket(kJournalSocket)) return {LogDestination::Kind::journal, {}};
    if (is_socket(kSyslogSocket)) return {LogDestination::Kind::syslog, {}};
    return {LogDestination::Kind::file, default_file()};
}

bool switch_to(const LogDestination& destination) {
    auto level = spdlog::default_logger()->level();
    auto previous = spdlog::default_logger();
    spdlog::drop("fastfs");
    std::shared_ptr<spdlog::logger> logger;
    try {
        logger = make_logger(destination);
    } catch (const spdlog::spdlog_ex&) {  // the file cannot be opened: keep what we had
        spdlog::register_logger(previous);
        return false;
    }
    logger->set_level(level);
    spdlog::set_default_logger(logger);
    std::lock_guard lock(destination_mutex);
    destination_text = destination.describe();
    return true;
}

std::string current_destination() {
    std::lock_guard lock(destination_mutex);
    return destination_text;
}

}  // namespace fastfs::logging
