#include "train/saver.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>

#include "core/pool.hpp"
#include "edgerl/clock.hpp"

namespace edgerl {

BackgroundSaver::BackgroundSaver(Checkpointer& ckpt, Logger& logger, std::mutex& logger_mutex)
    : ckpt_(ckpt), logger_(logger), logger_mutex_(logger_mutex), thread_([this] { run(); }) {}

BackgroundSaver::~BackgroundSaver() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

namespace {

constexpr uint64_t kPage = 4096;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

SaveResult BackgroundSaver::submit(int64_t timestep, int64_t eval_step, const TensorList& state,
                                   double episode_return, bool force) {
  SaveResult previous = hand_over(state);
  queue(timestep, eval_step, episode_return, force);
  return previous;
}

SaveResult BackgroundSaver::hand_over(const TensorList& state) {
  const auto start = std::chrono::steady_clock::now();
  SaveResult previous = wait();
  snapshot(state);
  const double took = seconds_since(start);
  std::lock_guard<std::mutex> lock(mutex_);
  if (stats_.handovers++ == 0) {
    stats_.first_handover_seconds = took;
  } else {
    stats_.handover_seconds += took;
    stats_.max_handover_seconds = std::max(stats_.max_handover_seconds, took);
  }
  return previous;
}

void BackgroundSaver::queue(int64_t timestep, int64_t eval_step, double episode_return,
                            bool force) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = Job{timestep, eval_step, episode_return, force};
    pending_ = true;
  }
  cv_.notify_all();
}

SaveStats BackgroundSaver::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

SaveResult BackgroundSaver::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return !pending_; });
  SaveResult r = std::move(result_);
  result_ = SaveResult{};
  return r;
}

bool BackgroundSaver::Mirror::mirrors(const TensorRef& t) const {
  return source.data == t.data && source.rows == t.rows && source.dtype == t.dtype &&
         source.shape == t.shape && source.name == t.name;
}

// Brings the copy up to date with `state`: for a tensor copied before, the rows written since
// (ring tensors) or all of it; a tensor not seen before is set up and copied whole.
void BackgroundSaver::snapshot(const TensorList& state) {
  bool changed = mirrors_.size() != state.size();
  for (size_t i = state.size(); i < mirrors_.size(); ++i) chunks_.forget(mirrors_[i].source.name);
  mirrors_.resize(state.size());
  for (size_t i = 0; i < state.size(); ++i) {
    Mirror& m = mirrors_[i];
    const TensorRef& t = state[i];
    if (!m.mirrors(t)) {
      set_up(m, t);
      changed = true;
    } else if (m.ring) {
      const uint64_t rows = t.shape[0], writes = *t.rows->writes;
      const uint64_t count = std::min(writes - m.writes, rows);
      copy_rows(m, (*t.rows->next % rows + rows - count) % rows, count);
      m.writes = writes;
    } else if (t.size_bytes()) {
      std::memcpy(m.copy.get(), t.data, t.size_bytes());
    }
  }
  if (!changed) return;
  views_.clear();
  for (Mirror& m : mirrors_)
    views_.push_back(TensorRef{m.source.name, m.source.dtype, m.source.shape, m.copy.get()});
}

void BackgroundSaver::set_up(Mirror& m, const TensorRef& t) {
  if (!m.source.name.empty() && m.source.name != t.name) chunks_.forget(m.source.name);
  m.source = t;
  // A ring needs rows to count in; a scalar is copied whole.
  m.ring = t.rows && !t.shape.empty() && t.shape[0] > 0;
  const uint64_t n = t.size_bytes();
  m.copy.reset(
      static_cast<uint8_t*>(std::calloc(static_cast<size_t>(std::max<uint64_t>(n, 1)), 1)));
  if (!m.copy) throw std::bad_alloc();
  // Page by page, skipping the zeros calloc already gave.
  const uint8_t* src = static_cast<const uint8_t*>(t.data);
  for (uint64_t at = 0; at < n; at += kPage) {
    const size_t len = static_cast<size_t>(std::min(kPage, n - at));
    if (src[at] != 0 || std::memcmp(src + at, src + at + 1, len - 1) != 0)
      std::memcpy(m.copy.get() + at, src + at, len);
  }
  if (m.ring) {
    m.writes = *t.rows->writes;
    chunks_.track(t.name);
  } else {
    chunks_.forget(t.name);
  }
}

// Copies rows [first, first + count) of a ring tensor, wrapping around its end.
void BackgroundSaver::copy_rows(Mirror& m, uint64_t first, uint64_t count) {
  const uint64_t rows = m.source.shape[0], row_bytes = m.source.size_bytes() / rows;
  while (count > 0) {
    const uint64_t n = std::min(count, rows - first);
    const uint64_t begin = first * row_bytes, bytes = n * row_bytes;
    std::memcpy(m.copy.get() + begin, static_cast<const uint8_t*>(m.source.data) + begin, bytes);
    chunks_.changed(m.source.name, begin, begin + bytes);
    count -= n;
    first = 0;
  }
}

void BackgroundSaver::run() {
  name_this_thread("edgerl-saver");
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || pending_; });
    if (!pending_) return;
    const Job job = job_;
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = thread_cpu_seconds();
    {
      std::lock_guard<std::mutex> log_lock(logger_mutex_);
      logger_.sync();
    }
    SaveResult r =
        ckpt_.save(job.timestep, job.eval_step, views_, job.episode_return, job.force, &chunks_);
    const double took = seconds_since(start), cpu = thread_cpu_seconds() - cpu_start;
    lock.lock();
    if (r.saved) {
      stats_.saves += 1;
      stats_.save_seconds += took;
      stats_.save_cpu_seconds += cpu;
      stats_.max_save_seconds = std::max(stats_.max_save_seconds, took);
      stats_.last_bytes = r.bytes;
    }
    result_ = std::move(r);
    pending_ = false;
    cv_.notify_all();
  }
}

}  // namespace edgerl
