// atlas_to_parquet.mjs: the users' former ingest of a RIPE Atlas ping dump, in DuckDB:
// newline-delimited JSON (already decompressed: they ran bunzip2 first) -> read_json with a
// fixed column list -> Parquet. to_timestamp(timestamp) -> event_time (UTC), min/avg/max ->
// rtt_min/rtt_avg/rtt_max, af -> ip_version, from -> from_addr; `rtt` is the round-trip time
// the probe-row step used (rtt_avg by default, as theirs did).
//
// The users' data came from current firmware only; for older generations this script reads
// the same fields proberows reads (../shared/docs/ATLAS.md): addr for dst_addr, srcaddr for
// src_addr, pf or mode ("ICMP4"/"ICMP6") for af, else the family of the destination (a ':'
// means IPv6). Empty address strings count as NULL. It is the independent side of the
// byte-identity tests: `proberows build` of its output equals `proberows build` of the dump.
//
//   node tools/atlas_to_parquet.mjs IN.jsonl OUT.parquet [--rtt avg|min|max] [--src-addr src_addr|from]
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
const pos = [];
let rtt = 'avg', src = 'src_addr';
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--rtt') rtt = args[++i];
  else if (args[i] === '--src-addr') src = args[++i];
  else pos.push(args[i]);
}
if (pos.length !== 2 || !['avg', 'min', 'max'].includes(rtt) || !['src_addr', 'from'].includes(src)) {
  console.error('usage: node atlas_to_parquet.mjs IN.jsonl OUT.parquet [--rtt avg|min|max] [--src-addr src_addr|from]');
  process.exit(2);
}
const q = (s) => "'" + s.replaceAll("'", "''") + "'";
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
// insertion order is kept with any thread count; the bench uses both cores (DUCKDB_THREADS=2)
await con.run(`SET threads=${Number(process.env.DUCKDB_THREADS) || 1}`);
await con.run('SET preserve_insertion_order=true');
const cols = `{timestamp: 'BIGINT', src_addr: 'VARCHAR', srcaddr: 'VARCHAR', "from": 'VARCHAR',
  dst_addr: 'VARCHAR', addr: 'VARCHAR', af: 'BIGINT', pf: 'BIGINT', mode: 'VARCHAR',
  avg: 'DOUBLE', min: 'DOUBLE', max: 'DOUBLE', msm_id: 'BIGINT', prb_id: 'BIGINT', fw: 'BIGINT'}`;
const key = src === 'from' ? `nullif("from", '')` : `coalesce(nullif(src_addr, ''), nullif(srcaddr, ''))`;
await con.run(`COPY (
  WITH raw AS (SELECT * FROM read_json(${q(pos[0])}, format = 'newline_delimited', columns = ${cols})),
  m AS (SELECT *, coalesce(nullif(dst_addr, ''), nullif(addr, '')) AS dst FROM raw)
  SELECT to_timestamp(timestamp) AS event_time, ${key} AS src_addr, dst AS dst_addr,
    coalesce(af, pf, CASE mode WHEN 'ICMP4' THEN 4 WHEN 'ICMP6' THEN 6 END,
             CASE WHEN dst IS NULL THEN NULL WHEN strpos(dst, ':') > 0 THEN 6 ELSE 4 END) AS ip_version,
    ${rtt} AS rtt, min AS rtt_min, avg AS rtt_avg, max AS rtt_max, nullif("from", '') AS from_addr,
    msm_id, prb_id, fw
  FROM m) TO ${q(pos[1])} (FORMAT parquet)`);
