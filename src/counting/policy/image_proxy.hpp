// Known image proxies: services that fetch a README's images on behalf of many viewers
// from a few addresses (GitHub's camo, Gmail's image proxy). A badge fetched by one counts
// a view, but its address and agent say nothing about who is looking, so visitor ids and the
// bot list do not apply to it, and it is rate limited per counter rather than per address
// (app.cpp). Pure.
#pragma once

#include <optional>
#include <string_view>

namespace counting::policy {

inline bool is_image_proxy(std::optional<std::string_view> user_agent) {
  if (!user_agent) return false;
  constexpr std::string_view kProxies[] = {
      "github-camo",       // GitHub: "github-camo (0e5ec11f)"
      "GoogleImageProxy",  // Gmail: "Mozilla/5.0 (...) (via ggpht.com GoogleImageProxy)"
      "Camo Asset Proxy",  // camo's own default agent
  };
  for (std::string_view proxy : kProxies) {
    if (user_agent->find(proxy) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace counting::policy
