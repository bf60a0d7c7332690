"""ECP5 PLL (EHXPLLL): divider calculation in Python and the primitive instance.

The ECP5 PLL (Lattice TN1263, "ECP5 and ECP5-5G sysCLOCK PLL/DLL Design and Usage Guide", and the
ECP5 family data sheet, "sysCLOCK PLL Timing") multiplies the reference clock through a phase
detector, a VCO and four output dividers:

    f_pfd  = f_in / CLKI_DIV
    f_fb   = f_pfd * CLKFB_DIV           (feedback taken from CLKOP, as Trellis' ``ecppll`` does)
    f_vco  = f_fb * CLKOP_DIV            = f_pfd * CLKFB_DIV * CLKOP_DIV
    f_out  = f_vco / CLKOx_DIV           (CLKOP = f_fb; CLKOS, CLKOS2, CLKOS3 from the same VCO)

Ranges checked (data sheet, speed grades 6..8): input 8..400 MHz, PFD 3.125..400 MHz, VCO
400..800 MHz, outputs 3.125..400 MHz, every divider 1..128.

Phase: an output's coarse phase ``CPHASE = DIV - 1 + round(phase / 360 * DIV)`` (steps of one VCO
period, ``360 / DIV`` degrees; ``FPHASE`` fine steps are not used). ``DIV - 1`` is the zero-phase
value Lattice's tools write; the requested phase must be representable within 1 degree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from amaranth.hdl import Elaboratable, Instance, Module, Signal


__all__ = ["PLLOutput", "PLLConfig", "ecp5_pll_config", "ECP5PLL",
           "F_IN_MHZ", "F_PFD_MHZ", "F_VCO_MHZ", "F_OUT_MHZ", "DIV_RANGE"]

F_IN_MHZ = (8.0, 400.0)
F_PFD_MHZ = (3.125, 400.0)
F_VCO_MHZ = (400.0, 800.0)
F_OUT_MHZ = (3.125, 400.0)
DIV_RANGE = (1, 128)

#: Output names of EHXPLLL in order; the first (CLKOP) closes the feedback loop.
OUTPUTS = ("CLKOP", "CLKOS", "CLKOS2", "CLKOS3")


@dataclass(frozen=True)
class PLLOutput:
    """One PLL output as computed.

    Attributes
    ----------
    name : str
        ``CLKOP``, ``CLKOS``, ``CLKOS2`` or ``CLKOS3``.
    div : int
        Output divider (``CLKOx_DIV``).
    cphase : int
        Coarse phase (``CLKOx_CPHASE``).
    freq_mhz : float
        Achieved frequency.
    phase_deg : float
        Achieved phase in degrees.
    """

    name: str
    div: int
    cphase: int
    freq_mhz: float
    phase_deg: float


@dataclass(frozen=True)
class PLLConfig:
    """EHXPLLL dividers for one reference frequency and its outputs.

    Attributes
    ----------
    f_in_mhz : float
    clki_div, clkfb_div : int
    f_pfd_mhz, f_vco_mhz : float
    outputs : tuple of PLLOutput
        In the order requested; the first is CLKOP.
    """

    f_in_mhz: float
    clki_div: int
    clkfb_div: int
    f_pfd_mhz: float
    f_vco_mhz: float
    outputs: tuple = field(default_factory=tuple)

    def parameters(self) -> dict:
        """The EHXPLLL parameters (``p_`` keys for :class:`~amaranth.hdl.Instance`)."""
        p = {
            "p_PLLRST_ENA": "DISABLED", "p_INTFB_WAKE": "DISABLED", "p_STDBY_ENABLE": "DISABLED",
            "p_DPHASE_SOURCE": "DISABLED", "p_OUTDIVIDER_MUXA": "DIVA",
            "p_OUTDIVIDER_MUXB": "DIVB", "p_OUTDIVIDER_MUXC": "DIVC", "p_OUTDIVIDER_MUXD": "DIVD",
            "p_CLKI_DIV": self.clki_div, "p_CLKFB_DIV": self.clkfb_div, "p_FEEDBK_PATH": "CLKOP",
        }
        for o in self.outputs:
            p[f"p_{o.name}_ENABLE"] = "ENABLED"
            p[f"p_{o.name}_DIV"] = o.div
            p[f"p_{o.name}_CPHASE"] = o.cphase
            p[f"p_{o.name}_FPHASE"] = 0
        return p

    def describe(self) -> str:
        """One line per quantity, for logs and docs."""
        lines = [f"f_in {self.f_in_mhz:g} MHz / CLKI_DIV {self.clki_div} = PFD {self.f_pfd_mhz:g} MHz;"
                 f" CLKFB_DIV {self.clkfb_div}; VCO {self.f_vco_mhz:g} MHz"]
        for o in self.outputs:
            lines.append(f"{o.name}: VCO / {o.div} = {o.freq_mhz:g} MHz, phase {o.phase_deg:g} deg"
                         f" (CPHASE {o.cphase})")
        return "\n".join(lines)


def _in(x, rng):
    return rng[0] - 1e-9 <= x <= rng[1] + 1e-9


def _phase_ok(phase: float, div: int) -> bool:
    """Whether ``phase`` degrees is a whole number of VCO periods (360/div) within 1 degree."""
    steps = phase / 360.0 * div
    return abs(steps - round(steps)) * 360.0 / div <= 1.0


def ecp5_pll_config(f_in_mhz: float, outputs, *, tolerance: float = 0.0) -> PLLConfig:
    """Compute EHXPLLL dividers.

    Parameters
    ----------
    f_in_mhz : float
        Reference clock (8..400 MHz).
    outputs : sequence of float or (float, float)
        Up to four output frequencies in MHz, each optionally with a phase in degrees
        (``(125, 90)``). The first becomes CLKOP (the feedback output).
    tolerance : float
        Largest relative frequency error accepted per output (0: exact to 1 ppm).

    Returns
    -------
    PLLConfig
        Among the exact (or within tolerance) solutions: the smallest total error, then the
        highest PFD frequency (less jitter multiplication), then the highest VCO frequency.

    Raises
    ------
    ValueError
        Out-of-range input or output, more than four outputs, or no divider set within the
        ranges and tolerance whose output dividers also give the requested phases.
    """
    reqs = [(float(o), 0.0) if not isinstance(o, (tuple, list)) else (float(o[0]), float(o[1]))
            for o in outputs]
    if not 1 <= len(reqs) <= len(OUTPUTS):
        raise ValueError(f"an EHXPLLL has 1..4 outputs, not {len(reqs)}")
    if not _in(f_in_mhz, F_IN_MHZ):
        raise ValueError(f"PLL input {f_in_mhz} MHz is outside {F_IN_MHZ[0]}..{F_IN_MHZ[1]} MHz")
    for f, _ in reqs:
        if not _in(f, F_OUT_MHZ):
            raise ValueError(f"PLL output {f} MHz is outside {F_OUT_MHZ[0]}..{F_OUT_MHZ[1]} MHz")
    tol = max(tolerance, 1e-6)
    lo, hi = DIV_RANGE
    best = None
    for clki in range(lo, hi + 1):
        pfd = f_in_mhz / clki
        if not _in(pfd, F_PFD_MHZ):
            continue
        for fb in range(lo, hi + 1):
            f0 = pfd * fb
            if abs(f0 - reqs[0][0]) > tol * reqs[0][0]:
                continue
            for op in range(lo, hi + 1):
                vco = f0 * op
                if not _in(vco, F_VCO_MHZ):
                    continue
                divs = [op]
                err = abs(f0 - reqs[0][0]) / reqs[0][0]
                for f, phase in reqs[1:]:
                    d = min(max(round(vco / f), lo), hi)
                    e = abs(vco / d - f) / f
                    if e > tol or not _phase_ok(phase, d):
                        break
                    divs.append(d)
                    err += e
                else:
                    if not _phase_ok(reqs[0][1], op):
                        continue
                    key = (round(err, 9), -pfd, -vco)
                    if best is None or key < best[0]:
                        best = (key, clki, fb, vco, divs)
    if best is None:
        raise ValueError(f"no EHXPLLL dividers give {reqs} (MHz, degrees) from {f_in_mhz} MHz "
                         f"(phases in steps of 360/DIV; VCO {F_VCO_MHZ[0]:g}..{F_VCO_MHZ[1]:g} MHz, PFD >= {F_PFD_MHZ[0]} MHz, "
                         f"dividers {lo}..{hi}, tolerance {tolerance})")
    _, clki, fb, vco, divs = best
    outs = []
    for name, (f, phase), d in zip(OUTPUTS, reqs, divs):
        steps = round(phase / 360.0 * d) % d
        outs.append(PLLOutput(name, d, d - 1 + steps, vco / d, steps * 360.0 / d))
    return PLLConfig(f_in_mhz, clki, fb, f_in_mhz / clki, vco, tuple(outs))


class ECP5PLL(Elaboratable):
    """An EHXPLLL instance driving clock domains.

    Parameters
    ----------
    config : PLLConfig
    clk_in : Signal
        Reference clock.

    Attributes
    ----------
    clk_out : list of Signal, out
        One clock per output, in the order of ``config.outputs`` (the parent drives its clock
        domains from them, and may constrain them).
    locked : Signal, out
        The PLL's LOCK output (asynchronous).
    """

    def __init__(self, config: PLLConfig, clk_in):
        self.config = config
        self.clk_in = clk_in
        self.clk_out = [Signal(name=f"pll_{o.name.lower()}") for o in config.outputs]
        self.locked = Signal()

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        clkop = self.clk_out[0]
        ports = {f"o_{o.name}": c for o, c in zip(cfg.outputs, self.clk_out)}
        attrs = {"FREQUENCY_PIN_CLKI": f"{cfg.f_in_mhz:g}", "ICP_CURRENT": "12",
                 "LPF_RESISTOR": "8", "MFG_ENABLE_FILTEROPAMP": "1", "MFG_GMCREF_SEL": "2"}
        for o in cfg.outputs:
            attrs[f"FREQUENCY_PIN_{o.name}"] = f"{o.freq_mhz:g}"
        m.submodules.pll = Instance(
            "EHXPLLL",
            a_FREQUENCY_PIN_CLKI=attrs.pop("FREQUENCY_PIN_CLKI"),
            **{f"a_{k}": v for k, v in attrs.items()},
            **cfg.parameters(),
            i_CLKI=self.clk_in, i_CLKFB=clkop, i_RST=0, i_STDBY=0,
            i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1, i_PHASESTEP=1, i_PHASELOADREG=1,
            i_PLLWAKESYNC=0, i_ENCLKOP=0, i_ENCLKOS=0, i_ENCLKOS2=0, i_ENCLKOS3=0,
            o_LOCK=self.locked, **ports)
        return m
