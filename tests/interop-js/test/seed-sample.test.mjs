// Interop with a client nobody here wrote: Microsoft's current JavaScript sample for the socketIo
// endpoint (`io(notificationUrl, { transports: ["websocket"] })`: socket.io-client takes the URL's
// path as the namespace and keeps its query), run with the official socket.io-client from npm
// against the graph emulator binary. The seed document's older bare sample (`io(notificationUrl)`,
// default transports, which start with long-polling) must be refused, as the real service refuses
// it (docs/PROTOCOL.md §2): a connect_error with "xhr poll error", never a connect.
//
// The emulator is started as a separate process (GRAPH_EMULATOR_BIN, or built with cargo) and
// everything talks to 127.0.0.1 only.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { io } from "socket.io-client";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..", "..", "..");
const DEMO_USER = "MeganB@contoso.onmicrosoft.com";
const OTHER_USER = "AlexW@contoso.onmicrosoft.com";
const CLIENT_ID = "11111111-2222-3333-4444-555555555555";

function emulatorBinary() {
  if (process.env.GRAPH_EMULATOR_BIN) return process.env.GRAPH_EMULATOR_BIN;
  execFileSync("cargo", ["build", "-q", "-p", "graph-emulator"], { cwd: repoRoot, stdio: "inherit" });
  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : path.join(repoRoot, "target");
  const bin = path.join(targetDir, "debug", process.platform === "win32" ? "graph-emulator.exe" : "graph-emulator");
  assert.ok(existsSync(bin), `emulator binary not found at ${bin}`);
  return bin;
}

let child;
let endpoints;

before(async () => {
  const bin = emulatorBinary();
  child = spawn(bin, ["--port", "0", "--coalescing-ms", "0", "--device-code-interval", "1", "--auto-approve", DEMO_USER], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  endpoints = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("emulator printed no address line")), 30_000);
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
    child.once("exit", (code) => reject(new Error(`emulator exited early (${code})`)));
  });
});

after(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  child.kill("SIGTERM");
  const { code } = await exited;
  assert.equal(code, 0, "SIGTERM ends the emulator cleanly");
});

async function form(url, fields) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json() };
}

// Signs in as the auto-approved demo user through the device code flow.
async function signIn() {
  const dc = await form(`${endpoints.authority}/common/oauth2/v2.0/devicecode`, {
    client_id: CLIENT_ID,
    scope: "Files.ReadWrite offline_access User.Read",
  });
  assert.equal(dc.status, 200);
  assert.ok(dc.body.verification_uri.startsWith(endpoints.authority));
  const tok = await form(`${endpoints.authority}/common/oauth2/v2.0/token`, {
    client_id: CLIENT_ID,
    grant_type: "urn:ietf:params:oauth:grant-type:device_code",
    device_code: dc.body.device_code,
  });
  assert.equal(tok.status, 200, JSON.stringify(tok.body));
  return tok.body.access_token;
}

async function graph(token, method, rel, body) {
  const res = await fetch(`${endpoints.graph}${rel}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json() };
}

function withTimeout(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)),
  ]);
}

test("Microsoft's current sample receives a notification after an upload through Graph", async () => {
  const token = await signIn();
  const sub = await graph(token, "GET", "/me/drive/root/subscriptions/socketIo");
  assert.equal(sub.status, 200);
  assert.ok(sub.body.expirationDateTime);

  // this is the notificationUrl returned from this API
  const notificationUrl = sub.body.notificationUrl;

  // 'io' comes from the socket.io client library; the service speaks websocket only
  const socket = io(notificationUrl, { transports: ["websocket"] });

  const connected = new Promise((resolve) => socket.on("connect", () => resolve()));
  const notified = new Promise((resolve) => socket.on("notification", (data) => resolve(data)));
  try {
    await withTimeout(connected, 10_000, "connect");
    assert.equal(socket.io.engine.transport.name, "websocket");

    const upload = await graph(token, "PUT", "/me/drive/root:/Interop/from-js.txt:/content", "hello from node");
    assert.equal(upload.status, 201, JSON.stringify(upload.body));

    const data = await withTimeout(notified, 10_000, "notification");
    assert.equal(typeof data, "string", "the argument is a JSON string");
    const parsed = JSON.parse(data);
    const n = parsed.value[0];
    assert.equal(n.subscriptionId, sub.body.id);
    assert.match(n.clientState, /^system-managed:/);
    assert.match(n.expirationDateTime, /\.\d{7}Z$/);
    assert.equal(n.changeType, undefined, "the real frame has no changeType");
  } finally {
    socket.close();
  }
});

test("the seed's bare io(notificationUrl) sample starts with long-polling and is refused", async () => {
  const token = await signIn();
  const sub = await graph(token, "GET", "/me/drive/root/subscriptions/socketIo");
  assert.equal(sub.status, 200);

  // this is the notificationUrl returned from this API
  var notificationUrl = sub.body.notificationUrl;

  // 'io' comes from the socket.io client library
  var socket = io(notificationUrl, { reconnection: false });

  let connected = false;
  socket.on("connect", () => {
    connected = true;
  });
  try {
    const refused = new Promise((resolve) => socket.on("connect_error", (err) => resolve(err)));
    const err = await withTimeout(refused, 10_000, "connect_error");
    assert.equal(err.message, "xhr poll error");
    assert.equal(connected, false);
    assert.equal(socket.connected, false);
  } finally {
    socket.close();
  }
});

test("a change by another user in the shared drive also notifies, and unknown tokens are refused", async () => {
  const token = await signIn();
  const drive = await graph(token, "GET", "/me/drive");
  const sub = await graph(token, "GET", `/drives/${encodeURIComponent(drive.body.id)}/root/subscriptions/socketIo`);
  assert.equal(sub.status, 200);
  const socket = io(sub.body.notificationUrl, { transports: ["websocket"] });
  const connected = new Promise((resolve) => socket.on("connect", () => resolve()));
  const notified = new Promise((resolve) => socket.on("notification", (data) => resolve(data)));
  try {
    await withTimeout(connected, 10_000, "connect");
    const res = await fetch(`${endpoints.authority}/_emulator/mutate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: OTHER_USER, drive: drive.body.id, op: "upload", path: "Shared with team/by-alex.txt", content: "hi" }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 200);
    assert.equal(typeof (await withTimeout(notified, 10_000, "notification")), "string");
  } finally {
    socket.close();
  }

  const bogus = io(`${endpoints.authority}/notifications?token=not-issued&applicationId=${CLIENT_ID}`, {
    transports: ["websocket"],
    reconnection: false,
  });
  try {
    const refused = new Promise((resolve) => bogus.on("connect_error", (err) => resolve(err)));
    const err = await withTimeout(refused, 10_000, "connect_error");
    assert.match(String(err.message), /unauthorized/);
    assert.equal(bogus.connected, false);
  } finally {
    bogus.close();
  }
});
