from typing import Any

def sgd_step(
    params: list[Any],
    grads: list[Any],
    bufs: list[Any],
    hypers: list[Any],
    group_ends: list[Any],
) -> None: ...
def adamw_step(
    params: list[Any],
    grads: list[Any],
    exp_avgs: list[Any],
    exp_avg_sqs: list[Any],
    max_exp_avg_sqs: list[Any],
    hypers: list[Any],
    group_ends: list[Any],
    steps: Any = None,
) -> None: ...
def check_arrays(arrays: list[Any], name: str, writable: bool, allow_half: bool) -> None: ...
def sum_powers(arrays: list[Any], name: str, power: float, writable: bool = False) -> float: ...
def max_abs(arrays: list[Any], name: str, writable: bool = False) -> float: ...
def scale_(arrays: list[Any], name: str, scale: float) -> None: ...
def stream_floor(
    params: list[Any], grads: list[Any], bufs: list[Any], more: list[Any] | None = None
) -> None: ...
