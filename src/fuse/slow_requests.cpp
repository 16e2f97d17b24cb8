#include "fastfs/fuse/slow_requests.hpp"

#include <pthread.h>

#include <utility>

namespace fastfs::fuse {

void SlowRequests::start(size_t threads) {
    for (size_t i = 0; i < threads; ++i)
        threads_.emplace_back([this] {
            ::pthread_setname_np(::pthread_self(), "fastfs-slow");  // in top and perf, apart from libfuse's
            serve();
        });
}

void SlowRequests::post(std::function<void()> work) {
    {
        std::lock_guard lock(mutex_);
        if (!threads_.empty() && !stopping_) {
            queue_.push_back(std::move(work));
            ready_.notify_one();
            return;
        }
    }
    work();
}

void SlowRequests::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& thread : threads_)
        thread.join();
    threads_.clear();
}

void SlowRequests::serve() {
    for (;;) {
        std::function<void()> work;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything queued was served
            work = std::move(queue_.front());
            queue_.pop_front();
        }
        work();
    }
}

}  // namespace fastfs::fuse
