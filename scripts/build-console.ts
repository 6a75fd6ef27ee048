/**
 * Builds the console (console/src/main.tsx, Preact) and the GraphQL IDE (console/src/ide.tsx,
 * GraphiQL on React) into console/dist with esbuild: minified bundles with hashed names under
 * assets/, and the two HTML pages that load them (no inline script or style). A build is skipped
 * when console/dist was made from the same inputs: build.json there keeps the project files each
 * bundle was made from, and a hash of them, of package-lock.json and of this script.
 *
 *   node -r @swc-node/register scripts/build-console.ts           # only when stale (npm start runs this)
 *   node -r @swc-node/register scripts/build-console.ts --force   # always
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { BuildOptions, Metafile } from "esbuild";

const root = join(__dirname, "..");
export const consoleDist = join(root, "console", "dist");
const manifestPath = join(consoleDist, "build.json");

interface Manifest {
  fingerprint: string;
  /** Project files (relative to the root) the bundles were made from; dependencies are covered by package-lock.json. */
  inputs: string[];
}

/** Each page, the entry point whose bundle it loads, and the JSX runtime of that entry (the IDE is React, the console Preact). */
const PAGES = [
  { file: "index.html", name: "console", entry: "console/src/main.tsx", jsxImportSource: "preact", title: "segments console" },
  { file: "ide.html", name: "ide", entry: "console/src/ide.tsx", jsxImportSource: "react", title: "segments GraphQL IDE" },
] as const;

function fingerprint(inputs: string[]): string {
  const hash = createHash("sha256");
  for (const file of [...inputs, "package-lock.json", relative(root, __filename)].sort()) {
    const path = join(root, file);
    hash.update(file).update("\0").update(existsSync(path) ? readFileSync(path) : "missing").update("\0");
  }
  return hash.digest("hex");
}

/** Whether console/dist is missing or was built from other inputs than the ones on disk now. */
export function consoleIsStale(): boolean {
  if (!existsSync(manifestPath)) return true;
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest;
    return manifest.fingerprint !== fingerprint(manifest.inputs) || PAGES.some((page) => !existsSync(join(consoleDist, page.file)));
  } catch {
    return true;
  }
}

/** The brand mark, inline: a page asks for no /favicon.ico. */
const FAVICON =
  "data:image/svg+xml," +
  encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#4338ca"/><path d="M16 16V5a11 11 0 0 1 10.5 14.3z" fill="#a5b4fc"/></svg>');

function page(title: string, script: string, style: string | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<link rel="icon" href="${FAVICON}">
<title>${title}</title>
${style ? `<link rel="stylesheet" href="/${style}">\n` : ""}<script type="module" src="/${script}"></script>
</head>
<body>
<div id="root"></div>
<noscript>This page needs JavaScript.</noscript>
</body>
</html>
`;
}

/** The script and stylesheet made for an entry point, relative to console/dist. */
function outputsOf(metafile: Metafile, entry: string): { script: string; style?: string } {
  const [path, output] = Object.entries(metafile.outputs).find(([, out]) => out.entryPoint === entry) ?? [];
  if (!path || !output) throw new Error(`esbuild produced no bundle for ${entry}`);
  return { script: relative(consoleDist, join(root, path)), style: output.cssBundle ? relative(consoleDist, join(root, output.cssBundle)) : undefined };
}

/** Builds console/dist when it is stale (or always, with force); resolves with whether it built. */
export async function buildConsole({ force = false } = {}): Promise<boolean> {
  if (!force && !consoleIsStale()) return false;
  const esbuild = await import("esbuild");
  rmSync(consoleDist, { recursive: true, force: true });
  mkdirSync(consoleDist, { recursive: true });
  const common = {
    absWorkingDir: root,
    bundle: true,
    minify: true,
    sourcemap: "linked",
    format: "esm",
    target: ["es2022", "chrome111", "firefox111", "safari16.4"],
    outdir: join(consoleDist, "assets"),
    entryNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    legalComments: "linked",
    metafile: true,
    logLevel: "warning",
  } satisfies BuildOptions;
  const builds = await Promise.all(
    PAGES.map(({ name, entry, jsxImportSource }) => esbuild.build({ ...common, entryPoints: { [name]: entry }, jsxImportSource })),
  );
  const inputs = new Set<string>();
  PAGES.forEach(({ file, entry, title }, index) => {
    const { metafile } = builds[index]!;
    for (const input of Object.keys(metafile.inputs)) if (!input.includes("node_modules/")) inputs.add(input);
    const { script, style } = outputsOf(metafile, entry);
    writeFileSync(join(consoleDist, file), page(title, script, style));
  });
  const manifest: Manifest = { fingerprint: fingerprint([...inputs]), inputs: [...inputs].sort() };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  return true;
}

if (require.main === module) {
  const started = performance.now();
  buildConsole({ force: process.argv.includes("--force") }).then(
    (built) => console.log(built ? `built ${relative(process.cwd(), consoleDist)} in ${Math.round(performance.now() - started)} ms` : "console is up to date"),
    (error: unknown) => {
      // An install without dev dependencies (npm ci --omit=dev) has no esbuild: the service starts without a console.
      if ((error as { code?: string }).code === "MODULE_NOT_FOUND" && /esbuild/.test(String((error as Error).message))) {
        console.warn("console not built: esbuild is a dev dependency (npm install builds it); the service serves the API only");
        return;
      }
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
