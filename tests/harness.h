/*
 * The test harness (STYLE.md §3): TEST(name) functions, collected into a generated list by
 * the Makefile (grep of `^TEST(` in tests/unit), assertions that print both operands,
 * SKIP lines for absent data, and one closing line `tests: N passed, M failed[, K skipped]`.
 * An assertion that fails marks the running test failed and returns from the TEST function,
 * so assertions go in TEST bodies (helpers return bool or a status and are asserted on).
 */
#ifndef PRW_TESTS_HARNESS_H
#define PRW_TESTS_HARNESS_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proberows/proberows.h"

#define TEST(name)                                                                                 \
    void test_##name(void);                                                                        \
    void test_##name(void)

void th_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void th_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void th_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ASSERT_TRUE(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            th_fail(__FILE__, __LINE__, "%s", #c);                                                 \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define ASSERT_EQ_I64(a, b)                                                                        \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            th_fail(__FILE__, __LINE__, "%s == %s (%lld == %lld)", #a, #b, a_, b_);                \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define ASSERT_EQ_U64(a, b)                                                                        \
    do {                                                                                           \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);             \
        if (a_ != b_) {                                                                            \
            th_fail(__FILE__, __LINE__, "%s == %s (0x%llx == 0x%llx)", #a, #b, a_, b_);            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define ASSERT_EQ_STR(a, b)                                                                        \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            th_fail(__FILE__, __LINE__, "%s == %s (\"%s\" == \"%s\")", #a, #b, a_ ? a_ : "(null)", \
                    b_ ? b_ : "(null)");                                                           \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define ASSERT_MEM_EQ(a, b, n)                                                                     \
    do {                                                                                           \
        size_t n_ = (n), at_ = th_mismatch((a), (b), n_);                                          \
        if (at_ != (size_t)-1) {                                                                   \
            th_fail(__FILE__, __LINE__, "%s == %s over %zu bytes: first difference at %zu", #a,    \
                    #b, n_, at_);                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/** Reports a failed ASSERT_OK (err may be NULL). */
void th_fail_status(const char *file, int line, const char *expr, prw_status st,
                    const prw_error *err);

/** Asserts a status is not an error; on failure prints the error record. */
#define ASSERT_OK(st, errp)                                                                        \
    do {                                                                                           \
        prw_status st_ = (st);                                                                     \
        if (st_ < 0) {                                                                             \
            th_fail_status(__FILE__, __LINE__, #st, st_, (errp));                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/** Asserts a call fails with `code`. */
#define ASSERT_ERR(st, code)                                                                       \
    do {                                                                                           \
        prw_status st_ = (st);                                                                     \
        if (st_ != (code)) {                                                                       \
            th_fail(__FILE__, __LINE__, "%s returned %d (%s), expected %d (%s)", #st, st_,         \
                    prw_strerror(st_), (int)(code), prw_strerror(code));                           \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/** Marks the test skipped (prints a SKIP line) and returns. */
#define SKIP(...)                                                                                  \
    do {                                                                                           \
        th_skip(__VA_ARGS__);                                                                      \
        return;                                                                                    \
    } while (0)

/** The shared test data folder (../shared, or $PRW_SHARED), or NULL when absent. */
const char *th_shared_dir(void);

/** Declares `dir` = th_shared_dir(), skipping the test when it is absent. */
#define REQUIRE_SHARED(dir)                                                                        \
    const char *dir = th_shared_dir();                                                             \
    if (!dir)                                                                                      \
    SKIP("../shared is absent")

/** A fresh directory for this test (removed when the run ends). */
const char *th_tmpdir(void);

/** Formats a path into a new string owned by the harness (freed at the end of the test). */
char *th_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Reads a whole file (harness-owned memory, freed at the end of the test), followed by a NUL
 * byte not counted in *len; NULL on error. */
uint8_t *th_read(const char *path, size_t *len);

/** Writes a file; returns false on error. */
bool th_write(const char *path, const void *data, size_t len);

/** Runs `sh -c cmd` from the repository root; returns its exit status (or -1). */
int th_sh(const char *cmd);

/** Path of the built CLI binary. */
const char *th_cli(void);

/** Index of the first differing byte, or (size_t)-1. */
size_t th_mismatch(const void *a, const void *b, size_t n);

/** Deterministic PRNG (splitmix64) for property tests. */
uint64_t th_rand(uint64_t *state);

#endif
