#include "fastfs/sys/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include <string>

namespace fastfs::logging {

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

void switch_to_syslog() {
    auto level = spdlog::default_logger()->level();
    spdlog::drop("fastfs");
    auto logger = spdlog::syslog_logger_mt("fastfs", "fastfs", LOG_PID, LOG_DAEMON);
    logger->set_pattern("%l: %v");
    logger->set_level(level);
    spdlog::set_default_logger(logger);
}

}  // namespace fastfs::logging
