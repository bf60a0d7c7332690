"""ATSINTC block tests: sim/tb/atsintc_tb.py on the generated Verilog under Verilator.

Two builds: the default (4 processes, 8 levels, capacity 256, 32 lines) and a small one
(2 processes, 3 levels, capacity 8, 5 lines, 3 channels, queue depths 2, send limit 3, 2 harts,
SLVERR policy) where every limit is reached quickly.
"""

import pytest

from atsoc.hdl.atsintc.config import ATSINTCConfig

from atsintc_build import atsintc_verilog, run_atsintc


CONFIGS = {
    "default": ATSINTCConfig(),
    "small": ATSINTCConfig(processes=3, priorities=3, capacity=8, irq_lines=5, irq_queue_depth=2,
                           channels=3, ipc_queue_depth=2, send_pending_limit=3, harts=2,
                           reserved_policy="slverr"),
}

TESTCASES = [
    "priority_and_fifo_order", "processes_isolated", "capacity_exhaustion", "refused_enqueues",
    "reserved_addresses", "info_register", "interrupt_before_registration",
    "level_line_one_wake_per_registration", "blocked_queue_full", "ipc_with_and_without_handler",
    "reset_forgets_everything", "notification", "enqueue_stream", "simultaneous_events", "driver_sequences",
    "executor_on_atsintc", "random_differential",
]


@pytest.mark.parametrize("testcase", TESTCASES)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_atsintc(name, testcase):
    run_atsintc(CONFIGS[name], testcase)


def test_lint_clean():
    from atsoc.sim.runner import lint
    for config in CONFIGS.values():
        ok, output = lint([atsintc_verilog(config)], "atsintc")
        assert ok, output


def test_wake_during_enqueue_flood():
    """Fairness between bus pushes and hardware (a build with internal signals visible)."""
    run_atsintc(CONFIGS["default"], "wake_during_enqueue_flood", build_args=["--public-flat-rw"])
