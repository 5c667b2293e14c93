#include "core/pool.hpp"

#if defined(__linux__)
#include <pthread.h>
#endif
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace edgerl {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#endif
}

// How long an idle worker spins before it sleeps: longer than the gap between two jobs of one
// update (TD3's actor step between two critic steps is ~100 us), shorter than an evaluation.
// Measured on a Zen 3: 50 us made TD3 with 2 threads slower than with 1 (a futex wake per
// gradient step); 500 us and 2 ms gave the same times.
constexpr auto kSpinFor = std::chrono::microseconds(500);

uint32_t job_of(uint64_t claim) {
  return static_cast<uint32_t>(claim >> 40);
}
size_t tasks_of(uint64_t claim) {
  return static_cast<size_t>((claim >> 32) & 0xff);
}
uint64_t job_word(uint32_t job, size_t n) {
  return (static_cast<uint64_t>(job & 0xffffffu) << 40) | (static_cast<uint64_t>(n) << 32);
}

// Whether this thread is running a pool task now: a run() from inside one goes in order on
// the spot (the pool's threads are busy with the outer job).
thread_local bool t_in_task = false;

struct InTask {
  bool before = t_in_task;
  InTask() { t_in_task = true; }
  ~InTask() { t_in_task = before; }
};

}  // namespace

WorkerPool::WorkerPool(int threads) {
  workers_.reserve(static_cast<size_t>(std::max(0, threads - 1)));
  for (int t = 1; t < threads; ++t)
    workers_.emplace_back([this, t] { work(static_cast<size_t>(t)); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    claim_.store(job_word(job_of(claim_.load()) + 1, 0));  // a new "job": the workers see stop_
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void name_this_thread(const char* name) {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), name);
#else
  (void)name;
#endif
}

int WorkerPool::threads_for(int64_t requested, int useful) {
  useful = std::max(1, useful);
  if (requested > 0) return static_cast<int>(std::min<int64_t>(requested, useful));
  int cores = 0;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cores = CPU_COUNT(&set);
  if (cores <= 0) cores = static_cast<int>(std::thread::hardware_concurrency());
  if (cores <= 0) cores = 1;
  return std::max(1, std::min(cores, useful));
}

void WorkerPool::claim_and_run(uint32_t job, size_t home) noexcept {
  uint64_t c = claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((job_of(c) ^ job) & 0xffffffu) return;
    const size_t n = tasks_of(c);
    const uint32_t taken = static_cast<uint32_t>(c);
    size_t i = n;
    for (size_t k = 0; k < n; ++k) {
      const size_t t = (home + k) % n;
      if (!(taken >> t & 1u)) {
        i = t;
        break;
      }
    }
    if (i == n) return;  // every task of the job is claimed
    if (!claim_.compare_exchange_weak(c, c | (uint64_t{1} << i), std::memory_order_acq_rel,
                                      std::memory_order_acquire))
      continue;
    try {
      InTask in_task;
      fn_(ctx_, offset_ + i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_ || offset_ + i < error_task_) {
        error_ = std::current_exception();
        error_task_ = offset_ + i;
      }
    }
    finished_.fetch_add(1, std::memory_order_acq_rel);
    c = claim_.load(std::memory_order_acquire);
  }
}

void TaskPlacement::record(double seconds) {
  if (++steps_ > kSettle) sum_ += seconds;
  if (!probing_ && steps_ == kKeep) {
    kept_ = sum_ / (kKeep - kSettle);
    probing_ = true;
  } else if (probing_ && steps_ == kProbe) {
    // Back unless clearly faster: the two are often within noise of each other, and each
    // change of assignment costs its settling steps.
    if (sum_ / (kProbe - kSettle) >= 0.98 * kept_) swapped_ = !swapped_;
    probing_ = false;
  } else {
    return;
  }
  if (probing_) swapped_ = !swapped_;
  steps_ = 0;
  sum_ = 0;
}

double PairGuard::typical() const {
  double m = 0;
  for (double b : block_min_)
    if (b > 0 && (m == 0 || b < m)) m = b;
  return m;
}

namespace {
std::atomic<bool (*)(int64_t)> t_pattern{nullptr};
}

void PairGuard::set_pattern_for_tests(bool (*alone)(int64_t)) {
  t_pattern.store(alone);
}

bool PairGuard::alone() const {
  if (bool (*p)(int64_t) = t_pattern.load(std::memory_order_relaxed))
    return p(pair_steps_ + alone_steps_);
  return alone_;
}

void PairGuard::record(double seconds) {
  if (bool (*p)(int64_t) = t_pattern.load(std::memory_order_relaxed)) {
    ++(p(pair_steps_ + alone_steps_) ? alone_steps_ : pair_steps_);
    return;
  }
  if (alone_)
    record_alone(seconds);
  else
    record_pair(seconds);
}

void PairGuard::record_pair(double s) {
  // The fastest step of the last ~kTypical: blocks of kTypical / 4 steps, the current one last.
  if (block_steps_ == kTypical / 4) {
    for (int b = 0; b < 3; ++b) block_min_[b] = block_min_[b + 1];
    block_min_[3] = 0;
    block_steps_ = 0;
  }
  ++block_steps_;
  const double fastest = typical();  // before this step: a stall must not raise its own bar
  if (block_min_[3] == 0 || s < block_min_[3]) block_min_[3] = s;
  recent_[pair_steps_ % kWindow] = s;
  ++pair_steps_;
  if (trial_) {
    ++trial_steps_;
    trial_sum_ += s;
    if (trial_sum_ >= kTrial * alone_mean_) {  // lost, or can no longer win
      pause_ = std::min(2 * pause_, kMaxPause);
      go_alone();
    } else if (trial_steps_ == kTrial) {
      trial_ = false;  // won
      pause_ = kMinPause;
    }
    return;
  }
  if (fastest == 0 || s <= kStallFactor * fastest + kStallSlack) return;
  const bool again = pair_steps_ - last_stall_ <= kWindow;
  last_stall_ = pair_steps_;
  if (!again) return;
  if (alone_mean_ > 0 && pair_steps_ >= kWindow) {
    double sum = 0;
    for (double r : recent_) sum += r;
    if (sum < kWindow * alone_mean_) return;  // stalls and all, still faster than alone
  }
  go_alone();
}

void PairGuard::record_alone(double s) {
  ++alone_steps_;
  if (++since_ > kSettle) {
    alone_sum_ += s;
    ++alone_n_;
  }
  if (since_ < kSettle + pause_) return;
  if (alone_n_ > 0) alone_mean_ = alone_sum_ / alone_n_;
  go_pair();
}

void PairGuard::go_alone() {
  alone_ = true;
  trial_ = false;
  since_ = 0;
  alone_sum_ = 0;
  alone_n_ = 0;
}

void PairGuard::go_pair() {
  alone_ = false;
  trial_ = true;
  trial_steps_ = 0;
  trial_sum_ = 0;
  last_stall_ = pair_steps_ - kWindow - 1;  // stalls before the switch are not counted again
}

void Handoffs::wait(int k) const {
  for (unsigned spins = 0; event_[k].v.load(std::memory_order_acquire) != round_; ++spins) {
    if (failed_.load(std::memory_order_acquire)) throw Abandoned();
    if (spins < 4096)
      cpu_relax();
    else
      std::this_thread::yield();  // more threads than cores: let the other one run
  }
}

void Handoffs::wait(int k, WriteAhead& ahead) const {
  while (event_[k].v.load(std::memory_order_acquire) != round_) {
    if (failed_.load(std::memory_order_acquire)) throw Abandoned();
    if (!ahead.step()) return wait(k);
    for (int i = 0; i < 3; ++i) cpu_relax();  // ~50-150 ns between steps, by CPU
  }
}

bool WorkerPool::side_by_side() const {
  return !workers_.empty() && !t_in_task && !alone_.load(std::memory_order_relaxed);
}

void WorkerPool::run(size_t n, void (*fn)(void*, size_t), void* ctx) {
  if (workers_.empty() || n <= 1 || t_in_task || alone_.load(std::memory_order_relaxed)) {
    for (size_t i = 0; i < n; ++i) fn(ctx, i);
    return;
  }
  for (size_t offset = 0; offset < n; offset += kMaxTasks)
    run_job(std::min(kMaxTasks, n - offset), offset, fn, ctx);
  if (error_) {
    std::exception_ptr e = std::move(error_);
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

void WorkerPool::run_job(size_t n, size_t offset, void (*fn)(void*, size_t), void* ctx) {
  fn_ = fn;
  ctx_ = ctx;
  offset_ = offset;
  finished_.store(0, std::memory_order_relaxed);
  const uint32_t job = job_of(claim_.load(std::memory_order_relaxed)) + 1;
  claim_.store(job_word(job, n));  // seq_cst: publishes the job; before the sleepers_ read
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  claim_and_run(job, 0);
  for (unsigned spins = 0; finished_.load(std::memory_order_acquire) != n; ++spins) {
    if (spins < 4096)
      cpu_relax();
    else
      std::this_thread::yield();  // more threads than cores: let the worker finish
  }
}

void WorkerPool::work(size_t home) {
  name_this_thread("edgerl-worker");
  uint32_t seen = 0;  // the constructor's job: a thread that starts late still sees later ones
  for (;;) {
    uint32_t job = job_of(claim_.load(std::memory_order_acquire));
    if (job == seen) {
      const auto until = std::chrono::steady_clock::now() + kSpinFor;
      for (unsigned spins = 1; (job = job_of(claim_.load(std::memory_order_acquire))) == seen;
           ++spins) {
        cpu_relax();
        if (spins % 64 == 0 && std::chrono::steady_clock::now() > until) {
          std::unique_lock<std::mutex> lock(mutex_);
          sleepers_.fetch_add(1);  // seq_cst: before the claim_ read in the predicate
          wake_.wait(lock, [&] { return job_of(claim_.load()) != seen; });
          sleepers_.fetch_sub(1);
        }
      }
    }
    seen = job;
    if (stop_.load(std::memory_order_acquire)) return;
    claim_and_run(job, home);
  }
}

}  // namespace edgerl
