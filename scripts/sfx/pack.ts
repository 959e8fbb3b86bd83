/**
 * Builds a self-extracting release file: scripts/sfx/header.sh with its fields filled in,
 * followed by the program compressed with gzip, xz or zstd. Usage:
 *   bun scripts/sfx/pack.ts PROGRAM OUTPUT [gzip|xz|zstd]
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { $ } from "bun";
import { hashFile } from "../release/targets.ts";

export interface Codec {
  name: "gzip" | "xz" | "zstd";
  /** Compresses stdin to stdout, reproducibly: no file name or time in the output, one thread. */
  compress: string[];
  /** Shell command of the header that decompresses stdin to stdout. */
  decompress: string;
  /** Command the header requires, and the packages that provide it. */
  tool: string;
  packages: string;
}

export const codecs: Record<Codec["name"], Codec> = {
  gzip: { name: "gzip", compress: ["gzip", "-9", "-n", "-c"], decompress: "gzip -dc", tool: "gzip", packages: "gzip" },
  // xzcat exists in xz-utils and in busybox, which has no `xz` applet on every build.
  xz: { name: "xz", compress: ["xz", "-9e", "-T1", "-c"], decompress: "xzcat", tool: "xzcat", packages: "xz-utils (Debian, Ubuntu) or xz (Alpine)" },
  // A 128 MiB window (--long=27) lets zstd find repeats across the whole runtime.
  zstd: { name: "zstd", compress: ["zstd", "-19", "--long=27", "-T1", "-q", "-c"], decompress: "zstd -dcq --long=27", tool: "zstd", packages: "zstd (Debian, Ubuntu, Alpine)" },
};

const headerTemplate = new URL("./header.sh", import.meta.url);

/** Width of the numeric fields, so the header length does not depend on their values. */
const fieldWidth = 12;

export interface HeaderFields {
  programSha256: string;
  programSize: number;
  codec: Codec;
}

/** Renders the header; its length is the same for any field values of this codec. */
export async function renderHeader(fields: HeaderFields): Promise<string> {
  const template = await Bun.file(headerTemplate).text();
  const withoutOffset = fillHeader(template, fields, 0);
  return fillHeader(template, fields, Buffer.byteLength(withoutOffset) + 1);
}

function fillHeader(template: string, fields: HeaderFields, payloadOffset: number): string {
  return template
    .replace("@PROGRAM_SHA256@", fields.programSha256)
    .replace("@PROGRAM_SIZE@", padded(fields.programSize))
    .replace("@PAYLOAD_OFFSET@", padded(payloadOffset))
    .replace("@DECOMPRESSOR_TOOL@", fields.codec.tool)
    .replace("@DECOMPRESSOR_PACKAGE@", fields.codec.packages)
    .replace("@DECOMPRESS_COMMAND@", fields.codec.decompress);
}

/** Pads with trailing spaces, which end a shell assignment; leading zeros could read as octal. */
function padded(value: number): string {
  return String(value).padEnd(fieldWidth, " ");
}

/** Writes OUTPUT as header plus compressed PROGRAM, mode 755; removes it again on failure. */
export async function packSfx(program: string, output: string, codec: Codec): Promise<void> {
  const programSha256 = await hashFile(program, "sha256", "hex");
  const programSize = (await stat(program)).size;
  const header = await renderHeader({ programSha256, programSize, codec });
  const payload = `${output}.payload.tmp`;

  try {
    await compressFile(codec, program, payload);
    const sink = createWriteStream(output, { mode: 0o755 });
    sink.write(header);
    await pipeline(createReadStream(payload), sink);
    await $`chmod 755 ${output}`.quiet();
  } catch (error) {
    await rm(output, { force: true });
    throw error;
  } finally {
    await rm(payload, { force: true });
  }
}

async function compressFile(codec: Codec, input: string, output: string): Promise<void> {
  const child = Bun.spawn(codec.compress, { stdin: Bun.file(input), stdout: Bun.file(output), stderr: "pipe" });
  const exitCode = await child.exited;
  if (exitCode !== 0) {
    const stderr = (await new Response(child.stderr).text()).trim();
    throw new Error(`${codec.compress.join(" ")} failed on ${input} with exit code ${exitCode}: ${stderr}`);
  }
}

if (import.meta.main) {
  const [program, output, codecName = "zstd"] = process.argv.slice(2);
  const codec = codecs[codecName as Codec["name"]];
  if (!program || !output || !codec) {
    console.error("usage: bun scripts/sfx/pack.ts PROGRAM OUTPUT [gzip|xz|zstd]");
    process.exit(64);
  }
  await packSfx(program, output, codec);
}
