# Every type, NaN, nulls, negative values, a time zone, binary hex and two batches, through a
# stream written by tools/gen_ipc_fuzz_seeds.c.
"$PRW" ipc cat fuzz/corpus/ipc_decode/generic_two_batches.arrows
