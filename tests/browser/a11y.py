"""Accessibility checks run inside the page: text contrast and accessible names.

Contrast follows WCAG 2.1 (1.4.3): 4.5:1 for normal text, 3:1 for large text (24px, or
18.66px bold). The background is the first opaque background among the element and its
ancestors; text over a translucent colour is blended over the one below.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

_CONTRAST = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, below) => ({
    r: top.r * top.a + below.r * (1 - top.a),
    g: top.g * top.a + below.g * (1 - top.a),
    b: top.b * top.a + below.b * (1 - top.a),
    a: 1,
  });
  const background = (node) => {
    const layers = [];
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a >= 1) break;
      }
    }
    let colour = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
    return colour;
  };
  const lum = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const node = walker.currentNode.parentElement;
    if (!text || !node || seen.has(node)) continue;
    seen.add(node);
    const rect = node.getBoundingClientRect();
    const style = getComputedStyle(node);
    if (rect.width < 2 || rect.height < 2 || style.visibility === "hidden") continue;
    if (node.closest("[hidden], .visually-hidden, noscript, option")) continue;
    const bg = background(node);
    const fg = over(parse(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    if (ratio < needed) {
      failures.push({ text: text.slice(0, 40), ratio: Math.round(ratio * 100) / 100, needed });
    }
  }
  return failures;
}
"""

_UNNAMED = """
() => {
  const named = (n) =>
    (n.getAttribute("aria-label") || "").trim() ||
    (n.getAttribute("aria-labelledby") || "").trim() ||
    (n.labels && Array.from(n.labels).some((l) => l.textContent.trim())) ||
    (n.getAttribute("title") || "").trim() ||
    (n.textContent || "").trim();
  return Array.from(document.querySelectorAll("button, a[href], input, textarea, select"))
    .filter((n) => n.type !== "hidden" && !n.closest("[hidden]"))
    .filter((n) => !named(n))
    .map((n) => n.outerHTML.slice(0, 80));
}
"""


def low_contrast(page: Page) -> list[dict[str, Any]]:
    """Visible text whose contrast with its background is below WCAG AA."""
    found: list[dict[str, Any]] = page.evaluate(_CONTRAST)
    return found


def unnamed_controls(page: Page) -> list[str]:
    """Buttons, links and fields a screen reader would announce without a name."""
    found: list[str] = page.evaluate(_UNNAMED)
    return found


def sideways_scroll(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when it fits)."""
    extra: int = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return extra


def focus_ring(page: Page) -> str:
    """The focused element's outline (or box-shadow): what shows where the keyboard is."""
    ring: str = page.evaluate(
        """() => {
          const s = getComputedStyle(document.activeElement);
          return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2
            ? s.outlineStyle + " " + s.outlineWidth
            : s.boxShadow !== "none" ? s.boxShadow : "";
        }"""
    )
    return ring
