#define _GNU_SOURCE // SCHED_BATCH
// certdesk's native signer: ECDSA and RSA (PKCS#1 v1.5) signatures over batches of TBSCertificates, made with the
// OpenSSL that Node itself links (no other library). It hashes, signs and encodes; it makes no decision (the checks
// and the TBS are written in TypeScript). Why it exists: node:crypto's one-shot sign fetches the digest by name and
// builds a fresh key context per call, about a quarter of a P-256 signature's cost; here each signing thread keeps one
// key context per signer and digests fetched once. The private key arrives once as PKCS#8 DER (the caller wipes its
// copy) and lives only in the signer's EVP_PKEYs (its own and one per signing thread's library context) until the
// signer is garbage-collected. Batches queue per signer and run on libuv's threadpool, taken one after another by up
// to `workers` napi_async_work loops; each finished batch goes back to the event loop through a threadsafe function.
// The event loop never signs.
//
// API (see src/services/pki/native.ts):
//   createSigner(pkcs8: Uint8Array) -> signer           throws on a key OpenSSL cannot read or that is not RSA/EC
//   maxSignatureSize(signer) -> number
//   signerStats(signer) -> { workersStarted }   workers queued on the threadpool so far (each slice handed back is one)
//   signBatch(signer, hash: 0|1|2 (SHA-256/384/512), data: Uint8Array, ranges: Uint32Array (start, end per job),
//             count, sigs: Uint8Array (count * slot bytes), slot, lengths: Uint32Array (count), callback(err))
//     Each job's signature is written at sigs[i * slot]; lengths[i] is its length, 0 when that signature failed.
//   certifyBatch(signer, hash, data, jobs: Uint32Array (7 words per job, see execute_certify), count,
//                algorithmIdentifier: Uint8Array, pem: Uint8Array, lengths: Uint32Array, callback(err))
//     For each job: the SKI (SHA-1 of the key bits) into the TBS, the signature, the Certificate around the TBS in
//     place, and its PEM into pem; lengths[i] is the PEM's length, 0 when that one failed. The TBS writer stays in
//     TypeScript (cert-writer.ts): this only hashes, signs and encodes.
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <uv.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#ifdef __linux__
#include <sched.h>
#endif

#if defined(_MSC_VER)
#define THREAD_LOCAL __declspec(thread)
#else
#define THREAD_LOCAL _Thread_local
#endif

// Copies of the key in the signing threads' own library contexts (see thread_key); more threads share the key.
#define THREAD_KEYS 16

// A worker (one napi_async_work on libuv's threadpool) signs queued batches one after another. When workers (of all
// signers) hold every threadpool thread, each hands its thread back after this long so that file and DNS work queued
// meanwhile runs, and a new worker takes over the rest. While a thread is left free it goes on: handing back and being
// queued again by the event loop left a core idle ~1 ms each time (1.82 cores in use against 1.88 with 100 ms slices).
#define WORKER_SLICE_NS 20000000ull
// A worker that finds no batch queued waits this long for one before it gives its thread back (not when workers hold
// every thread): the event loop usually queues the next batch within a fraction of a millisecond, and a worker that
// had left must be queued again meanwhile, its core idle (~125 times a second at P-256, ~2% of a core).
#define WORKER_IDLE_NS 2000000ull

// Workers running now across every signer, and the threads of libuv's pool (UV_THREADPOOL_SIZE as libuv reads it).
static uv_once_t running_once = UV_ONCE_INIT;
static uv_mutex_t running_lock;
static int running_workers;
static int pool_threads;

static void init_running(void) {
  uv_mutex_init(&running_lock);
  const char *size = getenv("UV_THREADPOOL_SIZE");
  long n = size ? strtol(size, NULL, 10) : 4;
  pool_threads = n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

// Counts a worker in (+1) or out (-1); returns whether workers now hold every threadpool thread.
static int count_worker(int delta) {
  uv_once(&running_once, init_running);
  uv_mutex_lock(&running_lock);
  running_workers += delta;
  int crowded = running_workers >= pool_threads;
  uv_mutex_unlock(&running_lock);
  return crowded;
}

typedef struct batch_s batch_t;

// Arguments a batch keeps referenced: the signer, data, ranges or jobs, sigs or pem, lengths.
#define KEPT 5
// batch_t.failed_setup when no worker could be started to run the batch (1: the key could not be set up).
#define NOT_RUN 2

typedef struct {
  EVP_PKEY *pkey;
  uint32_t max_signature; // EVP_PKEY_get_size, read once
  uv_mutex_t lock;        // guards keys, queued, queued_tail and workers
  struct {
    OSSL_LIB_CTX *lib;
    EVP_PKEY *pkey;
    // Signing contexts by hash (SHA-256/384/512), made on the thread's first batch and reused by its later ones.
    // Only the thread owning `lib` uses them; freed with the signer.
    EVP_PKEY_CTX *ctx[3];
  } keys[THREAD_KEYS];
  // Batches waiting for a worker, oldest first, and the workers running (at most max_workers).
  batch_t *queued, *queued_tail;
  int workers, max_workers;
  // Workers waiting a moment for the next batch (WORKER_IDLE_NS), woken by `more` when one is queued.
  int idle;
  uv_cond_t more;
  // Hands each finished batch to the event loop. Referenced (keeps the loop alive) while batches are pending.
  napi_threadsafe_function deliver;
  uint32_t pending; // event loop only: batches submitted and not yet handed back
  int owners;       // event loop only: the JS external and the threadsafe function; the last one frees
  double workers_started; // event loop only: workers queued on the threadpool so far (signerStats)
} signer_t;

struct batch_s {
  batch_t *next;
  napi_async_execute_callback run; // execute or execute_certify
  // The signer and the arrays the threadpool reads and writes (data, ranges or jobs, sigs or pem, lengths): kept
  // alive until the batch is handed back. (Before, ranges and jobs were not, so a temporary array could be collected
  // while its batch ran.)
  napi_ref refs[KEPT];
  napi_ref callback;
  signer_t *signer;
  int hash;
  const uint8_t *data;
  size_t data_len;
  const uint32_t *ranges;
  uint32_t count;
  uint8_t *sigs;
  size_t slot;
  uint32_t *lengths;
  int failed_setup;
  // certifyBatch only: the signature's AlgorithmIdentifier (copied), and the PEM output.
  uint8_t *alg_id;
  size_t alg_id_len;
  uint8_t *pem;
  size_t pem_len;
};

#define CHECK(env, call)                                                                                               \
  do {                                                                                                                 \
    if ((call) != napi_ok) {                                                                                           \
      napi_throw_error((env), NULL, "certdesk_sign: " #call " failed");                                                \
      return NULL;                                                                                                     \
    }                                                                                                                  \
  } while (0)

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

// The signer is freed by whichever of its two owners lets go last: the JS external (garbage-collected only when no
// batch and no worker holds a reference to it) and the threadsafe function (finalized after the external releases
// it, or at environment teardown, in either order). Both run on the event loop's thread.
static void drop_signer(signer_t *s) {
  if (--s->owners > 0) return;
  for (int i = 0; i < THREAD_KEYS && s->keys[i].lib; i++) {
    for (int h = 0; h < 3; h++) EVP_PKEY_CTX_free(s->keys[i].ctx[h]);
    EVP_PKEY_free(s->keys[i].pkey);
  }
  uv_cond_destroy(&s->more);
  uv_mutex_destroy(&s->lock);
  EVP_PKEY_free(s->pkey);
  free(s);
}

static void free_signer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  signer_t *s = data;
  if (s->deliver) napi_release_threadsafe_function(s->deliver, napi_tsfn_release);
  drop_signer(s);
}

static void deliver_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  signer_t *s = data;
  s->deliver = NULL;
  drop_signer(s);
}

static void deliver_batch(napi_env env, napi_value js_callback, void *context, void *data);

static int typed_array(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  bool is;
  if (napi_is_typedarray(env, value, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want || (want == napi_uint8_array && type == napi_uint8_clamped_array);
}

static napi_value create_signer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *der;
  size_t len;
  uint32_t workers = 1;
  if (argc < 1 || !typed_array(env, argv[0], napi_uint8_array, &der, &len))
    return throw_type(env, "createSigner: expected the key as PKCS#8 DER in a Uint8Array");
  if (argc > 1 && (napi_get_value_uint32(env, argv[1], &workers) != napi_ok || workers < 1 || workers > 256))
    return throw_type(env, "createSigner: workers must be a number from 1 to 256");
  const unsigned char *p = der;
  EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
  ERR_clear_error();
  if (!pkey) return throw_type(env, "createSigner: the key could not be read");
  int id = EVP_PKEY_get_base_id(pkey);
  if (id != EVP_PKEY_EC && id != EVP_PKEY_RSA) {
    EVP_PKEY_free(pkey);
    return throw_type(env, "createSigner: only RSA and EC keys are signed natively");
  }
  signer_t *s = calloc(1, sizeof *s);
  if (!s || uv_mutex_init(&s->lock) != 0) {
    free(s);
    EVP_PKEY_free(pkey);
    napi_throw_error(env, NULL, "createSigner: out of memory");
    return NULL;
  }
  if (uv_cond_init(&s->more) != 0) {
    uv_mutex_destroy(&s->lock);
    free(s);
    EVP_PKEY_free(pkey);
    napi_throw_error(env, NULL, "createSigner: out of memory");
    return NULL;
  }
  s->pkey = pkey;
  s->max_signature = (uint32_t)EVP_PKEY_get_size(pkey);
  s->max_workers = (int)workers;
  s->owners = 1;
  napi_value external, name;
  if (napi_create_string_utf8(env, "certdesk_sign", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, s, deliver_finalized, s, deliver_batch,
                                      &s->deliver) != napi_ok) {
    s->deliver = NULL;
    drop_signer(s);
    napi_throw_error(env, NULL, "createSigner: napi_create_threadsafe_function failed");
    return NULL;
  }
  s->owners = 2;
  napi_unref_threadsafe_function(env, s->deliver); // an idle signer does not keep the process alive
  if (napi_create_external(env, s, free_signer, NULL, &external) != napi_ok) {
    free_signer(env, s, NULL);
    napi_throw_error(env, NULL, "createSigner: napi_create_external failed");
    return NULL;
  }
  return external;
}

static signer_t *signer_of(napi_env env, napi_value value) {
  napi_valuetype type;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external) return NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return data;
}

// The signer a one-argument call (maxSignatureSize, signerStats) was given, or NULL after throwing.
static signer_t *only_signer(napi_env env, napi_callback_info info, const char *message) {
  size_t argc = 1;
  napi_value argv[1];
  signer_t *s = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 1) s = signer_of(env, argv[0]);
  if (!s) throw_type(env, message);
  return s;
}

static napi_value signer_stats(napi_env env, napi_callback_info info) {
  signer_t *s = only_signer(env, info, "signerStats: expected a signer");
  if (!s) return NULL;
  napi_value result, started;
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_create_double(env, s->workers_started, &started));
  CHECK(env, napi_set_named_property(env, result, "workersStarted", started));
  return result;
}

static napi_value max_signature_size(napi_env env, napi_callback_info info) {
  signer_t *s = only_signer(env, info, "maxSignatureSize: expected a signer");
  if (!s) return NULL;
  napi_value result;
  CHECK(env, napi_create_uint32(env, s->max_signature, &result));
  return result;
}

// A threadpool thread that has signed is marked SCHED_BATCH (Linux; once per thread): CPU-bound, it then no longer
// preempts the event loop's thread when woken for the next batch — which otherwise stalls the completions and
// submissions that keep both cores busy. Its share of CPU under load is unchanged (nice stays 0), and the mark needs
// no privilege; if it fails the thread stays as it was.
static void mark_batch_thread(void) {
#ifdef __linux__
  static __thread int marked;
  if (marked) return;
  marked = 1;
  struct sched_param sp = {0};
  sched_setscheduler(0, SCHED_BATCH, &sp);
#endif
}

// Certificate finishing, for certifyBatch: DER headers, and PEM with 64-character lines (RFC 7468).
static size_t header_len(size_t len) { return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5; }

static uint8_t *put_header(uint8_t *p, uint8_t tag, size_t len) {
  *p++ = tag;
  if (len < 0x80) *p++ = (uint8_t)len;
  else if (len < 0x100) {
    *p++ = 0x81;
    *p++ = (uint8_t)len;
  } else if (len < 0x10000) {
    *p++ = 0x82;
    *p++ = (uint8_t)(len >> 8);
    *p++ = (uint8_t)len;
  } else {
    *p++ = 0x83;
    *p++ = (uint8_t)(len >> 16);
    *p++ = (uint8_t)(len >> 8);
    *p++ = (uint8_t)len;
  }
  return p;
}

static const char PEM_HEAD[] = "-----BEGIN CERTIFICATE-----\n";
static const char PEM_TAIL[] = "-----END CERTIFICATE-----\n";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t pem_len_for(size_t der_len) {
  size_t b64 = (der_len + 2) / 3 * 4;
  return sizeof PEM_HEAD - 1 + b64 + (b64 + 63) / 64 + sizeof PEM_TAIL - 1;
}

// The two base64 characters of every 12-bit value (3 bytes are two table reads), built once.
static char B64_PAIRS[4096][2];
static uv_once_t b64_pairs_once = UV_ONCE_INIT;
static void build_b64_pairs(void) {
  for (int i = 0; i < 4096; i++) {
    B64_PAIRS[i][0] = B64[i >> 6];
    B64_PAIRS[i][1] = B64[i & 63];
  }
}

static size_t write_pem(uint8_t *out, const uint8_t *der, size_t n) {
  uv_once(&b64_pairs_once, build_b64_pairs);
  uint8_t *p = out;
  memcpy(p, PEM_HEAD, sizeof PEM_HEAD - 1);
  p += sizeof PEM_HEAD - 1;
  size_t whole = n - n % 3, col = 0;
  for (size_t i = 0; i < whole; i += 3) {
    uint32_t v = (uint32_t)der[i] << 16 | (uint32_t)der[i + 1] << 8 | der[i + 2];
    memcpy(p, B64_PAIRS[v >> 12], 2);
    memcpy(p + 2, B64_PAIRS[v & 4095], 2);
    p += 4;
    if (++col == 16) { // 64 characters a line
      *p++ = '\n';
      col = 0;
    }
  }
  if (whole < n) {
    uint32_t v = (uint32_t)der[whole] << 16 | (whole + 1 < n ? (uint32_t)der[whole + 1] << 8 : 0);
    *p++ = B64[v >> 18];
    *p++ = B64[(v >> 12) & 63];
    *p++ = whole + 1 < n ? B64[(v >> 6) & 63] : '=';
    *p++ = '=';
    col++;
  }
  if (col) *p++ = '\n';
  memcpy(p, PEM_TAIL, sizeof PEM_TAIL - 1);
  p += sizeof PEM_TAIL - 1;
  return (size_t)(p - out);
}

// certifyBatch's jobs, 7 u32 each: TBS start and end in data, the subject public key bits' start and end in data,
// where the SKI's 20 bytes go in data (NO_SKI: leave as is), where the PEM goes in the pem buffer and its room there.
// data must have CERT_HEAD_ROOM bytes free in front of each TBS, and room behind it for the AlgorithmIdentifier, a
// BIT STRING header and the largest signature.
#define JOB_WORDS 7
#define NO_SKI 0xffffffffu
#define CERT_HEAD_ROOM 6

// Each threadpool thread that signs gets its own OpenSSL library context (made on its first batch, kept for the
// thread's life) holding its own copy of each signer's key. In the shared default context every ECDSA signature
// fetches SHA-512 by name for its nonce (OpenSSL 3.0), taking read locks and reference counts that all signing threads
// write to, so their cache lines bounce between cores: ~2% of a P-256 signature with two threads (A/B of 40 paired
// runs). Under FIPS (default properties fips=yes) every signature stays in the default context, whose configuration
// decides which provider signs.
static THREAD_LOCAL OSSL_LIB_CTX *thread_lib;
static THREAD_LOCAL int thread_lib_tried;

static OSSL_LIB_CTX *own_lib_ctx(void) {
  if (!thread_lib_tried) {
    thread_lib_tried = 1;
    if (!EVP_default_properties_is_fips_enabled(NULL)) thread_lib = OSSL_LIB_CTX_new();
  }
  return thread_lib;
}

// The signer's key for this thread: its copy in the thread's context (made on first use from DER that is wiped
// after; *slot is its index in s->keys), or the shared key (*lib = NULL, *slot = -1) when the thread has no context of
// its own or the copy cannot be made.
static EVP_PKEY *thread_key(signer_t *s, OSSL_LIB_CTX **lib, int *slot) {
  OSSL_LIB_CTX *own = own_lib_ctx();
  EVP_PKEY *key = NULL;
  *lib = NULL;
  *slot = -1;
  if (!own) return s->pkey;
  uv_mutex_lock(&s->lock);
  int i = 0;
  for (; i < THREAD_KEYS && s->keys[i].lib; i++) {
    if (s->keys[i].lib == own) {
      key = s->keys[i].pkey;
      break;
    }
  }
  if (!key && i < THREAD_KEYS) {
    unsigned char *der = NULL;
    int len = i2d_PrivateKey(s->pkey, &der);
    if (len > 0) {
      const unsigned char *p = der;
      key = d2i_AutoPrivateKey_ex(NULL, &p, len, own, NULL);
      OPENSSL_clear_free(der, (size_t)len);
    }
    ERR_clear_error();
    if (key) {
      s->keys[i].lib = own;
      s->keys[i].pkey = key;
    }
  }
  uv_mutex_unlock(&s->lock);
  if (!key) return s->pkey;
  *lib = own;
  *slot = i;
  return key;
}

// The key context a batch signs with (signing init and digest set), or NULL with b->failed_setup set. A thread with
// its own copy of the key keeps the context for its later batches (*owned = 0); otherwise the batch frees it
// (*owned = 1).
static EVP_PKEY_CTX *open_batch_ctx(batch_t *b, int *owned) {
  mark_batch_thread();
  OSSL_LIB_CTX *lib;
  int slot;
  EVP_PKEY *key = thread_key(b->signer, &lib, &slot);
  EVP_PKEY_CTX **kept = slot >= 0 ? &b->signer->keys[slot].ctx[b->hash] : NULL;
  *owned = kept == NULL;
  if (kept && *kept) return *kept;
  const EVP_MD *md = b->hash == 0 ? EVP_sha256() : b->hash == 1 ? EVP_sha384() : EVP_sha512();
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(lib, key, NULL);
  if (!ctx || EVP_PKEY_sign_init(ctx) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, md) != 1) {
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    b->failed_setup = 1;
    return NULL;
  }
  if (kept) *kept = ctx;
  return ctx;
}

// Digests, by index: SHA-1 (the SKI), then the signature's SHA-256, SHA-384, SHA-512 (the batch's hash + 1). Each
// thread fetches them once (in its own library context) and reuses one digest context: OpenSSL 3.0's one-shot
// SHA1() and SHA256() fetch the digest by name on every call (EVP_Q_digest: locks, a hash-table lookup, allocations),
// which was ~4% of a P-256 certificate's CPU.
#define DIGEST_SHA1 0
static const char *const DIGEST_NAMES[4] = {"SHA1", "SHA256", "SHA384", "SHA512"};
static const unsigned int DIGEST_SIZES[4] = {20, 32, 48, 64};
static THREAD_LOCAL EVP_MD *thread_mds[4];
static THREAD_LOCAL EVP_MD_CTX *thread_md_ctx;
static THREAD_LOCAL int thread_mds_tried;

// The digest `which` of data[0, len) into out; returns its length, 0 if it failed.
static size_t digest_of(int which, const uint8_t *data, size_t len, unsigned char *out) {
  if (!thread_mds_tried) {
    thread_mds_tried = 1;
    OSSL_LIB_CTX *lib = own_lib_ctx(); // NULL under FIPS: the default context's properties choose the provider
    for (int i = 0; i < 4; i++) thread_mds[i] = EVP_MD_fetch(lib, DIGEST_NAMES[i], NULL);
    thread_md_ctx = EVP_MD_CTX_new();
    ERR_clear_error();
  }
  unsigned int n = 0;
  const EVP_MD *md = thread_mds[which];
  if (thread_md_ctx && md) {
    if (EVP_DigestInit_ex2(thread_md_ctx, md, NULL) == 1 && EVP_DigestUpdate(thread_md_ctx, data, len) == 1 &&
        EVP_DigestFinal_ex(thread_md_ctx, out, &n) == 1 && n == DIGEST_SIZES[which])
      return n;
  } else if (EVP_Digest(data, len, out, &n, EVP_get_digestbyname(DIGEST_NAMES[which]), NULL) == 1 &&
             n == DIGEST_SIZES[which])
    return n;
  ERR_clear_error();
  return 0;
}

static void execute_certify(napi_env env, void *data) {
  (void)env;
  batch_t *b = data;
  int owned;
  EVP_PKEY_CTX *ctx = open_batch_ctx(b, &owned);
  if (!ctx) return;
  uint8_t *buf = (uint8_t *)b->data;
  unsigned char digest[SHA512_DIGEST_LENGTH];
  for (uint32_t i = 0; i < b->count; i++) {
    const uint32_t *job = b->ranges + (size_t)i * JOB_WORDS;
    uint8_t *tbs = buf + job[0];
    size_t tbs_len = job[1] - job[0];
    b->lengths[i] = 0;
    if (job[4] != NO_SKI && !digest_of(DIGEST_SHA1, buf + job[2], job[3] - job[2], buf + job[4])) continue;
    size_t digest_len = digest_of(b->hash + 1, tbs, tbs_len, digest);
    if (!digest_len) continue;
    // The signature goes straight into its place in the BIT STRING behind the AlgorithmIdentifier; its header is
    // written once the length is known (max_len < 0x10000, so a 4-byte header at most: moved if shorter).
    uint8_t *after = tbs + tbs_len;
    memcpy(after, b->alg_id, b->alg_id_len);
    uint8_t *bits = after + b->alg_id_len;
    size_t sig_len = b->slot;
    uint8_t *sig = bits + 5;
    if (EVP_PKEY_sign(ctx, sig, &sig_len, digest, digest_len) != 1 || sig_len > b->slot) {
      ERR_clear_error();
      continue;
    }
    size_t bits_hl = header_len(sig_len + 1);
    uint8_t *p = put_header(bits, 0x03, sig_len + 1);
    *p++ = 0;
    memmove(p, sig, sig_len);
    size_t body = tbs_len + b->alg_id_len + bits_hl + 1 + sig_len;
    size_t cert_hl = header_len(body);
    if (cert_hl > CERT_HEAD_ROOM) continue;
    uint8_t *cert = tbs - cert_hl;
    put_header(cert, 0x30, body);
    size_t der_len = cert_hl + body;
    if (pem_len_for(der_len) > job[6]) continue;
    b->lengths[i] = (uint32_t)write_pem(b->pem + job[5], cert, der_len);
  }
  OPENSSL_cleanse(digest, sizeof digest);
  if (owned) EVP_PKEY_CTX_free(ctx);
}

static void execute(napi_env env, void *data) {
  (void)env;
  batch_t *b = data;
  int owned;
  EVP_PKEY_CTX *ctx = open_batch_ctx(b, &owned);
  if (!ctx) return;
  unsigned char digest[SHA512_DIGEST_LENGTH];
  for (uint32_t i = 0; i < b->count; i++) {
    const uint8_t *tbs = b->data + b->ranges[2 * i];
    size_t digest_len = digest_of(b->hash + 1, tbs, b->ranges[2 * i + 1] - b->ranges[2 * i], digest);
    size_t sig_len = b->slot;
    if (digest_len && EVP_PKEY_sign(ctx, b->sigs + i * b->slot, &sig_len, digest, digest_len) == 1 && sig_len <= b->slot)
      b->lengths[i] = (uint32_t)sig_len;
    else {
      b->lengths[i] = 0;
      ERR_clear_error();
    }
  }
  OPENSSL_cleanse(digest, sizeof digest);
  if (owned) EVP_PKEY_CTX_free(ctx);
}

// Back on the event loop: calls the batch's callback (null, or an Error when the key could not be set up) and lets go
// of what the batch kept alive.
static void finish_batch(napi_env env, batch_t *b) {
  napi_value callback, global, err = NULL, argv[1];
  if (napi_get_reference_value(env, b->callback, &callback) == napi_ok && napi_get_global(env, &global) == napi_ok) {
    if (b->failed_setup) {
      napi_value message;
      napi_create_string_utf8(env,
                              b->failed_setup == NOT_RUN ? "the batch could not be run"
                                                         : "the key could not be set up for signing",
                              NAPI_AUTO_LENGTH, &message);
      napi_create_error(env, NULL, message, &err);
    } else napi_get_null(env, &err);
    argv[0] = err;
    napi_call_function(env, global, callback, 1, argv, NULL);
  }
  for (int i = 0; i < KEPT; i++) napi_delete_reference(env, b->refs[i]);
  napi_delete_reference(env, b->callback);
  free(b);
}

// The threadsafe function's call on the event loop, once per finished batch (env is NULL at teardown: just free).
static void deliver_batch(napi_env env, napi_value js_callback, void *context, void *data) {
  (void)js_callback;
  signer_t *s = context;
  batch_t *b = data;
  if (!env) {
    free(b);
    return;
  }
  if (--s->pending == 0) napi_unref_threadsafe_function(env, s->deliver);
  finish_batch(env, b);
}

// A worker: takes queued batches one after another until none is left or its time slice is over, so that the next
// batch starts the moment one ends (a batch per threadpool job left a core idle while the event loop woke to queue
// the next one: ~1.6 of 2 cores in use). It leaves the count of workers under the same lock that submitters read.
typedef struct {
  napi_async_work work;
  napi_ref signer_ref; // keeps the signer alive until worker_done has run
  signer_t *signer;
} worker_t;

static void worker_run(napi_env env, void *data) {
  worker_t *w = data;
  signer_t *s = w->signer;
  uint64_t start = uv_hrtime();
  count_worker(+1);
  for (;;) {
    // At the end of a slice, go on for another while a threadpool thread is free for other work.
    int crowded = count_worker(0);
    if (uv_hrtime() - start >= WORKER_SLICE_NS && !crowded) start = uv_hrtime();
    uv_mutex_lock(&s->lock);
    batch_t *b = s->queued;
    if (!b && !crowded) {
      s->idle++;
      uv_cond_timedwait(&s->more, &s->lock, WORKER_IDLE_NS);
      s->idle--;
      b = s->queued;
    }
    if (b && uv_hrtime() - start < WORKER_SLICE_NS) {
      s->queued = b->next;
      if (!s->queued) s->queued_tail = NULL;
    } else {
      b = NULL;
      s->workers--;
    }
    uv_mutex_unlock(&s->lock);
    if (!b) {
      count_worker(-1);
      return;
    }
    b->run(env, b);
    if (napi_call_threadsafe_function(s->deliver, b, napi_tsfn_nonblocking) != napi_ok) {
      // Only when the environment is going away; the batch cannot be handed back.
      free(b);
    }
  }
}

static int start_worker(napi_env env, signer_t *s, napi_value signer_value);

static void worker_done(napi_env env, napi_status status, void *data) {
  (void)status;
  worker_t *w = data;
  signer_t *s = w->signer;
  // A worker that stopped at the end of its slice leaves batches queued: another one takes them.
  uv_mutex_lock(&s->lock);
  int more = s->queued != NULL && s->workers < s->max_workers;
  if (more) s->workers++;
  uv_mutex_unlock(&s->lock);
  napi_value signer_value;
  if (more && (napi_get_reference_value(env, w->signer_ref, &signer_value) != napi_ok ||
               !start_worker(env, s, signer_value))) {
    // No worker could be queued (out of memory): if none runs, fail what waits rather than leave it waiting forever.
    uv_mutex_lock(&s->lock);
    batch_t *stranded = --s->workers == 0 ? s->queued : NULL;
    if (stranded) s->queued = s->queued_tail = NULL;
    uv_mutex_unlock(&s->lock);
    while (stranded) {
      batch_t *next = stranded->next;
      stranded->failed_setup = NOT_RUN;
      if (--s->pending == 0) napi_unref_threadsafe_function(env, s->deliver);
      finish_batch(env, stranded);
      stranded = next;
    }
  }
  napi_delete_reference(env, w->signer_ref);
  napi_delete_async_work(env, w->work);
  free(w);
}

// Queues a worker on the threadpool (the caller has counted it in s->workers); 0 if that failed.
static int start_worker(napi_env env, signer_t *s, napi_value signer_value) {
  worker_t *w = calloc(1, sizeof *w);
  napi_value name;
  if (!w) return 0;
  w->signer = s;
  if (napi_create_reference(env, signer_value, 1, &w->signer_ref) == napi_ok) {
    if (napi_create_string_utf8(env, "certdesk_sign", NAPI_AUTO_LENGTH, &name) == napi_ok &&
        napi_create_async_work(env, NULL, name, worker_run, worker_done, w, &w->work) == napi_ok) {
      if (napi_queue_async_work(env, w->work) == napi_ok) {
        s->workers_started++;
        return 1;
      }
      napi_delete_async_work(env, w->work);
    }
    napi_delete_reference(env, w->signer_ref);
  }
  free(w);
  return 0;
}

// What signBatch and certifyBatch take alike: 9 arguments, the signer first, the hash second, the data third, the
// callback last. Returns 0 after throwing a TypeError that names `fn`.
typedef struct {
  napi_value argv[9];
  signer_t *signer;
  int32_t hash;
  void *data;
  size_t data_len;
} batch_args_t;

static napi_value throw_in(napi_env env, const char *fn, const char *what) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", fn, what);
  return throw_type(env, message);
}

static int batch_args(napi_env env, napi_callback_info info, const char *fn, batch_args_t *a) {
  size_t argc = 9;
  napi_valuetype callback_type;
  if (napi_get_cb_info(env, info, &argc, a->argv, NULL, NULL) != napi_ok || argc < 9)
    return throw_in(env, fn, "expected 9 arguments"), 0;
  if (!(a->signer = signer_of(env, a->argv[0]))) return throw_in(env, fn, "expected a signer"), 0;
  if (napi_get_value_int32(env, a->argv[1], &a->hash) != napi_ok || a->hash < 0 || a->hash > 2)
    return throw_in(env, fn, "hash must be 0, 1 or 2"), 0;
  if (!typed_array(env, a->argv[2], napi_uint8_array, &a->data, &a->data_len))
    return throw_in(env, fn, "data must be a Uint8Array"), 0;
  if (napi_typeof(env, a->argv[8], &callback_type) != napi_ok || callback_type != napi_function)
    return throw_in(env, fn, "expected a callback"), 0;
  return 1;
}

// A batch_t for `a` (extra bytes for a copy of the AlgorithmIdentifier), or NULL after throwing.
static batch_t *new_batch(napi_env env, const char *fn, const batch_args_t *a, size_t alg_id_len) {
  batch_t *b = calloc(1, sizeof *b + alg_id_len);
  if (!b) return throw_in(env, fn, "out of memory"), NULL;
  b->signer = a->signer;
  b->hash = a->hash;
  b->data = a->data;
  b->data_len = a->data_len;
  return b;
}

// Keeps the signer (its EVP_PKEY), the arrays at argv[kept] and the callback reachable until the batch is handed
// back, queues the batch for the signer's workers and starts one if fewer than max_workers run. Frees it after
// throwing if that fails.
static napi_value queue_batch(napi_env env, const char *fn, batch_t *b, const batch_args_t *a, const int kept[KEPT],
                              napi_async_execute_callback execute_fn) {
  signer_t *s = a->signer;
  int refs = 0;
  for (; refs < KEPT; refs++)
    if (napi_create_reference(env, a->argv[kept[refs]], 1, &b->refs[refs]) != napi_ok) break;
  if (refs == KEPT && napi_create_reference(env, a->argv[8], 1, &b->callback) == napi_ok) {
    b->run = execute_fn;
    uv_mutex_lock(&s->lock);
    if (s->queued_tail) s->queued_tail->next = b;
    else s->queued = b;
    s->queued_tail = b;
    // A waiting worker takes it; else a new worker if fewer than max_workers run.
    int start = !s->idle && s->workers < s->max_workers;
    if (start) s->workers++;
    else if (s->idle) uv_cond_signal(&s->more);
    uv_mutex_unlock(&s->lock);
    if (!start || start_worker(env, s, a->argv[0])) {
      if (s->pending++ == 0) napi_ref_threadsafe_function(env, s->deliver);
      return NULL;
    }
    // No worker could be started: if none runs, the batch would wait forever; take it back out.
    uv_mutex_lock(&s->lock);
    s->workers--;
    int stranded = s->workers == 0;
    if (stranded) {
      batch_t **at = &s->queued, *prev = NULL;
      while (*at && *at != b) prev = *at, at = &(*at)->next;
      if (*at) {
        *at = b->next;
        if (s->queued_tail == b) s->queued_tail = prev;
      } else stranded = 0; // already taken
    }
    uv_mutex_unlock(&s->lock);
    if (!stranded) {
      if (s->pending++ == 0) napi_ref_threadsafe_function(env, s->deliver);
      return NULL;
    }
    napi_delete_reference(env, b->callback);
  }
  while (refs-- > 0) napi_delete_reference(env, b->refs[refs]);
  free(b);
  return throw_in(env, fn, "could not queue the batch");
}

static napi_value sign_batch(napi_env env, napi_callback_info info) {
  const char *fn = "signBatch";
  batch_args_t a;
  if (!batch_args(env, info, fn, &a)) return NULL;
  uint32_t count, slot;
  void *ranges, *sigs, *lengths;
  size_t ranges_len, sigs_len, lengths_len;
  if (!typed_array(env, a.argv[3], napi_uint32_array, &ranges, &ranges_len))
    return throw_in(env, fn, "ranges must be a Uint32Array");
  if (napi_get_value_uint32(env, a.argv[4], &count) != napi_ok || (size_t)count * 2 > ranges_len)
    return throw_in(env, fn, "count exceeds the ranges");
  if (!typed_array(env, a.argv[5], napi_uint8_array, &sigs, &sigs_len))
    return throw_in(env, fn, "sigs must be a Uint8Array");
  if (napi_get_value_uint32(env, a.argv[6], &slot) != napi_ok || slot < a.signer->max_signature ||
      (size_t)count * slot > sigs_len)
    return throw_in(env, fn, "the signature slots are too small");
  if (!typed_array(env, a.argv[7], napi_uint32_array, &lengths, &lengths_len) || lengths_len < count)
    return throw_in(env, fn, "lengths must be a Uint32Array of count entries");
  const uint32_t *r = ranges;
  for (uint32_t i = 0; i < count; i++) {
    if (r[2 * i] > r[2 * i + 1] || r[2 * i + 1] > a.data_len) return throw_in(env, fn, "a range lies outside the data");
  }
  batch_t *b = new_batch(env, fn, &a, 0);
  if (!b) return NULL;
  b->ranges = ranges;
  b->count = count;
  b->sigs = sigs;
  b->slot = slot;
  b->lengths = lengths;
  const int kept[KEPT] = {0, 2, 3, 5, 7};
  return queue_batch(env, fn, b, &a, kept, execute);
}

static napi_value certify_batch(napi_env env, napi_callback_info info) {
  const char *fn = "certifyBatch";
  batch_args_t a;
  if (!batch_args(env, info, fn, &a)) return NULL;
  uint32_t count;
  void *jobs, *alg_id, *pem, *lengths;
  size_t jobs_len, alg_id_len, pem_len, lengths_len;
  if (!typed_array(env, a.argv[3], napi_uint32_array, &jobs, &jobs_len))
    return throw_in(env, fn, "jobs must be a Uint32Array");
  if (napi_get_value_uint32(env, a.argv[4], &count) != napi_ok || (size_t)count * JOB_WORDS > jobs_len)
    return throw_in(env, fn, "count exceeds the jobs");
  if (!typed_array(env, a.argv[5], napi_uint8_array, &alg_id, &alg_id_len) || alg_id_len == 0 || alg_id_len > 64)
    return throw_in(env, fn, "algorithmIdentifier must be a Uint8Array of 1 to 64 bytes");
  if (!typed_array(env, a.argv[6], napi_uint8_array, &pem, &pem_len))
    return throw_in(env, fn, "pem must be a Uint8Array");
  if (!typed_array(env, a.argv[7], napi_uint32_array, &lengths, &lengths_len) || lengths_len < count)
    return throw_in(env, fn, "lengths must be a Uint32Array of count entries");
  // Every byte the threadpool will read or write lies inside the arrays given.
  const uint32_t *j = jobs;
  for (uint32_t i = 0; i < count; i++, j += JOB_WORDS) {
    uint64_t tail = (uint64_t)j[1] + alg_id_len + 5 + a.signer->max_signature;
    if (j[0] < CERT_HEAD_ROOM || j[0] > j[1] || tail > a.data_len || j[2] > j[3] || j[3] > a.data_len ||
        (j[4] != NO_SKI && (uint64_t)j[4] + 20 > j[1]) || (j[4] != NO_SKI && j[4] < j[0]) ||
        (uint64_t)j[5] + j[6] > pem_len)
      return throw_in(env, fn, "a job lies outside its buffers");
  }
  batch_t *b = new_batch(env, fn, &a, alg_id_len);
  if (!b) return NULL;
  // The AlgorithmIdentifier is copied behind the struct (the JS array may be reused once this returns).
  b->alg_id = (uint8_t *)(b + 1);
  memcpy(b->alg_id, alg_id, alg_id_len);
  b->alg_id_len = alg_id_len;
  b->ranges = jobs;
  b->count = count;
  b->slot = a.signer->max_signature;
  b->lengths = lengths;
  b->pem = pem;
  b->pem_len = pem_len;
  const int kept[KEPT] = {0, 2, 3, 6, 7};
  return queue_batch(env, fn, b, &a, kept, execute_certify);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"createSigner", NULL, create_signer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"maxSignatureSize", NULL, max_signature_size, NULL, NULL, NULL, napi_enumerable, NULL},
      {"signerStats", NULL, signer_stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"signBatch", NULL, sign_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"certifyBatch", NULL, certify_batch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
