// `edgerl plot`: learning curves from the logger's eval.csv as well-formed SVG.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli_call.hpp"
#include "edgerl/logger.hpp"
#include "edgerl/plot.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using edgerl::testing::slurp;
using edgerl::testing::TempDir;

namespace {

// ---- a small XML well-formedness checker: "" if well-formed, else what is wrong -----------------

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         c == ':' || static_cast<unsigned char>(c) >= 0x80;
}

// Text or an attribute value: '<' is not allowed and every '&' starts a known entity.
std::string check_chars(const std::string& s, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    if (s[i] == '<') return "'<' in text or attribute at " + std::to_string(i);
    if (s[i] != '&') continue;
    const size_t semi = s.find(';', i);
    if (semi == std::string::npos || semi >= to)
      return "unterminated entity at " + std::to_string(i);
    const std::string ent = s.substr(i + 1, semi - i - 1);
    const bool numeric =
        ent.size() > 1 && ent[0] == '#' &&
        ent.find_first_not_of(ent[1] == 'x' ? "0123456789abcdefABCDEF" : "0123456789",
                              ent[1] == 'x' ? 2 : 1) == std::string::npos;
    if (!numeric && ent != "amp" && ent != "lt" && ent != "gt" && ent != "quot" && ent != "apos")
      return "unknown entity &" + ent + "; at " + std::to_string(i);
  }
  return "";
}

std::string xml_error(const std::string& s) {
  std::vector<std::string> open;
  size_t i = 0;
  bool root_done = false;
  if (s.compare(0, 5, "<?xml") == 0) {
    i = s.find("?>");
    if (i == std::string::npos) return "unterminated XML declaration";
    i += 2;
  }
  while (i < s.size()) {
    const size_t lt = s.find('<', i);
    const size_t text_end = lt == std::string::npos ? s.size() : lt;
    if (open.empty()) {
      if (s.find_first_not_of(" \t\r\n", i) < text_end) return "text outside the root element";
    } else if (auto e = check_chars(s, i, text_end); !e.empty()) {
      return e;
    }
    if (lt == std::string::npos) break;
    i = lt + 1;
    if (s.compare(i, 3, "!--") == 0) {
      const size_t end = s.find("-->", i);
      if (end == std::string::npos) return "unterminated comment";
      i = end + 3;
      continue;
    }
    const bool closing = i < s.size() && s[i] == '/';
    if (closing) ++i;
    const size_t name_start = i;
    while (i < s.size() && name_char(s[i])) ++i;
    const std::string name = s.substr(name_start, i - name_start);
    if (name.empty()) return "element without a name at " + std::to_string(name_start);
    if (closing) {
      if (i >= s.size() || s[i] != '>') return "bad end tag </" + name;
      if (open.empty() || open.back() != name)
        return "</" + name + "> does not close the open element";
      open.pop_back();
      ++i;
      if (open.empty()) root_done = true;
      continue;
    }
    if (root_done) return "a second root element <" + name + ">";
    std::vector<std::string> attrs;
    for (;;) {
      const size_t before = i;
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      if (i >= s.size()) return "unterminated tag <" + name;
      if (s[i] == '>' || s.compare(i, 2, "/>") == 0) break;
      if (i == before) return "no space before an attribute of <" + name + ">";
      const size_t a = i;
      while (i < s.size() && name_char(s[i])) ++i;
      const std::string attr = s.substr(a, i - a);
      if (attr.empty() || i >= s.size() || s[i] != '=') return "bad attribute in <" + name + ">";
      for (const auto& seen : attrs)
        if (seen == attr) return "duplicate attribute " + attr + " in <" + name + ">";
      attrs.push_back(attr);
      const char quote = s[++i];
      if (quote != '"' && quote != '\'') return "unquoted attribute " + attr;
      const size_t end = s.find(quote, i + 1);
      if (end == std::string::npos) return "unterminated attribute " + attr;
      if (auto e = check_chars(s, i + 1, end); !e.empty()) return e;
      i = end + 1;
    }
    if (s[i] == '/') {
      i += 2;
      if (open.empty()) root_done = true;
    } else {
      open.push_back(name);
      ++i;
    }
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  if (!root_done) return "no root element";
  return "";
}

// The number of "x,y" pairs in the points attribute of each element named `tag`.
std::vector<size_t> point_counts(const std::string& svg, const std::string& tag) {
  std::vector<size_t> counts;
  for (size_t at = svg.find("<" + tag + " "); at != std::string::npos;
       at = svg.find("<" + tag + " ", at + 1)) {
    const size_t p = svg.find("points=\"", at) + 8;
    const std::string points = svg.substr(p, svg.find('"', p) - p);
    std::istringstream in(points);
    size_t n = 0;
    for (std::string pair; in >> pair; ++n) CHECK(pair.find(',') != std::string::npos);
    counts.push_back(n);
  }
  return counts;
}

size_t occurrences(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// A run folder named `uid` with `evals` rows in eval.csv, written by the logger itself (in a
// plain folder name, then renamed: plot reads folders of any name).
std::string make_run(const fs::path& base, const std::string& uid, int evals, double offset) {
  edgerl::LoggerConfig cfg;
  cfg.base_exp_path = base.string();
  cfg.console.enabled = false;
  cfg.tensorboard.enabled = false;
  edgerl::RunInfo run{"ff_ppo", "CartPole-v1", "making", 0, evals, -1};
  std::string dir;
  {
    edgerl::Logger logger(cfg, run);
    for (int e = 0; e < evals; ++e) {
      edgerl::Metrics m;
      const double r = offset + 10.0 * e;
      m.add("episode_return", std::vector<double>{r - 5, r, r + 5});
      logger.log(m, 4096 * (e + 1), e, edgerl::LogEvent::EVAL);
    }
    dir = logger.run_dir();
  }
  const std::string named = (fs::path(dir).parent_path() / uid).string();
  fs::rename(dir, named);
  return named;
}

// Runs `edgerl plot` (cli::run) with stdout and stderr captured.
using PlotRun = edgerl::testing::CliCall;
PlotRun run_plot(const edgerl::cli::Args& args) {
  return edgerl::testing::call_cli("plot", args);
}

}  // namespace

TEST_CASE("the XML checker itself rejects what is not well-formed") {
  CHECK(xml_error("<a><b/></a>").empty());
  CHECK(xml_error("<?xml version=\"1.0\"?>\n<a x=\"1 &amp; 2\">t &lt; u</a>\n").empty());
  CHECK_FALSE(xml_error("<a><b></a>").empty());
  CHECK_FALSE(xml_error("<a></a><b/>").empty());
  CHECK_FALSE(xml_error("<a x=\"1\" x=\"2\"/>").empty());
  CHECK_FALSE(xml_error("<a>R&D</a>").empty());
  CHECK_FALSE(xml_error("<a x=\"<\"/>").empty());
  CHECK_FALSE(xml_error("<a x=1/>").empty());
  CHECK_FALSE(xml_error("<a>").empty());
}

TEST_CASE("a small run plots as well-formed SVG with one point per evaluation") {
  TempDir dir;
  const std::string run = make_run(std::filesystem::path(dir.path()), "run1", 7, 0);
  const std::string svg_path = (std::filesystem::path(dir.path()) / "curve.svg").string();
  const PlotRun r = run_plot({run, "-o", svg_path});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out == "wrote " + svg_path + ": 1 run, 7 points\n");
  const std::string svg = slurp(svg_path);
  CHECK(xml_error(svg) == "");
  CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(point_counts(svg, "polyline") == std::vector<size_t>{7});
  CHECK(point_counts(svg, "polygon") == std::vector<size_t>{14});  // the min-max band
  CHECK(svg.find(">" + run + "</text>") != std::string::npos);     // the legend
  if (std::system("command -v xmllint >/dev/null 2>&1") == 0)
    CHECK(std::system(("xmllint --noout " + svg_path + " 2>/dev/null").c_str()) == 0);
}

TEST_CASE("several runs are overlaid in their own colours with an escaped legend") {
  TempDir dir;
  const std::string a = make_run(std::filesystem::path(dir.path()), "seed1", 5, 0);
  const std::string b = make_run(std::filesystem::path(dir.path()), "seed2&<3>", 3, 40);
  const std::string svg_path = (std::filesystem::path(dir.path()) / "two.svg").string();
  const PlotRun r =
      run_plot({a + "/", b + "/eval.csv", "--output=" + svg_path, "--title", "PPO \"CartPole\""});
  REQUIRE(r.status == 0);
  const std::string svg = slurp(svg_path);
  CHECK(xml_error(svg) == "");
  CHECK(point_counts(svg, "polyline") == std::vector<size_t>{5, 3});
  CHECK(point_counts(svg, "polygon") == std::vector<size_t>{10, 6});
  CHECK(occurrences(svg, "stroke=\"#1f77b4\"") == 2);  // line and legend of the first run
  CHECK(occurrences(svg, "stroke=\"#ff7f0e\"") == 2);
  CHECK(svg.find("seed2&amp;&lt;3&gt;") != std::string::npos);
  CHECK(svg.find(">PPO &quot;CartPole&quot;</text>") != std::string::npos);
}

TEST_CASE("a plain metric column plots as a line without a band") {
  TempDir dir;
  std::ofstream(std::filesystem::path(dir.path()) / "eval.csv")
      << "timestep,eval_step,solve_rate,wall_time\n"
         "100,0,0.5,1.0\n200,1,,2.0\n300,2,0.75,3.0\n400,3,1";
  const auto curve = edgerl::read_curve((std::filesystem::path(dir.path()) / "eval.csv").string(),
                                        "solve_rate", "run");
  CHECK(curve.timestep == std::vector<double>{100, 300});  // empty cell and torn row skipped
  CHECK(curve.lo.empty());
  const std::string svg = edgerl::render_svg({curve}, {});
  CHECK(xml_error(svg) == "");
  CHECK(point_counts(svg, "polygon").empty());
  CHECK(point_counts(svg, "polyline") == std::vector<size_t>{2});
}

TEST_CASE("values up to the largest double plot with a bounded number of ticks") {
  // A span past the largest double was inf: the tick step fell back to 1 and the tick loop
  // never ended (unbounded memory). Any finite input must give a finite, well-formed plot.
  constexpr double big = std::numeric_limits<double>::max();
  const auto curve = [](std::vector<double> t, std::vector<double> mean, std::vector<double> lo,
                        std::vector<double> hi) {
    edgerl::Curve c;
    c.label = "run";
    c.timestep = std::move(t);
    c.mean = std::move(mean);
    c.lo = std::move(lo);
    c.hi = std::move(hi);
    return c;
  };
  const std::vector<edgerl::Curve> cases = {
      curve({512}, {1.7e308}, {0}, {1.7e308}),
      curve({512}, {1.7e308}, {1.7e308}, {1.7e308}),
      curve({-1e308, 1e308}, {5, 5}, {}, {}),
      curve({-big, big}, {-big, big}, {-big, -big}, {big, big}),
      curve({big}, {big}, {}, {}),
      curve({-big}, {-big}, {}, {}),
      curve({0, 1}, {1e-308, 1e308}, {}, {}),
      curve({0, 1}, {0, 4.9e-324}, {}, {}),
      curve({0}, {4.9e-324}, {}, {}),
      curve({1e17, 1e17 + 16}, {1e300, std::nextafter(1e300, big)}, {}, {}),
  };
  for (const edgerl::Curve& c : cases) {
    CAPTURE(c.timestep.front());
    CAPTURE(c.mean.back());
    const std::string svg = edgerl::render_svg({c}, {});
    CHECK(xml_error(svg) == "");
    CHECK(svg.find("inf") == std::string::npos);
    CHECK(svg.find("nan") == std::string::npos);
    const size_t lines = occurrences(svg, "<line ");  // grid lines of both axes, the legend's
    CHECK(lines >= 5);
    CHECK(lines <= 2 * 12 + 1);
  }

  // From the command line, with a real eval.csv's header: it finishes and writes the SVG.
  TempDir dir;
  const fs::path csv = fs::path(dir.path()) / "single.csv";
  std::ofstream(csv) << "timestep,eval_step,episode_length_mean,episode_length_std,"
                        "episode_length_min,episode_length_max,episode_return_mean,"
                        "episode_return_std,episode_return_min,episode_return_max,wall_time\n"
                        "512,0,1,1,1,1,1.7e308,0,1.7e308,1.7e308,1\n";
  const std::string svg_path = (fs::path(dir.path()) / "x.svg").string();
  const PlotRun r = run_plot({csv.string(), "-o", svg_path});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(xml_error(slurp(svg_path)) == "");
}

TEST_CASE("bad input is one line on stderr naming the file, and status 2") {
  TempDir dir;
  const auto missing = run_plot({(std::filesystem::path(dir.path()) / "nope").string()});
  CHECK(missing.status == 2);
  CHECK(missing.err == "edgerl plot: " + (std::filesystem::path(dir.path()) / "nope").string() +
                           ": cannot open: No such file or directory\n");

  std::ofstream(std::filesystem::path(dir.path()) / "bad.csv")
      << "timestep,episode_return_mean\n100,1.5\n200,abc\n";
  const auto bad = run_plot({(std::filesystem::path(dir.path()) / "bad.csv").string(), "-o",
                             (std::filesystem::path(dir.path()) / "x.svg").string()});
  CHECK(bad.status == 2);
  CHECK(bad.err == "edgerl plot: " + (std::filesystem::path(dir.path()) / "bad.csv").string() +
                       ":3: 'abc' is not a number\n");
  CHECK_FALSE(fs::exists(std::filesystem::path(dir.path()) / "x.svg"));

  std::ofstream(std::filesystem::path(dir.path()) / "other.csv") << "timestep,loss\n100,1.5\n";
  const auto no_metric = run_plot({(std::filesystem::path(dir.path()) / "other.csv").string()});
  CHECK(no_metric.err.find("has no episode_return_mean or episode_return column") !=
        std::string::npos);

  for (const edgerl::cli::Args& args :
       {edgerl::cli::Args{}, edgerl::cli::Args{"--bogus", "x"}, edgerl::cli::Args{"run", "-o"}}) {
    const auto r = run_plot(args);
    CHECK(r.status == 2);
    CHECK(r.err.rfind("edgerl plot: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  const std::string run = make_run(std::filesystem::path(dir.path()), "ok", 2, 0);
  const auto unwritable =
      run_plot({run, "-o", (std::filesystem::path(dir.path()) / "no/such/dir.svg").string()});
  CHECK(unwritable.status == 2);
  CHECK(unwritable.err ==
        "edgerl plot: cannot write " +
            (std::filesystem::path(dir.path()) / "no/such/dir.svg").string() + ": folder " +
            (std::filesystem::path(dir.path()) / "no/such").string() + " does not exist\n");
}

TEST_CASE("plot -o never writes onto a checkpoint or a file of a run folder") {
  TempDir dir;
  const fs::path base(dir.path());
  const std::string run = make_run(base, "run1", 3, 0);
  // The rest of a run folder as training leaves it.
  std::ofstream(fs::path(run) / "summary.ini") << "[summary]\nfinished = true\n";
  std::ofstream(fs::path(run) / ".lock") << "123\n";
  std::ofstream(fs::path(run) / "train.csv") << "timestep,loss\n1,2\n";
  std::ofstream(fs::path(run) / "events.out.tfevents.1.host") << "events";
  const std::string kept = ": it would be overwritten; choose another output file\n";
  for (const char* name : {"train.csv", "summary.ini", ".lock", "events.out.tfevents.1.host"}) {
    CAPTURE(name);
    const std::string path = (fs::path(run) / name).string();
    const std::string before = slurp(path);
    const PlotRun r = run_plot({run, "-o", path});
    CHECK(r.status == 2);
    CHECK(r.err == "edgerl plot: -o " + path + " is a file of the run folder " +
                       fs::canonical(run).string() + kept);
    CHECK(slurp(path) == before);
  }
  // The option as the user spelled it; the input itself first.
  const std::string eval_csv = run + "/./eval.csv";  // the input by another name
  const PlotRun input = run_plot({run, "--output", eval_csv});
  CHECK(input.err ==
        "edgerl plot: --output " + eval_csv + " is the input " + run + "/eval.csv" + kept);

  // A checkpoint is known by its first bytes, whatever its name (a damaged one too).
  const std::string ckpt = (base / "notes.txt").string();
  std::ofstream(ckpt) << "EDGERLCK" << std::string(100, 'x');
  const PlotRun on_ckpt = run_plot({run, "-o", ckpt});
  CHECK(on_ckpt.status == 2);
  CHECK(on_ckpt.err == "edgerl plot: -o " + ckpt + " is an edgerl checkpoint" + kept);
  CHECK(slurp(ckpt) == "EDGERLCK" + std::string(100, 'x'));

  // A folder is refused; a new SVG in a run folder, and a user's own eval.csv in a folder
  // that is no run's, are fine.
  const PlotRun on_dir = run_plot({run, "-o", base.string()});
  CHECK(on_dir.err == "edgerl plot: -o " + base.string() + " is a folder; name a file\n");
  const std::string svg = (fs::path(run) / "curve.svg").string();
  CHECK(run_plot({run, "-o", svg}).status == 0);
  CHECK(run_plot({run, "-o", svg}).status == 0);
  fs::create_directories(base / "mine");
  const std::string mine = (base / "mine" / "eval.csv").string();
  std::ofstream(mine) << "old\n";
  CHECK(run_plot({run, "-o", mine}).status == 0);
  CHECK(slurp(mine).rfind("<?xml", 0) == 0);
}

TEST_CASE("plot --help prints the usage and succeeds") {
  const auto r = run_plot({"--help"});
  CHECK(r.status == 0);
  CHECK(r.out.rfind("usage: edgerl plot RUN_DIR...", 0) == 0);
  CHECK(r.err.empty());
}
