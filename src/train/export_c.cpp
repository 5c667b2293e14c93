// A greedy policy as one dependency-free C99 header: the weights as exact hexadecimal float
// literals, the observation normalisation, our own tanh (the same operations, in the same
// order, as core/detmath.hpp) and the MLP's sums in the order nn.cpp computes them, so the
// header's actions are the bits `edgerl eval` computes.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "edgerl/policy.hpp"

namespace edgerl {
namespace {

std::string hex_float(float v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%af", static_cast<double>(v));
  return buf;
}

std::string hex_double(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

template <class T, class F>
void array(std::string& out, const char* type, const std::string& name, const T* v, size_t n,
           F format) {
  out += "static const " + std::string(type) + " " + name + "[" + std::to_string(n) + "] = {";
  for (size_t i = 0; i < n; ++i) {
    if (i % 6 == 0) out += "\n   ";
    out += " " + format(v[i]) + (i + 1 < n ? "," : "");
  }
  out += "\n};\n";
}

// detmath::tanh<float> and what it uses, in C99. Each line is the C++ one, in order.
const char* kTanh =
    R"(/* tanh(x) = sign(x) E / (E + 2), E = expm1(2|x|), as edgerl's detmath computes it with
 * IEEE-754 basic operations only, so it gives the same bits on every CPU and C library. */
typedef union { float f; uint32_t u; } edgerl_policy_bits;
static float edgerl_policy_as_float(uint32_t u) { edgerl_policy_bits b; b.u = u; return b.f; }
static uint32_t edgerl_policy_as_bits(float f) { edgerl_policy_bits b; b.f = f; return b.u; }
static float edgerl_policy_tanh(float x) {
  const uint32_t sign = 0x80000000u, inf_bits = 0x7f800000u, clamp_bits = 0x41a00000u; /* 20 */
  const float shifter = 12582912.0f, log2e = %LOG2E%, ln2_hi = %LN2HI%, ln2_lo = %LN2LO%;
  const uint32_t xb = edgerl_policy_as_bits(x), ab = xb & ~sign;
  const uint32_t over = 0u - (uint32_t)(ab > clamp_bits);
  const float a = edgerl_policy_as_float((ab & ~over) | (clamp_bits & over));
  const float xx = a + a;
  const float t = xx * log2e + shifter;
  const float nf = t - shifter;
  const int32_t n = (int32_t)(edgerl_policy_as_bits(t) - edgerl_policy_as_bits(shifter));
  const float r = (xx - nf * ln2_hi) - nf * ln2_lo;
  float p = %C5%;
  p = p * r + %C4%;
  p = p * r + %C3%;
  p = p * r + %C2%;
  p = p * r + %C1%;
  p = p * r + %C0%;
  {
    const float em1 = r + (r * r) * p;
    const float s = edgerl_policy_as_float((uint32_t)(n + 127) << 23);
    const float e = s * em1 + (s - 1.0f);
    const uint32_t tb = edgerl_policy_as_bits(e / (e + 2.0f)) | (xb & sign);
    const uint32_t nan = 0u - (uint32_t)(ab > inf_bits);
    return edgerl_policy_as_float((tb & ~nan) | (xb & nan));
  }
}
)";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

}  // namespace

std::string policy_c_header(const PolicyModel& m, const std::string& source) {
  const size_t layers = m.widths.size() - 1;
  size_t widest = 0;
  for (size_t w : m.widths) widest = w > widest ? w : widest;
  const bool discrete = m.output == PolicyModel::Output::argmax;
  std::string h;
  h += "/* edgerl policy for " + m.env + ": an MLP ";
  for (size_t i = 0; i < m.widths.size(); ++i) h += (i ? "-" : "") + std::to_string(m.widths[i]);
  h += std::string(" (") + (m.hidden == Activation::tanh ? "tanh" : "relu") + " hidden layers)";
  h += ", from " + source + ".\n";
  h += " * Written by `edgerl export FILE --format c`. Dependency-free C99: no malloc, no libm.\n";
  h += discrete
           ? " * edgerl_policy_act(obs, out): out[0] = the greedy action's index (as a float).\n"
           : " * edgerl_policy_act(obs, out): out[0.." + std::to_string(m.action_dim()) +
                 ") = the greedy action.\n";
  h += " * Its actions are the bits `edgerl eval` computes when it is compiled without floating-\n"
       " * point contraction (-std=c99, or -ffp-contract=off; the pragmas below ask for it) and\n"
       " * without -ffast-math, on a target whose float is IEEE-754 single precision. */\n";
  h += "#ifndef EDGERL_POLICY_H\n#define EDGERL_POLICY_H\n\n#include <stddef.h>\n#include "
       "<stdint.h>\n\n";
  h += "#if defined(__clang__)\n#pragma STDC FP_CONTRACT OFF\n#elif defined(__GNUC__)\n"
       "#pragma GCC optimize(\"fp-contract=off\")\n#endif\n\n";
  h += "#define EDGERL_POLICY_OBS_DIM " + std::to_string(m.obs_dim) + "\n";
  h += "#define EDGERL_POLICY_ACTION_DIM " + std::to_string(m.action_dim()) + "\n";
  h += std::string("#define EDGERL_POLICY_DISCRETE ") + (discrete ? "1" : "0") + "\n";
  if (discrete) h += "#define EDGERL_POLICY_NUM_ACTIONS " + std::to_string(m.widths.back()) + "\n";
  h += "\n";
  size_t offset = 0;
  for (size_t l = 0; l < layers; ++l) {
    const size_t in = m.widths[l], out = m.widths[l + 1];
    array(h, "float", "edgerl_policy_w" + std::to_string(l), m.params.data() + offset, in * out,
          hex_float);
    offset += in * out;
    array(h, "float", "edgerl_policy_b" + std::to_string(l), m.params.data() + offset, out,
          hex_float);
    offset += out;
  }
  if (!m.obs_mean.empty()) {
    // sqrt is correctly rounded in IEEE-754, so the divisor is computed here, once, exactly as
    // the learner computes it: sqrt(var + 1e-8).
    std::vector<double> std_dev(m.obs_dim);
    for (size_t j = 0; j < m.obs_dim; ++j) std_dev[j] = std::sqrt(m.obs_var[j] + 1e-8);
    array(h, "double", "edgerl_policy_obs_mean", m.obs_mean.data(), m.obs_dim, hex_double);
    array(h, "double", "edgerl_policy_obs_std", std_dev.data(), m.obs_dim, hex_double);
  }
  if (m.output == PolicyModel::Output::tanh_scaled) {
    array(h, "float", "edgerl_policy_action_scale", m.action_scale.data(), m.action_dim(),
          hex_float);
    array(h, "float", "edgerl_policy_action_offset", m.action_offset.data(), m.action_dim(),
          hex_float);
  }
  // The constants of detmath's float tanh, as the C++ code derives them.
  std::string tanh = kTanh;
  tanh = replace_all(tanh, "%LOG2E%", hex_float(static_cast<float>(1.44269504088896340736)));
  tanh = replace_all(tanh, "%LN2HI%", hex_float(6.93145751953125e-01f));
  tanh = replace_all(tanh, "%LN2LO%", hex_float(1.428606765330187045e-06f));
  double f = 2.0;
  for (int k = 0; k < 6; ++k) {
    tanh =
        replace_all(tanh, "%C" + std::to_string(k) + "%", hex_float(static_cast<float>(1.0 / f)));
    f *= static_cast<double>(k + 3);
  }
  if (m.hidden == Activation::tanh || m.output == PolicyModel::Output::tanh_scaled)
    h += "\n" + tanh;
  h += R"(
/* y[out] = act(x[in] W[in][out] + b): each sum from 0 in ascending order of the inputs, the bias
 * added last, as edgerl's kernels compute it. act: 0 identity, 1 tanh, 2 relu. */
static void edgerl_policy_layer(const float* x, size_t in, const float* w, const float* b,
                                size_t out, float* y, int act) {
  size_t j, k;
  for (j = 0; j < out; ++j) {
    float acc = 0.0f;
    for (k = 0; k < in; ++k) acc += x[k] * w[k * out + j];
    acc = acc + b[j];
)";
  if (m.hidden == Activation::tanh)
    h += "    if (act == 1) acc = edgerl_policy_tanh(acc);\n";
  else
    h += "    if (act == 2) acc = acc > 0.0f ? acc : 0.0f;\n";
  h += "    y[j] = acc;\n  }\n}\n\n";
  h += "static void edgerl_policy_act(const float* obs, float* out) {\n";
  h += "  float a[" + std::to_string(widest) + "], c[" + std::to_string(widest) + "];\n";
  h += "  const float* x = obs;\n";
  if (!m.obs_mean.empty()) {
    char clip[48];
    std::snprintf(clip, sizeof clip, "%a", m.obs_clip);
    const std::string c = clip;
    // std::min(clip, std::max(-clip, z)) as the learner computes it (NaN becomes -clip).
    h += "  {\n    size_t j;\n    for (j = 0; j < EDGERL_POLICY_OBS_DIM; ++j) {\n";
    h += "      const double z = ((double)obs[j] - edgerl_policy_obs_mean[j]) / "
         "edgerl_policy_obs_std[j];\n";
    h += "      const double v = -" + c + " < z ? z : -" + c + ";\n";
    h += "      c[j] = (float)(v < " + c + " ? v : " + c + ");\n";
    h += "    }\n    x = c;\n  }\n";
  }
  for (size_t l = 0; l < layers; ++l) {
    const bool last = l + 1 == layers;
    const char* dst = l % 2 == 0 ? "a" : "c";
    const std::string act = last ? "0" : (m.hidden == Activation::tanh ? "1" : "2");
    h += "  edgerl_policy_layer(x, " + std::to_string(m.widths[l]) + ", edgerl_policy_w" +
         std::to_string(l) + ", edgerl_policy_b" + std::to_string(l) + ", " +
         std::to_string(m.widths[l + 1]) + ", " + dst + ", " + act + ");\n";
    h += std::string("  x = ") + dst + ";\n";
  }
  switch (m.output) {
    case PolicyModel::Output::argmax:
      h += "  {\n    size_t k, best = 0;\n    for (k = 1; k < " + std::to_string(m.widths.back()) +
           "; ++k)\n      if (x[k] > x[best]) best = k;\n    out[0] = (float)best;\n  }\n";
      break;
    case PolicyModel::Output::identity:
      h += "  {\n    size_t k;\n    for (k = 0; k < EDGERL_POLICY_ACTION_DIM; ++k) out[k] = "
           "x[k];\n  }\n";
      break;
    case PolicyModel::Output::tanh_scaled:
      h += "  {\n    size_t k;\n    for (k = 0; k < EDGERL_POLICY_ACTION_DIM; ++k)\n"
           "      out[k] = edgerl_policy_tanh(x[k]) * edgerl_policy_action_scale[k] + "
           "edgerl_policy_action_offset[k];\n  }\n";
      break;
  }
  h += "}\n\n#endif /* EDGERL_POLICY_H */\n";
  return h;
}

}  // namespace edgerl
