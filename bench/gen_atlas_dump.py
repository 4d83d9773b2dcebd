#!/usr/bin/python3
"""gen_atlas_dump.py N > dump.jsonl: N synthetic RIPE Atlas ping results in the format of current
firmware (4790-5080, ../shared/docs/ATLAS.md), one per line, as an hourly dump holds them:
12,000 probes (40% behind NAT with private src_addr, 30% of results IPv6), 3 packets each,
~8% with every packet lost (avg -1), some partial loss and duplicates, key order as RIPE
writes it. Deterministic (seed 18). Compress with e.g. `lbzip2 -9 -n 2` for bench_atlas.sh.
"""
import random
import sys


def main():
    n = int(sys.argv[1])
    rng = random.Random(18)
    probes = []
    for i in range(12000):
        pub = "%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256),
                               rng.randrange(1, 255))
        src = "192.168.%d.%d" % (rng.randrange(4), rng.randrange(2, 40)) if rng.random() < 0.4 \
            else pub
        probes.append((src, pub, 10000 + i, rng.choice([4790, 4970, 5010, 5020, 5080])))
    dsts4 = ["%d.%d.%d.%d" % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256),
                              rng.randrange(1, 255)) for _ in range(3000)]
    dsts6 = ["2001:db8:%x:%x::%x" % (rng.randrange(65536), rng.randrange(65536),
                                    rng.randrange(1, 65536)) for _ in range(1500)]
    t0 = 1709251200
    out = sys.stdout
    buf = []
    for k in range(n):
        src, pub, prb, fw = probes[rng.randrange(len(probes))]
        v6 = rng.random() < 0.3
        dst = rng.choice(dsts6) if v6 else rng.choice(dsts4)
        if v6:
            src = "2001:db8:ffff:%x::1" % prb
        r = rng.random()
        if r < 0.08:
            rtts = []
            res = '{"x":"*"},{"x":"*"},{"x":"*"}'
        else:
            base = rng.uniform(0.5, 300.0)
            rtts = [round(base + rng.random() * 3, 6) for _ in range(3 if r > 0.12 else 2)]
            res = ",".join('{"rtt":%r}' % v for v in rtts)
            if len(rtts) == 2:
                res += ',{"x":"*"}'
            if r > 0.97:
                res += ',{"dup":1,"rtt":%r}' % round(base + 5, 6)
        if rtts:
            avg, mn, mx = repr(sum(rtts) / len(rtts)), repr(min(rtts)), repr(max(rtts))
        else:
            avg = mn = mx = "-1"
        msm = 1000000 + rng.randrange(5000)
        t = t0 + k * 3600 // n
        buf.append('{"af":%d,"avg":%s,"dst_addr":"%s","dst_name":"%s","dup":0,"from":"%s",'
                   '"fw":%d,"group_id":%d,"lts":%d,"max":%s,"min":%s,"msm_id":%d,'
                   '"msm_name":"Ping","prb_id":%d,"proto":"ICMP","rcvd":%d,"result":[%s],'
                   '"sent":3,"size":48,"src_addr":"%s","step":240,"stored_timestamp":%d,'
                   '"timestamp":%d,"ttl":%d,"type":"ping"}\n'
                   % (6 if v6 else 4, avg, dst, dst, pub, fw, msm, rng.randrange(1, 300), mx,
                      mn, msm, prb, len(rtts), res, src, t + 30, t, rng.randrange(40, 64)))
        if len(buf) == 10000:
            out.write("".join(buf))
            buf = []
    out.write("".join(buf))


if __name__ == "__main__":
    main()
