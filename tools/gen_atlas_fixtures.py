#!/usr/bin/python3
"""gen_atlas_fixtures.py: RIPE Atlas ping results of every firmware generation, written from
the formats documented in ../shared/docs/ATLAS.md (RIPE's "measurement result format", versions
1, 4400, 4460, 4540, 4750, 5000+), and what proberows must make of them, computed here with
Python's own json module (an independent reader of the same bytes).

Writes into tests/fixtures/atlas/:
  firmware.jsonl      valid results: fw 0 (numbers as strings), 1 (addr, no source), 4400
                      (srcaddr, mode ICMP4/ICMP6), 4460-4520 (addr and dst_addr), 4540+, 4750+,
                      5000+ (step null, mver); IPv4 and IPv6; timeouts (-1), errors, dups,
                      top-level err/dnserr, missing src/dst/af/avg; \\u escapes and surrogate
                      pairs, raw UTF-8, any key order, extra whitespace, unknown nested values,
                      keys with a leading space; CRLF line ends on some lines; blank lines
  firmware.tsv        `proberows atlas cat` of it (default: --rtt avg --src-addr src_addr)
  firmware.from.tsv   the same with --src-addr from
  firmware.max.tsv    the same with --rtt max
  firmware.stats      `proberows atlas stats` counts (results, drops, families, firmware)
  bad.jsonl           good lines mixed with bad ones of every reason
  bad.tsv, bad.expect its good rows; every bad line as "LINE OFFSET REASON"
and examples/ping-2024-03-01T0000.bz2, a small dump for `make run`.

Deterministic (fixed seed). Run: /usr/bin/python3 tools/gen_atlas_fixtures.py
"""
import bz2
import json
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "atlas")


def ipv4(rng, private=False):
    if private:
        return "192.168.%d.%d" % (rng.randrange(256), rng.randrange(1, 255))
    return "%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256),
                            rng.randrange(1, 255))


def ipv6(rng):
    return "2001:db8:%x:%x::%x" % (rng.randrange(65536), rng.randrange(65536),
                                  rng.randrange(1, 65536))


def rtt(rng):
    return round(rng.uniform(0.3, 400.0), rng.choice([3, 6, 10]))


def packets(rng, sent, lost, errors, dups):
    """result[] entries and the avg/min/max/rcvd they give."""
    res, rtts = [], []
    for i in range(sent):
        if errors and i < errors:
            res.append({"error": rng.choice(["sendto failed: Network is unreachable",
                                             "connect failed: No route to host"])})
        elif i < errors + lost:
            res.append({"x": "*"})
        else:
            v = rtt(rng)
            rtts.append(v)
            res.append({"rtt": v})
            if dups and rng.random() < 0.5:
                res.append({"dup": 1, "rtt": rtt(rng)})
    if rtts:
        return res, len(rtts), sum(rtts) / len(rtts), min(rtts), max(rtts)
    return res, 0, -1, -1, -1


def result(rng, fw, probe, t):
    """One result dict of firmware `fw` (keys in the firmware's own order)."""
    v6 = fw >= 4400 and rng.random() < 0.3
    dst = ipv6(rng) if v6 else ipv4(rng)
    src, pub = probe
    src = src if not v6 else "2001:db8:ffff::%x" % (hash(pub) & 0xffff)
    sent = rng.choice([3, 3, 3, 5, 10])
    kind = rng.random()
    lost = sent if kind < 0.15 else rng.randrange(sent) if kind < 0.3 else 0
    errors = sent if kind > 0.97 else 0
    res, rcvd, avg, mn, mx = packets(rng, sent, min(lost, sent - errors), errors,
                                     kind > 0.85)
    if fw == 0:
        return {"avg": str(round(avg, 3)), "dst_addr": dst, "dup": "0", "fw": 0,
                "max": str(mx), "min": str(mn), "msm_id": 1000192, "prb_id": pub[1],
                "rcvd": str(rcvd), "sent": str(sent), "src_addr": src, "timestamp": t,
                "type": "ping"}
    if fw == 1:
        return {"addr": dst, "avg": round(avg, 3), "dup": 0, "from": pub[0], "fw": 1,
                "max": mx, "min": mn, "msm_id": 1000192, "name": "host.example.net",
                "prb_id": pub[1], "rcvd": rcvd, "sent": sent, "size": 56, "timestamp": t,
                "type": "ping"}
    if fw == 4400:
        return {"addr": dst, "avg": avg, "from": pub[0], "fw": 4400,
                "mode": "ICMP6" if v6 else "ICMP4", "msm_id": 1009, "prb_id": pub[1],
                "rcvd": rcvd, "result": res, "sent": sent, "srcaddr": src, "timestamp": t,
                "type": "ping"}
    d = {"af": 6 if v6 else 4, "avg": avg, "dst_addr": dst, "dst_name": dst, "dup": 0,
         "from": pub[0], "fw": fw, "max": mx, "min": mn, "msm_id": 1000000 + fw,
         "prb_id": pub[1], "proto": "ICMP", "rcvd": rcvd, "result": res, "sent": sent,
         "size": 64, "src_addr": src, "timestamp": t, "ttl": 54, "type": "ping"}
    if 4460 <= fw <= 4520:
        d["addr"] = dst
        if res and "rtt" in res[0]:
            res[0]["srcaddr"] = src
    if fw >= 4540:
        d["lts"] = rng.randrange(-1, 400)
    if fw >= 4750:
        d.update({"group_id": d["msm_id"], "msm_name": "Ping", "bundle": t // 10})
    if fw >= 5000:
        d.update({"mver": "2.2.0", "stored_timestamp": t + 40,
                  "step": None if rng.random() < 0.2 else 240})
    return d


def damage(rng, d):
    """Missing fields and top-level errors, as real results have them."""
    r = rng.random()
    if r < 0.03:
        d.pop("src_addr", None)
        d.pop("srcaddr", None)
    elif r < 0.05:
        d["src_addr"] = ""
    elif r < 0.08:
        d.pop("af", None)  # inferred from the destination
    elif r < 0.10:
        for k in ("dst_addr", "addr"):
            d.pop(k, None)
    elif r < 0.12:
        for k in ("avg", "min", "max"):
            d.pop(k, None)
    elif r < 0.14:
        d["dnserr"] = "non-recoverable failure in name resolution"
        d["result"] = []
    elif r < 0.15:
        d["err"] = {"code": 1, "msg": "x"}
    elif r < 0.17:
        d[" proto"] = d.pop("proto", "ICMP")
        d["country_code"] = "NL"
        d["extra"] = {"nested": [1, 2.5e-3, [True, False, None], {"k": "\u00e9"}]}
    return d


def num_text(rng, v):
    if isinstance(v, bool) or not isinstance(v, float) or rng.random() < 0.7:
        return json.dumps(v)
    m = rng.random()
    if m < 0.4:
        return "%.17g" % v
    if m < 0.7:
        return "%.16e" % v if v != -1 else "-1.0E0"
    return repr(v) + "0" if "e" not in repr(v) else repr(v)


def escape_str(rng, s):
    """A JSON string with some characters written as escapes."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif c < 0x20:
            out.append("\\u%04x" % c)
        elif ch == "/" and rng.random() < 0.5:
            out.append("\\/")
        elif c > 0xffff:
            c -= 0x10000
            out.append("\\u%04x\\u%04X" % (0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff)))
        elif (c > 0x7f or ch in ".:") and rng.random() < 0.3:
            out.append("\\u%04x" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def emit(rng, v, fancy):
    if not fancy:
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    sp = rng.choice(["", " ", "  ", "\t"])
    if isinstance(v, dict):
        keys = list(v)
        if rng.random() < 0.5:
            rng.shuffle(keys)
        items = [escape_str(rng, k) + sp + ":" + sp + emit(rng, v[k], fancy) for k in keys]
        return "{" + sp + ("," + sp).join(items) + sp + "}"
    if isinstance(v, list):
        return "[" + sp + ("," + sp).join(emit(rng, x, fancy) for x in v) + sp + "]"
    if isinstance(v, str):
        return escape_str(rng, v)
    return num_text(rng, v)


FWS = [0, 1, 4400, 4460, 4470, 4480, 4500, 4520, 4540, 4550, 4570, 4610, 4650, 4700, 4720,
       4750, 4760, 4780, 4790, 4940, 4960, 4970, 4980, 5000, 5010, 5020, 5080, 5120]


def family(d, dst):
    for k in ("af", "pf"):
        if d.get(k) is not None:
            return int(d[k])
    if d.get("mode") in ("ICMP4", "ICMP6"):
        return int(d["mode"][4])
    if dst:
        return 6 if ":" in dst else 4
    return None


def expected(d, src_key="src_addr", rtt_key="avg"):
    """The measurement proberows makes of result d, or None when it has no key."""
    if src_key == "from":
        src = d.get("from") or None
    else:
        src = d.get("src_addr") or d.get("srcaddr") or None
    if src is None:
        return None
    dst = d.get("dst_addr") or d.get("addr") or None
    ipv = family(d, dst)
    v = d.get(rtt_key)
    v = None if v is None else float(v)
    return "%d\t%s\t%s\t%s\t%s" % (int(d["timestamp"]) * 1000000, src,
                                   "\\N" if dst is None else dst,
                                   "\\N" if ipv is None else ipv,
                                   "\\N" if v is None else "%.17g" % v)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def gen_results(rng, n, fws):
    probes = [(ipv4(rng, private=rng.random() < 0.4), (ipv4(rng), 1000 + i)) for i in range(60)]
    t0 = 1709251200  # 2024-03-01T00:00:00Z
    return [damage(rng, result(rng, rng.choice(fws), rng.choice(probes),
                               t0 + rng.randrange(3600))) for _ in range(n)]


def firmware(rng):
    lines, dicts = [], []
    for d in gen_results(rng, 1500, FWS):
        text = emit(rng, d, rng.random() < 0.4)
        assert json.loads(text) == d, text
        lines.append(text + ("\r\n" if rng.random() < 0.1 else "\n"))
        dicts.append(d)
        if rng.random() < 0.01:
            lines.append(rng.choice(["\n", "  \n", "\r\n", "\t \r\n"]))
    write("firmware.jsonl", "".join(lines).encode())
    for name, sk, rk in (("firmware.tsv", "src_addr", "avg"),
                         ("firmware.from.tsv", "from", "avg"),
                         ("firmware.max.tsv", "src_addr", "max")):
        rows = [r for r in (expected(d, sk, rk) for d in dicts) if r is not None]
        write(name, "".join(r + "\n" for r in rows).encode())
    rows = [(d, expected(d)) for d in dicts]
    kept = [d for d, r in rows if r is not None]
    fams = {4: 0, 6: 0, None: 0}
    fw = {}
    for d in kept:
        dst = d.get("dst_addr") or d.get("addr") or None
        fams[family(d, dst)] += 1
        fw[int(d["fw"])] = fw.get(int(d["fw"]), 0) + 1
    stats = ["lines %d" % len(lines), "results %d" % len(kept),
             "blank_lines %d" % (len(lines) - len(dicts)),
             "dropped_no_src %d" % (len(dicts) - len(kept)), "bad_lines 0",
             "family ipv4 %d" % fams[4], "family ipv6 %d" % fams[6],
             "family unknown %d" % fams[None],
             "no_reply %d" % sum(1 for d in kept if d.get("avg") is not None
                                 and float(d["avg"]) == -1),
             "null_rtt %d" % sum(1 for d in kept if d.get("avg") is None),
             "not_run %d" % sum(1 for d in kept if d.get("err") is not None
                                or d.get("dnserr") is not None)]
    stats += ["fw %d %d" % (k, fw[k]) for k in sorted(fw)]
    write("firmware.stats", "".join(s + "\n" for s in stats).encode())


BAD = [
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.1"', "malformed_json"),
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.1",}', "malformed_json"),
    (b'{"timestamp":1709251200 "src_addr":"10.0.0.1"}', "malformed_json"),
    (b'{"timestamp":01709251200,"src_addr":"10.0.0.1"}', "malformed_json"),
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.1","avg":1.}', "malformed_json"),
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.1","avg":NaN}', "malformed_json"),
    (b'{"timestamp":1709251200,"src_addr":"bad \\x escape"}', "malformed_json"),
    (b'{"timestamp":1709251200,"src_addr":"\\ud800 lone surrogate"}', "malformed_json"),
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.1"} trailing', "malformed_json"),
    (b'[{"timestamp":1709251200,"src_addr":"10.0.0.1"}]', "malformed_json"),
    (b'"just a string"', "malformed_json"),
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.1","x":' + b'[' * 70 + b']' * 70 + b'}',
     "malformed_json"),
    (b'{"timestamp":"soon","src_addr":"10.0.0.1"}', "wrong_type"),
    (b'{"timestamp":1709251200,"src_addr":17}', "wrong_type"),
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.1","avg":true}', "wrong_type"),
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.1","af":5}', "wrong_type"),
    (b'{"timestamp":1709251200.5,"src_addr":"10.0.0.1"}', "wrong_type"),
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.1","result":{"rtt":1}}', "wrong_type"),
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.1","dst_addr":["1.2.3.4"]}', "wrong_type"),
    (b'{"src_addr":"10.0.0.1","avg":1.5}', "missing_timestamp"),
    (b'{"timestamp":null,"src_addr":"10.0.0.1","avg":1.5}', "missing_timestamp"),
    (b'{"timestamp":99999999999999999,"src_addr":"10.0.0.1"}', "missing_timestamp"),
    (b'\x00\x01\x02\x03BZh9\xff\xfe', "binary"),
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.\xff"}', "binary"),
    (b'{"timestamp":1709251200,"src_addr":"10.0.0.\xc0\xaf"}', "binary"),
    (b'{"timestamp":1709251200,"src_addr":"tab\tinside"}', "binary"),
]


def bad(rng):
    good = gen_results(rng, 120, [4790, 5010])
    out, tsv, expect, off, line = [], [], [], 0, 0
    items = [("good", d) for d in good] + [("bad", b) for b in BAD]
    rng.shuffle(items)
    for kind, v in items:
        line += 1
        if kind == "good":
            text = (json.dumps(v, separators=(",", ":")) + "\n").encode()
            r = expected(v)
            if r is not None:
                tsv.append(r + "\n")
        else:
            text = v[0] + b"\n"
            expect.append("%d %d %s\n" % (line, off, v[1]))
        out.append(text)
        off += len(text)
    write("bad.jsonl", b"".join(out))
    write("bad.tsv", "".join(tsv).encode())
    write("bad.expect", "".join(expect).encode())


def example(rng):
    path = os.path.join(ROOT, "examples", "ping-2024-03-01T0000.bz2")
    text = "".join(json.dumps(d, separators=(",", ":")) + "\n"
                   for d in gen_results(rng, 4000, [4790, 4970, 5010, 5080]))
    with open(path, "wb") as f:
        f.write(bz2.compress(text.encode(), 9))


def main():
    os.makedirs(OUT, exist_ok=True)
    firmware(random.Random(18))
    bad(random.Random(19))
    example(random.Random(20))


if __name__ == "__main__":
    main()
