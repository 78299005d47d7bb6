#pragma once

// Amounts as the CLI and `merit localnet`'s configuration read and print them. Plain functions with
// no CLI11 and no chain connection, so that the localnet configuration parser (merit_localnet_config)
// can use them without the rest of the CLI.

#include <cstdint>
#include <string>
#include <string_view>

#include "merit/tx/extrinsic.h"
#include "merit/util/result.h"

namespace merit::cli {

// "1.5" -> 1'500'000'000 rao: an exact decimal with at most 9 places, no sign, no exponent, parsed
// without floating point. Zero is allowed here; callers that need a positive amount check it.
Result<tx::Balance> parseMerit(std::string_view text);
// 1'500'000'000 -> "1.5" (exact; trailing zeros dropped).
std::string formatMerit(tx::Balance rao);
// A u16 proportion as a fraction of 1 with 4 places ("0.5000"); display only.
std::string formatProportion(std::uint64_t v);

}  // namespace merit::cli
