"""The page's style sheet (inline: the page works from file:// with no other file)."""

CSS = """
:root { --fg: #1d2430; --muted: #5b6573; --line: #d9dee5; --accent: #0072B2; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  margin: 0; background: #f6f7f9; }
header { background: #1d2430; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #c8d0da; }
nav { padding: 8px 28px; background: #fff; border-bottom: 1px solid var(--line); }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 0 28px 40px; max-width: 1400px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 18px 0;
  padding: 14px 18px; }
h2 { font-size: 18px; margin: 0 0 6px; }
h3 { font-size: 15px; margin: 0 0 8px; }
.caption { color: var(--muted); margin: 0 0 12px; max-width: 95ch; }
.banner { background: #b00020; color: #fff; font-weight: 700; padding: 12px 28px;
  font-size: 16px; }
.banner ul { margin: 4px 0 0; font-weight: 400; }
.empty { color: var(--muted); font-style: italic; }
.error { color: #b00020; }
code { background: #eef1f4; padding: 1px 4px; border-radius: 3px; }
.id { color: var(--muted); font: 11px ui-monospace, monospace; word-break: break-all; }
.gallery { display: flex; flex-wrap: wrap; gap: 14px; }
.pair { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
.pair-head { margin-bottom: 6px; }
.rank { font-weight: 700; font-size: 16px; margin-right: 6px; }
.sides { display: flex; gap: 8px; }
.side { width: min-content; }
.side img, .item img { display: block; object-fit: contain; background: #eef1f4;
  border-radius: 3px; }
.meta { font-size: 12px; margin-top: 4px; }
.missing-img { display: flex; align-items: center; justify-content: center; text-align: center;
  background: #eee; color: #b00020; font-size: 12px; }
svg.fig { display: block; max-width: 100%; height: auto; font-size: 12px; }
.plot-bg { fill: #fbfcfd; stroke: var(--line); }
.grid { stroke: #e6e9ee; }
.tick { fill: var(--muted); font-size: 11px; }
.axis-title { fill: var(--fg); font-size: 12px; }
.pt { fill: #7a8594; fill-opacity: .45; }
.pt.sel { fill: #D55E00; fill-opacity: .9; }
.selected-region { fill: #D55E00; fill-opacity: .07; }
.threshold { stroke: #b00020; stroke-width: 1.5; stroke-dasharray: 5 3; }
.threshold-label { fill: #b00020; font-size: 11px; }
.cell { stroke: #fff; }
.cell.current { stroke: #D55E00; stroke-width: 3; }
.cell-label { fill: var(--fg); font-size: 12px; }
.cell-label.dark { fill: #fff; }
.note { fill: var(--muted); color: var(--muted); font-size: 11px; }
.footprint { fill-opacity: .28; stroke-opacity: .8; stroke-width: .6; }
.scene-marker { fill: none; stroke-width: 2; }
.scene-label { fill: var(--fg); font-size: 11px; paint-order: stroke; stroke: #fff;
  stroke-width: 3px; }
.pair-line { stroke: #b00020; stroke-width: 1.4; stroke-opacity: .75; }
.legend { margin-top: 8px; }
.key { margin-right: 14px; white-space: nowrap; font-size: 12px; }
.key i { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
  vertical-align: -1px; border-radius: 2px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left;
  vertical-align: top; }
th { background: #f0f2f5; }
.bar { fill: var(--accent); }
.bar.random { fill: #b00020; fill-opacity: .6; }
.whisker { stroke: var(--fg); stroke-width: 1.5; }
.chance { stroke: #b00020; stroke-dasharray: 4 3; }
.bar-label { fill: var(--fg); font-size: 12px; }
.bar-label.small { font-size: 11px; }
.group-label { fill: var(--fg); font-weight: 700; font-size: 12px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 11px;
  font-weight: 700; }
.badge.random { background: #b00020; color: #fff; }
.badge.warn { background: #E69F00; color: #000; }
.bench-pair { border-top: 1px solid var(--line); padding: 12px 0; }
.items { display: flex; gap: 18px; flex-wrap: wrap; }
.item { max-width: 340px; }
.item p { margin: 4px 0; }
.right { color: #00704a; }
.ok { color: #00704a; font-weight: 700; }
.bad { color: #b00020; font-weight: 700; }
.na { color: var(--muted); }
"""
