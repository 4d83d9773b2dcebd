/*
 * A row group decoded in parts by one decoder (the memory-bounded mode at small limits,
 * docs/MEMORY.md): the string columns first (to ids), their buffers freed, then the numeric
 * columns; the rows are then assembled a range at a time. What stays resident at once is the
 * id and time scratch plus one half's columns, not every column and every row.
 */
#include "build/bd_source.h"

void prw__pl_decoder_release_cols(prw__pl_decoder *d, unsigned which) {
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        bool str = c == PRW_COL_SRC_ADDR || c == PRW_COL_DST_ADDR;
        if (which & (str ? PRW_PL_COLS_STR : PRW_PL_COLS_NUM)) {
            prw_pq_column_data_cleanup(&d->cd[c]);
            prw_pq_column_data_init(&d->cd[c]);
        }
    }
    if ((which & PRW_PL_COLS_NUM) && (which & PRW_PL_COLS_STR)) {
        prw__free(d->times);
        d->times = NULL;
        d->times_cap = 0;
        /* A dump chunk's columns (bd_dump.c) are read back whole: freed with the last part. */
        prw__buf_cleanup(&d->dump_packed);
        prw__buf_cleanup(&d->dump_cols);
        d->dump_rg = SIZE_MAX;
    }
}

/* Bytes per row of a column's decoded arrays: validity and values, or dictionary indices (and
 * the offsets of a chunk that may fall back to plain strings). */
static uint64_t col_row_bytes(const pl_file *f, int rg, int c) {
    const prw_pq_column_info *info = f->info[c];
    switch (info->physical) {
    case PRW_PQ_BOOLEAN:
        return 2;
    case PRW_PQ_INT32:
    case PRW_PQ_FLOAT:
        return 5;
    case PRW_PQ_INT64:
    case PRW_PQ_DOUBLE:
        return 9;
    case PRW_PQ_INT96:
        return 13;
    case PRW_PQ_FIXED_LEN_BYTE_ARRAY:
        return 1 + (uint64_t)(info->type_length > 0 ? info->type_length : 0);
    case PRW_PQ_BYTE_ARRAY:
        break;
    }
    prw_pq_chunk_info ci;
    uint32_t plain = 1u << 0; /* parquet.thrift Encoding PLAIN */
    bool dict_only =
        prw_pq_chunk(f->pq, rg, f->col[c], &ci, NULL) == PRW_OK && !(ci.encodings & plain);
    return dict_only ? 1 + 4 : 1 + 4 + 8;
}

uint64_t prw__pl_source_rg_parts_bytes(const prw__pl_source *s, size_t rg, bool release) {
    const pl_rg *g = &s->rgs[rg];
    const pl_file *f = &s->files[g->file];
    if (f->dump) /* a dump's chunk is read back whole, either way */
        return (uint64_t)prw__pl_dump_chunk_bytes(f, (size_t)g->rg) + (uint64_t)g->rows * 16;
    uint64_t num = 0, str = 0, pages = 0;
    for (int c = 0; c < PRW_COL_COUNT; c++) {
        bool is_str = c == PRW_COL_SRC_ADDR || c == PRW_COL_DST_ADDR;
        *(is_str ? &str : &num) += col_row_bytes(f, g->rg, c);
        prw_pq_chunk_info ci;
        if (prw_pq_chunk(f->pq, g->rg, f->col[c], &ci, NULL) == PRW_OK && ci.uncompressed_size > 0)
            pages += (uint64_t)ci.uncompressed_size;
    }
    /* The time and id scratch (16 bytes a row) with the larger half's arrays, or both halves'
     * when the strings' buffers are kept; the chunks' uncompressed bytes cover the read
     * chunk, a page, the dictionaries. */
    uint64_t arrays = release ? (num > str ? num : str) : num + str;
    return (uint64_t)g->rows * (16 + arrays) + pages;
}
