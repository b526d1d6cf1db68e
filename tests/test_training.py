"""Optimizers and learning-rate schedules by name."""

import keras
import numpy as np
import pytest

from kvision.recipes.schema import OptimizerConfig, ScheduleConfig
from kvision.training import LinearWarmup, build_optimizer, build_schedule


@pytest.mark.parametrize("name,cls", [("sgd", keras.optimizers.SGD), ("adam", keras.optimizers.Adam),
                                      ("adamw", keras.optimizers.AdamW)])
def test_optimizers(name, cls):
    optimizer = build_optimizer(OptimizerConfig(name=name, weight_decay=1e-4, clipnorm=1.0), 0.1)
    assert isinstance(optimizer, cls)
    assert optimizer.weight_decay == pytest.approx(1e-4)
    assert optimizer.clipnorm == 1.0


def test_sgd_momentum_and_nesterov():
    optimizer = build_optimizer(OptimizerConfig(name="sgd", momentum=0.8, nesterov=True), 0.1)
    assert optimizer.momentum == 0.8 and optimizer.nesterov


def lr_at(schedule, step):
    return float(schedule(step)) if callable(schedule) else float(schedule)


def test_constant_with_warmup():
    schedule = build_schedule(ScheduleConfig("constant", warmup_epochs=1), 0.1, steps_per_epoch=10,
                              epochs=3)
    assert lr_at(schedule, 0) == pytest.approx(0.01)
    assert lr_at(schedule, 4) == pytest.approx(0.05)
    assert lr_at(schedule, 10) == pytest.approx(0.1) and lr_at(schedule, 29) == pytest.approx(0.1)


def test_cosine_with_warmup_decays_to_alpha():
    schedule = build_schedule(ScheduleConfig("cosine", warmup_epochs=1, options={"alpha": 0.1}), 0.1,
                              steps_per_epoch=10, epochs=5)
    assert lr_at(schedule, 5) < 0.1
    assert lr_at(schedule, 10) == pytest.approx(0.1, rel=1e-3)
    assert lr_at(schedule, 50) == pytest.approx(0.01, rel=1e-3)


def test_step_schedule():
    schedule = build_schedule(ScheduleConfig("step", options={"boundaries": [2, 4], "factor": 0.5}), 0.2,
                              steps_per_epoch=10, epochs=6)
    assert [lr_at(schedule, s) for s in (0, 21, 41)] == pytest.approx([0.2, 0.1, 0.05])


def test_warmup_schedule_serialises():
    schedule = LinearWarmup(keras.optimizers.schedules.CosineDecay(0.1, 100), 10, 0.1)
    again = LinearWarmup.from_config(schedule.get_config())
    assert np.isclose(float(again(50)), float(schedule(50)))
