// gen_examples.mjs: writes the small, deterministic sample input in ../examples/.
//
//   cd tools && npm ci && node gen_examples.mjs [--out DIR] [--seed N]
//
// Output: DIR/pings-000.parquet and DIR/pings-001.parquet (DIR defaults to ../examples), two
// consecutive one-hour "dumps" of RIPE-Atlas-like ping results, about 10,000 rows each:
//   event_time  TIMESTAMP WITH TIME ZONE (Parquet INT64 micros, isAdjustedToUTC), whole seconds
//   src_addr    VARCHAR   probe address (IPv4 dotted quad or RFC 5952 IPv6 text)
//   dst_addr    VARCHAR   target address, same family as src_addr
//   ip_version  BIGINT    4 or 6
//   rtt         DOUBLE    ms, 3 decimals; -1.0 = no reply; exactly NULLS rows are NULL
// Each file is sorted by event_time (ties in a random but fixed order), never by probe, and every
// probe has rows in both files. Probe sizes are Zipf-like (rank^-1 with log-normal noise: a few
// probes send most of the rows, many send only a handful).
// SNAPPY compression, row groups of ROW_GROUP rows.
//
// Determinism: all randomness comes from the seeded sfc32 generator below (no Math.random), and
// DuckDB runs single-threaded with insertion order preserved, so the same seed and the same
// DuckDB version give byte-identical files.
import { DuckDBInstance, DuckDBTimestampTZValue } from '@duckdb/node-api';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROWS = 20000;          // total rows over all files
const PROBES = 400;          // distinct src_addr
const FILES = 2;             // one file per hour
const V6_PROBES = 160;       // 40% of the probes are IPv6
const ZIPF = 1.0;            // probe size ~ rank^-ZIPF * exp(SPREAD * N(0,1))
const SPREAD = 1.0;
const NULLS = 20;            // rows whose rtt is NULL
const ROW_GROUP = 5000;
const HOUR0 = Date.UTC(2024, 2, 1, 0, 0, 0) / 1000; // 2024-03-01T00:00:00Z, seconds

let seed = 20240301;
let outDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'examples');
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  if (argv[i] === '--out' && argv[i + 1]) outDir = resolve(argv[i + 1]);
  else if (argv[i] === '--seed' && /^\d+$/.test(argv[i + 1] ?? '')) seed = Number(argv[i + 1]);
  else { console.error('usage: node gen_examples.mjs [--out DIR] [--seed N]'); process.exit(2); }
}

// ---- PRNG: sfc32, state filled from the seed by a murmur3 finaliser over a Weyl sequence.
function rng(seed32) {
  let w = seed32 >>> 0;
  const fill = () => {
    w = (w + 0x9e3779b9) >>> 0;
    let z = Math.imul(w ^ (w >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = fill(), b = fill(), c = fill(), d = 1;
  const u32 = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) u32();
  const unit = () => u32() / 4294967296;                 // [0, 1)
  const below = (n) => Math.floor(unit() * n);           // 0 .. n-1
  const pick = (arr) => arr[below(arr.length)];
  const gauss = () => {                                  // Box-Muller, one value per call
    const u = (u32() + 1) / 4294967297;                  // (0, 1)
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * unit());
  };
  const shuffle = (arr) => {
    for (let i = arr.length - 1; i > 0; i--) { const j = below(i + 1); [arr[i], arr[j]] = [arr[j], arr[i]]; }
    return arr;
  };
  return { u32, unit, below, pick, gauss, shuffle };
}
const R = rng(seed);

// ---- addresses
const hex = (n) => n.toString(16);
// RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero groups as "::".
function v6text(g) {
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i; while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return g.map(hex).join(':');
  return g.slice(0, best).map(hex).join(':') + '::' + g.slice(best + bestLen).map(hex).join(':');
}
const V6_NETS = [[0x2001, 0x67c], [0x2a01, 0x4f8], [0x2a02, 0xa210], [0x2a02, 0x8108], [0x2003, 0xe8],
  [0x2a00, 0x1450], [0x2001, 0x470], [0x2600, 0x1700], [0x2406, 0xda18], [0x2804, 0x14c], [0x2c0f, 0xfb50]];
function v6addr() {
  const [p0, p1] = R.pick(V6_NETS);
  const g = [p0, p1, R.below(0x10000), R.below(0x100) << 8 | R.below(0x100), 0, 0, 0, 0];
  const kind = R.unit();
  if (kind < 0.45) {          // SLAAC EUI-64: xxxx:xxff:fexx:xxxx
    g[4] = R.below(0x10000) & 0xfdff; g[5] = (R.below(0x100) << 8) | 0xff;
    g[6] = 0xfe00 | R.below(0x100); g[7] = R.below(0x10000);
  } else if (kind < 0.75) {   // privacy / random interface id
    for (let i = 4; i < 8; i++) g[i] = R.below(0x10000);
  } else {                    // hand-numbered host: ::1, ::a:2, ::10 ...
    if (R.unit() < 0.5) g[3] = 0;
    g[7] = 1 + R.below(0x200);
    if (R.unit() < 0.3) g[6] = 1 + R.below(0x20);
  }
  return v6text(g);
}
const V4_FIRST = [5, 31, 37, 46, 62, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94,
  95, 109, 141, 145, 151, 176, 178, 185, 188, 193, 194, 195, 212, 213, 217];
const v4addr = () => `${R.pick(V4_FIRST)}.${R.below(256)}.${R.below(256)}.${1 + R.below(254)}`;
function uniqueAddr(make, seen) {
  for (;;) { const a = make(); if (!seen.has(a)) { seen.add(a); return a; } }
}

// ---- targets: well-known anycast services first (most popular), then anchor-like hosts
const seen = new Set();
const targets = {
  4: ['193.0.14.129', '8.8.8.8', '1.1.1.1', '9.9.9.9', '192.5.5.241', '199.7.83.42'],
  6: ['2001:7fd::1', '2001:4860:4860::8888', '2606:4700:4700::1111', '2620:fe::fe', '2001:500:2f::f', '2001:500:9f::42'],
};
for (const f of [4, 6]) for (const t of targets[f]) seen.add(t);
for (let i = 0; i < 54; i++) targets[4].push(uniqueAddr(v4addr, seen));
for (let i = 0; i < 34; i++) targets[6].push(uniqueAddr(v6addr, seen));

// ---- probes: family, address, Zipf-like size (>= 1 row per file), targets, path latencies, loss
const fam = R.shuffle(Array.from({ length: PROBES }, (_, i) => (i < V6_PROBES ? 6 : 4)));
const rank = R.shuffle(Array.from({ length: PROBES }, (_, i) => i + 1));
const weight = rank.map((k) => Math.pow(k, -ZIPF) * Math.exp(SPREAD * R.gauss()));
const wsum = weight.reduce((s, x) => s + x, 0);
const spare = ROWS - FILES * PROBES;
const share = weight.map((x) => (spare * x) / wsum);
const size = share.map((x) => FILES + Math.floor(x));
let left = ROWS - size.reduce((s, x) => s + x, 0);   // largest-remainder rounding to exactly ROWS
const byFrac = share.map((x, i) => [x - Math.floor(x), i]).sort((p, q) => q[0] - p[0] || p[1] - q[1]);
for (let k = 0; left > 0; k++, left--) size[byFrac[k][1]]++;

const probes = [];
for (let p = 0; p < PROBES; p++) {
  const f = fam[p];
  const addr = uniqueAddr(f === 6 ? v6addr : v4addr, seen);
  const pool = targets[f];
  const nt = Math.min(pool.length, 2 + R.below(6) + Math.floor(Math.log2(size[p])));
  const paths = [];
  const used = new Set();
  while (paths.length < nt) {
    // favour the first (popular) targets: index ~ pool.length * u^2
    const t = Math.floor(pool.length * R.unit() ** 2);
    if (used.has(t)) continue;
    used.add(t);
    const anycast = t < 6;
    const median = anycast ? 12 : 45;                    // ms
    const base = Math.max(0.3, median * Math.exp(0.85 * R.gauss()));
    const dead = !anycast && R.unit() < 0.04;            // target never answers this probe
    paths.push({ dst: pool[t], base, dead });
  }
  const q = R.unit();
  const loss = q < 0.80 ? 0.04 : q < 0.95 ? 0.15 : 0.55;  // per-probe share of lost pings
  probes.push({ addr, fam: f, size: size[p], paths, loss });
}

// ---- rows: each probe's rows split over the hours (>= 1 in each), uniform whole seconds
const files = Array.from({ length: FILES }, () => []);
for (const pr of probes) {
  const per = new Array(FILES).fill(1);
  for (let r = FILES; r < pr.size; r++) per[R.below(FILES)]++;
  for (let h = 0; h < FILES; h++) {
    for (let r = 0; r < per[h]; r++) {
      const path = pr.paths[Math.floor(pr.paths.length * R.unit() ** 1.5)];
      let rtt = -1.0;
      if (!path.dead && R.unit() >= pr.loss) {
        const jitter = path.base * 0.06 * -Math.log(1 - R.unit()) + (R.unit() < 0.02 ? 50 * R.unit() : 0);
        rtt = Math.round((path.base + jitter) * 1000) / 1000;
        if (rtt <= 0) rtt = 0.001;
      }
      files[h].push({ sec: HOUR0 + 3600 * h + R.below(3600), tie: R.u32(), src: pr.addr, dst: path.dst, fam: pr.fam, rtt });
    }
  }
}
for (const rows of files) rows.sort((x, y) => x.sec - y.sec || x.tie - y.tie);
// exactly NULLS rows get a NULL rtt, spread over both files
const all = files.flat();
const idx = R.shuffle(Array.from({ length: all.length }, (_, i) => i));
for (let k = 0; k < NULLS; k++) all[idx[k]].rtt = null;

// ---- write with DuckDB
mkdirSync(outDir, { recursive: true });
const db = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await db.connect();
await con.run(`SET preserve_insertion_order = true; SET TimeZone = 'UTC'`);
for (let h = 0; h < FILES; h++) {
  const tbl = `pings_${h}`;
  await con.run(`CREATE TABLE ${tbl} (event_time TIMESTAMPTZ, src_addr VARCHAR, dst_addr VARCHAR,
                                      ip_version BIGINT, rtt DOUBLE)`);
  const ap = await con.createAppender(tbl);
  for (const row of files[h]) {
    ap.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(row.sec) * 1000000n));
    ap.appendVarchar(row.src);
    ap.appendVarchar(row.dst);
    ap.appendBigInt(BigInt(row.fam));
    if (row.rtt === null) ap.appendNull(); else ap.appendDouble(row.rtt);
    ap.endRow();
  }
  ap.closeSync();
  const file = join(outDir, `pings-${String(h).padStart(3, '0')}.parquet`);
  rmSync(file, { force: true });
  // DuckDB closes a row group at the first 2048-row vector boundary at or past ROW_GROUP_SIZE, so
  // feed it ROW_GROUP-row pieces (each ending in a short vector) to get row groups of exactly
  // ROW_GROUP rows; UNION ALL keeps the pieces in order (one thread, insertion order preserved).
  const pieces = [];
  for (let lo = 0; lo < files[h].length; lo += ROW_GROUP) {
    pieces.push(`SELECT * FROM ${tbl} WHERE rowid >= ${lo} AND rowid < ${lo + ROW_GROUP}`);
  }
  const fq = file.replaceAll("'", "''");
  await con.run(`COPY (${pieces.join(' UNION ALL ')}) TO '${fq}'
                 (FORMAT PARQUET, COMPRESSION SNAPPY, ROW_GROUP_SIZE ${ROW_GROUP})`);
  // read back: same rows in the same order, row groups as intended
  const chk = await con.runAndReadAll(`
    SELECT (SELECT count(*) FROM read_parquet('${fq}')),
           (SELECT count(*) FROM read_parquet('${fq}', file_row_number = true) f
              JOIN ${tbl} t ON t.rowid = f.file_row_number
             WHERE f.event_time IS NOT DISTINCT FROM t.event_time AND f.src_addr = t.src_addr
               AND f.dst_addr = t.dst_addr AND f.rtt IS NOT DISTINCT FROM t.rtt),
           (SELECT max(row_group_num_rows) FROM parquet_metadata('${fq}'))`);
  const [nrows, nsame, maxRg] = chk.getRowsJS()[0].map(Number);
  if (nrows !== files[h].length || nsame !== nrows || maxRg !== Math.min(ROW_GROUP, nrows)) {
    throw new Error(`${file}: read back ${nrows} rows, ${nsame} in place, largest row group ${maxRg}`);
  }
  const fails = files[h].filter((x) => x.rtt === -1).length;
  const nulls = files[h].filter((x) => x.rtt === null).length;
  console.error(`${file}: ${files[h].length} rows, ${fails} rtt=-1, ${nulls} NULL`);
}
const sizes = probes.map((p) => p.size).sort((x, y) => y - x);
console.error(`seed ${seed}: ${ROWS} rows, ${PROBES} probes (${V6_PROBES} IPv6, ` +
  `${all.filter((x) => x.fam === 6).length} IPv6 rows), probe sizes max ${sizes.slice(0, 5).join(',')} ` +
  `median ${sizes[PROBES >> 1]} min ${sizes[PROBES - 1]}`);
