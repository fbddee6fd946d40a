// Addon entry point: exposes every function registered with PEFTJS_FN.
#include "napi_util.h"
#include "signals.h"

namespace peftjs {
std::vector<Export>& exports_registry() {
  static std::vector<Export> registry;
  return registry;
}
}  // namespace peftjs

static napi_value Init(napi_env env, napi_value exports) {
  peftjs::hold_signals_on_pool_threads();
  for (const auto& e : peftjs::exports_registry()) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
