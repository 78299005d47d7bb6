// Fashion-MNIST for the fashion_mnist subnet and merit-train: the IDX file reader, the dataset
// splits, the validator's per-challenge augmentation, the wire payloads and the scoring rule.
// Shared by the plugin, the trainer and the tests; it has no libtorch in it.
//
// Data: Debian's dataset-fashion-mnist installs the four IDX files, gzip-compressed, in
// /usr/share/datasets/fashion-mnist. Any directory holding files of the same names (compressed
// with a .gz suffix, or not) works, so a subnet can run on private data of the same shape.
//
// Payloads (version 1), integers little-endian:
//   request     = count:u16 ‖ rows:u8 (28) ‖ cols:u8 (28) ‖ count × 784 pixels (u8, row-major)
//   response    = count × 10 probabilities (float32), image by image, class 0..9
//   expectation = count labels (u8), kept by the validator
//
// Thread-safety: every function is reentrant; Split is an immutable value once loaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "merit/util/result.h"

namespace merit::fashion_mnist {

inline constexpr std::size_t kRows = 28;
inline constexpr std::size_t kCols = 28;
inline constexpr std::size_t kPixels = kRows * kCols;
inline constexpr std::size_t kClasses = 10;
inline constexpr std::size_t kRequestHeaderBytes = 4;
inline constexpr std::size_t kMaxImagesPerRequest = 1024;  // hard ceiling of the u16 count we accept
inline constexpr const char* kDefaultDataDir = "/usr/share/datasets/fashion-mnist";
inline constexpr const char* kPackageHint = "apt-get install dataset-fashion-mnist";

// The class names, index = label.
std::string_view className(std::size_t label);

// An IDX array of unsigned bytes (type code 0x08), the only type Fashion-MNIST uses.
struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;  // row-major, the product of dims
};

// Parses an uncompressed IDX file. `name` labels the messages. Errors (corruption): fewer than
// 4 bytes, a magic that is not 00 00 08 <ndims> with 1..4 dimensions, a zero dimension, data
// shorter or longer than the dimensions say, more than maxBytes of data.
Result<IdxArray> parseIdx(std::span<const std::uint8_t> bytes, std::string_view name,
                          std::size_t maxBytes = std::size_t{256} << 20);

// Reads a file, gunzipping it if it is gzip-compressed (zlib reads plain files as they are).
// Errors: not_found, unavailable (cannot read), corruption (a bad or truncated gzip stream),
// invalid_argument (more than maxBytes once decompressed).
Result<std::vector<std::uint8_t>> readMaybeGzip(const std::filesystem::path& path,
                                                std::size_t maxBytes = std::size_t{256} << 20);

enum class SplitName : unsigned char { kTrain, kTest };

// One split: count images of 28×28 u8 pixels and their labels (0..9).
struct Split {
  std::size_t count = 0;
  std::vector<std::uint8_t> images;  // count × kPixels
  std::vector<std::uint8_t> labels;  // count

  std::span<const std::uint8_t> image(std::size_t i) const {
    return std::span<const std::uint8_t>(images).subspan(i * kPixels, kPixels);
  }
};

// Loads <dataDir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. A missing file is
// not_found with the package to install; malformed files are corruption naming the file.
Result<Split> loadSplit(const std::filesystem::path& dataDir, SplitName split);

// The validator's per-challenge augmentation: the image shifted by (dx, dy) drawn uniformly from
// [-maxShift, maxShift] (vacated pixels become 0, the background), then every pixel moved by an
// integer drawn uniformly from [-noise, noise] and clamped to 0..255.
struct AugmentOptions {
  int maxShift = 2;  // 0..8
  int noise = 8;     // 0..128
};
void augment(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, const AugmentOptions& options,
             std::mt19937_64& rng);

// Payloads (see the top of this file).
std::vector<std::uint8_t> encodeRequest(std::span<const std::uint8_t> pixels);  // pixels: count × kPixels
// The pixels of a request (a view into `request`). Errors (invalid_argument): a short header,
// 28×28 not declared, zero images or more than maxImages, a body not count × 784 bytes.
Result<std::span<const std::uint8_t>> decodeRequest(std::span<const std::uint8_t> request,
                                                    std::size_t maxImages);
std::vector<std::uint8_t> encodeResponse(std::span<const float> probabilities);  // count × kClasses

// The score of a response against the true labels, in [0, 1]:
//
//   q = clamp(1 − L / ln 10, 0, 1),  L = mean over images of −ln max(p_true, floor)
//
// L is the log loss (a strictly proper scoring rule: a miner maximises its expected score only
// by reporting its true beliefs) and ln 10 is the log loss of the uniform guess, so a perfect
// answer scores 1 and knowing nothing scores 0. The floor caps one image's penalty at
// −ln(floor) (9.2 for 1e-4, four uniform guesses' worth) so one confident mistake costs a lot
// but not everything. A response that is not count × 10 float32 values, holds a value that is
// not finite or is negative, or has an image whose probabilities do not sum to 1 within
// sumTolerance, scores 0. Never throws.
struct ScoreOptions {
  double floor = 1e-4;
  double sumTolerance = 1e-2;
};
double scoreResponse(std::span<const std::uint8_t> labels, std::span<const std::uint8_t> response,
                     const ScoreOptions& options);
// The same on decoded probabilities (count × kClasses). Also the mean log loss, for reports.
double scoreProbabilities(std::span<const std::uint8_t> labels, std::span<const float> probabilities,
                          const ScoreOptions& options);
double meanLogLoss(std::span<const std::uint8_t> labels, std::span<const float> probabilities, double floor);

// Softmax of each row of `logits` (rows × kClasses), computed in double for stability.
std::vector<float> softmaxRows(std::span<const float> logits);

}  // namespace merit::fashion_mnist
