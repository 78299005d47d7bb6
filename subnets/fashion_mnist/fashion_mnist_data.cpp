#include "fashion_mnist_data.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <system_error>
#include <zlib.h>

namespace merit::fashion_mnist {

namespace {

constexpr std::array<std::string_view, kClasses> kClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

std::uint32_t readBigEndian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

float readLittleEndianFloat(const std::uint8_t* p) {
  const std::uint32_t bits = std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
                             (std::uint32_t{p[3]} << 24);
  return std::bit_cast<float>(bits);
}

// Closes a gzFile on every path.
struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};

// Finds <dir>/<base>.gz, else <dir>/<base>.
std::filesystem::path findFile(const std::filesystem::path& dir, const std::string& base) {
  std::error_code ec;
  auto gz = dir / (base + ".gz");
  if (std::filesystem::is_regular_file(gz, ec)) return gz;
  auto plain = dir / base;
  if (std::filesystem::is_regular_file(plain, ec)) return plain;
  return gz;  // for the message
}

}  // namespace

std::string_view className(std::size_t label) {
  return label < kClasses ? kClassNames[label] : std::string_view("?");
}

Result<IdxArray> parseIdx(std::span<const std::uint8_t> bytes, std::string_view name, std::size_t maxBytes) {
  auto corrupt = [&](const std::string& why) {
    return fail(ErrorCode::kCorruption, std::string(name) + ": not a valid IDX file: " + why);
  };
  if (bytes.size() < 4) return corrupt("shorter than its 4-byte magic number");
  if (bytes[0] != 0 || bytes[1] != 0) return corrupt("bad magic number (the first two bytes must be 0)");
  if (bytes[2] != 0x08) {
    constexpr char kHex[] = "0123456789abcdef";
    const std::string type = {'0', 'x', kHex[bytes[2] >> 4], kHex[bytes[2] & 0xf]};
    return corrupt("element type " + type + " is not unsigned byte (0x08)");
  }
  const std::size_t ndims = bytes[3];
  if (ndims < 1 || ndims > 4) return corrupt(std::to_string(ndims) + " dimensions (expected 1 to 4)");
  const std::size_t header = 4 + 4 * ndims;
  if (bytes.size() < header) return corrupt("truncated in its dimensions");
  IdxArray out;
  std::size_t total = 1;
  for (std::size_t i = 0; i < ndims; ++i) {
    const std::uint32_t d = readBigEndian32(bytes.data() + 4 + 4 * i);
    if (d == 0) return corrupt("dimension " + std::to_string(i) + " is 0");
    if (total > maxBytes / d)
      return corrupt("larger than the limit of " + std::to_string(maxBytes) + " bytes");
    total *= d;
    out.dims.push_back(d);
  }
  const std::size_t body = bytes.size() - header;
  if (body < total) {
    return corrupt("truncated: " + std::to_string(body) + " data bytes, the dimensions need " +
                   std::to_string(total));
  }
  if (body > total) {
    return corrupt(std::to_string(body - total) + " bytes after the data the dimensions describe");
  }
  out.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

Result<std::vector<std::uint8_t>> readMaybeGzip(const std::filesystem::path& path, std::size_t maxBytes) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return fail(ErrorCode::kNotFound, path.string() + ": no such file");
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) return fail(ErrorCode::kUnavailable, path.string() + ": cannot open: " + std::strerror(errno));
  std::vector<std::uint8_t> out;
  std::array<std::uint8_t, 1 << 16> chunk{};
  for (;;) {
    const int n = gzread(file.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      return fail(ErrorCode::kCorruption,
                  path.string() + ": cannot decompress: " + (message ? message : "?"));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > maxBytes) {
      return fail(ErrorCode::kInvalidArgument,
                  path.string() + ": larger than the limit of " + std::to_string(maxBytes) + " bytes");
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
  // gzread reports a truncated stream as end of file; gzerror tells them apart.
  int code = 0;
  const char* message = gzerror(file.get(), &code);
  if (code != Z_OK && code != Z_STREAM_END) {
    return fail(ErrorCode::kCorruption, path.string() + ": cannot decompress: " + (message ? message : "?"));
  }
  return out;
}

Result<Split> loadSplit(const std::filesystem::path& dataDir, SplitName split) {
  const std::string prefix = split == SplitName::kTrain ? "train" : "t10k";
  const auto imagesPath = findFile(dataDir, prefix + "-images-idx3-ubyte");
  const auto labelsPath = findFile(dataDir, prefix + "-labels-idx1-ubyte");
  for (const auto& p : {imagesPath, labelsPath}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) {
      return fail(ErrorCode::kNotFound, "Fashion-MNIST file " + p.string() +
                                            " not found (install the data with `" + kPackageHint +
                                            "`, or point data_dir at a directory holding " + prefix +
                                            "-{images-idx3,labels-idx1}-ubyte[.gz])");
    }
  }
  MERIT_ASSIGN_OR_RETURN(auto imageBytes, readMaybeGzip(imagesPath));
  MERIT_ASSIGN_OR_RETURN(auto labelBytes, readMaybeGzip(labelsPath));
  MERIT_ASSIGN_OR_RETURN(auto images, parseIdx(imageBytes, imagesPath.string()));
  MERIT_ASSIGN_OR_RETURN(auto labels, parseIdx(labelBytes, labelsPath.string()));
  if (images.dims.size() != 3 || images.dims[1] != kRows || images.dims[2] != kCols) {
    return fail(ErrorCode::kCorruption, imagesPath.string() + ": expected an N × 28 × 28 array of images");
  }
  if (labels.dims.size() != 1 || labels.dims[0] != images.dims[0]) {
    return fail(ErrorCode::kCorruption, labelsPath.string() + ": expected one label per image (" +
                                            std::to_string(images.dims[0]) + ")");
  }
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kClasses) {
      return fail(ErrorCode::kCorruption, labelsPath.string() + ": label " + std::to_string(labels.data[i]) +
                                              " at index " + std::to_string(i) + " is not a class 0..9");
    }
  }
  Split out;
  out.count = images.dims[0];
  out.images = std::move(images.data);
  out.labels = std::move(labels.data);
  return out;
}

void augment(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, const AugmentOptions& options,
             std::mt19937_64& rng) {
  const int shift = std::max(0, options.maxShift);
  std::uniform_int_distribution<int> shiftDist(-shift, shift);
  const int dx = shiftDist(rng);
  const int dy = shiftDist(rng);
  const int rows = static_cast<int>(kRows);
  const int cols = static_cast<int>(kCols);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      const int sy = y - dy;
      const int sx = x - dx;
      const bool inside = sy >= 0 && sy < rows && sx >= 0 && sx < cols;
      // Both indices are in [0, rows * cols): y, x, sy and sx are checked above.
      const auto at = [](int row, int col) {
        return static_cast<std::size_t>(row) * kCols + static_cast<std::size_t>(col);
      };
      out[at(y, x)] = inside ? in[at(sy, sx)] : 0;
    }
  }
  if (options.noise > 0) {
    std::uniform_int_distribution<int> noiseDist(-options.noise, options.noise);
    for (auto& p : out.first(kPixels))
      p = static_cast<std::uint8_t>(std::clamp(int{p} + noiseDist(rng), 0, 255));
  }
}

std::vector<std::uint8_t> encodeRequest(std::span<const std::uint8_t> pixels) {
  const std::size_t count = pixels.size() / kPixels;
  std::vector<std::uint8_t> out;
  out.reserve(kRequestHeaderBytes + pixels.size());
  out.push_back(static_cast<std::uint8_t>(count & 0xff));
  out.push_back(static_cast<std::uint8_t>(count >> 8));
  out.push_back(static_cast<std::uint8_t>(kRows));
  out.push_back(static_cast<std::uint8_t>(kCols));
  out.insert(out.end(), pixels.begin(), pixels.begin() + static_cast<std::ptrdiff_t>(count * kPixels));
  return out;
}

Result<std::span<const std::uint8_t>> decodeRequest(std::span<const std::uint8_t> request,
                                                    std::size_t maxImages) {
  if (request.size() < kRequestHeaderBytes) {
    return fail(ErrorCode::kInvalidArgument, "fashion_mnist: request shorter than its 4-byte header");
  }
  const std::size_t count = std::size_t{request[0]} | (std::size_t{request[1]} << 8);
  if (request[2] != kRows || request[3] != kCols) {
    return fail(ErrorCode::kInvalidArgument, "fashion_mnist: images must be 28x28, the request says " +
                                                 std::to_string(request[2]) + "x" +
                                                 std::to_string(request[3]));
  }
  const std::size_t limit = std::min(maxImages, kMaxImagesPerRequest);
  if (count == 0 || count > limit) {
    return fail(ErrorCode::kInvalidArgument, "fashion_mnist: " + std::to_string(count) +
                                                 " images in a request (1.." + std::to_string(limit) +
                                                 " accepted)");
  }
  if (request.size() - kRequestHeaderBytes != count * kPixels) {
    return fail(ErrorCode::kInvalidArgument, "fashion_mnist: " + std::to_string(count) + " images need " +
                                                 std::to_string(count * kPixels) +
                                                 " pixel bytes, the request has " +
                                                 std::to_string(request.size() - kRequestHeaderBytes));
  }
  return request.subspan(kRequestHeaderBytes);
}

std::vector<std::uint8_t> encodeResponse(std::span<const float> probabilities) {
  std::vector<std::uint8_t> out(probabilities.size() * sizeof(float));
  for (std::size_t i = 0; i < probabilities.size(); ++i) {
    const auto bits = std::bit_cast<std::uint32_t>(probabilities[i]);
    for (std::size_t b = 0; b < 4; ++b) out[4 * i + b] = static_cast<std::uint8_t>(bits >> (8 * b));
  }
  return out;
}

double meanLogLoss(std::span<const std::uint8_t> labels, std::span<const float> probabilities, double floor) {
  if (labels.empty()) return 0.0;
  double total = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double p = probabilities[i * kClasses + labels[i]];
    total += -std::log(std::max(p, floor));
  }
  return total / static_cast<double>(labels.size());
}

double scoreProbabilities(std::span<const std::uint8_t> labels, std::span<const float> probabilities,
                          const ScoreOptions& options) {
  if (labels.empty() || probabilities.size() != labels.size() * kClasses) return 0.0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= kClasses) return 0.0;
    double sum = 0;
    for (std::size_t c = 0; c < kClasses; ++c) {
      const float p = probabilities[i * kClasses + c];
      if (!std::isfinite(p) || p < 0.0f) return 0.0;
      sum += p;
    }
    if (std::abs(sum - 1.0) > options.sumTolerance) return 0.0;
  }
  const double loss = meanLogLoss(labels, probabilities, options.floor);
  return std::clamp(1.0 - loss / std::log(10.0), 0.0, 1.0);
}

double scoreResponse(std::span<const std::uint8_t> labels, std::span<const std::uint8_t> response,
                     const ScoreOptions& options) {
  if (labels.empty() || response.size() != labels.size() * kClasses * sizeof(float)) return 0.0;
  std::vector<float> probabilities(labels.size() * kClasses);
  for (std::size_t i = 0; i < probabilities.size(); ++i)
    probabilities[i] = readLittleEndianFloat(response.data() + 4 * i);
  return scoreProbabilities(labels, probabilities, options);
}

std::vector<float> softmaxRows(std::span<const float> logits) {
  std::vector<float> out(logits.size());
  for (std::size_t row = 0; row + kClasses <= logits.size(); row += kClasses) {
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t c = 0; c < kClasses; ++c) top = std::max(top, double{logits[row + c]});
    double sum = 0;
    std::array<double, kClasses> e{};
    for (std::size_t c = 0; c < kClasses; ++c) {
      e[c] = std::exp(double{logits[row + c]} - top);
      sum += e[c];
    }
    for (std::size_t c = 0; c < kClasses; ++c) out[row + c] = static_cast<float>(e[c] / sum);
  }
  return out;
}

}  // namespace merit::fashion_mnist
