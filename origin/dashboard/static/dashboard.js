// The dashboard's only script: small enhancements of server-rendered pages (no build step).
// - [data-copy="#id"] buttons copy an element's text; forms with data-confirm ask first;
// - the usage page draws its series with uPlot; the uploads page sends files over TUS with
//   tus-js-client; the media page polls its asset's renditions while they are not finished.
// Script requests carry the session's CSRF token in X-CSRF-Token (from <meta name="csrf-token">).
'use strict';

(function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : '';

  function readJSON(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  document.querySelectorAll('[data-copy]').forEach((button) => {
    button.addEventListener('click', async () => {
      const target = document.querySelector(button.dataset.copy);
      if (!target) return;
      try {
        await navigator.clipboard.writeText(target.value !== undefined ? target.value : target.textContent);
        button.textContent = 'Copied';
      } catch (err) {
        button.textContent = 'Select and copy';
      }
    });
  });

  document.querySelectorAll('form[data-confirm]').forEach((form) => {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // -- usage charts ------------------------------------------------------------------------------
  // Axis labels as short as the totals above them: sizes for bytes (1 KB = 1000 B, as the totals),
  // k / M for counts; whole-number series get whole-number ticks only.
  const SIZE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];
  function sizeLabel(value) {
    let unit = 0;
    while (Math.abs(value) >= 1000 && unit < SIZE_UNITS.length - 1) {
      value /= 1000;
      unit += 1;
    }
    return `${unit ? +value.toFixed(1) : Math.round(value)} ${SIZE_UNITS[unit]}`;
  }
  function countLabel(value) {
    if (Math.abs(value) >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
    if (Math.abs(value) >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
    return `${+value.toFixed(1)}`;
  }
  const WHOLE_TICKS = [1, 2, 5].flatMap((step) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9].map((scale) => step * scale));
  WHOLE_TICKS.sort((a, b) => a - b);

  const usage = readJSON('usage-data');
  if (usage && window.uPlot) {
    for (const chart of usage.charts) {
      const el = document.querySelector(`[data-chart="${chart.id}"]`);
      if (!el) continue;
      const label = chart.unit === 'bytes' ? sizeLabel : countLabel;
      const axis = { size: 64, values: (plot, ticks) => ticks.map(label) };
      if (chart.whole) axis.incrs = WHOLE_TICKS;
      const options = {
        width: Math.max(280, el.clientWidth || 420),
        height: 180,
        legend: { show: false },
        scales: { x: { time: true } },
        series: [{}, { label: chart.title, stroke: '#2563eb', fill: 'rgba(37, 99, 235, 0.12)', width: 2 }],
        axes: [{}, axis],
      };
      new window.uPlot(options, [usage.days, chart.values], el);
      el.dataset.drawn = 'true';
    }
  }

  // -- uploads (TUS) -----------------------------------------------------------------------------
  const zone = document.getElementById('upload-zone');
  if (zone && window.tus) {
    const input = document.getElementById('upload-input');
    const list = document.getElementById('upload-list');
    const endpoint = zone.dataset.endpoint;
    const chunkSize = Number(zone.dataset.chunkSize) || 8 * 1024 * 1024;

    function row(file) {
      const item = document.createElement('li');
      item.className = 'upload';
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = file.name;
      const bar = document.createElement('progress');
      bar.max = 100;
      bar.value = 0;
      const pct = document.createElement('span');
      pct.className = 'pct';
      pct.textContent = '0 %';
      const state = document.createElement('span');
      state.className = 'state';
      const link = document.createElement('a');
      link.className = 'link';
      item.append(name, bar, pct, state, link);
      list.prepend(item);
      return { item, bar, pct, state, link };
    }

    function start(file) {
      const ui = row(file);
      const upload = new window.tus.Upload(file, {
        endpoint,
        chunkSize,
        retryDelays: [0, 1000, 3000, 5000],
        removeFingerprintOnSuccess: true,
        headers: { 'X-CSRF-Token': csrf },
        metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
        onProgress(sent, total) {
          const value = total ? Math.floor((sent / total) * 100) : 0;
          ui.bar.value = value;
          ui.pct.textContent = `${value} %`;
        },
        onSuccess(payload) {
          ui.bar.value = 100;
          ui.pct.textContent = '100 %';
          ui.state.textContent = 'uploaded';
          ui.item.dataset.state = 'done';
          const headers = payload && payload.lastResponse;
          const fileId = headers ? headers.getHeader('X-Mediaedge-File-Id') : null;
          if (fileId) {
            ui.item.dataset.fileId = fileId;
            ui.link.href = `/dashboard/media/${encodeURIComponent(fileId)}`;
            ui.link.textContent = 'open';
          }
        },
        onError(error) {
          ui.state.textContent = `failed: ${error && error.message ? error.message.split('\n')[0] : error}`;
          ui.item.dataset.state = 'failed';
        },
      });
      // Resume an interrupted upload of the same file (tus-js-client keeps its URL in localStorage).
      upload.findPreviousUploads().then((previous) => {
        if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      });
    }

    function take(files) {
      for (const file of files) start(file);
    }
    zone.addEventListener('dragover', (event) => { event.preventDefault(); zone.classList.add('over'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      zone.classList.remove('over');
      take(event.dataTransfer.files);
    });
    input.addEventListener('change', () => { take(input.files); input.value = ''; });
  }

  // -- media detail: live renditions -------------------------------------------------------------
  const live = document.getElementById('media-live');
  if (live) {
    const url = live.dataset.statusUrl;
    const tick = async () => {
      try {
        const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
        if (!response.ok) return;
        const data = await response.json();
        const status = document.getElementById('media-status');
        if (status) status.textContent = data.status;
        for (const r of data.renditions) {
          const cell = document.querySelector(`[data-rendition="${r.id}"]`);
          if (cell) cell.textContent = r.progress != null ? `${r.status} (${Math.round(r.progress)} %)` : r.status;
        }
        if (!data.final) setTimeout(tick, 2000);
      } catch (err) {
        setTimeout(tick, 5000);
      }
    };
    setTimeout(tick, 2000);
  }
}());
