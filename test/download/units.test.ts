import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ExpectedValues } from "../../src/client/location.ts";
import { MetadataMismatchError } from "../../src/download/errors.ts";
import { openFileOutput } from "../../src/download/output.ts";
import { presignedUrlExpiresAt } from "../../src/download/presigned-url.ts";
import { parseReference } from "../../src/download/reference.ts";
import { checkObjectMetadata, parseContentRange, storageStatusError } from "../../src/download/storage-response.ts";
import { verifyFile } from "../../src/download/verify-file.ts";
import { DataError, InputFileError, OutputFileError, UsageError } from "../../src/shared/errors.ts";
import { makeTempDir } from "../upload/support/files.ts";
import { recordOf } from "./support/s3-objects.ts";

const temp = await makeTempDir("artifact-download-units");
afterAll(() => temp.remove());

const content = new TextEncoder().encode("verified bytes\n");
const record: ExpectedValues = recordOf(content, content, "identity");

describe("file output", () => {
  test("commit renames onto the path", async () => {
    const path = join(temp.dir, "committed.bin");
    const output = openFileOutput(path);
    await output.write(content);
    await output.commit();

    expect(readFileSync(path, "utf8")).toBe("verified bytes\n");
    expect(readdirSync(temp.dir).filter((name) => name.endsWith(".partial"))).toEqual([]);
  });

  test("discard keeps an existing file", async () => {
    const path = join(temp.dir, "existing.bin");
    writeFileSync(path, "old");
    const output = openFileOutput(path);
    await output.write(content);
    output.discard();

    expect(readFileSync(path, "utf8")).toBe("old");
    expect(existsSync(output.temporaryPath)).toBe(false);
  });

  test("restart empties the temporary file", async () => {
    const path = join(temp.dir, "restarted.bin");
    const output = openFileOutput(path);
    await output.write(new Uint8Array(1000));
    output.restart();
    await output.write(content);
    await output.commit();

    expect(readFileSync(path, "utf8")).toBe("verified bytes\n");
  });

  test("symlink keeps the link and replaces its target", async () => {
    const target = join(temp.dir, "link-target.bin");
    const link = join(temp.dir, "link.bin");
    writeFileSync(target, "old");
    symlinkSync(target, link);
    const output = openFileOutput(link);
    await output.write(content);
    await output.commit();

    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, "utf8")).toBe("verified bytes\n");
  });

  test("link to a deleted file is written through", async () => {
    const path = join(temp.dir, "deleted.bin");
    const fd = openSync(path, "w+");
    unlinkSync(path);
    try {
      const output = openFileOutput(`/proc/self/fd/${fd}`);
      await output.write(content);
      await output.commit();

      expect(output.streamTarget).toBe(true);
      expect(readFileSync(fd, "utf8")).toBe("verified bytes\n");
      expect(lstatSync(`/proc/self/fd/${fd}`).isSymbolicLink()).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  test("dangling symlink is exit 73", () => {
    const link = join(temp.dir, "dangling.bin");
    symlinkSync(join(temp.dir, "no-such-target.bin"), link);

    expect(() => openFileOutput(link)).toThrow(OutputFileError);
    expect(() => openFileOutput(link)).toThrow(`output ${link} is a symbolic link to a missing file`);
  });

  test("missing directory is exit 73 naming it", () => {
    const path = join(temp.dir, "missing", "x.bin");
    expect(() => openFileOutput(path)).toThrow(OutputFileError);
    expect(() => openFileOutput(path)).toThrow(`directory ${join(temp.dir, "missing")} does not exist`);
  });

  test("/proc output names the real error", () => {
    const path = "/proc/artifact-unit.bin";
    expect(() => openFileOutput(path)).toThrow(OutputFileError);
    expect(() => openFileOutput(path)).toThrow(/cannot create output \/proc\/artifact-unit\.bin: directory \/proc (does not allow new files|is not writable)/);
  });
});

describe("object metadata", () => {
  test("matching values pass", () => {
    const headers = new Headers({
      "x-amz-meta-taskcluster-content-sha256": record.contentSha256.toUpperCase(),
      "x-amz-meta-taskcluster-content-length": String(record.contentLength),
    });
    expect(() => checkObjectMetadata(headers, record, "a.txt")).not.toThrow();
  });

  test("every differing value is named", () => {
    const headers = new Headers({
      "x-amz-meta-taskcluster-transfer-length": "99",
      "x-amz-meta-transfer-sha256": "b".repeat(64),
    });
    let error: unknown;
    try {
      checkObjectMetadata(headers, record, "a.txt");
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(MetadataMismatchError);
    expect((error as Error).message).toContain(`transfer length (record ${record.transferLength}, stored object 99)`);
    expect((error as Error).message).toContain(`transfer sha256 (record ${record.transferSha256}, stored object ${"b".repeat(64)})`);
  });

  test("infixed name wins over the original", () => {
    const headers = new Headers({
      "x-amz-meta-taskcluster-content-length": String(record.contentLength),
      "x-amz-meta-content-length": "1",
    });
    expect(() => checkObjectMetadata(headers, record, "a.txt")).not.toThrow();
  });
});

describe("storage answers", () => {
  test("error body gives code and request id only", async () => {
    const body = "<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Request has expired</Message><RequestId>tx-1</RequestId><Secret>x</Secret></Error>";
    const error = await storageStatusError(new Response(body, { status: 403 }), "a.txt");

    expect(error.message).toBe("storage returned 403 AccessDenied for a.txt (request id tx-1): Request has expired");
    expect(error.retry).toBe("refresh");
    expect(error.exitCode).toBe(77);
  });

  test("400 is final", async () => {
    const error = await storageStatusError(new Response("", { status: 400 }), "a.txt");

    expect(error.retry).toBe("none");
    expect(error.exitCode).toBe(69);
  });

  test("Content-Range parses", () => {
    expect(parseContentRange("bytes 100-199/200")).toEqual({ first: 100, last: 199, total: 200 });
    expect(parseContentRange("bytes */200")).toBeUndefined();
    expect(parseContentRange(null)).toBeUndefined();
  });

  test("presigned URL expiry is read", () => {
    const url = "http://127.0.0.1:7480/b/k?X-Amz-Date=20261204T101500Z&X-Amz-Expires=1800&X-Amz-Signature=abc";
    expect(presignedUrlExpiresAt(url)).toBe(Date.UTC(2026, 11, 4, 10, 45, 0));
    expect(presignedUrlExpiresAt("http://127.0.0.1/b/k")).toBeUndefined();
  });
});

describe("artifact reference", () => {
  const taskId = "fN1a2B3c4D5e6F7g8H9i0w";

  test("three forms parse", () => {
    expect(parseReference([taskId, "2", "public/x"], {}).reference).toEqual({ kind: "run", taskId, runId: 2, name: "public/x" });
    expect(parseReference([taskId, "public/x"], { latest: true }).reference).toEqual({ kind: "latest", taskId, name: "public/x" });
    const byUrl = parseReference([], { url: `http://127.0.0.1:1/api/queue/v1/task/${taskId}/runs/0/artifacts/public%2Fx%20y` }).reference;
    expect(byUrl.kind).toBe("url");
    expect(byUrl.name).toBe("public/x y");
  });

  test("wrong argument counts are usage errors", () => {
    expect(() => parseReference([taskId, "public/x"], {})).toThrow(UsageError);
    expect(() => parseReference([taskId, "0", "x"], { latest: true })).toThrow("expected TASKID NAME for --latest, got 3 arguments");
    expect(() => parseReference([], { latest: true, url: "http://127.0.0.1/" })).toThrow("--latest and --url exclude each other");
  });

  test("bad task and run ids are usage errors", () => {
    expect(() => parseReference(["short", "0", "x"], {})).toThrow('invalid taskId "short"');
    expect(() => parseReference([taskId, "-1", "x"], {})).toThrow('invalid runId "-1"');
  });
});

describe("verify file", () => {
  test("matching file passes", async () => {
    const path = join(temp.dir, "match.bin");
    writeFileSync(path, content);
    const verified = await verifyFile(path, { ...record, contentSha256: record.contentSha256.toUpperCase() }, "a.txt");

    expect(verified.contentSha256).toBe(record.contentSha256);
  });

  test("different length is a data error", async () => {
    const path = join(temp.dir, "short.bin");
    writeFileSync(path, "short");

    await expect(verifyFile(path, record, "a.txt")).rejects.toThrow(DataError);
    await expect(verifyFile(path, record, "a.txt")).rejects.toThrow(`content length mismatch (expected ${content.length}, got 5)`);
  });

  test("directory is an input error", async () => {
    await expect(verifyFile(temp.dir, record, "a.txt")).rejects.toThrow(InputFileError);
  });
});
