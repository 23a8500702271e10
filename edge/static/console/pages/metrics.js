// SRE metrics over a chosen range, charted by uPlot, each chart with its data as a table.
import { html, useEffect, useRef, useMemo } from "../lib.js";
import { optional } from "../api.js";
import { daysAgo, duration, fmt } from "../format.js";
import { navigate } from "../router.js";
import { useData, ErrorBox, Loading, Empty, Field } from "../ui.js";
import uPlot from "../vendor/uPlot.esm.js";

const RANGES = [["7", "7 days"], ["30", "30 days"], ["90", "90 days"]];

function color(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function Chart({ options, data, label }) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    const width = () => Math.max(260, el.clientWidth || 600);
    const fg = color("--fg", "#222");
    const grid = color("--border", "#ddd");
    const axis = { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid } };
    const plot = new uPlot({
      width: width(), height: 220, legend: { show: false },
      ...options,
      axes: (options.axes || [{}, {}]).map((a) => ({ ...axis, ...a })),
    }, data, el);
    const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: 220 }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [JSON.stringify(data)]);
  return html`<div class="chart" ref=${ref} role="img" aria-label=${label}></div>`;
}

function DataTable({ head, rows }) {
  return html`<details><summary>Data as a table</summary><div class="table-wrap"><table class="list">
    <thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody>
  </table></div></details>`;
}

function Figure({ title, children }) {
  return html`<figure class="card chart-card"><figcaption><h2>${title}</h2></figcaption>${children}</figure>`;
}

const barPaths = (size, align) => uPlot.paths.bars({ size: [size, 60], align });
const BARS = [[barPaths(0.7, 0)], [barPaths(0.4, -1), barPaths(0.4, 1)]];

const fromZero = { range: (_, min, max) => [0, Math.max(1, max * 1.1)] };

function tickLabel(label, count) {
  const text = String(label).split("@")[0];
  const room = count > 4 ? 7 : 14;
  return text.length > room ? `${text.slice(0, room - 1)}…` : text;
}

function categoryAxis(labels) {
  return { values: (_, ticks) => ticks.map((t) => (labels[t] === undefined ? "" : tickLabel(labels[t], labels.length))), space: 30, incrs: [1] };
}

function BarChart({ title, labels, series, emptyText }) {
  if (!labels.length) return html`<${Figure} title=${title}><${Empty}>${emptyText || "Nothing in this range."}</${Empty}></${Figure}>`;
  const xs = labels.map((_, i) => i);
  const palette = [color("--accent", "#d9480f"), color("--accent2", "#1c7ed6")];
  const options = {
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: fromZero },
    axes: [categoryAxis(labels), {}],
    series: [{}, ...series.map((s, i) => ({
      label: s.label, fill: palette[i], stroke: palette[i], paths: BARS[series.length - 1][i], points: { show: false },
    }))],
  };
  return html`<${Figure} title=${title}>
    ${series.length > 1 ? html`<p class="legend">${series.map((s, i) => html`<span class=${`key k${i + 1}`}></span> ${s.label} `)}</p>` : null}
    <${Chart} label=${`${title}: bar chart`} options=${options} data=${[xs, ...series.map((s) => s.values)]} />
    <${DataTable} head=${["", ...series.map((s) => s.label)]} rows=${labels.map((l, i) => [l, ...series.map((s) => s.values[i])])} />
  </${Figure}>`;
}

function Daily({ daily }) {
  if (!daily.length) return html`<${Figure} title="MTTA and MTTR per day"><${Empty}>No days in this range.</${Empty}></${Figure}>`;
  const xs = daily.map((d) => Date.parse(`${d.day}T12:00:00Z`) / 1000);
  const mins = (v) => (v === null || v === undefined ? null : v / 60);
  const options = {
    scales: { x: { time: true }, y: fromZero },
    axes: [{}, { values: (_, t) => t.map((v) => `${+v.toFixed(2)} min`), size: 80 }],
    series: [{}, { label: "MTTA (min)", stroke: color("--accent", "#d9480f"), width: 2, spanGaps: true, points: { show: true, size: 7 } },
      { label: "MTTR (min)", stroke: color("--accent2", "#1c7ed6"), width: 2, spanGaps: true, points: { show: true, size: 7 } }],
  };
  return html`<${Figure} title="MTTA and MTTR per day">
    <p class="legend"><span class="key k1"></span> MTTA <span class="key k2"></span> MTTR</p>
    <${Chart} label="MTTA and MTTR per day, in minutes: line chart" options=${options}
      data=${[xs, daily.map((d) => mins(d.mtta_seconds)), daily.map((d) => mins(d.mttr_seconds))]} />
    <${DataTable} head=${["Day", "Opened", "Acknowledged", "Resolved", "MTTA", "MTTR"]}
      rows=${daily.map((d) => [d.day, d.opened, d.acknowledged, d.resolved, duration(d.mtta_seconds), duration(d.mttr_seconds)])} />
  </${Figure}>`;
}

function short(seconds) {
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}
const bucketLabel = (b) => (b.le === null || b.le === undefined ? "more" : `≤${short(b.le)}`);

function Range({ since, until }) {
  const go = (s, u) => navigate(`/metrics-overview?since=${encodeURIComponent(s)}${u ? `&until=${encodeURIComponent(u)}` : ""}`);
  const day = (iso) => (iso ? iso.slice(0, 10) : "");
  return html`<form class="filters card" aria-label="Range" onSubmit=${(e) => e.preventDefault()}>
    <div class="actions" role="group" aria-label="Last">
      ${RANGES.map(([d, label]) => html`<button type="button" onClick=${() => go(daysAgo(Number(d)))}>Last ${label}</button>`)}
    </div>
    <${Field} label="From">${(id) => html`<input id=${id} type="date" value=${day(since)}
      onChange=${(e) => e.target.value && go(new Date(e.target.value).toISOString(), until)} />`}</${Field}>
    <${Field} label="To">${(id) => html`<input id=${id} type="date" value=${day(until)}
      onChange=${(e) => e.target.value && go(since, new Date(`${e.target.value}T23:59:59`).toISOString())} />`}</${Field}>
  </form>`;
}

export function Metrics({ search }) {
  useEffect(() => {
    document.title = "Metrics · Klaxon";
  }, []);
  const q = new URLSearchParams(search);
  const fallback = useMemo(() => daysAgo(30), []);
  const since = q.get("since") || fallback;
  const until = q.get("until") || "";
  const a = useData(() => optional("/api/v1/analytics", { since, until }), [since, until]);
  const d = a.data;
  return html`<h1>Metrics</h1>
    <${Range} since=${since} until=${until} />
    <${ErrorBox} error=${a.error} />
    ${a.loading && d === undefined ? html`<${Loading} />` : null}
    ${d === null ? html`<${Empty}>This platform has no analytics yet.</${Empty}>` : null}
    ${d ? html`<p>From ${fmt(d.since)} to ${fmt(d.until)}: MTTA <strong>${duration(d.mtta_seconds)}</strong>,
        MTTR <strong>${duration(d.mttr_seconds)}</strong>.</p>
      <div class="grid charts">
        <${Daily} daily=${d.daily || []} />
        <${BarChart} title="Time to acknowledge" labels=${(d.ack_time_buckets || []).map(bucketLabel)}
          series=${[{ label: "Incidents", values: (d.ack_time_buckets || []).map((b) => b.count) }]} />
        <${BarChart} title="Time to resolve" labels=${(d.resolve_time_buckets || []).map(bucketLabel)}
          series=${[{ label: "Incidents", values: (d.resolve_time_buckets || []).map((b) => b.count) }]} />
        <${BarChart} title="Incidents per service" labels=${(d.by_service || []).map((x) => x.service)}
          series=${[{ label: "Opened", values: (d.by_service || []).map((x) => x.opened) }]} />
        <${BarChart} title="Incidents per team" labels=${(d.by_team || []).map((x) => x.team || "no team")}
          series=${[{ label: "Opened", values: (d.by_team || []).map((x) => x.opened) }]} />
        <${BarChart} title="Pages per person" labels=${(d.pages_by_person || []).map((x) => x.recipient)}
          series=${[{ label: "Pages", values: (d.pages_by_person || []).map((x) => x.pages) },
            { label: "Night pages", values: (d.pages_by_person || []).map((x) => x.night_pages) }]} />
      </div>` : null}`;
}
