// Threads that serve the requests which can take long, when requests come over io_uring.
//
// Over io_uring, libfuse serves each CPU's queue on one thread, one request after another. A request that
// takes seconds there (a dense copy of a large file, a tree copy, an fsync of gigabytes) would hold up every
// other request made on that CPU, and some it may be waiting for: the progress queries of a tree copy, the
// WRITEs that an lseek's write-back of dirty pages sends (those are queued on the CPU the waiting thread
// runs on, so served on a queue thread they would never be answered). Such requests are handed to these
// threads and answered from there. On /dev/fuse, libfuse's own worker threads already serve requests side
// by side, and every request runs where it arrives.
//
// The queue needs no bound of its own: every queued request holds one of the kernel's ring entries until it
// is answered, so there are never more than the rings' depth.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fastfs::fuse {

class SlowRequests {
  public:
    SlowRequests() = default;
    SlowRequests(const SlowRequests&) = delete;
    SlowRequests& operator=(const SlowRequests&) = delete;
    ~SlowRequests() { stop(); }

    // Starts `threads` threads, which inherit the calling thread's credentials (call it acting as the
    // daemon). Until then, and after stop(), post() runs the work in place.
    void start(size_t threads);
    // Whether requests are handed to these threads.
    bool started() const { return !threads_.empty(); }
    // Runs `work` on one of the threads, or in place when none were started.
    void post(std::function<void()> work);
    // Finishes the queued work and joins the threads. Called once the session stopped reading requests.
    void stop();

  private:
    void serve();

    std::mutex mutex_;  // guards queue_ and stopping_
    std::condition_variable ready_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;  // written by start() and stop() only, before and after serving
};

}  // namespace fastfs::fuse
