"""The `kvision` command line (Click). Thin: it parses arguments and calls run.py and friends.

Exit codes: 0 success, 2 a bad recipe or bad arguments, 1 a failure during the run.
"""

import functools
import logging
import os
import sys

import click

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _setup_logging():
    logging.basicConfig(level=logging.INFO, format="kvision: %(message)s", stream=sys.stderr)
    logging.getLogger("kvision").setLevel(logging.INFO)


def handles_errors(command):
    """Turns kvision's user-facing errors into a message and an exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from kvision.errors import KvisionError, RecipeError

        try:
            return command(*args, **kwargs)
        except RecipeError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)
        except KvisionError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)

    return wrapper


recipe_argument = click.argument("recipe", type=click.Path(dir_okay=False))
backend_option = click.option("--backend", type=click.Choice(["tensorflow", "jax", "torch"]),
                              default=None, help="Keras backend (overrides the recipe's backend:).")


def choose_backend(recipe, overrides, backend):
    """Sets the Keras backend from --backend or the recipe, before Keras is imported."""
    from kvision.backend import select_backend
    from kvision.recipes.loader import apply_override, read_yaml

    if backend is not None:
        select_backend(backend, "--backend")
        return
    data = read_yaml(recipe)  # plain YAML: no Keras import yet
    for assignment in overrides:
        apply_override(data, assignment)
    if isinstance(data.get("backend"), str):
        select_backend(data["backend"], f"{recipe}: backend")
set_option = click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
                          help="Override a recipe key, e.g. --set train.epochs=3 (repeatable).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kvision")
def main():
    """kvision: train image classifiers from YAML recipes on Keras 3."""
    _setup_logging()


@main.command()
@recipe_argument
@set_option
@click.option("--output", type=click.Path(file_okay=False), default=None,
              help="Run folder (default: OUTPUT_DIR/NAME from the recipe).")
@click.option("--restart", is_flag=True, help="Discard an earlier run in the folder and start over.")
@backend_option
@handles_errors
def run(recipe, overrides, output, restart, backend):
    """Train and evaluate as RECIPE says; write the run folder.

    Re-running the same command after the process was killed resumes from the
    last checkpoint; re-running a finished run does nothing.
    """
    choose_backend(recipe, overrides, backend)
    from kvision.recipes import load_recipe

    resolved = load_recipe(recipe, overrides)
    if backend is not None:
        resolved.backend = backend
    from kvision.run import run_recipe

    summary = run_recipe(resolved, output, restart=restart)
    split = summary["evaluation"]["split"]
    click.echo(f"{split} accuracy: {summary[f'{split}_accuracy']:.4f}")


@main.command()
@recipe_argument
@set_option
@handles_errors
def check(recipe, overrides):
    """Validate RECIPE without reading data or training."""
    from kvision.recipes import load_recipe

    resolved = load_recipe(recipe, overrides)
    for stage in getattr(resolved, "stage_recipes", None) or [resolved]:
        where = f" stage {stage.name}:" if getattr(resolved, "stage_recipes", None) else ""
        click.echo(f"{recipe}:{where} ok (model {stage.model.name}, learner {stage.train.learner}, "
                   f"{stage.train.epochs} epochs, data {stage.data.source})")


@main.command()
@click.option("--input-shape", default="28,28,1", show_default=True,
              help="Input shape H,W,C at which to count parameters.")
@click.option("--num-classes", default=10, show_default=True, type=click.IntRange(min=1))
@handles_errors
def models(input_shape, num_classes):
    """List the registered models with their parameter counts and papers."""
    import kvision.components  # noqa: F401
    from kvision.models.summary import model_table

    try:
        shape = tuple(int(v) for v in input_shape.split(","))
        assert len(shape) == 3 and min(shape) > 0
    except (ValueError, AssertionError):
        raise click.BadParameter(f"expected H,W,C like 28,28,1. Received: {input_shape!r}",
                                 param_hint="--input-shape") from None
    click.echo(model_table(shape, num_classes))


@main.command()
@recipe_argument
@set_option
@click.option("--out", "out_path", default="augment_grid.png", show_default=True,
              type=click.Path(dir_okay=False), help="PNG to write.")
@click.option("--images", default=6, show_default=True, type=click.IntRange(1, 32))
@click.option("--draws", default=5, show_default=True, type=click.IntRange(1, 16))
@handles_errors
def augment(recipe, overrides, out_path, images, draws):
    """Write a grid: original images beside augmented draws of each."""
    from kvision.recipes import load_recipe

    resolved = load_recipe(recipe, overrides)
    from kvision.augment.grid import write_augment_grid

    write_augment_grid(resolved, out_path, images, draws)
    click.echo(f"wrote {out_path}")


model_argument = click.argument("model", type=click.Path(exists=False))


@main.command(name="eval")
@model_argument
@click.option("--data", "source", default="fashion_mnist", show_default=True,
              help="Data source: fashion_mnist, tfds:NAME, image_folder:PATH, npz:PATH.")
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for eval.json and confusion.png (default: beside the model).")
@handles_errors
def evaluate(model, source, split, out_dir):
    """Evaluate MODEL (a run folder or .keras file) on a data source."""
    import json

    from kvision.artifacts import load_trained, model_path
    from kvision.io import atomic_write_text
    from kvision.predict import evaluate as evaluate_model
    from kvision.recipes.checks import check_source
    from kvision.errors import RecipeError
    from kvision.report.plots import plot_confusion

    import kvision.components  # noqa: F401

    try:
        check_source(source, {}, path="--data")
    except RecipeError as e:
        raise click.BadParameter(str(e), param_hint="--data") from None
    keras_model, class_names = load_trained(model)
    report = evaluate_model(keras_model, class_names, source, split)
    out_dir = out_dir or os.path.dirname(os.path.abspath(model_path(model)))
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_text(os.path.join(out_dir, "eval.json"),
                      json.dumps({"source": source, "split": split, **report}, indent=2))
    plot_confusion(report["confusion_matrix"], class_names, os.path.join(out_dir, "eval_confusion.png"),
                   title=f"{source} {split}: accuracy {report['accuracy']:.4f}")
    for name, accuracy in report["per_class_accuracy"].items():
        click.echo(f"  {name:<20} {accuracy:.4f}")
    click.echo(f"{split} accuracy: {report['accuracy']:.4f} ({report['num_examples']} images); "
               f"wrote {os.path.join(out_dir, 'eval.json')}")


@main.command()
@model_argument
@click.argument("images", nargs=-1, required=True, type=click.Path())
@click.option("--top-k", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handles_errors
def predict(model, images, top_k, as_json):
    """Top-k classes of each image (JPEG/PNG files or folders of them)."""
    import json

    from kvision.artifacts import load_trained
    from kvision.predict import predict_files

    keras_model, class_names = load_trained(model)
    results = predict_files(keras_model, class_names, images, min(top_k, len(class_names)))
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    for result in results:
        best = ", ".join(f"{p['class']} {p['probability']:.3f}" for p in result["predictions"])
        click.echo(f"{result['image']}: {best}")


@main.command()
@model_argument
@click.option("--format", "fmt", type=click.Choice(["saved_model", "onnx", "keras"]),
              default="saved_model", show_default=True)
@click.option("--out", "out_path", type=click.Path(), default=None,
              help="Where to write (default: beside the model, named after the format).")
@handles_errors
def export(model, fmt, out_path):
    """Export MODEL (a run folder or .keras file) for serving."""
    from kvision.artifacts import load_trained, model_path
    from kvision.export import export_model

    keras_model, class_names = load_trained(model)
    default = {"saved_model": "saved_model", "onnx": "model.onnx", "keras": "exported.keras"}[fmt]
    out_path = out_path or os.path.join(os.path.dirname(os.path.abspath(model_path(model))), default)
    export_model(keras_model, out_path, class_names, fmt)
    click.echo(f"wrote {out_path}")


if __name__ == "__main__":
    main()
