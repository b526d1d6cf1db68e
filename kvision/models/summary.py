"""The `kvision models` table."""

import math

from kvision.models.flops import count_flops, human
from kvision.registry import MODELS


def paper_of(builder):
    """The first paragraph of a builder's docstring (it names the paper)."""
    doc = (builder.__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split())


def needs_more_than_a_shape(builder):
    """True for builders with required keywords besides input_shape and num_classes."""
    import inspect

    return any(p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               for name, p in inspect.signature(builder).parameters.items()
               if name not in ("input_shape", "num_classes"))


def model_table(input_shape, num_classes=10):
    """A text table: name, parameters and FLOPs at `input_shape`, and paper, per model."""
    import keras

    rows = []
    for name, builder in MODELS.items():
        if needs_more_than_a_shape(builder):  # `pretrained`: its size is its source's
            rows.append((name, "its source's", "its source's", paper_of(builder)))
            continue
        try:
            model = builder(input_shape, num_classes)
            if getattr(builder, "learner", None) == "knn":  # no weights: it stores the images
                params, flops = "0 + memory", f"{2 * math.prod(input_shape)}/stored image"
            else:
                params, flops = f"{model.count_params():,}", human(count_flops(model))
        except Exception as e:  # some models need a bigger input
            params, flops = f"n/a ({e.__class__.__name__})", "n/a"
        finally:
            keras.backend.clear_session()
        rows.append((name, params, flops, paper_of(builder)))
    widths = [max(len(r[i]) for r in rows + [("model", "parameters", "FLOPs", "")]) for i in range(3)]
    header = (f"{'model':<{widths[0]}}  {'parameters':>{widths[1]}}  {'FLOPs':>{widths[2]}}  "
              f"paper (input {'x'.join(map(str, input_shape))}, {num_classes} classes)")
    lines = [header, "-" * len(header)]
    lines += [f"{n:<{widths[0]}}  {p:>{widths[1]}}  {f:>{widths[2]}}  {doc}" for n, p, f, doc in rows]
    return "\n".join(lines)
