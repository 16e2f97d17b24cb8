#include "fastfs/cli/progress.hpp"

#include <unistd.h>

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

void ProgressBar::update(uint64_t done_bytes, uint64_t total_bytes) {
    if (!enabled_) return;
    auto now = Clock::now();
    if (now - started_ < kQuietPeriod || now - last_draw_ < kRedrawPeriod) return;
    draw(done_bytes, total_bytes, now);
}

void ProgressBar::draw(uint64_t done_bytes, uint64_t total_bytes, Clock::time_point now) {
    double fraction =
        total_bytes == 0 ? 1.0 : static_cast<double>(done_bytes) / static_cast<double>(total_bytes);
    if (fraction > 1.0) fraction = 1.0;
    int filled = static_cast<int>(fraction * kBarWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kBarWidth - filled), '.');
    double seconds = std::chrono::duration<double>(now - started_).count();
    auto rate = static_cast<uint64_t>(seconds > 0 ? static_cast<double>(done_bytes) / seconds : 0);
    std::fprintf(stderr, "\r[%s] %3d%% %s / %s  %s/s\033[K", bar.c_str(), static_cast<int>(fraction * 100),
                 human_bytes(done_bytes).c_str(), human_bytes(total_bytes).c_str(),
                 human_bytes(rate).c_str());
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
