// gen_fixtures.mjs: writes the small Parquet inputs of the pipeline's edge-case and bad-input
// tests into ../tests/fixtures/, through DuckDB (a real Parquet writer). Deterministic: every
// value comes from SQL over generate_series, DuckDB runs single-threaded.
//
//   cd tools && npm ci && node gen_fixtures.mjs
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

const T0 = "TIMESTAMP '2024-03-01 00:00:00'";
// Standard schema: event_time TIMESTAMP (INT64 micros), strings, BIGINT ip_version, DOUBLE rtt.
const std = (sel) => `SELECT event_time::TIMESTAMP AS event_time, src_addr::VARCHAR AS src_addr,
  dst_addr::VARCHAR AS dst_addr, ip_version::BIGINT AS ip_version, rtt::DOUBLE AS rtt FROM (${sel})`;
const files = {
  // 0 rows, the standard schema.
  empty: std(`SELECT ${T0} AS event_time, 'x' AS src_addr, 'y' AS dst_addr, 4 AS ip_version,
    1.0 AS rtt WHERE false`),
  // Every src_addr NULL: all rows dropped and counted.
  all_null_src: std(`SELECT ${T0} + INTERVAL (i) SECOND AS event_time, NULL AS src_addr,
    '8.8.8.8' AS dst_addr, 4 AS ip_version, i * 1.5 AS rtt FROM generate_series(1, 10) t(i)`),
  // One probe, 3000 rows, times out of order with many ties (tie order = input order).
  one_probe: std(`SELECT ${T0} + INTERVAL ((i * 7919) % 500) SECOND AS event_time,
    '192.0.2.1' AS src_addr, '198.51.100.' || (i % 7) AS dst_addr, 4 AS ip_version,
    (i % 97) * 0.25 AS rtt FROM generate_series(0, 2999) t(i)`),
  // NULLs everywhere: src (dropped), event_time (dropped), rtt, dst_addr, ip_version (kept).
  nulls: std(`SELECT CASE WHEN i % 11 = 0 THEN NULL ELSE ${T0} + INTERVAL (i) SECOND END AS event_time,
    CASE WHEN i % 13 = 0 THEN NULL ELSE '10.0.0.' || (i % 5) END AS src_addr,
    CASE WHEN i % 7 = 0 THEN NULL ELSE '10.1.0.' || (i % 3) END AS dst_addr,
    CASE WHEN i % 9 = 0 THEN NULL ELSE 4 END AS ip_version,
    CASE WHEN i % 4 = 0 THEN NULL WHEN i % 6 = 0 THEN -1.0 ELSE i * 0.5 END AS rtt
    FROM generate_series(0, 199) t(i)`),
  // IPv6 probes and very long strings (4 KiB dst_addr), plus a 20 KiB one in a row of its own.
  ipv6_long: std(`SELECT ${T0} + INTERVAL (i) SECOND AS event_time,
    '2001:db8:' || (i % 3) || '::' || (i % 2 + 1) AS src_addr,
    CASE WHEN i = 17 THEN repeat('z', 20000) ELSE repeat('2001:db8:ffff::', 1 + (i % 300)) END AS dst_addr,
    6 AS ip_version, i * 0.125 AS rtt FROM generate_series(0, 299) t(i)`),
  // Other accepted types: TIMESTAMP_NS, INT32 ip_version (TINYINT annotation), FLOAT rtt.
  types_ns_float: `SELECT (${T0} + INTERVAL (i) SECOND + INTERVAL (i * 1001) MICROSECOND)::TIMESTAMP_NS AS event_time,
    '10.9.0.' || (i % 4) AS src_addr, '1.1.1.1' AS dst_addr, 4::TINYINT AS ip_version,
    (i * 0.5)::FLOAT AS rtt FROM generate_series(0, 99) t(i)`,
  // TIMESTAMP_MS event_time, INTEGER rtt, remapped column names (--column).
  types_ms_int_renamed: `SELECT (${T0} + INTERVAL (i) SECOND)::TIMESTAMP_MS AS ts,
    '10.8.0.' || (i % 4) AS probe, '1.0.0.1' AS target, 4::INTEGER AS ipv, (i % 50)::INTEGER AS rtt_avg
    FROM generate_series(0, 99) t(i)`,
  // Bad inputs.
  missing_rtt: `SELECT ${T0} AS event_time, '10.0.0.1' AS src_addr, '10.0.0.2' AS dst_addr,
    4::BIGINT AS ip_version FROM generate_series(1, 5) t(i)`,
  wrong_type_rtt: `SELECT ${T0} AS event_time, '10.0.0.1' AS src_addr, '10.0.0.2' AS dst_addr,
    4::BIGINT AS ip_version, 'fast' AS rtt FROM generate_series(1, 5) t(i)`,
  ip_version_300: std(`SELECT ${T0} AS event_time, '10.0.0.1' AS src_addr, '10.0.0.2' AS dst_addr,
    CASE WHEN i = 3 THEN 300 ELSE 4 END AS ip_version, 1.0 AS rtt FROM generate_series(1, 5) t(i)`),
};
// One row group big enough that two workers build its rows in halves, with rows dropped in
// both halves (NULL src_addr, NULL event_time; NULL rtt under --null-rtt drop); and copies
// with an ip_version that does not fit int8 in the second half, or in both.
const splitRows = (bad) => std(`SELECT CASE WHEN i % 997 = 3 THEN NULL
    ELSE ${T0} + INTERVAL (i % 600) SECOND END AS event_time,
  CASE WHEN i % 1009 = 7 THEN NULL ELSE '10.0.' || (i % 3) || '.' || (i % 41) END AS src_addr,
  '10.1.0.' || (i % 5) AS dst_addr, CASE WHEN ${bad} THEN 300 ELSE 4 END AS ip_version,
  CASE WHEN i % 499 = 11 THEN NULL ELSE (i % 89) * 0.5 END AS rtt
  FROM generate_series(0, 139999) t(i)`);
const oneGroup = {
  split_rows: splitRows('false'),
  split_rows_bad_late: splitRows('i = 120001'),
  split_rows_bad_both: splitRows('i IN (30001, 120001)'),
};
const write = async (name, sql, opts) => {
  const path = join(out, `${name}.parquet`);
  await con.run(`COPY (${sql}) TO '${path}' (FORMAT PARQUET, COMPRESSION SNAPPY${opts})`);
  const r = await con.runAndReadAll(`SELECT count(*) FROM read_parquet('${path}')`);
  console.log(`${name}.parquet: ${r.getRows()[0][0]} rows`);
};
for (const [name, sql] of Object.entries(files)) await write(name, sql, '');
for (const [name, sql] of Object.entries(oneGroup)) await write(name, sql, ', ROW_GROUP_SIZE 1000000');
