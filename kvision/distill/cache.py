"""Teacher logits computed once over a split and kept under the run folder (teacher_mode cached)."""

import hashlib
import io
import json
import logging
import os

import numpy as np

from kvision.io import atomic_write_bytes

log = logging.getLogger("kvision")


def teacher_logits_for(distiller, split, image_shape, num_classes, folder, batch_size=512):
    """The teacher's logits for every image of `split`, un-augmented, in split order.

    Computed with `training=False` at the teacher's own input size, written to
    `folder/teacher_logits.npz` and reused when the same teacher and images
    come again (a resumed run).

    Args:
        distiller: a `Distiller` with its teacher.
        split: the training `Split` (its order is the order of the logits).
        image_shape: the data's image shape.
        num_classes: classes of the labels.
        folder: where to keep the file.
        batch_size: images per teacher step.

    Returns:
        A float32 array (len(split), classes).
    """
    from kvision.data.pipeline import predict_split
    from kvision.run import weights_checksum

    key = hashlib.sha256(json.dumps([weights_checksum(distiller.teacher), len(split),
                                     hashlib.sha256(np.ascontiguousarray(split.labels)).hexdigest(),
                                     list(image_shape)]).encode()).hexdigest()[:16]
    path = os.path.join(folder, "teacher_logits.npz")
    if os.path.isfile(path):
        with np.load(path) as saved:
            if str(saved["key"]) == key:
                log.info("teacher logits: reusing %s", path)
                return saved["logits"]
    logits = predict_split(lambda images: distiller.teacher(distiller.fit_to_teacher(images),
                                                             training=False),
                           split, image_shape, num_classes, batch_size)
    buffer = io.BytesIO()
    np.savez(buffer, logits=logits, key=np.array(key))
    atomic_write_bytes(path, buffer.getvalue())
    log.info("teacher logits: %d images in %s", len(logits), path)
    return logits
