// `edgerl export`: a checkpoint's tensors converted for numpy and PyTorch.
#include <cstdio>
#include <new>
#include <string>

#include "cli/commands.hpp"
#include "edgerl/checkpoint.hpp"
#include "edgerl/ckpt_export.hpp"
#include "edgerl/policy.hpp"

namespace edgerl::cli {
namespace {

const char* kHelp =
    "usage: edgerl export FILE --format npz|safetensors|c [--best] -o OUT\n"
    "\n"
    "Writes a checkpoint's tensors for other tools, after verifying every CRC:\n"
    "  npz          numpy.load(OUT)['actor/params']\n"
    "  safetensors  safetensors.numpy.load_file(OUT) or safetensors.torch.load_file(OUT);\n"
    "               the checkpoint's metadata and config are in its __metadata__\n"
    "  c            the greedy policy as one dependency-free C99 header for a\n"
    "               microcontroller: #include it and call edgerl_policy_act(obs, out);\n"
    "               no malloc, no libm, the bits of `edgerl eval`'s actions; with\n"
    "               --best the run's best policy (`edgerl eval --best`)\n"
    "Without --format, the format follows OUT's extension (.npz, .safetensors, .h).\n"
    "OUT may be a stream (-o /dev/stdout): the report line then goes to stderr. export\n"
    "never writes onto a checkpoint (FILE included) or a run's log files: refused, exit 2.\n";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int cmd_export(const Args& args) {
  std::string format, output;
  bool has_format = false, best = false;
  std::vector<std::string> inputs;
  ArgParser p("export");
  p.option("--format", &format, "", &has_format)
      .option("--output", &output, "-o")
      .flag("--best", &best)
      .operands(&inputs);
  if (!p.parse(args)) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (has_format && format.empty()) throw UsageError("--format needs npz or safetensors");
  if (inputs.empty()) throw UsageError("needs a checkpoint file (see edgerl export --help)");
  if (inputs.size() > 1)
    throw UsageError("unexpected argument '" + inputs[1] + "' (one checkpoint file at a time)");
  const std::string& input = inputs[0];
  if (output.empty()) throw UsageError("needs -o OUT, the file to write");
  if (format.empty())
    format = ends_with(output, ".npz")           ? "npz"
             : ends_with(output, ".safetensors") ? "safetensors"
             : ends_with(output, ".h")           ? "c"
                                                 : "";
  if (format != "npz" && format != "safetensors" && format != "c")
    throw UsageError(format.empty() ? "needs --format npz|safetensors|c"
                                    : "unknown format '" + format + "'; use npz, safetensors or c");
  if (best && format != "c")
    throw UsageError("--best chooses the policy of --format c; " + format +
                     " holds every tensor, the best policy's (best/...) among them");

  check_output_file(p.spelling("--output"), output, {input});
  if (format == "c") {
    const std::string header =
        policy_c_header((best ? load_best_policy(input) : load_policy(input))->model(), input);
    bool streamed = false;
    const Status s = write_output_file(output, reinterpret_cast<const uint8_t*>(header.data()),
                                       header.size(), &streamed);
    if (!s.ok()) throw UsageError(s.message());
    std::fprintf(streamed ? stderr : stdout, "%s: the %sgreedy policy as a C99 header (%s)\n",
                 output.c_str(), best ? "best " : "", human_bytes(header.size()).c_str());
    return kExitOk;
  }
  CheckpointInfo info;
  std::vector<Tensor> tensors;
  std::vector<uint8_t> bytes;
  try {
    Status s = read_checkpoint_file(posix_fs(), input, &info, &tensors);
    if (!s.ok()) throw UsageError(s.message());
    s = format == "npz" ? encode_npz(tensors, &bytes)
                        : encode_safetensors(info.meta, tensors, &bytes);
    if (!s.ok()) throw UsageError(input + ": " + s.message());
  } catch (const std::bad_alloc&) {
    throw UsageError(input + ": not enough memory to hold its tensors", kExitNoMemory);
  }
  tensors.clear();
  bool streamed = false;
  const Status s = write_output_file(output, bytes.data(), bytes.size(), &streamed);
  if (!s.ok()) throw UsageError(s.message());
  std::fprintf(streamed ? stderr : stdout, "%s: %zu tensors written as %s (%s)\n", output.c_str(),
               info.tensors.size(), format.c_str(), human_bytes(bytes.size()).c_str());
  return kExitOk;
}

}  // namespace edgerl::cli
