/*
 * certificates._speedups: docex's hot paths in C. The salted field hashes (ADR 0001),
 * keccak-256, and the checks of strict JSON on a parsed value.
 *
 * What it computes is defined by certificates/disclosure.py, certificates/keccak.py and
 * certificates/strict_json.py, whose pure-Python code stays the reference: every function
 * here either returns exactly what that code returns, or None (False for plain_json),
 * meaning "not on this fast path" (a float, an integer
 * outside the I-JSON safe range, a lone surrogate, a missing or odd salt, a concealed
 * field, nesting deeper than MAX_DEPTH, a type that is not plain JSON). On None the caller
 * runs the Python code, which gives the answer or raises the typed error that names the
 * field. No function here raises for bad input; only for memory exhaustion.
 *
 * tests/unit/certificates/test_native_field_hashes.py and test_native_strict_json.py check
 * both against each other (Hypothesis documents) and keccak-256 against safe-pysha3.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SALT_SIZE 16
#define HASH_SIZE 32
#define FIELD_PREFIX 0x02
#define TARGET_PREFIX 0x03
#define MAX_DEPTH 200
/* 2**53 - 1: certificates/canonical.py's MAX_SAFE_INTEGER */
#define MAX_SAFE_INTEGER 9007199254740991LL

/* ---- keccak-256 (Keccak-f[1600], rate 136 bytes, Keccak's own padding 0x01 .. 0x80) ---- */

#define RATE 136

static const uint64_t ROUND_CONSTANTS[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
    0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
    0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
    0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
    0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
    0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};
/* rho's rotation of lane x + 5y */
static const unsigned RHO[25] = {
    0,  1,  62, 28, 27, /* y = 0 */
    36, 44, 6,  55, 20, /* y = 1 */
    3,  10, 43, 25, 39, /* y = 2 */
    41, 45, 15, 21, 8,  /* y = 3 */
    18, 2,  61, 56, 14, /* y = 4 */
};

/* (n & 63) keeps rho's rotation by 0 defined */
static inline uint64_t rotl(uint64_t x, unsigned n) {
    return (x << n) | (x >> ((64 - n) & 63));
}

/* Every loop has a constant trip count and no carried dependency, so the compiler unrolls
 * it and keeps the lanes in registers (about three times faster than walking pi's cycle). */
static void keccak_f(uint64_t a[25]) {
    uint64_t b[25], c[5], d[5];
    for (int round = 0; round < 24; round++) {
        /* theta */
        for (int x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++) d[x] = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
        /* rho and pi: lane (x, y) rotated to (y, 2x + 3y) */
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++)
                b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y] ^ d[x], RHO[x + 5 * y]);
        /* chi */
        for (int y = 0; y < 25; y += 5)
            for (int x = 0; x < 5; x++)
                a[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] & b[y + (x + 2) % 5]);
        /* iota */
        a[0] ^= ROUND_CONSTANTS[round];
    }
}

static inline uint64_t load_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void absorb_block(uint64_t st[25], const unsigned char *block) {
    for (int i = 0; i < RATE / 8; i++) st[i] ^= load_le64(block + 8 * i);
    keccak_f(st);
}

static void keccak256(const unsigned char *data, size_t len, unsigned char out[HASH_SIZE]) {
    uint64_t st[25];
    unsigned char last[RATE];
    memset(st, 0, sizeof st);
    while (len >= RATE) {
        absorb_block(st, data);
        data += RATE;
        len -= RATE;
    }
    memset(last, 0, sizeof last);
    if (len) memcpy(last, data, len);
    last[len] ^= 0x01;
    last[RATE - 1] ^= 0x80;
    absorb_block(st, last);
    for (int i = 0; i < HASH_SIZE / 8; i++)
        for (int b = 0; b < 8; b++) out[8 * i + b] = (unsigned char)(st[i] >> (8 * b));
}

/* ---- a growable byte buffer ---- */

typedef struct {
    unsigned char *data;
    size_t len;
    size_t cap;
} Buf;

static int buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    unsigned char *grown = PyMem_Realloc(b->data, cap);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

static int buf_put(Buf *b, const void *p, size_t n) {
    if (buf_reserve(b, n) < 0) return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static void buf_free(Buf *b) { PyMem_Free(b->data); }

/* ---- JSON text of one leaf (RFC 8785 for the values this path takes) ---- */

/* Outcomes of the helpers below: done, not on the fast path (the caller returns None), or
 * a Python error is set (memory). */
enum { DONE = 0, FALLBACK = 1, FAILED = -1 };

static const char HEX[] = "0123456789abcdef";

/* The UTF-8 of ``text`` (FALLBACK for a lone surrogate: the Python code names the field). */
static int utf8_of(PyObject *text, const char **utf8, Py_ssize_t *size) {
    *utf8 = PyUnicode_AsUTF8AndSize(text, size);
    if (*utf8 == NULL) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            PyErr_Clear();
            return FALLBACK;
        }
        return FAILED;
    }
    return DONE;
}

/* json.encoder.encode_basestring (what certificates/canonical.py's canonical_string is):
 * quotes, backslash and the controls below 0x20 escaped, everything else as is. */
static int put_json_string(Buf *b, const char *s, Py_ssize_t n) {
    if (buf_reserve(b, (size_t)n * 6 + 2) < 0) return FAILED;
    unsigned char *out = b->data + b->len;
    *out++ = '"';
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *out++ = c;
            continue;
        }
        *out++ = '\\';
        switch (c) {
            case '"': *out++ = '"'; break;
            case '\\': *out++ = '\\'; break;
            case '\b': *out++ = 'b'; break;
            case '\f': *out++ = 'f'; break;
            case '\n': *out++ = 'n'; break;
            case '\r': *out++ = 'r'; break;
            case '\t': *out++ = 't'; break;
            default:
                *out++ = 'u';
                *out++ = '0';
                *out++ = '0';
                *out++ = (unsigned char)HEX[c >> 4];
                *out++ = (unsigned char)HEX[c & 0xf];
        }
    }
    *out++ = '"';
    b->len = (size_t)(out - b->data);
    return DONE;
}

static int put_text(Buf *b, PyObject *text) {
    const char *utf8;
    Py_ssize_t size;
    int status = utf8_of(text, &utf8, &size);
    if (status != DONE) return status;
    return put_json_string(b, utf8, size);
}

/* canonicalize(value) for a leaf, or FALLBACK where that takes the Python code. */
static int put_leaf(Buf *b, PyObject *value) {
    if (PyUnicode_CheckExact(value)) return put_text(b, value);
    if (value == Py_None) return buf_put(b, "null", 4) < 0 ? FAILED : DONE;
    if (value == Py_True) return buf_put(b, "true", 4) < 0 ? FAILED : DONE;
    if (value == Py_False) return buf_put(b, "false", 5) < 0 ? FAILED : DONE;
    if (PyLong_CheckExact(value)) {
        int overflow = 0;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (number == -1 && PyErr_Occurred()) return FAILED;
        if (overflow || number > MAX_SAFE_INTEGER || number < -MAX_SAFE_INTEGER) return FALLBACK;
        char digits[32];
        int n = snprintf(digits, sizeof digits, "%lld", number);
        return buf_put(b, digits, (size_t)n) < 0 ? FAILED : DONE;
    }
    if (PyDict_CheckExact(value) && PyDict_GET_SIZE(value) == 0)
        return buf_put(b, "{}", 2) < 0 ? FAILED : DONE;
    if (PyList_CheckExact(value) && PyList_GET_SIZE(value) == 0)
        return buf_put(b, "[]", 2) < 0 ? FAILED : DONE;
    return FALLBACK; /* a float, a subclass, a tuple: the Python code decides */
}

/* 0x02 ‖ salt ‖ JCS(path) ‖ JCS(value), hashed into ``out``; ``b`` is scratch. */
static int hash_field(Buf *b, const char *salt, PyObject *path, PyObject *value,
                      unsigned char out[HASH_SIZE]) {
    unsigned char prefix = FIELD_PREFIX;
    b->len = 0;
    if (buf_put(b, &prefix, 1) < 0 || buf_put(b, salt, SALT_SIZE) < 0) return FAILED;
    if (!PyUnicode_CheckExact(path)) return FALLBACK;
    int status = put_text(b, path);
    if (status != DONE) return status;
    status = put_leaf(b, value);
    if (status != DONE) return status;
    keccak256(b->data, b->len, out);
    return DONE;
}

/* One (path, value) of a fields list, or FALLBACK when it is not a pair. */
static int field_at(PyObject *fields, Py_ssize_t i, PyObject **path, PyObject **value) {
    PyObject *item = PyList_GET_ITEM(fields, i);
    if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2) return FALLBACK;
    *path = PyTuple_GET_ITEM(item, 0);
    *value = PyTuple_GET_ITEM(item, 1);
    return DONE;
}

/* ---- the walk (disclosure.iter_fields) ---- */

static int is_nonempty_container(PyObject *value) {
    return (PyDict_CheckExact(value) && PyDict_GET_SIZE(value) > 0) ||
           (PyList_CheckExact(value) && PyList_GET_SIZE(value) > 0);
}

static int append_field(PyObject *out, Buf *path, PyObject *value) {
    PyObject *text = PyUnicode_DecodeUTF8((const char *)path->data, (Py_ssize_t)path->len,
                                          "strict");
    if (text == NULL) return FAILED;
    PyObject *pair = PyTuple_Pack(2, text, value);
    Py_DECREF(text);
    if (pair == NULL) return FAILED;
    int status = PyList_Append(out, pair);
    Py_DECREF(pair);
    return status < 0 ? FAILED : DONE;
}

/* A key as a JSON Pointer reference token: "~" as "~0", "/" as "~1". */
static int put_token(Buf *b, PyObject *key) {
    const char *utf8;
    Py_ssize_t size;
    if (!PyUnicode_CheckExact(key)) return FALLBACK;
    int status = utf8_of(key, &utf8, &size);
    if (status != DONE) return status;
    if (buf_reserve(b, (size_t)size * 2) < 0) return FAILED;
    for (Py_ssize_t i = 0; i < size; i++) {
        char c = utf8[i];
        if (c == '~') {
            b->data[b->len++] = '~';
            b->data[b->len++] = '0';
        } else if (c == '/') {
            b->data[b->len++] = '~';
            b->data[b->len++] = '1';
        } else {
            b->data[b->len++] = (unsigned char)c;
        }
    }
    return DONE;
}

static int collect(PyObject *container, Buf *path, PyObject *out, int depth);

static int visit(PyObject *value, Buf *path, PyObject *out, int depth) {
    if (is_nonempty_container(value)) return collect(value, path, out, depth + 1);
    return append_field(out, path, value);
}

static int collect(PyObject *container, Buf *path, PyObject *out, int depth) {
    if (depth > MAX_DEPTH) return FALLBACK;
    size_t base = path->len;
    int status = DONE;
    if (PyDict_CheckExact(container)) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(container, &pos, &key, &value)) {
            path->len = base;
            if (buf_put(path, "/", 1) < 0) return FAILED;
            status = put_token(path, key);
            if (status != DONE) break;
            status = visit(value, path, out, depth);
            if (status != DONE) break;
        }
    } else {
        Py_ssize_t count = PyList_GET_SIZE(container);
        for (Py_ssize_t i = 0; i < count; i++) {
            char index[32];
            int n = snprintf(index, sizeof index, "/%zd", i);
            path->len = base;
            if (buf_put(path, index, (size_t)n) < 0) return FAILED;
            /* the list cannot change under us: no Python code runs during the walk */
            status = visit(PyList_GET_ITEM(container, i), path, out, depth);
            if (status != DONE) break;
        }
    }
    path->len = base;
    return status;
}

static PyObject *iter_fields(PyObject *module, PyObject *data) {
    (void)module;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    Buf path = {NULL, 0, 0};
    int status = visit(data, &path, out, 0);
    buf_free(&path);
    if (status == DONE) return out;
    Py_DECREF(out);
    if (status == FAILED) return NULL;
    Py_RETURN_NONE;
}

/* ---- the hashes ---- */

static int compare_hashes(const void *a, const void *b) { return memcmp(a, b, HASH_SIZE); }

/* pool_target(fields, pool): the target hash of ``fields`` salted in order from ``pool``
 * (disclosure.salt_fields after the random bytes are drawn). */
static PyObject *pool_target(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2 || !PyList_CheckExact(args[0]) || !PyBytes_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "pool_target(fields: list, pool: bytes)");
        return NULL;
    }
    PyObject *fields = args[0], *pool = args[1];
    Py_ssize_t count = PyList_GET_SIZE(fields);
    if (PyBytes_GET_SIZE(pool) != count * SALT_SIZE) Py_RETURN_NONE;
    const char *salts = PyBytes_AS_STRING(pool);
    unsigned char *hashes = PyMem_Malloc(1 + (size_t)count * HASH_SIZE);
    if (hashes == NULL) return PyErr_NoMemory();
    Buf scratch = {NULL, 0, 0};
    int status = DONE;
    for (Py_ssize_t i = 0; i < count && status == DONE; i++) {
        PyObject *path, *value;
        status = field_at(fields, i, &path, &value);
        if (status == DONE)
            status = hash_field(&scratch, salts + i * SALT_SIZE, path, value,
                                hashes + 1 + i * HASH_SIZE);
    }
    buf_free(&scratch);
    PyObject *result = NULL;
    if (status == DONE) {
        unsigned char target[HASH_SIZE];
        qsort(hashes + 1, (size_t)count, HASH_SIZE, compare_hashes);
        hashes[0] = TARGET_PREFIX;
        keccak256(hashes, 1 + (size_t)count * HASH_SIZE, target);
        result = PyBytes_FromStringAndSize((const char *)target, HASH_SIZE);
    } else if (status == FALLBACK) {
        result = Py_NewRef(Py_None);
    }
    PyMem_Free(hashes);
    return result;
}

/* salted_field_hashes(fields, salts, concealed): the hashes of the visible ``fields``
 * (SaltedDocument.field_hashes before the concealed ones are added), or None when a field
 * has no salt, a salt is not 16 bytes, a field is also concealed, or a salt is left over:
 * the Python code tells a placeholder from an error and names the field. */
static PyObject *salted_field_hashes(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 3 || !PyList_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "salted_field_hashes(fields: list, salts: dict, concealed: dict)");
        return NULL;
    }
    PyObject *fields = args[0], *salts = args[1], *concealed = args[2];
    if (!PyDict_CheckExact(salts) || !PyDict_CheckExact(concealed)) Py_RETURN_NONE;
    Py_ssize_t count = PyList_GET_SIZE(fields);
    if (count != PyDict_GET_SIZE(salts)) Py_RETURN_NONE;
    int any_concealed = PyDict_GET_SIZE(concealed) > 0;
    PyObject *out = PyList_New(count);
    if (out == NULL) return NULL;
    Buf scratch = {NULL, 0, 0};
    int status = DONE;
    for (Py_ssize_t i = 0; i < count && status == DONE; i++) {
        PyObject *path, *value;
        status = field_at(fields, i, &path, &value);
        if (status != DONE) break;
        if (!PyUnicode_CheckExact(path)) {
            status = FALLBACK;
            break;
        }
        PyObject *salt = PyDict_GetItemWithError(salts, path);
        if (salt == NULL) {
            status = PyErr_Occurred() ? FAILED : FALLBACK;
            break;
        }
        if (!PyBytes_CheckExact(salt) || PyBytes_GET_SIZE(salt) != SALT_SIZE) {
            status = FALLBACK;
            break;
        }
        if (any_concealed) {
            int shown_and_concealed = PyDict_Contains(concealed, path);
            if (shown_and_concealed != 0) {
                status = shown_and_concealed < 0 ? FAILED : FALLBACK;
                break;
            }
        }
        unsigned char digest[HASH_SIZE];
        status = hash_field(&scratch, PyBytes_AS_STRING(salt), path, value, digest);
        if (status != DONE) break;
        PyObject *hash = PyBytes_FromStringAndSize((const char *)digest, HASH_SIZE);
        if (hash == NULL) {
            status = FAILED;
            break;
        }
        PyList_SET_ITEM(out, i, hash);
    }
    buf_free(&scratch);
    if (status == DONE) return out;
    Py_DECREF(out); /* the items not yet set are NULL, which the list's dealloc skips */
    if (status == FAILED) return NULL;
    Py_RETURN_NONE;
}

/* ---- strict JSON (strict_json._walk): is a parsed value plain? ---- */

/* 1: every string (keys too) is ASCII or passes ``text_is_fine``, every container is a
 * dict or list no deeper than ``max_depth``, every other value an int, float, bool or
 * None; 0: something else (a rejected value the parser's hooks left, a deep container,
 * text that fails): the Python walk then finds it and names its path. -1: an error. */
static int plain_text(PyObject *text, PyObject *text_is_fine) {
    if (PyUnicode_IS_ASCII(text)) return 1;
    PyObject *verdict = PyObject_CallOneArg(text_is_fine, text);
    if (verdict == NULL) return -1;
    int fine = PyObject_IsTrue(verdict);
    Py_DECREF(verdict);
    return fine;
}

static int plain_value(PyObject *value, int depth, int max_depth, PyObject *text_is_fine) {
    if (PyUnicode_CheckExact(value)) return plain_text(value, text_is_fine);
    if (value == Py_None || PyBool_Check(value) || PyLong_CheckExact(value) ||
        PyFloat_CheckExact(value))
        return 1;
    if (PyDict_CheckExact(value)) {
        if (depth > max_depth) return 0;
        Py_ssize_t pos = 0;
        PyObject *key, *item;
        while (PyDict_Next(value, &pos, &key, &item)) {
            if (!PyUnicode_CheckExact(key)) return 0;
            /* the calls below may run Python code (text_is_fine) that cannot reach this
             * dict: it was built by the parser a moment ago and is not shared yet */
            int fine = plain_text(key, text_is_fine);
            if (fine != 1) return fine;
            fine = plain_value(item, depth + 1, max_depth, text_is_fine);
            if (fine != 1) return fine;
        }
        return 1;
    }
    if (PyList_CheckExact(value)) {
        if (depth > max_depth) return 0;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
            int fine = plain_value(PyList_GET_ITEM(value, i), depth + 1, max_depth, text_is_fine);
            if (fine != 1) return fine;
        }
        return 1;
    }
    return 0;
}

/* plain_json(value, max_depth, text_is_fine) -> bool */
static PyObject *plain_json(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 3 || !PyLong_CheckExact(args[1]) || !PyCallable_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "plain_json(value, max_depth: int, text_is_fine: Callable[[str], bool])");
        return NULL;
    }
    long max_depth = PyLong_AsLong(args[1]);
    if (max_depth == -1 && PyErr_Occurred()) return NULL;
    /* the C stack: strict_json.MAX_NESTING (256) is the deepest a caller may ask for */
    if (max_depth < 1 || max_depth > 512) {
        PyErr_SetString(PyExc_ValueError, "max_depth must be between 1 and 512");
        return NULL;
    }
    int fine = plain_value(args[0], 1, (int)max_depth, args[2]);
    if (fine < 0) return NULL;
    return PyBool_FromLong(fine);
}

static PyObject *keccak256_py(PyObject *module, PyObject *data) {
    (void)module;
    Py_buffer view;
    unsigned char digest[HASH_SIZE];
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return NULL;
    keccak256(view.buf, (size_t)view.len, digest);
    PyBuffer_Release(&view);
    return PyBytes_FromStringAndSize((const char *)digest, HASH_SIZE);
}

static PyMethodDef METHODS[] = {
    {"keccak256", (PyCFunction)keccak256_py, METH_O, "keccak-256 of a bytes-like object."},
    {"iter_fields", (PyCFunction)iter_fields, METH_O,
     "disclosure.iter_fields, or None where the Python walk must decide."},
    {"pool_target", (PyCFunction)(void (*)(void))pool_target, METH_FASTCALL,
     "The target hash of fields salted in order from a pool, or None."},
    {"salted_field_hashes", (PyCFunction)(void (*)(void))salted_field_hashes, METH_FASTCALL,
     "The hashes of the visible fields, or None."},
    {"plain_json", (PyCFunction)(void (*)(void))plain_json, METH_FASTCALL,
     "True where strict_json's walk would find nothing to refuse; False: walk it."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT,
    .m_name = "certificates._speedups",
    .m_doc = "docex's hot paths in C (certificates/_speedups.c).",
    .m_size = -1,
    .m_methods = METHODS,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&MODULE); }
