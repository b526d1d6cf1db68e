"""Reader for the IDX format of the original MNIST and Fashion-MNIST files."""

import gzip

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Reads an IDX file (optionally gzip-compressed) into a numpy array.

    Args:
        path: an `.idx` or `.gz` file, e.g. `train-images-idx3-ubyte.gz`.

    Returns:
        The array, with the shape stored in the file.

    Raises:
        ValueError: the file is not IDX.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(f"{path} is not an IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    array = np.frombuffer(data, dtype=_DTYPES[data[2]], offset=offset)
    return array.reshape(shape)
