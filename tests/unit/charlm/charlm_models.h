// Small charlm models built in C++ with torch::jit::Module::define and saved as .pt files, for
// the plugin tests. Only charlm_models.cpp includes libtorch.
//
// Thread-safety: free functions; each writes its own file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace merit::charlm::test {

// A bigram model: the logits at each position are log P(next | this byte), estimated from
// `text` with add-one smoothing. A real (if weak) language model.
std::string saveBigramModel(const std::filesystem::path& dir, std::string_view text);
// All-zero logits: the uniform distribution at every position.
std::string saveUniformModel(const std::filesystem::path& dir);
// Breaks the contract: logits [N, 256] (one row per context, not per position).
std::string saveWrongShapeModel(const std::filesystem::path& dir);
// NaN logits of the right shape.
std::string saveNanModel(const std::filesystem::path& dir);

}  // namespace merit::charlm::test
