/* Hand-written C plugins for the loader tests, one per MERIT_TEST_VARIANT:
 *   1 no entry point           2 built for ABI major 2     3 a table too small for ABI 1.0
 *   4 a newer 1.x plugin: abi_minor 9 and a longer table (the host must accept it and ignore the
 *     tail); a working echo subnet written in plain C against merit/subnet_abi.h alone.
 * Compiled as C99 to prove the ABI header is plain C. */
#include <stdlib.h>
#include <string.h>

#include "merit/subnet_abi.h"

#if MERIT_TEST_VARIANT == 1

MERIT_SUBNET_EXPORT int merit_not_a_subnet_plugin(void);
MERIT_SUBNET_EXPORT int merit_not_a_subnet_plugin(void) {
  return 1;
}

#else

struct MeritSubnetInstance {
  MeritSubnetRole role;
};

static _Thread_local const char* g_last_error = "";

static MeritSubnetStatus echo_create(const uint8_t* config, size_t config_size, MeritSubnetRole role,
                                     MeritSubnetInstance** out) {
  (void)config;
  (void)config_size;
  MeritSubnetInstance* instance = malloc(sizeof *instance);
  if (instance == NULL) {
    g_last_error = "out of memory";
    return MERIT_SUBNET_INTERNAL;
  }
  instance->role = role;
  *out = instance;
  return MERIT_SUBNET_OK;
}

static void echo_destroy(MeritSubnetInstance* instance) {
  free(instance);
}

static int copy_out(const uint8_t* data, size_t size, MeritSubnetBuffer* out) {
  out->data = NULL;
  out->size = 0;
  if (size == 0) return 1;
  out->data = malloc(size);
  if (out->data == NULL) return 0;
  memcpy(out->data, data, size);
  out->size = size;
  return 1;
}

static MeritSubnetStatus echo_handle_batch(MeritSubnetInstance* instance, const MeritSubnetBytes* requests,
                                           size_t count, MeritSubnetBuffer* responses,
                                           MeritSubnetStatus* statuses) {
  size_t i;
  if (instance->role != MERIT_SUBNET_ROLE_MINER) {
    g_last_error = "not a miner";
    return MERIT_SUBNET_UNSUPPORTED;
  }
  for (i = 0; i < count; ++i) {
    if (!copy_out(requests[i].data, requests[i].size, &responses[i])) {
      size_t j;
      for (j = 0; j < i; ++j) free(responses[j].data);
      g_last_error = "out of memory";
      return MERIT_SUBNET_INTERNAL;
    }
    statuses[i] = MERIT_SUBNET_OK;
  }
  return MERIT_SUBNET_OK;
}

static MeritSubnetStatus echo_make_challenge(MeritSubnetInstance* instance, MeritSubnetBuffer* request,
                                             MeritSubnetBuffer* expectation) {
  static const uint8_t kPing[4] = {'p', 'i', 'n', 'g'};
  (void)instance;
  if (!copy_out(kPing, sizeof kPing, request)) return MERIT_SUBNET_INTERNAL;
  if (!copy_out(kPing, sizeof kPing, expectation)) {
    free(request->data);
    request->data = NULL;
    request->size = 0;
    return MERIT_SUBNET_INTERNAL;
  }
  return MERIT_SUBNET_OK;
}

static MeritSubnetStatus echo_score_response(MeritSubnetInstance* instance, MeritSubnetBytes expectation,
                                             MeritSubnetBytes response, double* quality) {
  (void)instance;
  *quality = expectation.size == response.size &&
                     (response.size == 0 || memcmp(expectation.data, response.data, response.size) == 0)
                 ? 1.0
                 : 0.0;
  return MERIT_SUBNET_OK;
}

static const char* echo_last_error(void) {
  return g_last_error;
}

static void echo_free_buffer(uint8_t* data, size_t size) {
  (void)size;
  free(data);
}

/* A table from the future: the 1.0 fields, then fields this host does not know. */
typedef struct FutureTable {
  MeritSubnetPluginV1 v1_0;
  void (*some_later_function)(void);
  uint64_t some_later_field;
} FutureTable;

static const FutureTable g_table = {
    {
#if MERIT_TEST_VARIANT == 2
        sizeof(MeritSubnetPluginV1), 2, 0,
#elif MERIT_TEST_VARIANT == 3
        (uint32_t)offsetof(MeritSubnetPluginV1, create), MERIT_SUBNET_ABI_MAJOR, 0,
#else
        sizeof(FutureTable), MERIT_SUBNET_ABI_MAJOR, 9,
#endif
        MERIT_TEST_NAME, 3, 0, 0, echo_create, echo_destroy, echo_handle_batch, echo_make_challenge,
        echo_score_response, echo_last_error, echo_free_buffer},
    NULL,
    42};

MERIT_SUBNET_EXPORT const MeritSubnetPluginV1* merit_subnet_plugin_v1(void);
MERIT_SUBNET_EXPORT const MeritSubnetPluginV1* merit_subnet_plugin_v1(void) {
  return &g_table.v1_0;
}

#endif
