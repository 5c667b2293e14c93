// `edgerl ckpt ls|inspect|verify|config`: looking into checkpoint files. Every problem is one
// line on stderr naming the file, and exit status 2.
#include <cmath>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "core/text.hpp"
#include "edgerl/checkpoint.hpp"
#include "edgerl/ckpt_format.hpp"

namespace edgerl::cli {

namespace {

const char* kCkptHelp =
    "usage: edgerl ckpt ls DIR\n"
    "       edgerl ckpt inspect FILE\n"
    "       edgerl ckpt verify FILE...\n"
    "       edgerl ckpt config FILE\n"
    "\n"
    "  ls DIR        the runs at or below DIR (e.g. results/checkpoints): each checkpoint's\n"
    "                eval step, timestep, episode return, size and time (folders below\n"
    "                DIR that cannot be read are passed over)\n"
    "  inspect FILE  a checkpoint's metadata and tensor table (data not verified)\n"
    "  verify FILE   checks every CRC of each file; exit status 0 only when all hold\n"
    "  config FILE   prints the config the checkpoint was trained with, as INI\n"
    "\n"
    "See docs/checkpoint-format.md for the file format.\n";

std::string utc_time(int64_t ms) {
  return utc_text(ms, false);
}

std::string number(double v) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A file that cannot be read: reported and counted, so that `verify` goes on with the others.
int report(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "edgerl ckpt: %s\n", message.c_str());
  return kExitUsage;
}

int ckpt_ls(const std::string& dir) {
  std::vector<RunListing> runs;
  Status s = list_runs(posix_fs(), dir, &runs);
  if (!s.ok()) throw UsageError(s.message());
  if (runs.empty()) {
    std::printf("no checkpoints at or below %s\n", dir.c_str());
    return 0;
  }
  for (const RunListing& run : runs) {
    uint64_t total = 0;
    for (const CheckpointEntry& e : run.checkpoints) total += e.size;
    std::printf("%s  (%zu checkpoint%s, %s)\n", run.dir.c_str(), run.checkpoints.size(),
                run.checkpoints.size() == 1 ? "" : "s", human_bytes(total).c_str());
    std::printf("  %10s %14s %12s %10s  %-19s  %s\n", "eval_step", "timestep", "return", "size",
                "saved (UTC)", "file");
    for (const CheckpointEntry& e : run.checkpoints) {
      const std::string file = base_name(e.path);
      if (!e.status.ok()) {
        std::printf("  %10lld  DAMAGED: %s\n", static_cast<long long>(e.eval_step),
                    e.status.message().c_str());
        continue;
      }
      std::printf("  %10lld %14lld %12s %10s  %-19s  %s\n", static_cast<long long>(e.eval_step),
                  static_cast<long long>(e.meta.timestep), number(e.meta.episode_return).c_str(),
                  human_bytes(e.size).c_str(), utc_time(e.meta.wall_time_ms).c_str(), file.c_str());
    }
    for (const std::string& t : run.temp_files)
      std::printf("  temporary file of an unfinished save: %s\n", base_name(t).c_str());
  }
  return 0;
}

int ckpt_inspect(const std::string& path) {
  CheckpointInfo info;
  Status s = read_checkpoint_file_info(posix_fs(), path, &info);
  if (!s.ok()) throw UsageError(s.message());
  const CheckpointMeta& m = info.meta;
  uint64_t raw = 0, stored = 0;
  for (const TensorRecord& r : info.tensors) raw += r.raw_size, stored += r.stored_size;
  std::printf("file            %s\n", path.c_str());
  std::printf("format          edgerl checkpoint %u.%u, %llu bytes\n", info.major, info.minor,
              static_cast<unsigned long long>(info.file_size));
  std::printf("model_name      %s\n", printable(m.model_name).c_str());
  std::printf("checkpoint_uid  %s\n", printable(m.checkpoint_uid).c_str());
  std::printf("eval_step       %lld\n", static_cast<long long>(m.eval_step));
  std::printf("timestep        %lld\n", static_cast<long long>(m.timestep));
  std::printf("episode_return  %s\n", number(m.episode_return).c_str());
  std::printf("saved           %s UTC\n", utc_time(m.wall_time_ms).c_str());
  std::printf("edgerl_version  %s\n", printable(m.edgerl_version).c_str());
  std::printf("config          %zu bytes of INI (edgerl ckpt config FILE prints it)\n",
              m.config_ini.size());
  std::printf("tensors         %zu: %s raw, %s stored (data not verified: edgerl ckpt verify)\n",
              info.tensors.size(), human_bytes(raw).c_str(), human_bytes(stored).c_str());
  size_t width = 4;
  for (const TensorRecord& r : info.tensors) width = std::max(width, r.name.size());
  std::printf("\n  %-*s  %-5s %-16s %12s %12s  %-4s  %s\n", static_cast<int>(width), "name",
              "dtype", "shape", "raw", "stored", "comp", "crc32");
  for (const TensorRecord& r : info.tensors)
    std::printf("  %-*s  %-5s %-16s %12llu %12llu  %-4s  %08x\n", static_cast<int>(width),
                r.name.c_str(), dtype_name(r.dtype), shape_string(r.shape).c_str(),
                static_cast<unsigned long long>(r.raw_size),
                static_cast<unsigned long long>(r.stored_size), compression_name(r.compression),
                r.crc32);
  return 0;
}

int ckpt_verify(const std::vector<std::string>& paths) {
  int status = 0;
  for (const std::string& path : paths) {
    CheckpointInfo info;
    const Status s = verify_checkpoint_file(posix_fs(), path, &info);
    if (!s.ok()) {
      status = report(s.message());
      continue;
    }
    std::printf("%s: ok (%zu tensors, %s)\n", path.c_str(), info.tensors.size(),
                human_bytes(info.file_size).c_str());
  }
  return status;
}

int ckpt_config(const std::string& path) {
  CheckpointInfo info;
  const Status s = read_checkpoint_file_info(posix_fs(), path, &info);
  if (!s.ok()) throw UsageError(s.message());
  std::fputs(info.meta.config_ini.c_str(), stdout);
  return 0;
}

}  // namespace

int cmd_ckpt(const Args& args) {
  std::vector<std::string> operands;
  ArgParser p("ckpt");
  p.operands(&operands);
  if (!p.parse(args)) {
    std::fputs(kCkptHelp, stdout);
    return kExitOk;
  }
  if (operands.empty())
    throw UsageError("needs a sub-command: ls, inspect, verify or config (see edgerl ckpt --help)");
  const std::string& sub = operands[0];
  const std::vector<std::string> rest(operands.begin() + 1, operands.end());
  const bool one = rest.size() == 1;
  if (sub == "ls" && one) return ckpt_ls(rest[0]);
  if (sub == "inspect" && one) return ckpt_inspect(rest[0]);
  if (sub == "config" && one) return ckpt_config(rest[0]);
  if (sub == "verify" && !rest.empty()) return ckpt_verify(rest);
  if (sub == "ls" || sub == "inspect" || sub == "config")
    throw UsageError(sub + " takes exactly one " + (sub == "ls" ? "folder" : "file") +
                     " (see edgerl ckpt --help)");
  if (sub == "verify") throw UsageError("verify needs at least one file");
  throw UsageError("unknown sub-command '" + sub + "'; use ls, inspect, verify or config");
}

}  // namespace edgerl::cli
