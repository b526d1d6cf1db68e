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
@handles_errors
def run(recipe, overrides, output):
    """Train and evaluate as RECIPE says; write the run folder."""
    from kvision.recipes import load_recipe

    resolved = load_recipe(recipe, overrides)
    from kvision.run import run_recipe

    summary = run_recipe(resolved, output)
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
    click.echo(f"{recipe}: ok (model {resolved.model.name}, learner {resolved.train.learner}, "
               f"{resolved.train.epochs} epochs, data {resolved.data.source})")


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


if __name__ == "__main__":
    main()
