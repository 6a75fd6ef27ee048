import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";

const root = join(__dirname, "..");
const committed = join(root, "console/src/gql");

it("console/src/gql is what codegen produces from the schema and the console's documents (run `npm run codegen`)", () => {
  // console/codegen.yml, with its output in a temporary folder instead of the committed one.
  const dir = mkdtempSync(join(tmpdir(), "segments-console-codegen-"));
  try {
    const config = YAML.parse(readFileSync(join(root, "console/codegen.yml"), "utf8"));
    config.generates = { [`${dir}/gql/`]: config.generates["console/src/gql/"] };
    writeFileSync(join(dir, "codegen.yml"), YAML.stringify(config));
    execFileSync(process.execPath, [join(root, "node_modules/@graphql-codegen/cli/cjs/bin.js"), "--config", join(dir, "codegen.yml"), "--silent"], { cwd: root, stdio: "pipe" });
    const files = readdirSync(join(dir, "gql")).sort();
    expect(readdirSync(committed).sort()).toEqual(files);
    for (const file of files) expect(readFileSync(join(committed, file), "utf8")).toBe(readFileSync(join(dir, "gql", file), "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
