// Extended attributes (and so POSIX ACLs, which are the system.posix_acl_* attributes) for Node, which has no
// calls for them: list, get and set on a path given as bytes, never following a symbolic link. Errors are thrown
// with their errno's name as `code`.
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

static const char *errno_name(int e) {
  switch (e) {
    case ENOTSUP: return "ENOTSUP";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENODATA: return "ENODATA";
    case E2BIG: return "E2BIG";
    case ERANGE: return "ERANGE";
    case ENOENT: return "ENOENT";
    case ENOSPC: return "ENOSPC";
    case EDQUOT: return "EDQUOT";
    case EINVAL: return "EINVAL";
    case ENOTDIR: return "ENOTDIR";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ELOOP: return "ELOOP";
    case EROFS: return "EROFS";
    default: return "EIO";
  }
}

static void throw_errno(napi_env env, const char *call) {
  int e = errno;
  char message[256];
  snprintf(message, sizeof message, "%s: %s", call, strerror(e));
  napi_throw_error(env, errno_name(e), message);
}

/** A NUL-terminated copy of a Buffer argument, or NULL (with a TypeError thrown). */
static char *c_string(napi_env env, napi_value value, const char *what) {
  void *data;
  size_t length;
  if (napi_get_buffer_info(env, value, &data, &length) != napi_ok || memchr(data, 0, length) != NULL) {
    char message[64];
    snprintf(message, sizeof message, "%s must be a Buffer without NUL bytes", what);
    napi_throw_type_error(env, NULL, message);
    return NULL;
  }
  char *copy = malloc(length + 1);
  memcpy(copy, data, length);
  copy[length] = 0;
  return copy;
}

static napi_value args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) napi_throw_type_error(env, NULL, "missing arguments");
  return NULL;
}

typedef ssize_t (*sized_read)(const char *path, const char *name, void *buffer, size_t size);

static ssize_t list_names(const char *path, const char *name, void *buffer, size_t size) {
  (void)name;
  return llistxattr(path, buffer, size);
}

static ssize_t get_value(const char *path, const char *name, void *buffer, size_t size) {
  return lgetxattr(path, name, buffer, size);
}

/** Asks for the size, then for the bytes (again if they grew meanwhile), into a new Buffer; NULL after throwing. */
static napi_value read_sized(napi_env env, sized_read call, const char *path, const char *name, const char *what) {
  for (;;) {
    ssize_t size = call(path, name, NULL, 0);
    if (size < 0) break;
    void *data;
    napi_value buffer;
    napi_create_buffer(env, (size_t)size, &data, &buffer);
    ssize_t got = size == 0 ? 0 : call(path, name, data, (size_t)size);
    if (got < 0 && errno == ERANGE) continue;
    if (got < 0) break;
    if (got == size) return buffer;
    napi_value shorter;
    napi_create_buffer_copy(env, (size_t)got, data, NULL, &shorter);
    return shorter;
  }
  throw_errno(env, what);
  return NULL;
}

/** list(path): the attribute names, NUL-separated, as one Buffer. */
static napi_value list(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  args(env, info, 1, argv);
  char *path = c_string(env, argv[0], "path");
  if (!path) return NULL;
  napi_value result = read_sized(env, list_names, path, NULL, "llistxattr");
  free(path);
  return result;
}

/** get(path, name): the attribute's value. */
static napi_value get(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  args(env, info, 2, argv);
  char *path = c_string(env, argv[0], "path");
  if (!path) return NULL;
  char *name = c_string(env, argv[1], "name");
  napi_value result = name ? read_sized(env, get_value, path, name, "lgetxattr") : NULL;
  free(path);
  free(name);
  return result;
}

/** set(path, name, value): creates or replaces the attribute. */
static napi_value set(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  args(env, info, 3, argv);
  char *path = c_string(env, argv[0], "path");
  if (!path) return NULL;
  char *name = c_string(env, argv[1], "name");
  if (!name) {
    free(path);
    return NULL;
  }
  void *value;
  size_t length;
  if (napi_get_buffer_info(env, argv[2], &value, &length) != napi_ok) {
    free(path);
    free(name);
    napi_throw_type_error(env, NULL, "value must be a Buffer");
    return NULL;
  }
  int result = lsetxattr(path, name, value, length, 0);
  free(path);
  free(name);
  if (result < 0) throw_errno(env, "lsetxattr");
  return NULL;
}

napi_value set_mmap_threshold(napi_env env, napi_callback_info info);  // memory.c

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"list", NULL, list, NULL, NULL, NULL, napi_default, NULL},
      {"get", NULL, get, NULL, NULL, NULL, napi_default, NULL},
      {"set", NULL, set, NULL, NULL, NULL, napi_default, NULL},
      {"setMmapThreshold", NULL, set_mmap_threshold, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 4, methods);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
