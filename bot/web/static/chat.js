/*
 * GatewayAPI privacy assistant: the customer web chat page.
 *
 * Talks to the same-origin JSON API under /webchat/api/. The transcript (GET .../messages)
 * is the single source of truth for what is shown: after every POST the page fetches
 * everything after the highest seq it has seen, so each message appears exactly once, in
 * seq order. The page also polls, because the bot writes to the transcript on its own.
 *
 * Server text is only ever put into the page with textContent / createTextNode.
 */
(function () {
  "use strict";

  // ---------------------------------------------------------------- configuration

  const API = "/webchat/api/conversations";
  const MAX_CHARS = 4000;
  const COUNTER_FROM = 3600; // show the character counter from here on
  const POLL_VISIBLE_MS = 3000;
  const POLL_HIDDEN_MS = 30000;
  const POLL_MAX_BACKOFF_MS = 60000;
  const PAGE_SIZE = 200; // the server returns at most this many messages per request
  const GET_TIMEOUT_MS = 20000;
  const POST_TIMEOUT_MS = 90000;
  // Every message has an id of its own (client_id), the same in every attempt to send it,
  // so the server stores and answers it once. A server too busy to answer (502-504) gets
  // it again after these waits, or after its Retry-After, up to SEND_RETRY_MAX_MS.
  const SEND_RETRY_MS = [1000, 2000, 4000];
  const SEND_RETRY_MAX_MS = 10000;
  const STORE_CONVERSATION = "gatewayapi.privacychat.conversation";
  const STORE_LANG = "gatewayapi.privacychat.lang";
  const QUICK_STARTS = ["access", "erasure", "handover"];
  const TRANSIENT = ["network", "unavailable", "generic", "rateLimited"]; // cleared by a good poll

  // The words in both languages, from the server's catalog (embedded in the page).
  const STRINGS = readStrings();

  // ---------------------------------------------------------------- state

  const state = {
    lang: "en",
    conversation: null, // {id, token}
    lastSeq: 0,
    messages: new Map(), // seq -> {message, element}
    sending: false,
    ended: false, // 401/404: the conversation is gone; polling stops
    error: null, // {kind, action}
    pollTimer: 0,
    pollFailures: 0,
    retryAfterMs: 0,
    refreshChain: Promise.resolve(),
    opening: null, // the in-flight "open conversation" promise
    unsent: null, // {key, clientId}: the message that failed last, sent again with its id
  };

  const el = {};

  // ---------------------------------------------------------------- small helpers

  function readStrings() {
    const node = document.getElementById("chat-strings");
    try {
      return JSON.parse(node.textContent);
    } catch (_e) {
      return { en: {}, da: {} };
    }
  }

  function t() {
    return STRINGS[state.lang];
  }

  function charsLeft(n) {
    const forms = t().charsLeft;
    return (n === 1 ? forms.one : forms.other).replace("{n}", String(n));
  }

  function readStore(storage, key) {
    try {
      const raw = storage.getItem(key);
      return raw === null ? null : JSON.parse(raw);
    } catch (_e) {
      return null;
    }
  }

  function writeStore(storage, key, value) {
    try {
      if (value === null) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(value));
    } catch (_e) {
      /* private mode or quota: the chat still works, it just won't survive a reload */
    }
  }

  function make(tag, className, attrs) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (attrs) {
      Object.keys(attrs).forEach((name) => node.setAttribute(name, attrs[name]));
    }
    return node;
  }

  function svgIcon(pathData, viewBox) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("viewBox", viewBox || "0 0 20 20");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathData);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  /** An absolute http(s) URL, or null: nothing else may become a link. */
  function safeUrl(raw) {
    if (typeof raw !== "string" || !raw) return null;
    try {
      const url = new URL(raw, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_e) {
      return null;
    }
  }

  // ---------------------------------------------------------------- language

  function initialLanguage() {
    const saved = readStore(window.localStorage, STORE_LANG);
    if (saved === "da" || saved === "en") return saved;
    const nav = (navigator.language || "").toLowerCase();
    return nav.startsWith("da") ? "da" : "en";
  }

  function applyLanguage() {
    const s = t();
    document.documentElement.lang = state.lang;
    document.title = s.docTitle;
    document.querySelectorAll("[data-i18n]").forEach((node) => {
      node.textContent = s[node.getAttribute("data-i18n")];
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((node) => {
      node.setAttribute("placeholder", s[node.getAttribute("data-i18n-placeholder")]);
    });
    document.querySelectorAll("[data-i18n-aria-label]").forEach((node) => {
      node.setAttribute("aria-label", s[node.getAttribute("data-i18n-aria-label")]);
    });
    el.langDa.setAttribute("aria-pressed", String(state.lang === "da"));
    el.langEn.setAttribute("aria-pressed", String(state.lang === "en"));
    el.messages.querySelectorAll(".msg__sender").forEach((node) => {
      node.textContent = (node.closest(".msg--customer") ? s.you : s.assistant) + " ";
    });
    el.messages.querySelectorAll(".msg__newtab").forEach((node) => {
      node.textContent = " " + s.opensNewTab;
    });
    renderWelcomeButtons();
    renderError();
    updateCounter();
    if (!el.typing.hidden) el.status.textContent = s.typing;
  }

  async function switchLanguage(lang) {
    if (lang === state.lang || state.sending) return;
    state.lang = lang;
    writeStore(window.localStorage, STORE_LANG, lang);
    applyLanguage();
    if (!state.conversation || state.ended) return;
    if (state.lastSeq === 0 && !hasPendingBubble()) {
      // Nothing said yet: open a fresh conversation in the new language instead of
      // putting "english please" into an empty chat.
      await startFresh({ announce: false, focus: false });
      return;
    }
    await send({ text: t().switchMessage }, t().switchMessage, { keepInput: true });
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, message, retryAfter) {
      super(message || "HTTP " + status);
      this.status = status; // 0 = network failure or timeout
      this.retryAfter = retryAfter;
    }
  }

  async function api(method, path, body, token) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(),
      method === "GET" ? GET_TIMEOUT_MS : POST_TIMEOUT_MS
    );
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "same-origin",
        signal: controller.signal,
      });
    } catch (_e) {
      throw new ApiError(0, "network");
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_e) {
      data = null;
    }
    if (!response.ok) {
      const retry = Number(response.headers.get("Retry-After"));
      throw new ApiError(
        response.status,
        data && typeof data.error === "string" ? data.error : "",
        Number.isFinite(retry) && retry > 0 ? retry * 1000 : 0
      );
    }
    return data || {};
  }

  function messagesPath(conversation) {
    return API + "/" + encodeURIComponent(conversation.id) + "/messages";
  }

  // ---------------------------------------------------------------- conversation lifecycle

  function saveConversation() {
    writeStore(window.sessionStorage, STORE_CONVERSATION, state.conversation);
  }

  function restoreConversation() {
    const saved = readStore(window.sessionStorage, STORE_CONVERSATION);
    if (!saved || typeof saved.id !== "string" || typeof saved.token !== "string") return null;
    return { id: saved.id, token: saved.token };
  }

  /** Forget the current conversation and empty the page (the welcome stays). */
  function resetConversation() {
    clearTimeout(state.pollTimer);
    state.conversation = null;
    state.lastSeq = 0;
    state.messages.clear();
    state.ended = false;
    state.pollFailures = 0;
    state.opening = null;
    state.unsent = null;
    el.messages.textContent = "";
    saveConversation();
    clearError();
    updateControls();
  }

  /** The open conversation, opening one (in the UI language) if there is none yet. */
  function ensureConversation() {
    if (state.conversation) return Promise.resolve(state.conversation);
    if (state.opening) return state.opening;
    const opening = api("POST", API, { locale: state.lang })
      .then((data) => {
        if (state.opening !== opening) return state.conversation; // reset meanwhile
        state.conversation = { id: data.conversation_id, token: data.token };
        state.opening = null;
        saveConversation();
        if (state.error && state.error.kind !== "tooLong") clearError();
        schedulePoll();
        return state.conversation;
      })
      .catch((error) => {
        if (state.opening === opening) state.opening = null;
        throw error;
      });
    state.opening = opening;
    return opening;
  }

  async function startFresh(options) {
    resetConversation();
    try {
      await ensureConversation();
      if (options.announce) el.status.textContent = t().started;
    } catch (error) {
      showApiError(error);
      state.pollFailures = 1;
      schedulePoll(); // keeps retrying to open one
    }
    if (options.focus) el.input.focus();
  }

  // ---------------------------------------------------------------- transcript

  /** Fetch and render everything after lastSeq. Calls are queued, never overlap. */
  function refresh() {
    const run = () => fetchNewMessages();
    state.refreshChain = state.refreshChain.then(run, run);
    return state.refreshChain;
  }

  async function fetchNewMessages() {
    const conversation = state.conversation;
    if (!conversation || state.ended) return;
    for (;;) {
      const path = messagesPath(conversation) + "?after=" + state.lastSeq;
      const data = await api("GET", path, undefined, conversation.token);
      if (conversation !== state.conversation) return; // a new conversation started meanwhile
      const list = Array.isArray(data.messages) ? data.messages : [];
      renderTranscript(list);
      if (list.length < PAGE_SIZE) return;
    }
  }

  function renderTranscript(list) {
    if (!list.length) return;
    const stick = isNearBottom();
    let added = false;
    list
      .filter((m) => m && Number.isInteger(m.seq) && m.seq > state.lastSeq)
      .sort((a, b) => a.seq - b.seq)
      .forEach((message) => {
        if (message.seq <= state.lastSeq) return;
        if (message.from === "customer") removePendingBubble();
        if (state.unsent && message.client_id === state.unsent.clientId) landed(message);
        const element = renderMessage(message);
        el.messages.appendChild(element);
        state.messages.set(message.seq, { message, element });
        state.lastSeq = message.seq;
        added = true;
      });
    if (!added) return;
    saveConversation();
    updateControls();
    if (stick) scrollToBottom();
  }

  /**
   * The message whose answer was lost reached the server after all (the transcript shows
   * it): a later message is a new one, and the copy put back in the box is not needed.
   */
  function landed(message) {
    state.unsent = null;
    if (!state.sending && el.input.value === message.text) {
      el.input.value = "";
      updateCounter();
      autoGrow();
    }
  }

  // ---------------------------------------------------------------- rendering

  const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  const TRAILING = /[.,;:!?)\]}»”’'"]+$/;

  /** Text with line breaks kept (CSS pre-wrap) and http(s) URLs as real anchors. */
  function renderText(container, text) {
    const s = t();
    let last = 0;
    text.replace(URL_PATTERN, (match, offset) => {
      let candidate = match;
      const trailing = candidate.match(TRAILING);
      if (trailing) {
        candidate = candidate.slice(0, candidate.length - trailing[0].length);
        // Keep a closing parenthesis that belongs to the URL, e.g. .../Foo_(bar)
        const opens = candidate.split("(").length - 1;
        const closes = candidate.split(")").length - 1;
        if (trailing[0].startsWith(")") && opens > closes) candidate += ")";
      }
      const href = safeUrl(candidate);
      if (!href) return match;
      container.appendChild(document.createTextNode(text.slice(last, offset)));
      const a = make("a", "", { href, target: "_blank", rel: "noopener noreferrer" });
      a.textContent = candidate;
      const hint = make("span", "visually-hidden msg__newtab");
      hint.textContent = " " + s.opensNewTab;
      a.appendChild(hint);
      container.appendChild(a);
      last = offset + candidate.length;
      return match;
    });
    container.appendChild(document.createTextNode(text.slice(last)));
  }

  function formatTime(iso) {
    const date = new Date(iso);
    if (!iso || Number.isNaN(date.getTime())) return null;
    try {
      return new Intl.DateTimeFormat(state.lang === "da" ? "da-DK" : "en-GB", {
        hour: "2-digit",
        minute: "2-digit",
      }).format(date);
    } catch (_e) {
      return null;
    }
  }

  function renderBubble(from, text, extraClass) {
    const wrapper = make("div", "msg msg--" + from + (extraClass ? " " + extraClass : ""), {
      "data-testid": from === "customer" ? "customer-message" : "bot-message",
    });
    const bubble = make("div", "msg__bubble");
    // "You:" / "Assistant:" for screen readers; the text itself is alone in .msg__text.
    const sender = make("span", "visually-hidden msg__sender");
    sender.textContent = (from === "customer" ? t().you : t().assistant) + " ";
    bubble.appendChild(sender);
    const body = make("p", "msg__text", { "data-testid": "message-text" });
    if (from === "bot") renderText(body, text);
    else body.appendChild(document.createTextNode(text));
    bubble.appendChild(body);
    wrapper.appendChild(bubble);
    return wrapper;
  }

  /** `text` without the first of `urls` it contains (and the blanks around it). */
  function withoutUrl(text, urls) {
    const url = urls.find((u) => typeof u === "string" && u && text.includes(u));
    if (!url) return text;
    const at = text.indexOf(url);
    const before = text.slice(0, at).replace(/\s+$/, "");
    const after = text.slice(at + url.length).replace(/^\s+/, "");
    return (before + " " + after).trim();
  }

  function renderMessage(message) {
    const from = message.from === "customer" ? "customer" : "bot";
    const raw = typeof message.text === "string" ? message.text : "";
    const link = from === "bot" ? normaliseLink(message.link) : null;
    // The download button says it better than a long signed address in the text.
    const text = link ? withoutUrl(raw, [link.url, message.link.url]) : raw;
    const wrapper = renderBubble(from, text);
    wrapper.dataset.seq = String(message.seq);
    if (from === "bot") {
      if (link) wrapper.appendChild(renderLink(link));
      const buttons = Array.isArray(message.buttons) ? message.buttons : [];
      if (buttons.length) wrapper.appendChild(renderButtons(buttons, message.seq));
    }
    const time = formatTime(message.created_at);
    if (time) {
      const stamp = make("time", "msg__time", { datetime: message.created_at });
      stamp.textContent = time;
      wrapper.appendChild(stamp);
    }
    return wrapper;
  }

  function renderLink(link) {
    const a = make("a", "msg__link", {
      href: link.url,
      target: "_blank",
      rel: "noopener noreferrer",
      "data-testid": "download-link",
    });
    a.appendChild(svgIcon("M10 3v9.5M5.5 8.5 10 13l4.5-4.5M4 16.5h12"));
    const label = make("span");
    label.textContent = link.label;
    a.appendChild(label);
    const hint = make("span", "visually-hidden msg__newtab");
    hint.textContent = " " + t().opensNewTab;
    a.appendChild(hint);
    return a;
  }

  function renderButtons(buttons, seq) {
    const group = make("div", "msg__buttons", { role: "group" });
    buttons.forEach((button) => {
      if (!button || typeof button.value !== "string" || typeof button.label !== "string") return;
      const node = make("button", "reply-button", {
        type: "button",
        "data-testid": "reply-button",
        "data-value": button.value,
        "data-message": String(seq),
      });
      node.textContent = button.label;
      node.disabled = true; // updateControls() enables the live ones (data-message: its message's seq, 0 = welcome)
      group.appendChild(node);
    });
    return group;
  }

  function renderWelcomeButtons() {
    const s = t();
    el.welcomeButtons.textContent = "";
    const buttons = QUICK_STARTS.map((value) => ({ value, label: s.quick[value] }));
    el.welcomeButtons.appendChild(renderButtons(buttons, 0));
    updateControls();
  }

  /** The server's {url, label} (every link it sends has both), or null if not usable. */
  function normaliseLink(link) {
    if (!link || typeof link !== "object" || typeof link.label !== "string") return null;
    const url = safeUrl(link.url);
    return url ? { url, label: link.label } : null;
  }

  // ---- optimistic customer bubble

  function showPendingBubble(text) {
    const bubble = renderBubble("customer", text, "msg--pending");
    bubble.dataset.pending = "true";
    el.messages.appendChild(bubble);
    scrollToBottom();
  }

  function hasPendingBubble() {
    return Boolean(el.messages.querySelector("[data-pending='true']"));
  }

  function removePendingBubble() {
    el.messages.querySelectorAll("[data-pending='true']").forEach((node) => node.remove());
  }

  // ---------------------------------------------------------------- controls

  /** Only the buttons of the bot's latest turn (bot messages after the last customer
   *  message) are live; with an empty transcript the welcome's quick starts are. */
  function liveButtonSeqs() {
    const seqs = new Set();
    const ordered = Array.from(state.messages.keys()).sort((a, b) => b - a);
    for (const seq of ordered) {
      if (state.messages.get(seq).message.from === "customer") break;
      seqs.add(String(seq));
    }
    if (!state.messages.size) seqs.add("0");
    return seqs;
  }

  function updateControls() {
    const blocked = state.sending || state.ended;
    const live = blocked || hasPendingBubble() ? new Set() : liveButtonSeqs();
    document.querySelectorAll("[data-testid='reply-button']").forEach((button) => {
      button.disabled = !live.has(button.getAttribute("data-message"));
    });
    el.input.disabled = blocked;
    el.send.disabled = blocked;
    el.langDa.disabled = state.sending;
    el.langEn.disabled = state.sending;
    el.form.setAttribute("aria-busy", String(state.sending));
  }

  function setTyping(on) {
    el.typing.hidden = !on;
    el.status.textContent = on ? t().typing : "";
    if (on) scrollToBottom();
  }

  function updateCounter() {
    const length = el.input.value.length;
    const left = MAX_CHARS - length;
    el.counter.textContent = length >= COUNTER_FROM ? charsLeft(Math.max(left, 0)) : "";
    el.counter.classList.toggle("composer__count--over", left <= 0);
  }

  function autoGrow() {
    el.input.style.height = "auto";
    el.input.style.height = el.input.scrollHeight + "px";
  }

  function isNearBottom() {
    const c = el.chat;
    return c.scrollHeight - c.scrollTop - c.clientHeight < 120;
  }

  function scrollToBottom() {
    el.chat.scrollTop = el.chat.scrollHeight;
  }

  // ---------------------------------------------------------------- errors

  function errorKind(error) {
    switch (error && error.status) {
      case 0:
        return "network";
      case 413:
        return "tooLong";
      case 401:
      case 404:
        return "expired";
      case 429:
        return "rateLimited";
      case 503:
        return "unavailable";
      case 400:
        return "badRequest";
      default:
        return "generic";
    }
  }

  function showApiError(error) {
    const kind = errorKind(error);
    if (kind === "expired") {
      state.ended = true;
      clearTimeout(state.pollTimer);
      updateControls();
    }
    if (kind === "rateLimited") state.retryAfterMs = error.retryAfter || 5000;
    state.error = { kind };
    renderError();
  }

  function clearError() {
    state.error = null;
    renderError();
  }

  function renderError() {
    el.error.textContent = "";
    if (!state.error) return;
    const s = t();
    const text = make("p", "alert__text");
    text.textContent = s.errors[state.error.kind] || s.errors.generic;
    el.error.appendChild(text);
    if (state.error.kind === "expired") {
      const button = make("button", "alert__action", { type: "button", id: "error-new-conversation" });
      button.textContent = s.startNew;
      button.addEventListener("click", () => startFresh({ announce: true, focus: true }));
      el.error.appendChild(button);
    }
  }

  // ---------------------------------------------------------------- polling

  function pollDelay() {
    if (state.retryAfterMs) {
      const wait = state.retryAfterMs;
      state.retryAfterMs = 0;
      return wait;
    }
    if (state.pollFailures) {
      return Math.min(POLL_VISIBLE_MS * Math.pow(2, state.pollFailures), POLL_MAX_BACKOFF_MS);
    }
    return document.hidden ? POLL_HIDDEN_MS : POLL_VISIBLE_MS;
  }

  function schedulePoll(delay) {
    clearTimeout(state.pollTimer);
    if (state.ended) return;
    state.pollTimer = setTimeout(pollOnce, delay === undefined ? pollDelay() : delay);
  }

  async function pollOnce() {
    if (state.ended) return;
    if (state.sending) {
      schedulePoll(); // the send fetches the transcript itself when it is done
      return;
    }
    try {
      if (state.conversation) await refresh();
      else await ensureConversation(); // opening failed earlier: keep trying
      state.pollFailures = 0;
      if (state.error && TRANSIENT.includes(state.error.kind)) {
        clearError();
      }
    } catch (error) {
      const kind = errorKind(error);
      if (kind === "network" || kind === "unavailable" || kind === "generic") {
        state.pollFailures += 1;
        // A single blip is not worth an alarm; a second failure in a row is.
        if (state.pollFailures >= 2 || !state.conversation) showApiError(error);
      } else {
        showApiError(error);
      }
    }
    schedulePoll();
  }

  // ---------------------------------------------------------------- sending

  /**
   * Send one message ({text} or {button}); `shown` is what the customer's bubble says.
   * The transcript is fetched afterwards and is what ends up on screen.
   */
  async function send(payload, shown, options) {
    const opts = options || {};
    if (state.sending || state.ended) return false;
    const draft = el.input.value;
    const refocus = document.activeElement === el.input ||
      (document.activeElement && document.activeElement.matches("[data-testid='reply-button']"));
    state.sending = true;
    if (!opts.keepInput) {
      el.input.value = "";
      updateCounter();
      autoGrow();
    }
    showPendingBubble(shown);
    updateControls();
    setTyping(true);

    let ok = false;
    try {
      const conversation = await ensureConversation();
      await postMessage(conversation, Object.assign({ client_id: clientIdFor(payload) }, payload));
      state.unsent = null;
      ok = true;
      clearError();
    } catch (error) {
      removePendingBubble();
      if (!opts.keepInput && !el.input.value) el.input.value = draft; // never lose the text
      updateCounter();
      autoGrow();
      showApiError(error);
    }

    try {
      if (ok) await refresh();
    } catch (error) {
      state.pollFailures += 1; // the poller keeps trying; the message itself was sent
    } finally {
      state.sending = false;
      setTyping(false);
      updateControls();
      if (refocus && !el.input.disabled) el.input.focus();
      schedulePoll();
    }
    return ok;
  }

  /**
   * The id of this message: a new one, or, when the customer sends again the message whose
   * answer was lost (the text put back in the box, the same button), that message's id,
   * so a first attempt that reached the server is answered once, not twice.
   */
  function clientIdFor(payload) {
    const key = JSON.stringify(payload);
    if (!state.unsent || state.unsent.key !== key) {
      const bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      state.unsent = { key, clientId: id };
    }
    return state.unsent.clientId;
  }

  /** POST one message; sent again (same client_id) while the server is too busy. */
  async function postMessage(conversation, body) {
    let waited = 0;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await api("POST", messagesPath(conversation), body, conversation.token);
      } catch (error) {
        const busy = [502, 503, 504].includes(error.status);
        const wait = error.retryAfter || SEND_RETRY_MS[attempt];
        if (!busy || attempt >= SEND_RETRY_MS.length || waited + wait > SEND_RETRY_MAX_MS) {
          throw error;
        }
        waited += wait;
        await new Promise((resolve) => setTimeout(resolve, wait));
        if (state.conversation !== conversation) throw error; // a new chat was started meanwhile
      }
    }
  }

  function submitText() {
    const text = el.input.value;
    if (!text.trim() || state.sending) return;
    if (text.length > MAX_CHARS) {
      state.error = { kind: "tooLong" };
      renderError();
      return;
    }
    send({ text }, text);
  }

  // ---------------------------------------------------------------- wiring

  function bindEvents() {
    el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitText();
    });
    el.input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) {
        return;
      }
      event.preventDefault();
      submitText();
    });
    el.input.addEventListener("input", () => {
      updateCounter();
      autoGrow();
      if (state.error && state.error.kind === "tooLong" && el.input.value.length <= MAX_CHARS) {
        clearError();
      }
    });
    // One listener for every reply button, current and future.
    document.addEventListener("click", (event) => {
      const button = event.target.closest("[data-testid='reply-button']");
      if (!button || button.disabled) return;
      send({ button: button.getAttribute("data-value") }, button.textContent);
    });
    el.langDa.addEventListener("click", () => switchLanguage("da"));
    el.langEn.addEventListener("click", () => switchLanguage("en"));
    el.newConversation.addEventListener("click", () => {
      if (!state.sending) startFresh({ announce: true, focus: true });
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && state.conversation) schedulePoll(0);
      else if (document.hidden) schedulePoll();
    });
    // Turning a phone or resizing the window keeps the newest message in view.
    let stuck = true;
    el.chat.addEventListener("scroll", () => {
      stuck = isNearBottom();
    }, { passive: true });
    window.addEventListener("resize", () => {
      if (stuck) scrollToBottom();
    });
    window.addEventListener("online", () => {
      state.pollFailures = 0;
      schedulePoll(0);
    });
  }

  function findElements() {
    el.chat = document.getElementById("chat");
    el.messages = document.getElementById("messages");
    el.welcomeButtons = document.getElementById("welcome-buttons");
    el.typing = document.getElementById("typing");
    el.status = document.getElementById("status");
    el.error = document.getElementById("error");
    el.form = document.getElementById("composer");
    el.input = document.getElementById("message-input");
    el.send = document.getElementById("send-button");
    el.counter = document.getElementById("char-count");
    el.langDa = document.getElementById("lang-da");
    el.langEn = document.getElementById("lang-en");
    el.newConversation = document.getElementById("new-conversation");
  }

  async function start() {
    findElements();
    el.input.maxLength = MAX_CHARS;
    state.lang = initialLanguage();
    applyLanguage();
    bindEvents();

    const saved = restoreConversation();
    if (saved) {
      state.conversation = saved;
      try {
        await refresh();
        scrollToBottom();
        schedulePoll();
        return;
      } catch (error) {
        if (errorKind(error) !== "expired") {
          showApiError(error); // keep the stored conversation; the poller retries
          state.pollFailures = 1;
          schedulePoll();
          return;
        }
        resetConversation(); // gone or expired: quietly start a new one
      }
    }
    try {
      await ensureConversation();
    } catch (error) {
      showApiError(error);
      state.pollFailures = 1;
      schedulePoll();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
