// CLI11's App, declared only. The `merit` CLI's headers name it in the signatures that add
// commands; the .cpp files that add commands include <CLI/CLI.hpp> themselves. CLI11 is header
// only and costs about 6 s of compile time in each translation unit that includes it, so the
// supervisor, dashboard and config code that uses none of it does not pay for it.
#pragma once

namespace CLI {
class App;
}  // namespace CLI
