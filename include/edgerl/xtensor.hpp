// xtensor: the tensors of a checkpoint seen as xtensor expressions, without a copy: xt::adapt
// over each tensor's own bytes, with its shape. Header-only: only a program that includes it
// needs xtensor (Debian: libxtensor-dev; pkg-config edgerl pulls in its flags).
//
//   std::vector<edgerl::Tensor> tensors;
//   edgerl::read_checkpoint_file(edgerl::posix_fs(), path, &info, &tensors);
//   auto w = edgerl::tensor_view<float>(tensors[0]);   // shape as stored; writes go through
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>

#include "edgerl/tensor.hpp"

namespace edgerl {

// The tensor as an xtensor view of element type T (which must be its dtype; else
// std::invalid_argument). The view points into t.bytes: keep t alive and unresized.
template <class T>
auto tensor_view(Tensor& t) {
  if (dtype_of<T>() != t.dtype)
    throw std::invalid_argument("tensor '" + t.name + "' is " + dtype_name(t.dtype) + ", not " +
                                dtype_name(dtype_of<T>()));
  const std::vector<size_t> shape(t.shape.begin(), t.shape.end());
  return xt::adapt(reinterpret_cast<T*>(t.bytes.data()), static_cast<size_t>(num_elements(t.shape)),
                   xt::no_ownership(), shape);
}

template <class T>
auto tensor_view(const Tensor& t) {
  if (dtype_of<T>() != t.dtype)
    throw std::invalid_argument("tensor '" + t.name + "' is " + dtype_name(t.dtype) + ", not " +
                                dtype_name(dtype_of<T>()));
  const std::vector<size_t> shape(t.shape.begin(), t.shape.end());
  return xt::adapt(reinterpret_cast<const T*>(t.bytes.data()),
                   static_cast<size_t>(num_elements(t.shape)), xt::no_ownership(), shape);
}

}  // namespace edgerl
