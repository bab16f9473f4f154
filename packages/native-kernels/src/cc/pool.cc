// The persistent worker pool every multi-threaded kernel splits its work over (runParallel).
#include "pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mmft {
namespace {

// A fixed set of worker threads; run(t, f) calls f(0..t-1), f(0) on the caller. Leaked on
// purpose: destroying joinable std::threads at exit would call std::terminate. Both sides spin
// briefly before sleeping on a condition variable (as OpenMP runtimes do): kernels come back to
// back, and a futex wake-up costs tens of microseconds on a busy machine, as long as a whole
// elementwise kernel (measured: a 266k-float add took 0.09 ms on two sleeping threads, 0.04 on one).
class Pool {
 public:
  void run(int threads, const std::function<void(int)>& job) {
    ensure(threads - 1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = &job;
      active_ = threads - 1;
      pending_.store(threads - 1, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    job(0);
    spinWhile([this] { return pending_.load(std::memory_order_acquire) != 0; }, kCallerSpin);
    if (pending_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
  }

 private:
  static std::chrono::microseconds workerSpin() {
    static const std::chrono::microseconds spin{[] {
      const char* v = std::getenv("MMFT_NATIVE_SPIN_US");
      return v ? std::atol(v) : 200L;
    }()};
    return spin;
  }
  static constexpr std::chrono::microseconds kCallerSpin{2000};

  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  // Spin while `busy()` for at most `limit`, reading the clock every 256 checks.
  template <typename F>
  static void spinWhile(F&& busy, std::chrono::microseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (unsigned i = 1; busy(); i++) {
      pause();
      if (i % 256 == 0 && std::chrono::steady_clock::now() > until) return;
    }
  }

  void ensure(int workers) {
    while (int(threads_.size()) < workers) {
      const int index = int(threads_.size()) + 1;
      const uint64_t start = generation_.load(std::memory_order_acquire);
      threads_.emplace_back([this, index, start] { loop(index, start); });
      threads_.back().detach();
    }
  }
  // `seen` is the generation when the thread was made: a job posted before it first waits still runs.
  void loop(int index, uint64_t seen) {
    for (;;) {
      spinWhile([&] { return generation_.load(std::memory_order_acquire) == seen; }, workerSpin());
      const std::function<void(int)>* job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        seen = generation_.load(std::memory_order_acquire);
        if (index > active_) continue;
        job = job_;
      }
      (*job)(index);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);
        done_.notify_one();
      }
    }
  }
  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  int active_ = 0;
  std::atomic<int> pending_{0};
};

Pool& pool() {
  static Pool* instance = new Pool();
  return *instance;
}

}  // namespace

void runParallel(int threads, const std::function<void(int)>& job) {
  if (threads <= 1) {
    job(0);
    return;
  }
  pool().run(threads, job);
}

}  // namespace mmft
