/**
 * A first, local check of an address pasted to watch a library.
 *
 * Why: the shell validates and resolves the URL for real (`addTarget`), but a user who pasted a
 * non-URL or some other site deserves an immediate, specific explanation without a round trip.
 * This check only rejects what certainly cannot work; it never accepts anything on the shell's
 * behalf, and never opens or fetches the URL.
 */

/** Each problem is also the catalog's key for its explanation. */
export type UrlProblem = "url_empty" | "url_notUrl" | "url_notHttps" | "url_notMicrosoft";

const MICROSOFT_HOSTS = ["onedrive.live.com", "1drv.ms", "onedrive.com"];

/** `null` when the address may be a OneDrive or SharePoint location, else what is wrong. */
export function checkTargetUrl(raw: string): UrlProblem | null {
  const text = raw.trim();
  if (text === "") return "url_empty";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "url_notUrl";
  }
  if (url.protocol === "http:") return "url_notHttps";
  if (url.protocol !== "https:") return "url_notUrl";
  const host = url.hostname.toLowerCase();
  const microsoft =
    MICROSOFT_HOSTS.includes(host) ||
    host.endsWith(".sharepoint.com") ||
    host.endsWith(".sharepoint.us") ||
    host.endsWith(".sharepoint.cn") ||
    host.endsWith(".sharepoint-mil.us");
  return microsoft ? null : "url_notMicrosoft";
}

const GUID = /^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;

/** Whether text is a GUID, the form of an application (client) ID. */
export function isGuid(raw: string): boolean {
  return GUID.test(raw.trim());
}
