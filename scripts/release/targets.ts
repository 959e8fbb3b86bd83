/**
 * The four Linux release targets and the Bun runtime each one is compiled onto. The runtimes are
 * Bun's own npm packages at the exact version of the `bun` devDependency, pinned with their
 * integrity hash in package-lock.json (they are optional dependencies of the `bun` package).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { $ } from "bun";

export interface Target {
  /** Suffix of the release file name and Bun's `--target` value after `bun-`. */
  name: "linux-x64" | "linux-x64-musl" | "linux-arm64" | "linux-arm64-musl";
  /** npm package that contains the runtime as `bin/bun`. */
  runtimePackage: string;
  /** ELF e_machine value: 62 is x86-64, 183 is AArch64. */
  elfMachine: 62 | 183;
  /** Program interpreter that the runtime requests. */
  interpreter: string;
}

export const targets: Target[] = [
  { name: "linux-x64", runtimePackage: "@oven/bun-linux-x64", elfMachine: 62, interpreter: "/lib64/ld-linux-x86-64.so.2" },
  { name: "linux-x64-musl", runtimePackage: "@oven/bun-linux-x64-musl", elfMachine: 62, interpreter: "/lib/ld-musl-x86_64.so.1" },
  { name: "linux-arm64", runtimePackage: "@oven/bun-linux-aarch64", elfMachine: 183, interpreter: "/lib/ld-linux-aarch64.so.1" },
  { name: "linux-arm64-musl", runtimePackage: "@oven/bun-linux-aarch64-musl", elfMachine: 183, interpreter: "/lib/ld-musl-aarch64.so.1" },
];

/** Folder for runtimes unpacked from npm tarballs; npm's own cache keeps the tarballs. */
const runtimeCache = "node_modules/.cache/artifact-release/runtimes";

/** The target this machine runs natively, the only one whose binaries can be executed here. */
export function hostTarget(): Target {
  const machine = process.arch === "arm64" ? 183 : 62;
  const glibc = targets.find((target) => target.elfMachine === machine && existsSync(target.interpreter) && !target.name.endsWith("-musl"));
  return glibc ?? targets.find((target) => target.elfMachine === machine && target.name.endsWith("-musl"))!;
}

interface LockedPackage {
  version: string;
  integrity: string;
}

/** Reads the version and integrity that package-lock.json pins for an npm package. */
export async function lockedPackage(name: string): Promise<LockedPackage> {
  const lock = JSON.parse(await readFile("package-lock.json", "utf8"));
  const entry = lock.packages?.[`node_modules/${name}`];
  if (!entry?.version || !entry?.integrity) {
    throw new Error(`package-lock.json pins no version and integrity for ${name}; run npm install to refresh the lockfile`);
  }
  return { version: entry.version, integrity: entry.integrity };
}

/**
 * Returns the path of the Bun runtime for a target, fetching its npm tarball with `npm pack`
 * when npm did not install it (npm installs only the package for this machine's platform).
 * The tarball must match the lockfile's integrity hash before anything is unpacked.
 */
export async function runtimeFor(target: Target): Promise<string> {
  const bunVersion = (await lockedPackage("bun")).version;
  const locked = await lockedPackage(target.runtimePackage);
  if (locked.version !== bunVersion) {
    throw new Error(`${target.runtimePackage} is pinned at ${locked.version} but bun at ${bunVersion}; run npm install to refresh the lockfile`);
  }

  if (target.name === hostTarget().name && existsSync("node_modules/bun/bin/bun.exe")) {
    // npm's install script of the bun package moves this platform's runtime here.
    return "node_modules/bun/bin/bun.exe";
  }

  const folder = join(runtimeCache, `${target.name}-${locked.version}`);
  const runtime = join(folder, "package/bin/bun");
  if (existsSync(runtime)) return runtime;
  await unpackRuntime(target.runtimePackage, locked, folder);
  return runtime;
}

async function unpackRuntime(name: string, locked: LockedPackage, folder: string): Promise<void> {
  const staging = `${folder}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });

  const packed = await $`npm pack --silent --json --pack-destination ${staging} ${name}@${locked.version}`.quiet().json();
  const tarball = join(staging, packed[0].filename);
  const actual = `sha512-${await hashFile(tarball, "sha512", "base64")}`;
  if (actual !== locked.integrity) {
    await rm(staging, { recursive: true, force: true });
    throw new Error(`${name}@${locked.version} tarball has integrity ${actual}, package-lock.json expects ${locked.integrity}; delete npm's cache entry and retry`);
  }

  await $`tar -xzf ${tarball} -C ${staging} package/bin/bun`.quiet();
  await rm(tarball);
  await rename(staging, folder);
}

/** Hashes a file as a stream, so memory stays flat whatever its size. */
export async function hashFile(path: string, algorithm: "sha256" | "sha512", encoding: "hex" | "base64"): Promise<string> {
  const hasher = new Bun.CryptoHasher(algorithm);
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest(encoding);
}
