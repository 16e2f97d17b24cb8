// A progress bar on stderr for long copies: drawn only when stderr is a terminal and the work has run
// longer than half a second, so quick copies and scripts see nothing but the summary.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace fastfs::cli {

class ProgressBar {
  public:
    explicit ProgressBar(bool enabled);
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;
    ~ProgressBar();  // finish()

    // Whether stderr is a terminal (the default for `enabled`).
    static bool stderr_is_terminal();

    void update(uint64_t done_bytes, uint64_t total_bytes);
    // For trees: files and bytes done, and the totals when known (0: unknown, then no bar, only counts).
    void update_tree(uint64_t done_files, uint64_t total_files, uint64_t done_bytes, uint64_t total_bytes);
    // Erases the bar, so the next line starts clean.
    void finish();

  private:
    bool due(std::chrono::steady_clock::time_point now) const;
    void draw(uint64_t done_bytes, uint64_t total_bytes, std::chrono::steady_clock::time_point now);
    void show(const std::string& line, std::chrono::steady_clock::time_point now);

    using Clock = std::chrono::steady_clock;
    bool enabled_;
    bool drawn_ = false;
    Clock::time_point started_ = Clock::now();
    Clock::time_point last_draw_{};
};

}  // namespace fastfs::cli
