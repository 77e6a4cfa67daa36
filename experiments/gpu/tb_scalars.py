#!/usr/bin/env python3
"""Prints the scalars of one tag from the TensorBoard event files of a run folder, one
`step value` (and with --wall its wall time) a line. A TFRecord + protobuf reader of our own, so it needs nothing installed."""
import glob
import struct
import sys


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def fields(buf):
    """(field number, wire type, value) of a protobuf message; bytes for length-delimited."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        elif wire == 2:
            n, i = varint(buf, i)
            value, i = buf[i:i + n], i + n
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def scalars(run, tag):
    out = []
    for path in sorted(glob.glob(f"{run}/events.out.tfevents.*")):
        data = open(path, "rb").read()
        i = 0
        while i + 12 <= len(data):
            (n,) = struct.unpack("<Q", data[i:i + 8])
            record = data[i + 12:i + 12 + n]
            i += 12 + n + 4
            step, wall = 0, 0.0
            for number, _, value in fields(record):
                if number == 1:
                    (wall,) = struct.unpack("<d", value)
                if number == 2:
                    step = value
                if number == 5:  # Summary
                    for vn, _, v in fields(value):
                        if vn != 1:
                            continue
                        name, simple = None, None
                        for fn, _, fv in fields(v):
                            if fn == 1:
                                name = fv.decode()
                            elif fn == 2:
                                (simple,) = struct.unpack("<f", fv)
                        if name == tag and simple is not None:
                            out.append((step, simple, wall))
    return out


if __name__ == "__main__":
    # tb_scalars.py RUN TAG [--wall]: `step value`, or `step value wall_time` with --wall.
    wall = "--wall" in sys.argv[3:]
    for step, value, t in scalars(sys.argv[1], sys.argv[2]):
        print(step, value, f"{t:.3f}" if wall else "")
