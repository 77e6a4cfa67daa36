#!/usr/bin/env bash
# Checks that TensorBoard itself reads the event files and projector files that
# crates/train/src/tensorboard.rs writes, with TensorBoard's own EventAccumulator.
#
#   scripts/check-tensorboard.sh              # the golden file, exact content
#   scripts/check-tensorboard.sh runs/exp1    # a logdir, run folder or event file
#
# A sample run folder (events and an embedding) for the second form:
#   TB_SAMPLE_LOGDIR=/tmp/tb/run cargo test -p train write_sample_logdir -- --ignored
#
# Creates scripts/.venv (git-ignored) with a pinned tensorboard on first use; needs python3
# with venv and access to PyPI that first time.
set -euo pipefail

TENSORBOARD_VERSION=2.21.0
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/scripts/.venv"

if ! "$venv/bin/python" -c "import sys, tensorboard; sys.exit(tensorboard.__version__ != '$TENSORBOARD_VERSION')" 2>/dev/null; then
    echo "Installing tensorboard==$TENSORBOARD_VERSION into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "tensorboard==$TENSORBOARD_VERSION"
fi

exec "$venv/bin/python" "$root/scripts/check_tensorboard.py" "$@"
