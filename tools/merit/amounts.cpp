#include "amounts.h"

#include <charconv>
#include <cstdio>

namespace merit::cli {

Result<tx::Balance> parseMerit(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return fail(ErrorCode::kInvalidArgument, "amount '" + std::string(text) + "': " + why);
  };
  if (text.empty()) return bad("empty");
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  auto digits = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (!digits(whole)) return bad("expected MERIT as a decimal number such as 12 or 1.5");
  if (dot != std::string_view::npos && !digits(frac)) return bad("expected digits after the decimal point");
  if (frac.size() > 9) return bad("at most 9 decimal places (1 rao = 0.000000001 MERIT)");
  tx::Balance merit = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), merit);
  if (ec != std::errc() || p != whole.data() + whole.size()) return bad("too large");
  tx::Balance rao = 0;
  if (__builtin_mul_overflow(merit, tx::kRaoPerMerit, &rao)) return bad("too large");
  tx::Balance fracRao = 0;
  for (std::size_t i = 0; i < 9; ++i)
    fracRao = fracRao * 10 + (i < frac.size() ? static_cast<tx::Balance>(frac[i] - '0') : 0);
  if (__builtin_add_overflow(rao, fracRao, &rao)) return bad("too large");
  return rao;
}

std::string formatMerit(tx::Balance rao) {
  std::string out = std::to_string(rao / tx::kRaoPerMerit);
  tx::Balance frac = rao % tx::kRaoPerMerit;
  if (frac == 0) return out;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%09llu", static_cast<unsigned long long>(frac));
  std::string f = buf;
  while (!f.empty() && f.back() == '0') f.pop_back();
  return out + "." + f;
}

std::string formatProportion(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", static_cast<double>(v) / 65535.0);
  return buf;
}

}  // namespace merit::cli
