// text: small string helpers shared by the config loader and the command line.
#pragma once

#include <string>
#include <vector>

namespace edgerl {

// Levenshtein distance between a and b.
size_t edit_distance(const std::string& a, const std::string& b);

// " (did you mean X?)" for the candidate closest to `word` (case-insensitive), or "" when no
// candidate is close enough to be a plausible typo.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

std::string trim(const std::string& s);

}  // namespace edgerl
