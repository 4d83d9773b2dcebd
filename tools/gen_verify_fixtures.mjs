// gen_verify_fixtures.mjs: writes the Parquet inputs of the `proberows verify` tests into
// ../tests/fixtures/: a base input and two copies that differ from it in one row (one row
// removed; one rtt changed), so a verify --input against an output built from the base must
// fail naming the probe. Deterministic (DuckDB, single thread, SQL over generate_series).
//
//   cd tools && npm ci && node gen_verify_fixtures.mjs
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'fixtures');
mkdirSync(out, { recursive: true });
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('SET threads=1');
await con.run('SET preserve_insertion_order=true');

// 40 probes, 3000 rows, ties in time, some NULL rtt / dst_addr / ip_version.
const base = `SELECT TIMESTAMP '2024-03-01 00:00:00' + INTERVAL ((i * 7919) % 900) SECOND AS event_time,
  '10.20.' || (i % 40) || '.1' AS src_addr,
  CASE WHEN i % 17 = 0 THEN NULL ELSE '192.0.2.' || (i % 9) END AS dst_addr,
  CASE WHEN i % 23 = 0 THEN NULL ELSE 4 END::BIGINT AS ip_version,
  CASE WHEN i % 13 = 0 THEN NULL ELSE (i % 101) * 0.5 END::DOUBLE AS rtt, i
  FROM generate_series(0, 2999) t(i)`;
const files = {
  verify_base: `SELECT * EXCLUDE (i) FROM (${base})`,
  // Row 1234 (probe 10.20.34.1) is missing.
  verify_row_removed: `SELECT * EXCLUDE (i) FROM (${base}) WHERE i <> 1234`,
  // Row 1234 has another rtt: same counts everywhere, only the digest can tell.
  verify_rtt_changed: `SELECT * EXCLUDE (i, rtt), CASE WHEN i = 1234 THEN 999.25 ELSE rtt END AS rtt
    FROM (${base})`,
};
for (const [name, sql] of Object.entries(files)) {
  const path = join(out, `${name}.parquet`);
  await con.run(`COPY (${sql}) TO '${path}' (FORMAT PARQUET, COMPRESSION SNAPPY)`);
  const r = await con.runAndReadAll(`SELECT count(*) FROM read_parquet('${path}')`);
  console.log(`${name}.parquet: ${r.getRows()[0][0]} rows`);
}
