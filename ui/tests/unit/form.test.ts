import { describe, expect, it } from "vitest";
import type { ConfigForm } from "../../src/api/commands";
import { applies, draft, inputValue, problemsByField, problemsElsewhere, secretStatus, visibleFields } from "../../src/lib/form";
import configForm from "../fixtures/config_form.json";

const form = configForm as unknown as ConfigForm;
const keys = (specs: { key: string }[]) => specs.map((s) => s.key);

describe("configuration form", () => {
  it("shows the fields of the chosen data source only", () => {
    const cloud = visibleFields(form.fields, { data_source: "confluence_cloud" });
    expect(keys(cloud.main)).toContain("api_token");
    expect(keys(cloud.main)).not.toContain("username");
    const server = visibleFields(form.fields, { data_source: "confluence_server" });
    expect(keys(server.main)).toEqual(expect.arrayContaining(["username", "password"]));
    expect(keys(server.main)).not.toContain("api_token");
  });

  it("follows the Data Center auth method and the SSL toggle", () => {
    const basic = visibleFields(form.fields, { data_source: "confluence_data_center", data_center_auth_method: "basic" });
    expect(keys(basic.main)).toContain("data_center_password");
    expect(keys(basic.main)).not.toContain("data_center_personal_access_token");
    const pat = visibleFields(form.fields, { data_source: "confluence_data_center", data_center_auth_method: "personal_access_token" });
    expect(keys(pat.main)).toContain("data_center_personal_access_token");
    const ssl = form.fields.find((f) => f.key === "ssl_ca")!;
    expect(applies(ssl, { ssl_enabled: false })).toBe(false);
    expect(applies(ssl, { ssl_enabled: true })).toBe(true);
  });

  it("puts the reference's advanced fields aside", () => {
    const { advanced } = visibleFields(form.fields, { data_source: "confluence_server" });
    expect(keys(advanced)).toEqual([
      "retry_count",
      "concurrent_downloads",
      "use_text_extraction_service",
      "tls_insecure_skip_verify",
      // The connection's deletion safety threshold, from the engine's field descriptions.
      "deletion_threshold_percent",
    ]);
  });

  it("shows Elasticsearch fields only for an Elasticsearch target", () => {
    expect(keys(visibleFields(form.target_fields, { target_kind: "local" }).main)).toEqual(["target_kind", "index_name"]);
    const es = visibleFields(form.target_fields, { target_kind: "elasticsearch", es_auth_method: "api_key" });
    expect(keys(es.main)).toEqual(expect.arrayContaining(["es_url", "es_api_key"]));
    expect(keys(es.main)).not.toContain("es_password");
  });

  it("reads numbers, and leaves bad numbers for the engine to name", () => {
    const retries = form.fields.find((f) => f.key === "retry_count")!;
    expect(inputValue(retries, "7")).toBe(7);
    expect(inputValue(retries, "many")).toBe("many");
    const labels = form.fields.find((f) => f.key === "index_labels")!;
    expect(inputValue(labels, true)).toBe(true);
  });

  it("attaches problems to fields and keeps the others visible", () => {
    const problems = [
      { field: "confluence_url", message: "a URL is required", severity: "error" as const },
      { field: "hidden", message: "x", severity: "warning" as const },
    ];
    expect(problemsByField(problems).confluence_url).toHaveLength(1);
    expect(problemsElsewhere(problems, new Set(["confluence_url"]))).toEqual([problems[1]]);
  });

  it("never shows a secret, only whether it is set", () => {
    expect(secretStatus("api_token", ["api_token"], {})).toBe("set");
    expect(secretStatus("api_token", [], {})).toBe("not set");
    expect(secretStatus("api_token", ["api_token"], { api_token: null })).toBe("will be cleared on save");
    expect(secretStatus("api_token", [], { api_token: "x" })).toBe("new value, saved on save");
    expect(draft(null, "A", { a: 1 }, { api_token: "t" })).toEqual({ id: null, name: "A", values: { a: 1 }, secrets: { api_token: "t" } });
  });
});
