"""SavedModel export for serving: preprocessing inside the graph, no kvision needed to load.

Signatures:

    serving_default(images: uint8 [batch, height, width, channels], any size)
    serve_encoded(encoded: string [batch], JPEG/PNG/GIF/BMP bytes)

both returning `probabilities` [batch, classes] (float32), `class_index`
[batch] (int64) and `class_name` [batch] (string). Images are resized to the
model's input size (bilinear, as the training pipeline does) and given as raw
pixels to the model, which rescales them itself.
"""

import keras
import tensorflow as tf


def _fit(images, height, width):
    images = tf.cast(images, tf.float32)
    same = tf.logical_and(tf.equal(tf.shape(images)[1], height), tf.equal(tf.shape(images)[2], width))
    resized = tf.cond(same, lambda: images,
                      lambda: tf.clip_by_value(tf.image.resize(images, (height, width), antialias=True),
                                               0.0, 255.0))
    return tf.ensure_shape(resized, [None, height, width, None])


def export_saved_model(model, path, class_names):
    """Writes `model` as a SavedModel with the serving signatures above.

    Args:
        model: a kvision classifier (raw pixels in, logits out).
        path: the SavedModel folder to write.
        class_names: one name per class, stored in the export.

    Returns:
        `path`.
    """
    height, width, channels = model.input_shape[1:]
    names = tf.constant([str(n) for n in class_names])

    def outputs(images):
        logits = model(_fit(images, height, width), training=False)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        index = tf.argmax(probabilities, axis=-1)
        return {"probabilities": probabilities, "class_index": index, "class_name": tf.gather(names, index)}

    def serve_images(images):
        return outputs(images)

    def decode(data):
        image = tf.io.decode_image(data, channels=channels, expand_animations=False)
        return tf.squeeze(tf.cast(_fit(image[None], height, width), tf.uint8), 0)

    def serve_encoded(encoded):
        images = tf.map_fn(decode, encoded, fn_output_signature=tf.TensorSpec([height, width, channels],
                                                                              tf.uint8))
        return outputs(images)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve_images,
                         input_signature=[tf.TensorSpec([None, None, None, channels], tf.uint8,
                                                        name="images")])
    archive.add_endpoint("serve_encoded", serve_encoded,
                         input_signature=[tf.TensorSpec([None], tf.string, name="encoded")])
    archive.write_out(path, verbose=False)
    return path

