#!/usr/bin/env python3
"""Checks that TensorBoard itself reads what our Rust writer (crates/train/src/tensorboard.rs)
produces: TFRecord framing and CRCs, scalars, text, histograms, and Embedding Projector files.

Usage: check_tensorboard.py [PATH]   (normally through scripts/check-tensorboard.sh)

  no PATH  checks the golden file crates/train/tests/data/golden.tfevents and asserts its exact
           content (the sequence written by the golden test in tensorboard.rs).
  PATH     an event file, or a run folder / logdir: every event file in it ("tfevents" in the
           name, as TensorBoard looks for) is loaded and checked for consistency, and every
           folder holding projector_config.pbtxt has its TSV files checked.

Prints what it read; exits 1 on any mismatch, 0 when everything checks out.
"""

import math
import os
import struct
import sys
from pathlib import Path

import numpy as np
from google.protobuf import text_format
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from tensorboard.plugins.text import summary_v2 as text_summary
from tensorboard.util import tensor_util

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "crates/train/tests/data/golden.tfevents"

# The golden sequence; keep in sync with the golden test in crates/train/src/tensorboard.rs.
GOLDEN_WALL_TIME = 1_700_000_000.25
GOLDEN_LR = [0.0, 0.0005, 0.001, 0.001]
GOLDEN_TEXT = 'model = "word2vec"\ndim = 100\nname = "café"'
GOLDEN_RECORDS = 11  # file version + 8 scalars + text + histogram
HISTOGRAM_BUCKETS = 30

errors = []


def fail(message):
    errors.append(message)
    print(f"  MISMATCH: {message}")


def check(condition, message):
    if not condition:
        fail(message)
    return condition


def f32(x):
    """x rounded to float32, as TensorBoard stores scalars."""
    return float(np.float32(x))


def check_framing(path):
    """Walks the TFRecords with TensorBoard's own CRC function; returns the decoded events."""
    data = path.read_bytes()
    offset, events = 0, []
    while offset < len(data):
        if not check(len(data) - offset >= 12, f"{path}: truncated header at byte {offset}"):
            break
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8 : offset + 12])
        if not check(masked_crc32c(header) == length_crc, f"{path}: length CRC at {offset}"):
            break
        end = offset + 12 + length + 4
        if not check(end <= len(data), f"{path}: truncated record at byte {offset}"):
            break
        payload = data[offset + 12 : offset + 12 + length]
        (data_crc,) = struct.unpack("<I", data[end - 4 : end])
        if not check(masked_crc32c(payload) == data_crc, f"{path}: data CRC at {offset}"):
            break
        events.append(event_pb2.Event.FromString(payload))
        offset = end
    if events:
        check(
            events[0].file_version == "brain.Event:2",
            f"{path}: first record is not file_version brain.Event:2: {events[0]}",
        )
    print(f"  framing: {len(events)} records, {len(data)} bytes, all CRCs valid")
    return events


def load(path):
    """TensorBoard's legacy EventAccumulator on one file, keeping every event."""
    guidance = {kind: 0 for kind in event_accumulator.DEFAULT_SIZE_GUIDANCE}
    acc = event_accumulator.EventAccumulator(str(path), size_guidance=guidance)
    acc.Reload()
    return acc


def check_event_file(path, golden):
    print(f"{path}")
    raw = check_framing(path)
    acc = load(path)
    tags = acc.Tags()
    check(acc.file_version == 2.0, f"file_version read as {acc.file_version}")

    scalars = {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in tags["scalars"]}
    for tag, points in sorted(scalars.items()):
        print(f"  scalar {tag}: " + ", ".join(f"{s}={v:.9g}" for s, v in points))

    texts = {}
    try:
        text_tags = acc.PluginTagToContent("text")
    except KeyError:  # no value of the text plugin in this file
        text_tags = {}
    for tag in tags["tensors"]:
        if tag not in text_tags:
            continue
        for e in acc.Tensors(tag):
            array = tensor_util.make_ndarray(e.tensor_proto)
            check(array.shape == (), f"text {tag}: tensor shape {array.shape}, want rank 0")
            text = array.item().decode("utf-8")
            texts.setdefault(tag, []).append((e.step, text))
            # Byte-for-byte what TensorBoard's own text summary writes.
            reference = text_summary.text_pb(tag, text).value[0]
            check(e.tensor_proto == reference.tensor, f"text {tag}: tensor differs from text_pb")
            check(
                acc.SummaryMetadata(tag) == reference.metadata,
                f"text {tag}: metadata differs from text_pb",
            )
            print(f"  text {tag} @ {e.step}: {text!r}")

    histograms = {}
    for tag in tags["histograms"]:
        for e in acc.Histograms(tag):
            h = e.histogram_value
            histograms.setdefault(tag, []).append((e.step, h))
            print(
                f"  histogram {tag} @ {e.step}: num={h.num:g} min={h.min:.9g} "
                f"max={h.max:.9g} sum={h.sum:.9g} buckets={len(h.bucket)}"
            )
            check(len(h.bucket) == len(h.bucket_limit), f"histogram {tag}: bucket count")
            check(sum(h.bucket) == h.num, f"histogram {tag}: buckets sum to {sum(h.bucket)}")
            check(h.min <= h.max, f"histogram {tag}: min > max")
            check(
                all(a <= b for a, b in zip(h.bucket_limit, h.bucket_limit[1:])),
                f"histogram {tag}: bucket limits not increasing",
            )

    check_dashboards(path, scalars, texts, histograms)
    if golden:
        check_golden(raw, acc, scalars, texts, histograms)


def check_dashboards(path, scalars, texts, histograms):
    """The path `tensorboard --load_fast=false` takes: the plugin accumulator migrates legacy
    values to tensors with a data class; every tag must land in the right dashboard."""
    acc = plugin_event_accumulator.EventAccumulator(str(path))
    acc.Reload()
    metadata = acc.AllSummaryMetadata()
    expected = (
        [(tag, "scalars", summary_pb2.DATA_CLASS_SCALAR) for tag in scalars]
        + [(tag, "text", summary_pb2.DATA_CLASS_TENSOR) for tag in texts]
        + [(tag, "histograms", summary_pb2.DATA_CLASS_TENSOR) for tag in histograms]
    )
    for tag, plugin, data_class in expected:
        m = metadata.get(tag)
        if not check(m is not None, f"dashboards: {tag} missing"):
            continue
        check(
            (m.plugin_data.plugin_name, m.data_class) == (plugin, data_class),
            f"dashboards: {tag} is {m.plugin_data.plugin_name}/{m.data_class}, "
            f"want {plugin}/{data_class}",
        )
    for tag, points in histograms.items():
        for e, (step, h) in zip(acc.Tensors(tag), points):
            buckets = tensor_util.make_ndarray(e.tensor_proto)
            check(
                buckets.ndim == 2 and buckets.shape[1] == 3 and buckets[:, 2].sum() == h.num,
                f"dashboards: histogram {tag} @ {step} migrates to {buckets.shape}",
            )
    print(f"  dashboards: {len(expected)} tags routed to scalars/text/histograms")


def golden_histogram():
    """The golden histogram recomputed the way tensorboard.rs computes it."""
    values = (np.arange(100, dtype=np.uint32) ** 2).astype(np.float32)
    values = values / np.float32(1000.0) - np.float32(2.0)
    values = [float(v) for v in values]
    lo, hi = min(values), max(values)
    total = squares = 0.0
    for v in values:  # sequential, like the Rust loop: same rounding
        total += v
        squares += v * v
    width = (hi - lo) / HISTOGRAM_BUCKETS
    counts = [0.0] * HISTOGRAM_BUCKETS
    for v in values:
        counts[min(int((v - lo) / width), HISTOGRAM_BUCKETS - 1)] += 1.0
    limits = [lo + width * i for i in range(1, HISTOGRAM_BUCKETS)] + [hi]
    return lo, hi, float(len(values)), total, squares, limits, counts


def check_golden(raw, acc, scalars, texts, histograms):
    check(len(raw) == GOLDEN_RECORDS, f"golden: {len(raw)} records, want {GOLDEN_RECORDS}")
    check(
        all(e.wall_time == GOLDEN_WALL_TIME for e in raw),
        f"golden: wall times {sorted({e.wall_time for e in raw})}",
    )
    want_scalars = {
        "train/loss": [(s, f32(2.5 / (s + 1))) for s in range(4)],
        "train/lr": [(s, f32(lr)) for s, lr in enumerate(GOLDEN_LR)],
    }
    check(scalars == want_scalars, f"golden scalars: {scalars} != {want_scalars}")
    check(
        texts == {"config": [(0, GOLDEN_TEXT)]},
        f"golden text: {texts}",
    )
    points = histograms.get("weights", [])
    if check(len(points) == 1 and points[0][0] == 3, f"golden histogram: {points}"):
        h = points[0][1]
        got = (h.min, h.max, h.num, h.sum, h.sum_squares, list(h.bucket_limit), list(h.bucket))
        want = golden_histogram()
        for name, g, w in zip(("min", "max", "num", "sum", "sum_squares"), got, want):
            check(g == w, f"golden histogram {name}: {g!r} != {w!r}")
        check(got[5] == want[5], f"golden histogram bucket_limit: {got[5]} != {want[5]}")
        check(got[6] == want[6], f"golden histogram bucket: {got[6]} != {want[6]}")
    print("  golden: scalars, text, histogram and wall times as written by tensorboard.rs")


def metadata_rows(path):
    """Rows of a metadata.tsv as the projector's JavaScript counts them: blank lines skipped,
    the first line is a header when it holds a tab."""
    lines = [l for l in path.read_text(encoding="utf-8").split("\n") if l.strip()]
    has_header = bool(lines) and "\t" in lines[0]
    return len(lines) - (1 if has_header else 0)


def check_projector(config_path, logdir, event_dirs):
    print(f"{config_path}")
    config_dir = config_path.parent
    check(
        config_dir == logdir or config_dir in event_dirs,
        f"{config_path}: the projector only reads configs in the logdir or in a run folder "
        "(one holding an event file)",
    )
    config = text_format.Parse(config_path.read_text(encoding="utf-8"), ProjectorConfig())
    check(len(config.embeddings) > 0, f"{config_path}: no embeddings")
    for emb in config.embeddings:
        tensor_path = (config_dir / emb.tensor_path).resolve()
        if not check(
            tensor_path.is_relative_to(config_dir.resolve()) and tensor_path.is_file(),
            f"{emb.tensor_name}: tensor_path {emb.tensor_path} missing or outside {config_dir}",
        ):
            continue
        # As the projector plugin's _read_tensor_tsv_file reads it.
        rows = []
        for line in tensor_path.read_text(encoding="utf-8").split("\n"):
            if line:
                try:
                    rows.append([float(x) for x in line.split("\t")])
                except ValueError as e:
                    fail(f"{emb.tensor_name}: {tensor_path}: {e}")
        widths = {len(r) for r in rows}
        check(len(rows) > 0 and len(widths) == 1, f"{emb.tensor_name}: row widths {widths}")
        check(
            all(math.isfinite(x) for r in rows for x in r),
            f"{emb.tensor_name}: non-finite values",
        )
        line = f"  embedding {emb.tensor_name}: {len(rows)} x {max(widths, default=0)}"
        if emb.metadata_path:
            metadata_path = (config_dir / emb.metadata_path).resolve()
            if check(metadata_path.is_file(), f"{emb.tensor_name}: {metadata_path} missing"):
                labels = metadata_rows(metadata_path)
                check(
                    labels == len(rows),
                    f"{emb.tensor_name}: {labels} metadata rows for {len(rows)} vectors",
                )
                line += f", {labels} labels"
        print(line)


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__)
        return 2
    golden = len(argv) == 1
    target = GOLDEN if golden else Path(argv[1])
    if not target.exists():
        print(f"{target}: no such file or folder")
        return 1
    if target.is_file():
        event_files, configs, logdir = [target], [], target.parent
    else:
        logdir = target
        event_files, configs = [], []
        for folder, _, files in os.walk(target):
            for name in sorted(files):
                if "tfevents" in name:
                    event_files.append(Path(folder) / name)
                elif name == "projector_config.pbtxt":
                    configs.append(Path(folder) / name)
    if not event_files and not configs:
        print(f"{target}: no event file and no projector_config.pbtxt")
        return 1
    for path in sorted(event_files):
        check_event_file(path, golden)
    event_dirs = {p.parent for p in event_files}
    for config in sorted(configs):
        check_projector(config, logdir, event_dirs)
    if errors:
        print(f"FAILED: {len(errors)} mismatch(es)")
        return 1
    print(f"OK: {len(event_files)} event file(s), {len(configs)} projector config(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
