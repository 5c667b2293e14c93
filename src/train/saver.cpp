#include "train/saver.hpp"

#include <cstring>

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

SaveResult BackgroundSaver::submit(int64_t timestep, int64_t eval_step, const TensorList& state,
                                   double episode_return, bool force) {
  SaveResult previous = wait();
  snapshot(state);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = Job{timestep, eval_step, episode_return, force};
    pending_ = true;
  }
  cv_.notify_all();
  return previous;
}

SaveResult BackgroundSaver::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return !pending_; });
  SaveResult r = std::move(result_);
  result_ = SaveResult{};
  return r;
}

void BackgroundSaver::snapshot(const TensorList& state) {
  if (copy_.size() != state.size()) {
    copy_.assign(state.size(), Tensor{});
    for (size_t i = 0; i < state.size(); ++i) {
      copy_[i].name = state[i].name;
      copy_[i].dtype = state[i].dtype;
      copy_[i].shape = state[i].shape;
      copy_[i].bytes.resize(state[i].size_bytes());
    }
    views_ = tensor_refs(copy_);
  }
  for (size_t i = 0; i < state.size(); ++i)
    if (state[i].size_bytes())
      std::memcpy(copy_[i].bytes.data(), state[i].data, state[i].size_bytes());
}

void BackgroundSaver::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || pending_; });
    if (!pending_) return;
    const Job job = job_;
    lock.unlock();
    {
      std::lock_guard<std::mutex> log_lock(logger_mutex_);
      logger_.sync();
    }
    SaveResult r = ckpt_.save(job.timestep, job.eval_step, views_, job.episode_return, job.force);
    lock.lock();
    result_ = std::move(r);
    pending_ = false;
    cv_.notify_all();
  }
}

}  // namespace edgerl
