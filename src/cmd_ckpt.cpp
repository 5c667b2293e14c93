// `edgerl ckpt ls|inspect|verify|config` and `edgerl export`: looking into checkpoint files
// and converting them for numpy and PyTorch. Every problem is one line on stderr naming the
// file, and exit status 2.
#include <cmath>
#include <cstdio>
#include <ctime>
#include <new>
#include <string>

#include "edgerl/checkpoint.hpp"
#include "edgerl/ckpt_export.hpp"
#include "edgerl/ckpt_format.hpp"
#include "edgerl/commands.hpp"

namespace edgerl {

namespace {

const char* kCkptHelp =
    "usage: edgerl ckpt ls DIR\n"
    "       edgerl ckpt inspect FILE\n"
    "       edgerl ckpt verify FILE...\n"
    "       edgerl ckpt config FILE\n"
    "\n"
    "  ls DIR        the runs at or below DIR (e.g. results/checkpoints): each checkpoint's\n"
    "                eval step, timestep, episode return, size and time\n"
    "  inspect FILE  a checkpoint's metadata and tensor table (data not verified)\n"
    "  verify FILE   checks every CRC of each file; exit status 0 only when all hold\n"
    "  config FILE   prints the config the checkpoint was trained with, as INI\n"
    "\n"
    "See docs/checkpoint-format.md for the file format.\n";

const char* kExportHelp =
    "usage: edgerl export FILE --format npz|safetensors -o OUT\n"
    "\n"
    "Writes a checkpoint's tensors for other tools, after verifying every CRC:\n"
    "  npz          numpy.load(OUT)['actor/params']\n"
    "  safetensors  safetensors.numpy.load_file(OUT) or safetensors.torch.load_file(OUT);\n"
    "               the checkpoint's metadata and config are in its __metadata__\n"
    "Without --format, the format follows OUT's extension (.npz, .safetensors).\n";

// Printable text from a file's bytes: control characters must not reach the terminal.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
  return out;
}

std::string utc_time(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (!gmtime_r(&secs, &tm)) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string number(double v) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string shape_string(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int fail(const char* command, const std::string& message) {
  std::fprintf(stderr, "edgerl %s: %s\n", command, message.c_str());
  return 2;
}

int ckpt_ls(const std::string& dir) {
  std::vector<RunListing> runs;
  Status s = list_runs(posix_fs(), dir, &runs);
  if (!s.ok()) return fail("ckpt", s.message());
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
  if (!s.ok()) return fail("ckpt", s.message());
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
      status = fail("ckpt", s.message());
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
  if (!s.ok()) return fail("ckpt", s.message());
  std::fputs(info.meta.config_ini.c_str(), stdout);
  return 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int cmd_ckpt(const Args& args) {
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kCkptHelp, stdout);
      return 0;
    }
  if (args.empty())
    return fail("ckpt",
                "needs a sub-command: ls, inspect, verify or config (see edgerl ckpt --help)");
  const std::string& sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const std::string& a : rest)
    if (a.size() > 1 && a[0] == '-')
      return fail("ckpt", "unknown option '" + a + "' (see edgerl ckpt --help)");
  const bool one = rest.size() == 1;
  if (sub == "ls" && one) return ckpt_ls(rest[0]);
  if (sub == "inspect" && one) return ckpt_inspect(rest[0]);
  if (sub == "config" && one) return ckpt_config(rest[0]);
  if (sub == "verify" && !rest.empty()) return ckpt_verify(rest);
  if (sub == "ls" || sub == "inspect" || sub == "config")
    return fail("ckpt", sub + " takes exactly one " + (sub == "ls" ? "folder" : "file") +
                            " (see edgerl ckpt --help)");
  if (sub == "verify") return fail("ckpt", "verify needs at least one file");
  return fail("ckpt", "unknown sub-command '" + sub + "'; use ls, inspect, verify or config");
}

int cmd_export(const Args& args) {
  std::string input, format, output;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* name, std::string* into) {
      const std::string prefix = std::string(name) + "=";
      if (a.rfind(prefix, 0) == 0) return *into = a.substr(prefix.size()), true;
      if (a != name) return false;
      if (i + 1 >= args.size()) return *into = "", true;
      return *into = args[++i], true;
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kExportHelp, stdout);
      return 0;
    }
    if (value("--format", &format)) {
      if (format.empty()) return fail("export", "--format needs npz or safetensors");
    } else if (value("-o", &output) || value("--output", &output)) {
      if (output.empty()) return fail("export", "-o needs a file name");
    } else if (a.size() > 1 && a[0] == '-') {
      return fail("export", "unknown option '" + a + "' (see edgerl export --help)");
    } else if (input.empty()) {
      input = a;
    } else {
      return fail("export", "unexpected argument '" + a + "' (one checkpoint file at a time)");
    }
  }
  if (input.empty()) return fail("export", "needs a checkpoint file (see edgerl export --help)");
  if (output.empty()) return fail("export", "needs -o OUT, the file to write");
  if (format.empty())
    format = ends_with(output, ".npz")           ? "npz"
             : ends_with(output, ".safetensors") ? "safetensors"
                                                 : "";
  if (format != "npz" && format != "safetensors")
    return fail("export", format.empty()
                              ? "needs --format npz|safetensors"
                              : "unknown format '" + format + "'; use npz or safetensors");

  CheckpointInfo info;
  std::vector<Tensor> tensors;
  std::vector<uint8_t> bytes;
  try {
    Status s = read_checkpoint_file(posix_fs(), input, &info, &tensors);
    if (!s.ok()) return fail("export", s.message());
    s = format == "npz" ? encode_npz(tensors, &bytes)
                        : encode_safetensors(info.meta, tensors, &bytes);
    if (!s.ok()) return fail("export", input + ": " + s.message());
  } catch (const std::bad_alloc&) {
    return fail("export", input + ": not enough memory to hold its tensors");
  }
  tensors.clear();
  const Status s = write_file_atomic(posix_fs(), output, bytes.data(), bytes.size());
  if (!s.ok()) return fail("export", s.message());
  std::printf("%s: %zu tensors written as %s (%s)\n", output.c_str(), info.tensors.size(),
              format.c_str(), human_bytes(bytes.size()).c_str());
  return 0;
}

}  // namespace edgerl
