"""What TensorBoard's HParams tab shows of a run, and of a sweep; TensorBoard's protocol
buffers only (no torch), so that a sweep's own process can write its part.

Each run writes, in its own events file (records/events.py): its config when it starts
(session_start_info: one value per column, typed as the schema types it, so flags show as
booleans; its seed group as the session's group name, so that TensorBoard aggregates runs that
differ only in seed), and when it ends its status (session_end_info: diverged, interrupted and
failed runs are failures) and the final metrics as scalars, `final/<metric>` for every metric
of records/runs.py's `Metric`, NaN where one does not apply (no held-out rows: no val_loss).

A sweep writes one experiment before its first job, into its own run (event_files.SWEEP_RUN):
every column with its type, the swept keys marked as those that differ (TensorBoard sorts
those first, and shows the first five) with their values as discrete domains, and the metric
columns, the ranked metric first. A single run writes no experiment: TensorBoard then builds
one from the runs it reads, and puts first the keys whose values differ between them.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import time
from pathlib import Path
from typing import Any

from linreg.records.runs import Job, Metric

METRIC_PREFIX = "final/"
STATUS_SUCCESS, STATUS_FAILURE = 1, 2  # tensorboard.plugins.hparams.api_pb2.Status
BOOL, FLOAT64, STRING = "DATA_TYPE_BOOL", "DATA_TYPE_FLOAT64", "DATA_TYPE_STRING"
NO_GROUP = "(only seed changed)"  # the group name of runs whose overrides are seeds or none


def metric_tags() -> list[str]:
    return [METRIC_PREFIX + metric.name for metric in Metric]


def final_metrics(result: dict[str, Any]) -> dict[str, float]:
    """Every metric's `final/` scalar, from a run's metrics.json contents (Job.metric: one
    rule with the ranking), NaN where the metric does not apply or is not finite."""
    job = Job(Path(), result)
    return {METRIC_PREFIX + m.name: _nan_if_none(job.metric(m.name)) for m in Metric}


def group_name(overrides: list[str]) -> str:
    """The seed group (records/runs.py's Job.group) as TensorBoard's session group name."""
    return Job(Path(), {}, overrides).group or NO_GROUP


def status_code(status: str) -> int:
    return STATUS_SUCCESS if status == "ok" else STATUS_FAILURE


def column_types(schema: type, groups: dict[str, Any]) -> dict[str, str]:
    """Every HParams column and its type: the fields of `schema` (config.RunConfig), with a
    config group's (in `groups`) the fields of every one of its options, so that every run of
    a sweep has the same columns whichever options it chose."""
    types: dict[str, str] = {}

    def add(dataclass: type, prefix: str) -> None:
        for f in dataclasses.fields(dataclass):
            key = prefix + f.name
            if not prefix and f.name in groups:
                for option in groups[f.name].SCHEMAS.values():
                    add(option, f"{key}.")
            elif callable(f.default_factory) and dataclasses.is_dataclass(f.default_factory):
                add(f.default_factory, f"{key}.")
            else:
                types.setdefault(key, _data_type(str(f.type)))

    add(schema, "")
    return types


def _data_type(annotation: str) -> str:
    if annotation == "bool":
        return BOOL
    if annotation.replace(" | None", "") in ("int", "float"):
        return FLOAT64
    return STRING  # text, an enum's name, a list written as text


def typed(value: Any, data_type: str) -> Any:
    """A config value as its column's type; None where it has none (an option not chosen,
    `dataset.target: null`): the cell stays empty."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, enum.Enum):
        value = value.name
    if data_type == BOOL:
        return bool(value)
    if data_type == FLOAT64:
        return float(value)
    return str(value)


def session_start(hparams: dict[str, Any], types: dict[str, str], group: str):
    """The run's values (flat config: {"optimizer.lr": 0.01}), one per column it has."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    info = plugin_data_pb2.SessionStartInfo(group_name=group, start_time_secs=time.time())
    for key, data_type in types.items():
        value = typed(hparams.get(key), data_type)
        if isinstance(value, bool):
            info.hparams[key].bool_value = value
        elif isinstance(value, float):
            info.hparams[key].number_value = value
        elif value is not None:
            info.hparams[key].string_value = value
    return _summary("session_start_info", plugin_data_pb2.HParamsPluginData(
        session_start_info=info))


def session_end(status: str):
    from tensorboard.plugins.hparams import plugin_data_pb2

    info = plugin_data_pb2.SessionEndInfo(status=status_code(status), end_time_secs=time.time())
    return _summary("session_end_info", plugin_data_pb2.HParamsPluginData(session_end_info=info))


def experiment(types: dict[str, str], swept: dict[str, list[str] | None], rank_by: str):
    """A sweep's experiment: `swept` maps each swept column to its values as written on the
    command line (None where the sweeper chooses them: optuna), the discrete domain shown."""
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    infos = []
    for key, data_type in types.items():
        info = api_pb2.HParamInfo(name=key, type=api_pb2.DataType.Value(data_type),
                                  differs=key in swept)
        values = [typed(_parsed(v, data_type), data_type) for v in swept.get(key) or []]
        if values and None not in values:
            info.domain_discrete.extend(values)
        infos.append(info)
    tags = metric_tags()
    first = METRIC_PREFIX + rank_by
    tags = [first, *(t for t in tags if t != first)] if first in tags else tags
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag)) for tag in tags]
    exp = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics,
                             time_created_secs=time.time())
    return _summary("experiment", plugin_data_pb2.HParamsPluginData(experiment=exp))


def _parsed(text: str, data_type: str) -> Any:
    """A swept value as the command line wrote it (`0.1`, `true`, `huber`)."""
    if data_type == BOOL:
        return {"true": True, "false": False}.get(text.lower())
    if data_type == FLOAT64:
        try:
            return float(text)
        except ValueError:
            return None
    return None if text == "null" else text


def _summary(what: str, data):
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata

    plugin = SummaryMetadata.PluginData(plugin_name="hparams", content=data.SerializeToString())
    return Summary(value=[Summary.Value(tag=f"_hparams_/{what}",
                                        metadata=SummaryMetadata(plugin_data=plugin))])


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else value
