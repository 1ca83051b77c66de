// A scripted stand-in for the DriveWatch desktop shell, injected into the page before the UI
// loads. It implements Tauri's IPC internals (`invoke`, `transformCallback`, the event plugin)
// so the real generated bindings run unchanged, and keeps a fake backend whose state the tests
// read and drive through `window.__dw`. Never reaches the network.
(() => {
  const scenario = window.__DW_SCENARIO__ ?? {};
  const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  const state = clone(scenario.snapshot);
  const history = clone(scenario.history ?? []);
  const failures = clone(scenario.failures ?? {});
  const calls = [];
  const csp = [];
  const callbacks = new Map();
  const listeners = new Map();
  let nextId = 1;
  let targetSeq = 100;

  document.addEventListener("securitypolicyviolation", (e) => {
    csp.push(`${e.violatedDirective} ${e.blockedURI}`);
  });

  function transformCallback(cb, once = false) {
    const id = nextId++;
    callbacks.set(id, (payload) => {
      if (once) callbacks.delete(id);
      cb(payload);
    });
    return id;
  }

  function emit(event, payload) {
    for (const l of listeners.get(event) ?? []) {
      const cb = callbacks.get(l.handler);
      if (cb) cb({ event, id: l.id, payload: clone(payload) });
    }
  }

  function fail(kind, message) {
    // Tauri rejects the invoke promise with the command's serialised error value.
    throw { kind, message };
  }

  function listChanges(q) {
    let rows = history.filter((c) => q.before == null || c.seq < q.before);
    if (q.kinds && q.kinds.length) rows = rows.filter((c) => q.kinds.includes(c.kind));
    if (q.account) rows = rows.filter((c) => c.account === q.account);
    if (q.target) rows = rows.filter((c) => c.target === q.target);
    if (q.group != null) rows = rows.filter((c) => (c.group || c.seq) === q.group);
    if (q.since) rows = rows.filter((c) => Date.parse(c.at) >= Date.parse(q.since));
    if (q.until) rows = rows.filter((c) => Date.parse(c.at) < Date.parse(q.until));
    if (q.folder) {
      const f = q.folder.toLowerCase();
      rows = rows.filter((c) => c.path.toLowerCase() === f || c.path.toLowerCase().startsWith(`${f}/`));
    }
    if (q.text) {
      const n = q.text.toLowerCase();
      rows = rows.filter((c) => [c.name, c.path, c.oldPath ?? "", c.by ?? ""].some((h) => h.toLowerCase().includes(n)));
    }
    rows.sort((a, b) => b.seq - a.seq);
    const limit = Math.min(q.limit || 50, 50);
    const page = rows.slice(0, limit);
    return { changes: page, nextBefore: rows.length > limit ? page[page.length - 1].seq : null };
  }

  const handlers = {
    get_snapshot: () => state,
    start_sign_in: ({ kind }) => {
      if (!state.clientIdConfigured) fail("noClientId", "No application (client) id is configured.");
      const prompt = {
        userCode: scenario.userCode ?? "K7QF-M2XB",
        verificationUri: "https://microsoft.com/devicelogin",
        expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
        message: "To sign in, use a web browser to open the page and enter the code.",
      };
      state.signIn = prompt;
      void kind;
      return prompt;
    },
    cancel_sign_in: () => {
      state.signIn = null;
      return null;
    },
    sign_out: ({ account }) => {
      state.accounts = state.accounts.filter((a) => a.id !== account);
      state.targets = state.targets.filter((t) => t.account !== account);
      return null;
    },
    list_changes: ({ query }) => listChanges(query),
    add_target: ({ account, url }) => {
      if (url.includes("/sites/missing")) fail("invalidInput", "No SharePoint site was found at this address.");
      if (url.includes("/sites/denied")) fail("accessDenied", "Your account cannot read this library.");
      const site = decodeURIComponent(new URL(url).pathname.split("/").filter(Boolean)[1] ?? "Library");
      const target = {
        id: `t${++targetSeq}`,
        account,
        label: `${site} › Documents`,
        spec: { type: "driveList", driveId: `b!${targetSeq}` },
        status: { state: "connecting" },
      };
      state.targets.push(target);
      return target;
    },
    remove_target: ({ target }) => {
      state.targets = state.targets.filter((t) => t.id !== target);
      return null;
    },
    save_preferences: ({ preferences }) => {
      state.preferences = preferences;
      return state;
    },
    set_pause: ({ pause }) => {
      if (pause === "resume") state.pausedUntil = null;
      else if (pause === "oneHour") state.pausedUntil = new Date(Date.now() + 3_600_000).toISOString();
      else {
        const d = new Date(Date.now() + 86_400_000);
        d.setHours(8, 0, 0, 0);
        state.pausedUntil = d.toISOString();
      }
      return state;
    },
    mute_folder: ({ target, folder, duration }) => {
      const until =
        duration === "always"
          ? null
          : new Date(Date.now() + (duration === "oneHour" ? 1 : duration === "threeHours" ? 3 : 18) * 3_600_000).toISOString();
      state.preferences.mutes = [...(state.preferences.mutes ?? []), { folder, target, until }];
      return state;
    },
    unmute: ({ mute }) => {
      const same = (m) => m.folder === mute.folder && m.target === mute.target && m.until === mute.until;
      state.preferences.mutes = (state.preferences.mutes ?? []).filter((m) => !same(m));
      return state;
    },
    mark_seen: () => {
      state.unread = 0;
      return state;
    },
    open_change: () => null,
    open_verification_page: () => null,
    set_client_id: ({ clientId }) => {
      if (!/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(clientId)) {
        fail("invalidInput", "The application id must be a GUID.");
      }
      state.clientIdConfigured = true;
      return state;
    },
    "plugin:event|listen": ({ event, handler }) => {
      const id = nextId++;
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push({ id, handler });
      return id;
    },
    "plugin:event|unlisten": ({ event, eventId }) => {
      listeners.set(event, (listeners.get(event) ?? []).filter((l) => l.id !== eventId));
      return null;
    },
  };

  async function invoke(cmd, args = {}) {
    if (!cmd.startsWith("plugin:")) calls.push({ cmd, args: clone(args) });
    const handler = handlers[cmd];
    if (!handler) throw new Error(`mock: unknown command ${cmd}`);
    const queued = failures[cmd];
    if (queued && queued.length) {
      const err = queued.shift();
      throw err;
    }
    await new Promise((r) => setTimeout(r, scenario.latencyMs ?? 0));
    return clone(handler(args));
  }

  window.__TAURI_INTERNALS__ = {
    invoke,
    transformCallback,
    unregisterCallback: (id) => callbacks.delete(id),
    convertFileSrc: (p) => p,
    metadata: { currentWindow: { label: "main" }, currentWebview: { label: "main", windowLabel: "main" } },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = {
    unregisterListener: (event, id) => {
      listeners.set(event, (listeners.get(event) ?? []).filter((l) => l.id !== id));
    },
  };
  window.__dw = {
    calls,
    csp,
    state,
    history,
    emit,
    failNext: (cmd, error) => {
      (failures[cmd] ??= []).push(error);
    },
    listenerCount: (event) => (listeners.get(event) ?? []).length,
  };
})();
