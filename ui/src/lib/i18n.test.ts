import { describe, expect, it } from "vitest";
import { messageKeys, resolveLocale, translate } from "./i18n";

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
});
