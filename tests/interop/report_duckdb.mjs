// Cross-check of `proberows report --json` against DuckDB reading the build's input directly.
// usage: node tests/interop/report_duckdb.mjs REPORT.json 'INPUT_GLOB' TRAIN_RATIO
// DuckDB recomputes, from the Parquet input alone: the ratio split (probes in src_addr byte
// order, the first floor(n * ratio) to train), per split the probes, measurements, probes and
// measurements by IP version, measurements per probe in the report's bins, measurements per
// hour; per IP version the rtt failures (-1), nulls and replies in the report's bin edges
// (rtt rounded to float32, as the output stores it); and the top 20 probes. Exit 0 = equal.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'tools', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const [jsonPath, glob, ratio] = process.argv.slice(2);
const rep = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJS();
let failures = 0, checked = 0;
const eq = (what, got, want) => {
  checked++;
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) { failures++; console.error(`${what}: report ${g.slice(0, 300)}, DuckDB ${w.slice(0, 300)}`); }
};
const num = (v) => (typeof v === 'bigint' ? Number(v) : v);

await con.run(`CREATE TABLE p AS SELECT epoch_us(event_time) AS t, src_addr,
    CASE ip_version WHEN 4 THEN 'ipv4' WHEN 6 THEN 'ipv6' ELSE 'other' END AS v,
    rtt::FLOAT::DOUBLE AS rtt FROM read_parquet('${glob}')
  WHERE src_addr IS NOT NULL AND event_time IS NOT NULL`);
await con.run(`CREATE TABLE probes AS SELECT src_addr, count(*) AS n,
    bool_and(v = 'ipv4') AS only4, bool_and(v = 'ipv6') AS only6,
    row_number() OVER (ORDER BY src_addr::BLOB) - 1 AS rank FROM p GROUP BY src_addr`);
const [{ n: nprobes }] = await rows('SELECT count(*) AS n FROM probes');
const ntrain = Math.floor(num(nprobes) * Number(ratio));
await con.run(`ALTER TABLE probes ADD COLUMN split VARCHAR`);
await con.run(`UPDATE probes SET split = CASE WHEN rank < ${ntrain} THEN 'train' ELSE 'test' END`);
await con.run(`CREATE TABLE q AS SELECT p.*, probes.split FROM p JOIN probes USING (src_addr)`);

for (const split of ['train', 'test']) {
  const s = rep.splits[split];
  const [a] = await rows(`SELECT count(*) AS probes, coalesce(sum(n), 0) AS meas,
      count(*) FILTER (WHERE only4) AS p4, count(*) FILTER (WHERE only6) AS p6
    FROM probes WHERE split = '${split}'`);
  eq(`${split} probes`, s.probes, num(a.probes));
  eq(`${split} measurements`, s.measurements, num(a.meas));
  eq(`${split} probes_by_ip`, s.probes_by_ip,
    { ipv4: num(a.p4), ipv6: num(a.p6), mixed: num(a.probes) - num(a.p4) - num(a.p6) });
  const byv = Object.fromEntries((await rows(`SELECT v, count(*) AS n FROM q WHERE split = '${split}' GROUP BY v`))
    .map((r) => [r.v, num(r.n)]));
  eq(`${split} measurements_by_ip`, s.measurements_by_ip,
    { ipv4: byv.ipv4 ?? 0, ipv6: byv.ipv6 ?? 0, other: byv.other ?? 0 });
  const e = s.measurements_per_probe.edges;
  const hist = [];
  for (let k = 0; k + 1 < e.length; k++) {
    const [r] = await rows(`SELECT count(*) AS c FROM probes WHERE split = '${split}' AND n >= ${e[k]} AND n < ${e[k + 1]}`);
    hist.push(num(r.c));
  }
  eq(`${split} measurements_per_probe`, s.measurements_per_probe.counts, hist);
  const hours = await rows(`SELECT (t // 3600000000) AS h, count(*) AS c FROM q WHERE split = '${split}' GROUP BY h ORDER BY h`);
  const step = rep.time.step_us / 3600000000, start = rep.time.start_us / 3600000000;
  const want = new Array(rep.time.counts[split].length).fill(0);
  for (const r of hours) want[Math.floor((num(r.h) - start) / step)] += num(r.c);
  eq(`${split} time (${rep.time.unit})`, rep.time.counts[split], want);
}

for (const v of ['ipv4', 'ipv6', 'other']) {
  const r = rep.rtt[v];
  const [a] = await rows(`SELECT count(*) FILTER (WHERE rtt = -1) AS failed,
      count(*) FILTER (WHERE rtt IS NULL) AS nul,
      count(*) FILTER (WHERE isnan(rtt) OR (rtt < 0 AND rtt <> -1)) AS invalid,
      count(*) FILTER (WHERE rtt >= 0) AS replies FROM q WHERE v = '${v}'`);
  eq(`rtt ${v} failed/null/invalid/replies`, [r.failed, r.null, r.invalid, r.replies],
    [num(a.failed), num(a.nul), num(a.invalid), num(a.replies)]);
  const e = r.replies_ms.edges, bins = [];
  for (let k = 0; k + 1 < e.length; k++) {
    const hi = e[k + 1] === null ? '' : `AND rtt < ${e[k + 1]}`;
    const [c] = await rows(`SELECT count(*) AS c FROM q WHERE v = '${v}' AND rtt >= ${e[k]} ${hi} AND NOT isnan(rtt)`);
    bins.push(num(c.c));
  }
  eq(`rtt ${v} bins`, r.replies_ms.counts, bins);
}

const top = await rows(`SELECT src_addr, split, n FROM probes
  ORDER BY n DESC, CASE split WHEN 'train' THEN 0 ELSE 1 END, src_addr::BLOB LIMIT 20`);
eq('top probes', rep.top_probes.map((t) => [t.src_addr, t.split, t.measurements]),
  top.map((t) => [t.src_addr, t.split, num(t.n)]));
console.log(`report vs DuckDB: ${checked} figures compared, ${failures} differ`);
process.exit(failures ? 1 : 0);
