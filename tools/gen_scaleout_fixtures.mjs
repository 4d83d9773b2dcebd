// gen_scaleout_fixtures.mjs: writes ../tests/fixtures/scaleout/ties_N.parquet, the inputs of the
// scale-out tests: 5 files holding the same 60 probes at the same few timestamps, so almost
// every measurement ties in event_time with rows of other files and other row groups (100
// rows each). Rows that tie differ in rtt and dst_addr (they carry the file and row number),
// so any change of input order between map tasks, runs or row groups changes the output
// bytes. Deterministic (DuckDB, single thread, SQL over generate_series).
//
//   cd tools && npm ci && node gen_scaleout_fixtures.mjs
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'fixtures', 'scaleout');
mkdirSync(out, { recursive: true });
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run('SET threads=1');
await con.run('SET preserve_insertion_order=true');
for (let f = 0; f < 5; f++) {
  const rows = 600 + f * 150; // files of different sizes: map tasks balance bytes
  const sql = `SELECT TIMESTAMP '2024-05-01 00:00:00' + INTERVAL ((i * 37) % 4) SECOND AS event_time,
    'p' || lpad(((i * 7 + ${f}) % 60)::VARCHAR, 2, '0') AS src_addr,
    CASE WHEN i % 19 = 0 THEN NULL ELSE 'd${f}.' || (i % 11) END AS dst_addr,
    CASE WHEN i % 29 = 0 THEN NULL ELSE 6 END::BIGINT AS ip_version,
    CASE WHEN i % 31 = 0 THEN NULL ELSE ${f} * 1000 + i END::DOUBLE AS rtt
    FROM generate_series(0, ${rows - 1}) t(i)`;
  const path = join(out, `ties_${f}.parquet`);
  await con.run(`COPY (${sql}) TO '${path}' (FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE 100)`);
  const r = await con.runAndReadAll(`SELECT count(*) FROM read_parquet('${path}')`);
  console.log(`scaleout/ties_${f}.parquet: ${r.getRows()[0][0]} rows`);
}
