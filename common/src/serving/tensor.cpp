#include "merit/serving/tensor.h"

#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "merit/util/assert.h"

namespace merit::serving {

std::string_view dtypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kInt64: return "int64";
  }
  return "unknown";
}

Tensor::Tensor() : m_shape{0}, m_data(std::vector<float>{}) {}

Result<std::size_t> Tensor::checkedNumel(const std::vector<std::int64_t>& shape) {
  std::size_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0)
      return fail(ErrorCode::kInvalidArgument,
                  fmt::format("negative dimension in shape [{}]", fmt::join(shape, ", ")));
    const auto ud = static_cast<std::size_t>(d);
    if (ud != 0 && n > std::numeric_limits<std::size_t>::max() / ud) {
      return fail(ErrorCode::kInvalidArgument,
                  fmt::format("shape [{}] is too large", fmt::join(shape, ", ")));
    }
    n *= ud;
  }
  return n;
}

Result<Tensor> Tensor::fromFloats(std::vector<std::int64_t> shape, std::vector<float> data) {
  MERIT_ASSIGN_OR_RETURN(std::size_t n, checkedNumel(shape));
  if (n != data.size()) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("shape [{}] needs {} values, got {}", fmt::join(shape, ", "), n, data.size()));
  }
  return Tensor(std::move(shape), Storage(std::move(data)));
}

Result<Tensor> Tensor::fromInt64(std::vector<std::int64_t> shape, std::vector<std::int64_t> data) {
  MERIT_ASSIGN_OR_RETURN(std::size_t n, checkedNumel(shape));
  if (n != data.size()) {
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("shape [{}] needs {} values, got {}", fmt::join(shape, ", "), n, data.size()));
  }
  return Tensor(std::move(shape), Storage(std::move(data)));
}

std::size_t Tensor::numel() const {
  return std::visit([](const auto& v) { return v.size(); }, m_data);
}

std::span<const float> Tensor::floats() const {
  MERIT_ASSERT(dtype() == DType::kFloat32, dtypeName(dtype()));
  return std::get<0>(m_data);
}

std::span<const std::int64_t> Tensor::int64s() const {
  MERIT_ASSERT(dtype() == DType::kInt64, dtypeName(dtype()));
  return std::get<1>(m_data);
}

std::vector<float> Tensor::takeFloats() && {
  MERIT_ASSERT(dtype() == DType::kFloat32, dtypeName(dtype()));
  std::vector<float> out = std::move(std::get<0>(m_data));
  *this = Tensor();
  return out;
}

std::vector<std::int64_t> Tensor::takeInt64s() && {
  MERIT_ASSERT(dtype() == DType::kInt64, dtypeName(dtype()));
  std::vector<std::int64_t> out = std::move(std::get<1>(m_data));
  *this = Tensor();
  return out;
}

std::string Tensor::describe() const {
  return fmt::format("{}[{}]", dtypeName(dtype()), fmt::join(m_shape, ", "));
}

bool sameRowShape(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype()) return false;
  const auto& sa = a.shape();
  const auto& sb = b.shape();
  if (sa.empty() || sa.size() != sb.size()) return false;
  for (std::size_t i = 1; i < sa.size(); ++i) {
    if (sa[i] != sb[i]) return false;
  }
  return true;
}

}  // namespace merit::serving
