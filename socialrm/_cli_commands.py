"""Subcommands of the ``socialrm`` command line: ``demo``, ``aggregate`` and ``election``.

``register(sub)`` is called by :mod:`socialrm.cli`; every subcommand sets its ``run`` function with
``set_defaults(run=...)`` and returns an exit status.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

#: Rules shown by ``socialrm election`` (a spread of families: scoring, Condorcet, runoff).
DEMO_RULES = ("plurality", "borda", "instant_runoff", "copeland", "kemeny", "minimax", "schulze",
              "ranked_pairs", "coombs", "baldwin", "nanson", "black")
#: The default election of ``socialrm election``: Burlington (Vermont) 2009 mayoral race, a well-known case where
#: instant runoff and the Condorcet rules disagree.
DEMO_FILE = Path("00005_-_burlington") / "00005-00000002.toi"


def register(sub: argparse._SubParsersAction) -> None:
    """Add every subcommand to the ``socialrm`` parser."""
    _add_demo(sub)
    _add_aggregate(sub)
    _add_election(sub)


def _margin_mode_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--margin-mode", choices=("strict", "extended"), default=None,
                        help="pairwise comparisons of truncated ballots: 'strict' counts a pair only when "
                             "both are ranked; 'extended' puts ranked above unranked (default: the rule's)")


def _add_aggregate(sub) -> None:
    p = sub.add_parser("aggregate", help="social order of a PrefLib election under one or more rules",
                       description="Read a PrefLib file (.soc .soi .toc .toi) and print the social order "
                                   "under each rule, best first, with candidate names.")
    p.add_argument("file", help="PrefLib election file")
    p.add_argument("--rule", action="append", dest="rules", metavar="NAME",
                   help="rule name (repeatable; default: schulze); see --list-rules")
    p.add_argument("--order", choices=("score", "iterated", "elimination", "layers"), default=None,
                   help="how winners become a full order (default: the rule's own)")
    _margin_mode_arg(p)
    p.add_argument("--scores", action="store_true", help="also print each rule's scores, if it has any")
    p.add_argument("--list-rules", action="store_true", help="print the available rule names and exit")
    p.set_defaults(run=_run_aggregate)


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="the social-choice reward model on the built-in example populations",
                       description="Train the pipeline (individual reward model, simulated voters, voting rule, "
                                   "social reward model) on the built-in example populations and write a Markdown "
                                   "report with PNG figures. Default: experiment 1 (the rule is ours to choose, "
                                   "four_types) and experiment 3 (missing completions, morristown); --all runs "
                                   "every experiment.")
    p.add_argument("--out", metavar="DIR", default="demo_out", help="report folder (default: ./demo_out)")
    p.add_argument("--all", action="store_true", help="run every experiment (several minutes)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and of every model (default 0)")
    p.add_argument("--threads", type=int, default=1,
                   help="C threads per model (default 1: the measured, tested results; 0 = all cores)")
    p.add_argument("--steps", type=int, default=None,
                   help="training steps of every individual model (default: the measured sizes; fewer is "
                        "faster but the orders may not be recovered)")
    p.add_argument("--raters", type=int, default=None, help="raters per population (default: the measured sizes)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=_run_demo)


def _add_election(sub) -> None:
    p = sub.add_parser("election", help="a real election under several rules, with the criteria report",
                       description="Load a real election from the shared PrefLib data, print its social "
                                   "order under several rules and which voting criteria each rule meets.")
    p.add_argument("--data", metavar="DIR", default=None,
                   help="PrefLib folder (default: ../shared/data/preflib, looked up from the current "
                        "directory and from the package's repository root, or $SOCIALRM_SHARED_DATA/preflib)")
    p.add_argument("--file", metavar="PATH", default=None,
                   help=f"election file inside --data (default: {DEMO_FILE.as_posix()})")
    p.add_argument("--all", action="store_true",
                   help="also print the social orders of every election in --data")
    p.add_argument("--out", metavar="DIR", default=None, help="also write report.txt and report.json here")
    p.set_defaults(run=_run_election)


# ---------------------------------------------------------------------------------------------


def _format_order(order, names) -> str:
    parts = []
    for tier in order.tiers():
        labels = [str(names[int(c)]) for c in tier]
        parts.append(labels[0] if len(labels) == 1 else "{" + ", ".join(labels) + "}")
    return " > ".join(parts)


def _rule_options(args) -> dict:
    opts = {}
    if getattr(args, "margin_mode", None):
        opts["margin_mode"] = args.margin_mode
    if getattr(args, "order", None):
        opts["order"] = args.order
    return opts


def _run_aggregate(args) -> int:
    from . import choice

    if args.list_rules:
        for name in choice.available_rules():
            print(name)
        return 0
    path = Path(args.file)
    if not path.is_file():
        print(f"socialrm aggregate: no such file: {path}", file=sys.stderr)
        return 2
    rules = args.rules or ["schulze"]
    known = set(choice.available_rules())
    unknown = [r for r in rules if not _is_rule(r)]
    if unknown:
        print(f"socialrm aggregate: unknown rule(s) {', '.join(unknown)}; available: "
              f"{', '.join(sorted(known))}", file=sys.stderr)
        return 2
    try:
        P = choice.read_preflib(str(path))
    except (ValueError, TypeError, OSError) as exc:
        print(f"socialrm aggregate: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    names = [str(c) for c in P.candidates]
    print(f"{path.name}: {P.n_candidates} candidates, {_fmt_weight(P.n_voters)} voters, "
          f"{P.n_ballots} distinct ballots")
    width = max(len(r) for r in rules)
    status = 0
    for rule in rules:
        try:
            order = choice.aggregate(P, rule=rule, **_rule_options(args))
        except (ValueError, TypeError) as exc:
            print(f"{rule:<{width}}  error: {exc}")
            status = 1
            continue
        print(f"{rule:<{width}}  {_format_order(order, names)}")
        if args.scores and order.scores is not None:
            import numpy as np

            sc = np.asarray(order.scores, dtype=float)
            if np.all(np.isfinite(sc)):
                pairs = sorted(zip(names, sc), key=lambda t: -t[1])
                print(" " * (width + 2) + "scores: " + ", ".join(f"{n} {s:.6g}" for n, s in pairs))
    return status


def _is_rule(name: str) -> bool:
    """A registry name or one of its aliases ("irv", "beat_path", ...)."""
    from . import choice

    try:
        choice.rule_info(name)
    except (ValueError, KeyError):
        return False
    return True


def _fmt_weight(w) -> str:
    w = float(w)
    return f"{int(w):,}" if w.is_integer() else f"{w:,.3f}"


def find_preflib_dir(explicit: str | None = None) -> Path | None:
    """The shared PrefLib folder: ``explicit`` if given, else ``$SOCIALRM_SHARED_DATA/preflib``,
    else ``shared/data/preflib`` in the current directory or the repository root or one of their
    three nearest parents (``../shared/data/preflib`` beside a checkout)."""
    if explicit is not None:
        path = Path(explicit)
        return path if path.is_dir() else None
    candidates = []
    env = os.environ.get("SOCIALRM_SHARED_DATA")
    if env:
        candidates.append(Path(env) / "preflib")
    repo_root = Path(__file__).resolve().parents[1]
    for base in (Path.cwd().resolve(), repo_root):
        # ../shared beside the checkout first; then further up (a git worktree sits one level deeper)
        for ancestor in [base, *list(base.parents)[:3]]:
            candidates.append(ancestor / "shared" / "data" / "preflib")
    for path in candidates:
        if path.is_dir():
            return path
    return None


def _election_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".soc", ".soi", ".toc", ".toi"))


def _run_demo(args) -> int:
    from . import demo

    sizes = {}
    for key, base in demo.SIZES.items():
        sz = dict(base)
        if args.steps is not None:
            sz["steps"] = args.steps
        if args.raters is not None:
            sz["n_raters"] = args.raters
        sizes[key] = sz
    try:
        res = demo.run_demo(args.out, all_experiments=args.all, seed=args.seed, progress=not args.quiet,
                            n_threads=args.threads, sizes=sizes)
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        print(f"socialrm demo: {exc}", file=sys.stderr)
        return 2
    print(res["report_path"].read_text(encoding="utf-8"))
    print(f"wrote {res['report_path']} (and report.json, figures) in {res['seconds']:.0f} s")
    return 0


def _run_election(args) -> int:
    from . import choice, criteria

    folder = find_preflib_dir(args.data)
    if folder is None:
        where = args.data or "../shared/data/preflib (from the current directory or the repository root)"
        print(f"socialrm election: PrefLib data not found at {where}. It needs the shared real-election "
              "data; pass --data DIR pointing at a folder of PrefLib files (.soc .soi .toc .toi).",
              file=sys.stderr)
        return 2
    path = Path(args.file) if args.file else folder / DEMO_FILE
    if not path.is_absolute() and not path.exists():
        path = folder / path
    if not path.is_file():
        files = _election_files(folder)
        if not files:
            print(f"socialrm election: no PrefLib election files in {folder}", file=sys.stderr)
            return 2
        path = files[0]
    P = choice.read_preflib(str(path))
    names = [str(c) for c in P.candidates]
    rules = [r for r in DEMO_RULES if r in set(choice.available_rules())]
    header = (f"Election: {path.name} -- {P.n_candidates} candidates, {_fmt_weight(P.n_voters)} voters, "
              f"{P.n_ballots} distinct ballots (truncated ballots: ranked above unranked for Borda-type "
              "rules, pairs of unranked candidates ignored by the pairwise rules)")
    lines = [header, ""]
    cw = P.condorcet_winner()
    lines.append("Condorcet winner: " + (names[int(cw)] if cw is not None else "none (majority cycle)"))
    lines.append("")
    lines.append("Social orders (best first):")
    width = max(len(r) for r in rules)
    orders = {}
    for rule in rules:
        order = choice.aggregate(P, rule=rule)
        orders[rule] = order
        lines.append(f"  {rule:<{width}}  {_format_order(order, names)}")
    lines.append("")
    lines.append("Voting criteria on this election (checked by re-running each rule on modified profiles):")
    table = criteria.criteria_table(P, rules=rules, max_ballots=40)
    lines.extend("  " + line for line in str(table).splitlines())
    violated = [(r, c, table[r][c].message) for r in table.rules for c in table.criteria
                if table[r][c].holds is False]
    if violated:
        lines.append("")
        lines.append("Evidence of the violations:")
        for r, c, msg in violated:
            lines.append(f"  {r} / {c}: {msg}")
    if args.all:
        lines.append("")
        lines.append("Every election in the data folder (Schulze, Borda, instant runoff winners):")
        for f in _election_files(folder):
            Q = choice.read_preflib(str(f))
            qn = [str(c) for c in Q.candidates]
            tops = []
            for rule in ("schulze", "borda", "instant_runoff"):
                top = choice.aggregate(Q, rule=rule).tiers()[0]
                tops.append(f"{rule} {'/'.join(qn[int(c)] for c in top)}")
            lines.append(f"  {f.name}: " + "; ".join(tops))
    text = "\n".join(lines)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.txt").write_text(text + "\n", encoding="utf-8")
        data = {
            "election": path.name,
            "candidates": names,
            "orders": {r: [[names[int(c)] for c in t] for t in o.tiers()] for r, o in orders.items()},
            "criteria": {r: {c: table[r][c].holds for c in table.criteria} for r in table.rules},
        }
        (out / "report.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
        print(f"\nwrote {out / 'report.txt'} and {out / 'report.json'}")
    return 0
