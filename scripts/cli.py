"""The ``atsoc`` command line.

Subcommands
-----------
generate <block> [parameters] -o DIR
    Write ``DIR/<block>.v`` (top module ``<block>``), its C header and Markdown register reference.
regs [--check]
    Regenerate the committed register artefacts (docs/registers, include/atsoc, the driver's
    constants) from the register-map descriptions, or check that they are up to date.
sim <scenario> [--waves] -o DIR
    Run a named simulation scenario under Verilator, optionally with a waveform and GTKWave file.
bench <block|all> -o DIR
    Run the benchmarks and write JSON plus docs/benchmarks.md.
build --board NAME [--verilog-only] [-o DIR]
    A board bitstream with the open ECP5 flow (utilisation and Fmax per clock; exit 1 when a
    clock misses timing), or Verilog and constraints for vendor tools (atsoc.boards.build).
demo [-o DIR]
    The main job on the default configuration: generate the SoC, run the network demo (driver,
    executor, echo application, scapy peer) in both configurations with waveforms, print outputs.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from . import blocks as blocks_mod


REPO = Path(__file__).resolve().parent.parent


def _add_block_parameters(parser: argparse.ArgumentParser, block) -> None:
    docs = blocks_mod.parameter_docs(block.config_cls)
    for f in dataclasses.fields(block.config_cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        help_text = docs.get(f.name, "")
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, metavar="VALUE",
                            help=f"{help_text} (default: {blocks_mod.format_default(default)})")


def config_from_args(block, args) -> object:
    """Build ``block``'s configuration from parsed arguments; raises ValueError with a clear message."""
    kwargs = {}
    for f in dataclasses.fields(block.config_cls):
        text = getattr(args, f.name, None)
        if text is not None:
            kwargs[f.name] = blocks_mod.parse_value(f, text)
    return block.config_cls(**kwargs)


def generate(block_name: str, config, out_dir: Path) -> dict[str, Path]:
    """Generate the Verilog, C header and register reference of a block into ``out_dir``."""
    from atsoc.hdl.toplevel import convert
    block = blocks_mod.get_block(block_name)
    out_dir.mkdir(parents=True, exist_ok=True)
    if block.files is not None:
        outputs = {"verilog": out_dir / f"{block.name}.v"}
        outputs["verilog"].write_text(convert(block.build(config), block.name))
        for kind, (name, text) in block.files(config).items():
            outputs[kind] = out_dir / name
            outputs[kind].write_text(text)
        return outputs
    regmap = block.regmap(config)
    outputs = {
        "verilog": out_dir / f"{block.name}.v",
        "c_header": out_dir / f"{block.name}_regs.h",
        "registers": out_dir / f"{block.name}_registers.md",
    }
    outputs["verilog"].write_text(convert(block.build(config), block.name))
    outputs["c_header"].write_text(regmap.c_header(block.source))
    outputs["registers"].write_text(regmap.markdown(source=block.source))
    return outputs


def committed_artefacts() -> dict[Path, str]:
    """The generated files kept in the repository (default configuration), with their contents."""
    files = {}
    for name in blocks_mod.BLOCKS:
        block = blocks_mod.get_block(name)
        if block.committed is not None:
            files.update({REPO / path: text for path, text in block.committed().items()})
            continue
        regmap = block.regmap(block.config_cls())
        files[REPO / "docs" / "registers" / f"{name}.md"] = regmap.markdown(source=block.source)
        files[REPO / "include" / "atsoc" / f"{name}.h"] = regmap.c_header(block.source)
        files[REPO / "sim" / "driver" / "regs" / f"{name}.py"] = regmap.python_module(block.source)
    return files


def cmd_generate(args) -> int:
    block = blocks_mod.get_block(args.block)
    try:
        config = config_from_args(block, args)
    except (ValueError, TypeError) as e:
        print(f"atsoc generate {args.block}: {e}", file=sys.stderr)
        return 2
    outputs = generate(args.block, config, Path(args.output))
    for kind, path in outputs.items():
        print(f"{kind:10s} {path}")
    return 0


def cmd_regs(args) -> int:
    stale = []
    for path, text in committed_artefacts().items():
        if not path.exists() or path.read_text() != text:
            stale.append(path)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    for path in stale:
        print(("stale: " if args.check else "wrote: ") + str(path.relative_to(REPO)))
    return 1 if (args.check and stale) else 0


def cmd_sim(args) -> int:
    from . import scenarios
    return scenarios.run(args.scenario, Path(args.output), waves=args.waves, seed=args.seed,
                         config=args.config)


def cmd_bench(args) -> int:
    from . import bench
    return bench.main(args.block, Path(args.output), synth=not args.no_synth,
                      docs=not args.no_docs)


def cmd_build(args) -> int:
    from atsoc.boards import build as board_build
    return board_build.main(args)


def cmd_demo(args) -> int:
    """The README's main job: generate the SoC (``atsoc generate soc``), then run the end-to-end
    demo on it in both configurations with waveforms (``atsoc sim demo --waves``)."""
    from . import scenarios
    out = Path(args.output)
    block = blocks_mod.get_block("soc")
    outputs = generate("soc", block.config_cls(), out / "soc")
    print("Generated the SoC (default SocConfig; atsoc generate soc):")
    for kind, path in outputs.items():
        print(f"  {kind:14s} {path}")
    print()
    return scenarios.run("demo", out, waves=True, seed=args.seed, config="both")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atsoc", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="generate a block's Verilog, C header and register reference")
    gen_sub = gen.add_subparsers(dest="block", required=True, metavar="BLOCK")
    for name in blocks_mod.BLOCKS:
        block = blocks_mod.get_block(name)
        p = gen_sub.add_parser(name, help=f"generate {name}.v",
                               description=(block.config_cls.__doc__ or "").split("\n")[0])
        _add_block_parameters(p, block)
        p.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
        p.set_defaults(func=cmd_generate)

    regs = sub.add_parser("regs", help="regenerate (or --check) the committed register artefacts")
    regs.add_argument("--check", action="store_true", help="only check; exit 1 when stale")
    regs.set_defaults(func=cmd_regs)

    from . import scenarios
    sim = sub.add_parser("sim", help="run a named simulation scenario under Verilator")
    sim.add_argument("scenario", choices=sorted(scenarios.SCENARIOS))
    sim.add_argument("-o", "--output", default="out/sim", metavar="DIR")
    sim.add_argument("--waves", action="store_true", help="write a waveform and a GTKWave save file")
    sim.add_argument("--seed", type=int, default=None, help="random seed (printed when not given)")
    sim.add_argument("--config", choices=["plic", "atsintc", "both"], default=None,
                     help="SoC configuration of the 'demo' scenario (default: both)")
    sim.set_defaults(func=cmd_sim)

    bench = sub.add_parser("bench", help="run benchmarks; JSON and docs/benchmarks.md")
    from .bench import BENCHES
    bench.add_argument("block", choices=["all", *BENCHES])
    bench.add_argument("-o", "--output", default="out/bench", metavar="DIR")
    bench.add_argument("--no-synth", action="store_true", help="skip ECP5 synthesis")
    bench.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    bench.set_defaults(func=cmd_bench)

    build = sub.add_parser("build", help="board bitstream (open ECP5 flow) or Verilog + constraints")
    from atsoc.boards.build import add_arguments as add_build_arguments
    add_build_arguments(build)
    build.set_defaults(func=cmd_build)

    demo = sub.add_parser("demo", help="generate + simulate the default configuration with a waveform")
    demo.add_argument("-o", "--output", default="out/demo", metavar="DIR")
    demo.add_argument("--seed", type=int, default=None)
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
