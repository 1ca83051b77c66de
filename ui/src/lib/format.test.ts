import { describe, expect, it } from "vitest";
import { clockTime, countdown, dayKey, dayLabel, exactTime, folderOf, formatCount, relativeTime, spanEnd, untilTime } from "./format";

const NOW = new Date("2026-11-24T12:00:00Z");
const words = { today: "Today", yesterday: "Yesterday" };

describe("relativeTime", () => {
  it("says now for the last few seconds", () => {
    expect(relativeTime("2026-11-24T11:59:40Z", NOW, "en")).toBe("now");
  });
  it("counts minutes, hours and days back", () => {
    expect(relativeTime("2026-11-24T11:55:00Z", NOW, "en")).toBe("5 minutes ago");
    expect(relativeTime("2026-11-24T09:00:00Z", NOW, "en")).toBe("3 hours ago");
    expect(relativeTime("2026-11-23T12:00:00Z", NOW, "en")).toBe("yesterday");
    expect(relativeTime("2026-11-20T12:00:00Z", NOW, "en")).toBe("4 days ago");
  });
  it("speaks of the future for throttling deadlines", () => {
    expect(relativeTime("2026-11-24T12:03:00Z", NOW, "en")).toBe("in 3 minutes");
  });
  it("uses Russian plural forms", () => {
    expect(relativeTime("2026-11-24T11:55:00Z", NOW, "ru")).toBe("5 минут назад");
    expect(relativeTime("2026-11-24T11:58:00Z", NOW, "ru")).toBe("2 минуты назад");
    expect(relativeTime("2026-11-24T11:39:00Z", NOW, "ru")).toBe("21 минуту назад");
  });
  it("shows a malformed timestamp as it is instead of throwing", () => {
    expect(relativeTime("not a date", NOW, "en")).toBe("not a date");
    expect(exactTime("garbage", "en")).toBe("garbage");
  });
});

describe("exact and clock time", () => {
  it("formats the full date and time in the given zone", () => {
    const s = exactTime("2026-11-24T14:32:05Z", "en", "UTC");
    expect(s).toContain("Tuesday");
    expect(s).toContain("November 24, 2026");
    expect(s).toContain("2:32:05");
  });
  it("formats the time of day", () => {
    expect(clockTime("2026-11-24T14:32:05Z", "ru", "UTC")).toBe("14:32");
  });
});

describe("day grouping keys and labels", () => {
  it("keys by the local calendar day of the zone", () => {
    expect(dayKey("2026-11-24T23:30:00Z", "UTC")).toBe("2026-11-24");
    expect(dayKey("2026-11-24T23:30:00Z", "Europe/Moscow")).toBe("2026-11-25");
  });
  it("labels today and yesterday, then weekday and date", () => {
    expect(dayLabel("2026-11-24", NOW, "en", words, "UTC")).toBe("Today");
    expect(dayLabel("2026-11-23", NOW, "en", words, "UTC")).toBe("Yesterday");
    expect(dayLabel("2026-11-20", NOW, "en", words, "UTC")).toBe("Friday, November 20");
    expect(dayLabel("2026-11-20", NOW, "ru", words, "UTC")).toBe("пятница, 20 ноября");
  });
  it("adds the year for days of another year", () => {
    expect(dayLabel("2025-12-31", NOW, "en", words, "UTC")).toBe("Wednesday, December 31, 2025");
  });
});

describe("countdown", () => {
  it("shows minutes and seconds, rounding up, never negative", () => {
    expect(countdown(14 * 60_000 + 32_400)).toBe("14:33");
    expect(countdown(5_000)).toBe("0:05");
    expect(countdown(-3_000)).toBe("0:00");
    expect(countdown(3_723_000)).toBe("1:02:03");
  });
});

describe("folderOf", () => {
  it("takes the parent folder of a drive path", () => {
    expect(folderOf("/Finance/Budget.xlsx")).toBe("/Finance");
    expect(folderOf("/a/b/c/")).toBe("/a/b");
    expect(folderOf("/top.txt")).toBe("/");
    expect(folderOf("noslash")).toBe("/");
  });
});

describe("formatCount", () => {
  it("groups digits per locale", () => {
    expect(formatCount(12345, "en")).toBe("12,345");
    expect(formatCount(12345, "ru")).toBe("12\u00a0345");
  });
});

describe("spanEnd", () => {
  it("names a digest's ends with lowercased day words inside the sentence", () => {
    expect(spanEnd("2026-11-23T09:00:00Z", NOW, "ru", { today: "Сегодня", yesterday: "Вчера" }, "UTC")).toBe("вчера 09:00");
    expect(spanEnd("2026-11-24T09:00:00Z", NOW, "en", words, "UTC")).toBe("today 09:00 AM");
    expect(spanEnd("2026-11-20T09:00:00Z", NOW, "en", words, "UTC")).toBe("Friday, November 20 09:00 AM");
    expect(spanEnd("soon", NOW, "en", words)).toBe("soon");
  });
});

describe("untilTime", () => {
  it("gives the time alone today, the weekday within a week, and the date beyond", () => {
    expect(untilTime("2026-11-24T13:00:00Z", NOW, "ru", "UTC")).toBe("13:00");
    expect(untilTime("2026-11-25T08:00:00Z", NOW, "en", "UTC")).toBe("Wed 08:00 AM");
    expect(untilTime("2026-12-24T08:00:00Z", NOW, "en", "UTC")).toMatch(/Dec/);
  });
});
