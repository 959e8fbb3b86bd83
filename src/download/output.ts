/**
 * Where downloaded bytes go. A file output writes to a temporary file in the output's directory
 * and renames it onto the output path only after verification, so the path never contains
 * unverified bytes and an existing file there stays untouched on failure. A device or FIFO output
 * gets its temporary file in the temporary directory and receives a copy after verification.
 * Standard output cannot take bytes back, so it can only go on from where it is.
 */
import { closeSync, fdatasync, fsyncSync, ftruncateSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { OutputFileError } from "../shared/errors.ts";
import { BackgroundFlush } from "../shared/background-flush.ts";
import { onExitSignal } from "../shared/exit-signals.ts";
import { checkOutputPath, outputError, resolveOutputPath, stagingError } from "./output-path.ts";
import { copyToStreamTarget } from "./stream-target.ts";

export interface OutputSink {
  /** The output path, or `stdout`, for messages. */
  readonly description: string;
  /** Bytes written since the last restart. */
  readonly bytesWritten: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Temporary file and error mapping of a file output, for another thread that writes its bytes. */
  readonly handOff?: OutputHandOff;
  /** Returns whether the bytes written so far can be discarded to start again from byte 0. */
  canRestart(): boolean;
  restart(): void;
  /** Makes the verified bytes durable and visible at the output path. */
  commit(): Promise<void>;
  /** Removes every trace of an unfinished download. */
  discard(): void;
}

export interface OutputHandOff {
  temporaryPath: string;
  /** Counts `count` bytes that another thread wrote to the temporary file. */
  wrote(count: number): void;
  /** Turns a failed write into the error naming the output and the next step. */
  failure(error: unknown): Error;
}

/** Opens the temporary file at once, so a missing or read-only directory fails before any request. */
export function openFileOutput(outputPath: string): FileOutput {
  const { path, writeThrough } = resolveOutputPath(outputPath);
  const streamTarget = checkOutputPath(path, outputPath) || writeThrough;
  // A device's directory (/dev) is no place for temporary files, even where it is writable.
  const directory = streamTarget ? tmpdir() : dirname(path);

  const temporaryPath = join(directory, `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.partial`);
  let fd: number;
  try {
    fd = openSync(temporaryPath, "wx", 0o666);
  } catch (error) {
    throw streamTarget ? stagingError(error, directory, outputPath) : outputError(error, directory, outputPath);
  }
  return new FileOutput(path, temporaryPath, fd, streamTarget);
}

export class FileOutput implements OutputSink {
  bytesWritten = 0;
  private fd: number | undefined;
  private readonly flush: BackgroundFlush;
  private readonly stopWatchingSignals: () => void;
  readonly handOff: OutputHandOff;

  constructor(
    readonly path: string,
    readonly temporaryPath: string,
    fd: number,
    /** True for a device or FIFO, which receives a copy of the temporary file instead of a rename. */
    readonly streamTarget = false,
  ) {
    this.fd = fd;
    this.flush = new BackgroundFlush(() => datasync(fd));
    this.stopWatchingSignals = onExitSignal(() => this.discard());
    this.handOff = {
      temporaryPath,
      wrote: (count) => {
        this.bytesWritten += count;
        this.flush.wrote(count);
      },
      failure: (error) => this.temporaryFileError(error),
    };
  }

  get description(): string {
    return this.path;
  }

  async write(chunk: Uint8Array): Promise<void> {
    try {
      for (let done = 0; done < chunk.length; ) {
        done += writeSync(this.openFd(), chunk, done, chunk.length - done, this.bytesWritten + done);
      }
      this.bytesWritten += chunk.length;
    } catch (error) {
      throw this.temporaryFileError(error);
    }
    this.flush.wrote(chunk.length);
  }

  canRestart(): boolean {
    return true;
  }

  restart(): void {
    ftruncateSync(this.openFd(), 0);
    this.bytesWritten = 0;
    this.flush.restart();
  }

  async commit(): Promise<void> {
    try {
      await this.flush.finish();
      fsyncSync(this.openFd());
      closeSync(this.openFd());
      this.fd = undefined;
    } catch (error) {
      this.discard();
      throw this.temporaryFileError(error);
    }

    try {
      await this.publish();
    } catch (error) {
      this.discard();
      throw outputError(error, dirname(this.path), this.path);
    }

    if (this.streamTarget) this.discard();
    else this.stopWatchingSignals();
  }

  private async publish(): Promise<void> {
    if (this.streamTarget) {
      await copyToStreamTarget(this.temporaryPath, this.path);
      return;
    }
    renameSync(this.temporaryPath, this.path);
    syncDirectory(dirname(this.path));
  }

  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    try {
      unlinkSync(this.temporaryPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw this.temporaryFileError(error);
    }
    this.stopWatchingSignals();
  }

  /** Returns the error for a failure on the temporary file, which for a device or FIFO sits in the staging directory. */
  private temporaryFileError(error: unknown): OutputFileError {
    if (!this.streamTarget) return outputError(error, dirname(this.path), this.path);
    return stagingError(error, dirname(this.temporaryPath), this.path);
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error(`temporary file ${this.temporaryPath} is already closed`);
    return this.fd;
  }
}

/** Runs an fdatasync of `fd` on the thread pool. */
function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fdatasync(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/** Makes the rename itself durable. */
function syncDirectory(directory: string): void {
  const fd = openSync(directory, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Standard output was closed by its reader (EPIPE), as `head` does once it has read enough. */
export class StdoutClosedError extends OutputFileError {
  constructor(cause: unknown) {
    super("stdout was closed by its reader", { cause });
  }
}

/** Standard output: bytes go out as they arrive, so a failure after the first byte leaves a partial stream. */
export class StdoutOutput implements OutputSink {
  readonly description = "stdout";
  bytesWritten = 0;
  /** The stream's first error, kept because it is emitted after the write that caused it has returned. */
  private error: OutputFileError | undefined;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    stream.on("error", (error: unknown) => {
      this.error ??= stdoutError(error);
    });
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.error) throw this.error;

    this.bytesWritten += chunk.length;
    const accepted = this.stream.write(chunk);
    if (!accepted) await waitForDrain(this.stream);
  }

  canRestart(): boolean {
    return this.bytesWritten === 0;
  }

  restart(): void {
    if (this.bytesWritten > 0) throw new Error("bytes already written to stdout cannot be taken back");
  }

  async commit(): Promise<void> {
    if (this.error) throw this.error;
  }

  discard(): void {}
}

function stdoutError(error: unknown): OutputFileError {
  if ((error as NodeJS.ErrnoException).code === "EPIPE") return new StdoutClosedError(error);
  return new OutputFileError(`writing to stdout failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function waitForDrain(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off("error", onError);
      resolve();
    };
    const onError = (error: unknown): void => {
      stream.off("drain", onDrain);
      reject(stdoutError(error));
    };
    stream.once("drain", onDrain);
    stream.once("error", onError);
  });
}
