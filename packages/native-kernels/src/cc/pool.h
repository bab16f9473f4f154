// The worker pool shared by every kernel (pool.cc).
#pragma once
#include <functional>

namespace mmft {

/**
 * Run job(0 … threads−1) on the persistent pool (job(0) on the calling thread) and wait for all.
 * Not reentrant: call it from one thread (Node's main thread) only.
 */
void runParallel(int threads, const std::function<void(int)>& job);

}  // namespace mmft
