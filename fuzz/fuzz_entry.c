/* libFuzzer entry: built with -DPRW_FUZZ_NAME=<target> by `make fuzz`. */
#include "fuzz.h"

#define PRW_CAT2(a, b) a##b
#define PRW_CAT(a, b) PRW_CAT2(a, b)
#define PRW_TARGET_FN PRW_CAT(prw_fuzz_, PRW_FUZZ_NAME)

int PRW_TARGET_FN(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return PRW_TARGET_FN(data, size);
}
