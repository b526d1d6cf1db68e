"""Data sources, splits and the tf.data pipeline."""

from kvision.data.examples import DataBundle, SourceData, Split
from kvision.data.pipeline import make_dataset
from kvision.data.prepare import load_source, prepare_data
from kvision.data.sources import fashion_mnist, image_folder, npz, tfds_source  # noqa: F401

__all__ = ["DataBundle", "SourceData", "Split", "load_source", "make_dataset", "prepare_data"]
