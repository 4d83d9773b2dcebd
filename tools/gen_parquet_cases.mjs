// gen_parquet_cases.mjs: small Parquet files written by DuckDB covering codec x format
// version (V1: PLAIN / PLAIN_DICTIONARY; V2: RLE_DICTIONARY, DELTA_BINARY_PACKED,
// DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT) x dictionary on/off x nullability, plus small row
// groups and a 0-row file, with the expected canonical checksums computed here from DuckDB's
// own reading of the same rows.
//
//   cd tools && npm ci && node gen_parquet_cases.mjs [--out DIR]   (default ../tests/data/parquet)
//
// Output: DIR/*.parquet and DIR/expected.tsv, one line per column:
//   file <TAB> rows <TAB> column <TAB> non_null <TAB> fnv1a64
// The canonical text and checksum are those of ../shared/testdata/parquet/conformance/README.md.
// Values are chosen so the text is exact in JavaScript too (k/4 doubles, k/8 floats).
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let outDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'data', 'parquet');
const argv = process.argv.slice(2);
if (argv[0] === '--out' && argv[1]) outDir = resolve(argv[1]);
mkdirSync(outDir, { recursive: true });

const ROWS = 1200;
const db = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await db.connect();
await con.run('SET preserve_insertion_order = true');

const nullable = (expr, k, m) => `CASE WHEN i % ${k} = ${m} THEN NULL ELSE ${expr} END`;
function source(nulls) {
  const n = nulls ? nullable : (e) => e;
  return `SELECT
    i::BIGINT AS id,
    ${n('((i * 7919) % 100000 - 50000)::INTEGER', 7, 3)} AS i32,
    ${n("'s' || (i % 37)::VARCHAR", 11, 5)} AS s,
    ${n('left(md5(i::VARCHAR), 6)', 13, 2)} AS u,
    ${n('i % 3 = 0', 5, 1)} AS b,
    ${n('((i % 1000) / 4.0)::DOUBLE', 17, 4)} AS d,
    ${n('((i % 400) / 8.0)::FLOAT', 19, 6)} AS f,
    ${n("TIMESTAMP '2024-01-01' + to_microseconds(i * 1000003)", 23, 7)} AS ts,
    ${n('(i % 100)::SMALLINT', 29, 8)} AS small
  FROM range(${ROWS}) r(i)`;
}

const FNV_PRIME = 0x100000001b3n, MASK = (1n << 64n) - 1n;
function fnv(h, bytes) {
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK;
  return h;
}
const enc = new TextEncoder();
function text(v) {
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

async function expected(file) {
  const r = await con.runAndReadAll(`SELECT id, i32, s, u, b, d, f, epoch_us(ts) AS ts, small
    FROM read_parquet('${join(outDir, file)}')`);
  const rows = r.getRows();
  const names = r.columnNames();
  const lines = [];
  for (let c = 0; c < names.length; c++) {
    let h = 0xcbf29ce484222325n, nn = 0;
    for (const row of rows) {
      const v = row[c];
      if (v === null) { h = fnv(h, [0]); continue; }
      const t = enc.encode(text(v));
      const len = t.length;
      h = fnv(h, [1, len & 255, (len >> 8) & 255, (len >> 16) & 255, (len >>> 24) & 255]);
      h = fnv(h, t);
      nn++;
    }
    lines.push([file, rows.length, names[c], nn, h.toString(16).padStart(16, '0')].join('\t'));
  }
  return lines;
}

const out = [];
async function write(file, sql, opts) {
  await con.run(`COPY (${sql}) TO '${join(outDir, file)}' (FORMAT parquet, ${opts})`);
  out.push(...(await expected(file)));
}

for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd', 'brotli', 'lz4_raw']) {
  for (const ver of ['V1', 'V2']) {
    for (const nulls of [false, true]) {
      const name = `${codec}_${ver.toLowerCase()}_${nulls ? 'null' : 'req'}`;
      await write(`${name}.parquet`, source(nulls), `COMPRESSION ${codec}, PARQUET_VERSION ${ver}`);
    }
  }
}
for (const ver of ['V1', 'V2']) {
  for (const nulls of [false, true]) {
    await write(`nodict_${ver.toLowerCase()}_${nulls ? 'null' : 'req'}.parquet`, source(nulls),
      `COMPRESSION snappy, PARQUET_VERSION ${ver}, DICTIONARY_SIZE_LIMIT 1`);
  }
}
// Many small row groups (DuckDB rounds row groups to 2048-row vectors unless told otherwise).
await write('small_rowgroups.parquet', source(true),
  'COMPRESSION zstd, ROW_GROUP_SIZE 100');
await write('zero_rows.parquet', `${source(true)} WHERE false`, 'COMPRESSION snappy');
writeFileSync(join(outDir, 'expected.tsv'), out.join('\n') + '\n');
console.log(`wrote ${out.length} lines to ${join(outDir, 'expected.tsv')}`);
