// nabla serve's page: plain JavaScript, no build step. Everything numeric
// comes from the server (nabla's own autodiff); this file only draws.
'use strict';

const $ = (id) => document.getElementById(id);
const PALETTE = [[242, 142, 43], [78, 121, 167], [89, 161, 79], [225, 87, 89], [176, 122, 161], [118, 183, 178]];
const TRAIN_KEYS = ['data', 'val', 'hidden', 'activation', 'init', 'dropout', 'optimizer', 'lr', 'momentum', 'schedule', 'batch', 'epochs', 'l1', 'l2', 'clip', 'seed'];
// Settings whose 0 means "off" or "the default": left out of the command then.
const ZERO_IS_DEFAULT = ['momentum', 'clip'];
const params = new URLSearchParams(location.search);
let options = null;

function setURL() {
  history.replaceState(null, '', '?' + params.toString());
}

function fmt(v, d = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4)) return v.toExponential(2);
  return (+v).toFixed(d);
}

function b64bytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// stream reads a server-sent event stream with fetch (unlike EventSource,
// it sees a 400's one-line reason), calling on[event](data).
async function stream(url, on, signal) {
  const res = await fetch(url, { signal });
  if (!res.ok) throw new Error((await res.text()).trim() || res.statusText);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let ev = 'message', data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) ev = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data && on[ev]) on[ev](JSON.parse(data));
    }
  }
}

async function control(id, action) {
  const body = new URLSearchParams({ id, action });
  const res = await fetch('/api/control', { method: 'POST', body });
  if (!res.ok && res.status !== 404) throw new Error(await res.text());
}

// ---------------------------------------------------------------- views

function showView(name) {
  for (const v of ['playground', 'stepper', 'activations', 'cnn']) {
    $('view-' + v).hidden = v !== name;
    $('tab-' + v).classList.toggle('active', v === name);
  }
  params.set('view', name);
  setURL();
  if (name === 'stepper') Stepper.init();
  if (name === 'activations') Acts.init();
  if (name === 'playground') Play.init();
  if (name === 'cnn') Cnn.init();
}

// ----------------------------------------------------------- playground

const Play = {
  started: false, abort: null, id: null, info: null, state: 'idle', epochs: [], points: [], lastFrame: null,

  init() {
    if (this.started) return;
    this.started = true;
    const f = $('pg-form');
    const fill = (name, list) => {
      const s = f.querySelector(`[name=${name}]`);
      s.innerHTML = list.map((v) => `<option>${v}</option>`).join('');
    };
    fill('data', options.data);
    fill('activation', options.activations);
    fill('init', options.inits);
    fill('optimizer', options.optimizers);
    fill('schedule', options.schedules);
    // Page defaults: a small net that trains visibly (the command shows them all).
    const defaults = { data: 'spiral', activation: 'tanh', init: 'default', optimizer: 'adam', schedule: 'constant' };
    for (const [k, v] of Object.entries(defaults)) f.querySelector(`[name=${k}]`).value = v;
    for (const el of f.querySelectorAll('[name]')) {
      if (params.has(el.name)) el.value = params.get(el.name);
      el.addEventListener('change', () => {
        if (el.name === 'data') { params.delete('noise'); params.delete('pts'); this.points = []; this.setNoise(); }
        this.saveForm();
        this.connect(false);
      });
    }
    this.setNoise();
    this.points = (params.get('pts') || '').split(';').filter(Boolean).map((s) => s.split(',').map(Number));
    $('play').onclick = () => this.play();
    $('step').onclick = () => this.step();
    $('reset').onclick = () => this.connect(false);
    $('clear-points').onclick = () => { this.points = []; this.saveForm(); this.connect(false); };
    $('points').addEventListener('click', (e) => this.addPoint(e));
    this.saveForm();
    this.connect(params.get('autoplay') === '1');
  },

  setNoise() {
    const f = $('pg-form');
    const d = f.querySelector('[name=data]').value;
    f.querySelector('[name=noise]').value = params.get('noise') ?? options.noise[d];
  },

  saveForm() {
    const f = $('pg-form');
    for (const el of f.querySelectorAll('[name]')) params.set(el.name, el.value);
    const d = f.querySelector('[name=data]').value;
    if (+params.get('noise') === options.noise[d]) params.delete('noise');
    if (this.points.length) params.set('pts', this.points.map((p) => p.join(',')).join(';'));
    else params.delete('pts');
    setURL();
  },

  query(autoplay) {
    const q = new URLSearchParams();
    for (const k of TRAIN_KEYS) {
      if (params.get(k) && !(ZERO_IS_DEFAULT.includes(k) && +params.get(k) === 0)) q.set(k, params.get(k));
    }
    for (const k of ['noise', 'pts', 'rate']) if (params.get(k)) q.set(k, params.get(k));
    q.set('neurons', '16');
    if (autoplay) q.set('autoplay', '1');
    return q;
  },

  connect(autoplay) {
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    this.id = null; this.epochs = []; this.state = 'connecting';
    $('warning').hidden = true;
    $('status').textContent = 'connecting…';
    for (const id of ['epoch', 'stepno']) $(id).textContent = '0';
    for (const id of ['train-loss', 'train-acc', 'test-loss', 'test-acc']) $(id).textContent = '–';
    this.drawCurves();
    const on = {
      queued: (d) => { $('status').textContent = `waiting for a free training slot (${d.waiting} waiting, ${d.trainings} at once)`; },
      init: (d) => this.onInit(d),
      frame: (d) => this.onFrame(d),
      epoch: (d) => this.onEpoch(d),
      state: (d) => this.onState(d),
      warning: (d) => this.warn(d.message),
    };
    const ctl = this.abort;
    stream('/api/train?' + this.query(autoplay), on, ctl.signal).then(() => {
      if (!ctl.signal.aborted && this.state !== 'idle') { $('status').textContent = 'the server ended this training'; this.state = 'ended'; }
    }, (err) => {
      if (ctl.signal.aborted) return;
      this.state = 'error';
      this.warn(err.message);
      $('status').textContent = 'not started';
    });
  },

  onInit(d) {
    this.id = d.id; this.info = d;
    document.body.dataset.session = d.id;
    $('command').textContent = d.command;
    $('command-note').textContent = d.exact ? 'same seed, same bits: this command trains the same network' : d.note;
    this.drawPoints();
  },

  onState(d) {
    this.state = d.state;
    const msg = { paused: 'paused', running: 'training…', done: 'done: ' + d.message, limit: d.message, diverged: d.message, idle: d.message, error: d.message }[d.state];
    $('status').textContent = msg;
    document.body.dataset.state = d.state;
    $('play').textContent = d.state === 'running' ? '❚❚ pause' : '▶ play';
    if (d.state === 'diverged' || d.state === 'error') this.warn(d.message);
  },

  warn(msg) { $('warning').hidden = false; $('warning').textContent = msg; },

  play() {
    if (this.state === 'running') return control(this.id, 'pause');
    if (!this.id || ['done', 'limit', 'diverged', 'idle', 'ended', 'error'].includes(this.state)) return this.connect(true);
    return control(this.id, 'play');
  },

  step() {
    if (this.id && this.state === 'paused') control(this.id, 'step');
  },

  onEpoch(m) {
    this.epochs.push(m);
    $('epoch').textContent = m.epoch;
    $('train-loss').textContent = fmt(m.train_loss);
    $('train-acc').textContent = fmt(100 * m.train_acc, 1) + '%';
    if (m.val_loss !== undefined) {
      $('test-loss').textContent = fmt(m.val_loss);
      $('test-acc').textContent = fmt(100 * m.val_acc, 1) + '%';
    }
    this.drawCurves();
  },

  onFrame(d) {
    this.lastFrame = d;
    $('stepno').textContent = d.step;
    const g = this.info.grid;
    const cls = b64bytes(d.cls), conf = b64bytes(d.conf);
    const cv = $('boundary'), ctx = cv.getContext('2d');
    const cell = cv.width / g;
    for (let j = 0; j < g; j++) {
      for (let i = 0; i < g; i++) {
        const k = j * g + i;
        const a = 0.15 + 0.6 * conf[k] / 255;
        const c = PALETTE[cls[k] % PALETTE.length];
        ctx.fillStyle = `rgb(${Math.round(255 + a * (c[0] - 255))},${Math.round(255 + a * (c[1] - 255))},${Math.round(255 + a * (c[2] - 255))})`;
        ctx.fillRect(Math.floor(i * cell), Math.floor(j * cell), Math.ceil(cell), Math.ceil(cell));
      }
    }
    this.drawNeurons(d.neurons);
    this.drawLayers(d.layers || []);
  },

  toPixel(x, y) {
    const { lo, hi } = this.info, w = $('points').width;
    return [(x - lo[0]) / (hi[0] - lo[0]) * w, (hi[1] - y) / (hi[1] - lo[1]) * w];
  },

  drawPoints() {
    const cv = $('points'), ctx = cv.getContext('2d');
    ctx.clearRect(0, 0, cv.width, cv.height);
    const dot = (p, test) => {
      const [px, py] = this.toPixel(p.X, p.Y);
      const c = PALETTE[p.C % PALETTE.length];
      ctx.beginPath();
      ctx.arc(px, py, 2.5, 0, 2 * Math.PI);
      ctx.fillStyle = test ? '#fff' : `rgb(${c})`;
      ctx.strokeStyle = test ? `rgb(${c})` : '#fff';
      ctx.lineWidth = test ? 1.5 : 0.7;
      ctx.fill(); ctx.stroke();
    };
    this.info.train.forEach((p) => dot(p, false));
    this.info.test.forEach((p) => dot(p, true));
  },

  addPoint(e) {
    if (!this.info) return;
    const r = $('points').getBoundingClientRect(), w = $('points').width;
    const { lo, hi } = this.info;
    const x = lo[0] + (e.clientX - r.left) / w * (hi[0] - lo[0]);
    const y = hi[1] - (e.clientY - r.top) / w * (hi[1] - lo[1]);
    const c = Math.min(+$('click-class').value, this.info.classes - 1);
    if (this.points.length >= options.limits.points) return this.warn(`at most ${options.limits.points} added points`);
    this.points.push([+x.toFixed(3), +y.toFixed(3), c]);
    this.saveForm();
    this.connect(false);
  },

  drawCurves() {
    const cv = $('curves'), ctx = cv.getContext('2d'), W = cv.width, H = cv.height;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
    const e = this.epochs;
    if (!e.length) return;
    const n = Math.max(+params.get('epochs') || e.length, e.length);
    const maxLoss = Math.max(...e.map((m) => Math.max(m.train_loss, m.val_loss ?? 0)), 1e-9);
    const line = (vals, top, color, alpha) => {
      ctx.strokeStyle = color; ctx.globalAlpha = alpha; ctx.lineWidth = 1.5;
      ctx.beginPath();
      vals.forEach((v, i) => {
        const x = 4 + (W - 8) * (i + 1) / n, y = H - 4 - (H - 8) * v / top;
        i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
      });
      ctx.stroke(); ctx.globalAlpha = 1;
    };
    line(e.map((m) => m.train_loss), maxLoss, '#4e79a7', 1);
    line(e.map((m) => m.train_acc), 1, '#4e79a7', 0.4);
    if (e[0].val_loss !== undefined) {
      line(e.map((m) => m.val_loss), maxLoss, '#e15759', 1);
      line(e.map((m) => m.val_acc), 1, '#e15759', 0.4);
    }
    ctx.fillStyle = '#555'; ctx.font = '10px system-ui';
    ctx.fillText(`loss 0–${fmt(maxLoss, 2)}, accuracy 0–100%, epochs 1–${n}`, 6, 12);
  },

  drawNeurons(maps) {
    const box = $('neurons');
    box.innerHTML = '';
    const g = this.info.grid;
    let row = null, layer = -1;
    for (const m of maps || []) {
      if (m.layer !== layer) {
        layer = m.layer;
        row = document.createElement('div');
        row.className = 'layer';
        row.innerHTML = `<span class="muted">layer ${layer + 1}</span>`;
        box.appendChild(row);
      }
      const cv = document.createElement('canvas');
      cv.width = cv.height = g;
      cv.style.width = cv.style.height = '50px';
      cv.title = `layer ${layer + 1}, unit ${m.unit + 1}: ${fmt(m.Lo, 2)} (blue) to ${fmt(m.Hi, 2)} (orange)`;
      const img = cv.getContext('2d').createImageData(g, g);
      const b = b64bytes(m.map);
      for (let k = 0; k < b.length; k++) {
        const t = b[k] / 255 * 2 - 1; // −1 blue … 0 white … 1 orange
        const c = t < 0 ? [78, 121, 167] : [242, 142, 43], a = Math.abs(t);
        img.data[4 * k] = 255 + a * (c[0] - 255);
        img.data[4 * k + 1] = 255 + a * (c[1] - 255);
        img.data[4 * k + 2] = 255 + a * (c[2] - 255);
        img.data[4 * k + 3] = 255;
      }
      cv.getContext('2d').putImageData(img, 0, 0);
      row.appendChild(cv);
    }
  },

  // drawLayers fills a table of the layers' statistics; a fused layer (its
  // output computed with the next one's) is shown only where it has weights.
  drawLayers(layers, tbody = document.querySelector('#layers tbody')) {
    const rows = layers.filter((l) => !l.fused || l.weight_grad_norm !== undefined).map((l) => {
      const ds = l.dead !== undefined ? `dead ${fmt(100 * l.dead, 1)}%` : l.saturated !== undefined ? `sat. ${fmt(100 * l.saturated, 1)}%` : '';
      return `<tr><td>${l.path} ${l.layer}</td><td>${l.weight_grad_norm !== undefined ? fmt(l.weight_grad_norm) : ''}</td>` +
        `<td>${l.update_ratio !== undefined ? fmt(l.update_ratio) : ''}</td><td>${l.fused ? '(fused)' : fmt(l.out_grad_norm)}</td><td>${ds}</td></tr>`;
    });
    tbody.innerHTML = rows.join('');
  },
};

// -------------------------------------------------------- chain rule

const Stepper = {
  started: false, g: null, k: 0, selected: null, jac: null,

  init() {
    if (this.started) return;
    this.started = true;
    fetch('/api/graph').then((r) => r.json()).then((d) => {
      this.examples = d.examples;
      $('st-example').innerHTML = d.examples.map((e, i) => `<option value="${i}">${e.Name}</option>`).join('');
      const ex = d.examples.findIndex((e) => e.Expr === params.get('expr'));
      if (ex >= 0) $('st-example').value = ex;
      $('st-expr').value = params.get('expr') ?? d.examples[0].Expr;
      $('st-vars').value = params.get('vars') ?? d.examples[0].Vars;
      const k = +(params.get('bstep') || 0);
      this.compute(k);
    });
    $('st-example').onchange = () => {
      const e = this.examples[+$('st-example').value];
      $('st-expr').value = e.Expr; $('st-vars').value = e.Vars;
      this.compute(0);
    };
    $('st-compute').onclick = () => this.compute(0);
    $('st-back').onclick = () => this.go(this.k + 1);
    $('st-all').onclick = () => this.g && this.go(this.g.backward.length);
    $('st-restart').onclick = () => this.go(0);
  },

  async compute(k) {
    params.set('expr', $('st-expr').value);
    params.set('vars', $('st-vars').value);
    const q = new URLSearchParams({ expr: $('st-expr').value, vars: $('st-vars').value });
    const res = await fetch('/api/graph?' + q);
    if (!res.ok) {
      $('st-error').hidden = false;
      $('st-error').textContent = (await res.text()).trim();
      return;
    }
    $('st-error').hidden = true;
    this.g = await res.json();
    this.selected = null; this.jac = null;
    this.layout();
    this.go(k);
  },

  go(k) {
    if (!this.g) return;
    this.k = Math.max(0, Math.min(k, this.g.backward.length));
    this.jac = null;
    params.set('bstep', this.k);
    setURL();
    this.draw();
    this.explain();
    this.grads();
  },

  // done: the ops whose backward step has run.
  done() { return new Set(this.g.backward.slice(0, this.k)); },

  // gradKnown: a node's gradient is complete once every op using it ran.
  gradKnown(id) {
    if (id === this.g.output) return true;
    const users = this.g.nodes.filter((n) => n.inputs.includes(id));
    const done = this.done();
    return users.length > 0 && users.every((u) => done.has(u.id));
  },

  // layout places each op one column right of its deepest input, and each
  // variable or constant one column left of its first user, so that the
  // edges stay short; the drawing grows with the graph.
  layout() {
    const nodes = this.g.nodes, depth = [];
    for (const n of nodes) depth[n.id] = n.inputs.length ? 1 + Math.max(...n.inputs.map((i) => depth[i])) : 0;
    for (const n of nodes) {
      if (n.inputs.length) continue;
      const users = nodes.filter((u) => u.inputs.includes(n.id));
      if (users.length) depth[n.id] = Math.min(...users.map((u) => depth[u.id])) - 1;
    }
    const cols = [];
    for (const n of nodes) (cols[depth[n.id]] ||= []).push(n.id);
    for (let d = 0; d < cols.length; d++) cols[d] ||= [];
    const rows = Math.max(...cols.map((c) => c.length));
    const colW = 155, rowH = 70;
    const W = Math.max(600, 20 + cols.length * colW), H = Math.max(160, rows * rowH + 20);
    const svg = $('st-graph');
    svg.setAttribute('width', W);
    svg.setAttribute('height', H);
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.pos = [];
    cols.forEach((c, d) => c.forEach((id, r) => {
      const off = (rows - c.length) * rowH / 2;
      this.pos[id] = [10 + d * colW, 12 + off + r * rowH];
    }));
  },

  vec(v, d = 3, items = 6) {
    if (v.length === 1) return fmt(v[0], d);
    const s = v.slice(0, items).map((x) => fmt(x, d)).join(', ');
    return `[${s}${v.length > items ? ', …' : ''}]`;
  },

  draw() {
    const svg = $('st-graph'), done = this.done(), cur = this.k > 0 ? this.g.backward[this.k - 1] : null;
    const bw = 120, bh = 50;
    let h = '<defs><marker id="arr" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#90a4ae"/></marker></defs>';
    for (const n of this.g.nodes) {
      n.inputs.forEach((from, e) => {
        const [x1, y1] = this.pos[from], [x2, y2] = this.pos[n.id];
        const isCur = n.id === cur;
        h += `<path class="edge${isCur ? ' current' : ''}" marker-end="url(#arr)" d="M${x1 + bw},${y1 + bh / 2} C${(x1 + bw + x2) / 2},${y1 + bh / 2} ${(x1 + bw + x2) / 2},${y2 + bh / 2} ${x2},${y2 + bh / 2}"/>`;
        if (done.has(n.id) && !n.edges[e].const) {
          // Beside the arrow's head: what this edge sends back.
          h += `<text class="elabel" text-anchor="end" x="${x2 - 4}" y="${y2 + bh / 2 - 5 + e * 12}">${this.vec(n.edges[e].downstream, 2, 3)}</text>`;
        }
      });
    }
    for (const n of this.g.nodes) {
      const [x, y] = this.pos[n.id];
      const cls = ['node', n.op === 'var' ? 'var' : '', n.id === cur ? 'current' : '', n.id === this.selected ? 'selected' : ''].join(' ');
      const grad = this.gradKnown(n.id) && (this.k > 0 || n.id === this.g.output) ? `∂f = ${this.vec(n.grad, 2, 3)}` : '';
      h += `<g class="${cls}" data-id="${n.id}" style="cursor:pointer"><rect x="${x}" y="${y}" width="${bw}" height="${bh}"/>` +
        `<text x="${x + 5}" y="${y + 13}"><tspan font-weight="bold">${n.label}</tspan> <tspan class="muted">${n.shape.length ? '[' + n.shape.join('×') + ']' : ''}</tspan></text>` +
        `<text class="val" x="${x + 5}" y="${y + 28}">${this.vec(n.value, 2, 3)}</text>` +
        `<text class="grad" x="${x + 5}" y="${y + 43}">${grad}</text></g>`;
    }
    svg.innerHTML = h;
    for (const g of svg.querySelectorAll('.node')) g.onclick = () => { this.selected = +g.dataset.id; this.draw(); this.nodeInfo(); };
  },

  explain() {
    const box = $('st-explain');
    const n = this.g.backward.length;
    if (this.k === 0) {
      box.innerHTML = `<p><b>Forward pass done</b> (values in green). f = ${fmt(this.g.nodes[this.g.output].value[0], 4)}.</p>` +
        `<p>The backward pass starts at the output with ∂f/∂f = 1 and visits the ${n} ops in reverse order. Press <i>back one op</i>.</p>`;
      return;
    }
    const op = this.g.nodes[this.g.backward[this.k - 1]];
    let h = `<p><b>step ${this.k} of ${n}: the ${op.label} node</b> (#${op.id}). Its upstream gradient ∂f/∂out = <span class="eq">${this.vec(op.grad, 4)}</span></p>`;
    op.edges.forEach((e, i) => {
      const from = this.g.nodes[e.from];
      h += `<div class="eq">to ${from.label} (#${from.id}): `;
      if (e.const) {
        h += 'a constant: the backward pass sends it nothing</div>';
        return;
      }
      if (e.local) {
        h += `upstream ${this.vec(op.grad, 4)} × local ∂out/∂in ${this.vec(e.local, 4)} = downstream ${this.vec(e.downstream, 4)}`;
        if (op.grad.length > 1 && e.local.length === op.grad.length) h += ' (element by element)';
      } else {
        h += `downstream = upstreamᵀ·J = ${this.vec(e.downstream, 4)}, J being ${e.jacobian_dim[0]}×${e.jacobian_dim[1]}`;
      }
      h += ` <button data-edge="${i}">Jacobian</button></div>`;
    });
    if (this.jac !== null) {
      const e = op.edges[this.jac], [m, k] = e.jacobian_dim;
      h += `<p>∂out/∂in of this edge, ${m}×${k} (rows: the ${m} outputs, columns: the ${k} inputs), built by <code>ag.Jacobian</code> one VJP per row:</p>`;
      if (e.jacobian) {
        let s = '';
        for (let r = 0; r < m; r++) s += e.jacobian.slice(r * k, (r + 1) * k).map((v) => fmt(v, 4).padStart(9)).join(' ') + '\n';
        h += `<div class="jac">${s}</div>`;
      } else h += '<p>(too large to send)</p>';
      h += `<p>The backward pass never builds it: the op's VJP maps the ${m} upstream numbers straight to the ${k} downstream ones` +
        (e.local && m > 1 ? `, here by an element-wise product (J is diagonal: ${m * k - m} of its ${m * k} entries are zero)` : '') +
        `. Building J costs ${m} backward passes and ${m * k} numbers; one VJP costs about one pass, which is why training computes gradients of a million parameters at the price of a forward pass.</p>`;
    }
    box.innerHTML = h;
    for (const b of box.querySelectorAll('button[data-edge]')) b.onclick = () => { this.jac = +b.dataset.edge; this.explain(); };
  },

  grads() {
    const vars = this.g.nodes.filter((n) => n.op === 'var');
    $('st-grads').innerHTML = vars.map((v) => {
      if (!this.gradKnown(v.id) || this.k === 0) return `<div>d${v.label} = <span class="muted">not reached yet</span></div>`;
      return `<div class="var-grad" data-name="${v.label}"><b>d${v.label} = [${v.grad.map((x) => x.toFixed(2)).join(', ')}]</b> ` +
        `<span class="muted">analytic ${this.vec(v.grad, 6)}, numerical ${this.vec(v.num_grad, 6)}, relative error ${v.rel_err.toExponential(1)}</span></div>`;
    }).join('');
  },

  nodeInfo() {
    const n = this.g.nodes[this.selected];
    $('st-node').innerHTML = `<b>${n.label}</b> (#${n.id}, ${n.op}, shape [${n.shape.join('×')}])<br>value ${this.vec(n.value, 5)}<br>` +
      (this.gradKnown(n.id) && this.k > 0 ? `∂f/∂${n.label} ${this.vec(n.grad, 5)}` : 'gradient: not reached yet');
  },
};

// -------------------------------------------------------- activations

const Acts = {
  started: false, data: null, abort: null,
  COLORS: ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f'],

  init() {
    if (this.started) return;
    this.started = true;
    fetch('/api/activations').then((r) => r.json()).then((d) => {
      this.data = d;
      const on = (params.get('acts') || 'relu,sigmoid,tanh').split(',');
      $('act-list').innerHTML = d.activations.map((a, i) =>
        `<label style="color:${this.COLORS[i % 9]}"><input type="checkbox" value="${a.name}" ${on.includes(a.name) ? 'checked' : ''}>${a.name}</label>`).join('');
      for (const c of $('act-list').querySelectorAll('input')) c.onchange = () => { this.save(); this.plot(); };
      this.plot();
    });
    $('act-plot').addEventListener('mousemove', (e) => this.hover(e));
    $('deep-setup').innerHTML = options.vanishing.map((s, i) => `<option value="${i}">${s.Label}</option>`).join('');
    if (params.has('setup')) $('deep-setup').value = params.get('setup');
    $('deep-setup').onchange = () => { params.set('setup', $('deep-setup').value); setURL(); };
    $('deep-play').onclick = () => this.train();
    $('deep-stop').onclick = () => { if (this.abort) this.abort.abort(); $('deep-status').textContent = 'stopped'; };
  },

  save() {
    params.set('acts', this.checked().join(','));
    setURL();
  },

  checked() { return [...$('act-list').querySelectorAll('input:checked')].map((c) => c.value); },

  geom() { const cv = $('act-plot'); return { cv, W: cv.width, H: cv.height, x0: -5, x1: 5, y0: -1.5, y1: 3 }; },

  plot() {
    const { cv, W, H, x0, x1, y0, y1 } = this.geom(), ctx = cv.getContext('2d');
    const px = (x) => (x - x0) / (x1 - x0) * W, py = (y) => H - (y - y0) / (y1 - y0) * H;
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = '#ccc'; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(0, py(0)); ctx.lineTo(W, py(0)); ctx.moveTo(px(0), 0); ctx.lineTo(px(0), H); ctx.stroke();
    ctx.fillStyle = '#888'; ctx.font = '10px system-ui';
    for (let t = -4; t <= 4; t += 2) ctx.fillText(t, px(t) + 2, py(0) + 11);
    for (let t = -1; t <= 3; t++) if (t) ctx.fillText(t, px(0) + 3, py(t) + 3);
    const on = this.checked(), xs = this.data.x;
    this.data.activations.forEach((a, i) => {
      if (!on.includes(a.name)) return;
      ctx.strokeStyle = this.COLORS[i % 9];
      for (const [ys, dash] of [[a.y, []], [a.dy, [4, 3]]]) {
        ctx.setLineDash(dash); ctx.lineWidth = 2;
        ctx.beginPath();
        xs.forEach((x, k) => (k ? ctx.lineTo(px(x), py(ys[k])) : ctx.moveTo(px(x), py(ys[k]))));
        ctx.stroke();
      }
      ctx.setLineDash([]);
    });
  },

  hover(e) {
    if (!this.data) return;
    const { cv, W, x0, x1 } = this.geom(), r = cv.getBoundingClientRect();
    const x = x0 + (e.clientX - r.left) / W * (x1 - x0), xs = this.data.x;
    const k = Math.max(0, Math.min(xs.length - 1, Math.round((x - xs[0]) / (xs[1] - xs[0]))));
    const on = this.checked();
    $('act-hover').innerHTML = `x = ${fmt(xs[k], 3)}: ` + this.data.activations.filter((a) => on.includes(a.name))
      .map((a) => `${a.name} ${fmt(a.y[k], 4)}, ${a.name}′ ${fmt(a.dy[k], 4)}`).join(' · ');
  },

  train() {
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    const s = options.vanishing[+$('deep-setup').value];
    const q = new URLSearchParams({
      data: 'spiral', hidden: Array(10).fill(64).join(','), activation: s.Activation, init: s.Init,
      optimizer: 'momentum', lr: '0.05', batch: '32', schedule: 'constant', epochs: '40', seed: '1',
      neurons: '0', rate: '80', autoplay: '1',
    });
    $('deep-status').textContent = 'starting…';
    this.history = [];
    let info = null;
    stream('/api/train?' + q, {
      init: (d) => { info = d; $('deep-command').textContent = d.command; },
      queued: () => { $('deep-status').textContent = 'waiting for a free training slot'; },
      frame: (d) => this.hists(d),
      epoch: (m) => { $('deep-status').textContent = `epoch ${m.epoch}/${info.epochs}: loss ${fmt(m.train_loss)}, accuracy ${fmt(100 * m.train_acc, 1)}%`; },
      state: (d) => { if (d.state !== 'running') $('deep-status').textContent = d.state + (d.message ? ': ' + d.message : ''); },
      warning: (d) => { $('deep-status').textContent = d.message; },
    }, this.abort.signal).catch((err) => { if (!this.abort.signal.aborted) $('deep-status').textContent = err.message; });
  },

  // hists draws each activation layer's histogram now, and under it how
  // the histogram evolved: one column per frame, darker for more values.
  hists(d) {
    const box = $('deep-hists');
    const layers = (d.layers || []).filter((l) => l.kind !== 'linear' && !l.fused && l.hist.counts);
    if (!layers.length) return;
    this.history ||= [];
    box.innerHTML = '';
    layers.forEach((l, i) => {
      const h = (this.history[i] ||= []);
      if (h.length >= 130) h.shift();
      h.push(l.hist.counts);
      const f = document.createElement('figure');
      const cv = document.createElement('canvas');
      cv.width = 130; cv.height = 60;
      const ctx = cv.getContext('2d'), c = l.hist.counts, total = c.reduce((a, b) => a + b, 0) + l.hist.below + l.hist.above;
      const top = Math.max(...c, 1);
      ctx.fillStyle = '#4e79a7';
      c.forEach((v, k) => { const h = 56 * v / top; ctx.fillRect(k * 130 / c.length, 58 - h, 130 / c.length - 1, h); });
      const note = l.dead !== undefined ? `dead ${fmt(100 * l.dead, 0)}%` : l.saturated !== undefined ? `saturated ${fmt(100 * l.saturated, 0)}%` : `std ${fmt(l.std, 2)}`;
      f.appendChild(cv);
      const ev = document.createElement('canvas');
      ev.width = 130; ev.height = c.length * 2;
      ev.className = 'evolution';
      ev.title = `layer ${i + 1}: the histogram over time (left: first frame, right: now; top: ${l.hist.hi}, bottom: ${l.hist.lo})`;
      const ex = ev.getContext('2d');
      const cw = ev.width / h.length; // the strip always spans the run so far
      h.forEach((counts, x) => {
        const m = Math.max(...counts, 1);
        counts.forEach((v, k) => {
          ex.fillStyle = `rgba(78,121,167,${v / m})`;
          ex.fillRect(Math.floor(x * cw), (c.length - 1 - k) * 2, Math.ceil(cw), 2);
        });
      });
      f.appendChild(ev);
      f.insertAdjacentHTML('beforeend', `<figcaption>layer ${i + 1} ${l.kind}: ${note}<br>[${l.hist.lo}, ${l.hist.hi}], ${total} values</figcaption>`);
      box.appendChild(f);
    });
  },
};

// ---------------------------------------------------------------- CNN

// The CNN view's settings live in the URL as c-NAME (the playground's own
// names are taken), the test image as img.
const CNN_KEYS = ['data', 'arch', 'optimizer', 'lr', 'schedule', 'batch', 'epochs', 'seed', 'rate', 'maps'];
const THUMBS = 20;

// drawBytes draws bytes (0…255, rows from the top) as a w×h grey image.
function drawBytes(cv, bytes, w, h, colour = (v) => [v, v, v]) {
  cv.width = w; cv.height = h;
  const ctx = cv.getContext('2d'), img = ctx.createImageData(w, h);
  for (let k = 0; k < w * h; k++) {
    const [r, g, b] = colour(bytes[k]);
    img.data[4 * k] = r; img.data[4 * k + 1] = g; img.data[4 * k + 2] = b; img.data[4 * k + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// drawDiverging draws values on one scale: −scale blue, 0 white, +scale orange.
function drawDiverging(cv, vals, w, h, scale) {
  cv.width = w; cv.height = h;
  const ctx = cv.getContext('2d'), img = ctx.createImageData(w, h);
  for (let k = 0; k < w * h; k++) {
    const t = Math.max(-1, Math.min(1, vals[k] / (scale || 1)));
    const c = t < 0 ? [78, 121, 167] : [242, 142, 43], a = Math.abs(t);
    for (let j = 0; j < 3; j++) img.data[4 * k + j] = Math.round(255 + a * (c[j] - 255));
    img.data[4 * k + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

const Cnn = {
  started: false, abort: null, id: null, info: null, state: 'idle', index: 0, curve: [], thumbFrom: -1,

  init() {
    if (this.started) return;
    this.started = true;
    const o = options.cnn, f = $('cnn-form');
    if (!o.data.length) {
      this.warn('no image data set on this server: ' + Object.values(o.missing).join('; '));
      $('cnn-status').textContent = 'not started';
      return;
    }
    const fill = (name, list) => { f.querySelector(`[name=${name}]`).innerHTML = list.map((v) => `<option>${v}</option>`).join(''); };
    fill('data', o.data);
    fill('optimizer', options.optimizers);
    fill('schedule', options.schedules);
    const defaults = { data: o.data[0], arch: o.arch, optimizer: 'adam', schedule: 'constant' };
    for (const [k, v] of Object.entries(defaults)) f.querySelector(`[name=${k}]`).value = v;
    if (o.missing['fashion-mnist']) {
      $('cnn-note').textContent = 'Fashion-MNIST is not on this server, so only MNIST is offered: ' + o.missing['fashion-mnist'];
    }
    $('cnn-note').textContent += (o.missing['fashion-mnist'] ? ' ' : '') + `Presets: ${o.presets.join(', ')}.`;
    for (const el of f.querySelectorAll('[name]')) {
      if (params.has('c-' + el.name)) el.value = params.get('c-' + el.name);
      el.addEventListener('change', () => {
        this.save();
        if (el.name === 'data') this.thumbs(true);
        this.connect(false);
      });
    }
    this.index = Math.max(0, +(params.get('img') || 0) | 0);
    $('cnn-index').value = this.index;
    $('cnn-index').onchange = () => this.pick(+$('cnn-index').value);
    $('cnn-prev').onclick = () => this.pick(Math.max(0, this.thumbFrom - THUMBS));
    $('cnn-next').onclick = () => this.pick(this.thumbFrom + THUMBS);
    $('cnn-play').onclick = () => this.play();
    $('cnn-step').onclick = () => { if (this.id && this.state === 'paused') control(this.id, 'step'); };
    $('cnn-reset').onclick = () => this.connect(false);
    this.save();
    this.thumbs(false);
    this.connect(params.get('autoplay') === '1');
  },

  form() {
    const out = {};
    for (const el of $('cnn-form').querySelectorAll('[name]')) out[el.name] = el.value;
    return out;
  },

  save() {
    for (const [k, v] of Object.entries(this.form())) params.set('c-' + k, v);
    params.set('img', this.index);
    setURL();
  },

  warn(msg) { $('cnn-warning').hidden = false; $('cnn-warning').textContent = msg; },

  connect(autoplay) {
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    this.id = null; this.curve = []; this.state = 'connecting';
    $('cnn-warning').hidden = true;
    $('cnn-status').textContent = 'connecting…';
    for (const id of ['cnn-epoch', 'cnn-stepno']) $(id).textContent = '0';
    for (const id of ['cnn-loss', 'cnn-acc', 'cnn-test-acc']) $(id).textContent = '–';
    this.drawCurve();
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(this.form())) if (v !== '') q.set(k, v);
    q.set('index', this.index);
    if (autoplay) q.set('autoplay', '1');
    const ctl = this.abort;
    stream('/api/cnn?' + q, {
      queued: (d) => { $('cnn-status').textContent = `waiting for a free training slot (${d.waiting} waiting, ${d.trainings} at once)`; },
      init: (d) => this.onInit(d),
      frame: (d) => this.onFrame(d),
      epoch: (m) => {
        $('cnn-epoch').textContent = m.epoch;
        if (m.test_acc !== undefined) $('cnn-test-acc').textContent = fmt(100 * m.test_acc, 1) + '%';
      },
      state: (d) => this.onState(d),
      warning: (d) => this.warn(d.message),
    }, ctl.signal).then(() => {
      if (!ctl.signal.aborted && this.state !== 'idle') { $('cnn-status').textContent = 'the server ended this training'; this.setState('ended'); }
    }, (err) => {
      if (ctl.signal.aborted) return;
      this.setState('error');
      this.warn(err.message);
      $('cnn-status').textContent = 'not started';
    });
  },

  setState(s) {
    this.state = s;
    document.body.dataset.cnn = s;
    $('cnn-play').textContent = s === 'running' ? '❚❚ pause' : '▶ train';
  },

  onInit(d) {
    this.id = d.id; this.info = d;
    $('cnn-command').textContent = d.command;
    $('cnn-spec').textContent = `${d.spec}: ${d.params} parameters, ${d.steps_per_epoch} steps an epoch; same seed, same bits: this command trains the same network`;
    $('cnn-filters-what').textContent = d.filters || 'the first layer\'s weights are no images';
  },

  onState(d) {
    this.setState(d.state);
    const msg = { paused: 'paused: press train, or pick a test image', running: 'training…', done: 'done: ' + d.message, limit: d.message, diverged: d.message, idle: d.message, error: d.message }[d.state];
    $('cnn-status').textContent = msg;
    if (d.state === 'diverged' || d.state === 'error') this.warn(d.message);
  },

  ended() { return !this.id || ['done', 'limit', 'diverged', 'idle', 'ended', 'error'].includes(this.state); },

  play() {
    if (this.state === 'running') return control(this.id, 'pause');
    if (this.ended()) return this.connect(true);
    return control(this.id, 'play');
  },

  // pick shows test image i: the live session is asked for it (the
  // network keeps training); a session that ended is started afresh.
  async pick(i) {
    const total = this.info ? this.info.test : 10000;
    i = Math.max(0, Math.min(total - 1, i | 0));
    this.index = i;
    $('cnn-index').value = i;
    this.save();
    this.thumbs(false);
    if (this.id && !['idle', 'ended', 'error', 'connecting'].includes(this.state)) {
      const body = new URLSearchParams({ id: this.id, action: 'image', index: i });
      const res = await fetch('/api/control', { method: 'POST', body });
      if (res.ok) return;
      if (res.status !== 404) return this.warn((await res.text()).trim());
    }
    this.connect(false);
  },

  async thumbs(force) {
    const from = Math.floor(this.index / THUMBS) * THUMBS;
    if (from !== this.thumbFrom || force) {
      this.thumbFrom = from;
      const q = new URLSearchParams({ data: this.form().data, from, n: THUMBS });
      const res = await fetch('/api/cnn/images?' + q);
      if (!res.ok) return this.warn((await res.text()).trim());
      const d = await res.json();
      const b = b64bytes(d.images), hw = d.h * d.w, box = $('cnn-thumbs');
      box.innerHTML = '';
      d.labels.forEach((y, k) => {
        const cv = document.createElement('canvas');
        drawBytes(cv, b.subarray(k * hw, (k + 1) * hw), d.w, d.h);
        cv.dataset.index = d.from + k;
        cv.title = `test image #${d.from + k}: ${d.class_names[y]}`;
        cv.onclick = () => this.pick(d.from + k);
        box.appendChild(cv);
      });
    }
    for (const cv of $('cnn-thumbs').querySelectorAll('canvas')) cv.classList.toggle('selected', +cv.dataset.index === this.index);
  },

  onFrame(d) {
    $('cnn-stepno').textContent = d.step;
    if (d.loss_avg !== null) {
      $('cnn-loss').textContent = fmt(d.loss_avg);
      $('cnn-acc').textContent = fmt(100 * d.batch_acc, 1) + '%';
      this.curve.push([d.step, d.loss_avg]);
      this.drawCurve();
    }
    const names = this.info.class_names, [, h, w] = d.shape;
    $('cnn-index-label').textContent = `#${d.index} of ${this.info.test} (${this.info.data}'s test set)`;
    $('cnn-label').textContent = names[d.label];
    $('cnn-sal-class').textContent = names[d.saliency_class];
    drawBytes($('cnn-image'), b64bytes(d.image.map), w, h);
    // Saliency: white (no effect) to dark red (the largest |gradient|).
    drawBytes($('cnn-saliency'), b64bytes(d.saliency.map), w, h, (v) => [255 - 0.3 * v, 255 - 0.95 * v, 255 - 0.9 * v]);
    $('cnn-saliency').title = `largest |∂score/∂pixel| ${fmt(d.saliency.hi)}`;
    $('cnn-probs').innerHTML = d.probs.map((p, c) =>
      `<div class="prob${c === d.pred ? ' pred' : ''}${c === d.label ? ' true' : ''}" data-p="${p}">` +
      `<span class="name">${names[c]}</span><span class="bar" style="width:${Math.round(140 * p)}px"></span><span>${p.toFixed(3)}</span></div>`).join('');
    this.drawFilters(d.filters);
    this.drawFeatures(d.features || []);
    if (d.layers) Play.drawLayers(d.layers, document.querySelector('#cnn-layers tbody'));
  },

  drawFilters(f) {
    const put = (box, imgs) => {
      box.innerHTML = '';
      if (!imgs) return 0;
      const scale = Math.max(...imgs.map((im) => Math.max(...im.map(Math.abs))), 1e-12);
      imgs.forEach((im, k) => {
        const cv = document.createElement('canvas');
        drawDiverging(cv, im, f.w, f.h, scale);
        cv.title = `filter ${k}`;
        box.appendChild(cv);
      });
      return scale;
    };
    if (!f) { $('cnn-filters').innerHTML = ''; $('cnn-grads').innerHTML = ''; return; }
    put($('cnn-filters'), f.weights);
    const g = put($('cnn-grads'), f.grads);
    $('cnn-grad-scale').textContent = f.grads ? `(largest |∂L/∂w| ${fmt(g)})` : '(after the first step)';
    if (!f.grads) $('cnn-grads').innerHTML = '<span class="muted">no step yet</span>';
  },

  drawFeatures(layers) {
    const box = $('cnn-features');
    box.innerHTML = '';
    for (const l of layers) {
      const row = document.createElement('div');
      row.className = 'layer';
      row.innerHTML = `<span class="muted">layer ${l.path} ${l.kind}: ${l.c}×${l.h}×${l.w}${l.maps.length < l.c ? `, the first ${l.maps.length} channels` : ''}</span>`;
      l.maps.forEach((m, c) => {
        const cv = document.createElement('canvas');
        cv.className = 'fmap';
        drawBytes(cv, b64bytes(m.map), l.w, l.h);
        cv.title = `channel ${c}: ${fmt(m.lo, 3)} (black) to ${fmt(m.hi, 3)} (white)`;
        row.appendChild(cv);
      });
      box.appendChild(row);
    }
  },

  drawCurve() {
    const cv = $('cnn-curve'), ctx = cv.getContext('2d'), W = cv.width, H = cv.height;
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
    const c = this.curve;
    if (!c.length) return;
    const top = Math.max(...c.map((p) => p[1]), 1e-9), last = Math.max(c[c.length - 1][0], 1);
    ctx.strokeStyle = '#4e79a7'; ctx.lineWidth = 1.5;
    ctx.beginPath();
    c.forEach(([s, l], i) => {
      const x = 4 + (W - 8) * s / last, y = H - 4 - (H - 16) * l / top;
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = '#555'; ctx.font = '10px system-ui';
    ctx.fillText(`loss 0–${fmt(top, 2)} over steps 1–${last}`, 6, 11);
  },
};

// ---------------------------------------------------------------- start

fetch('/api/options').then((r) => r.json()).then((o) => {
  options = o;
  for (const a of document.querySelectorAll('nav a[data-view]')) a.onclick = (e) => { e.preventDefault(); showView(a.dataset.view); };
  showView(params.get('view') || 'playground');
});
