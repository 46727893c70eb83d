// The playground page at "/": pick a model and a task, type, watch the answer stream in, see
// label scores as bars. One self-contained page (no external assets), its script allowed by
// hash in a Content-Security-Policy that forbids everything else.
import { createHash } from 'node:crypto';

const style = `
:root { color-scheme: light dark; --accent: #3b6fd8; font-family: system-ui, sans-serif; }
body { max-width: 56rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
p.lead { margin-top: 0; opacity: .75; }
form { display: grid; gap: .6rem; grid-template-columns: repeat(4, minmax(0, 1fr)); align-items: end; }
label { display: flex; flex-direction: column; font-size: .85rem; gap: .2rem; }
label.wide { grid-column: 1 / -1; }
input, select, textarea, button { font: inherit; padding: .35rem .5rem; border-radius: .3rem; border: 1px solid #8889; }
textarea { min-height: 6rem; resize: vertical; font-family: ui-monospace, monospace; }
button { background: var(--accent); color: #fff; border: none; cursor: pointer; }
button:disabled { opacity: .5; cursor: progress; }
.hidden { display: none; }
#output { white-space: pre-wrap; font-family: ui-monospace, monospace; min-height: 4rem; padding: .6rem; border: 1px solid #8886; border-radius: .3rem; margin-top: 1rem; }
#status { font-size: .85rem; opacity: .8; margin-top: .4rem; min-height: 1.2em; }
#status.error { color: #c0392b; opacity: 1; }
.bar { display: grid; grid-template-columns: 10rem 1fr 4rem; gap: .5rem; align-items: center; margin: .3rem 0; }
.bar .track { background: #8883; border-radius: .2rem; height: 1rem; overflow: hidden; }
.bar .fill { background: var(--accent); height: 100%; }
.bar .value { font-variant-numeric: tabular-nums; text-align: right; }
`;

const script = `
const $ = (id) => document.getElementById(id);
const placeholders = {
  generate: 'Once upon a time',
  code: 'def fibonacci(n):',
  translate: 'The weather is nice today.',
  classify: 'Congratulations! You won a free prize, call now.',
  chat: 'Hello! What can you do?',
};
function headers() {
  const h = { 'Content-Type': 'application/json' };
  const key = $('key').value.trim();
  if (key) h.Authorization = 'Bearer ' + key;
  return h;
}
function setStatus(text, error) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}
async function loadModels() {
  try {
    const response = await fetch('/v1/models', { headers: headers() });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
    const select = $('model');
    select.replaceChildren(...body.data.map((m) => new Option(m.id, m.id)));
    setStatus(body.data.length + ' models');
  } catch (error) {
    setStatus('models: ' + error.message, true);
  }
}
function showFields() {
  const task = $('task').value;
  for (const el of document.querySelectorAll('[data-task]')) el.classList.toggle('hidden', !el.dataset.task.split(' ').includes(task));
  $('input').placeholder = placeholders[task];
}
function requestFor(task, text) {
  const model = $('model').value;
  const sampling = { max_tokens: Number($('max').value), temperature: Number($('temperature').value) };
  switch (task) {
    case 'generate': return ['/v1/generate', { model, prompt: text, stream: true, ...sampling }];
    case 'code': return ['/v1/code', { model, prompt: text, stream: true, ...sampling }];
    case 'translate': return ['/v1/translate', { model, text, from: $('from').value, to: $('to').value, stream: true, ...sampling }];
    case 'classify': return ['/v1/classify', { model, text, labels: $('labels').value.split(',').map((l) => l.trim()).filter(Boolean) }];
    case 'chat': return ['/v1/chat/completions', { model, messages: [{ role: 'user', content: text }], stream: true, ...sampling }];
  }
}
function pieceOf(task, event) {
  if (task === 'chat') return (event.choices && event.choices[0] && event.choices[0].delta.content) || '';
  return event.text || '';
}
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\\n\\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split('\\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') return;
        onEvent(JSON.parse(data));
      }
    }
  }
}
function showScores(scores) {
  const rows = scores.map((s) => {
    const row = document.createElement('div');
    row.className = 'bar';
    const name = document.createElement('span');
    name.textContent = s.label;
    const track = document.createElement('div');
    track.className = 'track';
    const fill = document.createElement('div');
    fill.className = 'fill';
    fill.style.width = (100 * s.score).toFixed(1) + '%';
    track.append(fill);
    const value = document.createElement('span');
    value.className = 'value';
    value.textContent = s.score.toFixed(3);
    row.append(name, track, value);
    return row;
  });
  $('scores').replaceChildren(...rows);
}
async function run(event) {
  event.preventDefault();
  const task = $('task').value;
  const text = $('input').value || $('input').placeholder;
  const [path, body] = requestFor(task, text);
  $('output').textContent = '';
  $('scores').replaceChildren();
  $('run').disabled = true;
  setStatus('running…');
  const started = performance.now();
  try {
    const response = await fetch(path, { method: 'POST', headers: headers(), body: JSON.stringify(body) });
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      throw new Error(error.error ? error.error.code + ': ' + error.error.message : response.statusText);
    }
    if (task === 'classify') {
      const result = await response.json();
      $('output').textContent = result.label;
      showScores(result.scores);
    } else {
      let finish = '';
      await readEvents(response, (e) => {
        if (e.error) throw new Error(e.error.code + ': ' + e.error.message);
        $('output').textContent += pieceOf(task, e);
        const reason = e.finish_reason || (e.choices && e.choices[0] && e.choices[0].finish_reason);
        if (reason) finish = reason;
      });
      setStatus('done (' + (finish || 'stop') + ') in ' + Math.round(performance.now() - started) + ' ms');
      return;
    }
    setStatus('done in ' + Math.round(performance.now() - started) + ' ms');
  } catch (error) {
    setStatus(error.message, true);
  } finally {
    $('run').disabled = false;
    document.body.dataset.done = String(Number(document.body.dataset.done || 0) + 1);
  }
}
$('task').addEventListener('change', showFields);
$('form').addEventListener('submit', run);
$('key').addEventListener('change', loadModels);
showFields();
loadModels();
`;

export const playgroundHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kd playground</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
<h1>kd playground</h1>
<p class="lead">Generation, code, translation, classification and chat with the models this server offers.</p>
<form id="form">
  <label>Model <select id="model"></select></label>
  <label>Task
    <select id="task">
      <option value="generate">generate</option>
      <option value="code">code</option>
      <option value="translate">translate</option>
      <option value="classify">classify</option>
      <option value="chat">chat</option>
    </select>
  </label>
  <label data-task="generate code translate chat">Max tokens <input id="max" type="number" min="1" value="48"></label>
  <label data-task="generate code translate chat">Temperature <input id="temperature" type="number" min="0" max="2" step="0.1" value="0"></label>
  <label data-task="translate">From <input id="from" value="English"></label>
  <label data-task="translate">To <input id="to" value="German"></label>
  <label data-task="classify" class="wide">Labels (comma-separated) <input id="labels" value="spam, ham"></label>
  <label class="wide">Input <textarea id="input"></textarea></label>
  <label>API key (if the server needs one) <input id="key" type="password" autocomplete="off"></label>
  <span></span><span></span>
  <button id="run" type="submit">Run</button>
</form>
<div id="output" aria-live="polite"></div>
<div id="scores"></div>
<div id="status"></div>
<script>${script}</script>
</body>
</html>
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export const playgroundHeaders: Record<string, string> = {
  'Content-Security-Policy': `default-src 'none'; connect-src 'self'; script-src ${hash(script)}; style-src ${hash(style)}; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'X-Frame-Options': 'DENY',
};
