// gen_faults_fixtures.mjs: the Parquet inputs of issue #20's tests (column names, nested
// columns, extreme values) into ../tests/fixtures/faults/, through DuckDB (a real Parquet
// writer). Deterministic: every value comes from SQL over generate_series, one thread.
//
//   cd tools && npm ci && node gen_faults_fixtures.mjs
import { DuckDBInstance } from '@duckdb/node-api';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'fixtures', 'faults');
mkdirSync(out, { recursive: true });
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('SET threads=1');
await con.run('SET preserve_insertion_order=true');

const T0 = "TIMESTAMP '2024-03-01 00:00:00'";
const rows = (n) => `FROM generate_series(0, ${n - 1}) t(i)`;
const src = "'192.0.2.' || (i % 3)";
const files = {
  // Every logical column present, none spelled in lower case: matched ignoring case.
  column_case: `SELECT ${T0} + INTERVAL (i) SECOND AS "Event_Time", ${src} AS "SRC_ADDR",
    '198.51.100.1' AS "Dst_Addr", 4::BIGINT AS "IP_Version", (i * 0.5)::DOUBLE AS "RTT" ${rows(30)}`,
  // Two columns that match 'rtt' ignoring case, neither exactly: ambiguous. DuckDB names the
  // second RTT_1 (its names are case-insensitive); the footer is then patched to say RTT.
  column_ambiguous: `SELECT ${T0} + INTERVAL (i) SECOND AS event_time, ${src} AS src_addr,
    '198.51.100.1' AS dst_addr, 4::BIGINT AS ip_version, (i * 0.5)::DOUBLE AS "Rtt", (i * 0.25)::DOUBLE AS "RTT"
    ${rows(30)}`,
  // rtt exists, but as a LIST of doubles; ip_version as a STRUCT.
  column_nested: `SELECT ${T0} + INTERVAL (i) SECOND AS event_time, ${src} AS src_addr,
    '198.51.100.1' AS dst_addr, {'v': 4::BIGINT} AS ip_version, [(i * 0.5)::DOUBLE, (i * 0.25)::DOUBLE] AS rtt
    ${rows(30)}`,
  // event_time of +-infinity (DuckDB stores them as INT64 extremes) among ordinary times.
  time_infinity: `SELECT CASE WHEN i = 3 THEN 'infinity'::TIMESTAMP
      WHEN i = 7 THEN '-infinity'::TIMESTAMP ELSE ${T0} + INTERVAL (i) SECOND END AS event_time,
    ${src} AS src_addr, '198.51.100.1' AS dst_addr, 4::BIGINT AS ip_version, (i * 0.5)::DOUBLE AS rtt
    ${rows(30)}`,
  // Valid but far-apart times of one probe: year 290000 BC and 290000 AD (the difference in
  // microseconds does not fit an int64), plus ordinary ones.
  time_far_apart: `SELECT CASE WHEN i = 0 THEN make_timestamp(-9150000000000000000::BIGINT)
      WHEN i = 1 THEN make_timestamp(9150000000000000000::BIGINT)
      WHEN i = 2 THEN TIMESTAMP '1969-12-31 23:59:59'
      WHEN i = 3 THEN TIMESTAMP '2201-01-01 00:00:00'
      ELSE ${T0} + INTERVAL (i) SECOND END AS event_time,
    '192.0.2.1' AS src_addr, '198.51.100.1' AS dst_addr, 4::BIGINT AS ip_version, (i * 0.5)::DOUBLE AS rtt
    ${rows(12)}`,
  // rtt NaN, +inf and -inf (kept, counted), ip_version 0, 5 and 100 (counted; --strict fails).
  odd_values: `SELECT ${T0} + INTERVAL (i) SECOND AS event_time, ${src} AS src_addr,
    '198.51.100.1' AS dst_addr,
    CASE WHEN i = 4 THEN 0 WHEN i = 5 THEN 5 WHEN i = 6 THEN 100 ELSE 4 END::BIGINT AS ip_version,
    CASE WHEN i = 1 THEN 'nan'::DOUBLE WHEN i = 2 THEN 'inf'::DOUBLE
      WHEN i = 3 THEN '-inf'::DOUBLE ELSE (i * 0.5)::DOUBLE END AS rtt ${rows(30)}`,
};
for (const [name, sql] of Object.entries(files)) {
  const path = join(out, `${name}.parquet`);
  await con.run(`COPY (${sql}) TO '${path}' (FORMAT PARQUET, COMPRESSION SNAPPY)`);
  const n = await con.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${path}')`);
  console.log(`${path}: ${n.getRowObjects()[0].n} rows`);
}
const amb = join(out, 'column_ambiguous.parquet');
execFileSync('/usr/bin/python3', [join(dirname(fileURLToPath(import.meta.url)),
  'patch_parquet_footer.py'), amb, `${amb}.tmp`, '--rename', 'RTT_1=RTT'], { stdio: 'inherit' });
renameSync(`${amb}.tmp`, amb);
