// Fuzz target: the chain RPC server's HTTP request-head parser (merit::chain::parseHttpHead), which
// reads bytes from anyone who can connect. Every input must give "incomplete", a head whose
// sizes are within the limits and the input, or an error status; never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "merit/chain/http_server.h"
#include "merit/util/assert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kMaxHeader = 1024, kMaxBody = 4096;
  auto parsed = merit::chain::parseHttpHead(in, kMaxHeader, kMaxBody);
  if (const auto* h = std::get_if<merit::chain::HttpHead>(&parsed)) {
    MERIT_ASSERT(h->headerBytes <= in.size() && h->headerBytes <= kMaxHeader + 4, h->headerBytes, in.size());
    MERIT_ASSERT(h->bodyLength <= kMaxBody, h->bodyLength);
    MERIT_ASSERT(h->method.data() >= in.data() &&
                 h->target.data() + h->target.size() <= in.data() + in.size());
  } else if (const auto* e = std::get_if<merit::chain::HttpParseError>(&parsed)) {
    MERIT_ASSERT(e->status >= 400 && e->status < 600, e->status);
  } else {
    MERIT_ASSERT(in.size() <= kMaxHeader + 4, in.size());  // incomplete only while within the limit
  }
  return 0;
}

extern "C" void MeritFuzzSeeds(std::vector<std::vector<std::uint8_t>>& out) {
  const char* seeds[] = {
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
      "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 99999\r\n\r\n",
  };
  for (const char* s : seeds) {
    std::string_view v(s);
    out.emplace_back(reinterpret_cast<const std::uint8_t*>(v.data()),
                     reinterpret_cast<const std::uint8_t*>(v.data()) + v.size());
  }
}
