import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { printAppSchema } from "../src/schema";

const root = join(__dirname, "..");

describe("generated artefacts", () => {
  it("schema/schema.graphql is what the code produces (run `npm run schema` after changing the API)", () => {
    expect(readFileSync(join(root, "schema/schema.graphql"), "utf8")).toBe(printAppSchema());
  });

  it("test/graphql/generated.ts is what codegen produces (run `npm run codegen` after changing operations)", () => {
    // The same codegen.yml, written to a temporary file instead of the committed one.
    const dir = mkdtempSync(join(tmpdir(), "segments-codegen-"));
    try {
      const config = YAML.parse(readFileSync(join(root, "codegen.yml"), "utf8"));
      const target = join(dir, "generated.ts");
      config.generates = { [target]: config.generates["test/graphql/generated.ts"] };
      writeFileSync(join(dir, "codegen.yml"), YAML.stringify(config));
      execFileSync(process.execPath, [join(root, "node_modules/@graphql-codegen/cli/cjs/bin.js"), "--config", join(dir, "codegen.yml"), "--silent"], {
        cwd: root,
        stdio: "pipe",
      });
      expect(readFileSync(join(root, "test/graphql/generated.ts"), "utf8")).toBe(readFileSync(target, "utf8"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
