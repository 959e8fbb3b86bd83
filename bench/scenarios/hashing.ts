/**
 * One SHA-256 pass over the test file by `openssl dgst -sha256` and by coreutils `sha256sum`:
 * shows why the download reference uses openssl (sha256sum in Debian 12 does not use the CPU's
 * SHA instructions).
 */
import { measure } from "../lib/measure.ts";
import type { HashRow } from "../lib/results.ts";

export async function measureHashing(path: string, runs: number, workDir: string): Promise<HashRow[]> {
  const commands = [
    { tool: "openssl dgst -sha256", argv: ["openssl", "dgst", "-sha256", path] },
    { tool: "sha256sum", argv: ["sha256sum", path] },
  ];
  const rows: HashRow[] = commands.map(({ tool }) => ({ tool, command: `${tool} FILE`, runs: [] }));

  for (let run = 0; run < runs; run++) {
    for (const [index, command] of commands.entries()) {
      rows[index]!.runs.push(await measure({ label: command.tool, argv: command.argv }, [], workDir));
    }
  }
  return rows;
}
