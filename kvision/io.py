"""File writing that never leaves a half-written output behind."""

import os
import tempfile


def atomic_write_text(path, text):
    """Writes `text` to `path` through a temporary file and a rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path, data):
    """Writes `data` to `path` through a temporary file and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_save(path, save_fn):
    """Calls `save_fn(tmp_path)` then renames the result onto `path`.

    For writers that take a file name (Keras `model.save`, matplotlib).
    The temporary name keeps the extension, which such writers check.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    base = os.path.basename(path)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{base}")
    try:
        save_fn(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
