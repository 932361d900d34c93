"""What the optimization chapter's lessons (capacity, early_stopping, framework) tell a
student, checked on their own settings (README-lessons has the numbers)."""

from __future__ import annotations

from linreg.runner import run


def lesson(compose_config, name: str, *overrides: str) -> dict:
    return run(compose_config([f"+experiment={name}", *overrides]), None)


def test_capacity_training_loss_falls_validation_loss_is_lowest_at_the_true_degree(
        compose_config):
    fits = {d: lesson(compose_config, "capacity", f"dataset.poly_degree={d}")
            for d in (1, 3, 10, 20)}
    train = [fits[d]["loss"]["full_mse"] for d in (1, 3, 10, 20)]
    val = [fits[d]["loss"]["val"] for d in (1, 3, 10, 20)]
    assert train == sorted(train, reverse=True)  # more capacity, a closer fit to the rows
    assert min(val) == val[1] and val[1] < val[2] < val[3] < val[0]  # the U: 3 is best
    exact = [fits[d]["reference"] for d in (1, 3, 10, 20)]
    assert exact[3]["mse_ols"] < 1e-9 < 1e6 < exact[3]["mse_ols_val"]  # 20 rows, 21 params
    assert exact[2]["mse_ols_val"] > 2 * exact[1]["mse_ols_val"]
    assert fits[3]["reference"]["w_true"] == [1.2, -1.7, 5.6 / 6]
    assert fits[10]["reference"]["w_true"][3:] == [0.0] * 7


def test_early_stopping_ends_near_the_best_validation_loss(compose_config):
    off = lesson(compose_config, "early_stopping", "train.early_stopping.patience=0")
    on = lesson(compose_config, "early_stopping", "train.early_stopping.patience=10")
    assert off["stop_reason"] == "epochs" and off["epochs_run"] == 3000
    assert on["stop_reason"] == "early_stopping" and on["restored_best"]
    assert on["epochs_run"] == on["best_epoch"] + 10 < 200
    assert on["best_epoch"] == off["best_epoch"]  # the same run, up to where it stopped
    assert on["loss"]["val"] == min(off["history"]["val_loss"]) < 0.9 * off["loss"]["val"]
    assert on["loss"]["full_mse"] > off["loss"]["full_mse"]  # it fits the rows less closely


def test_the_four_ways_end_with_the_same_parameters(compose_config):
    runs = [lesson(compose_config, "framework", f"model={m}", f"train.loader={loader}")
            for m in ("linear", "nn_linear") for loader in ("linreg", "dataloader")]
    assert len({(tuple(r["w"]), r["b"]) for r in runs}) == 1
    assert len({tuple(r["history"]["full_mse"]) for r in runs}) == 1
    assert runs[0]["w"] == [24.035982131958008] and runs[0]["b"] == 15.637682914733887
