// core/text: the small string rules and helpers that config, checkpoint, logger and the CLI
// share, each stated once: what a folder name may be, the "did you mean" suggestion, trimming,
// lower-casing and how a tensor shape is written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgerl {

// Bytes a folder name (model_name, checkpoint_uid, rel_dir, a run id) may have: NAME_MAX.
constexpr size_t kMaxFolderNameBytes = 255;

// Letters, digits, '.', '_', '-': the characters of folder names (and, with '/', of tensor
// and metric names).
bool is_name_char(char c);

// The characters of folder names: is_name_char's, plus '=' and ',' (a sweep's run ids read
// "actor_lr=3e-4,seed=3").
bool is_folder_char(char c);

// Why `name` cannot be one folder name (empty, "." or "..", longer than kMaxFolderNameBytes,
// a character other than letters, digits, '.', '_', '-', '=', ','), or "" when it can. The message
// follows the name's key, e.g. "logger.checkpointing.model_name " + problem.
std::string folder_name_problem(const std::string& name);

// Levenshtein distance between a and b.
size_t edit_distance(const std::string& a, const std::string& b);

// " (did you mean X?)" for the candidate closest to `word` (case-insensitive), or "" when no
// candidate is close enough to be a plausible typo.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

std::string trim(const std::string& s);
std::string lower(std::string s);

// The text as a one-line message may show it: control characters (line breaks included) as
// \xNN, so that user input never splits or garbles an error line.
std::string printable(const std::string& s);

// A Unix time in milliseconds as UTC text: "%Y%m%d%H%M%S" (compact) or "%Y-%m-%d %H:%M:%S",
// computed here rather than by gmtime, whose time_t is 32-bit on armhf (wrong after 2038).
std::string utc_text(int64_t unix_ms, bool compact);

// "[2, 3]" for a shape, "[]" for a scalar.
std::string shape_string(const std::vector<uint64_t>& shape);

}  // namespace edgerl
