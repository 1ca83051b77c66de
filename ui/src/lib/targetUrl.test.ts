import { describe, expect, it } from "vitest";
import { checkTargetUrl, isGuid } from "./targetUrl";

describe("checkTargetUrl", () => {
  it("accepts OneDrive and SharePoint addresses", () => {
    expect(checkTargetUrl("https://contoso.sharepoint.com/sites/Marketing/Shared%20Documents")).toBeNull();
    expect(checkTargetUrl("  https://contoso-my.sharepoint.com/personal/alice_contoso_com/Documents  ")).toBeNull();
    expect(checkTargetUrl("https://onedrive.live.com/?id=root&cid=ABC")).toBeNull();
    expect(checkTargetUrl("https://1drv.ms/f/s!AbCdEf")).toBeNull();
  });
  it("explains what is wrong with anything else", () => {
    expect(checkTargetUrl("")).toBe("url_empty");
    expect(checkTargetUrl("   ")).toBe("url_empty");
    expect(checkTargetUrl("Marketing documents")).toBe("url_notUrl");
    expect(checkTargetUrl("ftp://contoso.sharepoint.com/x")).toBe("url_notUrl");
    expect(checkTargetUrl("javascript:alert(1)")).toBe("url_notUrl");
    expect(checkTargetUrl("http://contoso.sharepoint.com/sites/x")).toBe("url_notHttps");
    expect(checkTargetUrl("https://example.com/sites/x")).toBe("url_notMicrosoft");
    expect(checkTargetUrl("https://sharepoint.com.evil.example/x")).toBe("url_notMicrosoft");
    expect(checkTargetUrl("https://evilsharepoint.com/x")).toBe("url_notMicrosoft");
  });
});

describe("isGuid", () => {
  it("accepts application ids with or without braces", () => {
    expect(isGuid("2f4a9b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c")).toBe(true);
    expect(isGuid(" {2F4A9B3C-1D2E-4F5A-8B9C-0D1E2F3A4B5C} ")).toBe(true);
  });
  it("rejects anything else", () => {
    expect(isGuid("")).toBe(false);
    expect(isGuid("my-app")).toBe(false);
    expect(isGuid("2f4a9b3c1d2e4f5a8b9c0d1e2f3a4b5c")).toBe(false);
    expect(isGuid("2f4a9b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5z")).toBe(false);
  });
});
