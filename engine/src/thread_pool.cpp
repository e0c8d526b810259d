#include "haineifrdm/thread_pool.hpp"

#include <algorithm>

namespace haineifrdm {

ThreadPool::ThreadPool(int threads) {
  int n = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  n = std::max(n, 1);
  for (int i = 0; i < n - 1; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

bool ThreadPool::run_one_chunk(std::unique_lock<std::mutex>& lock) {
  if (job_ == nullptr || next_chunk_ >= chunks_) return false;
  const int64_t c = next_chunk_++;
  const int64_t begin = job_n_ * c / chunks_;
  const int64_t end = job_n_ * (c + 1) / chunks_;
  const auto* fn = job_;
  lock.unlock();
  (*fn)(begin, end);
  lock.lock();
  if (++chunks_done_ == chunks_) done_.notify_all();
  return true;
}

void ThreadPool::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  uint64_t seen = 0;
  while (true) {
    wake_.wait(lock, [&] { return stop_ || (generation_ != seen && next_chunk_ < chunks_); });
    if (stop_) return;
    while (run_one_chunk(lock)) {
    }
    seen = generation_;
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1) {
    fn(0, n);
    return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  job_ = &fn;
  job_n_ = n;
  chunks_ = std::min<int64_t>(n, static_cast<int64_t>(size()) * 4);
  next_chunk_ = 0;
  chunks_done_ = 0;
  ++generation_;
  wake_.notify_all();
  while (run_one_chunk(lock)) {
  }
  done_.wait(lock, [&] { return chunks_done_ == chunks_; });
  job_ = nullptr;
}

void run_on(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (pool != nullptr) {
    pool->parallel_for(n, fn);
  } else {
    fn(0, n);
  }
}

}  // namespace haineifrdm
