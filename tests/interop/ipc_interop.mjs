// Interop check of proberows' Arrow IPC encoder against apache-arrow (tools/package.json).
// usage: node tests/interop/ipc_interop.mjs DIR
// DIR holds streams written by the C test `ipc_interop_apache_arrow` (tests/unit/test_ipc.c):
// for each NAME.arrows an NAME.json with the expected columns. Every value is compared; a
// float32 is compared by its bits, an int64 as a decimal string. Exit 0 = all equal, 1 = not.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'tools', 'package.json'));
const A = require('apache-arrow');

const dir = process.argv[2];
let failures = 0, checked = 0, streams = 0;
const fail = (msg) => { failures++; if (failures <= 20) console.error(msg); };

const f32bits = (v) => { const b = new DataView(new ArrayBuffer(4)); b.setFloat32(0, v, true); return b.getUint32(0, true); };
const f64bits = (v) => { const b = new DataView(new ArrayBuffer(8)); b.setFloat64(0, v, true); return b.getBigUint64(0, true).toString(); };
const hex = (u8) => Buffer.from(u8).toString('hex');

function canon(type, v) {
  if (v === null || v === undefined) return null;
  if (type === 'float32') return f32bits(v);
  if (type === 'float64') return f64bits(v);
  if (type === 'binary') return hex(v);
  if (type.startsWith('timestamp') || type === 'int64') return BigInt(v).toString();
  return v;
}

for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const want = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
  const bytes = fs.readFileSync(path.join(dir, name.replace(/\.json$/, '.arrows')));
  let table;
  try { table = A.tableFromIPC(bytes); } catch (e) { fail(`${name}: apache-arrow cannot read it: ${e.message}`); continue; }
  streams++;
  if (table.numRows !== want.rows) fail(`${name}: ${table.numRows} rows, expected ${want.rows}`);
  const fields = table.schema.fields;
  if (fields.length !== want.fields.length) { fail(`${name}: ${fields.length} fields`); continue; }
  want.fields.forEach((wf, c) => {
    const f = fields[c];
    if (f.name !== wf.name) fail(`${name}: field ${c} is '${f.name}', expected '${wf.name}'`);
    if (!f.nullable) fail(`${name}: field ${f.name} not nullable`);
    const t = f.type;
    const ok = { int8: [A.Type.Int, 8], int16: [A.Type.Int, 16], int32: [A.Type.Int, 32], int64: [A.Type.Int, 64] }[wf.type];
    if (ok && (t.typeId !== ok[0] || t.bitWidth !== ok[1] || !t.isSigned)) fail(`${name}: ${f.name} type ${t}`);
    if (wf.type === 'float32' && !(t.typeId === A.Type.Float && t.precision === A.Precision.SINGLE)) fail(`${name}: ${f.name} type ${t}`);
    if (wf.type === 'float64' && !(t.typeId === A.Type.Float && t.precision === A.Precision.DOUBLE)) fail(`${name}: ${f.name} type ${t}`);
    if (wf.type === 'utf8' && t.typeId !== A.Type.Utf8) fail(`${name}: ${f.name} type ${t}`);
    if (wf.type === 'binary' && t.typeId !== A.Type.Binary) fail(`${name}: ${f.name} type ${t}`);
    if (wf.type.startsWith('timestamp')) {
      const unit = { 'timestamp[s]': 0, 'timestamp[ms]': 1, 'timestamp[us]': 2, 'timestamp[ns]': 3 }[wf.type];
      if (t.typeId !== A.Type.Timestamp || t.unit !== unit || (t.timezone ?? null) !== (wf.tz ?? null))
        fail(`${name}: ${f.name} type ${t} tz ${t.timezone}`);
    }
    const col = table.getChildAt(c);
    // Raw values through the data buffers: timestamps as int64 counts, whatever the JS view.
    for (let i = 0; i < want.rows; i++) {
      let v = col.isValid(i) ? col.get(i) : null;
      if (v !== null && wf.type.startsWith('timestamp')) {
        let r = i;
        for (const d of col.data) {
          if (r < d.length) { v = d.values[r]; break; }
          r -= d.length;
        }
      }
      const got = canon(wf.type, v), exp = wf.values[i];
      checked++;
      if (got !== exp && !(typeof exp === 'string' && got !== null && String(got) === exp))
        fail(`${name}: ${f.name}[${i}] = ${got}, expected ${exp}`);
    }
  });
}
console.log(JSON.stringify({ streams, values: checked, failures }));
process.exit(failures || streams === 0 ? 1 : 0);
