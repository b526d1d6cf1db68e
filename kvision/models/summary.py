"""The `kvision models` table."""

from kvision.registry import MODELS


def paper_of(builder):
    """The first line of a builder's docstring (it names the paper)."""
    doc = (builder.__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split())


def model_table(input_shape, num_classes=10):
    """A text table: name, parameters at `input_shape`, and paper, per model."""
    import keras

    rows = []
    for name, builder in MODELS.items():
        try:
            params = f"{builder(input_shape, num_classes).count_params():,}"
        except Exception as e:  # some models need a bigger input
            params = f"n/a ({e.__class__.__name__})"
        finally:
            keras.backend.clear_session()
        rows.append((name, params, paper_of(builder)))
    width = max(len(r[0]) for r in rows)
    pwidth = max(len(r[1]) for r in rows)
    header = f"{'model':<{width}}  {'parameters':>{pwidth}}  paper (input {input_shape})"
    lines = [header, "-" * len(header)]
    lines += [f"{n:<{width}}  {p:>{pwidth}}  {doc}" for n, p, doc in rows]
    return "\n".join(lines)
