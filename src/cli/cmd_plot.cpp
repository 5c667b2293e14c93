// `edgerl plot RUN_DIR... [-o FILE]`: the runs' evaluation curves in one SVG.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli/commands.hpp"
#include "edgerl/io.hpp"
#include "edgerl/plot.hpp"

namespace edgerl::cli {
namespace {

constexpr const char* kUsage =
    "usage: edgerl plot RUN_DIR... [-o FILE] [--metric NAME] [--title TEXT]\n"
    "\n"
    "Draws each run's evaluation curve from RUN_DIR/eval.csv into one SVG: the mean as a line,\n"
    "min to max as a shaded band, one colour per run with a legend. RUN_DIR may also name a\n"
    "CSV file directly.\n"
    "\n"
    "  -o, --output FILE  the SVG to write (default: curve.svg; /dev/stdout works, and the\n"
    "                     report line then goes to stderr); never onto a checkpoint or a\n"
    "                     run's log files (refused, exit status 2)\n"
    "  --metric NAME      the evaluation metric (default: episode_return)\n"
    "  --title TEXT       a title above the plot\n"
    "  -h, --help         this help\n";

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string without_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

int cmd_plot(const Args& args) {
  std::vector<std::string> runs;
  std::string output = "curve.svg", metric = "episode_return", title;
  ArgParser p("plot");
  p.option("--output", &output, "-o")
      .option("--metric", &metric)
      .option("--title", &title)
      .operands(&runs);
  if (!p.parse(args)) {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (output.empty()) throw UsageError("--output needs a FILE");
  if (metric.empty()) throw UsageError("--metric needs a NAME");
  if (runs.empty()) throw UsageError("no RUN_DIR given (see edgerl plot --help)");

  std::vector<std::string> inputs;
  for (const auto& run : runs)
    inputs.push_back(is_directory(run) ? without_trailing_slashes(run) + "/eval.csv" : run);
  check_output_file(p.spelling("--output"), output, inputs);
  std::vector<Curve> curves;
  size_t points = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    curves.push_back(read_curve(inputs[i], metric, without_trailing_slashes(runs[i])));
    points += curves.back().timestep.size();
  }

  PlotOptions options;
  options.title = title;
  options.y_label = metric == "episode_return" ? "episode return" : metric;
  const std::string svg = render_svg(curves, options);
  bool streamed = false;
  const Status st = write_output_file(output, reinterpret_cast<const uint8_t*>(svg.data()),
                                      svg.size(), &streamed);
  if (!st.ok()) throw UsageError(st.message());
  std::fprintf(streamed ? stderr : stdout, "wrote %s: %zu run%s, %zu points\n", output.c_str(),
               curves.size(), curves.size() == 1 ? "" : "s", points);
  return kExitOk;
}

}  // namespace edgerl::cli
