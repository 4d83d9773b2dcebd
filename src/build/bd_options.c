/*
 * The build's options: defaults and checks. Their own file, so that the scale-out plan and the
 * engine both use them without using each other.
 */
#include <string.h>

#include "build/bd_engine.h"

void prw_build_options_init(prw_build_options *o) {
    memset(o, 0, sizeof *o);
    o->max_row_size = PRW_BD_DEFAULT_MAX_ROW_SIZE;
    o->train_ratio = 0.9;
    o->split = PRW_SPLIT_RATIO;
    o->null_rtt = PRW_NULL_RTT_KEEP;
    o->shards = 1;
}

prw_status prw__bd_check_options(const prw_build_options *o, prw_error *err) {
    PRW_CHECK(o->n_inputs > 0 && o->inputs, err, PRW_E_INVALID, -1, "no --input given");
    PRW_CHECK(o->output_dir && o->output_dir[0], err, PRW_E_INVALID, -1, "no --output given");
    PRW_CHECK(strlen(o->output_dir) <= PRW_BD_MAX_DIR, err, PRW_E_INVALID, -1,
              "--output path longer than %d bytes", PRW_BD_MAX_DIR);
    PRW_CHECK(o->train_ratio >= 0.0 && o->train_ratio <= 1.0, err, PRW_E_INVALID, -1,
              "--train-ratio must be between 0 and 1");
    PRW_CHECK(o->shards >= 0 && o->shards <= 99999, err, PRW_E_INVALID, -1,
              "--shards must be between 1 and 99999");
    PRW_CHECK(o->workers >= 0 && o->workers <= 1024, err, PRW_E_INVALID, -1,
              "--workers must be between 1 and 1024");
    PRW_CHECK(o->max_row_size == 0 || o->max_row_size >= 1024, err, PRW_E_INVALID, -1,
              "--max-row-size must be at least 1 KiB");
    prw_ar_options ar;
    PRW_TRY(prw_ar_options_parse(o->ar_options ? o->ar_options : "", &ar, err));
    return PRW_OK;
}
