// A learner rebuilt from a checkpoint file alone: the config stored in it, then its tensors.
#include "edgerl/checkpoint.hpp"
#include "edgerl/train.hpp"

namespace edgerl {

RestoredSystem restore_system(FileSystem& fs, const std::string& path) {
  RestoredSystem r;
  Status st = read_checkpoint_file_info(fs, path, &r.info);
  if (!st.ok()) throw RunError(st.message());
  try {
    r.config = load_config_text(r.info.meta.config_ini, path + " (stored config)");
  } catch (const ConfigError& e) {
    throw RunError(std::string("the config stored in the checkpoint is unusable: ") + e.what());
  }
  r.system = make_system(r.config);
  TensorList state;
  r.system->append_tensors(state);
  st = load_checkpoint_file(fs, path, state, &r.info);
  if (!st.ok()) throw RunError(st.message());
  try {
    r.system->after_restore();
  } catch (const std::exception& e) {
    throw RunError(path + ": restored state is impossible: " + e.what());
  }
  return r;
}

}  // namespace edgerl
