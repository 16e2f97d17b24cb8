#include "fastfs/cli/copy_command.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "fastfs/cli/format.hpp"
#include "fastfs/cli/progress.hpp"

namespace fastfs::cli {
namespace {

std::string failure_message(const std::string& source, const std::string& destination, int error) {
    if (error == EINVAL)
        return "cannot copy " + source + " to " + destination +
               ": the source is not a regular file, or is the destination itself";
    return "cannot copy " + source + " to " + destination + ": " + errno_text(error);
}

}  // namespace

Checked<copy::ReflinkMode> parse_reflink_mode(const std::string& word) {
    if (word == "auto") return copy::ReflinkMode::kAuto;
    if (word == "always") return copy::ReflinkMode::kAlways;
    if (word == "never") return copy::ReflinkMode::kNever;
    return usage_error("--reflink must be auto, always or never, not '" + word + "'");
}

std::string copy_summary(const copy::FileCopyReport& report, double seconds) {
    const auto& how = report.copy;
    uint64_t copied = how.bytes_copy_file_range + how.bytes_splice + how.bytes_read_write;
    std::string line = "copied " + human_bytes(report.bytes) + " to " + report.destination.string() + " in " +
                       human_duration(std::chrono::duration<double>(seconds)) + ": " +
                       human_bytes(how.bytes_reflinked) + " reflinked, " + human_bytes(copied) + " copied, " +
                       human_bytes(how.bytes_hole) + " holes";
    if (!report.owner_preserved) line += "; owner not preserved";
    if (!report.skipped_xattrs.empty())
        line += "; " + std::to_string(report.skipped_xattrs.size()) + " extended attribute(s) not copied";
    return line;
}

int run_copy(const std::string& source, const std::string& destination, copy::ReflinkMode reflink) {
    ProgressBar bar(ProgressBar::stderr_is_terminal());
    copy::FileCopyOptions options;
    options.reflink = reflink;
    options.progress = [&bar](uint64_t done, uint64_t total) { bar.update(done, total); };
    auto started = std::chrono::steady_clock::now();
    auto copied = copy::copy_file(source, destination, options);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    bar.finish();
    if (!copied) return report(CliError{kExitFailure, failure_message(source, destination, copied.error())});
    std::printf("%s\n", copy_summary(*copied, seconds).c_str());
    return kExitOk;
}

}  // namespace fastfs::cli
