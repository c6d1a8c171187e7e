// What the browser tests share: the binary and the browser they use, where screenshots go,
// the pinned npm packages (installed with `npm ci` when missing), axe-core's source, and
// starting `visitor-counter serve` on a free port of 127.0.0.1.
//
// VC_BINARY: the server (CTest sets it). VC_E2E_ARTIFACTS: where screenshots go (CTest:
// <build>/e2e-artifacts; default: a new temporary directory). VC_CHROMIUM: the browser
// (default /usr/bin/chromium).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const here = path.dirname(fileURLToPath(import.meta.url));
export const binary = process.env.VC_BINARY
  ? path.resolve(process.env.VC_BINARY)
  : path.resolve(here, "../../build/release/visitor-counter");
export const chromiumPath = process.env.VC_CHROMIUM ?? "/usr/bin/chromium";
export const artifacts =
  process.env.VC_E2E_ARTIFACTS ?? fs.mkdtempSync(path.join(os.tmpdir(), "vc-e2e-"));
export const chromiumArgs = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

// Installs the pinned packages of the folder `dir` (its package-lock.json) unless exactly
// those are there; `label` names the suite in the log.
export function ensurePackages(dir, label) {
  const pinned = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).devDependencies;
  const installed = (name) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, "node_modules", name, "package.json"), "utf8")).version;
    } catch {
      return null;
    }
  };
  if (Object.entries(pinned).every(([name, version]) => installed(name) === version)) return;
  console.log(`${label}: installing the pinned packages: npm ci in ${dir}`);
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, stdio: "inherit" });
}
ensurePackages(here, "e2e");
assert.ok(fs.existsSync(binary), `server binary not found: ${binary} (set VC_BINARY)`);
assert.ok(fs.existsSync(chromiumPath), `chromium not found at ${chromiumPath} (apt-get install chromium)`);
export const { chromium } = await import("playwright-core");
export const axeSource = fs.readFileSync(path.join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");
fs.mkdirSync(artifacts, { recursive: true });

// Starts `visitor-counter serve` on a free port of 127.0.0.1 in `dir` (removed by stop()),
// with `flags` after the listen address and `env` as its environment. Resolves once the
// server prints its URL: { port, api, stop() }.
export async function launchServer(dir, flags, env = process.env) {
  const proc = spawn(binary, ["serve", "--listen", "127.0.0.1:0", ...flags], { cwd: dir, env });
  let stderr = "";
  proc.stderr.on("data", (chunk) => { stderr += chunk; });
  const port = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("server did not start: " + stderr)), 15000);
    proc.stdout.on("data", (chunk) => {
      out += chunk;
      const match = out.match(/listening on http:\/\/[^\s:]+:(\d+)/);
      if (match) { clearTimeout(timer); resolve(Number(match[1])); }
    });
    proc.on("exit", (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  return {
    port,
    api: `http://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        await once(proc, "exit");
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
