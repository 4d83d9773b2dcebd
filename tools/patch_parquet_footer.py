#!/usr/bin/python3
"""Rewrites the footer of a DuckDB-written Parquet file to reproduce breakages DuckDB will not
write, for the reader's tests. The column data bytes are copied unchanged; only the footer
(FileMetaData, Thrift compact protocol) and its length change.

  --undercount-dict    PARQUET-816: parquet-mr before 1.2.9 left the dictionary page header out
                       of a column chunk's total_compressed_size. Every ColumnChunk.meta_data.
                       total_compressed_size (field 7) of a chunk with a dictionary page (field
                       11) is lowered by the length of the dictionary page header found at
                       dictionary_page_offset. parquet-mr and Arrow read such files by reading
                       up to 100 bytes past the recorded size when created_by names parquet-mr
                       < 1.2.9.
  --created-by STRING  FileMetaData.created_by (field 6) becomes STRING, e.g.
                       "parquet-mr version 1.2.8 (build PARQUET-816 reproduction)".
  --rename OLD=NEW     the top-level SchemaElement named OLD is renamed NEW (and the
                       path_in_schema of its chunks), e.g. to make two names that differ only
                       in case, which DuckDB never writes (its names are case-insensitive).

Usage: patch_parquet_footer.py IN OUT [--undercount-dict] [--created-by STRING]
                               [--rename OLD=NEW]...
"""
import struct
import sys

# Thrift compact types
STOP, TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)


def varint(b, p):
    v = s = 0
    while True:
        c = b[p]
        p += 1
        v |= (c & 0x7F) << s
        s += 7
        if not c & 0x80:
            return v, p


def zz(v):
    return (v >> 1) ^ -(v & 1)


def put_varint(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        if v:
            out.append(c | 0x80)
        else:
            out.append(c)
            return bytes(out)


def put_zz(v):
    return put_varint((v << 1) ^ (v >> 63))


def read_value(b, p, t):
    """Returns (value, p). Structs are lists of [id, type, value]."""
    if t in (TRUE, FALSE):
        return t == TRUE, p
    if t == BYTE:
        return b[p], p + 1
    if t in (I16, I32, I64):
        v, p = varint(b, p)
        return zz(v), p
    if t == DOUBLE:
        return b[p:p + 8], p + 8
    if t == BINARY:
        n, p = varint(b, p)
        return bytes(b[p:p + n]), p + n
    if t in (LIST, SET):
        h = b[p]
        p += 1
        n, et = h >> 4, h & 15
        if n == 15:
            n, p = varint(b, p)
        items = []
        for _ in range(n):
            if et in (TRUE, FALSE):  # booleans in lists are one byte each
                items.append(b[p] == 1)
                p += 1
            else:
                v, p = read_value(b, p, et)
                items.append(v)
        return (et, items), p
    if t == MAP:
        raise ValueError("maps do not occur in Parquet footers")
    if t == STRUCT:
        fields, last = [], 0
        while True:
            h = b[p]
            p += 1
            ft = h & 15
            if ft == STOP:
                return fields, p
            if h >> 4:
                fid = last + (h >> 4)
            else:
                v, p = varint(b, p)
                fid = zz(v)
            if ft in (TRUE, FALSE):
                fields.append([fid, ft, ft == TRUE])
            else:
                v, p = read_value(b, p, ft)
                fields.append([fid, ft, v])
            last = fid
    raise ValueError("unknown type %d" % t)


def write_value(t, v):
    if t == BYTE:
        return bytes([v])
    if t in (I16, I32, I64):
        return put_zz(v)
    if t == DOUBLE:
        return v
    if t == BINARY:
        return put_varint(len(v)) + v
    if t in (LIST, SET):
        et, items = v
        n = len(items)
        out = bytearray([(n << 4) | et] if n < 15 else [0xF0 | et])
        if n >= 15:
            out += put_varint(n)
        for it in items:
            out += bytes([1 if it else 2]) if et in (TRUE, FALSE) else write_value(et, it)
        return bytes(out)
    if t == STRUCT:
        out, last = bytearray(), 0
        for fid, ft, val in v:
            wt = (TRUE if val else FALSE) if ft in (TRUE, FALSE) else ft
            if 0 < fid - last <= 15:
                out.append(((fid - last) << 4) | wt)
            else:
                out.append(wt)
                out += put_zz(fid)
            if ft not in (TRUE, FALSE):
                out += write_value(ft, val)
            last = fid
        out.append(STOP)
        return bytes(out)
    raise ValueError("unknown type %d" % t)


def field(s, fid):
    for f in s:
        if f[0] == fid:
            return f
    return None


def undercount_dict(data, meta):
    patched = 0
    for rg in field(meta, 4)[2][1]:
        for cc in field(rg, 1)[2][1]:
            md = field(cc, 3)[2]
            dict_off = field(md, 11)
            if not dict_off:
                continue
            _, hdr_end = read_value(data, dict_off[2], STRUCT)  # the dictionary PageHeader
            field(md, 7)[2] -= hdr_end - dict_off[2]
            patched += 1
    assert patched, "no column chunk with a dictionary page"
    return "%d column chunks undercount their dictionary page header" % patched


def rename(meta, old, new):
    hits = [se for se in field(meta, 2)[2][1] if field(se, 4) and field(se, 4)[2] == old]
    assert len(hits) == 1, "no single schema element named %r" % old
    field(hits[0], 4)[2] = new
    for rg in field(meta, 4)[2][1]:
        for cc in field(rg, 1)[2][1]:
            path = field(field(cc, 3)[2], 3)[2][1]
            if path and path[0] == old:
                path[0] = new
    return "column %r renamed %r" % (old.decode(), new.decode())


def main(argv):
    args, ops, i = [], [], 1
    while i < len(argv):
        a = argv[i]
        if a in ("--created-by", "--rename"):
            ops.append((a, argv[i + 1].encode()))
            i += 2
            continue
        if a == "--undercount-dict":
            ops.append((a, None))
        else:
            args.append(a)
        i += 1
    if len(args) != 2 or not ops:
        sys.exit(__doc__)
    data = open(args[0], "rb").read()
    assert data[:4] == b"PAR1" and data[-4:] == b"PAR1", "not a Parquet file"
    flen = struct.unpack("<I", data[-8:-4])[0]
    fstart = len(data) - 8 - flen
    meta, _ = read_value(data, fstart, STRUCT)
    done = []
    for op, val in ops:
        if op == "--undercount-dict":
            done.append(undercount_dict(data, meta))
        elif op == "--rename":
            old, new = val.split(b"=", 1)
            done.append(rename(meta, old, new))
        else:
            cb = field(meta, 6)
            if cb:
                cb[2] = val
            else:
                meta.append([6, BINARY, val])
                meta.sort(key=lambda f: f[0])
            done.append("created_by %r" % val.decode())
    footer = write_value(STRUCT, meta)
    with open(args[1], "wb") as out:
        out.write(data[:fstart] + footer + struct.pack("<I", len(footer)) + b"PAR1")
    print("%s: %s" % (args[1], "; ".join(done)))


if __name__ == "__main__":
    main(sys.argv)
