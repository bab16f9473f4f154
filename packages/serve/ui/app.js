// The mmft web demo's script: no framework, no build step, nothing fetched from elsewhere.
// It reads GET /v1/models to pick what to show: a chat model gets a question box whose answer streams
// in from POST /v1/chat/completions (server-sent events, as OpenAI's and vLLM's servers send them),
// an embeddings model (CLIP) gets a caption list ranked by cosine similarity via POST /v1/embeddings.
// The request shapes follow OpenAI's chat and embeddings APIs; the stream is read as vLLM writes it
// (vllm-project/vllm vllm/entrypoints/openai/serving_chat.py, chat_completion_stream_generator: a
// role chunk, `data: <json>` events, an error as one more data event, then `data: [DONE]`).
// docs/web-demo.md and docs/serving.md.
/* global document, FileReader */ // a browser script: these are the page's globals, not Node's
'use strict';

(function () {
  const DEFAULT_QUESTION = 'Describe the image.';
  const $ = (id) => document.getElementById(id);
  const els = {
    model: $('model'),
    modelInfo: $('model-info'),
    dropZone: $('drop-zone'),
    image: $('image'),
    preview: $('preview'),
    imageInfo: $('image-info'),
    chatPanel: $('chat-panel'),
    chatForm: $('chat-form'),
    question: $('question'),
    maxTokens: $('max-tokens'),
    temperature: $('temperature'),
    ask: $('ask'),
    stop: $('stop'),
    answer: $('answer'),
    similarityPanel: $('similarity-panel'),
    similarityForm: $('similarity-form'),
    captions: $('captions'),
    compare: $('compare'),
    similarity: $('similarity'),
    error: $('error'),
  };

  /** Served models by id, as GET /v1/models lists them. */
  const models = new Map();
  /** The chosen image as a data URL (what the OpenAI image_url part carries), or null. */
  let imageUrl = null;
  let running = null;

  function showError(message) {
    els.error.textContent = message;
    els.error.hidden = false;
  }

  function clearError() {
    els.error.textContent = '';
    els.error.hidden = true;
  }

  /** The error message of a failed response: OpenAI's `{ error: { message } }`, else the status. */
  async function errorOf(response) {
    const text = await response.text();
    try {
      const body = JSON.parse(text);
      if (body && body.error && body.error.message) return `${response.status}: ${body.error.message}`;
    } catch (_) {
      // not JSON: fall through to the raw text
    }
    return `${response.status} ${response.statusText}${text ? `: ${text.slice(0, 300)}` : ''}`;
  }

  function kindOf(id) {
    const entry = models.get(id);
    // A server that is not mmft lists no `mmft` field: treat its models as chat models.
    return entry && entry.mmft && entry.mmft.kind === 'embeddings' ? 'embeddings' : 'chat';
  }

  /** Whether a chat model reads images: mmft says so in `mmft.accepts_images`; other servers are assumed to. */
  function readsImages(id) {
    const entry = models.get(id);
    return !(entry && entry.mmft && entry.mmft.accepts_images === false);
  }

  function showPanels() {
    const id = els.model.value;
    const kind = kindOf(id);
    els.chatPanel.hidden = kind !== 'chat';
    els.similarityPanel.hidden = kind !== 'embeddings';
    const entry = models.get(id);
    const details = entry && entry.mmft ? `${entry.mmft.family}, version ${entry.mmft.version}` : '';
    const textOnly = kind === 'chat' && !readsImages(id) ? ' It reads text only: the image is not sent.' : '';
    els.modelInfo.textContent = id ? `${kind === 'chat' ? 'Chat' : 'Embeddings'} model${details ? ` (${details})` : ''}.${textOnly}` : '';
    document.body.dataset.kind = kind;
  }

  async function loadModels() {
    const response = await fetch('/v1/models');
    if (!response.ok) throw new Error(`GET /v1/models failed: ${await errorOf(response)}`);
    const body = await response.json();
    els.model.textContent = '';
    for (const entry of body.data || []) {
      models.set(entry.id, entry);
      const option = document.createElement('option');
      option.value = entry.id;
      option.textContent = entry.id;
      els.model.appendChild(option);
    }
    if (models.size === 0) throw new Error('The server lists no models (GET /v1/models returned an empty list).');
    els.model.disabled = false;
    showPanels();
    document.body.dataset.ready = 'true';
  }

  function readImage(file) {
    if (!file) return;
    if (!file.type.startsWith('image/')) {
      showError(`${file.name} is not an image (type "${file.type || 'unknown'}"): choose a PNG, JPEG or WebP file.`);
      return;
    }
    const reader = new FileReader();
    reader.onload = () => {
      imageUrl = String(reader.result);
      els.preview.src = imageUrl;
      els.preview.alt = `The chosen image, ${file.name}`;
      els.preview.hidden = false;
      els.imageInfo.textContent = `${file.name}, ${file.size} bytes.`;
      els.dropZone.dataset.state = 'loaded';
      clearError();
    };
    reader.onerror = () => showError(`Could not read ${file.name}: ${reader.error}`);
    reader.readAsDataURL(file);
  }

  /** The user message in OpenAI's shape: image part first (as LLaVA's chat template puts it), then text; text only for a model that reads none. */
  function userMessage(text, withImage) {
    if (!imageUrl || !withImage) return { role: 'user', content: text };
    return {
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: imageUrl } },
        { type: 'text', text },
      ],
    };
  }

  /**
   * Yields the JSON payload of each `data:` event of a server-sent event stream until `[DONE]`.
   * Events end at a blank line; one event may arrive split over several reads.
   */
  async function* sseEvents(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      const events = buffer.split(/\r?\n\r?\n/);
      buffer = done ? '' : events.pop();
      for (const event of events) {
        const data = event
          .split(/\r?\n/)
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).replace(/^ /, ''))
          .join('\n');
        if (data === '') continue;
        if (data === '[DONE]') return;
        yield JSON.parse(data);
      }
      if (done) return;
    }
  }

  async function ask(event) {
    event.preventDefault();
    if (running) return;
    clearError();
    const question = els.question.value.trim() || DEFAULT_QUESTION;
    const request = { model: els.model.value, messages: [userMessage(question, readsImages(els.model.value))], stream: true };
    const maxTokens = Number.parseInt(els.maxTokens.value, 10);
    if (Number.isFinite(maxTokens) && maxTokens > 0) request.max_tokens = maxTokens;
    const temperature = Number.parseFloat(els.temperature.value);
    if (Number.isFinite(temperature)) request.temperature = temperature;

    running = new AbortController();
    els.ask.disabled = true;
    els.stop.disabled = false;
    els.answer.textContent = '';
    els.answer.dataset.state = 'streaming';
    delete els.answer.dataset.finishReason;
    try {
      const response = await fetch('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify(request),
        signal: running.signal,
      });
      if (!response.ok) throw new Error(await errorOf(response));
      for await (const chunk of sseEvents(response.body)) {
        if (chunk.error) throw new Error(chunk.error.message || JSON.stringify(chunk.error));
        // Older vLLM releases sent the error object itself: { object: 'error', message }.
        if (chunk.object === 'error') throw new Error(chunk.message || JSON.stringify(chunk));
        // The last chunk with stream_options.include_usage has no choices.
        const choice = chunk.choices && chunk.choices[0];
        if (!choice) continue;
        if (choice.delta && typeof choice.delta.content === 'string') els.answer.textContent += choice.delta.content;
        if (choice.finish_reason) els.answer.dataset.finishReason = choice.finish_reason;
      }
      els.answer.dataset.state = 'done';
    } catch (error) {
      if (error && error.name === 'AbortError') {
        els.answer.dataset.state = 'stopped';
      } else {
        els.answer.dataset.state = 'error';
        showError(`The answer failed: ${error && error.message ? error.message : error}`);
      }
    } finally {
      running = null;
      els.ask.disabled = false;
      els.stop.disabled = true;
    }
  }

  function cosine(a, b) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  function renderSimilarity(rows) {
    const body = els.similarity.tBodies[0];
    body.textContent = '';
    rows.forEach((row, rank) => {
      const tr = document.createElement('tr');
      if (rank === 0) tr.className = 'best';
      const cells = [String(rank + 1), row.caption, row.score.toFixed(4)];
      cells.forEach((text, i) => {
        const cell = document.createElement(i === 1 ? 'th' : 'td');
        if (i === 1) cell.scope = 'row';
        cell.textContent = text;
        if (i === 2) {
          cell.dataset.value = String(row.score);
          const bar = document.createElement('span');
          bar.className = 'bar';
          // cosine in [-1, 1] → a bar of 0 to 5 rem
          bar.style.width = `${Math.max(0, Math.min(5, ((row.score + 1) / 2) * 5)).toFixed(2)}rem`;
          bar.setAttribute('aria-hidden', 'true');
          cell.appendChild(bar);
        }
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
  }

  async function compare(event) {
    event.preventDefault();
    clearError();
    const captions = els.captions.value
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
    if (!imageUrl) return showError('Choose an image first: the captions are ranked by their similarity to it.');
    if (captions.length === 0) return showError('Write at least one caption, one per line.');
    els.compare.disabled = true;
    els.similarity.dataset.state = 'running';
    try {
      // One request: the image (a data URL, which the server reads as an image) and the captions.
      const response = await fetch('/v1/embeddings', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: els.model.value, input: [imageUrl, ...captions] }),
      });
      if (!response.ok) throw new Error(await errorOf(response));
      const body = await response.json();
      const byIndex = [];
      for (const item of body.data) byIndex[item.index] = item.embedding;
      const image = byIndex[0];
      const rows = captions.map((caption, i) => ({ caption, score: cosine(image, byIndex[i + 1]) }));
      rows.sort((a, b) => b.score - a.score);
      renderSimilarity(rows);
      els.similarity.dataset.state = 'done';
    } catch (error) {
      els.similarity.dataset.state = 'error';
      showError(`The comparison failed: ${error && error.message ? error.message : error}`);
    } finally {
      els.compare.disabled = false;
    }
  }

  els.model.addEventListener('change', showPanels);
  els.image.addEventListener('change', () => readImage(els.image.files && els.image.files[0]));
  els.dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    els.dropZone.classList.add('over');
  });
  els.dropZone.addEventListener('dragleave', () => els.dropZone.classList.remove('over'));
  els.dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    els.dropZone.classList.remove('over');
    readImage(event.dataTransfer && event.dataTransfer.files[0]);
  });
  els.chatForm.addEventListener('submit', ask);
  els.stop.addEventListener('click', () => running && running.abort());
  els.similarityForm.addEventListener('submit', compare);

  loadModels().catch((error) => showError(error.message || String(error)));
})();
