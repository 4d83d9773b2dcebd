// Test-only: injected into a copy of a proberows report (the report itself has no script).
// For every chart (svg.chart) it counts the data elements (.mark) and checks that every data
// element and every label lies inside the chart's box (1px tolerance), then writes one line
// per chart and a verdict into a pre element (id prw-measure) that `chromium --dump-dom` carries
// out.
(function () {
  var out = [], bad = 0, charts = document.querySelectorAll('svg.chart');
  for (var i = 0; i < charts.length; i++) {
    var svg = charts[i], box = svg.getBoundingClientRect();
    var title = svg.getAttribute('aria-label');
    var marks = svg.querySelectorAll('.mark'), texts = svg.querySelectorAll('text');
    var outside = [];
    var check = function (el, what) {
      var r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) return;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 ||
          r.bottom > box.bottom + 1)
        outside.push(what + ' "' + (el.textContent || el.tagName) + '"');
    };
    for (var m = 0; m < marks.length; m++) check(marks[m], 'mark');
    for (var t = 0; t < texts.length; t++) check(texts[t], 'label');
    var empty = marks.length === 0 || box.width < 50 || box.height < 50;
    if (empty || outside.length) bad++;
    out.push('chart "' + title + '": ' + marks.length + ' marks, ' + texts.length + ' labels, ' +
             Math.round(box.width) + 'x' + Math.round(box.height) +
             (empty ? ', EMPTY' : '') + (outside.length ? ', OUTSIDE: ' + outside.join('; ') : ''));
  }
  out.push('page ' + document.documentElement.scrollWidth + 'x' +
           document.documentElement.scrollHeight);
  out.push('charts ' + charts.length + ', bad ' + bad);
  var pre = document.createElement('pre');
  pre.id = 'prw-measure';
  pre.textContent = out.join('\n');
  document.body.appendChild(pre);
})();
