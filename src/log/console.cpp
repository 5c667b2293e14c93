// The console sink: one aligned line per event, colours and a progress bar on a terminal.
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstring>

#include "edgerl/logger.hpp"

namespace edgerl {
namespace {

constexpr int kBarWidth = 30;

// Stoix's console colours per event kind.
const char* colour_of(LogEvent event) {
  switch (event) {
    case LogEvent::TRAIN:
      return "\033[1;35m";
    case LogEvent::EVAL:
      return "\033[1;32m";
    case LogEvent::ABSOLUTE:
      return "\033[1;34m";
    case LogEvent::ACT:
      return "\033[1;36m";
    case LogEvent::MISC:
      return "\033[1;33m";
  }
  return "";
}

int digits(int64_t v) {
  int n = 1;
  while (v >= 10) v /= 10, ++n;
  return n;
}

// Fixed-width-friendly numbers: three decimals as Stoix prints them, one from 1000 on, and
// scientific notation for very large or very small magnitudes.
void append_number(std::string& out, double v, int width) {
  char buf[64];
  const double a = std::fabs(v);
  if (!std::isfinite(v))
    std::snprintf(buf, sizeof buf, "%*s", width, std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
  else if (a >= 1e6 || (a < 1e-3 && v != 0))
    std::snprintf(buf, sizeof buf, "%*.3e", width, v);
  else if (a >= 1000)
    std::snprintf(buf, sizeof buf, "%*.1f", width, v);
  else
    std::snprintf(buf, sizeof buf, "%*.3f", width, v);
  out += buf;
}

void append_duration(std::string& out, double seconds) {
  char buf[32];
  const auto s = static_cast<int64_t>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%" PRId64 ":%02d:%02d", s / 3600, static_cast<int>(s / 60 % 60),
                static_cast<int>(s % 60));
  out += buf;
}

}  // namespace

ConsoleSink::ConsoleSink(FILE* out, ConsoleStyle style)
    : out_(out), style_(std::move(style)), start_time_(style_.clock()) {
  if (style_.total_timesteps <= 0) style_.progress = false;
}

void ConsoleSink::clear_bar() {
  if (bar_len_ == 0) return;
  std::fprintf(out_, "\r%*s\r", static_cast<int>(bar_len_), "");
  bar_len_ = 0;
}

void ConsoleSink::write(const LogRecord& record) {
  if (!error().empty()) return;
  const int t_width = style_.total_timesteps > 0 ? digits(style_.total_timesteps) : 9;
  line_.clear();
  char buf[96];
  if (style_.colour) line_ += colour_of(record.event);
  std::snprintf(buf, sizeof buf, "%-8s", event_name(record.event));
  for (char* c = buf; *c; ++c) *c = static_cast<char>(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
  line_ += buf;
  if (style_.colour) line_ += "\033[0m";
  std::snprintf(buf, sizeof buf, "  t %*" PRId64, t_width, record.timestep);
  line_ += buf;
  if (style_.num_evaluation > 0)
    std::snprintf(buf, sizeof buf, "  eval %*" PRId64 "/%" PRId64, digits(style_.num_evaluation),
                  record.eval_step, style_.num_evaluation);
  else
    std::snprintf(buf, sizeof buf, "  eval %" PRId64, record.eval_step);
  line_ += buf;
  for (const auto& s : record.stats) {
    line_ += "  ";
    line_ += s.name;
    line_ += ' ';
    append_number(line_, s.value, 9);
    if (s.described) {
      line_ += " \u00b1 ";
      append_number(line_, s.std, -8);
    }
  }
  while (!line_.empty() && line_.back() == ' ') line_.pop_back();
  line_ += '\n';
  clear_bar();
  std::fputs(line_.c_str(), out_);
  if (style_.progress) progress(record.timestep, true);
}

void ConsoleSink::progress(int64_t timestep, bool force) {
  if (!style_.progress || !error().empty()) return;
  last_timestep_ = timestep;
  const double now = style_.clock();
  if (!force && now - last_draw_ < 0.1) return;
  last_draw_ = now;
  const int64_t total = style_.total_timesteps;
  const double frac = std::fmin(1.0, std::fmax(0.0, static_cast<double>(timestep) / total));
  const int filled = static_cast<int>(frac * kBarWidth);
  line_.assign("\r[");
  line_.append(filled, '=');
  if (filled < kBarWidth) line_ += '>', line_.append(kBarWidth - filled - 1, ' ');
  char buf[96];
  std::snprintf(buf, sizeof buf, "] %3d%%  %" PRId64 "/%" PRId64 " steps",
                static_cast<int>(frac * 100), timestep, total);
  line_ += buf;
  const double elapsed = now - start_time_;
  const auto done = static_cast<double>(timestep - style_.start_timestep);
  if (elapsed > 0 && done > 0) {
    const double rate = done / elapsed;
    std::snprintf(buf, sizeof buf, "  %.0f steps/s  ETA ", rate);
    line_ += buf;
    append_duration(line_, static_cast<double>(std::max<int64_t>(0, total - timestep)) / rate);
  } else {
    line_ += "  ETA --:--";
  }
  std::fputs(line_.c_str(), out_);
  bar_len_ = line_.size() - 1;  // without the leading \r
  std::fflush(out_);
}

void ConsoleSink::flush() {
  if (error().empty() && std::fflush(out_) != 0)
    fail(std::string("console output failed: ") + std::strerror(errno));
}

void ConsoleSink::message(FILE* out, const std::string& line) {
  const bool had_bar = bar_len_ > 0;
  clear_bar();
  std::fflush(out_);
  std::fprintf(out, "%s\n", line.c_str());
  std::fflush(out);
  if (had_bar) progress(last_timestep_, true);
}

void ConsoleSink::finish() {
  if (bar_len_ == 0) return;
  std::fputc('\n', out_);
  bar_len_ = 0;
  std::fflush(out_);
}

}  // namespace edgerl
