// Runs one sub-command in this process (cli::run, as main() does) with its stdout and stderr
// captured: for the tests of what a command prints and the status it returns.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

#include "cli/commands.hpp"

namespace edgerl::testing {

struct CliCall {
  int status = -1;
  std::string out, err;
};

inline CliCall call_cli(const std::string& command, const cli::Args& args) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  const int saved_out = dup(1), saved_err = dup(2);
  dup2(fileno(out), 1);
  dup2(fileno(err), 2);
  CliCall r;
  r.status = cli::run(command, args);
  std::fflush(stdout);
  std::fflush(stderr);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  for (auto [f, s] : {std::make_pair(out, &r.out), std::make_pair(err, &r.err)}) {
    std::rewind(f);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s->append(buf, n);
    std::fclose(f);
  }
  return r;
}

}  // namespace edgerl::testing
