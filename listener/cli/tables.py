"""Plain text tables: how the CLI's listings print (mentions, incidents, silences, sources, the
config's examples)."""

from __future__ import annotations


def table(rows: list[dict], cols: list[str], width: int = 60) -> str:
    def cell(v) -> str:
        if isinstance(v, dict):
            v = ",".join(v)
        s = "" if v is None else str(v).replace("\n", " ")
        return s if len(s) <= width else s[: width - 1] + "…"
    cells = [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=False))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)) for r in cells]
    return "\n".join(lines) + f"\n({len(rows)} rows)"
