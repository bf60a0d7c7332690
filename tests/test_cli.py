"""The command line: generate, --help, parameter errors, and the committed generated files."""

import dataclasses
import re
import subprocess
import sys

import pytest

from atsoc.hdl.plic.config import PLICConfig
from atsoc.scripts import cli


def atsoc(*args, check=True):
    return subprocess.run([sys.executable, "-m", "atsoc", *args], capture_output=True, text=True,
                          check=check)


def test_generate_help_documents_every_parameter():
    out = atsoc("generate", "plic", "--help").stdout
    flat = " ".join(out.split())
    for f in dataclasses.fields(PLICConfig):
        opt = "--" + f.name.replace("_", "-")
        assert opt in out, f"{opt} missing from --help"
    assert "(default: 31)" in flat and "(default: 2)" in flat and "(default: raz_wi)" in flat
    assert "Number of interrupt sources" in flat


def test_generate_writes_named_top(tmp_path):
    r = atsoc("generate", "plic", "--sources", "40", "--contexts", "4", "--edge-sources", "1,3-5",
              "-o", str(tmp_path))
    v = (tmp_path / "plic.v").read_text()
    assert re.search(r"^module plic\(", v, re.M)
    for port in ("clk", "rst", "s_axil_awaddr", "s_axil_rdata", "irq_sources", "eip"):
        assert re.search(rf"^\s*(input|output) .*\b{port};", v, re.M), port
    assert re.search(r"output \[3:0\] eip;", v)
    assert re.search(r"input \[40:0\] irq_sources;", v)
    assert "#define PLIC_ENABLE_CONTEXT_COUNT 4u" in (tmp_path / "plic_regs.h").read_text()
    assert "plic.v" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--sources", "1024"], "sources must be 1..1023"),
    (["--contexts", "0"], "contexts must be 1..64"),
    (["--edge-sources", "99"], "edge_sources [99] are not source IDs"),
    (["--reserved-policy", "ignore"], "reserved_policy must be one of"),
    (["--synchronizer", "maybe"], "expected true/false"),
])
def test_generate_rejects_bad_parameters(tmp_path, args, message):
    r = atsoc("generate", "plic", *args, "-o", str(tmp_path), check=False)
    assert r.returncode == 2
    assert message in r.stderr
    assert not (tmp_path / "plic.v").exists()


def test_committed_generated_files_are_up_to_date():
    """docs/registers, include/atsoc and the driver constants match the descriptions
    (regenerate with `atsoc regs`)."""
    stale = [str(p) for p, text in cli.committed_artefacts().items()
             if not p.exists() or p.read_text() != text]
    assert not stale, f"stale generated files (run `atsoc regs`): {stale}"


def test_c_header_compiles(tmp_path):
    """The committed header (default configuration) compiles; gcc is required, as for Verilator."""
    src = tmp_path / "t.c"
    src.write_text('#include "atsoc/plic.h"\n'
                   '_Static_assert(PLIC_CLAIM(1) == 0x201004u, "claim");\n'
                   '_Static_assert(PLIC_ENABLE(1, 0) == 0x2080u, "enable");\n'
                   '_Static_assert(PLIC_PRIORITY(3) == 12u, "priority");\n')
    subprocess.run(["gcc", "-fsyntax-only", "-I", str(cli.REPO / "include"), str(src)], check=True)


@pytest.mark.parametrize("scenario, top, vector", [("plic-demo", "plic", "plic.eip[1:0]"),
                                                   ("atsintc-demo", "atsintc", "atsintc.s_axil_rdata[63:0]")])
def test_sim_scenario_writes_waveform_and_gtkw(tmp_path, scenario, top, vector):
    """`atsoc sim <scenario> --waves` writes the Verilog, a log, a dump and a GTKWave save file
    that names the grouped signals as GTKWave does (vectors with their bit range)."""
    r = atsoc("sim", scenario, "--waves", "--seed", "1", "-o", str(tmp_path))
    assert "TESTS=1 PASS=1" in r.stdout
    assert (tmp_path / f"{top}.v").exists() and (tmp_path / f"{scenario}.log").exists()
    dumps = [p for p in tmp_path.iterdir() if p.suffix in (".fst", ".vcd")]
    assert len(dumps) == 1 and dumps[0].stat().st_size > 1000
    gtkw = (dumps[0].parent / (dumps[0].name + ".gtkw")).read_text()
    assert vector in gtkw and "Not found" not in gtkw
