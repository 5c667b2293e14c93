// nn: multi-layer perceptrons on one flat parameter buffer, with batched forward and backward.
//
// Layout (docs/nn.md): for each layer l in order, W_l as [in_l][out_l] row-major, then b_l as
// [out_l]. Gradients use the same layout, and so do the optimizer's moments, so an optimizer
// step is one loop over num_params() numbers. Hidden layers apply the configured activation
// (tanh or relu); the output layer is the identity.
//
// Results are bit-identical on every CPU and build (native, portable, aarch64): each output is
// a sum in a fixed order written in the source (vectorised only across independent outputs),
// tanh comes from detmath, and initialisation uses our own Pcg64. All buffers are allocated by
// the constructor and reserve(); forward and backward never allocate once the batch size has
// been seen (or reserved).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgerl/aligned.hpp"
#include "edgerl/rng.hpp"
#include "edgerl/tensor.hpp"

namespace edgerl {

enum class Activation { tanh, relu, identity };

// How init() draws the parameters:
// - orthogonal: torch.nn.init.orthogonal_ on each weight, times the layer's gain (sqrt(2) for
//   hidden layers, the output's by the network's role), zero biases: Stoix, CleanRL's PPO/DQN.
// - torch_default: PyTorch's nn.Linear default, every weight and bias uniform in
//   [-1/sqrt(in), 1/sqrt(in)], gains unused: CleanRL's SAC/TD3/DDPG and RLtools.
enum class KernelInit { orthogonal, torch_default };

// A network as a config's [network.*] section gives it: hidden widths, their activation and
// how its parameters start.
struct NetworkConfig {
  std::vector<int64_t> layer_sizes = {64, 64};
  std::string activation = "tanh";         // tanh | relu
  std::string kernel_init = "orthogonal";  // orthogonal | torch_default
};

// "tanh" | "relu" (the values NetworkConfig::activation may take); throws std::invalid_argument.
Activation parse_activation(const std::string& name);
// "orthogonal" | "torch_default" (NetworkConfig::kernel_init); throws std::invalid_argument.
KernelInit parse_kernel_init(const std::string& name);

// T = float is the network the learners use; T = double runs the very same code for gradient
// checks against finite differences.
template <class T>
class BasicMlp {
 public:
  struct Layer {
    size_t in = 0, out = 0;
    size_t w_offset = 0;  // W at params() + w_offset, [in][out]
    size_t b_offset = 0;  // b at params() + b_offset, [out]
    Activation activation = Activation::identity;
    double init_gain = 1.0;
  };

  // in_dim -> layer_sizes... -> out_dim. Hidden layers get gain sqrt(2); the output layer gets
  // output_gain (CleanRL: 0.01 for a policy head, 1.0 for a value head), both used by the
  // orthogonal init only. Parameters are zero until init().
  BasicMlp(size_t in_dim, const NetworkConfig& net, size_t out_dim, double output_gain);
  // Same, from explicit widths and activation (the config is one way to spell these).
  BasicMlp(std::vector<size_t> widths, Activation hidden, double output_gain,
           KernelInit kernel_init = KernelInit::orthogonal);

  // Draws every parameter from rng as kernel_init says. Orthogonal: each [out][in] weight
  // matrix from out * in normals, orthonormalised, times the gain; zero biases. torch_default:
  // each layer's weights in PyTorch's [out][in] order, then its biases, one uniform each.
  void init(Pcg64& rng);
  KernelInit kernel_init() const { return kernel_init_; }

  // y[batch][out_dim] = network(x[batch][in_dim]). Keeps what backward() needs.
  void forward(const T* x, size_t batch, T* y);
  // The same y (the same bits), keeping nothing: for acting, evaluation and target networks.
  // Works in the calling thread's scratch, so a network that is only ever predicted holds no
  // activations of its own.
  void predict(const T* x, size_t batch, T* y) const;
  // Given dL/dy for the last forward() (same batch), adds dL/dparams into grads() and writes
  // dL/dx into dx unless it is null.
  void backward(const T* dy, size_t batch, T* dx);
  // Only dL/dx for the last forward() (same batch): the same numbers backward() writes into
  // dx, without computing or touching the parameter gradients (a critic's gradient with
  // respect to its action input, for an actor's loss).
  void input_gradient(const T* dy, size_t batch, T* dx);
  // Only the input columns first .. first + count of it, into dx [batch][count] (a critic's
  // action columns: the observation columns are never needed).
  void input_gradient(const T* dy, size_t batch, T* dx, size_t first, size_t count);
  // Grows the workspaces for batches up to max_batch now rather than on first use.
  void reserve(size_t max_batch);
  // Ahead of the next backward() or input_gradient(), where the calling thread would
  // otherwise wait: the transposes that pass needs, of the hidden layers' weights and (for a
  // backward() that takes the sparse path) of the last forward()'s activations. The
  // activations' serve that one pass (forward() drops them too). The weights' serve every
  // pass until the parameters may change: params() (the writable pointer: take it again
  // after transposing, before writing), init(), copy_params_from(), polyak_update() and
  // append_tensors() (a restore) drop them, and a call while they are still good skips
  // transposing them again. The passes compute the same numbers either way.
  void transpose_ahead() { transpose_ahead(true); }
  // Only the weights' transposes when the pass is an input_gradient(), which takes no
  // parameter gradients (for_param_grads = false).
  void transpose_ahead(bool for_param_grads);
  // Forgets what transpose_ahead() computed: for writes to the parameters it cannot see (a
  // restore through the list append_tensors() gave out earlier).
  void drop_transposes() { wt_ahead_valid_ = xt_ahead_valid_ = false; }

  void zero_grad();
  T* params() {
    wt_ahead_valid_ = false;  // the caller may write them
    return params_.data();
  }
  const T* params() const { return params_.data(); }
  T* grads() { return grads_.data(); }
  const T* grads() const { return grads_.data(); }
  size_t num_params() const { return params_.size(); }
  size_t in_dim() const { return layers_.front().in; }
  size_t out_dim() const { return layers_.back().out; }
  const std::vector<Layer>& layers() const { return layers_; }

  // Target networks: params = other's params (same architecture), and the Polyak average
  // params = tau * other + (1 - tau) * params. Throw std::invalid_argument on a shape mismatch.
  void copy_params_from(const BasicMlp& other);
  void polyak_update(const BasicMlp& online, double tau);

  // Adds "<prefix>/params" [num_params] (f32 for Mlp) to the list.
  void append_tensors(TensorList& list, const std::string& prefix);

 private:
  void check_same_shape(const BasicMlp& other) const;
  void layer_forward(size_t l, const T* in, size_t batch, T* out, uint64_t* masks) const;
  void backward_pass(const T* dy, size_t batch, T* dx, bool param_grads, size_t first,
                     size_t count);
  void accumulate_param_grads(const Layer& layer, const T* x, bool x_sparse, const T* g,
                              size_t batch, const T* xt_ahead);
  bool sparse_param_grads(size_t l) const;

  std::vector<Layer> layers_;
  KernelInit kernel_init_ = KernelInit::orthogonal;
  AlignedVector<T> params_, grads_;
  // What backward() needs from the last forward(), each [capacity_][width]: the input and
  // every hidden layer's output. A pass's temporaries (gradient buffers, transposes) are the
  // calling thread's scratch (nn.cpp), shared by all networks.
  size_t capacity_ = 0, max_width_ = 0, batch_ = 0;
  AlignedVector<T> input_;
  std::vector<AlignedVector<T>> hidden_;
  // transpose_ahead()'s, per layer (0 unused): W^T [out][in] and the input's x^T [in][batch].
  std::vector<AlignedVector<T>> wt_ahead_, xt_ahead_;
  bool wt_ahead_valid_ = false, xt_ahead_valid_ = false;
};

using Mlp = BasicMlp<float>;
using MlpD = BasicMlp<double>;

extern template class BasicMlp<float>;
extern template class BasicMlp<double>;

}  // namespace edgerl
