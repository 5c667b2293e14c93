// train/saver: saves checkpoints on a thread of its own, so that the fsyncs that make a save
// durable (tens of milliseconds on an SD card or a busy disk) overlap the next learn() instead
// of stalling training. The loop hands over a copy of the learner state and at most one save
// is in flight: the next hand-over, and the end of training, wait for it. Before each save the
// thread makes the logs durable (Logger::sync) under the logger's lock, so a checkpoint never
// describes a timestep whose log rows could be lost in a power cut.
//
// The copy is kept from one hand-over to the next, so its cost follows what changed rather
// than the state's size: a tensor written in ring order (TensorRef::rows, a replay buffer)
// has only the rows written since the last hand-over copied, and its encoder's ChunkCache
// told which bytes those were, so the thread deflates again only the chunks they fall in;
// every other tensor is copied whole. The first hand-over copies everything (and allocates).
#pragma once

#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "edgerl/checkpoint.hpp"
#include "edgerl/logger.hpp"
#include "edgerl/train.hpp"

namespace edgerl {

class BackgroundSaver {
 public:
  BackgroundSaver(Checkpointer& ckpt, Logger& logger, std::mutex& logger_mutex);
  ~BackgroundSaver();
  BackgroundSaver(const BackgroundSaver&) = delete;
  BackgroundSaver& operator=(const BackgroundSaver&) = delete;

  // The result of the previous save (waiting for it), then a copy of `state` queued for saving
  // (when due by save_interval_steps, or `force`d). Between calls, the tensors of `state` that
  // it copied before may change only as their TensorRef::rows say.
  SaveResult submit(int64_t timestep, int64_t eval_step, const TensorList& state,
                    double episode_return, bool force = false);
  // submit() in two halves, for a save that must wait for something the state's copy must
  // not: hand_over() waits for the previous save and copies `state` (its result is returned);
  // queue() then starts the save of that copy, from any thread. queue() may be called again
  // after wait() to save the same copy once more (a forced save after a skipped one).
  SaveResult hand_over(const TensorList& state);
  void queue(int64_t timestep, int64_t eval_step, double episode_return, bool force);
  // Waits for the save in flight, if any, and returns its result.
  SaveResult wait();
  // What the hand-overs and the saves finished so far cost.
  SaveStats stats();

 private:
  struct Job {
    int64_t timestep = 0, eval_step = 0;
    double episode_return = 0;
    bool force = false;
  };
  // The saver's copy of one tensor of the state, in memory from calloc: the pages of a large
  // copy stay unmapped until written, so the zeros of a partly filled buffer are neither
  // copied nor faulted in.
  struct FreeBytes {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  struct Mirror {
    TensorRef source;
    std::unique_ptr<uint8_t[], FreeBytes> copy;
    bool ring = false;    // copied by the rows written (source.rows, with rows to count)
    uint64_t writes = 0;  // *source.rows->writes when last copied
    bool mirrors(const TensorRef& t) const;
  };
  void snapshot(const TensorList& state);
  void set_up(Mirror& m, const TensorRef& t);
  void copy_rows(Mirror& m, uint64_t first, uint64_t count);

  void run();

  Checkpointer& ckpt_;
  Logger& logger_;
  std::mutex& logger_mutex_;
  std::vector<Mirror> mirrors_;
  TensorList views_;   // of the mirrors' copies, what the thread saves
  ChunkCache chunks_;  // the ring tensors' deflated chunks, kept between saves
  std::mutex mutex_;
  std::condition_variable cv_;
  Job job_;
  bool pending_ = false, stop_ = false;
  SaveResult result_;
  SaveStats stats_;     // the saves' part under mutex_
  std::thread thread_;  // last: starts after everything it uses exists
};

}  // namespace edgerl
