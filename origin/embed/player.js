// The embeddable player: plays the page's DASH stream (dash.js), its HLS stream (hls.js, or natively on
// Apple's WebKit) or its progressive file, applies the page's player theme (colours, logo, buttons),
// and speaks the postMessage API with the embedding page.
(() => {
  'use strict';
  const cfg = JSON.parse(document.getElementById('embed-config').textContent);
  const video = document.getElementById('video');
  const loader = document.getElementById('loader');
  const message = document.getElementById('message');
  const embedded = window.parent !== window;
  const MSE_PLAYERS = ['hls.js', 'dash.js'];
  // The theme's optional buttons and how the video element hides each one.
  const BUTTONS = {
    fullscreen: () => video.controlsList.add('nofullscreen'),
    download: () => video.controlsList.add('nodownload'),
    playback_rate: () => video.controlsList.add('noplaybackrate'),
    remote_playback: () => { video.controlsList.add('noremoteplayback'); video.disableRemotePlayback = true; },
    picture_in_picture: () => { video.disablePictureInPicture = true; },
  };
  let playerType = null;
  let readySent = false;
  let pendingSeek = null;

  function post(event, data) {
    if (embedded) window.parent.postMessage(Object.assign({ source: cfg.source, event }, data), '*');
  }

  function duration() {
    return Number.isFinite(video.duration) ? video.duration : (cfg.duration || 0);
  }

  function state() {
    return {
      playing: !video.paused && !video.ended,
      muted: video.muted,
      currentTime: video.currentTime,
      duration: duration(),
      volume: video.volume,
      ended: video.ended,
    };
  }

  function showMessage(text) {
    message.textContent = text;
    message.hidden = false;
    loader.hidden = true;
  }

  function fail(text) {
    showMessage(text);
    post('error', { message: text });
  }

  function play() {
    const attempt = video.play();
    return attempt ? attempt.catch((err) => {
      if (err.name !== 'NotAllowedError' || video.muted) return post('error', { message: err.message });
      video.muted = true; // browsers allow muted autoplay
      return video.play().catch((again) => post('error', { message: again.message }));
    }) : Promise.resolve();
  }

  function seek(value) {
    if (!Number.isFinite(value)) return;
    const target = Math.max(0, duration() ? Math.min(value, duration()) : value);
    if (video.readyState < 1) pendingSeek = target;
    else video.currentTime = target;
  }

  const actions = {
    play,
    pause: () => video.pause(),
    mute: () => { video.muted = true; },
    unmute: () => { video.muted = false; },
    toggleMute: () => { video.muted = !video.muted; },
    seek: (msg) => seek(Number(msg.value)),
    volume: (msg) => {
      const value = Number(msg.value);
      if (Number.isFinite(value)) video.volume = Math.min(1, Math.max(0, value));
    },
    getState: () => post('statechange', { state: state() }),
  };

  window.addEventListener('message', (e) => {
    const msg = e.data;
    if (e.source !== window.parent || !msg || typeof msg !== 'object') return;
    const action = Object.prototype.hasOwnProperty.call(actions, msg.action) ? actions[msg.action] : null;
    if (action) action(msg);
  });

  for (const name of ['play', 'pause', 'volumechange', 'seeked', 'ended']) {
    video.addEventListener(name, () => post('statechange', { state: state() }));
  }
  video.addEventListener('timeupdate', () => post('timeupdate', { currentTime: video.currentTime, duration: duration() }));
  video.addEventListener('ended', () => post('ended', {}));
  video.addEventListener('loadedmetadata', () => {
    if (pendingSeek !== null) { video.currentTime = pendingSeek; pendingSeek = null; }
    if (readySent) return;
    readySent = true;
    post('ready', { playerType, duration: duration() });
    if (cfg.autoplay) play();
  });
  video.addEventListener('error', () => {
    if (!MSE_PLAYERS.includes(playerType)) fail(video.error ? video.error.message || 'The media could not be played' : 'Playback error');
  });

  function setUpLoader() {
    const show = () => { loader.hidden = false; };
    const hide = () => { loader.hidden = true; };
    for (const name of ['loadstart', 'waiting', 'seeking']) video.addEventListener(name, show);
    for (const name of ['canplay', 'playing', 'seeked', 'pause', 'error']) video.addEventListener(name, hide);
  }

  function moveWatermark(mark) {
    mark.style.left = `${5 + Math.random() * 55}%`;
    mark.style.top = `${5 + Math.random() * 80}%`;
  }

  function setUpWatermark() {
    const mark = document.getElementById('watermark');
    mark.textContent = cfg.watermark;
    mark.hidden = false;
    moveWatermark(mark);
    setInterval(() => moveWatermark(mark), 5000);
  }

  function applyTheme(theme) {
    const root = document.documentElement.style;
    root.setProperty('--player-background', theme.colors.background);
    root.setProperty('--player-text', theme.colors.text);
    root.setProperty('--player-accent', theme.colors.accent);
    for (const [name, hide] of Object.entries(BUTTONS)) {
      if (!theme.buttons.includes(name)) hide();
    }
    if (theme.logo) {
      const logo = document.getElementById('logo');
      logo.className = theme.logoPosition;
      logo.addEventListener('load', () => { logo.hidden = false; }, { once: true });
      logo.src = theme.logo;
    }
  }

  function playProgressive() {
    playerType = 'progressive';
    video.src = cfg.mp4;
  }

  function playHlsJs() {
    playerType = 'hls.js';
    const hls = new window.Hls({ enableWorker: true });
    let mediaRecoveries = 0;
    hls.on(window.Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries++ < 2) {
        hls.recoverMediaError();
        return;
      }
      hls.destroy();
      if (cfg.mp4) {
        post('error', { message: `HLS playback failed (${data.details}); playing the original file` });
        playProgressive();
      } else {
        fail(`HLS playback failed: ${data.details}`);
      }
    });
    hls.attachMedia(video);
    hls.loadSource(cfg.hls);
  }

  function playDashJs() {
    playerType = 'dash.js';
    const dash = window.dashjs.MediaPlayer().create();
    dash.on(window.dashjs.MediaPlayer.events.ERROR, (event) => {
      const details = (event.error && (event.error.message || event.error.code)) || 'error';
      dash.reset();
      if (cfg.mp4) {
        post('error', { message: `DASH playback failed (${details}); playing the original file` });
        playProgressive();
      } else {
        fail(`DASH playback failed: ${details}`);
      }
    });
    dash.initialize(video, cfg.dash, false);
  }

  function start() {
    if (cfg.error) return fail(cfg.error);
    if (cfg.theme) applyTheme(cfg.theme);
    video.controls = cfg.controls;
    video.autoplay = cfg.autoplay;
    video.loop = cfg.loop;
    video.muted = cfg.muted;
    if (cfg.loader) setUpLoader();
    if (cfg.watermark) setUpWatermark();
    const native = cfg.hls && video.canPlayType('application/vnd.apple.mpegurl') !== '';
    const hlsJs = cfg.hls && window.Hls && window.Hls.isSupported();
    const mse = typeof window.MediaSource === 'function' || typeof window.ManagedMediaSource === 'function';
    if (cfg.dash && window.dashjs && mse) {
      playDashJs();
    } else if (native && (!hlsJs || navigator.vendor.startsWith('Apple'))) {
      playerType = 'native-hls';
      video.src = cfg.hls;
    } else if (hlsJs) {
      playHlsJs();
    } else if (cfg.mp4) {
      playProgressive();
    } else {
      fail('This browser cannot play this stream');
    }
  }

  start();
})();
