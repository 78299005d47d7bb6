// Tensor: a dense, row-major array of float32 or int64 values with a shape. It is how requests
// and results cross merit_serving's public interface, so callers (plugins, the miner) never
// include libtorch headers; only the library's model translation unit converts to torch::Tensor.
//
// Thread-safety: a value type; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "merit/util/result.h"

namespace merit::serving {

enum class DType : unsigned char { kFloat32, kInt64 };

// "float32" or "int64".
std::string_view dtypeName(DType dtype);

class Tensor {
 public:
  // An empty float32 tensor of shape [0].
  Tensor();

  // Fails with invalid_argument if a dimension is negative, if the element count overflows, or
  // if data.size() is not the product of the shape (a scalar has shape {} and one element).
  static Result<Tensor> fromFloats(std::vector<std::int64_t> shape, std::vector<float> data);
  static Result<Tensor> fromInt64(std::vector<std::int64_t> shape, std::vector<std::int64_t> data);

  DType dtype() const { return m_data.index() == 0 ? DType::kFloat32 : DType::kInt64; }
  const std::vector<std::int64_t>& shape() const { return m_shape; }
  // Number of elements (the product of the shape).
  std::size_t numel() const;
  // Leading dimension (the per-request batch rows); 0 for a scalar.
  std::int64_t rows() const { return m_shape.empty() ? 0 : m_shape.front(); }

  // The values, row-major. Calling the accessor for the other dtype is a bug (MERIT_ASSERT).
  std::span<const float> floats() const;
  std::span<const std::int64_t> int64s() const;
  // Moves the values out; the tensor is left empty.
  std::vector<float> takeFloats() &&;
  std::vector<std::int64_t> takeInt64s() &&;

  // "float32[4, 1, 28, 28]", for messages.
  std::string describe() const;

  friend bool operator==(const Tensor&, const Tensor&) = default;

 private:
  using Storage = std::variant<std::vector<float>, std::vector<std::int64_t>>;
  Tensor(std::vector<std::int64_t> shape, Storage data)
      : m_shape(std::move(shape)), m_data(std::move(data)) {}
  static Result<std::size_t> checkedNumel(const std::vector<std::int64_t>& shape);

  std::vector<std::int64_t> m_shape;
  Storage m_data;
};

// True if a and b can be concatenated along dimension 0: same dtype, same rank (at least 1) and
// the same sizes in every dimension after the first.
bool sameRowShape(const Tensor& a, const Tensor& b);

}  // namespace merit::serving
