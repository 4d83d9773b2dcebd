/*
 * prw_build, the library's entry to the build: without a plan the engine alone
 * (prw__bd_build); with `build --plan` the plan's inputs and options, its key ranges as the
 * shards and its probes as the ones the inputs must hold, so the files are byte-identical to
 * the plan's reduce tasks' outputs. It lives here because the plan is the scale-out's: the
 * engine never includes scaleout/.
 */
#include <string.h>

#include "build/bd_engine.h"
#include "scaleout/so_plan.h"

static prw_status build_with_plan(const prw_build_options *opts, prw_build_stats *stats,
                                  prw_error *err) {
    PRW_CHECK(opts->n_inputs == 0, err, PRW_E_INVALID, -1,
              "--plan takes the inputs from the plan: give no --input");
    PRW_CHECK(opts->shards <= 1, err, PRW_E_INVALID, -1,
              "--plan takes the shards from the plan: give no --shards");
    prw__plan *plan = NULL;
    PRW_TRY(prw__plan_load(opts->plan, &plan, err));
    prw_build_options o = *opts;
    o.inputs = plan->opts.inputs;
    o.n_inputs = plan->opts.n_inputs;
    o.split = plan->opts.split;
    o.train_ratio = plan->opts.train_ratio;
    o.null_rtt = plan->opts.null_rtt;
    o.max_row_size = plan->opts.max_row_size;
    o.ar_options = plan->opts.ar_options;
    o.shards = plan->opts.shards;
    o.strict = plan->opts.strict;
    o.atlas_rtt = plan->opts.atlas_rtt;
    o.atlas_src = plan->opts.atlas_src;
    for (int c = 0; c < PRW_COL_COUNT; c++)
        o.columns[c] = plan->opts.columns[c];
    prw__bd_ranges kr = {plan->bounds,     0, plan->n_train, -1, true, plan->n_probes,
                         plan->probes_hash};
    prw_status st = prw__bd_build(&o, stats, &kr, err);
    prw__plan_free(plan);
    return st;
}

prw_status prw_build(const prw_build_options *opts, prw_build_stats *stats, prw_error *err) {
    prw_build_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!opts || !opts->plan)
        return prw__bd_build(opts, stats, NULL, err);
    return build_with_plan(opts, stats, err);
}
