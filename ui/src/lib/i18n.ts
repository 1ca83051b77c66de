/**
 * The window's words in English and Russian, and the choice between them.
 *
 * Why: the window, the tray and the notifications speak from one set of Project Fluent catalogs
 * (`crates/core/locales/*.ftl`, which the Rust side embeds for toasts and the tray), so a string
 * exists once, every face of the app names a state the same way, and counts follow each
 * language's plural rules. This module is the thin loader over @fluent/bundle; it holds no
 * messages of its own. The window follows the OS language unless the user picks one in
 * Settings. Never put markup in a message: messages are rendered as text, and any untrusted
 * value (a file name, a reason from the engine) is substituted as text too, without Unicode
 * isolation marks.
 */

import { FluentBundle, FluentResource, type FluentVariable } from "@fluent/bundle";
import enSource from "../../../crates/core/locales/en.ftl?raw";
import ruSource from "../../../crates/core/locales/ru.ftl?raw";
import type { Language } from "../bindings";

export type Locale = "en" | "ru";

/** A message id of the catalogs; the vitest suite checks every id the UI names exists. */
export type MessageKey = string;

const sources: Record<Locale, string> = { en: enSource, ru: ruSource };

interface Catalog {
  bundle: FluentBundle;
  keys: string[];
  /** Syntax errors and duplicate keys found while loading; the tests want none. */
  errors: string[];
}

function load(locale: Locale): Catalog {
  const resource = new FluentResource(sources[locale]);
  // The tray and toasts are plain text, and so is the window: no isolation marks anywhere.
  const bundle = new FluentBundle(locale, { useIsolating: false });
  const errors = bundle.addResource(resource).map((e) => e.message);
  const keys = resource.body.map((entry) => entry.id).filter((id) => !id.startsWith("-"));
  return { bundle, keys, errors };
}

const catalogs: Record<Locale, Catalog> = { en: load("en"), ru: load("ru") };

/** The locale for a saved preference, `system` following the OS's preferred languages. */
export function resolveLocale(pref: Language | undefined, systemLanguages: readonly string[]): Locale {
  if (pref === "en" || pref === "ru") return pref;
  for (const tag of systemLanguages) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "ru") return "ru";
    if (base === "en") return "en";
  }
  return "en";
}

function format(bundle: FluentBundle, key: string, params: Record<string, FluentVariable>, errors: Error[]): string | null {
  const pattern = bundle.getMessage(key)?.value;
  return pattern ? bundle.formatPattern(pattern, params, errors) : null;
}

/**
 * A message with its `{ $name }` placeables filled from `params`, as plain text. Numbers select
 * plural forms and are shown with the locale's digit grouping. A placeable without a value stays
 * visible as `{name}` rather than dropping text; an unknown key shows itself.
 */
export function translate(locale: Locale, key: MessageKey, params: Record<string, string | number> = {}): string {
  const catalog = catalogs[locale].bundle.hasMessage(key) ? catalogs[locale] : catalogs.en;
  const errors: Error[] = [];
  const text = format(catalog.bundle, key, params, errors);
  if (text === null) return key;
  const missing = errors
    .map((e) => /^Unknown variable: \$(\w+)/.exec(e.message)?.[1])
    .filter((name): name is string => name !== undefined);
  if (missing.length === 0) return text;
  const shown = Object.fromEntries(missing.map((name) => [name, `{${name}}`]));
  return format(catalog.bundle, key, { ...shown, ...params }, []) ?? key;
}

/** Every message id of a catalog, for the completeness tests. */
export function messageKeys(locale: Locale): string[] {
  return [...catalogs[locale].keys];
}

/** What went wrong loading a catalog (syntax errors, duplicate ids); empty when all is well. */
export function catalogErrors(locale: Locale): string[] {
  return [...catalogs[locale].errors];
}
