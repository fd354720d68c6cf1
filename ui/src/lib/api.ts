// The one client of the hub's HTTP API (docs/API.md). Every route has a typed method here; every
// failure becomes a `HubError` carrying the hub's `ApiError` body, so screens switch on `code`.
import { invoke } from "@tauri-apps/api/core";
import type { Dashboard } from "./bindings/Dashboard";
import type { ActionRequest } from "./bindings/ActionRequest";
import type { SitePublishedRestoreInput } from "./bindings/SitePublishedRestoreInput";
import type { ApiError } from "./bindings/ApiError";
import type { Attachment } from "./bindings/Attachment";
import type { AttachmentText } from "./bindings/AttachmentText";
import type { AuditReport } from "./bindings/AuditReport";
import type { Comment } from "./bindings/Comment";
import type { Holiday } from "./bindings/Holiday";
import type { ItemContent } from "./bindings/ItemContent";
import type { ItemDetail } from "./bindings/ItemDetail";
import type { ItemSummary } from "./bindings/ItemSummary";
import type { LockInfo } from "./bindings/LockInfo";
import type { LoginRequest } from "./bindings/LoginRequest";
import type { LoginResponse } from "./bindings/LoginResponse";
import type { MediaSettings } from "./bindings/MediaSettings";
import type { NewComment } from "./bindings/NewComment";
import type { NewUser } from "./bindings/NewUser";
import type { PagePreview } from "./bindings/PagePreview";
import type { PublishTargetInfo } from "./bindings/PublishTargetInfo";
import type { PublishTargetInput } from "./bindings/PublishTargetInput";
import type { RenderResponse } from "./bindings/RenderResponse";
import type { Revision } from "./bindings/Revision";
import type { RevisionDiff } from "./bindings/RevisionDiff";
import type { RevisionSummary } from "./bindings/RevisionSummary";
import type { SaveItem } from "./bindings/SaveItem";
import type { SetupRequest } from "./bindings/SetupRequest";
import type { SetupStatus } from "./bindings/SetupStatus";
import type { SopCheckRequest } from "./bindings/SopCheckRequest";
import type { SopCheckResult } from "./bindings/SopCheckResult";
import type { SopSummary } from "./bindings/SopSummary";
import type { TimelineEntry } from "./bindings/TimelineEntry";
import type { UpdateUser } from "./bindings/UpdateUser";
import type { User } from "./bindings/User";
import type { SessionInfo } from "./bindings/SessionInfo";
import type { RevokedSessions } from "./bindings/RevokedSessions";
import type { Unit } from "./bindings/Unit";
import type { UnitInput } from "./bindings/UnitInput";
import type { SiteBackupInfo } from "./bindings/SiteBackupInfo";
import type { SiteBackupDetail } from "./bindings/SiteBackupDetail";
import type { SiteRestoreInput } from "./bindings/SiteRestoreInput";
import type { SiteRestoreReport } from "./bindings/SiteRestoreReport";
import type { GuardSite } from "./bindings/GuardSite";
import type { GuardSiteInput } from "./bindings/GuardSiteInput";
import type { GuardPage } from "./bindings/GuardPage";
import type { GuardPageInput } from "./bindings/GuardPageInput";
import type { GuardPageUpdate } from "./bindings/GuardPageUpdate";
import type { GuardCheck } from "./bindings/GuardCheck";
import type { GuardIncident } from "./bindings/GuardIncident";
import type { GuardIncidentSummary } from "./bindings/GuardIncidentSummary";
import type { IncidentActionRequest } from "./bindings/IncidentActionRequest";
import type { IncidentDetail } from "./bindings/IncidentDetail";
import type { IncidentEvidence } from "./bindings/IncidentEvidence";
import type { IncidentSummary } from "./bindings/IncidentSummary";
import type { NewIncident } from "./bindings/NewIncident";
import type { SopRoles } from "./bindings/SopRoles";
import type { SopRolesInput } from "./bindings/SopRolesInput";
import { browserTokens, shellTokens, type TokenPlace, type TokenStorage } from "./connection";

/** A non-2xx answer from the hub (or no answer at all: status 0, code `internal`). */
export class HubError extends Error {
  readonly status: number;
  readonly body: ApiError;

  constructor(status: number, body: ApiError) {
    super(`${status} ${body.code}: ${body.message}`);
    this.name = "HubError";
    this.status = status;
    this.body = body;
  }
}

/** Reads an error response; a body that is not an `ApiError` still yields one, so callers never parse text. */
export function errorFromBody(status: number, text: string): HubError {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isApiError(parsed)) return new HubError(status, parsed);
  } catch {
    // Not JSON: fall through.
  }
  const code = status === 401 ? "unauthenticated" : status === 403 ? "forbidden" : status === 404 ? "not_found" : "internal";
  return new HubError(status, { code, message: text || `HTTP ${status}` });
}

function isApiError(v: unknown): v is ApiError {
  return typeof v === "object" && v !== null && typeof (v as { code?: unknown }).code === "string" && typeof (v as { message?: unknown }).message === "string";
}

/** Thrown when the hub cannot be reached at all (connection refused, DNS, CORS). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "NetworkError";
  }
}

// --- connection: base URL and token ---

let baseUrl: string | null = null;
let token: string | null = null;
let onUnauthenticated: (() => void) | null = null;
let tokens: TokenStorage | null = null;
let tokenPlace: TokenPlace = "memory";

function browserStorage(): Storage | null {
  try {
    return typeof sessionStorage === "undefined" ? null : sessionStorage;
  } catch {
    return null;
  }
}

/** Where tokens are kept: the shell's keyring inside Tauri, else sessionStorage (or memory). */
function tokenStorage(): TokenStorage {
  tokens ??= isTauri() ? shellTokens : browserTokens(browserStorage());
  return tokens;
}

/** Uses another token storage (tests). */
export function useTokenStorage(storage: TokenStorage): void {
  tokens = storage;
  token = null;
}

/**
 * Reads the kept token (at start-up): the app stays signed in across restarts inside Tauri. A
 * storage that fails counts as none (sign in again).
 */
export async function loadToken(): Promise<string | null> {
  try {
    const kept = await tokenStorage().load();
    token = kept.token;
    tokenPlace = kept.place;
  } catch (e) {
    console.error("loading the session", e);
    token = null;
    tokenPlace = "memory";
  }
  return token;
}

/** Where the current token is kept; `memory` means closing the app signs out. */
export function tokenKeptIn(): TokenPlace {
  return tokenPlace;
}

export function isTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

/** Finds the hub: the Tauri shell knows its port; a browser uses VITE_HUB_URL, `?hub=`, or its own origin. */
export async function connect(): Promise<string> {
  if (baseUrl) return baseUrl;
  let url: string;
  if (isTauri()) {
    url = await invoke<string>("hub_url");
  } else {
    const fromQuery = new URLSearchParams(location.search).get("hub");
    const fromEnv = import.meta.env.VITE_HUB_URL as string | undefined;
    url = fromQuery || fromEnv || location.origin;
  }
  baseUrl = url.replace(/\/+$/, "");
  return baseUrl;
}

/** The hub's base URL once `connect` has run (for resolving relative links it returns). */
export function hubBase(): string {
  return baseUrl ?? "";
}

/** Resolves a URL the hub gave (possibly relative, e.g. `/site/...`) against the hub. */
export function absoluteUrl(url: string): string {
  try {
    return new URL(url, baseUrl ?? undefined).href;
  } catch {
    return url;
  }
}

/**
 * Sets the token for the next requests at once, and keeps it (or forgets it) in the storage;
 * resolves to where it was kept. A storage failure leaves the token in memory.
 */
export async function setToken(value: string | null): Promise<TokenPlace> {
  token = value;
  const storage = tokenStorage();
  try {
    if (value) tokenPlace = await storage.save(value);
    else {
      await storage.clear();
      tokenPlace = "memory";
    }
  } catch (e) {
    console.error("keeping the session", e);
    tokenPlace = "memory";
  }
  return tokenPlace;
}

export function hasToken(): boolean {
  return token !== null;
}

/** The session token, for handing to the desktop shell (which acts for the user in imports). */
export function currentToken(): string | null {
  return token;
}

/** Called when the hub says the session is gone (401 unauthenticated) on a signed-in request. */
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { ...extra };
  if (token) h["Authorization"] = `Bearer ${token}`;
  return h;
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const base = await connect();
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new NetworkError(e);
  }
  if (!res.ok) {
    const err = errorFromBody(res.status, await res.text().catch(() => ""));
    if (err.body.code === "unauthenticated" && token && onUnauthenticated) onUnauthenticated();
    throw err;
  }
  return res;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body);
  return (await res.json()) as T;
}

async function empty(method: string, path: string, body?: unknown): Promise<void> {
  await send(method, path, body);
}

const enc = encodeURIComponent;

export type ItemFilter = "all" | "published" | "mine";

/** Upload progress: bytes sent so far of the total. */
export type Progress = { loaded: number; total: number };

export const hub = {
  setupStatus: () => json<SetupStatus>("GET", "/api/v1/setup"),
  setup: (req: SetupRequest) => json<LoginResponse>("POST", "/api/v1/setup", req),
  login: (req: LoginRequest) => json<LoginResponse>("POST", "/api/v1/auth/login", req),
  logout: () => empty("POST", "/api/v1/auth/logout"),
  me: () => json<User>("GET", "/api/v1/me"),

  users: () => json<User[]>("GET", "/api/v1/users"),
  addUser: (req: NewUser) => json<User>("POST", "/api/v1/users", req),
  updateUser: (id: number, req: UpdateUser) => json<User>("PUT", `/api/v1/users/${id}`, req),
  mySessions: () => json<SessionInfo[]>("GET", "/api/v1/me/sessions"),
  endMySession: (id: number) => empty("DELETE", `/api/v1/me/sessions/${id}`),
  userSessions: (id: number) => json<SessionInfo[]>("GET", `/api/v1/users/${id}/sessions`),
  endUserSessions: (id: number) => json<RevokedSessions>("POST", `/api/v1/users/${id}/sessions/revoke`),
  units: () => json<Unit[]>("GET", "/api/v1/units"),
  addUnit: (req: UnitInput) => json<Unit>("POST", "/api/v1/units", req),
  renameUnit: (id: number, req: UnitInput) => json<Unit>("PUT", `/api/v1/units/${id}`, req),

  tasks: () => json<ItemSummary[]>("GET", "/api/v1/tasks"),
  /** Newest first, one page (the hub's default: 200). `search`: every word must appear. */
  items: (filter: ItemFilter, search = "") =>
    json<ItemSummary[]>(
      "GET",
      `/api/v1/items?filter=${filter}${search.trim() ? `&q=${encodeURIComponent(search.trim())}` : ""}`,
    ),
  createItem: (content: ItemContent) => json<ItemDetail>("POST", "/api/v1/items", content),
  item: (id: number) => json<ItemDetail>("GET", `/api/v1/items/${id}`),
  saveItem: (id: number, req: SaveItem) => json<ItemDetail>("PUT", `/api/v1/items/${id}`, req),
  act: (id: number, action: string, req: ActionRequest) =>
    json<ItemDetail>("POST", `/api/v1/items/${id}/actions/${enc(action)}`, req),
  claim: (id: number) => json<ItemDetail>("POST", `/api/v1/items/${id}/claim`),
  /** Publisher: takes a published item off every website; `note` is the reason (required). */
  unpublish: (id: number, req: ActionRequest) => json<ItemDetail>("POST", `/api/v1/items/${id}/unpublish`, req),
  /** Editor: reopens a published item into `edit` (the caller gets the lock); `note` says what to correct. */
  correct: (id: number, req: ActionRequest) => json<ItemDetail>("POST", `/api/v1/items/${id}/correct`, req),
  /** Publisher: tries the item's waiting publications now. */
  retryPublishing: (id: number) => json<ItemDetail>("POST", `/api/v1/items/${id}/publishing/retry`),
  setAttachmentText: (itemId: number, attachmentId: number, text: AttachmentText) =>
    json<Attachment>("PUT", `/api/v1/items/${itemId}/attachments/${attachmentId}/text`, text),
  releaseLock: (id: number) => json<ItemDetail>("DELETE", `/api/v1/items/${id}/lock`),
  /** The holder keeps the edit lock: it lapses after inactivity otherwise. */
  keepLock: (id: number) => json<LockInfo>("PUT", `/api/v1/items/${id}/lock`),
  comment: (id: number, req: NewComment) => json<Comment>("POST", `/api/v1/items/${id}/comments`, req),
  revisions: (id: number) => json<RevisionSummary[]>("GET", `/api/v1/items/${id}/revisions`),
  revision: (id: number, version: number) => json<Revision>("GET", `/api/v1/items/${id}/revisions/${version}`),
  diff: (id: number, from: number, to: number) =>
    json<RevisionDiff>("GET", `/api/v1/items/${id}/diff?from=${from}&to=${to}`),
  timeline: (id: number) => json<TimelineEntry[]>("GET", `/api/v1/items/${id}/timeline`),
  preview: (id: number) => json<PagePreview>("GET", `/api/v1/items/${id}/preview`),
  render: (markdown: string) => json<RenderResponse>("POST", "/api/v1/render", { markdown }),

  sops: () => json<SopSummary[]>("GET", "/api/v1/sops"),
  checkSop: (req: SopCheckRequest) => json<SopCheckResult>("POST", "/api/v1/sops/check", req),
  holidays: () => json<Holiday[]>("GET", "/api/v1/holidays"),
  setHolidays: (list: Holiday[]) => json<Holiday[]>("PUT", "/api/v1/holidays", list),
  verifyAudit: () => json<AuditReport>("GET", "/api/v1/audit/verify"),
  targets: () => json<PublishTargetInfo[]>("GET", "/api/v1/targets"),
  addTarget: (req: PublishTargetInput) => json<PublishTargetInfo>("POST", "/api/v1/targets", req),
  /** Without `secret`, the stored one is kept. */
  updateTarget: (id: number, req: PublishTargetInput) => json<PublishTargetInfo>("PUT", `/api/v1/targets/${id}`, req),
  siteBackups: (target: number) => json<SiteBackupInfo[]>("GET", `/api/v1/targets/${target}/site-backups`),
  backUpSite: (target: number) => json<SiteBackupInfo>("POST", `/api/v1/targets/${target}/site-backups`),
  siteBackup: (id: number) => json<SiteBackupDetail>("GET", `/api/v1/site-backups/${id}`),
  verifySiteBackup: (id: number) => json<SiteBackupInfo>("POST", `/api/v1/site-backups/${id}/verify`),
  /** Without `key`, everything is restored. */
  restoreSite: (backup: number, req: SiteRestoreInput) =>
    json<SiteRestoreReport>("POST", `/api/v1/site-backups/${backup}/restore`, req),
  /** The item's page on website `target` back to the version Warta published, with the proof. */
  restorePublished: (target: number, req: SitePublishedRestoreInput) =>
    json<SiteRestoreReport>("POST", `/api/v1/targets/${target}/restore-published`, req),
  siteRestores: (target: number) => json<SiteRestoreReport[]>("GET", `/api/v1/targets/${target}/site-restores`),
  /** Per SOP and step, the met rate and times of a period (`dashboardPath` in reports.ts). */
  dashboard: (path: string) => json<Dashboard>("GET", path),
  /** A report or SOP print (`reportPath`, `sopPath` in reports.ts) as bytes. */
  async report(path: string): Promise<Blob> {
    const res = await send("GET", path);
    return res.blob();
  },
  guardSites: () => json<GuardSite[]>("GET", "/api/v1/guard/sites"),
  setGuardSite: (target: number, req: GuardSiteInput) => json<GuardSite>("PUT", `/api/v1/guard/sites/${target}`, req),
  guardPages: (target?: number) =>
    json<GuardPage[]>("GET", target === undefined ? "/api/v1/guard/pages" : `/api/v1/guard/pages?target_id=${target}`),
  addGuardPage: (req: GuardPageInput) => json<GuardPage>("POST", "/api/v1/guard/pages", req),
  updateGuardPage: (id: number, req: GuardPageUpdate) => json<GuardPage>("PUT", `/api/v1/guard/pages/${id}`, req),
  removeGuardPage: (id: number) => empty("DELETE", `/api/v1/guard/pages/${id}`),
  checkGuardPage: (id: number) => json<GuardCheck>("POST", `/api/v1/guard/pages/${id}/check`),
  approveGuardBaseline: (id: number) => json<GuardPage>("POST", `/api/v1/guard/pages/${id}/baseline`),
  guardChecks: (pageId: number, limit = 20) => json<GuardCheck[]>("GET", `/api/v1/guard/checks?page_id=${pageId}&limit=${limit}`),
  guardIncidents: (state?: "open" | "resolved") =>
    json<GuardIncidentSummary[]>("GET", state ? `/api/v1/guard/incidents?state=${state}` : "/api/v1/guard/incidents"),
  guardIncident: (id: number) => json<GuardIncident>("GET", `/api/v1/guard/incidents/${id}`),
  resolveGuardIncident: (id: number, note: string) => json<GuardIncident>("POST", `/api/v1/guard/incidents/${id}/resolve`, { note }),
  incidents: (state: "open" | "closed" | "all", sop: "sop-d" | "sop-b" | "all") =>
    json<IncidentSummary[]>("GET", `/api/v1/incidents?state=${state}&sop=${sop}`),
  sopRoles: (sop: string) => json<SopRoles>("GET", `/api/v1/sops/${enc(sop)}/roles`),
  setSopRoles: (sop: string, req: SopRolesInput) => json<SopRoles>("PUT", `/api/v1/sops/${enc(sop)}/roles`, req),
  incidentTasks: () => json<IncidentSummary[]>("GET", "/api/v1/incidents/tasks"),
  incident: (id: number) => json<IncidentDetail>("GET", `/api/v1/incidents/${id}`),
  createIncident: (req: NewIncident) => json<IncidentDetail>("POST", "/api/v1/incidents", req),
  actOnIncident: (id: number, action: string, req: IncidentActionRequest) =>
    json<IncidentDetail>("POST", `/api/v1/incidents/${id}/actions/${enc(action)}`, req),
  commentOnIncident: (id: number, body: string) => json<Comment>("POST", `/api/v1/incidents/${id}/comments`, { body }),
  incidentTimeline: (id: number) => json<TimelineEntry[]>("GET", `/api/v1/incidents/${id}/timeline`),
  /** Attaches a file as evidence (the raw body; evidence files are small: logs, captures). */
  async addIncidentEvidence(id: number, file: File): Promise<IncidentEvidence> {
    const base = await connect();
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1/incidents/${id}/evidence?filename=${enc(file.name)}`, {
        method: "POST",
        headers: headers({ "Content-Type": "application/octet-stream" }),
        body: file,
      });
    } catch (e) {
      throw new NetworkError(e);
    }
    if (!res.ok) {
      const err = errorFromBody(res.status, await res.text().catch(() => ""));
      if (err.body.code === "unauthenticated" && token && onUnauthenticated) onUnauthenticated();
      throw err;
    }
    return (await res.json()) as IncidentEvidence;
  },
  /** A piece of evidence's bytes (they need the auth header). */
  async incidentEvidenceBlob(id: number, evidenceId: number): Promise<Blob> {
    const res = await send("GET", `/api/v1/incidents/${id}/evidence/${evidenceId}/content`);
    return res.blob();
  },
  mediaSettings: () => json<MediaSettings>("GET", "/api/v1/settings/media"),
  setMediaSettings: (s: MediaSettings) => json<MediaSettings>("PUT", "/api/v1/settings/media", s),

  /**
   * Opens the change feed (`GET /events`, server-sent events) for `LiveConnection` (live.ts). The
   * answer is returned as is, whatever its status; only an unreachable hub throws.
   */
  async openEvents(lastEventId: string | null, signal: AbortSignal): Promise<Response> {
    const base = await connect();
    const extra: Record<string, string> = { Accept: "text/event-stream" };
    if (lastEventId !== null) extra["Last-Event-ID"] = lastEventId;
    return fetch(`${base}/api/v1/events`, { headers: headers(extra), signal, cache: "no-store" });
  },

  /** Bytes behind a signed URL the hub gave (`Attachment.original_url`); no token needed. */
  async signedBlob(url: string): Promise<Blob> {
    let res: Response;
    try {
      res = await fetch(absoluteUrl(url));
    } catch (e) {
      throw new NetworkError(e);
    }
    if (!res.ok) throw errorFromBody(res.status, await res.text().catch(() => ""));
    return res.blob();
  },

  /** The attachment's bytes; they need the auth header, so `<img src>` cannot fetch them itself. */
  async attachmentBlob(id: number): Promise<Blob> {
    const res = await send("GET", `/api/v1/attachments/${id}/content`);
    return res.blob();
  },

  /** Uploads one file as the raw body. XMLHttpRequest, because fetch reports no upload progress. */
  async upload(itemId: number, file: File, onProgress: (p: Progress) => void): Promise<Attachment> {
    const base = await connect();
    return new Promise<Attachment>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `${base}/api/v1/items/${itemId}/attachments?filename=${enc(file.name)}`);
      for (const [k, v] of Object.entries(headers({ "Content-Type": "application/octet-stream" }))) {
        xhr.setRequestHeader(k, v);
      }
      xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
      xhr.onerror = () => reject(new NetworkError(new Error("upload failed")));
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress({ loaded: file.size, total: file.size });
          try {
            resolve(JSON.parse(xhr.responseText) as Attachment);
          } catch (e) {
            reject(new NetworkError(e));
          }
        } else {
          const err = errorFromBody(xhr.status, xhr.responseText);
          if (err.body.code === "unauthenticated" && token && onUnauthenticated) onUnauthenticated();
          reject(err);
        }
      };
      xhr.send(file);
    });
  },
};
