/* The meritnet subnet plugin ABI: the one boundary between a host (merit-miner,
 * merit-validator, tests) and a subnet plugin (a shared object written by anyone).
 *
 * Thread-safety: stated per function below. By default every function taking an instance may be
 * called from several host threads at once on the same instance; a plugin that cannot allow that
 * sets MERIT_SUBNET_FLAG_SERIAL and the host then makes at most one call at a time per instance.
 *
 * Plain C (C99 and C++ both compile it). Nothing but C types crosses: opaque instance handles,
 * byte buffers, integer status codes. No C++ type or exception may cross; the C++ SDK
 * (merit/subnet_sdk.h) catches everything on the plugin's side.
 *
 * Discovery: a plugin exports exactly one symbol, MERIT_SUBNET_PLUGIN_SYMBOL, a function taking no
 * arguments and returning a pointer to a MeritSubnetPluginV1 table that lives as long as the
 * shared object is loaded. Plugins are normally called libmerit_subnet_<name>.so.
 *
 * Versioning: the table only grows. A new minor version appends fields at the end and raises
 * abi_minor; nothing is ever removed, reordered or changed in meaning. A host:
 *   - refuses a table whose abi_major differs from MERIT_SUBNET_ABI_MAJOR;
 *   - refuses a table whose struct_size is smaller than MERIT_SUBNET_PLUGIN_V1_0_SIZE (the fields
 *     every 1.x host requires);
 *   - accepts a larger struct_size and a higher abi_minor than it knows, ignoring the tail;
 *   - uses a field added in minor N only when abi_minor >= N and struct_size covers it.
 * A new major version exports a new symbol (merit_subnet_plugin_v2), so one shared object can
 * serve hosts of both majors during a transition.
 *
 * Ownership of bytes:
 *   - Input buffers (MeritSubnetBytes, config) are borrowed for the duration of the call only.
 *   - Output buffers (MeritSubnetBuffer) are allocated by the plugin and owned by the host after
 *     the call returns; the host releases each one with free_buffer of the same table (never
 *     free()). A buffer of size 0 has data == NULL and needs no release.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MERIT_SUBNET_ABI_MAJOR 1
#define MERIT_SUBNET_ABI_MINOR 0

/* The name of the one exported function (type MeritSubnetPluginEntryV1). */
#define MERIT_SUBNET_PLUGIN_SYMBOL "merit_subnet_plugin_v1"

/* Marks the entry point as the only symbol a plugin exports (build with hidden visibility). */
#if defined(_WIN32)
#define MERIT_SUBNET_EXPORT __declspec(dllexport)
#else
#define MERIT_SUBNET_EXPORT __attribute__((visibility("default")))
#endif

/* One live plugin object (a miner or a validator), created by create() and released by destroy().
 * Opaque to the host; each plugin defines it for itself. */
typedef struct MeritSubnetInstance MeritSubnetInstance;

/* Status codes (int32_t on the wire of this ABI; new codes may be added in later minors, and a
 * host treats a code it does not know as MERIT_SUBNET_INTERNAL). */
typedef int32_t MeritSubnetStatus;
#define MERIT_SUBNET_OK 0
/* The input is malformed or out of range: a bad config for create(), a bad request for
 * handle_batch() (the caller's fault, answered as a bad request). */
#define MERIT_SUBNET_INVALID_ARGUMENT 1
/* The call does not fit the instance's role (e.g. make_challenge on a miner). */
#define MERIT_SUBNET_UNSUPPORTED 2
/* handle_batch() only, per request: send no answer at all (the caller sees a timeout). */
#define MERIT_SUBNET_DROP 3
/* The plugin is out of capacity right now; retry later. */
#define MERIT_SUBNET_OVERLOADED 4
/* The plugin failed (a bug, an exception, an allocation failure): never the caller's fault. */
#define MERIT_SUBNET_INTERNAL 5

/* What an instance is created for. */
typedef int32_t MeritSubnetRole;
#define MERIT_SUBNET_ROLE_MINER 1     /* answers requests: handle_batch */
#define MERIT_SUBNET_ROLE_VALIDATOR 2 /* asks and judges: make_challenge, score_response */

/* Flags (MeritSubnetPluginV1.flags). Unknown bits are ignored by the host. */
/* Calls on one instance must not overlap: the host serialises them. Different instances may
 * still be used concurrently. */
#define MERIT_SUBNET_FLAG_SERIAL ((uint64_t)1)

/* Borrowed bytes: valid only during the call they are passed to. data may be NULL when size is
 * 0. */
typedef struct MeritSubnetBytes {
  const uint8_t* data;
  size_t size;
} MeritSubnetBytes;

/* Bytes produced by the plugin and handed to the host (see "Ownership of bytes" above). The host
 * zero-initialises every MeritSubnetBuffer before passing it in. */
typedef struct MeritSubnetBuffer {
  uint8_t* data;
  size_t size;
} MeritSubnetBuffer;

typedef struct MeritSubnetPluginV1 {
  /* sizeof the table as the plugin was compiled: lets the table grow. */
  uint32_t struct_size;
  uint16_t abi_major; /* MERIT_SUBNET_ABI_MAJOR the plugin was built against */
  uint16_t abi_minor; /* MERIT_SUBNET_ABI_MINOR the plugin was built against */

  /* The subnet module name, 1-64 characters of [a-z0-9_]; matches the wire module name and the
   * file name libmerit_subnet_<name>.so. Static storage, NUL-terminated. */
  const char* name;
  /* The payload version: bumped whenever the request/response bytes change incompatibly. Miners
   * and validators only talk when name and version match. */
  uint32_t version;
  uint32_t reserved0; /* zero; keeps the layout identical on every 64-bit ABI */
  uint64_t flags;     /* MERIT_SUBNET_FLAG_* */

  /* Creates an instance for `role` from the plugin's own configuration (`config`: YAML text,
   * config_size bytes, not NUL-terminated; may be empty, meaning all defaults).
   * On MERIT_SUBNET_OK, *out is a new instance owned by the host (release it with destroy).
   * On failure, *out is untouched and last_error() describes why, naming the bad config key
   * (MERIT_SUBNET_INVALID_ARGUMENT for a bad config).
   * Thread-safety: may be called from any thread, concurrently with any other call. */
  MeritSubnetStatus (*create)(const uint8_t* config, size_t config_size, MeritSubnetRole role,
                              MeritSubnetInstance** out);

  /* Releases an instance. The host calls it exactly once, after every other call on that
   * instance has returned. NULL is ignored. */
  void (*destroy)(MeritSubnetInstance* instance);

  /* Miner side: answers `count` requests (borrowed, requests[0..count)). For each i the plugin
   * writes statuses[i] and may write responses[i]:
   *   - statuses[i] == MERIT_SUBNET_OK: responses[i] is the response body (may be empty);
   *   - any other status: responses[i], if not empty, is a short UTF-8 message for the caller
   *     (not a body), e.g. why the request was malformed; MERIT_SUBNET_DROP means no answer.
   * Returns MERIT_SUBNET_OK when the per-request statuses are valid. Any other return means the
   * whole batch failed: every responses[i] must then be left empty and last_error() says why.
   * Thread-safety: may run on several host threads at once on the same instance (unless
   * MERIT_SUBNET_FLAG_SERIAL); it must not block forever; an instance with another role
   * returns MERIT_SUBNET_UNSUPPORTED. */
  MeritSubnetStatus (*handle_batch)(MeritSubnetInstance* instance, const MeritSubnetBytes* requests,
                                    size_t count, MeritSubnetBuffer* responses, MeritSubnetStatus* statuses);

  /* Validator side: makes one challenge. *request gets the bytes to send to a miner;
   * *expectation gets private bytes that only the validator keeps (e.g. the right answer or a
   * seed), later given back to score_response. Both are owned by the host on success and left
   * empty on failure.
   * Thread-safety: as handle_batch. */
  MeritSubnetStatus (*make_challenge)(MeritSubnetInstance* instance, MeritSubnetBuffer* request,
                                      MeritSubnetBuffer* expectation);

  /* Validator side: judges a miner's response (borrowed) against the expectation (borrowed) of
   * the challenge it answered. On MERIT_SUBNET_OK, *quality is in [0, 1] (1 = perfect). A wrong,
   * malformed or empty response is quality 0 with MERIT_SUBNET_OK: the miner's fault. A non-OK
   * status means the validator could not score (e.g. a corrupt expectation): never held
   * against the miner.
   * Thread-safety: as handle_batch. */
  MeritSubnetStatus (*score_response)(MeritSubnetInstance* instance, MeritSubnetBytes expectation,
                                      MeritSubnetBytes response, double* quality);

  /* The message of the most recent failed call (any function of this table, including create)
   * made by the calling thread. NUL-terminated, owned by the plugin, valid until the calling
   * thread's next call into the plugin. Never NULL (empty when there was no failure).
   * Thread-safety: any thread; each thread sees its own last error. */
  const char* (*last_error)(void);

  /* Releases a buffer the plugin handed over (data and size as received). NULL is ignored.
   * Thread-safety: any thread, concurrently with any call. */
  void (*free_buffer)(uint8_t* data, size_t size);

  /* Fields added in later minor versions go here, and only here. */
} MeritSubnetPluginV1;

/* The table size that every 1.x host requires (up to and including free_buffer). */
#define MERIT_SUBNET_PLUGIN_V1_0_SIZE \
  (offsetof(MeritSubnetPluginV1, free_buffer) + sizeof(void (*)(uint8_t*, size_t)))

/* The exported entry point: returns the plugin's table (static storage, never NULL). Must be
 * cheap and free of side effects; may be called from any thread, any number of times. */
typedef const MeritSubnetPluginV1* (*MeritSubnetPluginEntryV1)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif
