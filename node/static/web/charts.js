/* Draws every element with data-chart as an ECharts bar or line chart (tongban pages). */
(function () {
  "use strict";
  function draw(el) {
    var data = JSON.parse(el.getAttribute("data-chart"));
    var kind = el.getAttribute("data-kind") || "bar";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      title: { text: data.title, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 16, bottom: 64, top: 40 },
      xAxis: { type: "category", data: data.names, axisLabel: { interval: 0, rotate: data.names.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", axisLabel: { formatter: "{value}" + (data.unit || "") } },
      series: [{ name: data.title, type: kind, data: data.values, connectNulls: false,
                 itemStyle: { color: "#0b5cab" }, label: { show: kind === "bar", position: "top" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.querySelectorAll("[data-chart]").forEach(draw);
})();
