// Data for the scripted backend: two accounts, a target in every status, and a history of
// changes over several days, all relative to a fixed clock so screenshots are reproducible.

export const NOW = new Date("2026-11-24T14:30:00Z");
const iso = (msAgo) => new Date(NOW.getTime() - msAgo).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;

export const accounts = [
  { id: "acc-alice", displayName: "Alice Example", username: "alice@contoso.com", kind: "work", state: "signedIn" },
  { id: "acc-alexey", displayName: "Алексей Петров", username: "alexey@outlook.com", kind: "personal", state: "signedIn" },
];

export const targets = [
  { id: "t-onedrive", account: "acc-alice", label: "OneDrive", spec: { type: "myDrive" }, status: { state: "live" } },
  {
    id: "t-marketing",
    account: "acc-alice",
    label: "Marketing › Documents",
    spec: { type: "siteList", siteId: "s1", listId: "l1" },
    status: { state: "polling", reason: "the network does not allow WebSocket connections" },
  },
  {
    id: "t-finance",
    account: "acc-alice",
    label: "Finance › Reports",
    spec: { type: "driveList", driveId: "d2" },
    status: { state: "reconnecting", reason: "the connection to Microsoft was lost" },
  },
  {
    id: "t-sales",
    account: "acc-alice",
    label: "Sales › Shared Documents",
    spec: { type: "groupDrive", groupId: "g1" },
    status: { state: "throttled", until: new Date(NOW.getTime() + 4 * MIN).toISOString() },
  },
  {
    id: "t-photos",
    account: "acc-alexey",
    label: "Фотографии",
    spec: { type: "drive", driveId: "d3" },
    status: { state: "resyncing", pages: 14, items: 2731 },
  },
  { id: "t-archive", account: "acc-alexey", label: "Archive", spec: { type: "drive", driveId: "d4" }, status: { state: "needsSignIn" } },
  {
    id: "t-legal",
    account: "acc-alice",
    label: "Legal › Contracts",
    spec: { type: "driveList", driveId: "d5" },
    status: { state: "error", reason: "the library was deleted" },
  },
];

export function snapshot(over = {}) {
  return {
    accounts,
    targets,
    preferences: {
      notifyOwnChanges: false,
      quietHours: null,
      mutedPatterns: ["*.tmp"],
      startAtLogin: false,
      language: "system",
    },
    pausedUntil: null,
    demo: false,
    clientIdConfigured: true,
    signIn: null,
    ...over,
  };
}

const KINDS = ["created", "modified", "renamed", "moved", "deleted"];
const NAMES = ["Budget 2027.xlsx", "Roadmap.pptx", "Отчёт за ноябрь.docx", "Team photo.jpg", "Notes.md", "Contract draft.pdf", "Q4 Plan.docx"];
const FOLDERS = ["/Finance", "/Marketing/Campaigns", "/Документы", "/Photos/2026", "", "/Legal/Drafts", "/Planning"];
const PEOPLE = ["Alice Example", "Bob Builder", "Мария Иванова", null, "Chen Wei"];

export function change(seq, over = {}) {
  const i = seq % NAMES.length;
  const kind = KINDS[seq % KINDS.length];
  const name = NAMES[i];
  const folder = FOLDERS[i];
  const target = ["t-onedrive", "t-marketing", "t-photos"][seq % 3];
  return {
    seq,
    kind,
    name,
    path: `${folder}/${name}`,
    oldPath: kind === "renamed" ? `${folder}/Old ${name}` : kind === "moved" ? `/Inbox/${name}` : null,
    isFolder: false,
    itemId: `item-${seq}`,
    driveId: "drive-1",
    by: PEOPLE[seq % PEOPLE.length],
    own: seq % 11 === 0,
    at: iso((140 - seq) * 37 * MIN + 2 * MIN),
    webUrl: `https://contoso.sharepoint.com/item/${seq}`,
    account: target === "t-photos" ? "acc-alexey" : "acc-alice",
    target,
    caughtUp: seq >= 118 && seq <= 121,
    ...over,
  };
}

/** 140 changes, newest (seq 140, two minutes ago) first, spread over about four days. */
export function history(count = 140) {
  const rows = [];
  for (let seq = count; seq >= 1; seq--) rows.push(change(seq));
  return rows;
}

export const HOURS = HOUR;
