/**
 * Upload and download wall times of artifact and its peers against one target, runs interleaved
 * so that drift of the shared machine hits every tool alike. Each uploaded object is deleted right
 * after its run, so the store never holds more than the objects one step needs.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { UnavailableError } from "../../src/shared/errors.ts";
import type { Tools } from "../lib/commands.ts";
import { measure, type CommandSpec } from "../lib/measure.ts";
import type { FileKind, TransferRow } from "../lib/results.ts";
import { deleteObject, type Target } from "../lib/targets.ts";
import { runSpec } from "../lib/tools.ts";

export interface TransferContext {
  target: Target;
  /** The artifact executable, shown as `artifact` in the report. */
  binary: string;
  tools: Tools;
  taskId: string;
  workDir: string;
  runs: number;
  log: (line: string) => void;
}

export interface TestFile {
  kind: FileKind;
  path: string;
  sizeBytes: number;
  sha256: string;
}

interface Candidate {
  tool: string;
  isFloor: boolean;
  /** The command for one run; `run` keeps keys and names unique. */
  spec(run: number): CommandSpec;
  /** The object key the command writes, deleted after the run. */
  key?(run: number): string;
}

export async function measureUploads(context: TransferContext, file: TestFile, scenarioTag = ""): Promise<TransferRow[]> {
  const { tools, taskId } = context;
  const peerKey = (tool: string, run: number) => `bench/${file.kind}${scenarioTag}/${tool}-${run}`;
  const artifactName = (variant: string, run: number) => `public/bench/${file.kind}${scenarioTag}-${variant}-${run}`;
  const artifactKey = (variant: string, run: number) => `${taskId}/0/${artifactName(variant, run)}`;

  const candidates: Candidate[] = [
    { tool: "artifact upload", isFloor: false, spec: (run) => tools.artifactUpload(taskId, artifactName("identity", run), file.path), key: (run) => artifactKey("identity", run) },
  ];
  if (file.kind === "text") {
    candidates.push({
      tool: "artifact upload --gzip",
      isFloor: false,
      spec: (run) => tools.artifactUpload(taskId, artifactName("gzip", run), file.path, ["--gzip"]),
      key: (run) => artifactKey("gzip", run),
    });
  }
  candidates.push(
    { tool: "aws s3 cp", isFloor: false, spec: (run) => tools.awsUpload(file.path, peerKey("aws", run)), key: (run) => peerKey("aws", run) },
    { tool: "rclone copyto", isFloor: false, spec: (run) => tools.rcloneUpload(file.path, peerKey("rclone", run)), key: (run) => peerKey("rclone", run) },
    { tool: "s3cmd put", isFloor: false, spec: (run) => tools.s3cmdUpload(file.path, peerKey("s3cmd", run)), key: (run) => peerKey("s3cmd", run) },
    { tool: "floor: openssl dgst + curl -T", isFloor: true, spec: (run) => tools.hashThenPutFloor(file.path, peerKey("curl", run)), key: (run) => peerKey("curl", run) },
  );
  return measureCandidates(context, "upload", file, candidates);
}

/** Downloads one object stored by `artifact upload --single-part`, whose ETag is its MD5, so rclone can check it. */
export async function measureDownloads(context: TransferContext, file: TestFile, scenarioTag = ""): Promise<TransferRow[]> {
  const { tools, taskId, workDir } = context;
  const output = join(workDir, "download.out");
  const identityName = `public/bench/download-${file.kind}${scenarioTag}`;
  const gzipName = `${identityName}-gzip`;
  const key = `${taskId}/0/${identityName}`;

  await runSpec(tools.artifactUpload(taskId, identityName, file.path, ["--single-part"]));
  if (file.kind === "text") await runSpec(tools.artifactUpload(taskId, gzipName, file.path, ["--gzip"]));

  const candidates: Candidate[] = [{ tool: "artifact download", isFloor: false, spec: () => tools.artifactDownload(taskId, identityName, output) }];
  if (file.kind === "text") candidates.push({ tool: "artifact download (gzip artifact)", isFloor: false, spec: () => tools.artifactDownload(taskId, gzipName, output) });
  candidates.push(
    { tool: "aws s3 cp + openssl dgst -sha256", isFloor: false, spec: () => tools.awsDownloadVerified(key, output, file.sha256) },
    { tool: "rclone copyto (MD5 check)", isFloor: false, spec: () => tools.rcloneDownload(key, output) },
    { tool: "floor: curl -o (unverified)", isFloor: true, spec: () => tools.curlDownloadFloor(key, output) },
  );

  try {
    return await measureCandidates(context, "download", file, candidates, () => rmSync(output, { force: true }));
  } finally {
    await deleteObject(context.target, key);
    if (file.kind === "text") await deleteObject(context.target, `${taskId}/0/${gzipName}`);
    await context.target.reclaimSpace();
  }
}

async function measureCandidates(
  context: TransferContext,
  scenario: TransferRow["scenario"],
  file: TestFile,
  candidates: Candidate[],
  afterEach: () => void = () => {},
): Promise<TransferRow[]> {
  const rows: TransferRow[] = candidates.map((candidate) => ({
    scenario,
    target: context.target.name,
    file: file.kind,
    sizeBytes: file.sizeBytes,
    tool: candidate.tool,
    command: displayCommand(candidate.spec(1), placeholdersOf(context, file)),
    isFloor: candidate.isFloor,
    runs: [],
    failures: [],
  }));

  for (let run = 1; run <= context.runs; run++) {
    for (const [index, candidate] of candidates.entries()) {
      // A failed tool fails the same way again, and a failing multipart upload costs minutes.
      if (rows[index]!.failures.length > 0) continue;
      const prefix = `${context.target.name} ${scenario} ${file.kind} run ${run}/${context.runs} ${candidate.tool}`;
      try {
        const measurement = await measure(candidate.spec(run), context.target.serverPids, context.workDir);
        rows[index]!.runs.push(measurement);
        context.log(`${prefix}: ${measurement.wallSeconds.toFixed(2)} s, ${measurement.peakRssMiB.toFixed(0)} MiB`);
      } catch (error) {
        // A failing tool is a finding for the report, so the other tools are still measured.
        if (!(error instanceof UnavailableError)) throw error;
        rows[index]!.failures.push(error.message);
        context.log(`${prefix} failed: ${error.message.split("\n").slice(-1)[0]}`);
      }
      afterEach();
      if (candidate.key) await deleteObject(context.target, candidate.key(run));
    }
    await context.target.reclaimSpace();
  }
  return rows;
}

/** Values of one machine and run, replaced in the report by the names the README explains. */
function placeholdersOf(context: TransferContext, file: TestFile): Array<[string, string]> {
  return [
    [file.path, "FILE"],
    [context.binary, "artifact"],
    [context.workDir, "WORK"],
    [context.taskId, "TASKID"],
    [context.target.s3.endpoint, "ENDPOINT"],
    [`s3://${context.target.s3.bucket}/`, "s3://BUCKET/"],
    [`bench:${context.target.s3.bucket}/`, "bench:BUCKET/"],
    [file.sha256, "SHA256"],
  ];
}

/** The command as the report shows it: placeholders for local values, no presigned signatures. */
function displayCommand(spec: CommandSpec, placeholders: Array<[string, string]>): string {
  return spec.argv
    .map((arg) => (arg.includes("X-Amz-Signature") ? "PRESIGNED_URL" : arg))
    .map((arg) => placeholders.reduce((text, [value, name]) => text.replaceAll(value, name), arg))
    .map((arg) => (/[\s"$|]/.test(arg) ? `'${arg}'` : arg))
    .join(" ");
}
