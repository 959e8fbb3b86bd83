/** The file to upload: checked before any request, so a wrong path fails with exit 66 at once. */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { InputFileError } from "../shared/errors.ts";

export interface InputFile {
  path: string;
  size: number;
  /** Modification time when checked, so a write during the hashing read can be found. */
  modifiedMs: number;
}

/** Returns the size of a readable regular file; throws InputFileError (exit 66) otherwise. */
export async function checkInputFile(path: string): Promise<InputFile> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new InputFileError(`input file ${path} not found`, { hint: "check the path given to -i", cause: error });
  }
  if (info.isDirectory()) {
    throw new InputFileError(`input ${path} is a directory`, { hint: "pass a file, or archive the folder first (tar -czf)" });
  }
  if (!info.isFile()) {
    throw new InputFileError(`input ${path} is not a regular file`, { hint: "use -i - to read a pipe or device from stdin" });
  }

  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw new InputFileError(`input file ${path} is not readable`, { hint: "check its permissions", cause: error });
  }
  return { path, size: info.size, modifiedMs: info.mtimeMs };
}

/** Returns the media type from the file name, else `application/octet-stream`. */
export function guessContentType(path: string | undefined): string {
  if (path === undefined) return "application/octet-stream";
  const type = Bun.file(path).type;
  return type && type !== "application/octet-stream" ? type : "application/octet-stream";
}
