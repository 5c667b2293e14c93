// A persistent fork-join pool for the few independent pieces of one update: the actor's and
// the critic's minibatch steps in PPO, the twin critics of SAC and TD3. The threads are made
// once; run() hands out tasks and returns when all are done, without allocating.
//
// Thread t (the caller is 0, the workers 1, 2, ...) first claims task t, then any task left, so
// with as many tasks as threads each thread keeps running the same task every time (the same
// critic, the actor or the critic of PPO): its network stays in that core's caches instead of
// moving between cores at every step. A worker that is slow to wake or busy elsewhere still
// costs nothing: the caller takes its task too. The tasks of one run() must not write memory
// another reads or writes; then the results are the same bits whoever runs them, which is
// what lets arch.num_threads leave training unchanged. Idle workers spin briefly (the next
// step follows within microseconds), then sleep.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

namespace edgerl {

class WorkerPool {
 public:
  // threads >= 1: the caller plus threads - 1 workers (1: no thread is made).
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(ctx, i) once for every i in [0, n) and returns when all have run (at most
  // kMaxTasks tasks at a time). If tasks throw, the exception of the lowest such i is rethrown
  // here after all finished. Called from inside a task of any pool (a network splitting its
  // work while it runs as one of the twin critics), it runs the tasks in order on the calling
  // thread.
  void run(size_t n, void (*fn)(void*, size_t), void* ctx);
  static constexpr size_t kMaxTasks = 32;

  // run() with a callable f(i).
  template <class F>
  void for_each(size_t n, F&& f) {
    using Fn = std::remove_reference_t<F>;
    run(
        n, [](void* c, size_t i) { (*static_cast<Fn*>(c))(i); }, &f);
  }

  // Two callables side by side: a() and b(), each on whichever thread claims it.
  template <class A, class B>
  void both(A&& a, B&& b) {
    for_each(2, [&](size_t i) {
      if (i == 0)
        a();
      else
        b();
    });
  }

  // Whether run() would now hand tasks to other threads (else it runs them in order on the
  // calling thread: no workers, called from inside a task, or set_alone()). Tasks that wait for
  // each other may only be given to run() when this holds.
  bool side_by_side() const;

  // While set (by the thread that calls run()), run() runs every task in order on the calling
  // thread and the workers idle, then sleep: a step that PairGuard gives to one thread.
  void set_alone(bool alone) { alone_.store(alone, std::memory_order_relaxed); }

  // The threads for arch.num_threads = requested: 0 = the cores this process may use; never
  // more than `useful` (what the learner can keep busy) and never fewer than 1.
  static int threads_for(int64_t requested, int useful);

 private:
  void work(size_t home);
  // Claims and runs tasks of job `job`, its own (`home`) first, until none is left.
  void claim_and_run(uint32_t job, size_t home) noexcept;
  void run_job(size_t n, size_t offset, void (*fn)(void*, size_t), void* ctx);

  std::vector<std::thread> workers_;
  // The job: written by run() before it publishes the job in claim_.
  void (*fn_)(void*, size_t) = nullptr;
  void* ctx_ = nullptr;
  size_t offset_ = 0;  // task i of the job is fn_(ctx_, offset_ + i)
  // (job number << 40) | (task count << 32) | bit i set once task i is claimed: a claim is a
  // compare-exchange on all three, so a thread that looked at an earlier job can never claim a
  // task of a later one.
  std::atomic<uint64_t> claim_{0};
  std::atomic<size_t> finished_{0};  // tasks of the current job that have run
  std::mutex error_mutex_;
  std::exception_ptr error_;
  size_t error_task_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> alone_{false};
};

// Hand-overs between the two tasks of one WorkerPool job that run side by side for a whole
// step (see run_side_by_side): post(k) says that what event k stands for is done and its memory
// written; wait(k) returns once it is (acquire/release: the memory is visible). begin() starts a
// new round, before the job. If a task fails it calls fail(), and the other's waits throw
// Handoffs::Abandoned instead of waiting for ever. Each event has its own cache line, written by
// one thread only.
// Memory a thread is about to write that the other thread has read since it last wrote it:
// each such cache line must first be taken back from the other core, which a plain store does
// about one line at a time (docs/benchmarks.md: 18 KB cost 2.9-3.5 us against 0.15). step()
// asks for the lines ahead (a prefetch for writing), a few at a time so that the requests
// overlap without flooding the core's miss queue, while the thread would otherwise wait. Only
// a hint: it changes no value, and a line the other thread reads again meanwhile is simply
// taken back then.
class WriteAhead {
 public:
  static constexpr size_t kLinesPerStep = 8;
  void add(const void* p, size_t bytes) {
    if (n_ == kRanges || bytes == 0) return;
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    r_[n_++] = {a & ~uintptr_t(kLine - 1), a + bytes};
  }
  // Asks for up to kLinesPerStep more lines; false once every line has been asked for.
  bool step() {
    for (size_t lines = 0; n_ > 0 && lines < kLinesPerStep;) {
      Range& r = r_[n_ - 1];
      for (; r.next < r.end && lines < kLinesPerStep; r.next += kLine, ++lines)
        prefetch_for_write(reinterpret_cast<const void*>(r.next));
      if (r.next >= r.end) --n_;
    }
    return n_ > 0;
  }

 private:
  static void prefetch_for_write(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("prefetchw %0" ::"m"(*static_cast<const char*>(p)));  // a NOP on CPUs without
#else
    __builtin_prefetch(p, 1, 3);
#endif
  }
  static constexpr size_t kLine = 64;
  static constexpr size_t kRanges = 4;
  struct Range {
    uintptr_t next, end;
  };
  Range r_[kRanges];
  size_t n_ = 0;
};

// Which thread runs which task of run_side_by_side. Each task keeps its memory in its own
// core's caches, so the heavier task is best on the faster core; on a virtual machine the two
// cores' speeds differ with the host's load, and the difference changes within seconds. So
// after every kKeep steps this tries the other assignment for kProbe steps and keeps it if its
// steps were faster (the first kSettle steps of either count for neither: the caches refill).
// Only timing depends on it, never a result.
class TaskPlacement {
 public:
  static constexpr int kKeep = 1024, kProbe = 128, kSettle = 16;
  // Whether the worker runs the first task (and the calling thread the second).
  bool swapped() const { return swapped_; }
  // One step took `seconds` under the current assignment.
  void record(double seconds);

 private:
  bool swapped_ = false, probing_ = false;
  int steps_ = 0;
  double sum_ = 0, kept_ = 0;
};

// Whether a learner's steps run side by side on two threads or on the calling thread alone
// (the learners' two paths give the same bits: only timing depends on it). Two threads pay only
// while both run. When the machine has fewer free cores than the process has busy threads
// (another program, the evaluation's thread), a step waits for whichever thread the scheduler
// set aside, often for a whole time slice: milliseconds against a step's tens of microseconds
// (SAC on Pendulum beside one busy process on two cores: 2.7-2.9 s, and 1.1-1.6 s alone). So:
//  - a pair step slower than kStallFactor times the fastest of the last ~kTypical pair steps,
//    plus kStallSlack, is a stall;
//  - at a stall within kWindow steps of the one before, the steps go alone unless the last
//    kWindow pair steps took less than as many alone steps did (when that is known);
//  - alone, the steps go back to two threads after a pause, for a trial of kTrial steps that
//    wins when it takes less than as many alone steps (and stops as soon as it cannot); the
//    pause doubles after each lost trial (kMinPause to kMaxPause steps) and restarts from
//    kMinPause after a won one.
// The first kSettle alone steps after a switch (the caches refill) count for no mean.
class PairGuard {
 public:
  static constexpr int kWindow = 64, kTrial = 64, kSettle = 4, kMinPause = 32, kMaxPause = 8192;
  static constexpr int kTypical = 1024;
  static constexpr double kStallFactor = 4.0, kStallSlack = 100e-6;
  // Whether the next step should run on the calling thread alone.
  bool alone() const;
  // One step took `seconds`, alone or not as alone() said before it.
  void record(double seconds);
  // Steps run alone so far; *of (if given): all steps so far (System::steps_alone).
  int64_t alone_steps(int64_t* of = nullptr) const {
    if (of) *of = alone_steps_ + pair_steps_;
    return alone_steps_;
  }
  // Tests: step k (from 0, of every guard) runs alone where alone(k), whatever the times;
  // nullptr goes back to the times.
  static void set_pattern_for_tests(bool (*alone)(int64_t step));

 private:
  void record_pair(double s);
  void record_alone(double s);
  void go_alone();
  void go_pair();  // for a trial
  double typical() const;

  bool alone_ = false, trial_ = false;
  int64_t pair_steps_ = 0, last_stall_ = -kWindow - 1, alone_steps_ = 0;
  double recent_[kWindow] = {};  // the last kWindow pair steps, a ring
  // The fastest pair step of each of the last blocks of kTypical / 4 steps (the current one last).
  double block_min_[4] = {0, 0, 0, 0};
  int block_steps_ = 0;
  // Alone: steps since the switch, the sum and count of those that count, the last mean.
  int since_ = 0, pause_ = kMinPause;
  double alone_sum_ = 0, alone_mean_ = 0;
  int alone_n_ = 0;
  // A trial: its steps and their sum.
  int trial_steps_ = 0;
  double trial_sum_ = 0;
};

class Handoffs {
 public:
  static constexpr int kEvents = 12;
  struct Abandoned : std::runtime_error {
    Abandoned() : std::runtime_error("the other task of the step failed") {}
  };
  void begin() {
    ++round_;
    failed_.store(false, std::memory_order_relaxed);
  }
  void post(int k) { event_[k].v.store(round_, std::memory_order_release); }
  void wait(int k) const;
  // wait(k), meanwhile asking for `ahead`'s lines.
  void wait(int k, WriteAhead& ahead) const;
  void fail() { failed_.store(true, std::memory_order_release); }
  TaskPlacement& placement() { return placement_; }
  PairGuard& guard() { return guard_; }
  const PairGuard& guard() const { return guard_; }

 private:
  struct alignas(64) Event {
    std::atomic<uint64_t> v{0};
  };
  Event event_[kEvents];
  uint64_t round_ = 0;
  alignas(64) std::atomic<bool> failed_{false};
  TaskPlacement placement_;
  PairGuard guard_;
};

// a() and b() on the calling thread and a worker (which runs which: h's TaskPlacement), as one
// job, synchronised through h (a new round). Needs pool.side_by_side(): a task that waits for one
// that never runs would wait for ever. If a task throws, the other's waits are released, and the
// exception that caused it reaches the caller (not the other task's Handoffs::Abandoned).
template <class A, class B>
void run_side_by_side(WorkerPool& pool, Handoffs& h, A&& a, B&& b) {
  std::exception_ptr error[2];
  auto guarded = [&](auto& f, int k) {
    try {
      f();
    } catch (...) {
      error[k] = std::current_exception();
      h.fail();
    }
  };
  h.begin();
  const auto start = std::chrono::steady_clock::now();
  if (h.placement().swapped())
    pool.both([&] { guarded(b, 1); }, [&] { guarded(a, 0); });
  else
    pool.both([&] { guarded(a, 0); }, [&] { guarded(b, 1); });
  h.placement().record(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  auto abandoned = [](const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const Handoffs::Abandoned&) {
      return true;
    } catch (...) {
      return false;
    }
  };
  for (const std::exception_ptr& e : error)
    if (e && !abandoned(e)) std::rethrow_exception(e);
  for (const std::exception_ptr& e : error)
    if (e) std::rethrow_exception(e);
}

// The threads of one step of a learner that runs its steps on a pool of two threads when
// `guard` lets it: side_by_side() says whether to. Else, for this object's scope (the step),
// the pool runs its tasks in order on the calling thread alone. Either way the step's time goes
// to the guard.
class StepThreads {
 public:
  StepThreads(WorkerPool* pool, PairGuard& guard) {
    if (!pool || !pool->side_by_side()) return;
    guard_ = &guard;
    if (guard.alone()) {
      alone_ = pool;
      pool->set_alone(true);
    }
    start_ = std::chrono::steady_clock::now();
  }
  ~StepThreads() {
    if (!guard_) return;
    guard_->record(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    if (alone_) alone_->set_alone(false);
  }
  StepThreads(const StepThreads&) = delete;
  StepThreads& operator=(const StepThreads&) = delete;
  bool side_by_side() const { return guard_ && !alone_; }

 private:
  PairGuard* guard_ = nullptr;   // set when the pool has two threads to give
  WorkerPool* alone_ = nullptr;  // the pool of a step on the calling thread alone
  std::chrono::steady_clock::time_point start_;
};

// Names the calling thread (as `top -H`, `ps -L` and perf show it), at most 15 characters;
// does nothing where threads have no names.
void name_this_thread(const char* name);

}  // namespace edgerl
