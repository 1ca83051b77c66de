import { describe, expect, it } from "vitest";
import { catalogErrors, messageKeys, resolveLocale, translate } from "./i18n";

describe("resolveLocale", () => {
  it("follows the system language when set to system", () => {
    expect(resolveLocale("system", ["ru-RU", "en-US"])).toBe("ru");
    expect(resolveLocale("system", ["de-DE", "en-GB"])).toBe("en");
    expect(resolveLocale("system", ["de-DE"])).toBe("en");
    expect(resolveLocale(undefined, ["ru"])).toBe("ru");
  });
  it("uses an explicit choice over the system", () => {
    expect(resolveLocale("en", ["ru-RU"])).toBe("en");
    expect(resolveLocale("ru", ["en-US"])).toBe("ru");
  });
});

describe("translate", () => {
  it("substitutes values as plain text, untouched", () => {
    const name = "<img src=x onerror=alert(1)>.txt";
    expect(translate("en", "openItem", { name })).toBe(`Open ${name} in the browser`);
    expect(translate("en", "signedInAs", { name: "$& $1", username: "a@b" })).toBe("Signed in as $& $1 (a@b)");
    expect(translate("en", "openItem", { name: "{ $name }" })).toBe("Open { $name } in the browser");
  });
  it("leaves an unknown placeholder visible rather than dropping text", () => {
    expect(translate("en", "openItem")).toBe("Open {name} in the browser");
  });
  it("has every English message in Russian, none empty", () => {
    expect(messageKeys("ru").sort()).toEqual(messageKeys("en").sort());
    for (const key of messageKeys("ru")) {
      expect(translate("ru", key as never).trim(), key).not.toBe("");
    }
  });
  it("loads both catalogs without errors", () => {
    expect(catalogErrors("en")).toEqual([]);
    expect(catalogErrors("ru")).toEqual([]);
    expect(messageKeys("en").length).toBeGreaterThan(150);
  });
  it("never puts Unicode isolation marks around values", () => {
    for (const locale of ["en", "ru"] as const) {
      expect(translate(locale, "openItem", { name: "a.txt" })).not.toMatch(/[\u2068\u2069]/);
    }
  });
});

describe("plural rules", () => {
  const counts = [1, 2, 5, 21, 111];
  it("declines Russian counts in the window", () => {
    expect(counts.map((n) => translate("ru", "st_resyncing_text", { items: n, pages: n }))).toEqual([
      "Библиотека читается целиком: пока 1 объект на 1 странице.",
      "Библиотека читается целиком: пока 2 объекта на 2 страницах.",
      "Библиотека читается целиком: пока 5 объектов на 5 страницах.",
      "Библиотека читается целиком: пока 21 объект на 21 странице.",
      "Библиотека читается целиком: пока 111 объектов на 111 страницах.",
    ]);
    expect(counts.map((n) => translate("ru", "newChanges", { count: n }))).toEqual([
      "1 новое изменение — показать",
      "2 новых изменения — показать",
      "5 новых изменений — показать",
      "21 новое изменение — показать",
      "111 новых изменений — показать",
    ]);
  });
  it("says one item, two items in English", () => {
    expect(translate("en", "st_resyncing_text", { items: 1, pages: 1 })).toBe(
      "Reading the whole library once: 1 item in 1 page so far.",
    );
    expect(translate("en", "newChanges", { count: 2400 })).toBe("2,400 new — show");
  });
  it("names a state the same in the window and the tray", () => {
    expect(translate("en", "st_polling")).toBe("Checking regularly");
    expect(translate("en", "pausedUntil", { time: "14:00" })).toBe(`${translate("en", "st_paused")} until 14:00`);
    expect(translate("ru", "pausedUntil", { time: "14:00" })).toBe("Уведомления приостановлены до 14:00");
  });
});

describe("the UI's keys", () => {
  /** Every `t("key")` literal (and tab label) in the UI's sources, read through Vite. */
  function usedKeys(): string[] {
    const sources = import.meta.glob(["../**/*.svelte", "../**/*.ts", "!../**/*.test.ts"], {
      query: "?raw",
      import: "default",
      eager: true,
    }) as Record<string, string>;
    const keys = new Set<string>();
    for (const text of Object.values(sources)) {
      for (const m of text.matchAll(/\bt\(\s*"([A-Za-z][\w-]*)"/g)) keys.add(m[1]);
      for (const m of text.matchAll(/\blabel: "([A-Za-z][\w-]*)"/g)) keys.add(m[1]);
    }
    return [...keys];
  }
  it("names only keys the catalogs have", () => {
    const known = new Set(messageKeys("en"));
    const used = usedKeys();
    expect(used.length).toBeGreaterThan(100);
    expect(used.filter((k) => !known.has(k))).toEqual([]);
  });
});
