"""The SoC configuration a board build uses: the board's defaults, a reduced preset, and
``--soc NAME=VALUE`` options (the syntax of ``atsoc generate soc``: ``--soc plic=sources=7``,
``--soc mac=statistics=false``, ``--soc dma_base=0x60100000``)."""

from __future__ import annotations

import dataclasses

from ..hdl.atsintc.config import ATSINTCConfig
from ..hdl.dma.config import AXIDMAConfig
from ..hdl.eth.config import EthMACConfig
from ..hdl.plic.config import PLICConfig
from ..hdl.soc.config import SocConfig
from .catalog import BoardSpec


__all__ = ["PRESETS", "board_soc_config"]


def _full(phy: str) -> SocConfig:
    return SocConfig(mac=EthMACConfig(data_width=32, phy=phy))


def _small(phy: str) -> SocConfig:
    """Every block present and wired as in the full SoC, with small parameters: 7 PLIC sources,
    an ATSINTC of 2 processes x 2 priorities x 32 tasks and 4 lines, a DMA of 16-beat bursts,
    a MAC with 2 KiB buffers and no statistics counters."""
    return SocConfig(
        plic=PLICConfig(sources=7, contexts=2),
        atsintc=ATSINTCConfig(processes=2, priorities=2, capacity=32, irq_lines=4, channels=3),
        dma=AXIDMAConfig(completion_tokens=True, s2mm_fifo_depth=32),
        mac=EthMACConfig(data_width=32, phy=phy, tx_fifo_bytes=2048, rx_buffer_bytes=2048,
                         statistics=False))


#: Named starting points; ``--soc`` options apply on top.
PRESETS = {"full": _full, "small": _small}


def board_soc_config(board: BoardSpec, options: dict[str, str] | None = None,
                     preset: str = "full") -> SocConfig:
    """The SoC configuration for ``board``.

    Parameters
    ----------
    board : BoardSpec
        Its PHY kind selects the MAC's PHY interface (``rgmii``: the MAC's own RGMII adapter on
        the board's pads, or ``mii``).
    options : dict
        ``{SocConfig field: text}``; nested configurations take ``key=value,key=value``.
    preset : str
        ``full`` (the SoC's defaults) or ``small``.

    Raises
    ------
    ValueError
        Unknown preset or field, or a value the configuration refuses.
    """
    from ..scripts import blocks as blocks_mod
    if preset not in PRESETS:
        raise ValueError(f"unknown SoC preset {preset!r}; known: {', '.join(PRESETS)}")
    expected = "mii" if board.phy == "mii" else "rgmii"
    config = PRESETS[preset](expected)
    fields = {f.name: f for f in dataclasses.fields(SocConfig)}
    changes = {}
    for name, text in (options or {}).items():
        key = name.replace("-", "_")
        if key not in fields:
            raise ValueError(f"unknown SoC option {name!r}; known: {', '.join(fields)}")
        current = getattr(config, key)
        if dataclasses.is_dataclass(current):
            changes[key] = blocks_mod._parse_nested(key, current, text)
        else:
            changes[key] = blocks_mod.parse_value(fields[key], text)
    config = dataclasses.replace(config, **changes)
    if config.mac.phy != expected:
        raise ValueError(f"{board.name} needs mac.phy={expected!r} (its PHY is {board.phy})")
    return config
