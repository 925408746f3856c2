// A stacked bar chart of counts per day with uPlot: each series is drawn at
// its cumulative height, tallest first, so every status shows as its own
// segment. The legend and a data table are plain HTML (screen readers read
// the table; uPlot's canvas is hidden from them).
import uPlot from "uplot";
import { h } from "./dom.js";

export function stackedBars(container, { days, series }) {
  const x = days.map((d) => Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / 1000);
  const cum = [];
  let acc = days.map(() => 0);
  for (const s of series) {
    acc = acc.map((v, i) => v + (s.values[i] || 0));
    cum.push(acc);
  }
  const order = series.map((_, i) => i).reverse();     // tallest (all statuses) first
  const bars = uPlot.paths.bars({ size: [0.7, 40], gap: 1 });
  const opts = {
    width: Math.max(280, container.clientWidth || 600),
    height: 240,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    scales: { x: { time: true, range: (u, a, b) => [a - 43200, b + 43200] },
              y: { range: (u, a, b) => [0, Math.max(4, b)] } },
    axes: [{ space: 60, values: [[86400, "{M}/{D}", null, null, null, null, null, null, 1]] },
           { size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }],
    series: [{}].concat(order.map((i) => ({
      label: series[i].label, fill: series[i].color, stroke: series[i].color, width: 0,
      paths: bars, points: { show: false },
    }))),
  };
  const plot = new uPlot(opts, [x].concat(order.map((i) => cum[i])), container);
  plot.root.setAttribute("aria-hidden", "true");
  const ro = new ResizeObserver(() => {
    const w = container.clientWidth;
    if (w && Math.abs(w - plot.width) > 4) plot.setSize({ width: Math.max(280, w), height: 240 });
  });
  ro.observe(container);
  return { destroy() { ro.disconnect(); plot.destroy(); } };
}

export function legend(series) {
  return h("ul", { class: "legend" }, series.map((s) => {
    const sw = h("span", { class: "swatch", "aria-hidden": "true" });
    sw.style.background = s.color;
    return h("li", null, sw, `${s.label}: ${s.values.reduce((a, b) => a + b, 0)}`);
  }));
}
