// train/saver: saves checkpoints on a thread of its own, so that the fsyncs that make a save
// durable (tens of milliseconds on an SD card or a busy disk) overlap the next learn() instead
// of stalling training. The loop hands over a copy of the learner state (a memcpy,
// microseconds) and at most one save is in flight: the next hand-over, and the end of
// training, wait for it. Before each save the thread makes the logs durable (Logger::sync)
// under the logger's lock, so a checkpoint never describes a timestep whose log rows could be
// lost in a power cut.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "edgerl/checkpoint.hpp"
#include "edgerl/logger.hpp"

namespace edgerl {

class BackgroundSaver {
 public:
  BackgroundSaver(Checkpointer& ckpt, Logger& logger, std::mutex& logger_mutex);
  ~BackgroundSaver();
  BackgroundSaver(const BackgroundSaver&) = delete;
  BackgroundSaver& operator=(const BackgroundSaver&) = delete;

  // The result of the previous save (waiting for it), then a copy of `state` queued for saving
  // (when due by save_interval_steps, or `force`d).
  SaveResult submit(int64_t timestep, int64_t eval_step, const TensorList& state,
                    double episode_return, bool force = false);
  // Waits for the save in flight, if any, and returns its result.
  SaveResult wait();

 private:
  struct Job {
    int64_t timestep = 0, eval_step = 0;
    double episode_return = 0;
    bool force = false;
  };
  void snapshot(const TensorList& state);
  void run();

  Checkpointer& ckpt_;
  Logger& logger_;
  std::mutex& logger_mutex_;
  std::vector<Tensor> copy_;
  TensorList views_;
  std::mutex mutex_;
  std::condition_variable cv_;
  Job job_;
  bool pending_ = false, stop_ = false;
  SaveResult result_;
  std::thread thread_;  // last: starts after everything it uses exists
};

}  // namespace edgerl
