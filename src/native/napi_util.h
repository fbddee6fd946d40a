// Small helpers over the C N-API: argument access and self-registering exports.
// The TypeScript layer validates every shape, dtype and index before calling in; these helpers
// only unwrap values, so a kernel never sees an argument that JS did not check.
#pragma once
#include <node_api.h>
#include <cstdint>
#include <cstddef>
#include <vector>

namespace peftjs {

struct Export {
  const char* name;
  napi_callback fn;
};
std::vector<Export>& exports_registry();

struct Registrar {
  Registrar(const char* name, napi_callback fn) { exports_registry().push_back({name, fn}); }
};

// Defines a native function and registers it under its own name on the addon's exports.
#define PEFTJS_FN(name)                                                   \
  static napi_value name(napi_env env, napi_callback_info info);          \
  static ::peftjs::Registrar registrar_##name(#name, name);               \
  static napi_value name(napi_env env, napi_callback_info info)

struct Args {
  napi_env env;
  napi_value argv[24];
  size_t argc = 24;
  Args(napi_env e, napi_callback_info info) : env(e) {
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  }
  // Raw pointer to the data of an ArrayBuffer (tensor storage) argument.
  template <typename T>
  T* buf(size_t i) const {
    void* data = nullptr;
    size_t len = 0;
    napi_get_arraybuffer_info(env, argv[i], &data, &len);
    return static_cast<T*>(data);
  }
  float* f32(size_t i) const { return buf<float>(i); }
  int32_t* i32(size_t i) const { return buf<int32_t>(i); }
  uint16_t* u16(size_t i) const { return buf<uint16_t>(i); }
  int64_t i64(size_t i) const {
    int64_t v = 0;
    napi_get_value_int64(env, argv[i], &v);
    return v;
  }
  double f64(size_t i) const {
    double v = 0;
    napi_get_value_double(env, argv[i], &v);
    return v;
  }
  bool flag(size_t i) const {
    bool v = false;
    napi_get_value_bool(env, argv[i], &v);
    return v;
  }
  // Int32Array argument (shapes, strides, small index lists).
  std::vector<int64_t> ints(size_t i) const {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_get_typedarray_info(env, argv[i], &type, &length, &data, nullptr, nullptr);
    std::vector<int64_t> out(length);
    const int32_t* p = static_cast<const int32_t*>(data);
    for (size_t k = 0; k < length; k++) out[k] = p[k];
    return out;
  }
};

inline napi_value undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}
inline napi_value number(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

}  // namespace peftjs
