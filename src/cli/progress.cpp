#include "fastfs/cli/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "fastfs/cli/format.hpp"

namespace fastfs::cli {
namespace {

constexpr auto kQuietPeriod = std::chrono::milliseconds(500);  // short copies never show a bar
constexpr auto kRedrawPeriod = std::chrono::milliseconds(100);
constexpr int kBarWidth = 30;

}  // namespace

ProgressBar::ProgressBar(bool enabled) : enabled_(enabled) {}

ProgressBar::~ProgressBar() {
    finish();
}

bool ProgressBar::stderr_is_terminal() {
    return ::isatty(STDERR_FILENO) == 1;
}

namespace {

double fraction_of(uint64_t done, uint64_t total) {
    if (total == 0) return 1.0;
    return std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
}

std::string bar_of(double fraction) {
    int filled = static_cast<int>(fraction * kBarWidth);
    // Built by appending: GCC 12 at -O3 takes `"[" + std::string(...)` for an overlapping copy and warns
    // (a false -Wrestrict, GCC bug 105329).
    std::string bar(1, '[');
    bar.append(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kBarWidth - filled), '.');
    std::string percent = std::to_string(static_cast<int>(fraction * 100));
    return bar + "] " + std::string(3 - std::min<size_t>(3, percent.size()), ' ') + percent + "%";
}

}  // namespace

bool ProgressBar::due(Clock::time_point now) const {
    return enabled_ && now - started_ >= kQuietPeriod && now - last_draw_ >= kRedrawPeriod;
}

void ProgressBar::update(uint64_t done_bytes, uint64_t total_bytes) {
    auto now = Clock::now();
    if (due(now)) draw(done_bytes, total_bytes, now);
}

void ProgressBar::update_tree(uint64_t done_files, uint64_t total_files, uint64_t done_bytes,
                              uint64_t total_bytes) {
    auto now = Clock::now();
    if (!due(now)) return;
    double seconds = std::chrono::duration<double>(now - started_).count();
    auto rate = static_cast<uint64_t>(seconds > 0 ? static_cast<double>(done_bytes) / seconds : 0);
    std::string line;
    if (total_files != 0 || total_bytes != 0) {
        double fraction =
            total_bytes != 0 ? fraction_of(done_bytes, total_bytes) : fraction_of(done_files, total_files);
        line = bar_of(fraction) + "  " + std::to_string(done_files) + "/" + std::to_string(total_files) +
               " files  " + human_bytes(done_bytes) + " / " + human_bytes(total_bytes);
    } else {
        line = std::to_string(done_files) + " files  " + human_bytes(done_bytes);
    }
    show(line + "  " + human_bytes(rate) + "/s", now);
}

void ProgressBar::draw(uint64_t done_bytes, uint64_t total_bytes, Clock::time_point now) {
    double seconds = std::chrono::duration<double>(now - started_).count();
    auto rate = static_cast<uint64_t>(seconds > 0 ? static_cast<double>(done_bytes) / seconds : 0);
    show(bar_of(fraction_of(done_bytes, total_bytes)) + " " + human_bytes(done_bytes) + " / " +
             human_bytes(total_bytes) + "  " + human_bytes(rate) + "/s",
         now);
}

void ProgressBar::show(const std::string& line, Clock::time_point now) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    std::fflush(stderr);
    drawn_ = true;
    last_draw_ = now;
}

void ProgressBar::finish() {
    if (!drawn_) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
}

}  // namespace fastfs::cli
