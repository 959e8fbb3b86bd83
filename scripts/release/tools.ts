/**
 * Makes sure the command-line tools the release scripts call are present, installing the Debian
 * package that provides a missing one when running as root on a machine with apt-get.
 */
import { $ } from "bun";

const debianPackageOf: Record<string, string> = {
  strip: "binutils",
  gzip: "gzip",
  xz: "xz-utils",
  xzcat: "xz-utils",
  zstd: "zstd",
  dd: "coreutils",
  grep: "grep",
};

export async function ensureTools(tools: string[]): Promise<void> {
  const missing = tools.filter((tool) => !Bun.which(tool));
  if (missing.length === 0) return;

  const packages = [...new Set(missing.map((tool) => debianPackageOf[tool] ?? tool))];
  const canInstall = Bun.which("apt-get") && process.getuid?.() === 0;
  if (!canInstall) {
    throw new Error(`missing tools: ${missing.join(", ")}; install the packages ${packages.join(" ")} and run again`);
  }

  console.error(`release: installing ${packages.join(" ")} with apt-get`);
  await $`apt-get install -y --no-install-recommends ${packages}`.env({ ...process.env, DEBIAN_FRONTEND: "noninteractive" });
}
