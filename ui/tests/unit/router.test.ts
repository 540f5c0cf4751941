import { afterEach, describe, expect, it } from "vitest";
import { answerLeave, go, goNow, guardLeave, leaving, route } from "../../src/lib/router.svelte";
import { formChanged } from "../../src/lib/form";

let release: (() => void) | null = null;

afterEach(() => {
  release?.();
  release = null;
  goNow("connections");
});

describe("leaving a form with unsaved changes", () => {
  it("asks instead of leaving, and keeps the screen when the admin keeps editing", () => {
    goNow("config", "c1");
    let dirty = true;
    release = guardLeave({ what: "the configuration", dirty: () => dirty });
    go("dashboard", "c1");
    expect(route).toEqual({ screen: "config", id: "c1" });
    expect(leaving).toEqual({ to: { screen: "dashboard", id: "c1" }, what: "the configuration" });
    answerLeave(false);
    expect(leaving.to).toBeNull();
    expect(route).toEqual({ screen: "config", id: "c1" });
    // Saved: nothing to ask.
    dirty = false;
    go("dashboard", "c1");
    expect(route).toEqual({ screen: "dashboard", id: "c1" });
    expect(leaving.to).toBeNull();
  });

  it("discards the edits and goes where the admin clicked", () => {
    goNow("rules", "c1");
    release = guardLeave({ what: "the sync rules", dirty: () => true });
    go("connections");
    answerLeave(true);
    expect(route).toEqual({ screen: "connections", id: null });
    // The guard went with the screen.
    go("schedules", "c1");
    expect(route).toEqual({ screen: "schedules", id: "c1" });
  });

  it("does not ask when the admin clicks the screen they are on, or once the screen is gone", () => {
    goNow("schedules", "c1");
    const off = guardLeave({ what: "the schedules", dirty: () => true });
    go("schedules", "c1");
    expect(leaving.to).toBeNull();
    off();
    go("dashboard", "c1");
    expect(route.screen).toBe("dashboard");
  });
});

describe("what counts as a change of the configuration", () => {
  it("ignores empty versus absent values and key order, not real edits", () => {
    expect(formChanged({ a: "x", b: "" }, { b: null, a: "x" })).toBe(false);
    expect(formChanged({ a: 3 }, { a: 3, c: "" })).toBe(false);
    expect(formChanged({ a: "x" }, { a: "y" })).toBe(true);
    expect(formChanged({ spaces: ["A"] }, { spaces: ["A", "B"] })).toBe(true);
  });
});
