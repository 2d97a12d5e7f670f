// certdesk's native signer: ECDSA and RSA (PKCS#1 v1.5) signatures over batches of TBSCertificates, made with the
// OpenSSL that Node itself links (no other library, nothing but signing). Why it exists: node:crypto's one-shot sign
// fetches the digest by name and builds a fresh key context per call, about a quarter of a P-256 signature's cost;
// here one key context per batch is reused and each TBS is hashed with the one-shot digest functions. The private key
// arrives once as PKCS#8 DER (the caller wipes its copy) and lives only in this EVP_PKEY until the signer is
// garbage-collected. Batches run on libuv's threadpool (napi_async_work): the event loop never signs.
//
// API (see src/services/pki/native.ts):
//   createSigner(pkcs8: Uint8Array) -> signer           throws on a key OpenSSL cannot read or that is not RSA/EC
//   maxSignatureSize(signer) -> number
//   signBatch(signer, hash: 0|1|2 (SHA-256/384/512), data: Uint8Array, ranges: Uint32Array (start, end per job),
//             count, sigs: Uint8Array (count * slot bytes), slot, lengths: Uint32Array (count), callback(err))
//     Each job's signature is written at sigs[i * slot]; lengths[i] is its length, 0 when that signature failed.
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  EVP_PKEY *pkey;
  uint32_t max_signature; // EVP_PKEY_get_size, read once
} signer_t;

typedef struct {
  napi_async_work work;
  napi_ref refs[4]; // signer, data, sigs, lengths: kept alive while the threadpool reads and writes them
  napi_ref callback;
  EVP_PKEY *pkey;
  int hash;
  const uint8_t *data;
  size_t data_len;
  const uint32_t *ranges;
  uint32_t count;
  uint8_t *sigs;
  size_t slot;
  uint32_t *lengths;
  int failed_setup;
} batch_t;

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

static void free_signer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  signer_t *s = data;
  EVP_PKEY_free(s->pkey);
  free(s);
}

static int typed_array(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  bool is;
  if (napi_is_typedarray(env, value, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want || (want == napi_uint8_array && type == napi_uint8_clamped_array);
}

static napi_value create_signer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *der;
  size_t len;
  if (argc < 1 || !typed_array(env, argv[0], napi_uint8_array, &der, &len))
    return throw_type(env, "createSigner: expected the key as PKCS#8 DER in a Uint8Array");
  const unsigned char *p = der;
  EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
  ERR_clear_error();
  if (!pkey) return throw_type(env, "createSigner: the key could not be read");
  int id = EVP_PKEY_get_base_id(pkey);
  if (id != EVP_PKEY_EC && id != EVP_PKEY_RSA) {
    EVP_PKEY_free(pkey);
    return throw_type(env, "createSigner: only RSA and EC keys are signed natively");
  }
  signer_t *s = malloc(sizeof *s);
  if (!s) {
    EVP_PKEY_free(pkey);
    napi_throw_error(env, NULL, "createSigner: out of memory");
    return NULL;
  }
  s->pkey = pkey;
  s->max_signature = (uint32_t)EVP_PKEY_get_size(pkey);
  napi_value external;
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

static napi_value max_signature_size(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  signer_t *s = argc < 1 ? NULL : signer_of(env, argv[0]);
  if (!s) return throw_type(env, "maxSignatureSize: expected a signer");
  napi_value result;
  CHECK(env, napi_create_uint32(env, s->max_signature, &result));
  return result;
}

static void execute(napi_env env, void *data) {
  (void)env;
  batch_t *b = data;
  const EVP_MD *md = b->hash == 0 ? EVP_sha256() : b->hash == 1 ? EVP_sha384() : EVP_sha512();
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(b->pkey, NULL);
  if (!ctx || EVP_PKEY_sign_init(ctx) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, md) != 1) {
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    b->failed_setup = 1;
    return;
  }
  unsigned char digest[SHA512_DIGEST_LENGTH];
  for (uint32_t i = 0; i < b->count; i++) {
    const uint8_t *tbs = b->data + b->ranges[2 * i];
    size_t tbs_len = b->ranges[2 * i + 1] - b->ranges[2 * i];
    size_t digest_len = b->hash == 0 ? SHA256_DIGEST_LENGTH : b->hash == 1 ? SHA384_DIGEST_LENGTH : SHA512_DIGEST_LENGTH;
    if (b->hash == 0) SHA256(tbs, tbs_len, digest);
    else if (b->hash == 1) SHA384(tbs, tbs_len, digest);
    else SHA512(tbs, tbs_len, digest);
    size_t sig_len = b->slot;
    if (EVP_PKEY_sign(ctx, b->sigs + i * b->slot, &sig_len, digest, digest_len) == 1 && sig_len <= b->slot)
      b->lengths[i] = (uint32_t)sig_len;
    else {
      b->lengths[i] = 0;
      ERR_clear_error();
    }
  }
  OPENSSL_cleanse(digest, sizeof digest);
  EVP_PKEY_CTX_free(ctx);
}

static void complete(napi_env env, napi_status status, void *data) {
  batch_t *b = data;
  napi_value callback, global, err = NULL, argv[1];
  if (napi_get_reference_value(env, b->callback, &callback) == napi_ok && napi_get_global(env, &global) == napi_ok) {
    if (status != napi_ok || b->failed_setup) {
      napi_value message;
      napi_create_string_utf8(env, b->failed_setup ? "the key could not be set up for signing" : "batch cancelled",
                              NAPI_AUTO_LENGTH, &message);
      napi_create_error(env, NULL, message, &err);
    } else napi_get_null(env, &err);
    argv[0] = err;
    napi_call_function(env, global, callback, 1, argv, NULL);
  }
  for (int i = 0; i < 4; i++) napi_delete_reference(env, b->refs[i]);
  napi_delete_reference(env, b->callback);
  napi_delete_async_work(env, b->work);
  free(b);
}

static napi_value sign_batch(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) return throw_type(env, "signBatch: expected 9 arguments");
  signer_t *s = signer_of(env, argv[0]);
  if (!s) return throw_type(env, "signBatch: expected a signer");
  int32_t hash;
  uint32_t count, slot;
  void *data, *ranges, *sigs, *lengths;
  size_t data_len, ranges_len, sigs_len, lengths_len;
  napi_valuetype callback_type;
  if (napi_get_value_int32(env, argv[1], &hash) != napi_ok || hash < 0 || hash > 2)
    return throw_type(env, "signBatch: hash must be 0, 1 or 2");
  if (!typed_array(env, argv[2], napi_uint8_array, &data, &data_len))
    return throw_type(env, "signBatch: data must be a Uint8Array");
  if (!typed_array(env, argv[3], napi_uint32_array, &ranges, &ranges_len))
    return throw_type(env, "signBatch: ranges must be a Uint32Array");
  if (napi_get_value_uint32(env, argv[4], &count) != napi_ok || (size_t)count * 2 > ranges_len)
    return throw_type(env, "signBatch: count exceeds the ranges");
  if (!typed_array(env, argv[5], napi_uint8_array, &sigs, &sigs_len))
    return throw_type(env, "signBatch: sigs must be a Uint8Array");
  if (napi_get_value_uint32(env, argv[6], &slot) != napi_ok || slot < s->max_signature ||
      (size_t)count * slot > sigs_len)
    return throw_type(env, "signBatch: the signature slots are too small");
  if (!typed_array(env, argv[7], napi_uint32_array, &lengths, &lengths_len) || lengths_len < count)
    return throw_type(env, "signBatch: lengths must be a Uint32Array of count entries");
  if (napi_typeof(env, argv[8], &callback_type) != napi_ok || callback_type != napi_function)
    return throw_type(env, "signBatch: expected a callback");
  const uint32_t *r = ranges;
  for (uint32_t i = 0; i < count; i++) {
    if (r[2 * i] > r[2 * i + 1] || r[2 * i + 1] > data_len)
      return throw_type(env, "signBatch: a range lies outside the data");
  }
  batch_t *b = calloc(1, sizeof *b);
  if (!b) {
    napi_throw_error(env, NULL, "signBatch: out of memory");
    return NULL;
  }
  b->pkey = s->pkey;
  b->hash = hash;
  b->data = data;
  b->data_len = data_len;
  b->ranges = ranges;
  b->count = count;
  b->sigs = sigs;
  b->slot = slot;
  b->lengths = lengths;
  napi_value name;
  // The signer (its EVP_PKEY) and the arrays stay reachable until complete() runs.
  const int kept[4] = {0, 2, 5, 7};
  for (int i = 0; i < 4; i++) CHECK(env, napi_create_reference(env, argv[kept[i]], 1, &b->refs[i]));
  CHECK(env, napi_create_reference(env, argv[8], 1, &b->callback));
  CHECK(env, napi_create_string_utf8(env, "certdesk:signBatch", NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_create_async_work(env, NULL, name, execute, complete, b, &b->work));
  CHECK(env, napi_queue_async_work(env, b->work));
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"createSigner", NULL, create_signer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"maxSignatureSize", NULL, max_signature_size, NULL, NULL, NULL, napi_enumerable, NULL},
      {"signBatch", NULL, sign_batch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
