"""SoC tests: configuration checks, generated artefacts, and the cocotb testbench
sim/tb/soc_tb.py on the generated Verilog under Verilator (default SocConfig)."""

import dataclasses
import re

import pytest

from atsoc.hdl.atsintc.config import ATSINTCConfig
from atsoc.hdl.dma.config import AXIDMAConfig
from atsoc.hdl.eth.config import EthMACConfig
from atsoc.hdl.plic.config import PLICConfig
from atsoc.hdl.soc import artefacts
from atsoc.hdl.soc.config import SocConfig
from atsoc.sim.block_build import cached_verilog, run_block


def _build(config):
    from atsoc.hdl.soc.soc import Soc
    return Soc(config)


def soc_verilog(config=SocConfig()):
    return cached_verilog("soc", config, _build)


# -- configuration ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,message", [
    ({"dma_base": 0x0C00_0000, "dma_size": 0x1_0000}, "overlaps"),
    ({"mac_base": 0x6010_8000, "mac_size": 0x8000}, "overlaps"),
    ({"dma_base": 0x6010_0800}, "multiple of dma_size"),
    ({"mac_size": 0x3000}, "power of two"),
    ({"dma_size": 0x800}, "smaller than the block's register space"),
    ({"plic_irq_mm2s": 0}, "plic_irq_mm2s must be a PLIC source 1..31"),
    ({"plic_irq_mac": 32}, "plic_irq_mac must be a PLIC source 1..31"),
    ({"plic_irq_s2mm": 1}, "distinct"),
    ({"atsintc_irq_mac": 32}, "atsintc_irq_mac must be an ATSINTC line 0..31"),
    ({"atsintc_irq_mm2s": 3}, "distinct"),
    ({"token_process": 4}, "token_process must be 0..3"),
    ({"token_priority": 8}, "token_priority must be 0..7"),
    ({"dma": AXIDMAConfig(data_width=64)}, "dma.data_width must be 32"),
    ({"mac": EthMACConfig(data_width=64)}, "must not exceed dma.data_width"),
    ({"plic": ATSINTCConfig()}, "plic must be a PLICConfig"),
    ({"addr_width": 31}, "addr_width"),
    ({"addr_width": 32, "mac_base": 0xFFFC_0000, "mac_size": 0x8_0000}, "multiple of mac_size"),
])
def test_config_rejects(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SocConfig(**kwargs)


def test_config_follows_map():
    """The blocks' own base addresses follow the SoC's memory map; limits come from the blocks."""
    c = SocConfig(dma_base=0x7000_0000, plic=PLICConfig(sources=63), atsintc=ATSINTCConfig(irq_lines=8))
    assert c.dma.base == 0x7000_0000 and c.plic.base == c.plic_base and c.mac.base == c.mac_base
    assert SocConfig(plic=PLICConfig(sources=63), plic_irq_mac=63).plic_irq("mac") == 63
    with pytest.raises(ValueError, match="0..7"):
        SocConfig(atsintc=ATSINTCConfig(irq_lines=8), atsintc_irq_mac=8)
    assert [w.name for w in c.windows] == ["plic", "atsintc", "dma", "mac"]
    assert c.window("atsintc").decoded == 0x4000


def test_default_map_is_arceos_axu15eg():
    c = SocConfig()
    assert (c.plic_base, c.atsintc_base, c.dma_base, c.mac_base) == (
        0x0C00_0000, 0x1000_0000, 0x6010_0000, 0x6014_0000)
    assert c.dma.completion_tokens


def test_cli_nested_parameters(tmp_path):
    """``atsoc generate soc --plic sources=63,edge_sources=1,2 --dma-base ...`` parses nested and
    flat parameters and writes every artefact."""
    from atsoc.scripts import blocks, cli
    block = blocks.get_block("soc")
    args = cli.build_parser().parse_args(["generate", "soc", "--plic", "sources=63,edge_sources=5,6",
                                          "--token-priority", "2", "-o", str(tmp_path)])
    config = cli.config_from_args(block, args)
    assert config.plic.sources == 63 and config.plic.edge_sources == {5, 6}
    assert config.token_priority == 2 and config.dma.completion_tokens
    with pytest.raises(ValueError, match="unknown parameter 'nope'"):
        blocks.parse_value(dataclasses.fields(SocConfig)[0], "nope=1")


def test_generate_soc(tmp_path):
    from atsoc.scripts.cli import main
    assert main(["generate", "soc", "--mac-base", "0x60200000", "--plic-irq-mac", "7",
                 "-o", str(tmp_path)]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"soc.v", "soc.h", "soc.dtsi", "soc_memory_map.md", "plic.h", "atsintc.h",
                     "axi_dma.h", "eth_mac.h"}
    assert "module soc(" in (tmp_path / "soc.v").read_text()
    h = (tmp_path / "soc.h").read_text()
    assert "#define SOC_MAC_BASE 0x60200000ul" in h and "#define SOC_PLIC_IRQ_MAC 7u" in h
    dts = (tmp_path / "soc.dtsi").read_text()
    assert "ethernet@60200000" in dts and "interrupts = <7>;" in dts
    assert main(["generate", "soc", "--dma-base", "0x0c000000", "-o", str(tmp_path)]) == 2


def test_header_compiles(tmp_path):
    """soc.h and the block headers it includes compile, and its values are the configuration's."""
    import shutil
    import subprocess
    cc = shutil.which("gcc") or shutil.which("cc")
    assert cc, "a C compiler is part of the set-up (the block header tests use it too)"
    for kind, (name, text) in artefacts.generated_files(SocConfig()).items():
        (tmp_path / name).write_text(text)
    (tmp_path / "t.c").write_text(
        '#include "soc.h"\n#include <stdio.h>\nint main(void){printf("%lx %lx %u %u %u\\n", '
        "SOC_DMA_BASE, SOC_MAC_BASE + ETH_MAC_ID_OFFSET, SOC_PLIC_IRQ_S2MM, SOC_TOKEN_PRIORITY, "
        "(unsigned)SOC_IS_TOKEN(0x1041ull)); return 0;}\n")
    subprocess.run([cc, "-Wall", "-Werror", "-o", str(tmp_path / "t"), str(tmp_path / "t.c")], check=True)
    out = subprocess.run([str(tmp_path / "t")], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["60100000", "601404f8", "2", "1", "1"]


def test_committed_block_headers_match():
    """soc.h includes the committed include/atsoc block headers: the default SoC's blocks must
    generate exactly those (else the committed soc.h would describe other blocks)."""
    from pathlib import Path
    repo = Path(__file__).resolve().parent.parent
    for name, (regmap, source) in artefacts.block_regmaps(SocConfig()).items():
        path = repo / "include" / "atsoc" / artefacts.BLOCK_HEADERS[name]
        assert path.read_text() == regmap.c_header(source), path


def test_soc_with_byte_wide_mac_elaborates():
    """With an 8-bit MAC the SoC inserts the stream width converters (unit-tested in
    test_soc_units.py) between the DMA and the MAC."""
    from atsoc.hdl.toplevel import convert
    v = convert(_build(SocConfig(mac=EthMACConfig(data_width=8))), "soc")
    assert "module \\soc.tx_width" in v and "module \\soc.rx_width" in v
    assert "module \\soc.tx_width" not in soc_verilog().read_text()     # 32-bit MAC: direct


# -- RTL ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("testcase", ["registers", "frames_irqs_tokens"])
def test_soc(testcase):
    run_block("soc", SocConfig(), _build, "atsoc.sim.tb.soc_tb", {}, testcase, timeout_s=600)


def test_lint_clean():
    """Verilator -Wall is clean on the generated SoC apart from the documented waivers."""
    from pathlib import Path

    from atsoc.sim.runner import lint
    waiver = Path(__file__).resolve().parent.parent / "sim" / "tb" / "soc_lint.vlt"
    ok, output = lint([waiver, soc_verilog()], "soc")
    assert ok, output
