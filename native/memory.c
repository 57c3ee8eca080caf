// The C library's heap policy, which Node does not expose: glibc's mmap threshold (see lib/engine/memory-policy.ts).
#include <node_api.h>
#include <stdbool.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

napi_value set_mmap_threshold(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t bytes = 0;
  if (argc < 1 || napi_get_value_int64(env, argv[0], &bytes) != napi_ok || bytes <= 0 || bytes > (1 << 30)) {
    napi_throw_type_error(env, NULL, "bytes must be a positive number up to 1 GiB");
    return NULL;
  }
  bool done = false;
#ifdef __GLIBC__
  done = mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1;
#endif
  napi_value result;
  napi_get_boolean(env, done, &result);
  return result;
}
