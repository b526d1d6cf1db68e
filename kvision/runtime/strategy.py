"""Where a run executes: tf.distribute strategies (TensorFlow) or keras.distribution (JAX).

`runtime.strategy` in a recipe:

    auto                   TensorFlow: mirrored over all GPUs if there are several, else the
                           default strategy. JAX: data parallel over all devices if several.
    one_device             one GPU if there is one, else the CPU.
    mirrored               synchronous data parallelism over the local GPUs (or, without GPUs,
                           the logical CPU devices).
    multi_worker_mirrored  the same across machines; the cluster comes from TF_CONFIG, and only
                           the chief writes outputs.
    tpu                    a TPU found by TPUClusterResolver.

`data.batch_size` is the global batch, split across replicas; with
`runtime.lr_scaling: linear` it is per replica instead, and the learning rate
is multiplied by the number of replicas (Goyal et al. 2017, "Accurate, large
minibatch SGD").
"""

import contextlib
import dataclasses
import json
import os

import keras

from kvision.errors import KvisionError

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker_mirrored", "tpu")


@dataclasses.dataclass
class Placement:
    """A chosen strategy.

    Attributes:
        name: the strategy's description, for summaries.
        strategy: the `tf.distribute` strategy, or None.
        replicas: number of synchronous replicas.
        is_chief: whether this process writes the run's outputs.
        worker: this worker's index (0 outside multi-worker runs).
    """

    name: str
    strategy: object = None
    replicas: int = 1
    is_chief: bool = True
    worker: int = 0

    def scope(self):
        """A context to build the model, optimizer and metrics (and train) in."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def prepare(self, model):
        """Works around Keras 3 `fit` under MultiWorkerMirroredStrategy (keras-team/keras#20585).

        Keras' symbolic build averages a distributed data batch with
        `strategy.reduce`, which fails for multi-worker per-replica values.
        Without a strategy pinned on the model, Keras skips that build and
        takes the strategy of the scope `fit` runs in, so training stays
        distributed.
        """
        if self.name.startswith("multi_worker_mirrored"):
            model._distribute_strategy = None
            _patch_multi_worker_metric_reduction()


def _patch_multi_worker_metric_reduction():
    """Keras 3.15 reduces each (scalar) metric across workers with axis=0, which
    fails; the mean over workers of a scalar needs axis=None. Patched here,
    for multi-worker runs only, until keras-team/keras#20585 is fixed.
    """
    from keras.src.backend.tensorflow import trainer

    if getattr(trainer.reduce_per_replica, "kvision_patched", False):
        return
    original = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        import tensorflow as tf

        if reduction in ("mean", "auto") and trainer._collective_all_reduce_multi_worker(strategy):
            def mean(v):
                rank = len(v.values[0].shape) if hasattr(v, "values") else len(v.shape)
                return strategy.reduce("MEAN", v, axis=0 if rank else None)

            return tf.nest.map_structure(mean, values)
        return original(values, strategy, reduction)

    reduce_per_replica.kvision_patched = True
    trainer.reduce_per_replica = reduce_per_replica


def cluster_role():
    """(is_chief, worker index) from TF_CONFIG: the chief, or worker 0 when there is no chief."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = config.get("task", {})
    kind, index = task.get("type", "chief"), int(task.get("index", 0))
    has_chief = "chief" in config.get("cluster", {})
    is_chief = kind == "chief" or (kind == "worker" and index == 0 and not has_chief)
    return is_chief, index


def make_placement(name):
    """Builds the strategy `name` for the current Keras backend.

    Raises:
        KvisionError: the strategy does not exist here (no TPU, a backend
            without it); never a silent single-device run.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow(name)
    if backend == "jax":
        return _jax(name)
    if name in ("auto", "one_device"):
        return Placement(f"{backend} default device")
    raise KvisionError(f"runtime.strategy {name!r} needs the TensorFlow or JAX backend; the {backend} "
                       "backend runs on one device (strategy: auto or one_device)")


def _tensorflow(name):
    import tensorflow as tf

    # Before anything that initialises TensorFlow's context (listing devices does):
    # collective ops can only be configured at program start.
    if name == "multi_worker_mirrored":
        if not os.environ.get("TF_CONFIG"):
            raise KvisionError("runtime.strategy multi_worker_mirrored needs TF_CONFIG describing the "
                               "cluster (see the tf.distribute multi-worker guide)")
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        is_chief, worker = cluster_role()
        return Placement(f"multi_worker_mirrored, {strategy.num_replicas_in_sync} replicas",
                         strategy, strategy.num_replicas_in_sync, is_chief, worker)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        if len(gpus) > 1:
            name = "mirrored"
        else:
            return Placement("default")
    if name == "one_device":
        device = gpus[0].name if gpus else "/cpu:0"
        return Placement(f"one_device {device}", tf.distribute.OneDeviceStrategy(device))
    if name == "mirrored":
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices)
        return Placement(f"mirrored over {len(devices)} devices", strategy,
                         strategy.num_replicas_in_sync)
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, RuntimeError, tf.errors.NotFoundError) as e:
            raise KvisionError(f"runtime.strategy tpu: no TPU found ({e})") from None
        strategy = tf.distribute.TPUStrategy(resolver)
        return Placement("tpu", strategy, strategy.num_replicas_in_sync)
    raise KvisionError(f"unknown runtime.strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


def _jax(name):
    import jax

    devices = jax.devices()
    if name in ("tpu", "multi_worker_mirrored"):
        raise KvisionError(f"runtime.strategy {name!r} is TensorFlow-only; with JAX use mirrored or auto "
                           "(keras.distribution.DataParallel over the visible devices)")
    if name == "mirrored" or (name == "auto" and len(devices) > 1):
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        return Placement(f"keras.distribution.DataParallel over {len(devices)} devices",
                         replicas=len(devices))
    return Placement("jax default device")
