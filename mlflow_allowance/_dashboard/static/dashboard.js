/* mlflow-allowance dashboard: charts (uPlot), sortable and paginated tables. No network, no framework. */
(function () {
  "use strict";
  var COLORS = ["#1f6feb", "#d9480f", "#2f9e44", "#9c36b5", "#e8590c", "#0c8599", "#c2255c", "#5c940d"];
  window.allowanceCharts = {};

  function seriesOf(data) {
    var models = [];
    data.series.forEach(function (s) { if (models.indexOf(s.model) < 0) { models.push(s.model); } });
    return data.series.map(function (s) {
      var color = COLORS[models.indexOf(s.model) % COLORS.length];
      var holder = s.role === "holder";
      return {
        label: s.model + " (" + (s.role === "holder" ? "holder" : s.role + " the allowance") + ")",
        stroke: color,
        paths: function () { return null; },
        points: {
          show: true,
          size: holder ? 14 : 7,
          width: holder ? 3 : 1.5,
          stroke: holder ? "#111" : color,
          fill: s.role === "outside" ? "#fff" : color
        }
      };
    });
  }

  function drawChart(element, data) {
    var width = Math.max(320, Math.min(element.parentElement.clientWidth || 900, 1100));
    var options = {
      width: width,
      height: 260,
      scales: { x: { time: false } },
      axes: [
        { label: "registry version", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] },
        { label: data.metric }
      ],
      series: [{ label: "version" }].concat(seriesOf(data)),
      legend: { live: true },
      cursor: { drag: { x: true, y: false } }
    };
    var columns = [data.x].concat(data.series.map(function (s) { return s.values; }));
    return new uPlot(options, columns, element);
  }

  document.querySelectorAll("script.chart-data").forEach(function (node) {
    var data = JSON.parse(node.textContent);
    var element = document.querySelector('div.chart[data-env="' + node.dataset.env + '"]');
    if (element && data.points > 0) {
      window.allowanceCharts[node.dataset.env] = drawChart(element, data);
    }
  });

  /* Tables: each keeps its rows in memory ({cells, keys, className, node}) and shows one page of them;
     a click on a heading sorts them (again: the other way). The candidates tables come as JSON (large
     registries: only the page shown becomes DOM), the audit table as rendered rows. */
  function domRows(table) {
    return Array.prototype.map.call(table.tBodies[0].rows, function (row) {
      var cells = Array.prototype.map.call(row.cells, function (cell) { return cell.textContent.trim(); });
      var keys = Array.prototype.map.call(row.cells, function (cell, index) {
        return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cells[index];
      });
      return { cells: cells, keys: keys, className: row.className, node: row };
    });
  }

  function candidateRows(data) {
    return data.map(function (r) {
      var eligible = r[6] ? "yes" : "no";
      return {
        cells: [r[0], String(r[1]), r[2], r[5], eligible, r[7]],
        keys: [r[0], r[1], r[3], r[4], eligible, r[7]],
        className: (r[6] ? "eligible" : "ineligible") + (r[8] ? " holder-row" : ""),
        node: null
      };
    });
  }

  function nodeOf(item) {
    if (!item.node) {
      var row = document.createElement("tr");
      row.className = item.className;
      item.cells.forEach(function (text) {
        var cell = document.createElement("td");
        cell.textContent = text;
        row.appendChild(cell);
      });
      item.node = row;
    }
    return item.node;
  }

  function key(value, type) {
    if (value === null || value === undefined || value === "") { return null; }
    if (type === "number") {
      var number = typeof value === "number" ? value : parseFloat(value);
      return isNaN(number) ? null : number;
    }
    return String(value);
  }

  function compare(a, b, type) {
    if (type === "number") { return a - b; }
    return a.localeCompare(b, undefined, { numeric: true });
  }

  function setUp(table, rows) {
    var size = parseInt(table.dataset.pageSize || "0", 10) || rows.length || 1;
    var state = { page: 0 };
    var pager = document.createElement("div");
    pager.className = "pager";
    pager.innerHTML = '<button type="button" class="prev">&larr; previous</button> ' +
      '<span class="page-label"></span> <button type="button" class="next">next &rarr;</button>';
    table.parentNode.insertBefore(pager, table.nextSibling);

    function draw(page) {
      var pages = Math.max(1, Math.ceil(rows.length / size));
      state.page = Math.min(Math.max(page, 0), pages - 1);
      table.dataset.page = String(state.page);
      var fragment = document.createDocumentFragment();
      rows.slice(state.page * size, (state.page + 1) * size).forEach(function (item) {
        fragment.appendChild(nodeOf(item));
      });
      table.tBodies[0].replaceChildren(fragment);
      pager.querySelector(".page-label").textContent =
        "page " + (state.page + 1) + " of " + pages + " (" + rows.length + " rows)";
      pager.querySelector(".prev").disabled = state.page === 0;
      pager.querySelector(".next").disabled = state.page >= pages - 1;
      pager.hidden = pages === 1;
    }

    pager.querySelector(".prev").addEventListener("click", function () { draw(state.page - 1); });
    pager.querySelector(".next").addEventListener("click", function () { draw(state.page + 1); });

    var headings = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headings, function (th, column) {
      th.tabIndex = 0;
      th.title = "sort";
      function sort() {
        var type = th.dataset.type || "text";
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headings, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var keyed = rows.map(function (item, index) {
          return { item: item, key: key(item.keys[column], type), index: index };
        });
        keyed.sort(function (a, b) {
          if (a.key === null || b.key === null) {  // blanks last, whichever the direction
            return (a.key === null) - (b.key === null) || a.index - b.index;
          }
          return (ascending ? 1 : -1) * compare(a.key, b.key, type) || a.index - b.index;
        });
        rows = keyed.map(function (entry) { return entry.item; });
        draw(0);
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); }
      });
    });
    draw(0);
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    var rows;
    if (table.classList.contains("data")) {
      var source = document.querySelector('script.candidates-data[data-env="' + table.dataset.env + '"]');
      rows = candidateRows(source ? JSON.parse(source.textContent) : []);
    } else {
      rows = domRows(table);
    }
    setUp(table, rows);
  });
})();
