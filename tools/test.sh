#!/usr/bin/env bash
# The whole test suite on each Keras backend: TensorFlow, then JAX, then PyTorch.
# Tests marked tensorflow_only (tf.distribute, SavedModel) skip themselves on
# JAX and PyTorch; nothing else does.
#   bash tools/test.sh                 all three backends
#   KVISION_BACKENDS="jax" bash tools/test.sh -x tests/test_models.py
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for backend in ${KVISION_BACKENDS:-tensorflow jax torch}; do
  echo "== tests on the ${backend} backend =="
  start=$(date +%s)
  KERAS_BACKEND="${backend}" python3 -m pytest -q "$@" || status=1
  echo "== ${backend}: $(( $(date +%s) - start )) s =="
done
exit "${status}"
