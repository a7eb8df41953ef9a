// The regulator's charts (Chart.js, vendored UMD build: window.Chart). No animation, so a
// screenshot shows the finished chart.
import { t } from "./i18n.js";
import { catName, h, region } from "./ui.js";

const COLOURS = ["#b3261e", "#1f6feb", "#17643a", "#8a5a00", "#6f42c1", "#0b7285", "#c2255c", "#5c940d"];
const toYuan = (fen) => Number(fen) / 100;

function card(id, titleKey, config, note = null) {
  const canvas = h("canvas", { id, role: "img", "aria-label": t(titleKey) });
  const el = h("div", { class: "card", "data-chart": id }, h("h3", {}, t(titleKey)), note ? h("p", { class: "hint" }, note) : null, h("div", { style: "position:relative;height:240px" }, canvas));
  requestAnimationFrame(() => {
    // eslint-disable-next-line no-undef
    const chart = new Chart(canvas, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } });
    canvas.dataset.ready = String(chart.data.datasets.reduce((n, d) => n + d.data.length, 0));
  });
  return el;
}

// issued vs used per region and month (GET /audit/reports/monthly)
export function monthlyChart(monthly) {
  const labels = monthly.data.map((r) => `${r.month} · ${region(r.region)}`);
  return card("chart-monthly", "chart.monthly", {
    type: "bar",
    data: { labels, datasets: [
      { label: t("chart.issued"), data: monthly.data.map((r) => toYuan(r.issued)), backgroundColor: COLOURS[1] },
      { label: t("chart.used"), data: monthly.data.map((r) => toYuan(r.used)), backgroundColor: COLOURS[0] },
    ] },
    options: { scales: { y: { title: { display: true, text: "¥" } } } },
  });
}

// usage rate per issuer region (GET /audit/reports/summary → regions)
export function usageChart(summary) {
  return card("chart-usage", "chart.usage", {
    type: "bar",
    data: { labels: summary.regions.map((r) => region(r.region)), datasets: [
      { label: t("chart.usageRate"), data: summary.regions.map((r) => Math.round(r.usage_rate * 1000) / 10), backgroundColor: COLOURS[2] },
    ] },
    options: { scales: { y: { min: 0, max: 100, title: { display: true, text: "%" } } } },
  });
}

// issuer province → institution province, voucher value paid (GET /audit/reports/flows)
export function flowsChart(flows) {
  const rows = flows.data;
  return card("chart-flows", "chart.flows", {
    type: "bar",
    data: { labels: rows.map((r) => `${region(r.issuer_region)} → ${region(r.institution_region)}`), datasets: [
      { label: t("chart.voucherPaid"), data: rows.map((r) => toYuan(r.voucher_paid)), backgroundColor: rows.map((r) => (r.issuer_region === r.institution_region ? COLOURS[1] : COLOURS[0])) },
    ] },
    options: { indexAxis: "y", plugins: { legend: { display: false } } },
  }, t("chart.flowsNote"));
}

// what the money bought, by category (GET /audit/reports/categories)
export function categoriesChart(report, categories) {
  return card("chart-categories", "chart.categories", {
    type: "doughnut",
    data: { labels: report.data.map((r) => catName(categories[r.category] || { id: r.category, name: String(r.category) })), datasets: [
      { data: report.data.map((r) => toYuan(r.total_paid)), backgroundColor: COLOURS },
    ] },
  });
}

// seconds from order to delivery, to confirmation, to payment (GET /audit/reports/latency)
export function latencyChart(latency) {
  const stages = ["order_to_delivery", "delivery_to_confirmation", "confirmation_to_payment", "order_to_payment"];
  const most = Math.max(1, ...stages.map((s) => Number(latency[s].max)));
  const [unit, per] = most < 120 ? ["chart.seconds", 1] : most < 7200 ? ["chart.minutes", 60] : most < 172800 ? ["chart.hours", 3600] : ["chart.days", 86400];
  const scaled = (s) => Math.round((Number(s) / per) * 100) / 100;
  return card("chart-latency", "chart.latency", {
    type: "bar",
    data: { labels: stages.map((s) => t(`latency.${s}`)), datasets: ["mean", "p50", "p90"].map((k, i) => ({
      label: k, data: stages.map((s) => scaled(latency[s][k])), backgroundColor: COLOURS[i + 1],
    })) },
    options: { scales: { y: { title: { display: true, text: t(unit) } } } },
  }, t("chart.latencyNote", { n: latency.order_to_payment.count }));
}
