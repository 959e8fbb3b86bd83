/**
 * Checks of an output path before any request, and the errors that name the directory to fix when
 * the output or its temporary file cannot be created or written.
 */
import { existsSync, lstatSync, realpathSync, statSync, type Stats } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { OutputFileError } from "../shared/errors.ts";
import { isStreamTarget } from "./stream-target.ts";

/**
 * Resolves a symbolic link to its target, so a rename replaces the target and keeps the link. A link
 * that opens but names no path, such as /dev/stdout on a pipe or on a deleted file, is written
 * through instead: renaming onto it would replace the link itself.
 */
export function resolveOutputPath(outputPath: string): { path: string; writeThrough: boolean } {
  const path = resolve(outputPath);
  if (!isSymbolicLink(path)) return { path, writeThrough: false };

  const target = realTarget(path);
  if (target !== undefined) return { path: target, writeThrough: false };
  if (!existsSync(path)) {
    throw new OutputFileError(`output ${outputPath} is a symbolic link to a missing file`, {
      hint: "create the target first, remove the link, or pass another -o path",
    });
  }
  return { path, writeThrough: true };
}

function isSymbolicLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Returns the absolute path the link resolves to, or undefined when no such file exists. */
function realTarget(path: string): string | undefined {
  try {
    const target = realpathSync(path);
    return isAbsolute(target) && existsSync(target) ? target : undefined;
  } catch {
    return undefined;
  }
}

/** Rejects outputs that cannot take a file; returns whether the output is a device or FIFO. */
export function checkOutputPath(path: string, outputPath: string): boolean {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch {
    // A missing output file is the normal case; a missing directory is reported when the temporary file is created.
    return false;
  }

  if (stats.isDirectory()) {
    throw new OutputFileError(`output ${outputPath} is a directory`, { hint: "pass a file path to -o" });
  }
  if (stats.isSocket()) {
    throw new OutputFileError(`output ${outputPath} is a socket, which cannot be opened as a file`, {
      hint: "pass -o - and redirect stdout to it",
    });
  }
  return isStreamTarget(stats);
}

export function outputError(error: unknown, directory: string, outputPath: string): OutputFileError {
  const code = (error as NodeJS.ErrnoException).code;
  if ((code === "ENOENT" || code === "ENOTDIR") && !isDirectory(directory)) {
    return new OutputFileError(`cannot create output ${outputPath}: directory ${directory} does not exist`, {
      hint: "create the directory first or pass another -o path",
      cause: error,
    });
  }
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return new OutputFileError(`cannot create output ${outputPath}: directory ${directory} is not writable (${code})`, {
      hint: "pass an -o path in a writable directory",
      cause: error,
    });
  }
  if (code === "EPIPE") {
    return new OutputFileError(`cannot write output ${outputPath}: its reader closed it early (EPIPE)`, {
      hint: "keep the FIFO's reader open until the download ends",
      cause: error,
    });
  }
  if (code === "ENOENT") {
    // Pseudo file systems such as /proc exist but reject new files with ENOENT.
    return new OutputFileError(`cannot create output ${outputPath}: directory ${directory} does not allow new files (ENOENT)`, {
      hint: "pass an -o path on a regular file system",
      cause: error,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new OutputFileError(`cannot write output ${outputPath}: ${reason}`, { hint: "check the disk and the directory", cause: error });
}

/**
 * Names the temporary directory in a failure to stage a device or FIFO output, since the output's
 * own directory has nothing to fix.
 */
export function stagingError(error: unknown, directory: string, outputPath: string): OutputFileError {
  const reason = error instanceof Error ? error.message : String(error);
  return new OutputFileError(`cannot stage output ${outputPath} in temporary directory ${directory}: ${reason}`, {
    hint: "free space there, or set TMPDIR to a writable directory with room for the artifact",
    cause: error,
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
