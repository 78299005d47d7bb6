#include "merit/net/caller_policy.h"

namespace merit::net {

void StaticCallerPolicy::allow(const wire::Hotkey& caller, std::uint64_t stake) {
  std::lock_guard lock(m_mutex);
  m_stakes.insert_or_assign(caller, stake);
}

void StaticCallerPolicy::remove(const wire::Hotkey& caller) {
  std::lock_guard lock(m_mutex);
  m_stakes.erase(caller);
}

CallerDecision StaticCallerPolicy::check(std::uint16_t, const wire::Hotkey& caller) const {
  std::lock_guard lock(m_mutex);
  auto it = m_stakes.find(caller);
  if (it == m_stakes.end()) return {false, "caller is not on the allow list", 0};
  return {true, {}, it->second};
}

}  // namespace merit::net
