"""Count the pairs of the app's top-level modules that import each other, directly or through others in them.

    python dev/import_pairs.py          # the count, then each pair with one import line each way

The graph is grimp's, the one import-linter reads. A pair (a, b) counts when some module in a imports some module
in b and some module in b imports some module in a. The app factory (marketplace/__init__.py) is left out: it
assembles every area by design.
"""

import sys

import grimp


def top_level(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def main() -> int:
    graph = grimp.build_graph("marketplace")
    edges: dict[tuple[str, str], tuple[str, str]] = {}
    for importer in graph.modules:
        if importer == "marketplace":
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = top_level(importer), top_level(imported)
            if a != b and imported != "marketplace" and b.startswith("marketplace."):
                edges.setdefault((a, b), (importer, imported))
    pairs = sorted((a, b) for (a, b) in edges if a < b and (b, a) in edges)
    modules = sorted({top_level(m) for m in graph.modules if m != "marketplace"})
    print(f"{len(pairs)} pairs of the {len(modules)} top-level modules import each other")
    for a, b in pairs:
        forth, back = edges[a, b], edges[b, a]
        print(f"  {a.removeprefix('marketplace.')} <-> {b.removeprefix('marketplace.')}: "
              f"{forth[0]} -> {forth[1]}; {back[0]} -> {back[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
