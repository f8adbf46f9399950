import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { REPORT_INTERVAL_MS, ReportLimiter } from "../../../src/protocols/report-limiter.js";

describe("ReportLimiter", () => {
  test("lets the first event through, holds back the rest of its second, then says how many", () => {
    const limiter = new ReportLimiter();
    assert.equal(limiter.take(5_000), "");
    assert.equal(limiter.take(5_001), undefined);
    assert.equal(limiter.take(5_000 + REPORT_INTERVAL_MS - 1), undefined);
    assert.equal(limiter.take(5_000 + REPORT_INTERVAL_MS), " (2 more since the last report)");
    // The count starts over after each report.
    assert.equal(limiter.take(5_000 + 2 * REPORT_INTERVAL_MS), "");
  });

  test("the first event is reported whatever the clock's origin (a virtual clock at 0)", () => {
    assert.equal(new ReportLimiter().take(0), "");
  });
});
