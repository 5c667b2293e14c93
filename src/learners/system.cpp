// The System base: the interval plan, the stoppable learn() loop, the counters and the metrics
// of an interval in progress.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "core/text.hpp"
#include "edgerl/system.hpp"

namespace edgerl {

void System::plan(int64_t num_updates, int64_t num_evaluation) {
  num_updates_ = num_updates;
  num_evaluation_ = num_evaluation;
}

int64_t System::updates_per_eval() const {
  const int64_t left = num_updates_ - counters_.plan_update;
  const int64_t intervals = std::max<int64_t>(1, num_evaluation_ - counters_.plan_eval_step);
  return std::max<int64_t>(1, left / intervals);
}

void System::replan() {
  counters_.plan_update = counters_.update;
  counters_.plan_eval_step = counters_.eval_step;
}

int64_t System::interval_end(int64_t k) const {
  return counters_.plan_update + updates_per_eval() * (k + 1 - counters_.plan_eval_step);
}

bool System::learn(Metrics& train, Metrics& act, const std::function<bool()>& stop) {
  const int64_t end = interval_end(counters_.eval_step);
  while (counters_.update < end) {
    update();
    counters_.update += 1;
    report_progress(counters_.timestep);
    if (counters_.update < end && stop && stop()) return false;
  }
  end_interval(interval_train_);
  counters_.eval_step += 1;
  train = interval_train_;  // copies, so the next interval appends without allocating
  act = interval_act_;
  interval_train_.reset_values();
  interval_act_.reset_values();
  return true;
}

std::vector<Tensor> System::interval_tensors() const {
  std::vector<Tensor> out;
  for (const auto* m : {&interval_train_, &interval_act_})
    for (const Metrics::Entry& e : m->entries()) {
      if (e.values.empty()) continue;
      Tensor t;
      t.name = std::string(m == &interval_train_ ? "interval/train/" : "interval/act/") + e.name;
      t.dtype = DType::f64;
      t.shape = {e.values.size()};
      t.bytes.resize(e.values.size() * sizeof(double));
      std::memcpy(t.bytes.data(), e.values.data(), t.bytes.size());
      out.push_back(std::move(t));
    }
  return out;
}

void System::set_interval_tensors(const std::vector<Tensor>& tensors) {
  interval_train_.reset_values();
  interval_act_.reset_values();
  for (const Tensor& t : tensors) {
    const bool train = t.name.rfind("interval/train/", 0) == 0;
    const bool act = t.name.rfind("interval/act/", 0) == 0;
    if ((!train && !act) || t.dtype != DType::f64 || t.shape.size() != 1)
      throw std::runtime_error("tensor '" + t.name + "' is not a metric of an interval");
    const std::string name = t.name.substr(train ? 15 : 13);
    std::vector<double> v(t.shape[0]);
    std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(double));
    for (double x : v)
      if (!std::isfinite(x))
        throw std::runtime_error("tensor '" + t.name + "' holds " + std::to_string(x));
    Metrics& m = train ? interval_train_ : interval_act_;
    try {
      for (double x : v) m.append(name, x);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("tensor '" + t.name + "': " + e.what());
    }
  }
}

void System::append_counter_tensors(TensorList& out) {
  Counters& c = counters_;
  out.push_back(tensor_ref("counters/timestep", &c.timestep, {}));
  out.push_back(tensor_ref("counters/update", &c.update, {}));
  out.push_back(tensor_ref("counters/eval_step", &c.eval_step, {}));
  out.push_back(tensor_ref("counters/plan_update", &c.plan_update, {}));
  out.push_back(tensor_ref("counters/plan_eval_step", &c.plan_eval_step, {}));
}

const std::vector<std::string>& optional_counter_tensors() {
  static const std::vector<std::string> kNames = {"counters/plan_update",
                                                  "counters/plan_eval_step"};
  return kNames;
}

void System::check_counters(int64_t steps_per_update) const {
  const Counters& c = counters_;
  if (c.timestep < 0 || c.update < 0 || c.eval_step < 0)
    throw std::runtime_error("counters are negative");
  if (steps_per_update > 0 && c.timestep != c.update * steps_per_update)
    throw std::runtime_error("counters/timestep = " + std::to_string(c.timestep) +
                             " does not match counters/update = " + std::to_string(c.update) +
                             " updates of " + std::to_string(steps_per_update) + " steps");
  if (c.plan_update < 0 || c.plan_update > c.update || c.plan_eval_step < 0 ||
      c.plan_eval_step > c.eval_step)
    throw std::runtime_error("counters/plan_update or counters/plan_eval_step is impossible");
}

}  // namespace edgerl
