"""Draw every kind of card to PNG with Microsoft's Adaptive Cards renderer in headless Chromium.

    scripts/render-cards [--out .cards] [--widths 720,360] [--only firing,drop]

Each card is rendered by the npm `adaptivecards` library (in .tools/, see scripts/install-tools)
with a Teams-like host config (standins/teams-host-config.json), in a page read from file://:
nothing is fetched from the network. Chromium runs twice per width: once to measure every
card's height (and find every word the layout broke across lines, which it prints), then once
per card for the screenshot at exactly that size. Output: `<out>/<card>-<width>.png` and the
pages themselves, `<out>/<card>-<width>.html`. Exits 1 if the layout broke an ordinary word.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from standins.card_gallery import ADAPTIVECARDS_DIST, HOST_CONFIG, ROOT, every_card

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Headless, offline and forgetful: no first-run work, no background or component traffic,
# a fresh profile every run.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)

# The page: renders the cards given in `CARDS` (name -> card) into fixed-width boxes, then
# writes each box's height into the DOM for the measuring pass. Markdown: Teams shows **bold**;
# this tiny processor does just that (the library warns and shows raw text without one).
_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>cards</title>
<style>
  html, body {{ margin: 0; padding: 0; background: #ffffff; }}
  .box {{ width: {width}px; box-sizing: border-box; overflow: hidden; }}
  .ac-pushButton {{ border: 1px solid #c8c6c4; background: #fff; border-radius: 4px;
    padding: 5px 12px; font: 600 14px 'Segoe UI', 'DejaVu Sans', sans-serif; color: #242424; }}
</style>
<script src="{script}"></script>
</head><body>
<script>
const HOST_CONFIG = {host_config};
const CARDS = {cards};
AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {{
  const escaped = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  result.outputHtml = "<p>" + escaped.replace(/\\*\\*(.+?)\\*\\*/g, "<strong>$1</strong>") + "</p>";
  result.didProcess = true;
}};
// Words the layout broke across lines: a word whose characters lie on more than one line.
function brokenWords(root) {{
  const broken = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {{
    for (const match of node.textContent.matchAll(/\\S+/g)) {{
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (tops.size > 1) broken.push(match[0]);
    }}
  }}
  return broken;
}}
const heights = {{}};
const broken = {{}};
for (const [name, json] of Object.entries(CARDS)) {{
  const box = document.createElement("div");
  box.className = "box";
  box.id = "card-" + name;
  document.body.appendChild(box);
  const card = new AdaptiveCards.AdaptiveCard();
  card.hostConfig = new AdaptiveCards.HostConfig(HOST_CONFIG);
  card.parse(json, new AdaptiveCards.SerializationContext(AdaptiveCards.Versions.v1_4));
  box.appendChild(card.render());
  heights[name] = Math.ceil(box.getBoundingClientRect().height);
  broken[name] = brokenWords(box);
}}
const out = document.createElement("pre");
out.id = "heights";
out.textContent = "HEIGHTS=" + JSON.stringify({{heights, broken}}) + "=END";
document.body.appendChild(out);
</script>
</body></html>
"""


def find_chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit(
        "render-cards: Chromium is needed (Debian/Ubuntu: sudo apt-get install chromium)"
    )


def page(cards: dict[str, Any], width: int) -> str:
    script = (ADAPTIVECARDS_DIST / "adaptivecards.min.js").as_uri()
    return _PAGE.format(
        width=width,
        script=html.escape(script, quote=True),
        host_config=HOST_CONFIG.read_text(encoding="utf-8"),
        # </script> inside the data would end the script element early.
        cards=json.dumps(cards).replace("</", "<\\/"),
    )


def chromium(binary: str, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="render-cards-") as profile:
        # A fixed argv: the Chromium found on PATH, constant flags and paths we made.
        result = subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    if result.returncode != 0:
        raise SystemExit(f"render-cards: Chromium failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


# An ordinary word: lower case, capitalised or all capitals (camelCase is an identifier), perhaps
# with an apostrophe or hyphen, in brackets or before a comma.
# Ids, paths, error codes and numbers may break; an ordinary word breaking is a layout defect.
_ORDINARY = re.compile(r"\(?(?:[A-Z]?[a-z]+|[A-Z]+)(?:['-][a-z]+)*[),.;:]*")


def render(out: Path, widths: list[int], only: set[str] | None = None) -> list[str]:
    """Draw the cards; return the ordinary words the layout broke, as `card-width: word`."""
    if not (ADAPTIVECARDS_DIST / "adaptivecards.min.js").is_file():
        raise SystemExit("render-cards: run scripts/install-tools first (adaptivecards missing)")
    binary = find_chromium()
    out.mkdir(parents=True, exist_ok=True)
    cards = {
        name: payload["attachments"][0]["content"]
        for name, payload in every_card().items()
        if only is None or name in only
    }
    defects = []
    for width in widths:
        measure = out / f"all-{width}.html"
        measure.write_text(page(cards, width), encoding="utf-8")
        dom = chromium(binary, "--allow-file-access-from-files", "--dump-dom", measure.as_uri())
        found = re.search(r"HEIGHTS=(\{.*?\})=END", dom)
        if found is None:
            raise SystemExit(f"render-cards: the page did not render: {dom[-2000:]}")
        measured = json.loads(html.unescape(found.group(1)))
        heights: dict[str, int] = measured["heights"]
        broken: dict[str, list[str]] = measured["broken"]
        for name, card in cards.items():
            single = out / f"{name}-{width}.html"
            single.write_text(page({name: card}, width), encoding="utf-8")
            png = out / f"{name}-{width}.png"
            chromium(
                binary,
                "--allow-file-access-from-files",
                f"--window-size={width},{heights[name]}",
                f"--screenshot={png}",
                single.as_uri(),
            )
            shown = png.relative_to(ROOT) if png.is_relative_to(ROOT) else png
            words = ", ".join(repr(word) for word in broken[name])
            print(
                f"{shown}: {width}×{heights[name]} px" + (f" (words broken: {words})" * bool(words))
            )
            defects += [f"{name}-{width}: {w!r}" for w in broken[name] if _ORDINARY.fullmatch(w)]
    return defects


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".cards")
    parser.add_argument("--widths", default="720,360", help="comma-separated, in CSS pixels")
    parser.add_argument("--only", default="", help="comma-separated card names (default: all)")
    args = parser.parse_args(argv)
    widths = [int(w) for w in args.widths.split(",") if w.strip()]
    only = {n.strip() for n in args.only.split(",") if n.strip()} or None
    defects = render(args.out.resolve(), widths, only)
    if defects:
        print("render-cards: ordinary words broken across lines:", *defects, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
