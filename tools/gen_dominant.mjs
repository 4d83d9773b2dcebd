// gen_dominant.mjs: an input with one dominant probe, for the memory-bounded mode's tests.
// 60% of the rows belong to one src_addr (so it is larger than any partition under a small
// memory limit and is merged from time-sorted runs); the rest spread over 400 probes. Times
// repeat (ties must keep input order) and rows of the dominant probe come in every row group.
// Deterministic: every value comes from SQL over generate_series, DuckDB single-threaded.
//
//   cd tools && npm ci && node gen_dominant.mjs [ROWS [OUT]]
//   defaults: 120000 rows -> ../tests/fixtures/dominant_probe.parquet (committed)
import { DuckDBInstance } from '@duckdb/node-api';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const rows = Number(process.argv[2] ?? 120000);
const out =
  process.argv[3] ??
  resolve(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'fixtures', 'dominant_probe.parquet');
const rg = Math.max(1000, Math.min(100000, Math.floor(rows / 8)));
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('SET threads=1');
await con.run('SET preserve_insertion_order=true');
await con.run(`COPY (SELECT
    TIMESTAMP '2024-03-01 00:00:00' + INTERVAL ((i * 7919) % 20000) SECOND AS event_time,
    CASE WHEN i % 5 < 3 THEN '10.0.0.1' ELSE '192.168.' || ((i * 31) % 400) || '.7' END AS src_addr,
    CASE WHEN i % 97 = 0 THEN NULL ELSE '8.8.' || (i % 23) || '.' || (i % 7) END AS dst_addr,
    CASE WHEN i % 89 = 0 THEN NULL ELSE 4 END::BIGINT AS ip_version,
    CASE WHEN i % 13 = 0 THEN NULL ELSE ((i * 37) % 1000) / 10.0 END::DOUBLE AS rtt
  FROM generate_series(1, ${rows}) t(i))
  TO '${out}' (FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE ${rg})`);
console.log(`wrote ${out} (${rows} rows, row groups of ${rg})`);
